package api_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLoginValidationAndErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, c := range []struct {
		body, field string
		status      int
	}{
		{`{"password":"x"}`, "username", 400},
		{`{"username":"","password":"x"}`, "username", 400},
		{`{"username":"alice"}`, "password", 400},
		{`{"username":"alice","password":""}`, "password", 400},
		{`{"username":"alice","password":"x","extra":1}`, "extra", 400},
		{`{"username":7,"password":"x"}`, "username", 400},
	} {
		p := e.must(c.status, "POST", "/api/v1/auth/login", "", c.body).problem(t)
		if p.Field != c.field || !strings.Contains(p.Detail, c.field) {
			t.Errorf("%s: field %q detail %q, want %s", c.body, p.Field, p.Detail, c.field)
		}
	}
	wrong := e.must(401, "POST", "/api/v1/auth/login", "", `{"username":"alice","password":"nope"}`).problem(t)
	unknown := e.must(401, "POST", "/api/v1/auth/login", "", `{"username":"mallory","password":"nope"}`).problem(t)
	if wrong.Detail != "invalid username or password" || unknown.Detail != wrong.Detail {
		t.Fatalf("login errors must not tell which was wrong: %q / %q", wrong.Detail, unknown.Detail)
	}
	r := e.must(200, "POST", "/api/v1/auth/login", "", `{"username":"alice","password":"`+password+`"}`)
	var lr struct {
		Token     string
		ExpiresAt time.Time
		User      struct {
			ID             int64
			Username, Role string
			DisplayName    string
		}
	}
	r.json(t, &lr)
	if len(lr.Token) < 40 || lr.User.Username != "alice" || lr.User.Role != "agent" || lr.User.DisplayName != "Alice" {
		t.Fatalf("login response %s", r.body)
	}
	if d := lr.ExpiresAt.Sub(e.clock.Now()); d < 11*time.Hour || d > 13*time.Hour {
		t.Fatalf("token lifetime %v, want 12 h", d)
	}
	// The token is stored hashed, never as is.
	var n int64
	e.DB.Raw(`SELECT count(*) FROM auth_sessions WHERE token_hash = ?`, lr.Token).Scan(&n)
	if n != 0 {
		t.Fatal("token stored in clear")
	}
	if got := e.snapshot(lr.Token); got.Username != "alice" {
		t.Fatalf("snapshot of %s", got.Username)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{})
	bad := `{"username":"alice","password":"wrong"}`
	for i := 0; i < 5; i++ {
		e.must(401, "POST", "/api/v1/auth/login", "", bad)
	}
	r := e.must(429, "POST", "/api/v1/auth/login", "", bad)
	r.problem(t)
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 300 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Even the right password is refused while limited.
	e.must(429, "POST", "/api/v1/auth/login", "", `{"username":"ALICE","password":"`+password+`"}`)
	// Another user from the same address is not affected (per-IP limit is higher).
	e.login("bob")
	e.clock.Add(5*time.Minute + time.Second)
	e.login("alice")

	// Per IP: many usernames from one address.
	e2 := newEnv(t, envOptions{})
	for i := 0; i < 50; i++ {
		e2.must(401, "POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"username":"u%d","password":"x"}`, i))
	}
	e2.must(429, "POST", "/api/v1/auth/login", "", `{"username":"alice","password":"`+password+`"}`)
}

