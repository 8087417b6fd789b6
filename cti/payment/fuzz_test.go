package payment

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzCapture drives a Capture with arbitrary keys: digits, '*', '#',
// A-D, any other rune, and 'r' / 'v' / 'w' for ResetCard / ResetCVV /
// Wipe. Invariants: no panic; Progress and every rendering of the Capture
// hold at most four consecutive digits; counts stay in range; the last
// four digits shown are the real ones; Wipe and resets leave no data.
func FuzzCapture(f *testing.F) {
	for _, s := range []string{
		"4242424242424242#123",
		"378282246310005" + "1234",
		"5555555555554444123A4#*9",
		"4242424242424241#*2#12#3",
		"99999999999999999999#",
		"4242r4242424242424242#12v345w1r6011111111111117#999",
		"**##AB CD\x00é",
		"2223003122003222w",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewCapture()
		for _, r := range string(data) {
			switch r {
			case 'r':
				c.ResetCard()
			case 'v':
				c.ResetCVV()
			case 'w':
				c.Wipe()
				if c.s.pan != [maxPAN]byte{} || c.s.cvv != [maxCVV]byte{} {
					t.Fatal("Wipe left data")
				}
			default:
				_ = c.Digit(r)
			}
			checkCapture(t, c)
		}
	})
}

func checkCapture(t *testing.T, c *Capture) {
	t.Helper()
	p := c.Progress()
	if p.CardDigits < 0 || p.CardDigits > maxPAN || p.CVVDigits < 0 || p.CVVDigits > maxCVV {
		t.Fatalf("counts out of range: %+v", p)
	}
	if p.CardDigits != c.s.panLen || p.CVVDigits != c.s.cvvLen {
		t.Fatalf("counts disagree with state: %+v", p)
	}
	if n := len(p.CardLast4); n != 0 && n != 4 {
		t.Fatalf("last4 %q", p.CardLast4)
	}
	if (p.Phase == PhaseCVV || p.Phase == PhaseComplete) && (p.CardLast4 != string(c.s.pan[c.s.panLen-4:c.s.panLen]) || !p.CardValid) {
		t.Fatalf("last4 %q / valid %t do not match the card", p.CardLast4, p.CardValid)
	}
	if p.Phase == PhaseComplete && (!p.CVVValid || p.CVVDigits != p.CVVLength) {
		t.Fatalf("complete without valid CVV: %+v", p)
	}
	if strings.ContainsAny(p.Error, "0123456789") {
		t.Fatalf("error holds digits: %q", p.Error)
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", c, c, c, c), string(j), p.String()} {
		if n := longestDigitRun(s); n > 4 {
			t.Fatalf("%d consecutive digits in %q", n, s)
		}
	}
}

func longestDigitRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}
