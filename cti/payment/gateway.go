package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Gateway charges a card. Implementations read the card only through the
// Request's Capture, send it to the processor and never log, store or
// return it. The caller must Wipe the Capture when Charge returns.
//
// Charge returns an error only when the outcome is unknown or the request
// could not be made (network, authentication, invalid request); a card
// the processor refuses is a Result with Approved=false and a
// DeclineReason fit to show the agent.
type Gateway interface {
	Charge(ctx context.Context, req Request) (Result, error)
}

// Request is one payment. The card number and CVV come from the attached
// Capture (see WithCard); every other field is entered by the agent.
type Request struct {
	Reference      string // merchant reference (order/account number), required
	Amount         int64  // minor units (1234 = 12.34 GBP)
	Currency       string // ISO 4217; empty = the gateway's configured currency
	CardholderName string
	ExpiryMonth    int // 1-12
	ExpiryYear     int // four digits (two-digit years are accepted as 20YY)
	// IdempotencyKey makes retries safe at gateways that support it;
	// empty = one random key per Charge call.
	IdempotencyKey string

	card *Capture
}

// WithCard returns a copy of r that carries the card held by c.
func (r Request) WithCard(c *Capture) Request {
	r.card = c
	return r
}

// Card returns the attached Capture (for Progress / Wipe only).
func (r Request) Card() *Capture { return r.card }

// Validate checks everything that can be checked before contacting a
// gateway: reference, amount, currency, expiry (against now), cardholder
// name and a complete, valid card. Errors wrap the package's Err* values
// (map them to 4xx). defaultCurrency fills an empty Currency.
func (r *Request) Validate(now time.Time, defaultCurrency string) error {
	r.Reference = strings.TrimSpace(r.Reference)
	if r.Reference == "" || len(r.Reference) > 100 || !utf8.ValidString(r.Reference) || hasControl(r.Reference) {
		return fmt.Errorf("%w: 1-100 printable characters required", ErrInvalidRef)
	}
	if r.Currency == "" {
		r.Currency = defaultCurrency
	}
	cur, err := NormalizeCurrency(r.Currency)
	if err != nil {
		return err
	}
	r.Currency = cur
	if r.Amount <= 0 || r.Amount > maxMinor {
		return fmt.Errorf("%w: must be between 1 and %d minor units", ErrInvalidAmount, maxMinor)
	}
	r.CardholderName = strings.TrimSpace(r.CardholderName)
	if len(r.CardholderName) > 200 || !utf8.ValidString(r.CardholderName) || hasControl(r.CardholderName) {
		return ErrInvalidName
	}
	if r.ExpiryYear >= 0 && r.ExpiryYear < 100 {
		r.ExpiryYear += 2000
	}
	if err := ValidateExpiry(r.ExpiryMonth, r.ExpiryYear, now); err != nil {
		return err
	}
	if r.card == nil {
		return ErrCardIncomplete
	}
	p := r.card.Progress()
	switch {
	case p.Phase == PhaseWiped:
		return ErrWiped
	case p.Phase != PhaseComplete:
		return ErrCardIncomplete
	case !p.CardValid:
		return ErrCardInvalid
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// String, GoString, Format, MarshalJSON and LogValue never show the card,
// only its Progress.
func (r Request) String() string {
	card := "card=none"
	if r.card != nil {
		card = r.card.Progress().String()
	}
	return fmt.Sprintf("payment.Request{ref=%q amount=%s %s name=%q expiry=%02d/%d %s}",
		r.Reference, FormatAmount(r.Amount, r.Currency), r.Currency, r.CardholderName,
		r.ExpiryMonth, r.ExpiryYear, card)
}
func (r Request) GoString() string              { return r.String() }
func (r Request) Format(f fmt.State, verb rune) { fmt.Fprint(f, r.String()) }
func (r Request) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Reference      string   `json:"reference"`
		Amount         int64    `json:"amount"`
		Currency       string   `json:"currency"`
		CardholderName string   `json:"cardholder_name"`
		ExpiryMonth    int      `json:"expiry_month"`
		ExpiryYear     int      `json:"expiry_year"`
		Card           Progress `json:"card"`
	}{r.Reference, r.Amount, r.Currency, r.CardholderName, r.ExpiryMonth, r.ExpiryYear, r.card.Progress()})
}
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("reference", r.Reference),
		slog.Int64("amount", r.Amount),
		slog.String("currency", r.Currency),
		slog.Any("card", r.card.Progress()),
	)
}

// Result is a gateway's answer.
type Result struct {
	Approved bool `json:"approved"`
	// Reference is the gateway's transaction id (Stripe: pi_…).
	Reference string `json:"reference,omitempty"`
	// Receipt is the id to read to the customer (Stripe: the charge ch_…;
	// sandbox: SBX-…). Empty when declined.
	Receipt string `json:"receipt,omitempty"`
	// DeclineReason is short, fit for the agent ("card declined",
	// "insufficient funds", "expired card", …). Empty when approved.
	DeclineReason string `json:"decline_reason,omitempty"`
	CardBrand     string `json:"card_brand,omitempty"`
	CardLast4     string `json:"card_last4,omitempty"`
}

// Config selects and configures a campaign's gateway.
type Config struct {
	Kind     string `json:"kind"`               // "sandbox" or "stripe"
	APIKey   string `json:"api_key,omitempty"`  // stripe: secret or restricted key (sk_…/rk_…)
	BaseURL  string `json:"base_url,omitempty"` // stripe: default https://api.stripe.com
	Currency string `json:"currency"`           // ISO 4217 default for requests
	// MOTO flags Stripe payments as mail order / telephone order (exempt
	// from SCA; must be enabled on the Stripe account).
	MOTO bool `json:"moto,omitempty"`
}

const (
	KindSandbox = "sandbox"
	KindStripe  = "stripe"
)

// ErrConfig wraps configuration errors.
var ErrConfig = errors.New("invalid payment gateway configuration")

// ParseConfig decodes a JSON gateway configuration (unknown fields are
// rejected) and validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if dec.More() {
		return Config{}, fmt.Errorf("%w: trailing data", ErrConfig)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks and normalises the configuration in place.
func (c *Config) Validate() error {
	c.Kind = strings.ToLower(strings.TrimSpace(c.Kind))
	cur, err := NormalizeCurrency(c.Currency)
	if err != nil {
		return fmt.Errorf("%w: currency: %v", ErrConfig, err)
	}
	c.Currency = cur
	switch c.Kind {
	case KindSandbox:
		if c.APIKey != "" || c.BaseURL != "" {
			return fmt.Errorf("%w: sandbox takes no api_key or base_url", ErrConfig)
		}
	case KindStripe:
		c.APIKey = strings.TrimSpace(c.APIKey)
		if !(strings.HasPrefix(c.APIKey, "sk_") || strings.HasPrefix(c.APIKey, "rk_")) || len(c.APIKey) < 8 || hasControl(c.APIKey) || strings.ContainsAny(c.APIKey, " :") {
			return fmt.Errorf("%w: stripe api_key must be a secret (sk_…) or restricted (rk_…) key", ErrConfig)
		}
		if c.BaseURL == "" {
			c.BaseURL = stripeDefaultURL
		}
		u, err := url.Parse(c.BaseURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("%w: base_url must be an absolute http(s) URL", ErrConfig)
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			return fmt.Errorf("%w: base_url must use https (plain http only for localhost mocks)", ErrConfig)
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	case "":
		return fmt.Errorf("%w: kind is required (sandbox or stripe)", ErrConfig)
	default:
		return fmt.Errorf("%w: unknown kind %q (sandbox or stripe)", ErrConfig, clip(c.Kind, 20))
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Redacted returns a copy with the API key masked, for display and logs.
func (c Config) Redacted() Config {
	if c.APIKey != "" {
		k := c.APIKey
		if i := strings.LastIndexByte(k, '_'); i >= 0 && len(k) > i+4 {
			c.APIKey = k[:i+1] + "…" + k[len(k)-4:]
		} else {
			c.APIKey = "…"
		}
	}
	return c
}

// String and LogValue mask the API key. (MarshalJSON is not overridden:
// the configuration is stored as JSON.)
func (c Config) String() string {
	r := c.Redacted()
	return fmt.Sprintf("payment.Config{kind=%s currency=%s base_url=%s api_key=%s moto=%t}", r.Kind, r.Currency, r.BaseURL, r.APIKey, r.MOTO)
}
func (c Config) GoString() string { return c.String() }
func (c Config) LogValue() slog.Value {
	r := c.Redacted()
	return slog.GroupValue(slog.String("kind", r.Kind), slog.String("currency", r.Currency),
		slog.String("base_url", r.BaseURL), slog.String("api_key", r.APIKey))
}

// New builds the gateway a configuration describes (validating it first).
func New(c Config) (Gateway, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.Kind {
	case KindSandbox:
		return NewSandbox(c.Currency), nil
	case KindStripe:
		return NewStripe(c), nil
	}
	return nil, fmt.Errorf("%w: unknown kind", ErrConfig)
}
