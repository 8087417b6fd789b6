package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
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

// BenchmarkLoad drives the whole stack in one process — Postgres (pgtest,
// a separate server process), the Asterisk double, the ARI client, the
// engine and the REST/websocket API on a real listener — the way a contact
// centre would: N agents log in through the API with a token, connect a
// persistent system-calls phone (a scripted PJSIP/1xxxx extension), go
// Ready and keep an event websocket open; then R answered inbound calls per
// second arrive on the campaign's DID for D seconds, each hanging up by
// itself after 2–8 s; the campaign auto-wraps after 1 s so agents return to
// Ready on their own.
//
// It prints calls injected vs records in Postgres, the latency from the
// double emitting StasisStart to the agent's websocket receiving
// call.connected for that call (p50/p99/max), REST p99 of a sampled GET
// /api/v1/agent (one per second per 10 agents), RSS and goroutines. RSS and
// goroutines are the whole test process: ctid plus the double plus N
// websocket clients plus the HTTP load client.
//
// CTID_LOAD_AGENTS (1000), CTID_LOAD_CPS (100), CTID_LOAD_SECONDS (60).
// Figures are printed, never asserted.
func BenchmarkLoad(b *testing.B) {
	agents := envInt("CTID_LOAD_AGENTS", 1000)
	cps := envInt("CTID_LOAD_CPS", 100)
	secs := envInt("CTID_LOAD_SECONDS", 60)
	for i := 0; i < b.N; i++ {
		r := runLoad(b, agents, cps, secs)
		r.print(os.Stdout)
		b.ReportMetric(float64(r.injected), "calls")
		b.ReportMetric(float64(r.injected-r.recorded), "lost")
		b.ReportMetric(ms(r.lat.p(50)), "p50-ms")
		b.ReportMetric(ms(r.lat.p(99)), "p99-ms")
		b.ReportMetric(ms(r.lat.max()), "max-ms")
		b.ReportMetric(ms(r.rest.p(99)), "rest-p99-ms")
		b.ReportMetric(float64(r.rssMax)/(1<<20), "rss-MiB")
		b.ReportMetric(float64(r.goroutinesMax), "goroutines")
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type durations []time.Duration

func (d durations) p(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * q / 100)
	return d[i]
}
func (d durations) max() time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[len(d)-1]
}

type loadResult struct {
	agents, cps, secs              int
	setup                          time.Duration
	injected, injectFailed         int64
	recorded, ended, open          int64
	connectedEvents, duplicates    int64
	wsDropped                      int64
	abandoned                      int64
	lat, rest, ari                 durations
	windows                        []time.Duration // p99 per 10 s of injection
	restErrors                     int64
	rssSetup, rssMax               int64
	goroutinesSetup, goroutinesMax int
	queuedMax                      int
	cpuSetup, cpuRun               time.Duration
}

