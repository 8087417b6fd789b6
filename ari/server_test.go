package ari

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeARI is a minimal ARI server for this package's tests: it records REST
// requests, answers them from a table, serves /asterisk/info and accepts the
// event websocket so tests can push events and drop connections.
type fakeARI struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	reqs      []recorded
	replies   map[string]reply // "METHOD /path" → reply
	startup   string
	entityID  string
	conns     []*websocket.Conn
	connected chan *websocket.Conn
	noPong    bool // do not read (so never answer pings) on new websockets
}

type recorded struct {
	Method, Path, Query, Body string
}

type reply struct {
	Status int
	Body   string
}

func newFakeARI(t testing.TB) *fakeARI {
	f := &fakeARI{
		t:         t,
		replies:   map[string]reply{},
		startup:   "2025-03-14T09:00:00.000+0000",
		entityID:  "02:42:ac:11:00:02",
		connected: make(chan *websocket.Conn, 16),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.dropAll()
		f.srv.Close()
	})
	return f
}

var upgrader = websocket.Upgrader{}

func (f *fakeARI) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/ari")
	if path == "/events" {
		if r.URL.Query().Get("api_key") != "u:p" || r.URL.Query().Get("app") != "ctid" {
			http.Error(w, `{"error":"Authentication required"}`, http.StatusUnauthorized)
			return
		}
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, ws)
		noPong := f.noPong
		f.mu.Unlock()
		if !noPong {
			go func() { // reading answers pings with pongs
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
		}
		f.connected <- ws
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
		http.Error(w, `{"error":"Authentication required"}`, http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, path, r.URL.RawQuery, string(body)})
	rep, ok := f.replies[r.Method+" "+path]
	startup, entity := f.startup, f.entityID
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok && r.Method == http.MethodGet && path == "/asterisk/info" {
		fmt.Fprintf(w, `{"system":{"version":"22.10.1","entity_id":%q},"status":{"startup_time":%q,"last_reload_time":%q}}`,
			entity, startup, startup)
		return
	}
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(rep.Status)
	io.WriteString(w, rep.Body)
}

func (f *fakeARI) reply(methodPath string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[methodPath] = reply{status, body}
}

func (f *fakeARI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeARI) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = nil
}

// dropAll closes every websocket without a close handshake.
func (f *fakeARI) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.NetConn().Close()
	}
	f.conns = nil
}

// waitConn waits for the client's next websocket.
func (f *fakeARI) waitConn() *websocket.Conn {
	f.t.Helper()
	select {
	case ws := <-f.connected:
		return ws
	case <-time.After(5 * time.Second):
		f.t.Fatal("client did not connect")
		return nil
	}
}

func (f *fakeARI) config() Config {
	cfg := Config{
		URL: f.srv.URL, Username: "u", Password: "p", App: "ctid",
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return cfg
}

func (f *fakeARI) client(mod ...func(*Config)) *Client {
	f.t.Helper()
	cfg := f.config()
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// nextEvent waits for the next event on c.
func nextEvent(t testing.TB, c *Client) Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatal("events channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return nil
	}
}

func runClient(t testing.TB, c *Client) (cancel func()) {
	ctx, cancelCtx := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancelCtx()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
