package aritest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

type tc struct {
	t   testing.TB
	srv *Server
}

func newTC(t testing.TB, opts Options) *tc {
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return &tc{t: t, srv: s}
}

// call performs an ARI request; q is "k=v&k=v"; body may be nil.
func (c *tc) call(method, path, q string, body any) (int, map[string]any) {
	c.t.Helper()
	code, raw := c.raw(method, path, q, body)
	var m map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		json.Unmarshal(raw, &m)
	}
	return code, m
}

func (c *tc) raw(method, path, q string, body any) (int, []byte) {
	c.t.Helper()
	u := c.srv.URL() + "/ari" + path
	if q != "" {
		u += "?" + q
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth("ctid", "ctid")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c *tc) must(method, path, q string, want int) map[string]any {
	c.t.Helper()
	code, m := c.call(method, path, q, nil)
	if code != want {
		c.t.Fatalf("%s %s?%s = %d %v, want %d", method, path, q, code, m, want)
	}
	return m
}

type events struct {
	t  testing.TB
	ws *websocket.Conn
	ch chan map[string]any
}

func (c *tc) events(app string, subscribeAll bool) *events {
	c.t.Helper()
	u := strings.Replace(c.srv.URL(), "http://", "ws://", 1) + "/ari/events?api_key=ctid:ctid&app=" + url.QueryEscape(app)
	if subscribeAll {
		u += "&subscribeAll=true"
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		c.t.Fatalf("dial events: %v", err)
	}
	e := &events{t: c.t, ws: ws, ch: make(chan map[string]any, 100000)}
	go func() {
		defer close(e.ch)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				e.ch <- m
			}
		}
	}()
	c.t.Cleanup(func() { ws.Close() })
	// wait until the app is registered
	deadline := time.Now().Add(2 * time.Second)
	for !c.srv.AppActive(strings.Split(app, ",")[0]) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return e
}

// next returns the next event or fails after 2 s.
func (e *events) next() map[string]any {
	e.t.Helper()
	select {
	case m, ok := <-e.ch:
		if !ok {
			e.t.Fatalf("event stream closed")
		}
		return m
	case <-time.After(2 * time.Second):
		e.t.Fatalf("timeout waiting for event")
	}
	return nil
}

// wait skips events until one of type typ (for channel id if non-empty).
func (e *events) wait(typ, chanID string) map[string]any {
	e.t.Helper()
	for {
		m := e.next()
		if m["type"] == typ && (chanID == "" || evChan(m) == chanID) {
			return m
		}
	}
}

// quiet collects events until none arrives for d.
func (e *events) quiet(d time.Duration) []map[string]any {
	var out []map[string]any
	for {
		select {
		case m, ok := <-e.ch:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-time.After(d):
			return out
		}
	}
}

func evChan(m map[string]any) string {
	if c, ok := m["channel"].(map[string]any); ok {
		return c["id"].(string)
	}
	return ""
}

func types(evs []map[string]any, chanID string) []string {
	var out []string
	for _, m := range evs {
		if chanID == "" || evChan(m) == chanID {
			out = append(out, m["type"].(string))
		}
	}
	return out
}

func httpGet(u string) (int, error) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
