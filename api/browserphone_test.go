package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/cti/postgres"
)

// The browser phone's credentials go only to the phone's own user, with a
// fresh secret each time (the stored md5_cred changes, so an older
// registration or a copied secret stops working), marked no-store; an
// agent without a browser phone, or with only a desk phone, gets a clear
// 404; the secret never appears in the admin's phone list.
func TestBrowserPhoneCredentials(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *api.Options) { o.Desk.SIPWebsocketURL = "wss://pbx.example.com/ws" }})
	root, alice, bob := e.login("root"), e.login("alice"), e.login("bob")
	p := e.must(404, "POST", "/api/v1/agent/browser-phone", alice, "").problem(t)
	if !strings.Contains(p.Detail, "No browser phone is assigned to you") {
		t.Fatalf("no phone: %+v", p)
	}
	e.must(201, "POST", "/api/v1/admin/phones", root, fmt.Sprintf(`{"extension":"2601","kind":"desk","userId":%d}`, e.ids["alice"]))
	e.must(404, "POST", "/api/v1/agent/browser-phone", alice, "") // a desk phone is not a browser phone
	e.must(201, "POST", "/api/v1/admin/phones", root, fmt.Sprintf(`{"extension":"2602","kind":"browser","userId":%d}`, e.ids["alice"]))
	cred := func() (api.BrowserPhone, string) {
		r := e.must(200, "POST", "/api/v1/agent/browser-phone", alice, "")
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control %q", cc)
		}
		var b api.BrowserPhone
		r.json(t, &b)
		var md5 string
		e.DB.Raw(`SELECT sip_md5_cred FROM phones WHERE extension = '2602'`).Scan(&md5)
		return b, md5
	}
	b1, m1 := cred()
	if b1.Extension != "2602" || b1.WebsocketURL != "wss://pbx.example.com/ws" || b1.URI != "sip:2602@pbx.example.com" ||
		b1.AuthUser != "2602" || b1.Realm != postgres.PhoneRealm || len(b1.Password) < 16 {
		t.Fatalf("credentials %+v", b1)
	}
	if m1 != postgres.PhoneMD5Cred("2602", postgres.PhoneRealm, b1.Password) {
		t.Fatal("the stored md5_cred is not the returned secret's")
	}
	b2, m2 := cred()
	if b2.Password == b1.Password || m2 == m1 {
		t.Fatal("a second request kept the old secret")
	}
	e.must(404, "POST", "/api/v1/agent/browser-phone", bob, "") // alice's phone is not bob's
	if l := e.must(200, "GET", "/api/v1/admin/phones", root, ""); strings.Contains(string(l.body), b2.Password) {
		t.Fatal("the secret appears in the phone list")
	}
	e.must(400, "POST", "/api/v1/agent/browser-phone", alice, `{"x":1}`)
}
