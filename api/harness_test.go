package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

func TestMain(m *testing.M) {
	postgres.PasswordParams.Memory = 1024 // fast hashes in tests
	postgres.PasswordParams.Time = 1
	pgtest.Main(m)
}

const (
	did      = "+441234567890"
	password = "password-1"
)

// clock is a settable clock for tokens, tickets and rate limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is the whole stack: Postgres, the Asterisk double, the ARI client,
// the engine and the API on a real listener.
type env struct {
	*ctitest.Stack
	t        testing.TB
	srv      *api.Server
	base     string
	clock    *clock
	admin    *postgres.Admin
	ids      map[string]int64 // username → id
	campaign int64
	ready    error
}

// testBox seals the payment keys the tests' campaigns store.
var testBox, _ = api.NewSecretBox("test secret key: thirty-two characters or more")

type envOptions struct {
	// fakeClock drives the engine and the double (ctitest.Options.FakeClock).
	fakeClock *aritest.FakeClock
	// eventLag gets the engine's ARI event lag (ctitest.Options.EventLag).
	eventLag  func(typ string, d time.Duration)
	heartbeat time.Duration
	tune      func(*api.Options)
	feed      *cti.Feed
	sndbuf    int // small server send buffers, to make slow clients show quickly
}

func newEnv(t testing.TB, eo envOptions) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now()}, ids: map[string]int64{}}
	e.Stack = ctitest.Start(t, ctitest.Options{FakeClock: eo.fakeClock, EventLag: eo.eventLag, Tune: func(o *cti.Options) {
		if eo.feed != nil {
			o.Feed = eo.feed
		}
	}})
	ctx := context.Background()
	e.admin = postgres.NewAdmin(e.DB)
	for _, u := range []struct {
		name  string
		role  cti.Role
		phone string
	}{{"alice", cti.RoleAgent, "1001"}, {"bob", cti.RoleAgent, "1002"}, {"sue", cti.RoleSupervisor, "1003"}, {"root", cti.RoleAdmin, ""}} {
		acc, err := e.admin.CreateUser(ctx, postgres.NewUser{Username: u.name, Password: password, DisplayName: strings.ToUpper(u.name[:1]) + u.name[1:],
			Role: u.role, DefaultPhone: u.phone, ManualCallWhenPaused: true})
		if err != nil {
			t.Fatal(err)
		}
		e.ids[u.name] = acc.ID
	}
	c, err := e.admin.CreateCampaign(ctx, postgres.CampaignRecord{Name: "Sales", PlatformNumber: did, DIDs: []string{did},
		WrapCodes: []cti.WrapCode{{Code: "SALE", Label: "Sale"}, {Code: "NOSALE", Label: "No sale"}},
		AgentIDs:  []int64{e.ids["alice"], e.ids["bob"], e.ids["sue"]}})
	if err != nil {
		t.Fatal(err)
	}
	e.campaign = c.ID
	if err := e.Engine.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	level := slog.LevelError
	if os.Getenv("CTID_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	o := api.Options{Engine: e.Engine, DB: e.DB, Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Ready: func(context.Context) error { return e.ready }, CORSOrigins: []string{"https://crm.example.com"},
		FrameAncestors: []string{"https://*.lightning.force.com"}, Now: e.clock.Now, Heartbeat: eo.heartbeat,
		Recordings: e.ARI.Recordings, SecretBox: testBox}
	if eo.tune != nil {
		eo.tune(&o)
	}
	e.srv = api.New(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if eo.sndbuf > 0 {
		ln = smallBufListener{ln.(*net.TCPListener), eo.sndbuf}
	}
	go e.srv.Serve(ln)
	e.base = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
	})
	return e
}

// resp is a response with its body read.
type resp struct {
	*http.Response
	body []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
}

func (r resp) problem(t testing.TB) api.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d content type %q, want application/problem+json: %s", r.StatusCode, ct, r.body)
	}
	var p api.Problem
	r.json(t, &p)
	if p.Status != r.StatusCode || p.Type == "" || p.Title == "" {
		t.Fatalf("bad problem %s", r.body)
	}
	return p
}

// do sends a request and checks the response against the OpenAPI document.
func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	return e.doHdr(method, path, token, body, nil)
}

func (e *env) doHdr(method, path, token, body string, hdr map[string]string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{res, b}
	if err := checkAgainstDoc(method, path, r); err != nil {
		e.t.Errorf("OpenAPI: %s %s → %d: %v\n%s", method, path, res.StatusCode, err, b)
	}
	if res.StatusCode >= 500 && res.StatusCode != 503 {
		e.t.Errorf("%s %s → %d: %s", method, path, res.StatusCode, b)
	}
	return r
}

// must expects a status.
func (e *env) must(status int, method, path, token, body string) resp {
	e.t.Helper()
	r := e.do(method, path, token, body)
	if r.StatusCode != status {
		e.t.Fatalf("%s %s %s → %d, want %d: %s", method, path, body, r.StatusCode, status, r.body)
	}
	return r
}

