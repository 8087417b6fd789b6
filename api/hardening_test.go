package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
)

// Item 1 of the security review: control characters and invalid text are
// refused at the API edge with a 400 naming the field, for every free-text
// field, before anything reaches the record writer.
func TestControlCharactersAreRefusedNamingTheField(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *api.Options) { o.DialplanSecret = "a-dialplan-secret-of-some-length" }})
	alice, root := e.login("alice"), e.login("root")
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	cases := []struct {
		method, path, tok, body, field string
	}{
		{"POST", "/api/v1/auth/login", "", `{"username":"ali\u0000ce","password":"x"}`, "username"},
		{"PUT", "/api/v1/agent/calls/x/notes", alice, `{"notes":"a\u0000b"}`, "notes"},
		{"PUT", "/api/v1/agent/calls/x/notes", alice, `{"notes":"a\u007fb"}`, "notes"},
		{"PUT", "/api/v1/agent/calls/x/notes", alice, `{"notes":"a\u0085b"}`, "notes"},
		{"PUT", "/api/v1/agent/calls/x/notes", alice, `{"notes":"a\ud800b"}`, "notes"},
		{"PUT", "/api/v1/agent/calls/x/notes", alice, `{"notes":"a\udc00\ud800b"}`, "notes"},
		{"PUT", "/api/v1/agent/calls/x/notes", alice, "{\"notes\":\"a\xffb\"}", "notes"},
		{"PUT", "/api/v1/agent/calls/x/notes", alice, `{"notes":"` + strings.Repeat("n", 20001) + `"}`, "notes"},
		{"POST", "/api/v1/agent/bookmarks", alice, `{"note":"x\u0000"}`, "note"},
		{"POST", "/api/v1/agent/pause", alice, `{"reason":"Break\u0000"}`, "reason"},
		{"POST", "/api/v1/agent/pause", alice, `{"reason":"Break\n"}`, "reason"}, // one-line field
		{"POST", "/api/v1/agent/wrap", alice, `{"code":"SALE\u0001"}`, "code"},
		{"POST", "/api/v1/agent/calls", alice, `{"number":"07700\u0000900123"}`, "number"},
		{"POST", "/api/v1/agent/transfer", alice, `{"type":"agent","target":"\u001b[2J"}`, "target"},
		{"POST", "/api/v1/agent/callbacks", alice, `{"number":"07700900123","dueAt":"2030-01-01T10:00:00Z","note":"x\u0000"}`, "note"},
		{"POST", "/api/v1/admin/campaigns", root, `{"name":"C\u0000","dids":["1"]}`, "name"},
		{"POST", "/api/v1/admin/campaigns", root, `{"name":"C","wrapCodes":[{"code":"A","label":"ok"},{"code":"B","label":"b\u0000"}]}`, "wrapCodes[1].label"},
		{"POST", "/api/v1/admin/campaigns", root, `{"name":"C","settings":{"dialer":{"abandonMessage":"sound:x\u0000"}}}`, "settings.dialer.abandonMessage"},
		{"POST", "/api/v1/admin/campaigns", root, `{"name":"` + strings.Repeat("c", 1001) + `"}`, "name"},
		{"POST", "/api/v1/admin/users", root, `{"username":"eve","password":"a-long-password-1","displayName":"E\u0000"}`, "displayName"},
		{"PATCH", "/api/v1/admin/users/2", root, `{"displayName":"E\u0000"}`, "displayName"},
		{"POST", "/api/v1/admin/pause-reasons", root, `{"name":"Lunch\u0000"}`, "name"},
		{"POST", "/api/v1/admin/workflows", root, `{"name":"W\u0000","context":"c","extension":"s"}`, "name"},
		{"POST", "/api/v1/admin/campaigns/1/announcements", root, `{"name":"A\u0000","media":"sound:tt-monkeys"}`, "name"},
		{"POST", "/api/v1/admin/dnc", root, `{"numbers":["07700900123"],"reason":"r\u0000"}`, "reason"},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, c.tok, c.body)
		if r.StatusCode != 400 {
			t.Errorf("%s %s %.80q → %d, want 400: %s", c.method, c.path, c.body, r.StatusCode, r.body)
			continue
		}
		if p := r.problem(t); p.Field != c.field {
			t.Errorf("%s %s %.80q: field %q, want %q (%s)", c.method, c.path, c.body, p.Field, c.field, p.Detail)
		}
	}
	// A key is named too.
	if p := e.must(400, "POST", "/api/v1/admin/campaigns", root, `{"name":"C","settings":{"a\u0000":1}}`).problem(t); !strings.HasPrefix(p.Field, "settings.") {
		t.Errorf("bad key: field %q", p.Field)
	}
	// The dialplan's form-encoded requests and query parameters go through the same rule.
	req, _ := http.NewRequest("POST", e.base+"/api/v1/dialplan/callback", strings.NewReader("campaign=1&number=0770%00"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(api.DialplanSecretHeader, "a-dialplan-secret-of-some-length")
	if res, err := http.DefaultClient.Do(req); err != nil || (res.StatusCode != 400 && res.StatusCode != 503) {
		t.Errorf("dialplan form with NUL: %v %v", err, res)
	}
	if p := e.must(400, "GET", "/api/v1/recordings?interactionId=%00", alice, "").problem(t); p.Field != "interactionId" {
		t.Errorf("query NUL: field %q", p.Field)
	}
	e.must(400, "GET", "/api/v1/admin/lead-imports/a%00b", root, "")

	// Legitimate multi-line text and non-ASCII are accepted.
	e.must(404, "PUT", "/api/v1/agent/calls/x/notes", alice, `{"notes":"line 1\r\n\tline 2 – café 😀 \ud83d\ude00"}`)
	e.must(201, "POST", "/api/v1/admin/pause-reasons", root, `{"name":"Déjeuner ☕"}`)
}

// jsonRoutes lists every operation of the OpenAPI document that takes a
// JSON body, with the string properties of its schema.
type jsonRoute struct {
	method, path string
	fields       []string
	admin        bool
	anonymous    bool
}

func jsonRoutes(t testing.TB) []jsonRoute {
	var d struct {
		Paths map[string]map[string]struct {
			Security    *[]any `json:"security"`
			RequestBody *struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIDocument, &d); err != nil {
		t.Fatal(err)
	}
	docOnce.Do(loadDoc)
	var out []jsonRoute
	param := regexp.MustCompile(`\{[^}]+\}`)
	for p, ops := range d.Paths {
		for m, op := range ops {
			if op.RequestBody == nil {
				continue
			}
			media, ok := op.RequestBody.Content["application/json"]
			if !ok {
				continue
			}
			rt := jsonRoute{method: strings.ToUpper(m), path: param.ReplaceAllString(p, "1"),
				admin: strings.Contains(p, "/admin/"), anonymous: op.Security != nil && len(*op.Security) == 0}
			props, _ := resolve(media.Schema)["properties"].(map[string]any)
			for name := range props {
				rt.fields = append(rt.fields, name)
			}
			sort.Strings(rt.fields)
			out = append(out, rt)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].method+out[i].path < out[j].method+out[j].path })
	return out
}

// nasty are the values the fuzz target starts from: control characters,
// invalid text, oversized strings.
var nasty = []string{"a\x00b", "\x01", "\x1b[2J", "\x7f", "\u0085", "\u009b", "\ufeff", "\u202e", "a\r\nb", "\t",
	strings.Repeat("x", 1001), strings.Repeat("é", 20001), strings.Repeat("\x00", 300), "\xff\xfe", "\xed\xa0\x80"}

// FuzzEveryJSONRoute sends every JSON route of the OpenAPI document (as
// the role it needs) a body whose string fields hold the fuzzed value,
// raw or as a lone surrogate escape: the server answers anything but a
// 500.
func FuzzEveryJSONRoute(f *testing.F) {
	for i := range 64 {
		for _, v := range nasty {
			f.Add(uint8(i), v, false)
		}
		f.Add(uint8(i), `\ud800`, true)
	}
	e := newEnv(f, envOptions{tune: func(o *api.Options) { o.DialplanSecret = "a-dialplan-secret-of-some-length" }})
	routes := jsonRoutes(f)
	alice, root := e.login("alice"), e.login("root")
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	f.Fuzz(func(t *testing.T, which uint8, value string, rawEscape bool) {
		rt := routes[int(which)%len(routes)]
		fuzzRoute(t, e, rt, value, rawEscape, alice, root)
	})
}

func fuzzRoute(t testing.TB, e *env, rt jsonRoute, value string, rawEscape bool, alice, root string) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range rt.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		if rawEscape || !utf8.ValidString(value) {
			fmt.Fprintf(&b, "%q:\"%s\"", f, value) // as it is: escapes, invalid UTF-8
		} else {
			v, _ := json.Marshal(value)
			fmt.Fprintf(&b, "%q:%s", f, v)
		}
	}
	b.WriteByte('}')
	tok := alice
	if rt.admin {
		tok = root
	}
	req, _ := http.NewRequest(rt.method, e.base+rt.path, strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "application/json")
	if !rt.anonymous {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set(api.DialplanSecretHeader, "a-dialplan-secret-of-some-length")
	res, err := http.DefaultClient.Do(req)
	if err != nil && b.Len() > 64<<10 {
		return // refused (413) before the client finished sending it
	}
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 500 && res.StatusCode != 503 {
		t.Fatalf("%s %s %.200q → %d", rt.method, rt.path, b.String(), res.StatusCode)
	}
}

