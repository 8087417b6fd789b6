package dialer_test

import (
	"strings"
	"testing"

	"github.com/ctid/ctid/ari/aritest"
)

// Real-Asterisk tests of the dialler (Asterisk 22 loaded with
// asterisk-conf/). The calls run on SIP: registered desk phones and the
// carrier behind the PJSIP trunk (asterisk_sip_test.go). Run with
//
//	ASTERISK_BIN=/opt/asterisk22/sbin/asterisk CTID_REQUIRE_ASTERISK=1 go test -run Asterisk -v ./dialer/
//
// Skipped, saying so, without an Asterisk.

// TestAsteriskRequestCallbackDialplan: asterisk-conf's [workflows]
// request-callback-http step (POST /api/v1/dialplan/callback through
// CURL()) loads into a real Asterisk. Whether it can run depends on
// func_curl being built; the HTTP side is covered by api's
// TestDialplanCallback with the form body CURL() sends.
func TestAsteriskRequestCallbackDialplan(t *testing.T) {
	tg := aritest.AsteriskTarget(t)
	out, err := tg.Asterisk.CLI("dialplan show request-callback-http@workflows")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"CURLOPT(httpheader)=X-Ctid-Dialplan-Secret: ${CTI_DIALPLAN_SECRET}",
		"/api/v1/dialplan/callback,campaign=", "REGEX(\"status...pending\"", "[booked]", "[declined]"} {
		if !strings.Contains(out, want) {
			t.Errorf("dialplan lacks %q:\n%s", want, out)
		}
	}
	fn, _ := tg.Asterisk.CLI("core show function CURL")
	t.Logf("func_curl loaded: %v", strings.Contains(fn, "Retrieve content from a URL"))
}

// TestAsteriskAMDDialplan: the [dialer-amd] and [dialer-amd-message]
// contexts load, with AMD() and the way back to ctid.
func TestAsteriskAMDDialplan(t *testing.T) {
	tg := aritest.AsteriskTarget(t)
	out, err := tg.Asterisk.CLI("dialplan show dialer-amd")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"AMD()", "Stasis(${CTI_APP},dialer,amd,${AMDSTATUS},${AMDCAUSE})"} {
		if !strings.Contains(out, want) {
			t.Errorf("[dialer-amd] lacks %q:\n%s", want, out)
		}
	}
	out, _ = tg.Asterisk.CLI("dialplan show dialer-amd-message")
	for _, want := range []string{"WaitForSilence(1500,1,30)", "Playback(${DIALER_MACHINE_MESSAGE})"} {
		if !strings.Contains(out, want) {
			t.Errorf("[dialer-amd-message] lacks %q:\n%s", want, out)
		}
	}
}
