package api_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/cti"
)

// Item 5: a campaign's payment gateway is validated on save, its endpoint
// must be on the server's allow-list, and its key is write-only.
func TestPaymentGatewaySettingsFromTheWeb(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	for _, c := range []struct{ payment, field string }{
		{`{"kind":"nonsense","currency":"GBP"}`, "settings.payment.kind"},
		{`{"kind":"stripe","currency":"GBP","api_key":"sk_test_abcdefgh","base_url":"https://evil.example.com"}`, "settings.payment.base_url"},
		{`{"kind":"stripe","currency":"GBP","api_key":"sk_test_abcdefgh","base_url":"http://127.0.0.1:9"}`, "settings.payment.base_url"},
		{`{"kind":"stripe","currency":"GBP","api_key":"nope"}`, "settings.payment.api_key"},
		{`{"kind":"stripe","currency":"GBP","api_key":"********"}`, "settings.payment.api_key"},
		{`{"kind":"sandbox","currency":"GBP","extra":1}`, "settings.payment"},
	} {
		p := e.must(400, "POST", "/api/v1/admin/campaigns", root, `{"name":"Pay","settings":{"payment":`+c.payment+`}}`).problem(t)
		if !strings.HasPrefix(p.Field, c.field) {
			t.Errorf("%s: field %q, want %q (%s)", c.payment, p.Field, c.field, p.Detail)
		}
	}
	const key = "sk_test_0123456789secret"
	r := e.must(201, "POST", "/api/v1/admin/campaigns", root, `{"name":"Pay","settings":{"payment":{"kind":"stripe","currency":"GBP","api_key":"`+key+`"}}}`)
	if strings.Contains(string(r.body), key) {
		t.Fatalf("create returned the key: %s", r.body)
	}
	var created struct{ ID int64 }
	r.json(t, &created)
	path := "/api/v1/admin/campaigns/" + strconv.FormatInt(created.ID, 10)
	for _, p := range []string{path, "/api/v1/admin/campaigns"} {
		if b := e.must(200, "GET", p, root, "").body; strings.Contains(string(b), key) || !strings.Contains(string(b), `"api_key":"********"`) {
			t.Fatalf("GET %s shows the key or no mask: %s", p, b)
		}
	}
	// Saving the masked settings back (as the admin page does) keeps the key.
	e.must(200, "PUT", path, root, `{"name":"Pay 2","settings":{"payment":{"kind":"stripe","currency":"GBP","api_key":"********"}}}`)
	var stored string
	e.DB.Raw(`SELECT settings->'payment'->>'api_key' FROM campaigns WHERE id = ?`, created.ID).Scan(&stored)
	if stored != key {
		t.Fatalf("stored key %q after saving the mask back", stored)
	}
	// An endpoint written to the database directly is still refused when a
	// gateway is built for a call.
	gw := api.PaymentGateway(nil)
	if _, _, err := gw(&cti.Campaign{Settings: []byte(`{"payment":{"kind":"stripe","currency":"GBP","api_key":"sk_test_abcdefgh","base_url":"https://evil.example.com"}}`)}); err == nil {
		t.Fatal("a gateway off the allow-list was built")
	}
	if _, _, err := gw(&cti.Campaign{Settings: []byte(`{"payment":{"kind":"stripe","currency":"GBP","api_key":"sk_test_abcdefgh"}}`)}); err != nil {
		t.Fatalf("the default Stripe endpoint: %v", err)
	}
}
