package ari

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func expectConn(t *testing.T, c *Client, state ConnectionState) *ConnectionEvent {
	t.Helper()
	for {
		ev := nextEvent(t, c)
		ce, ok := ev.(*ConnectionEvent)
		if !ok {
			t.Fatalf("got %T, want ConnectionEvent(%v)", ev, state)
		}
		if ce.State != state {
			t.Fatalf("got ConnectionEvent %v (err %v), want %v", ce.State, ce.Err, state)
		}
		if ce.GetType() != TypeConnection || ce.GetApplication() != "ctid" || ce.GetTimestamp().IsZero() {
			t.Errorf("base = %+v", ce.EventBase)
		}
		return ce
	}
}

func subscriptionRequests(f *fakeARI) []string {
	var out []string
	for _, r := range f.requests() {
		if r.Path == "/applications/ctid/subscription" && r.Method == http.MethodPost {
			out = append(out, r.Query)
		}
	}
	return out
}

func TestRunReconnect(t *testing.T) {
	f := newFakeARI(t)
	var mu sync.Mutex
	subs := []string{"channel:a1", "bridge:b1"}
	c := f.client(func(cfg *Config) {
		cfg.Subscriptions = func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), subs...)
		}
	})
	stop := runClient(t, c)

	ws := f.waitConn()
	ce := expectConn(t, c, Connected)
	if ce.Reconnect || ce.AsteriskRestarted || ce.Info == nil || ce.Info.System.Version != "22.10.1" || !c.Connected() {
		t.Fatalf("first connect = %+v", ce)
	}
	if got := subscriptionRequests(f); len(got) != 1 || got[0] != "eventSource=channel%3Aa1%2Cbridge%3Ab1" {
		t.Errorf("subscriptions = %q", got)
	}

	// Events flow, in order, after the Connected event.
	samples := loadSamples(t)
	for _, n := range []string{"StasisStart", "ChannelDtmfReceived"} {
		if err := ws.WriteMessage(websocket.TextMessage, samples[n]); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{garbage`)) // skipped
	if ev := nextEvent(t, c); ev.GetType() != TypeStasisStart {
		t.Fatalf("got %T", ev)
	}
	if ev := nextEvent(t, c); ev.GetType() != TypeChannelDtmfReceived {
		t.Fatalf("got %T", ev)
	}

	// Drop: Disconnected, then Connected with Reconnect, same Asterisk.
	f.reset()
	mu.Lock()
	subs = []string{"channel:gone", "bridge:b1"}
	mu.Unlock()
	// The combined subscription fails because one source is gone; the
	// client falls back to one request per source.
	f.reply("POST /applications/ctid/subscription", 422, `{"message":"Provided event source was invalid"}`)
	f.dropAll()
	ce = expectConn(t, c, Disconnected)
	if ce.Err == nil {
		t.Error("Disconnected without Err")
	}
	f.waitConn()
	ce = expectConn(t, c, Connected)
	if !ce.Reconnect || ce.AsteriskRestarted {
		t.Errorf("reconnect = %+v", ce)
	}
	if got := subscriptionRequests(f); len(got) != 3 || got[1] != "eventSource=channel%3Agone" || got[2] != "eventSource=bridge%3Ab1" {
		t.Errorf("resubscriptions = %q", got)
	}

	// Asterisk restarts: startup time changes.
	f.mu.Lock()
	f.startup = "2025-03-14T11:00:00.000+0000"
	f.mu.Unlock()
	f.dropAll()
	expectConn(t, c, Disconnected)
	f.waitConn()
	if ce = expectConn(t, c, Connected); !ce.AsteriskRestarted || !ce.Reconnect {
		t.Errorf("restart not detected: %+v", ce)
	}
	// And a new entity id is also a restart (another Asterisk).
	f.mu.Lock()
	f.entityID = "02:42:ac:11:00:99"
	f.mu.Unlock()
	f.dropAll()
	expectConn(t, c, Disconnected)
	f.waitConn()
	if ce = expectConn(t, c, Connected); !ce.AsteriskRestarted {
		t.Errorf("entity change not detected: %+v", ce)
	}

	stop()
	if _, ok := <-c.Events(); ok {
		t.Error("Events not closed after Run returned")
	}
	if c.Connected() {
		t.Error("still Connected after Run returned")
	}
	if err := c.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run: %v", err)
	}
}

func TestRunARIServerDown(t *testing.T) {
	f := newFakeARI(t)
	// info fails: the connection is not reported up, and retried.
	f.reply("GET /asterisk/info", 503, `{"error":"starting"}`)
	c := f.client()
	runClient(t, c)
	ce := expectConn(t, c, Disconnected)
	if !errors.Is(ce.Err, ErrUnavailable) {
		t.Errorf("err = %v", ce.Err)
	}
	// Only one Disconnected is delivered while attempts keep failing.
	f.waitConn()
	f.waitConn()
	f.mu.Lock()
	delete(f.replies, "GET /asterisk/info")
	f.mu.Unlock()
	if ce := expectConn(t, c, Connected); ce.Reconnect {
		t.Errorf("first success flagged as reconnect")
	}
}

func TestRunAuthFailure(t *testing.T) {
	f := newFakeARI(t)
	c := f.client(func(cfg *Config) { cfg.Password = "wrong" })
	runClient(t, c)
	ce := expectConn(t, c, Disconnected)
	var ae *Error
	if !errors.As(ce.Err, &ae) || ae.Status != http.StatusUnauthorized || !errors.Is(ce.Err, ErrUnauthorized) {
		t.Errorf("err = %#v", ce.Err)
	}
}

// A connection that stops answering pings is dropped once PingInterval +
// PongTimeout pass without a frame, and not before; with pongs answered it
// stays up through many pings. The timeouts are generous next to scheduling
// delays on a loaded machine (a 30 ms pong timeout was not).
func TestRunPingTimeout(t *testing.T) {
	const ping, pong = 100 * time.Millisecond, time.Second
	f := newFakeARI(t)
	f.noPong = true
	c := f.client(func(cfg *Config) {
		cfg.PingInterval = ping
		cfg.PongTimeout = pong
	})
	runClient(t, c)
	f.waitConn()
	expectConn(t, c, Connected)
	start := time.Now()
	ce := expectConn(t, c, Disconnected)
	if d := time.Since(start); d < ping+pong-50*time.Millisecond || d > 10*time.Second || ce.Err == nil {
		t.Errorf("dead connection detected after %v (want about %v): %v", d, ping+pong, ce.Err)
	}
	// It comes back; with pongs answered it stays up through many pings.
	f.mu.Lock()
	f.noPong = false
	f.mu.Unlock()
	f.waitConn()
	if ce := expectConn(t, c, Connected); !ce.Reconnect {
		t.Errorf("second connection not flagged as reconnect")
	}
	select {
	case ev := <-c.Events():
		t.Errorf("unexpected %T %+v", ev, ev)
	case <-time.After(2*ping + 2*pong): // 20+ pings, two read deadlines
	}
}

func TestRunSlowConsumer(t *testing.T) {
	f := newFakeARI(t)
	c := f.client(func(cfg *Config) {
		cfg.EventBuffer = 1
		cfg.PingInterval = 100 * time.Millisecond
		cfg.PongTimeout = 300 * time.Millisecond
	})
	runClient(t, c)
	ws := f.waitConn()
	expectConn(t, c, Connected)
	ev := loadSamples(t)["ChannelStateChange"]
	for range 20 {
		if err := ws.WriteMessage(websocket.TextMessage, ev); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second) // the consumer stalls for 5× ping+pong: the connection must survive it
	for i := range 20 {
		if got := nextEvent(t, c); got.GetType() != TypeChannelStateChange {
			t.Fatalf("event %d: %T (%+v)", i, got, got)
		}
	}
	// Nothing else: no Disconnected after the events, no second websocket.
	select {
	case ev := <-c.Events():
		t.Errorf("after the stall: %T %+v", ev, ev)
	case ws := <-f.connected:
		ws.Close()
		t.Error("the client reconnected: the stall dropped the connection")
	default:
	}
}

func TestRunStopsWhileBlocked(t *testing.T) {
	f := newFakeARI(t)
	c := f.client(func(cfg *Config) { cfg.EventBuffer = 1 })
	stop := runClient(t, c)
	ws := f.waitConn()
	for range 5 {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ApplicationReplaced","application":"ctid"}`))
	}
	time.Sleep(50 * time.Millisecond)
	stop() // must return although nobody reads Events
	n := 0
	for range c.Events() {
		n++
	}
	if n > 1 {
		t.Errorf("%d events buffered in a 1-slot channel", n)
	}
}