func (r loadResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nBenchmarkLoad — %d agents, %d calls/s for %d s, GOMAXPROCS %d, %d CPUs (%s)\n",
		r.agents, r.cps, r.secs, runtime.GOMAXPROCS(0), runtime.NumCPU(), cpuModel())
	fmt.Fprintf(w, "  %-44s %v (process CPU %v)\n", "setup (login+connect+ready+websocket)", r.setup.Round(time.Millisecond), r.cpuSetup.Round(time.Millisecond))
	fmt.Fprintf(w, "  %-44s %d (Stasis refused: %d)\n", "calls injected", r.injected, r.injectFailed)
	fmt.Fprintf(w, "  %-44s %d (ended %d, still open %d, lost %d)\n", "interactions in Postgres", r.recorded, r.ended, r.open, r.injected-r.recorded)
	fmt.Fprintf(w, "  %-44s %d (duplicates %d, abandoned in queue %d)\n", "call.connected received on agent websockets", r.connectedEvents, r.duplicates, r.abandoned)
	fmt.Fprintf(w, "  %-44s p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", "StasisStart → websocket call.connected", ms(r.lat.p(50)), ms(r.lat.p(99)), ms(r.lat.max()))
	win := ""
	for _, d := range r.windows {
		win += fmt.Sprintf(" %.1f", ms(d))
	}
	fmt.Fprintf(w, "  %-44s%s ms\n", "  p99 per 10 s of injection", win)
	fmt.Fprintf(w, "  %-44s p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%d requests)\n", "engine's ARI requests (round-trip)", ms(r.ari.p(50)), ms(r.ari.p(99)), ms(r.ari.max()), len(r.ari))
	fmt.Fprintf(w, "  %-44s p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%d requests, %d errors)\n", "REST GET /api/v1/agent", ms(r.rest.p(50)), ms(r.rest.p(99)), ms(r.rest.max()), len(r.rest), r.restErrors)
	fmt.Fprintf(w, "  %-44s %d\n", "websockets cut off (fell behind)", r.wsDropped)
	fmt.Fprintf(w, "  %-44s %d\n", "longest queue seen", r.queuedMax)
	fmt.Fprintf(w, "  %-44s after setup %d MiB, max %d MiB (process: ctid + double + clients)\n", "RSS", r.rssSetup>>20, r.rssMax>>20)
	fmt.Fprintf(w, "  %-44s after setup %d, max %d (process)\n", "goroutines", r.goroutinesSetup, r.goroutinesMax)
	fmt.Fprintf(w, "  %-44s %v of %v wall (%.0f%% of one core)\n", "process CPU during the call phase", r.cpuRun.Round(time.Millisecond),
		time.Duration(r.secs)*time.Second, 100*r.cpuRun.Seconds()/float64(r.secs))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// rss reads VmRSS of this process in bytes.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
}

type loadAgent struct {
	id      int64
	number  string
	token   string
	phoneUp chan struct{}
	once    sync.Once
	hello   chan struct{}
}

