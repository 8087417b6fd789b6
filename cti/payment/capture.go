// Package payment captures card details keyed by a caller on the telephone
// keypad (DTMF) and sends them to a payment gateway, PCI DSS minded: the
// card number (PAN) and security code (CVV) live only in fixed byte arrays
// inside a Capture, are never converted to strings outside the request body
// sent to the gateway, never appear in fmt, JSON or slog output, and are
// zeroed by Wipe.
//
// The engine drives a Capture with the digits from the customer leg's
// ChannelDtmfReceived events and shows the agent only Progress.
package payment

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Phase of a card capture.
type Phase string

const (
	PhaseCard     Phase = "card"     // customer keys the card number, # to finish
	PhaseCVV      Phase = "cvv"      // customer keys the security code
	PhaseComplete Phase = "complete" // both entered and valid; ready to charge
	PhaseWiped    Phase = "wiped"    // card data erased; ResetCard starts again
)

const (
	maxPAN = 19
	maxCVV = 4
)

// Errors reported by Capture.Digit (also as Progress.Error). None of them
// ever contains a digit the caller keyed.
var (
	ErrNotCardKey     = errors.New("keys A-D are not used for card entry")
	ErrInvalidKey     = errors.New("invalid DTMF key")
	ErrTooManyDigits  = errors.New("too many digits")
	ErrCardInvalid    = errors.New("card number is not valid (check digit or length); press * to correct or ask the agent to reset")
	ErrCardUnknown    = errors.New("card brand not recognised")
	ErrCVVShort       = errors.New("security code too short")
	ErrAfterComplete  = errors.New("entry already complete; unexpected digit ignored")
	ErrWiped          = errors.New("card data was erased; reset card to start again")
	ErrNothingToErase = errors.New("nothing to erase")
)

// Progress is the only view of a Capture that may leave the server (agent
// screen, websocket, logs). It never holds more than the last four digits.
type Progress struct {
	Phase      Phase  `json:"phase"`
	CardDigits int    `json:"card_digits"`
	CardBrand  string `json:"card_brand,omitempty"`
	// CardLast4 is set only once the number is complete and valid.
	CardLast4 string `json:"card_last4,omitempty"`
	// CardValid: known brand, length valid for the brand, Luhn passes.
	CardValid bool `json:"card_valid"`
	CVVDigits int  `json:"cvv_digits"`
	// CVVLength is the number of CVV digits expected for the brand (0 while
	// the brand is unknown).
	CVVLength int  `json:"cvv_length,omitempty"`
	CVVValid  bool `json:"cvv_valid"`
	// Error describes the last rejected key or failed completion; cleared by
	// the next accepted key or a reset.
	Error string `json:"error,omitempty"`
}

// String renders progress for logs, e.g.
// "card phase=cvv digits=16 brand=visa last4=4242 valid=true cvv=2/3".
func (p Progress) String() string {
	s := fmt.Sprintf("card phase=%s digits=%d brand=%s last4=%s valid=%t cvv=%d/%d cvv_valid=%t",
		p.Phase, p.CardDigits, orDash(p.CardBrand), orDash(p.CardLast4), p.CardValid, p.CVVDigits, p.CVVLength, p.CVVValid)
	if p.Error != "" {
		s += fmt.Sprintf(" error=%q", p.Error)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// LogValue implements slog.LogValuer.
func (p Progress) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("phase", string(p.Phase)),
		slog.Int("card_digits", p.CardDigits),
		slog.String("card_brand", p.CardBrand),
		slog.String("card_last4", p.CardLast4),
		slog.Bool("card_valid", p.CardValid),
		slog.Int("cvv_digits", p.CVVDigits),
		slog.Bool("cvv_valid", p.CVVValid),
	}
	if p.Error != "" {
		attrs = append(attrs, slog.String("error", p.Error))
	}
	return slog.GroupValue(attrs...)
}

// Capture is the card entry state machine. The zero value is not ready;
// use NewCapture. A Capture is safe for concurrent use. Do not copy it
// (a copy would duplicate the card data; go vet's copylocks catches it).
type Capture struct {
	mu sync.Mutex
	// The card data sits behind a pointer: even formatting a copied Capture
	// value with %#v prints only the pointer's address, never the digits.
	s     *secret
	phase Phase
	err   error
	// Non-sensitive facts kept after Wipe for the receipt screen.
	brand string
	last4 [4]byte
	has4  bool
}

type secret struct {
	pan    [maxPAN]byte
	panLen int
	cvv    [maxCVV]byte
	cvvLen int
}

// NewCapture returns a Capture waiting for the card number.
func NewCapture() *Capture { return &Capture{phase: PhaseCard, s: new(secret)} }

func (c *Capture) init() {
	if c.s == nil {
		c.s = new(secret)
	}
	if c.phase == "" {
		c.phase = PhaseCard
	}
}

// Digit feeds one DTMF key from the customer leg: '0'-'9', '*' (erase the
// last digit of the current entry) or '#' (end of the current entry). A
// rejected key returns an error (also shown in Progress.Error) and leaves
// what was entered untouched.
func (c *Capture) Digit(d rune) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	c.err = c.digit(d)
	return c.err
}

func (c *Capture) digit(d rune) error {
	switch {
	case d >= 'A' && d <= 'D', d >= 'a' && d <= 'd':
		return ErrNotCardKey
	case d == '*' || d == '#' || (d >= '0' && d <= '9'):
	default:
		return ErrInvalidKey
	}
	switch c.phase {
	case PhaseWiped:
		return ErrWiped
	case PhaseCard:
		switch d {
		case '*':
			if c.s.panLen == 0 {
				return ErrNothingToErase
			}
			c.s.panLen--
			c.s.pan[c.s.panLen] = 0
			c.updateBrand()
			return nil
		case '#':
			return c.finishCard()
		}
		if c.s.panLen >= c.maxPANLen() {
			return ErrTooManyDigits
		}
		c.s.pan[c.s.panLen] = byte(d)
		c.s.panLen++
		c.updateBrand()
		if c.s.panLen == c.maxPANLen() {
			return c.finishCard()
		}
		return nil
	case PhaseCVV, PhaseComplete:
		want := c.cvvWant()
		switch d {
		case '*':
			if c.s.cvvLen == 0 {
				return ErrNothingToErase
			}
			c.s.cvvLen--
			c.s.cvv[c.s.cvvLen] = 0
			c.phase = PhaseCVV
			return nil
		case '#':
			if c.phase == PhaseComplete {
				return nil
			}
			if c.s.cvvLen < want {
				return ErrCVVShort
			}
			c.phase = PhaseComplete
			return nil
		}
		if c.phase == PhaseComplete {
			return ErrAfterComplete
		}
		if c.s.cvvLen >= want {
			return ErrTooManyDigits
		}
		c.s.cvv[c.s.cvvLen] = byte(d)
		c.s.cvvLen++
		if c.s.cvvLen == want {
			c.phase = PhaseComplete
		}
		return nil
	}
	return ErrInvalidKey
}

func (c *Capture) maxPANLen() int {
	if b := DetectBrand(c.s.pan[:c.s.panLen]); b != nil {
		return b.MaxLength()
	}
	return maxPAN
}

func (c *Capture) cvvWant() int {
	if b := BrandByName(c.brand); b != nil {
		return b.CVVLength
	}
	return 3
}

func (c *Capture) updateBrand() {
	c.brand = ""
	if b := DetectBrand(c.s.pan[:c.s.panLen]); b != nil {
		c.brand = b.Name
	}
}

func (c *Capture) finishCard() error {
	p := c.s.pan[:c.s.panLen]
	if DetectBrand(p) == nil {
		if c.s.panLen == 0 {
			return ErrCardInvalid
		}
		return ErrCardUnknown
	}
	if !ValidPAN(p) {
		return ErrCardInvalid
	}
	copy(c.last4[:], p[len(p)-4:])
	c.has4 = true
	c.phase = PhaseCVV
	return nil
}

// ResetCard erases the card number and the CVV and restarts entry at the
// card number (agent's "Reset card"). It also reopens a wiped Capture.
func (c *Capture) ResetCard() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	c.wipe()
	c.brand = ""
	c.has4 = false
	clear(c.last4[:])
	c.err = nil
	c.phase = PhaseCard
}

// ResetCVV erases the CVV and restarts its entry (agent's "Reset CVV").
// While the card number is still being keyed it only clears the error.
func (c *Capture) ResetCVV() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	clear(c.s.cvv[:])
	c.s.cvvLen = 0
	c.err = nil
	if c.phase == PhaseComplete {
		c.phase = PhaseCVV
	}
}

// Wipe zeroes the card number and CVV. Call it after the gateway request
// (whatever its outcome), on hang-up and when payment capture ends. Brand
// and last four digits (not sensitive) stay visible in Progress. Wipe is
// idempotent; after it Digit fails with ErrWiped until ResetCard.
func (c *Capture) Wipe() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	c.wipe()
	c.err = nil
	c.phase = PhaseWiped
}

func (c *Capture) wipe() {
	clear(c.s.pan[:])
	clear(c.s.cvv[:])
	c.s.panLen, c.s.cvvLen = 0, 0
}

// Complete reports whether a valid card number and CVV are held.
func (c *Capture) Complete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	return c.phase == PhaseComplete
}

// Progress returns the masked view of the capture.
func (c *Capture) Progress() Progress {
	if c == nil {
		return Progress{Phase: PhaseWiped}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	return c.progress()
}

func (c *Capture) progress() Progress {
	phase := c.phase
	if phase == "" {
		phase = PhaseCard
	}
	p := Progress{
		Phase:      phase,
		CardDigits: c.s.panLen,
		CardBrand:  c.brand,
		CVVDigits:  c.s.cvvLen,
	}
	if c.s.panLen > 0 {
		p.CardValid = ValidPAN(c.s.pan[:c.s.panLen])
	}
	if c.has4 {
		p.CardLast4 = string(c.last4[:])
	}
	if c.brand != "" || c.has4 {
		p.CVVLength = c.cvvWant()
	}
	p.CVVValid = phase == PhaseComplete && c.s.cvvLen == c.cvvWant()
	if c.err != nil {
		p.Error = c.err.Error()
	}
	return p
}

// withCard runs fn with the PAN and CVV while holding the lock. fn must not
// retain the slices. Only gateways in this package call it.
func (c *Capture) withCard(fn func(pan, cvv []byte) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	if c.phase != PhaseComplete {
		if c.phase == PhaseWiped {
			return ErrWiped
		}
		return ErrCardIncomplete
	}
	return fn(c.s.pan[:c.s.panLen], c.s.cvv[:c.s.cvvLen])
}

// last4AndBrand returns non-sensitive facts for receipts.
func (c *Capture) last4AndBrand() (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	if !c.has4 {
		return "", c.brand
	}
	return string(c.last4[:]), c.brand
}

// String, GoString, Format, MarshalJSON and LogValue print only Progress,
// so a Capture can be passed to any logger or encoder without leaking.

func (c *Capture) String() string   { return "payment.Capture{" + c.Progress().String() + "}" }
func (c *Capture) GoString() string { return c.String() }

// Format implements fmt.Formatter for every verb.
func (c *Capture) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// MarshalJSON encodes Progress.
func (c *Capture) MarshalJSON() ([]byte, error) { return json.Marshal(c.Progress()) }

// LogValue implements slog.LogValuer.
func (c *Capture) LogValue() slog.Value { return c.Progress().LogValue() }
