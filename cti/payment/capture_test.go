package payment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func feed(t testing.TB, c *Capture, keys string) {
	t.Helper()
	for _, k := range keys {
		if err := c.Digit(k); err != nil {
			t.Fatalf("Digit(%q) after %s: %v", k, c.Progress(), err)
		}
	}
}

func TestDetectBrand(t *testing.T) {
	cases := map[string]string{
		"4":                "visa",
		"4242424242424242": Visa,
		"5":                "",
		"51":               Mastercard,
		"55":               Mastercard,
		"2":                "",
		"222":              "",
		"2221":             Mastercard,
		"2720":             Mastercard,
		"2721":             "",
		"2220":             "",
		"34":               Amex,
		"37":               Amex,
		"35":               "",
		"3528":             JCB,
		"3589":             JCB,
		"3590":             "",
		"300":              Diners,
		"305":              Diners,
		"306":              "",
		"3095":             Diners,
		"36":               Diners,
		"38":               Diners,
		"6011":             Discover,
		"644":              Discover,
		"649":              Discover,
		"65":               Discover,
		"62":               UnionPay,
		"6200000000000005": UnionPay,
		"50":               Maestro,
		"5018":             Maestro,
		"56":               Maestro,
		"58":               Maestro,
		"6759":             Maestro,
		"6761":             Maestro,
		"6304":             Maestro,
		"1":                "",
		"9":                "",
		"":                 "",
	}
	for in, want := range cases {
		got := ""
		if b := DetectBrand([]byte(in)); b != nil {
			got = b.Name
		}
		if got != want {
			t.Errorf("DetectBrand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLuhnAndValid(t *testing.T) {
	for _, sc := range SandboxCards {
		if !ValidPAN([]byte(sc.Number)) {
			t.Errorf("sandbox card %s not valid", sc.Number)
		}
		if b := DetectBrand([]byte(sc.Number)); b == nil || b.Name != sc.Brand {
			t.Errorf("sandbox card %s brand %v want %s", sc.Number, b, sc.Brand)
		}
	}
	for _, bad := range []string{"4242424242424241", "", "0", "424242424242", "5555555555554444000", "x242424242424242"} {
		if ValidPAN([]byte(bad)) {
			t.Errorf("ValidPAN(%q) = true", bad)
		}
	}
	if !Luhn([]byte("79927398713")) || Luhn([]byte("79927398710")) {
		t.Error("Luhn reference vector")
	}
}

func TestCaptureVisa(t *testing.T) {
	c := NewCapture()
	feed(t, c, "424242424242424")
	p := c.Progress()
	if p.Phase != PhaseCard || p.CardDigits != 15 || p.CardBrand != Visa || p.CardValid || p.CardLast4 != "" {
		t.Fatalf("partial: %+v", p)
	}
	feed(t, c, "2")
	if p = c.Progress(); !p.CardValid || p.CardLast4 != "" || p.Phase != PhaseCard {
		t.Fatalf("16 digits before #: %+v", p)
	}
	feed(t, c, "#")
	p = c.Progress()
	if p.Phase != PhaseCVV || p.CardLast4 != "4242" || p.CVVLength != 3 {
		t.Fatalf("after #: %+v", p)
	}
	feed(t, c, "12")
	if err := c.Digit('#'); !errors.Is(err, ErrCVVShort) {
		t.Fatalf("short CVV #: %v", err)
	}
	if p = c.Progress(); p.Error == "" || p.CVVDigits != 2 {
		t.Fatalf("short CVV progress: %+v", p)
	}
	feed(t, c, "3")
	p = c.Progress()
	if p.Phase != PhaseComplete || !p.CVVValid || p.CVVDigits != 3 || p.Error != "" {
		t.Fatalf("complete: %+v", p)
	}
	if err := c.Digit('4'); !errors.Is(err, ErrAfterComplete) {
		t.Fatalf("digit after complete: %v", err)
	}
	if p = c.Progress(); p.CVVDigits != 3 || p.Phase != PhaseComplete || p.Error == "" {
		t.Fatalf("after extra digit: %+v", p)
	}
	if err := c.Digit('#'); err != nil {
		t.Fatalf("# after complete: %v", err)
	}
	// * after completion reopens the CVV.
	feed(t, c, "*")
	if p = c.Progress(); p.Phase != PhaseCVV || p.CVVDigits != 2 {
		t.Fatalf("erase after complete: %+v", p)
	}
	feed(t, c, "9")
	if !c.Complete() {
		t.Fatal("not complete")
	}
	var pan, cvv []byte
	_ = c.withCard(func(p, v []byte) error { pan, cvv = bytes.Clone(p), bytes.Clone(v); return nil })
	if string(pan) != "4242424242424242" || string(cvv) != "129" {
		t.Fatalf("held %s %s", pan, cvv)
	}
	c.Wipe()
	if c.s.pan != [maxPAN]byte{} || c.s.cvv != [maxCVV]byte{} || c.s.panLen != 0 || c.s.cvvLen != 0 {
		t.Fatal("Wipe left data")
	}
	p = c.Progress()
	if p.Phase != PhaseWiped || p.CardLast4 != "4242" || p.CardBrand != Visa || p.CardDigits != 0 {
		t.Fatalf("wiped progress: %+v", p)
	}
	if err := c.Digit('1'); !errors.Is(err, ErrWiped) {
		t.Fatalf("digit after wipe: %v", err)
	}
	c.ResetCard()
	if p = c.Progress(); p.Phase != PhaseCard || p.CardLast4 != "" || p.CardBrand != "" || p.Error != "" {
		t.Fatalf("reset after wipe: %+v", p)
	}
}

func TestCaptureAutoTerminate(t *testing.T) {
	// Amex: 15 digits end the number by themselves; CVV has 4 digits.
	c := NewCapture()
	feed(t, c, "378282246310005")
	p := c.Progress()
	if p.Phase != PhaseCVV || p.CardBrand != Amex || p.CardLast4 != "0005" || p.CVVLength != 4 {
		t.Fatalf("amex: %+v", p)
	}
	feed(t, c, "1234")
	if p = c.Progress(); p.Phase != PhaseComplete || !p.CVVValid {
		t.Fatalf("amex cvv: %+v", p)
	}
	// Mastercard 2-series: 16 digits.
	c = NewCapture()
	feed(t, c, "2223003122003222")
	if p = c.Progress(); p.Phase != PhaseCVV || p.CardBrand != Mastercard {
		t.Fatalf("mc: %+v", p)
	}
}

func TestCaptureErrorsKeepInput(t *testing.T) {
	c := NewCapture()
	feed(t, c, "4000")
	for _, k := range []rune{'A', 'B', 'C', 'D', 'x', 'w', ' '} {
		if err := c.Digit(k); err == nil {
			t.Fatalf("Digit(%q) accepted", k)
		}
		if p := c.Progress(); p.CardDigits != 4 || p.Error == "" {
			t.Fatalf("after %q: %+v", k, p)
		}
	}
	feed(t, c, "1") // an accepted key clears the error
	if p := c.Progress(); p.Error != "" || p.CardDigits != 5 {
		t.Fatalf("error not cleared: %+v", p)
	}
	// Luhn failure on # keeps the digits and stays in the card phase.
	c = NewCapture()
	feed(t, c, "4242424242424241")
	if err := c.Digit('#'); !errors.Is(err, ErrCardInvalid) {
		t.Fatalf("# on bad Luhn: %v", err)
	}
	if p := c.Progress(); p.Phase != PhaseCard || p.CardDigits != 16 || p.CardValid || p.CardLast4 != "" {
		t.Fatalf("bad Luhn: %+v", p)
	}
	feed(t, c, "*2#")
	if p := c.Progress(); p.Phase != PhaseCVV || p.CardLast4 != "4242" {
		t.Fatalf("corrected: %+v", p)
	}
	// Too many digits: Mastercard auto-ends at 16; an invalid one stays
	// and further digits are refused.
	c = NewCapture()
	if err := c.Digit('5'); err != nil {
		t.Fatal(err)
	}
	feed(t, c, "55555555555444")
	if err := c.Digit('5'); !errors.Is(err, ErrCardInvalid) { // 16th digit, bad Luhn
		t.Fatalf("16th: %v", err)
	}
	if err := c.Digit('5'); !errors.Is(err, ErrTooManyDigits) {
		t.Fatalf("17th: %v", err)
	}
	if p := c.Progress(); p.CardDigits != 16 || p.Phase != PhaseCard {
		t.Fatalf("too many: %+v", p)
	}
	// Unknown brand.
	c = NewCapture()
	feed(t, c, "9999")
	if err := c.Digit('#'); !errors.Is(err, ErrCardUnknown) {
		t.Fatalf("unknown brand: %v", err)
	}
	// Erase with nothing entered.
	c = NewCapture()
	if err := c.Digit('*'); !errors.Is(err, ErrNothingToErase) {
		t.Fatalf("erase empty: %v", err)
	}
	if err := c.Digit('#'); !errors.Is(err, ErrCardInvalid) {
		t.Fatalf("# empty: %v", err)
	}
}

func TestCaptureResets(t *testing.T) {
	c := NewCapture()
	feed(t, c, "4242424242424242#12")
	c.ResetCVV()
	if p := c.Progress(); p.Phase != PhaseCVV || p.CVVDigits != 0 || p.CardLast4 != "4242" {
		t.Fatalf("reset cvv: %+v", p)
	}
	feed(t, c, "123")
	c.ResetCVV()
	if p := c.Progress(); p.Phase != PhaseCVV || p.CVVDigits != 0 {
		t.Fatalf("reset cvv after complete: %+v", p)
	}
	c.ResetCard()
	p := c.Progress()
	if p != (Progress{Phase: PhaseCard}) {
		t.Fatalf("reset card: %+v", p)
	}
	if c.s.pan != [maxPAN]byte{} || c.s.cvv != [maxCVV]byte{} {
		t.Fatal("reset left data")
	}
	// ResetCVV during card entry changes nothing.
	feed(t, c, "42")
	c.ResetCVV()
	if p := c.Progress(); p.CardDigits != 2 || p.Phase != PhaseCard {
		t.Fatalf("reset cvv in card phase: %+v", p)
	}
	// Zero value works too.
	var z Capture
	feed(t, &z, "4242424242424242#123")
	if !z.Complete() {
		t.Fatal("zero value capture")
	}
}

func TestParseAmount(t *testing.T) {
	ok := []struct {
		in, cur string
		want    int64
	}{
		{"12.34", "GBP", 1234}, {"12.34", "gbp", 1234}, {"12", "GBP", 1200}, {"12.3", "EUR", 1230},
		{"0.01", "USD", 1}, {"500", "JPY", 500}, {"1.234", "KWD", 1234}, {" 7.5 ", "GBP", 750},
		{"0012.00", "GBP", 1200},
	}
	for _, c := range ok {
		got, err := ParseAmount(c.in, c.cur)
		if err != nil || got != c.want {
			t.Errorf("ParseAmount(%q,%q) = %d, %v; want %d", c.in, c.cur, got, err, c.want)
		}
	}
	bad := []struct{ in, cur string }{
		{"12.345", "GBP"}, {"1.5", "JPY"}, {"-1", "GBP"}, {"0", "GBP"}, {"0.00", "GBP"}, {"", "GBP"},
		{"1,000", "GBP"}, {"12.", "GBP"}, {".5", "GBP"}, {"1e3", "GBP"}, {"12.34", "XXX"}, {"12.34", ""},
		{"99999999999999999999", "GBP"}, {"1.2.3", "GBP"}, {"١٢", "GBP"},
	}
	for _, c := range bad {
		if got, err := ParseAmount(c.in, c.cur); err == nil {
			t.Errorf("ParseAmount(%q,%q) = %d, want error", c.in, c.cur, got)
		}
	}
	if s := FormatAmount(1234, "GBP"); s != "12.34" {
		t.Error(s)
	}
	if s := FormatAmount(5, "GBP"); s != "0.05" {
		t.Error(s)
	}
	if s := FormatAmount(500, "JPY"); s != "500" {
		t.Error(s)
	}
	if s := FormatAmount(1234, "KWD"); s != "1.234" {
		t.Error(s)
	}
}

func TestExpiry(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, in := range []string{"11/26", "11/2026", "1126", "11-26", "12/30", "1/27"} {
		m, y, err := ParseExpiry(in)
		if err != nil {
			t.Errorf("ParseExpiry(%q): %v", in, err)
			continue
		}
		if err := ValidateExpiry(m, y, now); err != nil {
			t.Errorf("ValidateExpiry(%q): %v", in, err)
		}
	}
	for _, in := range []string{"13/26", "00/26", "1/2/3", "ab/cd", "", "11/026", "123/26"} {
		if m, y, err := ParseExpiry(in); err == nil {
			t.Errorf("ParseExpiry(%q) = %d %d", in, m, y)
		}
	}
	for _, c := range [][2]int{{10, 2026}, {12, 25}, {1, 2000}} {
		if err := ValidateExpiry(c[0], c[1], now); !errors.Is(err, ErrExpired) {
			t.Errorf("ValidateExpiry(%v) = %v, want ErrExpired", c, err)
		}
	}
	if err := ValidateExpiry(1, 2050, now); !errors.Is(err, ErrInvalidExpiry) {
		t.Errorf("far future: %v", err)
	}
	if err := ValidateExpiry(0, 2027, now); !errors.Is(err, ErrInvalidExpiry) {
		t.Errorf("month 0: %v", err)
	}
}

// TestCaptureConcurrent keys whole cards while other goroutines read the
// capture through every public view. Each view must be a consistent state
// (never a half-applied digit) and none may show the card number or CVV.
// Run under -race (make test-race) it also checks the locking.
func TestCaptureConcurrent(t *testing.T) {
	const rounds, readers, minLooks = 300, 2, 5000
	var looks atomic.Int64
	const card, cvv = "4242424242424242", "987"
	c := NewCapture()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	seen := make([]map[Phase]int, readers)
	for r := range readers {
		seen[r] = map[Phase]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p := c.Progress()
				looks.Add(1)
				seen[r][p.Phase]++
				if err := progressConsistent(p); err != "" {
					t.Errorf("reader saw %s: %+v", err, p)
					return
				}
				js, err := json.Marshal(c)
				if err != nil {
					t.Errorf("MarshalJSON: %v", err)
					return
				}
				for _, out := range []string{c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), string(js)} {
					if strings.Contains(out, card[:8]) || strings.Contains(out, cvv) {
						t.Errorf("a view of the capture shows card data: %s", out)
						return
					}
				}
			}
		}()
	}
	// Key cards until the readers have looked often enough to have seen
	// the capture mid-entry (bounded, for a loaded machine).
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < rounds || looks.Load() < minLooks; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("readers looked %d times in 20 s (%d rounds keyed)", looks.Load(), i)
		}
		for _, k := range card + "#" + cvv {
			if err := c.Digit(k); err != nil {
				t.Fatalf("round %d: Digit(%q): %v", i, k, err)
			}
		}
		if !c.Complete() {
			t.Fatalf("round %d: not complete: %+v", i, c.Progress())
		}
		c.ResetCard()
	}
	c.Wipe()
	close(stop)
	wg.Wait()
	if p := c.Progress(); p.Phase != PhaseWiped || p.CardDigits != 0 || p.CVVDigits != 0 {
		t.Fatalf("after Wipe: %+v", p)
	}
	if err := c.Digit('4'); !errors.Is(err, ErrWiped) {
		t.Fatalf("Digit after Wipe: %v", err)
	}
	t.Logf("phases seen by readers: %v", seen)
}

// progressConsistent names what is wrong with a Progress that the capture
// of the Visa test card 4242424242424242 with CVV 987 (possibly wiped at
// the end) can never show, or returns "".
func progressConsistent(p Progress) string {
	switch p.Phase {
	case PhaseCard:
		if p.CardDigits > 16 || p.CVVDigits != 0 || p.CardLast4 != "" || p.CardValid != (p.CardDigits == 16) {
			return "an impossible card phase"
		}
		if (p.CardDigits > 0) != (p.CardBrand == Visa) {
			return "a brand that does not match the digits"
		}
	case PhaseCVV, PhaseComplete:
		if p.CardDigits != 16 || !p.CardValid || p.CardLast4 != "4242" || p.CardBrand != Visa || p.CVVLength != 3 {
			return "a CVV phase without the whole card"
		}
		if (p.Phase == PhaseComplete) != (p.CVVDigits == 3) || p.CVVValid != (p.Phase == PhaseComplete) {
			return "a CVV count that does not match the phase"
		}
	case PhaseWiped:
		if p.CardDigits != 0 || p.CVVDigits != 0 {
			return "digits after a wipe"
		}
	default:
		return "an unknown phase"
	}
	if p.Error != "" {
		return "an error for an accepted key"
	}
	return ""
}