func TestTokenRevokeExpiryAndHeader(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice")
	e.must(200, "GET", "/api/v1/agent", tok, "")
	for _, h := range []string{"", "Basic abc", "Bearer", "Bearer " + tok + "x", "Token " + tok} {
		r := e.doHdr("GET", "/api/v1/agent", "", "", map[string]string{"Authorization": h})
		if r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("Authorization %q → %d %s", h, r.StatusCode, r.body)
		}
		r.problem(t)
	}
	// Tokens are not accepted in the URL or as cookies.
	e.must(401, "GET", "/api/v1/agent?access_token="+tok, "", "")
	e.must(204, "POST", "/api/v1/auth/logout", tok, "")
	e.must(401, "GET", "/api/v1/agent", tok, "")
	e.must(401, "POST", "/api/v1/auth/logout", tok, "")

	tok = e.login("alice")
	e.clock.Add(12*time.Hour + time.Second)
	e.must(401, "GET", "/api/v1/agent", tok, "")

	// Disabling a user kills their sessions.
	tok = e.login("bob")
	root := e.login("root")
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/admin/users/%d", e.ids["bob"]), root, "")
	e.must(401, "GET", "/api/v1/agent", tok, "")
	e.must(401, "POST", "/api/v1/auth/login", "", `{"username":"bob","password":"`+password+`"}`)
}

func TestWebsocketTicketIsOneTimeAndShortLived(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice")
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	tk := e.ticket(tok)
	hdr := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	// Plain GET: 426.
	e.must(426, "GET", "/api/v1/ws?ticket="+tk, "", "")
	e.doHdr("GET", "/api/v1/ws?ticket=bogus", "", "", hdr).problem(t)
	if r := e.doHdr("GET", "/api/v1/ws?ticket=bogus", "", "", hdr); r.StatusCode != 401 {
		t.Fatalf("bogus ticket → %d", r.StatusCode)
	}
	if r := e.doHdr("GET", "/api/v1/ws?ticket="+tk+"&after=x", "", "", hdr); r.StatusCode != 400 {
		t.Fatalf("bad after → %d", r.StatusCode)
	}
	c := e.dialWS(tok, 0)
	c.next("hello")
	// Ticket expiry.
	tk = e.ticket(tok)
	e.clock.Add(31 * time.Second)
	if r := e.doHdr("GET", "/api/v1/ws?ticket="+tk, "", "", hdr); r.StatusCode != 401 {
		t.Fatalf("expired ticket → %d", r.StatusCode)
	}
	// Admins have no agent feed.
	e.must(403, "POST", "/api/v1/auth/ws-ticket", e.login("root"), "")
}

// route is one endpoint for the authorisation matrix.
type route struct {
	method, path, body string
	roles              string // roles allowed: a=agent s=supervisor A=admin, "*" any authenticated
}

