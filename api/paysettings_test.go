package api_test

import (
	"context"
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
	// The key is stored sealed, never in clear (a dump of the database
	// does not hold it).
	storedKey := func() string {
		var k string
		e.DB.Raw(`SELECT settings->'payment'->>'api_key' FROM campaigns WHERE id = ?`, created.ID).Scan(&k)
		return k
	}
	var dump string
	e.DB.Raw(`SELECT settings::text FROM campaigns WHERE id = ?`, created.ID).Scan(&dump)
	if strings.Contains(dump, key) || !api.IsSealed(storedKey()) {
		t.Fatalf("stored settings %s hold the key in clear", dump)
	}
	if k, err := testBox.Open("campaign settings.payment.api_key", storedKey()); err != nil || k != key {
		t.Fatalf("the sealed key opens to %q, %v", k, err)
	}
	other, _ := api.NewSecretBox(strings.Repeat("another server's key ", 3))
	if _, err := other.Open("campaign settings.payment.api_key", storedKey()); err == nil {
		t.Fatal("another CTID_SECRET_KEY opened the key")
	}
	// Saving the masked settings back (as the admin page does) keeps the key.
	e.must(200, "PUT", path, root, `{"name":"Pay 2","settings":{"payment":{"kind":"stripe","currency":"GBP","api_key":"********"}}}`)
	if k, err := testBox.Open("campaign settings.payment.api_key", storedKey()); err != nil || k != key {
		t.Fatalf("stored key %q (%v) after saving the mask back", k, err)
	}
	// The engine's gateway opens it.
	var settings string
	e.DB.Raw(`SELECT settings::text FROM campaigns WHERE id = ?`, created.ID).Scan(&settings)
	if _, _, err := api.PaymentGateway(nil, testBox)(&cti.Campaign{Settings: []byte(settings)}); err != nil {
		t.Fatalf("gateway from the sealed key: %v", err)
	}
	if _, _, err := api.PaymentGateway(nil, nil)(&cti.Campaign{Settings: []byte(settings)}); err == nil || !strings.Contains(err.Error(), "CTID_SECRET_KEY") {
		t.Fatalf("a server without the key built the gateway: %v", err)
	}
	// A key stored in clear before sealing existed is still used, and is
	// sealed at start-up.
	e.DB.Exec(`UPDATE campaigns SET settings = jsonb_set(settings, '{payment,api_key}', to_jsonb(?::text)) WHERE id = ?`, key, created.ID)
	if n, err := api.SealPaymentKeys(context.Background(), e.DB, nil); err != nil || n != 1 {
		t.Fatalf("counting clear keys: %d, %v", n, err)
	}
	if n, err := api.SealPaymentKeys(context.Background(), e.DB, testBox); err != nil || n != 1 {
		t.Fatalf("sealing clear keys: %d, %v", n, err)
	}
	if k, err := testBox.Open("campaign settings.payment.api_key", storedKey()); err != nil || k != key || !api.IsSealed(storedKey()) {
		t.Fatalf("after sealing at start-up: %q %v", storedKey(), err)
	}
	if n, _ := api.SealPaymentKeys(context.Background(), e.DB, testBox); n != 0 {
		t.Fatalf("sealed %d keys a second time", n)
	}
	// An endpoint written to the database directly is still refused when a
	// gateway is built for a call.
	gw := api.PaymentGateway(nil, testBox)
	if _, _, err := gw(&cti.Campaign{Settings: []byte(`{"payment":{"kind":"stripe","currency":"GBP","api_key":"sk_test_abcdefgh","base_url":"https://evil.example.com"}}`)}); err == nil {
		t.Fatal("a gateway off the allow-list was built")
	}
	if _, _, err := gw(&cti.Campaign{Settings: []byte(`{"payment":{"kind":"stripe","currency":"GBP","api_key":"sk_test_abcdefgh"}}`)}); err != nil {
		t.Fatalf("the default Stripe endpoint: %v", err)
	}
}

// A server without CTID_SECRET_KEY refuses to store a gateway key (it
// would have to keep it in clear) and still takes the sandbox.
func TestPaymentKeyNeedsSecretKey(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *api.Options) { o.SecretBox = nil }})
	root := e.login("root")
	p := e.must(400, "POST", "/api/v1/admin/campaigns", root, `{"name":"Pay","settings":{"payment":{"kind":"stripe","currency":"GBP","api_key":"sk_test_0123456789secret"}}}`).problem(t)
	if p.Field != "settings.payment.api_key" || !strings.Contains(p.Detail, "CTID_SECRET_KEY") {
		t.Fatalf("problem %+v", p)
	}
	var n int64
	e.DB.Raw(`SELECT count(*) FROM campaigns WHERE settings::text LIKE '%sk_test_0123456789secret%'`).Scan(&n)
	if n != 0 {
		t.Fatal("the key was stored")
	}
	e.must(201, "POST", "/api/v1/admin/campaigns", root, `{"name":"Sandbox","settings":{"payment":{"kind":"sandbox","currency":"GBP"}}}`)
}