func runLoad(b *testing.B, nAgents, cps, secs int) loadResult {
	const loadDID = "+441130000001"
	res := loadResult{agents: nAgents, cps: cps, secs: secs}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	setupStart, cpu0 := time.Now(), cpuTime()

	ags := make([]*loadAgent, nAgents)
	var ariMu sync.Mutex
	var ariTimes durations
	timed := func(op string, d time.Duration, err error) {
		ariMu.Lock()
		ariTimes = append(ariTimes, d)
		ariMu.Unlock()
	}
	st := ctitest.StartSeeded(b, ctitest.Options{Logger: quiet, Tune: func(o *cti.Options) {
		o.Telephony = cti.TimedTelephony{T: o.Telephony, Observe: timed}
		o.WriteShards = envInt("CTID_LOAD_WRITE_SHARDS", 0)
	}}, func(db *gorm.DB) {
		seedLoad(b, db, ags, loadDID)
	})
	st.Double.Script("PJSIP/1*", aritest.Behavior{}) // every agent phone answers at once

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
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}, Timeout: 30 * time.Second}
	call := func(method, path, tok, body string, out any) (int, error) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+path, rd)
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

	// Latency bookkeeping: customer number → injection time.
	var (
		injectedAt sync.Map
		latMu      sync.Mutex
		lat        = make(durations, 0, cps*secs)
		connected  atomic.Int64
		dups       atomic.Int64
		dropped    atomic.Int64
		stopping   atomic.Bool
		windows    = make([]durations, (secs+9)/10) // latencies per 10 s of injection
		phaseStart time.Time
	)
	onConnected := func(data []byte, at time.Time) {
		var info struct {
			CustomerNumber string `json:"customerNumber"`
		}
		if json.Unmarshal(data, &info) != nil {
			return
		}
		v, ok := injectedAt.LoadAndDelete(info.CustomerNumber)
		if !ok {
			dups.Add(1)
			return
		}
		connected.Add(1)
		t0 := v.(time.Time)
		latMu.Lock()
		lat = append(lat, at.Sub(t0))
		if w := int(t0.Sub(phaseStart) / (10 * time.Second)); w >= 0 && w < len(windows) {
			windows[w] = append(windows[w], at.Sub(t0))
		}
		latMu.Unlock()
	}

	// Agents log in, open their websocket, connect a persistent phone and
	// go Ready — 32 at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, nAgents)
	for _, a := range ags {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := setupAgent(base, a, call, onConnected, &dropped, &stopping, b); err != nil {
				errs <- fmt.Errorf("agent %s: %w", a.number, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	states, _ := st.Engine.AgentStates(ctx)
	if states[cti.AgentReady] != nAgents {
		b.Fatalf("after setup: %v, want %d ready", states, nAgents)
	}
	res.setup, res.cpuSetup = time.Since(setupStart), cpuTime()-cpu0
	ariMu.Lock()
	ariTimes = ariTimes[:0] // only the call phase counts
	ariMu.Unlock()
	runtime.GC()
	res.rssSetup, res.goroutinesSetup = rss(), runtime.NumGoroutine()
	res.rssMax, res.goroutinesMax = res.rssSetup, res.goroutinesSetup

	// Samplers: RSS, goroutines and queue length every 250 ms; REST every
	// 1/(N/10) s on a random agent.
	done := make(chan struct{})
	var samplers sync.WaitGroup
	samplers.Add(2)
	go func() {
		defer samplers.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				res.rssMax = max(res.rssMax, rss())
				res.goroutinesMax = max(res.goroutinesMax, runtime.NumGoroutine())
				if s, err := st.Engine.Stats(ctx); err == nil {
					res.queuedMax = max(res.queuedMax, s.Queued)
				}
			}
		}
	}()
	var restMu sync.Mutex
	var restErrs atomic.Int64
	go func() {
		defer samplers.Done()
		perSec := max(1, nAgents/10)
		every := time.Second / time.Duration(perSec)
		t := time.NewTicker(every)
		defer t.Stop()
		var inflight sync.WaitGroup
		defer inflight.Wait()
		lim := make(chan struct{}, 64)
		for {
			select {
			case <-done:
				return
			case <-t.C:
				select {
				case lim <- struct{}{}:
				default:
					restErrs.Add(1) // 64 requests already in flight: count as a miss
					continue
				}
				a := ags[rand.IntN(len(ags))]
				inflight.Add(1)
				go func() {
					defer func() { <-lim; inflight.Done() }()
					t0 := time.Now()
					_, err := call("GET", "/api/v1/agent", a.token, "", nil)
					d := time.Since(t0)
					if err != nil {
						restErrs.Add(1)
						return
					}
					restMu.Lock()
					res.rest = append(res.rest, d)
					restMu.Unlock()
				}()
			}
		}
	}()

	// Inject cps answered calls per second for secs seconds.
	total := cps * secs
	cpu1 := cpuTime()
	start := time.Now()
	latMu.Lock()
	phaseStart = start
	latMu.Unlock()
	var injected, failed int64
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * time.Second / time.Duration(cps))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		num := fmt.Sprintf("+4477%08d", i)
		hang := 2*time.Second + rand.N(6*time.Second)
		injectedAt.Store(num, time.Now())
		_, err := st.Double.InboundCall(aritest.Call{App: "ctid", Args: []string{"inbound", loadDID, "Load", ""},
			From: num, To: loadDID, Answered: true, Behavior: &aritest.Behavior{HangupAfter: hang}})
		injected++
		if err != nil {
			failed++
		}
	}
	res.cpuRun = cpuTime() - cpu1
	res.injected, res.injectFailed = injected, failed

	// Let every call end (8 s talk at most, then wrap) and the writer drain.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		s, _ := st.Engine.Stats(ctx)
		states, _ := st.Engine.AgentStates(ctx)
		if s.Queued == 0 && states[cti.AgentReady] == nAgents && len(st.Double.Channels()) <= nAgents {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	st.Engine.Flush(fctx)
	cancel()
	close(done)
	samplers.Wait()
	stopping.Store(true)

	st.DB.Raw(`SELECT count(*) FROM interactions WHERE direction = 'IN' AND platform_number = ?`, loadDID).Scan(&res.recorded)
	st.DB.Raw(`SELECT count(*) FROM interactions WHERE direction = 'IN' AND platform_number = ? AND ended_at IS NOT NULL`, loadDID).Scan(&res.ended)
	res.open = res.recorded - res.ended
	if s, err := st.Engine.Stats(ctx); err == nil {
		res.abandoned = s.CallsAbandoned
	}
	res.connectedEvents, res.duplicates, res.wsDropped = connected.Load(), dups.Load(), dropped.Load()
	res.restErrors = restErrs.Load()
	slices.Sort(lat)
	slices.Sort(res.rest)
	res.lat = lat
	ariMu.Lock()
	slices.Sort(ariTimes)
	res.ari = ariTimes
	ariMu.Unlock()
	for _, w := range windows {
		slices.Sort(w)
		res.windows = append(res.windows, w.p(99))
	}
	return res
}

