package api_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
)

// Item 9: safer defaults at the API.
func TestHardenedDefaults(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *api.Options) {
		o.FrameAncestors = []string{"'self'", "https://*.lightning.force.com", "https://*.lightning.force.com"}
	}})
	root, alice := e.login("root"), e.login("alice")

	// CSP: script-src 'self' on the pages, each source once.
	r := e.must(200, "GET", "/adaptor/", "", "")
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Count(csp, "'self'") != 3 || strings.Count(csp, "lightning") != 2 {
		t.Errorf("page CSP %q", csp)
	}
	if csp := e.must(200, "GET", "/livez", "", "").Header.Get("Content-Security-Policy"); csp != "frame-ancestors 'self' https://*.lightning.force.com" {
		t.Errorf("API CSP %q", csp)
	}

	// A wrong method on an existing path is a 405 naming the right ones.
	r = e.do("DELETE", "/api/v1/auth/login", root, "")
	if r.StatusCode != 405 || r.Header.Get("Allow") != "POST" {
		t.Errorf("DELETE /auth/login → %d Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
	if r := e.do("PUT", "/api/v1/admin/users/2", root, "{}"); r.StatusCode != 405 || !strings.Contains(r.Header.Get("Allow"), "PATCH") {
		t.Errorf("PUT /admin/users/2 → %d Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
	e.must(404, "GET", "/api/v1/no-such-thing", root, "")

	// Admin passwords: at least 12 characters, never a common one.
	e.must(400, "POST", "/api/v1/admin/users", root, `{"username":"boss","password":"elevenchars","role":"admin"}`)
	e.must(400, "POST", "/api/v1/admin/users", root, `{"username":"boss","password":"password123","role":"agent"}`)
	e.must(400, "PATCH", "/api/v1/admin/users/"+strconv.FormatInt(e.ids["root"], 10), root, `{"password":"short-pass1"}`)
	e.must(201, "POST", "/api/v1/admin/users", root, `{"username":"boss","password":"a-long-admin-pass","role":"admin"}`)

	// abandonMessage is an Asterisk sound, like an announcement's media.
	p := e.must(400, "POST", "/api/v1/admin/campaigns", root, `{"name":"Out","kind":"outbound","settings":{"dialer":{"abandonMessage":"sound:../../etc/passwd"}}}`).problem(t)
	if p.Field != "settings.dialer.abandonMessage" {
		t.Errorf("abandonMessage: field %q (%s)", p.Field, p.Detail)
	}

	// Transfer targets: one sentence whether the user exists, is logged out or busy.
	e.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	e.must(200, "POST", "/api/v1/agent/connect", alice, `{"mode":"system_calls","number":"1001","persistent":true}`)
	e.waitState(alice, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/ready", alice, "")
	e.waitState(alice, cti.AgentReady)
	e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900123", did, nil)
	e.waitState(alice, cti.AgentOnCall)
	var details []string
	for _, target := range []string{"999", "nobody", strconv.FormatInt(e.ids["bob"], 10), "bob", strconv.FormatInt(e.ids["sue"], 10)} {
		r := e.do("POST", "/api/v1/agent/transfer", alice, `{"type":"agent","target":"`+target+`"}`)
		details = append(details, strconv.Itoa(r.StatusCode)+" "+r.problem(t).Detail+" "+r.problem(t).State)
	}
	for _, d := range details[1:] {
		if d != details[0] {
			t.Fatalf("transfer targets tell apart: %q", details)
		}
	}
}
