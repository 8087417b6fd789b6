package cti_test

import (
	"testing"

	"github.com/ctid/ctid/cti"
)

// A centre's own numbers (DIDs, presented caller ids) may be in ranges that
// libphonenumber does not call valid (Ofcom's drama range 01632 960xxx, a
// carrier's new range); they are kept in E.164. Customer numbers an agent
// dials are still checked strictly.
func TestNormalizePlatformNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+441632960100": "+441632960100", "441632960100": "", "01632 960100": "+441632960100",
		"+442071234567": "+442071234567", "020 7123 4567": "+442071234567",
	} {
		got, err := cti.NormalizePlatformNumber(in, "GB")
		if want == "" {
			continue // national digits without + are the dialplan's case (e164DID)
		}
		if err != nil || got != want {
			t.Errorf("NormalizePlatformNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "hello", "12", "+44", "1001"} {
		if got, err := cti.NormalizePlatformNumber(bad, "GB"); err == nil {
			t.Errorf("NormalizePlatformNumber(%q) = %q, want an error", bad, got)
		}
	}
	if _, err := cti.NormalizeNumber("+441632960100", "GB"); err == nil {
		t.Error("a customer number in the drama range should still be refused for dialling")
	}
}
