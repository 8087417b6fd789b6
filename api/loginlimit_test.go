package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/api"
)

func loginFrom(e *env, user, pass, xff string) resp {
	e.t.Helper()
	return e.doHdr("POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass),
		map[string]string{"X-Forwarded-For": xff})
}

// Item 4: behind a trusted proxy each client is counted by its own
// address; without one, X-Forwarded-For is not believed.
func TestLoginLimiterCountsClientsBehindTrustedProxies(t *testing.T) {
	trusted, err := api.ParseTrustedProxies([]string{"127.0.0.1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{tune: func(o *api.Options) { o.TrustedProxies = trusted }})
	for i := 0; i < 50; i++ {
		if r := loginFrom(e, fmt.Sprintf("u%d", i), "x", "203.0.113.7, 10.1.2.3"); r.StatusCode != 401 {
			t.Fatalf("failure %d: %d", i, r.StatusCode)
		}
	}
	if r := loginFrom(e, "alice", password, "203.0.113.7"); r.StatusCode != 429 {
		t.Fatalf("the attacking client: %d, want 429", r.StatusCode)
	}
	if r := loginFrom(e, "bob", password, "198.51.100.9, 10.9.9.9"); r.StatusCode != 200 {
		t.Fatalf("another client behind the same proxy: %d, want 200", r.StatusCode)
	}
	// A forged header from a client that is not a proxy is ignored.
	e2 := newEnv(t, envOptions{})
	for i := 0; i < 50; i++ {
		loginFrom(e2, fmt.Sprintf("u%d", i), "x", fmt.Sprintf("203.0.113.%d", i))
	}
	if r := loginFrom(e2, "alice", password, "198.51.100.1"); r.StatusCode != 429 {
		t.Fatalf("forged X-Forwarded-For escaped the limit: %d", r.StatusCode)
	}
}

// Item 4: a username under attack is slowed down, never locked out: the
// right password works once the delay (at most 30 s) since the last
// failure has passed, however many failures there were; and the counts are
// in Postgres, so a restarted (or another) ctid sees them.
func TestLoginSlowDownNeverLocksOutTheRightPassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	for i := 0; i < 40; i++ {
		e.clock.Add(31 * time.Second)
		if r := loginFrom(e, "alice", "wrong", ""); r.StatusCode != 401 {
			t.Fatalf("failure %d: %d", i, r.StatusCode)
		}
	}
	r := loginFrom(e, "alice", password, "")
	if r.StatusCode != 429 {
		t.Fatalf("right after a failure: %d, want 429", r.StatusCode)
	}
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 30 {
		t.Fatalf("Retry-After %q, want 1..30", r.Header.Get("Retry-After"))
	}
	// Another ctid on the same database (or this one restarted) knows.
	other := api.New(api.Options{Engine: e.Engine, DB: e.DB, Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"alice","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	t.Cleanup(func() { other.Shutdown(context.Background()) })
	res, err := other.App().Test(req, -1)
	if err != nil || res.StatusCode != 429 {
		t.Fatalf("another instance: %v %v, want 429", err, res.StatusCode)
	}
	e.clock.Add(time.Duration(ra) * time.Second)
	e.login("alice")
	// A success clears the username's count: the next failure is a plain 401.
	e.must(401, "POST", "/api/v1/auth/login", "", `{"username":"alice","password":"wrong"}`)
	e.login("alice")
}