// seedLoad creates the agents (one real password hash shared by all), the
// campaign with auto-wrap after 1 s and its DID.
func seedLoad(b *testing.B, db *gorm.DB, ags []*loadAgent, did string) {
	hash, err := postgres.HashPassword(password)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	err = db.Raw(`INSERT INTO users(username, password_hash, display_name, role, default_phone)
		SELECT 'load' || g, ?, 'Load agent ' || g, 'agent', (10000 + g)::text FROM generate_series(0, ?) g
		RETURNING id`, hash, len(ags)-1).Scan(&ids).Error
	if err != nil {
		b.Fatal(err)
	}
	var rows []struct {
		ID       int64
		Username string
	}
	db.Raw(`SELECT id, username FROM users WHERE username LIKE 'load%'`).Scan(&rows)
	for _, r := range rows {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.Username, "load"))
		ags[n] = &loadAgent{id: r.ID, number: strconv.Itoa(10000 + n), phoneUp: make(chan struct{}), hello: make(chan struct{})}
	}
	camp := ctitest.Campaign(b, db, ctitest.CampaignSpec{Name: "Load", DID: did, Platform: did, WrapLimit: 1, Codes: []string{"DONE"}})
	if err := db.Exec(`INSERT INTO campaign_agents(campaign_id, user_id) SELECT ?, id FROM users WHERE username LIKE 'load%'`, camp).Error; err != nil {
		b.Fatal(err)
	}
}

func setupAgent(base string, a *loadAgent, call func(method, path, tok, body string, out any) (int, error),
	onConnected func([]byte, time.Time), dropped *atomic.Int64, stopping *atomic.Bool, b *testing.B) error {
	var lr struct{ Token string }
	if _, err := call("POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"username":"load%d","password":%q}`, mustAtoi(a.number)-10000, password), &lr); err != nil {
		return err
	}
	a.token = lr.Token
	if _, err := call("POST", "/api/v1/agent/login", a.token, "", nil); err != nil {
		return err
	}
	var tr struct{ Ticket string }
	if _, err := call("POST", "/api/v1/auth/ws-ticket", a.token, "", &tr); err != nil {
		return err
	}
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/ws?ticket=" + tr.Ticket
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return err
	}
	b.Cleanup(func() { conn.Close() })
	go func() {
		for {
			_, raw, err := conn.ReadMessage()
			if err != nil {
				if !stopping.Load() {
					dropped.Add(1)
				}
				return
			}
			at := time.Now()
			var m wsMsg
			if json.Unmarshal(raw, &m) != nil {
				continue
			}
			switch m.Type {
			case "call.connected":
				onConnected(m.Data, at)
			case "phone.connected":
				a.once.Do(func() { close(a.phoneUp) })
			case "hello":
				close(a.hello) // subscribed: events from now on reach us
			}
		}
	}()
	select {
	case <-a.hello:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no hello")
	}
	if _, err := call("POST", "/api/v1/agent/connect", a.token, fmt.Sprintf(`{"mode":"system_calls","number":%q,"persistent":true}`, a.number), nil); err != nil {
		return err
	}
	select {
	case <-a.phoneUp:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no phone.connected")
	}
	for try := 0; ; try++ {
		code, err := call("POST", "/api/v1/agent/ready", a.token, "{}", nil)
		if err == nil {
			return nil
		}
		if code != 409 || try > 100 {
			return err
		}
		time.Sleep(20 * time.Millisecond) // still connecting → paused
	}
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }
