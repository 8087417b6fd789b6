package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/payment"
	"github.com/ctid/ctid/cti/postgres"
)

// A campaign's payment gateway (settings.payment) is where ctid sends card
// numbers, so an admin on the web cannot point it anywhere: the gateway's
// base_url must be one of the server's allow-list (Options.PaymentGateways,
// CTID_PAYMENT_GATEWAYS), checked on save and again whenever a gateway is
// built for a call (PaymentGateway, wired into the engine). The API key is
// write-only: reads show maskedKey, and saving maskedKey back keeps the
// stored key. It is stored sealed (SecretBox, CTID_SECRET_KEY), never in
// clear.

// maskedKey stands for a stored key in what the API shows.
const maskedKey = "********"

// DefaultPaymentGateways is the allow-list when none is configured.
var DefaultPaymentGateways = []string{"https://api.stripe.com"}

func normURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimRight(u.Path, "/")
}

func allowedGateway(allow []string, base string) bool {
	n := normURL(base)
	for _, a := range allow {
		if n != "" && normURL(a) == n {
			return true
		}
	}
	return false
}

// checkGateway validates a gateway configuration against the allow-list.
func checkGateway(allow []string, cfg payment.Config) error {
	if cfg.Kind == payment.KindStripe && !allowedGateway(allow, cfg.BaseURL) {
		return errors.New("base_url " + cfg.BaseURL + " is not one of this server's payment gateways (CTID_PAYMENT_GATEWAYS)")
	}
	return nil
}

// PaymentGateway builds a campaign's gateway like the engine's default,
// refusing one whose endpoint is not on the allow-list (a configuration
// saved before the list existed, or written to the database directly).
// box opens the sealed API key. Pass it as cti.Options.Gateway.
func PaymentGateway(allow []string, box *SecretBox) func(*cti.Campaign) (payment.Gateway, string, error) {
	if len(allow) == 0 {
		allow = DefaultPaymentGateways
	}
	return func(c *cti.Campaign) (payment.Gateway, string, error) {
		var s struct {
			Payment json.RawMessage `json:"payment"`
		}
		if len(c.Settings) > 0 {
			json.Unmarshal(c.Settings, &s)
		}
		if len(s.Payment) == 0 {
			return nil, "", errors.New("no payment gateway configured for this campaign")
		}
		raw, err := openPaymentKey(box, s.Payment)
		if err != nil {
			return nil, "", err
		}
		cfg, err := payment.ParseConfig(raw)
		if err != nil {
			return nil, "", err
		}
		if err := checkGateway(allow, cfg); err != nil {
			return nil, "", err
		}
		gw, err := payment.New(cfg)
		return gw, cfg.Currency, err
	}
}

// paymentKeyPurpose binds a sealed value to its use (SecretBox.Seal).
const paymentKeyPurpose = "campaign settings.payment.api_key"

// openPaymentKey returns settings.payment (raw) with its api_key opened.
func openPaymentKey(box *SecretBox, raw json.RawMessage) (json.RawMessage, error) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return raw, nil // ParseConfig says what is wrong
	}
	k, _ := m["api_key"].(string)
	if !IsSealed(k) {
		return raw, nil
	}
	plain, err := box.Open(paymentKeyPurpose, k)
	if err != nil {
		return nil, fmt.Errorf("the campaign's payment gateway key: %w", err)
	}
	m["api_key"] = plain
	return json.Marshal(m)
}

// checkPaymentSettings validates settings.payment of a campaign being
// saved (id 0: created), putting back the stored key where the client sent
// maskedKey, and seals the key for storage.
func (s *Server) checkPaymentSettings(ctx context.Context, id int64, in *postgres.CampaignRecord) error {
	t := bytes.TrimSpace(in.Settings)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(t, &doc); err != nil {
		return badField("settings", "settings must be a JSON object")
	}
	raw, ok := doc["payment"]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return badField("settings.payment", "settings.payment must be an object {kind, currency, api_key, base_url, moto}")
	}
	if k, _ := m["api_key"].(string); k == maskedKey {
		old := ""
		if id > 0 {
			if cur, err := s.admin.Campaign(ctx, id); err == nil {
				old = storedKey(cur.Settings)
			}
		}
		if old == "" {
			return badField("settings.payment.api_key", "send the gateway's API key (no key is stored yet)")
		}
		m["api_key"] = old
		raw, _ = json.Marshal(m)
	}
	if k, _ := m["api_key"].(string); IsSealed(k) {
		// Only the server writes sealed values; a client sending one back
		// (copied from a dump) is taken as that stored key if it opens.
		var err error
		if raw, err = openPaymentKey(s.o.SecretBox, raw); err != nil {
			return badField("settings.payment.api_key", err.Error()+"; send the gateway's API key again")
		}
	}
	cfg, err := payment.ParseConfig(raw)
	if err != nil {
		field := "settings.payment"
		msg := strings.TrimPrefix(err.Error(), payment.ErrConfig.Error()+": ")
		for _, f := range []string{"api_key", "base_url", "currency", "kind"} {
			if strings.Contains(msg, f) {
				field += "." + f
				break
			}
		}
		return badField(field, "settings.payment: "+msg)
	}
	if err := checkGateway(s.o.PaymentGateways, cfg); err != nil {
		return badField("settings.payment.base_url", err.Error())
	}
	if cfg.APIKey == "" {
		return nil
	}
	sealed, err := s.o.SecretBox.Seal(paymentKeyPurpose, cfg.APIKey)
	if err != nil {
		return badField("settings.payment.api_key", err.Error()+" (set CTID_SECRET_KEY on the server, at least 32 characters)")
	}
	json.Unmarshal(raw, &m)
	m["api_key"] = sealed
	raw, _ = json.Marshal(m)
	doc["payment"] = raw
	in.Settings, _ = json.Marshal(doc)
	return nil
}

func storedKey(settings json.RawMessage) string {
	var s struct {
		Payment struct {
			APIKey string `json:"api_key"`
		} `json:"payment"`
	}
	json.Unmarshal(settings, &s)
	return s.Payment.APIKey
}

// maskSettings hides settings.payment.api_key in what the API returns.
func maskSettings(settings json.RawMessage) json.RawMessage {
	if storedKey(settings) == "" {
		return settings
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(settings, &doc) != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(doc["payment"], &m) != nil {
		return nil
	}
	m["api_key"] = maskedKey
	doc["payment"], _ = json.Marshal(m)
	out, _ := json.Marshal(doc)
	return out
}

func maskCampaign(r postgres.CampaignRecord) postgres.CampaignRecord {
	r.Settings = maskSettings(r.Settings)
	return r
}