func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	camp := id(e.campaign)
	routes := []route{
		{"POST", "/api/v1/auth/logout", "", "*"},
		{"POST", "/api/v1/auth/ws-ticket", "", "as"},
		{"GET", "/api/v1/pause-reasons", "", "*"},
		{"GET", "/api/v1/agent", "", "as"},
		{"POST", "/api/v1/agent/login", "", "as"},
		{"POST", "/api/v1/agent/connect", `{"mode":"system_calls","persistent":false}`, "as"},
		{"POST", "/api/v1/agent/ready", "", "as"},
		{"POST", "/api/v1/agent/pause", `{"reason":"Break"}`, "as"},
		{"POST", "/api/v1/agent/calls", `{"number":"02079460123","campaignId":null}`, "as"},
		{"POST", "/api/v1/agent/hangup", "", "as"},
		{"POST", "/api/v1/agent/decline", "", "as"},
		{"PUT", "/api/v1/agent/calls/nope/notes", `{"notes":"x"}`, "as"},
		{"POST", "/api/v1/agent/wrap", `{"code":"SALE"}`, "as"},
		{"POST", "/api/v1/agent/wrap/extend", "", "as"},
		{"POST", "/api/v1/agent/logout", `{"reason":"Break"}`, "as"},
		{"GET", "/api/v1/supervisor/snapshot", "", "sA"},
		{"GET", "/api/v1/admin/campaigns", "", "A"},
		{"POST", "/api/v1/admin/campaigns", `{"name":""}`, "A"},
		{"GET", "/api/v1/admin/campaigns/" + camp, "", "A"},
		{"PUT", "/api/v1/admin/campaigns/999999", `{"name":"x"}`, "A"},
		{"DELETE", "/api/v1/admin/campaigns/999999", "", "A"},
		{"GET", "/api/v1/admin/users", "", "A"},
		{"POST", "/api/v1/admin/users", `{"username":""}`, "A"},
		{"GET", "/api/v1/admin/users/" + id(e.ids["alice"]), "", "A"},
		{"PATCH", "/api/v1/admin/users/999999", `{"displayName":"x"}`, "A"},
		{"DELETE", "/api/v1/admin/users/999999", "", "A"},
		{"GET", "/api/v1/admin/pause-reasons", "", "A"},
		{"POST", "/api/v1/admin/pause-reasons", `{"name":""}`, "A"},
		{"PUT", "/api/v1/admin/pause-reasons/999999", `{"name":"x"}`, "A"},
		{"DELETE", "/api/v1/admin/pause-reasons/999999", "", "A"},
		{"GET", "/api/v1/admin/workflows", "", "A"},
		{"POST", "/api/v1/admin/workflows", `{"name":""}`, "A"},
		{"GET", "/api/v1/admin/workflows/999999", "", "A"},
		{"PUT", "/api/v1/admin/workflows/999999", `{"name":"x","context":"c"}`, "A"},
		{"DELETE", "/api/v1/admin/workflows/999999", "", "A"},
		{"GET", "/api/v1/admin/phones", "", "A"},
		{"POST", "/api/v1/admin/phones", `{"extension":""}`, "A"},
		{"GET", "/api/v1/admin/phones/999999", "", "A"},
		{"PATCH", "/api/v1/admin/phones/999999", `{"label":"x"}`, "A"},
		{"POST", "/api/v1/admin/phones/999999/secret", "", "A"},
		{"DELETE", "/api/v1/admin/phones/999999", "", "A"},
		{"GET", "/api/v1/admin/users/999999/phone-policy", "", "A"},
		{"PUT", "/api/v1/admin/users/999999/phone-policy", `{"outsideNumbers":false}`, "A"},
		{"POST", "/api/v1/agent/transfer", `{"type":"number","target":"02079460123"}`, "as"},
		{"POST", "/api/v1/agent/transfer/complete", "", "as"},
		{"POST", "/api/v1/agent/transfer/merge", "", "as"},
		{"POST", "/api/v1/agent/transfer/cancel", "", "as"},
		{"POST", "/api/v1/agent/conference/leave", "", "as"},
		{"POST", "/api/v1/agent/conference/terminate", "", "as"},
		{"POST", "/api/v1/agent/recording/pause", "", "as"},
		{"POST", "/api/v1/agent/recording/resume", "", "as"},
		{"POST", "/api/v1/agent/bookmarks", `{"note":"x"}`, "as"},
		{"POST", "/api/v1/agent/announcements/1/play", "", "as"},
		{"POST", "/api/v1/agent/announcements/stop", "", "as"},
		{"POST", "/api/v1/agent/payment/start", "", "as"},
		{"POST", "/api/v1/agent/payment/reset-card", "", "as"},
		{"POST", "/api/v1/agent/payment/reset-cvv", "", "as"},
		{"POST", "/api/v1/agent/payment/submit", `{"reference":"R","expiry":"12/39","cardholderName":"A","amount":"1.00"}`, "as"},
		{"POST", "/api/v1/agent/payment/exit", "", "as"},
		{"POST", "/api/v1/agent/preview/dial", `{"number":"02079460123"}`, "as"},
		{"POST", "/api/v1/agent/preview/skip", `{"reason":"x"}`, "as"},
		{"GET", "/api/v1/recordings", "", "*"},
		{"GET", "/api/v1/recordings/nope/file", "", "*"},
		{"GET", "/api/v1/admin/campaigns/" + camp + "/announcements", "", "A"},
		{"POST", "/api/v1/admin/campaigns/999999/announcements", `{"name":"x","media":"sound:beep"}`, "A"},
		{"DELETE", "/api/v1/admin/campaigns/999999/announcements/999999", "", "A"},
		{"POST", "/api/v1/admin/campaigns/999999/leads", "", "A"},
		{"GET", "/api/v1/admin/campaigns/" + camp + "/lead-lists", "", "A"},
		{"GET", "/api/v1/admin/lead-imports/nope", "", "A"},
		{"GET", "/api/v1/admin/campaigns/999999/dialer/compliance", "", "A"},
		{"POST", "/api/v1/admin/dnc", `{"numbers":[]}`, "A"},
		{"DELETE", "/api/v1/admin/dnc", `{"numbers":[]}`, "A"},
		{"GET", "/api/v1/agent/callbacks", "", "as"},
		{"POST", "/api/v1/agent/callbacks", `{"dueAt":"2020-01-01T00:00:00Z"}`, "as"},
		{"DELETE", "/api/v1/agent/callbacks/999999", "", "as"},
		{"GET", "/api/v1/callbacks", "", "sA"},
	}
	routes = append(routes, supervisionRoutes(e)...) // history, reports, floor (supervision_auth_test.go)
	routes = append(routes, deskAuthRoutes()...)     // in-call controls, directory, quick connects (desk_test.go)
	// Every route the server has is in the matrix (public ones excepted).
	// The dialplan's routes authenticate with the shared dialplan secret
	// instead of a bearer token (TestDialplanCallback).
	public := map[string]bool{"POST /api/v1/auth/login": true, "GET /api/v1/ws": true, "GET /api/v1/openapi.json": true,
		"GET /api/v1/supervisor/ws":      true,
		"POST /api/v1/dialplan/callback": true}
	have := map[string]bool{}
	for _, r := range routes {
		have[r.method+" "+strings.Replace(r.path, "/nope/", "/:id/", 1)] = true
	}
	for _, r := range e.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == "HEAD" || public[r.Method+" "+r.Path] {
			continue
		}
		p := r.Path
		if strings.Contains(p, "/:") {
			found := false
			for k := range have {
				if strings.HasPrefix(k, r.Method+" ") && matchParam(strings.TrimPrefix(k, r.Method+" "), p) {
					found = true
				}
			}
			if found {
				continue
			}
		}
		if !have[r.Method+" "+p] {
			t.Errorf("route %s %s is not in the authorisation matrix", r.Method, p)
		}
	}
	roles := map[string]string{"agent": "a", "supervisor": "s", "admin": "A"}
	users := map[string]string{"agent": "alice", "supervisor": "sue", "admin": "root"}
	for _, r := range routes {
		if got := e.do(r.method, r.path, "", r.body); got.StatusCode != 401 {
			t.Errorf("unauthenticated %s %s → %d, want 401", r.method, r.path, got.StatusCode)
		} else {
			got.problem(t)
		}
		for role, letter := range roles {
			if r.path == "/api/v1/auth/logout" {
				continue // would revoke the shared token; covered in the revoke test
			}
			tok := e.login(users[role])
			got := e.do(r.method, r.path, tok, r.body)
			allowed := r.roles == "*" || strings.Contains(r.roles, letter)
			// A 403 from the role check (not from the agent's profile).
			roleDenied := got.StatusCode == 403 && strings.Contains(string(got.body), " role")
			switch {
			case allowed && (got.StatusCode == 401 || roleDenied):
				t.Errorf("%s %s as %s → %d, want allowed: %s", r.method, r.path, role, got.StatusCode, got.body)
			case !allowed && !roleDenied:
				t.Errorf("%s %s as %s → %d, want 403", r.method, r.path, role, got.StatusCode)
			case !allowed:
				got.problem(t)
			}
		}
	}
}

func matchParam(concrete, pattern string) bool {
	a, b := strings.Split(concrete, "/"), strings.Split(pattern, "/")
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if b[i] != a[i] && !strings.HasPrefix(b[i], ":") {
			return false
		}
	}
	return true
}
