package payment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sandbox is a gateway for demos and tests: it never contacts anyone and
// answers deterministically from the card number (the same test numbers
// as Stripe's test mode).
//
// Approved (any future expiry, any CVV):
//
//	4242 4242 4242 4242   Visa
//	4000 0566 5566 5556   Visa debit
//	5555 5555 5555 4444   Mastercard
//	2223 0031 2200 3222   Mastercard (2-series)
//	3782 822463 10005     American Express (4-digit CVV)
//	6011 1111 1111 1117   Discover
//	3566 0020 2036 0505   JCB
//	3056 9300 0902 0004   Diners Club
//	6200 0000 0000 0005   UnionPay
//
// Declined:
//
//	4000 0000 0000 0002   "card declined"
//	4000 0000 0000 9995   "insufficient funds"
//	4000 0000 0000 9987   "card declined" (lost card; the reason is not disclosed)
//	4000 0000 0000 0069   "expired card"
//	4000 0000 0000 0127   "incorrect CVV"
//	4000 0000 0000 0119   "processing error"
//	any expiry in the past: "expired card"
//	any other valid number: "not a sandbox test card" (nothing is ever charged)
//
// The receipt is "SBX-" followed by 10 hex digits derived from reference,
// amount, currency and last four digits, so a repeated request gets the
// same receipt.
type Sandbox struct {
	Currency string
	Now      func() time.Time // nil = time.Now
}

// NewSandbox returns a sandbox gateway whose default currency is currency.
func NewSandbox(currency string) *Sandbox { return &Sandbox{Currency: currency} }

// SandboxCard is one documented sandbox test card.
type SandboxCard struct {
	Number  string
	Brand   string
	Approve bool
	Decline string
}

// SandboxCards lists the documented test cards.
var SandboxCards = []SandboxCard{
	{"4242424242424242", Visa, true, ""},
	{"4000056655665556", Visa, true, ""},
	{"5555555555554444", Mastercard, true, ""},
	{"2223003122003222", Mastercard, true, ""},
	{"378282246310005", Amex, true, ""},
	{"6011111111111117", Discover, true, ""},
	{"3566002020360505", JCB, true, ""},
	{"3056930009020004", Diners, true, ""},
	{"6200000000000005", UnionPay, true, ""},
	{"4000000000000002", Visa, false, "card declined"},
	{"4000000000009995", Visa, false, "insufficient funds"},
	{"4000000000009987", Visa, false, "card declined"},
	{"4000000000000069", Visa, false, "expired card"},
	{"4000000000000127", Visa, false, "incorrect CVV"},
	{"4000000000000119", Visa, false, "processing error"},
}

// Charge implements Gateway.
func (s *Sandbox) Charge(ctx context.Context, req Request) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	last4, brand := "", ""
	if req.card != nil {
		last4, brand = req.card.last4AndBrand()
	}
	res := Result{CardBrand: brand, CardLast4: last4}
	if err := req.Validate(now, s.Currency); err != nil {
		switch {
		case errors.Is(err, ErrExpired):
			res.DeclineReason = "expired card"
			return res, nil
		case errors.Is(err, ErrCardInvalid):
			res.DeclineReason = "invalid card number"
			return res, nil
		}
		return Result{}, err
	}
	var card *SandboxCard
	err := req.card.withCard(func(pan, _ []byte) error {
		for i := range SandboxCards {
			if bytes.Equal(pan, []byte(SandboxCards[i].Number)) {
				card = &SandboxCards[i]
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%s|%s", req.Reference, req.Amount, req.Currency, last4))
	id := hex.EncodeToString(h[:])
	res.Reference = "sbx_" + id[:16]
	switch {
	case card == nil:
		res.DeclineReason = "not a sandbox test card"
	case !card.Approve:
		res.DeclineReason = card.Decline
	default:
		res.Approved = true
		res.Receipt = "SBX-" + strings.ToUpper(id[:10])
	}
	return res, nil
}
