package payment

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	stripeDefaultURL = "https://api.stripe.com"
	// StripeAPIVersion pins the response shapes this client expects.
	StripeAPIVersion = "2026-08-26.dahlia" // the version of stripe-mock v0.203.0's spec
)

// Stripe charges cards through Stripe's REST API with net/http:
//
//  1. POST /v1/payment_methods  type=card, card[number|exp_month|exp_year|cvc],
//     billing_details[name]  → pm_…
//  2. POST /v1/payment_intents  amount, currency, confirm=true,
//     payment_method=pm_…, payment_method_types[0]=card, description and
//     metadata[reference] = Reference, optionally
//     payment_method_options[card][moto]=true  → pi_… with status.
//
// Sending raw card numbers requires Stripe's "raw card data APIs" to be
// enabled on the account (it is for telephone payment setups; the
// account is then in PCI scope SAQ D). Both requests carry an
// Idempotency-Key. The PAN and CVV are written only into the first
// request's body buffer, which is zeroed once the request completes.
type Stripe struct {
	cfg    Config
	Client *http.Client // default: 30 s timeout
}

// NewStripe returns a Stripe gateway; cfg should have passed Validate.
func NewStripe(cfg Config) *Stripe {
	if cfg.BaseURL == "" {
		cfg.BaseURL = stripeDefaultURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Stripe{cfg: cfg, Client: &http.Client{Timeout: 30 * time.Second}}
}

// ErrGateway wraps failures talking to a gateway (outcome unknown or
// request refused for a reason other than the card).
var ErrGateway = errors.New("payment gateway error")

type stripeError struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	DeclineCode string `json:"decline_code"`
	Message     string `json:"message"`
}

type stripeObject struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	LatestCharge     json.RawMessage `json:"latest_charge"`
	LastPaymentError *stripeError    `json:"last_payment_error"`
	Error            *stripeError    `json:"error"`
}