// The fuzz corpus over every JSON route while another agent works: no 500,
// and bob's state changes still reach the database within a second each
// (the record writer never stalls).
func TestEveryJSONRouteWithBadTextWhileAnotherAgentWorks(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *api.Options) { o.DialplanSecret = "a-dialplan-secret-of-some-length" }})
	routes := jsonRoutes(t)
	if len(routes) < 40 {
		t.Fatalf("only %d JSON routes in the document", len(routes))
	}
	alice, root, bob := e.login("alice"), e.login("root"), e.login("bob")
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	e.must(200, "POST", "/api/v1/agent/login", bob, "")
	e.Double.Script("PJSIP/1002", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	e.must(200, "POST", "/api/v1/agent/connect", bob, `{"mode":"system_calls","number":"1002","persistent":true}`)
	e.waitState(bob, cti.AgentPaused)

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, rt := range routes {
			for _, v := range nasty {
				fuzzRoute(t, e, rt, v, false, alice, root)
			}
			fuzzRoute(t, e, rt, `\ud800`, true, alice, root)
		}
		close(done)
	}()
	var worst time.Duration
	rows := func() (n int64) {
		e.DB.Raw(`SELECT count(*) FROM agent_state_history WHERE user_id = ?`, e.ids["bob"]).Scan(&n)
		return n
	}
	for i := 0; ; i++ {
		before := rows()
		next := "/api/v1/agent/ready"
		body := ""
		if i%2 == 1 {
			next, body = "/api/v1/agent/pause", `{"reason":"Break"}`
		}
		start := time.Now()
		e.must(200, "POST", next, bob, body)
		for rows() <= before {
			if time.Since(start) > 20*time.Second {
				t.Fatal("bob's state change never reached the database")
			}
			time.Sleep(5 * time.Millisecond)
		}
		worst = max(worst, time.Since(start))
		select {
		case <-done:
			wg.Wait()
			if worst > time.Second {
				t.Fatalf("bob's record took up to %v to land", worst)
			}
			t.Logf("%d routes × %d values; bob's records landed within %v", len(routes), len(nasty)+1, worst)
			return
		default:
		}
	}
}
