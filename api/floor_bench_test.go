package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"gorm.io/gorm"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/postgres"
)

// BenchmarkFloorFeed: N agents (CTID_FLOOR_AGENTS, 1000) Ready on
// persistent phones, R answered calls per second (CTID_FLOOR_CPS, 100) for
// S seconds (CTID_FLOOR_SECONDS, 20), each hanging up after 2–8 s with a
// 1 s auto-wrap; an admin's floor websocket counts messages and measures
// the latency from an agent's state change (its `since`, the engine's
// clock) to the message reaching the socket. Figures are printed, not
// asserted. make bench-supervisor runs it.
func BenchmarkFloorFeed(b *testing.B) {
	nAgents, cps, secs := envInt("CTID_FLOOR_AGENTS", 1000), envInt("CTID_FLOOR_CPS", 100), envInt("CTID_FLOOR_SECONDS", 20)
	const did = "+441130000002"
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ags := make([]*loadAgent, nAgents)
	st := ctitest.StartSeeded(b, ctitest.Options{Logger: quiet}, func(db *gorm.DB) { seedLoad(b, db, ags, did) })
	st.Double.Script("PJSIP/1*", aritest.Behavior{})
	if _, err := postgres.NewAdmin(st.DB).CreateUser(context.Background(), postgres.NewUser{Username: "floorboss", Password: password, Role: cti.RoleAdmin}); err != nil {
		b.Fatal(err)
	}
	srv := api.New(api.Options{Engine: st.Engine, DB: st.DB, Logger: quiet, LoginIPLimit: 1 << 30})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	base := "http://" + ln.Addr().String()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	call := func(method, path, tok, body string, out any) (int, error) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		r, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer r.Body.Close()
		raw, _ := io.ReadAll(r.Body)
		if r.StatusCode >= 300 {
			return r.StatusCode, fmt.Errorf("%s %s → %d: %s", method, path, r.StatusCode, raw)
		}
		if out != nil {
			return r.StatusCode, json.Unmarshal(raw, out)
		}
		return r.StatusCode, nil
	}
	var dropped atomic.Int64
	var stopping atomic.Bool
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	setup := time.Now()
	for _, a := range ags {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := setupAgent(base, a, call, func([]byte, time.Time) {}, &dropped, &stopping, b); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	b.Logf("setup: %d agents Ready in %s", nAgents, time.Since(setup).Round(time.Millisecond))

	// The admin's floor socket.
	var lr struct{ Token string }
	if _, err := call("POST", "/api/v1/auth/login", "", `{"username":"floorboss","password":"`+password+`"}`, &lr); err != nil {
		b.Fatal(err)
	}
	var tr struct{ URL string }
	if _, err := call("POST", "/api/v1/supervisor/ws-ticket", lr.Token, "", &tr); err != nil {
		b.Fatal(err)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+tr.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var (
		mu        sync.Mutex
		lat       durations
		msgs      atomic.Int64
		byType    sync.Map
		measuring atomic.Bool
		helloSize int
	)
	go func() {
		for {
			_, raw, err := conn.ReadMessage()
			if err != nil {
				return
			}
			at := time.Now()
			var m struct {
				Type string
				Data json.RawMessage
			}
			if json.Unmarshal(raw, &m) != nil {
				continue
			}
			if m.Type == "hello" {
				helloSize = len(raw)
				continue
			}
			if !measuring.Load() || m.Type == "ping" {
				continue
			}
			msgs.Add(1)
			n, _ := byType.LoadOrStore(m.Type, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			if m.Type == "agent" {
				var a cti.SupervisorAgent
				if json.Unmarshal(m.Data, &a) == nil {
					mu.Lock()
					lat = append(lat, at.Sub(a.Since))
					mu.Unlock()
				}
			}
		}
	}()
	time.Sleep(time.Second) // the hello and the floor's first sample
	measuring.Store(true)
	start := time.Now()
	total := cps * secs
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(cps))); d > 0 {
			time.Sleep(d)
		}
		st.Double.InboundCall(aritest.Call{App: "ctid", Args: []string{"inbound", did, "Load", ""}, From: fmt.Sprintf("+4477%08d", i),
			To: did, Answered: true, Behavior: &aritest.Behavior{HangupAfter: 2*time.Second + rand.N(6*time.Second)}})
	}
	time.Sleep(10 * time.Second) // calls end and wrap
	measuring.Store(false)
	elapsed := time.Since(start)
	stopping.Store(true)
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	counts := []string{}
	byType.Range(func(k, v any) bool {
		counts = append(counts, fmt.Sprintf("%s %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	fmt.Printf("floor feed: %d agents, %d calls/s for %d s (+10 s drain): hello %d KiB; %d messages in %.1f s = %.0f msg/s (%s); "+
		"state change → supervisor socket p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d agent messages; agent sockets dropped %d\n",
		nAgents, cps, secs, helloSize>>10, msgs.Load(), elapsed.Seconds(), float64(msgs.Load())/elapsed.Seconds(), strings.Join(counts, ", "),
		ms(lat.p(50)), ms(lat.p(99)), ms(lat.max()), len(lat), dropped.Load())
}