// Charge implements Gateway. It validates the request first (see
// Request.Validate); validation errors are returned unchanged.
func (s *Stripe) Charge(ctx context.Context, req Request) (Result, error) {
	if err := req.Validate(time.Now(), s.cfg.Currency); err != nil {
		return Result{}, err
	}
	last4, brand := req.card.last4AndBrand()
	res := Result{CardBrand: brand, CardLast4: last4}
	key := req.IdempotencyKey
	if key == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		key = hex.EncodeToString(b[:])
	}

	// 1. Payment method (the only request that carries card data).
	// The card is copied into the body under the Capture's lock; the lock
	// is released before the network round trip.
	var body []byte
	err := req.card.withCard(func(pan, cvv []byte) error {
		// Preallocated so that append never reallocates (a reallocation
		// would leave an unwiped copy of the card behind).
		body = make([]byte, 0, 512+3*len(req.CardholderName))
		body = appendForm(body, "type", "card")
		body = appendFormBytes(body, "card[number]", pan)
		body = appendForm(body, "card[exp_month]", strconv.Itoa(req.ExpiryMonth))
		body = appendForm(body, "card[exp_year]", strconv.Itoa(req.ExpiryYear))
		body = appendFormBytes(body, "card[cvc]", cvv)
		if req.CardholderName != "" {
			body = appendForm(body, "billing_details[name]", req.CardholderName)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	var pm stripeObject
	status, err := s.post(ctx, "/v1/payment_methods", key+"-pm", body, &pm)
	clear(body[:cap(body)])
	if err != nil {
		return Result{}, err
	}
	if pm.Error != nil || pm.ID == "" {
		if status == http.StatusPaymentRequired || (pm.Error != nil && pm.Error.Type == "card_error") {
			res.DeclineReason = stripeDeclineReason(pm.Error)
			return res, nil
		}
		// The message of an answer to a request that carried the card is
		// dropped: it could quote what was sent.
		if pm.Error != nil {
			pm.Error.Message = ""
		}
		return Result{}, stripeFailure("create payment method", status, pm.Error)
	}

	// 2. Payment intent, confirmed at once.
	body = nil
	body = appendForm(body, "amount", strconv.FormatInt(req.Amount, 10))
	body = appendForm(body, "currency", strings.ToLower(req.Currency))
	body = appendForm(body, "confirm", "true")
	body = appendForm(body, "payment_method", pm.ID)
	body = appendForm(body, "payment_method_types[0]", "card")
	body = appendForm(body, "description", req.Reference)
	body = appendForm(body, "metadata[reference]", req.Reference)
	if s.cfg.MOTO {
		body = appendForm(body, "payment_method_options[card][moto]", "true")
	}
	var pi stripeObject
	status, err = s.post(ctx, "/v1/payment_intents", key+"-pi", body, &pi)
	if err != nil {
		return Result{}, err
	}
	if pi.Error != nil {
		if status == http.StatusPaymentRequired || pi.Error.Type == "card_error" {
			res.DeclineReason = stripeDeclineReason(pi.Error)
			return res, nil
		}
		return Result{}, stripeFailure("create payment intent", status, pi.Error)
	}
	res.Reference = pi.ID
	switch pi.Status {
	case "succeeded", "requires_capture":
		res.Approved = true
		res.Receipt = chargeID(pi.LatestCharge)
		if res.Receipt == "" {
			res.Receipt = pi.ID
		}
	case "requires_action":
		res.DeclineReason = "card requires authentication (3-D Secure), not possible by phone"
	case "processing":
		return res, fmt.Errorf("%w: stripe: payment %s still processing; check the dashboard", ErrGateway, pi.ID)
	default: // requires_payment_method, canceled, …
		res.DeclineReason = stripeDeclineReason(pi.LastPaymentError)
	}
	return res, nil
}

// post sends a form body and decodes the JSON answer into out. It returns
// an error only when no usable answer came back.
func (s *Stripe) post(ctx context.Context, path, idem string, body []byte, out *stripeObject) (int, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: stripe: %v", ErrGateway, err)
	}
	hreq.Header.Set("Authorization", "Bearer "+s.cfg.APIKey)
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hreq.Header.Set("Stripe-Version", StripeAPIVersion)
	hreq.Header.Set("Idempotency-Key", idem)
	hreq.Header.Set("User-Agent", "ctid-payment/1")
	resp, err := s.Client.Do(hreq)
	if err != nil {
		// *url.Error names method and URL only, never the body.
		return 0, fmt.Errorf("%w: stripe: %v", ErrGateway, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%w: stripe: reading %s answer: %v", ErrGateway, path, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%w: stripe: %s answered HTTP %d with non-JSON", ErrGateway, path, resp.StatusCode)
	}
	if resp.StatusCode >= 300 && out.Error == nil {
		out.Error = &stripeError{Type: "api_error", Message: http.StatusText(resp.StatusCode)}
	}
	return resp.StatusCode, nil
}

func stripeFailure(op string, status int, e *stripeError) error {
	if e == nil {
		return fmt.Errorf("%w: stripe: %s: HTTP %d", ErrGateway, op, status)
	}
	s := fmt.Sprintf("%s: stripe: %s: HTTP %d %s", ErrGateway, op, status, scrubDigits(e.Type))
	if e.Code != "" {
		s += " " + scrubDigits(e.Code)
	}
	if e.Message != "" {
		s += ": " + scrubDigits(e.Message)
	}
	return fmt.Errorf("%w%s", ErrGateway, strings.TrimPrefix(s, ErrGateway.Error()))
}

// stripeDeclineReason maps Stripe's error codes to short reasons for the
// agent. Lost/stolen/fraud codes are reported as a plain decline, as card
// schemes require.
func stripeDeclineReason(e *stripeError) string {
	if e == nil {
		return "card declined"
	}
	code := e.DeclineCode
	if code == "" {
		code = e.Code
	}
	switch code {
	case "insufficient_funds":
		return "insufficient funds"
	case "expired_card":
		return "expired card"
	case "incorrect_cvc", "invalid_cvc":
		return "incorrect CVV"
	case "incorrect_number", "invalid_number":
		return "invalid card number"
	case "invalid_expiry_month", "invalid_expiry_year":
		return "invalid expiry date"
	case "processing_error":
		return "processing error"
	case "authentication_required":
		return "card requires authentication (3-D Secure), not possible by phone"
	case "card_velocity_exceeded", "withdrawal_count_limit_exceeded":
		return "card limit exceeded"
	case "currency_not_supported":
		return "currency not supported by card"
	case "", "card_declined", "generic_decline", "lost_card", "stolen_card", "fraudulent",
		"pickup_card", "restricted_card", "security_violation", "do_not_honor":
		return "card declined"
	}
	return strings.ReplaceAll(scrubDigits(code), "_", " ")
}

func chargeID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}

// scrubDigits replaces every run of 6 or more digits (optionally split by
// spaces or dashes) with "[redacted]" and caps the length, so that text
// from outside can never carry a card number into errors or logs.
func scrubDigits(s string) string {
	var out strings.Builder
	i := 0
	for i < len(s) {
		if s[i] < '0' || s[i] > '9' {
			out.WriteByte(s[i])
			i++
			continue
		}
		j, n := i, 0
		end := i
		for j < len(s) {
			if s[j] >= '0' && s[j] <= '9' {
				n++
				j++
				end = j
			} else if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' {
				j++
			} else {
				break
			}
		}
		if n >= 6 {
			out.WriteString("[redacted]")
		} else {
			out.WriteString(s[i:end])
		}
		i = end
	}
	r := out.String()
	if len(r) > 300 {
		r = r[:300] + "…"
	}
	return r
}

// appendForm appends key=value in application/x-www-form-urlencoded form
// (the same escaping as url.Values.Encode).
func appendForm(b []byte, key, val string) []byte {
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = append(b, url.QueryEscape(key)...)
	b = append(b, '=')
	return append(b, url.QueryEscape(val)...)
}

// appendFormBytes appends a value made of ASCII digits without creating a
// string (digits need no escaping).
func appendFormBytes(b []byte, key string, val []byte) []byte {
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = append(b, url.QueryEscape(key)...)
	b = append(b, '=')
	return append(b, val...)
}
