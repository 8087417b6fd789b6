package api_test

import (
	"testing"
	"time"

	"github.com/ctid/ctid/api"
)

// Item 7: wrong dialplan secrets are rate-limited per address, and a short
// secret turns the dialplan routes off.
func TestDialplanSecretGuessesAreLimited(t *testing.T) {
	const secret = "a-dialplan-secret-of-some-length"
	e := newEnv(t, envOptions{tune: func(o *api.Options) { o.DialplanSecret = secret }})
	path, body := "/api/v1/dialplan/callback", `{"campaign":"1","number":"02079460123"}`
	for i := 0; i < 10; i++ {
		if r := e.doHdr("POST", path, "", body, map[string]string{api.DialplanSecretHeader: "guess"}); r.StatusCode != 401 {
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	r := e.doHdr("POST", path, "", body, map[string]string{api.DialplanSecretHeader: secret})
	if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after 10 wrong guesses: %d, want 429 with Retry-After", r.StatusCode)
	}
	e.clock.Add(5*time.Minute + time.Second)
	if r := e.doHdr("POST", path, "", body, map[string]string{api.DialplanSecretHeader: secret}); r.StatusCode == 429 || r.StatusCode == 401 {
		t.Fatalf("the right secret after the window: %d", r.StatusCode)
	}

	short := newEnv(t, envOptions{tune: func(o *api.Options) { o.DialplanSecret = "short" }})
	if r := short.doHdr("POST", path, "", body, map[string]string{api.DialplanSecretHeader: "short"}); r.StatusCode != 404 {
		t.Fatalf("a 5-character secret: %d, want 404 (routes off)", r.StatusCode)
	}
}