func (e *env) login(user string) string {
	e.t.Helper()
	r := e.must(200, "POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
	var lr struct{ Token string }
	r.json(e.t, &lr)
	return lr.Token
}

func (e *env) snapshot(tok string) cti.AgentSnapshot {
	e.t.Helper()
	var s cti.AgentSnapshot
	e.must(200, "GET", "/api/v1/agent", tok, "").json(e.t, &s)
	return s
}

// waitState polls the API until the agent is in state (15 s: what takes a
// moment alone can take seconds on a loaded machine).
func (e *env) waitState(tok string, st cti.AgentState) cti.AgentSnapshot {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := e.snapshot(tok)
		if s.State.State == st {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("agent %s in %s, want %s", s.Username, s.State.State, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// --- websocket client ----------------------------------------------------------

type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	msgs chan wsMsg
	done chan struct{}
	err  error
}

type wsMsg struct {
	Seq  uint64          `json:"seq"`
	Type string          `json:"type"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data"`
}

func (e *env) ticket(tok string) string {
	e.t.Helper()
	var tr struct{ Ticket, URL string }
	e.must(200, "POST", "/api/v1/auth/ws-ticket", tok, "").json(e.t, &tr)
	return tr.Ticket
}

func (e *env) dialWS(tok string, after uint64) *wsClient {
	e.t.Helper()
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/api/v1/ws?ticket=" + e.ticket(tok)
	if after > 0 {
		u += fmt.Sprintf("&after=%d", after)
	}
	conn, res, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		e.t.Fatalf("websocket: %v (%v)", err, res)
	}
	c := &wsClient{t: e.t, conn: conn, msgs: make(chan wsMsg, 1000), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				c.err = err
				close(c.msgs)
				return
			}
			var m wsMsg
			json.Unmarshal(b, &m)
			c.msgs <- m
		}
	}()
	e.t.Cleanup(func() { conn.Close(); <-c.done })
	return c
}

// next returns the next message of type typ, skipping others (pings),
// waiting up to 15 s.
func (c *wsClient) next(typ string) wsMsg {
	c.t.Helper()
	deadline := time.After(15 * time.Second)
	var seen []string
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("websocket closed waiting for %s (%v); saw %v", typ, c.err, seen)
			}
			if m.Type == typ {
				return m
			}
			seen = append(seen, m.Type)
		case <-deadline:
			c.t.Fatalf("no %s on the websocket; saw %v", typ, seen)
		}
	}
}

// --- OpenAPI checker -------------------------------------------------------------

var (
	docOnce sync.Once
	doc     map[string]any
	docErr  error
	docPath []struct {
		re   *regexp.Regexp
		path string
	}
)

func loadDoc() {
	docErr = json.Unmarshal(api.OpenAPIDocument, &doc)
	if docErr != nil {
		return
	}
	paths, _ := doc["paths"].(map[string]any)
	for p := range paths {
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$"
		docPath = append(docPath, struct {
			re   *regexp.Regexp
			path string
		}{regexp.MustCompile(re), p})
	}
	sort.Slice(docPath, func(i, j int) bool { return docPath[i].path < docPath[j].path })
}

func resolve(s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		s = doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
	}
}

// checkAgainstDoc finds the documented operation and response for a real
// response and checks its content type, required fields and basic types.
func checkAgainstDoc(method, path string, r resp) error {
	docOnce.Do(loadDoc)
	if docErr != nil {
		return docErr
	}
	if method == "OPTIONS" {
		return nil // CORS preflight
	}
	path, _, _ = strings.Cut(path, "?")
	var tmpl string
	for _, p := range docPath {
		if p.re.MatchString(path) {
			tmpl = p.path
		}
	}
	if tmpl == "" {
		if r.StatusCode == 404 || !strings.HasPrefix(path, "/api/") {
			return nil // static web pages, or a 404
		}
		return fmt.Errorf("path not in the document")
	}
	ops := doc["paths"].(map[string]any)[tmpl].(map[string]any)
	op, ok := ops[strings.ToLower(method)].(map[string]any)
	if !ok {
		if r.StatusCode == 404 || r.StatusCode == 405 {
			return nil
		}
		return fmt.Errorf("method not documented for %s", tmpl)
	}
	rs, ok := op["responses"].(map[string]any)[fmt.Sprint(r.StatusCode)].(map[string]any)
	if !ok {
		return fmt.Errorf("status %d not documented for %s %s", r.StatusCode, method, tmpl)
	}
	content, _ := rs["content"].(map[string]any)
	if len(content) == 0 {
		if len(bytes.TrimSpace(r.body)) != 0 {
			return fmt.Errorf("documented without a body, got %q", r.body)
		}
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	media, ok := content[mt].(map[string]any)
	if !ok {
		return fmt.Errorf("content type %q not documented", ct)
	}
	if mt == "text/plain" || !strings.Contains(mt, "json") {
		return nil // audio and other binary bodies: the content type was checked
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		return fmt.Errorf("body is not JSON: %v", err)
	}
	return checkSchema(media["schema"].(map[string]any), v, "$")
}

func checkSchema(s map[string]any, v any, at string) error {
	s = resolve(s)
	if v == nil {
		if n, _ := s["nullable"].(bool); n {
			return nil
		}
		return fmt.Errorf("%s is null", at)
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, v)
		}
		req, _ := s["required"].([]any)
		for _, f := range req {
			if _, ok := m[f.(string)]; !ok {
				return fmt.Errorf("%s: required field %q missing", at, f)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, pv := range m {
			if ps, ok := props[k].(map[string]any); ok {
				if err := checkSchema(ps, pv, at+"."+k); err != nil {
					return err
				}
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				if err := checkSchema(ap, pv, at+"."+k); err != nil {
					return err
				}
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, got %T", at, v)
		}
		for i, it := range l {
			if err := checkSchema(s["items"].(map[string]any), it, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, got %T", at, v)
		}
		if enum, ok := s["enum"].([]any); ok {
			found := false
			for _, x := range enum {
				found = found || x == str
			}
			if !found {
				return fmt.Errorf("%s: %q not in %v", at, str, enum)
			}
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: not a date-time: %q", at, str)
			}
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: want an integer, got %v", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want a boolean, got %T", at, v)
		}
	}
	return nil
}

type apiOptions = api.Options

func ctx() context.Context { return context.Background() }

type smallBufListener struct {
	*net.TCPListener
	size int
}

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.TCPListener.AcceptTCP()
	if err == nil {
		c.SetWriteBuffer(l.size)
	}
	return c, err
}
