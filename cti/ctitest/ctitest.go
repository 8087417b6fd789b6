// Package ctitest assembles the whole CTI core for tests and benchmarks:
// a throwaway PostgreSQL database, the in-process Asterisk double, the ARI
// client and the engine, wired as cmd/ctid wires them.
package ctitest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

// Stack is a running CTI core.
type Stack struct {
	DB     *gorm.DB
	Store  *postgres.Store
	Double *aritest.Server
	ARI    *ari.Client
	Engine *cti.Engine
	Cancel context.CancelFunc
	// Where the ARI client connects (double or real Asterisk).
	ARIURL, ARIUser, ARIPassword string
}

// Options tweak the stack.
type Options struct {
	Clock cti.Clock
	// FakeClock, if set, drives both the double and the engine (Clock is
	// ignored): nothing timed happens until the test advances it.
	FakeClock *aritest.FakeClock
	// EventLag, if set, gets every ARI event's lag as the engine measures
	// it (Engine.PumpObserved, as cmd/ctid runs it).
	EventLag     func(typ string, d time.Duration)
	OfferTimeout time.Duration
	Logger       *slog.Logger
	// Tune lets a test change engine options before start.
	Tune func(*cti.Options)
	// Target, if set, is the ARI server to use instead of a fresh double
	// (e.g. aritest.AsteriskTarget for a real Asterisk; Stack.Double is
	// then nil). The engine's app is "ctid", as in asterisk-conf.
	Target *aritest.Target
	// TargetFor, if set (and Target is not), starts the ARI server once the
	// database is seeded: a real Asterisk that reads its phones from this
	// database (aritest.AsteriskOptions.Realtime) needs the database first.
	TargetFor func(db *gorm.DB) *aritest.Target
}

// Start brings the stack up and tears it down when the test ends. Seed the
// database (Agent, Campaign) and then call Reload, or seed before Run by
// passing a seeding function to StartSeeded.
func Start(t testing.TB, o Options) *Stack {
	t.Helper()
	return StartSeeded(t, o, nil)
}

// StartSeeded seeds the database before the engine loads its configuration.
func StartSeeded(t testing.TB, o Options, seed func(db *gorm.DB)) *Stack {
	t.Helper()
	db := pgtest.DB(t)
	if seed != nil {
		seed(db)
	}
	log := o.Logger
	if log == nil {
		level := slog.LevelWarn
		if os.Getenv("CTID_TEST_DEBUG") != "" {
			level = slog.LevelDebug
		}
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	var double *aritest.Server
	url, user, pass := "", "ctid", "secret"
	if o.Target == nil && o.TargetFor != nil {
		o.Target = o.TargetFor(db)
	}
	if o.Target != nil {
		double = o.Target.Double
		url, user, pass = o.Target.URL, o.Target.Username, o.Target.Password
	} else {
		do := aritest.Options{Username: user, Password: pass}
		if o.FakeClock != nil {
			do.Clock = o.FakeClock
		}
		double = aritest.NewServer(do)
		url = double.URL()
	}
	client, err := ari.New(ari.Config{URL: url, Username: user, Password: pass, App: "ctid",
		Logger: log, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store := postgres.NewStore(db)
	if o.FakeClock != nil {
		o.Clock = Clock(o.FakeClock)
	}
	opts := cti.Options{Telephony: cti.ARITelephony{C: client}, Store: store, Clock: o.Clock, Logger: log,
		OfferTimeout: o.OfferTimeout, DefaultRegion: "GB"}
	if o.Tune != nil {
		o.Tune(&opts)
	}
	eng := cti.New(opts)
	runDone := make(chan struct{})
	go func() { client.Run(ctx) }()
	go func() { eng.PumpObserved(ctx, client.Events(), o.EventLag) }()
	go func() { eng.Run(ctx); close(runDone) }()
	s := &Stack{DB: db, Store: store, Double: double, ARI: client, Engine: eng, Cancel: cancel,
		ARIURL: url, ARIUser: user, ARIPassword: pass}
	t.Cleanup(func() {
		fctx, fc := context.WithTimeout(context.Background(), 10*time.Second)
		eng.Flush(fctx)
		fc()
		cancel()
		<-runDone
		if o.Target == nil {
			double.Close()
		}
	})
	// Wait for the websocket so Stasis apps are active before tests inject calls.
	deadline := time.Now().Add(10 * time.Second)
	for (double != nil && !double.AppActive("ctid")) || !client.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("ctitest: ARI websocket did not connect")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := eng.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// Agent inserts an agent user (password "secret" hashed is not needed by the
// engine; the API tests create real hashes) and returns its id.
func Agent(t testing.TB, db *gorm.DB, username, phone string) int64 {
	t.Helper()
	var id int64
	err := db.Raw(`INSERT INTO users(username, password_hash, display_name, role, default_phone, manual_call_when_paused, recording_control)
		VALUES (?, 'x', ?, 'agent', ?, true, true) RETURNING id`, username, "Agent "+username, phone).Scan(&id).Error
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// CampaignSpec describes a test campaign.
type CampaignSpec struct {
	Name, DID, Platform   string
	WrapLimit, ExtendWrap int
	MaxQueue              int
	OverflowContext       string
	Agents                []int64
	Codes                 []string
	Kind                  string
	Recording             bool
	Payment               string // gateway settings JSON, e.g. {"kind":"sandbox","currency":"GBP"}
}

// Campaign inserts a campaign with its DID, wrap codes and agents.
func Campaign(t testing.TB, db *gorm.DB, c CampaignSpec) int64 {
	t.Helper()
	if c.Kind == "" {
		c.Kind = "inbound"
	}
	var id int64
	def := ""
	if len(c.Codes) > 0 {
		def = c.Codes[0]
	}
	settings := "{}"
	if c.Payment != "" {
		settings = `{"payment":` + c.Payment + `}`
	}
	err := db.Raw(`INSERT INTO campaigns(name, kind, platform_number, wrap_limit_seconds, default_wrap_code, extend_wrap_seconds, max_queue_seconds, overflow_context, recording, payment_enabled, settings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb) RETURNING id`, c.Name, c.Kind, c.Platform, c.WrapLimit, def, c.ExtendWrap, c.MaxQueue, c.OverflowContext,
		c.Recording, c.Payment != "", settings).Scan(&id).Error
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.DID != "" {
		must(db.Exec(`INSERT INTO campaign_dids(did, campaign_id) VALUES (?, ?)`, c.DID, id).Error)
	}
	for _, code := range c.Codes {
		must(db.Exec(`INSERT INTO wrap_codes(campaign_id, code, label) VALUES (?, ?, ?)`, id, code, "Label "+code).Error)
	}
	for _, a := range c.Agents {
		must(db.Exec(`INSERT INTO campaign_agents(campaign_id, user_id) VALUES (?, ?)`, id, a).Error)
	}
	return id
}

// Watch subscribes to an agent's events for assertions.
type Watch struct {
	t   testing.TB
	sub *cti.Subscription
	Log []cti.Envelope
}

// WatchAgent starts recording an agent's events.
func (s *Stack) WatchAgent(t testing.TB, id int64) *Watch {
	sub, _, _ := s.Engine.Feed().Subscribe(id, 0)
	t.Cleanup(sub.Close)
	return &Watch{t: t, sub: sub}
}

// Next waits for the next event of type typ (skipping others) and returns it.
func (w *Watch) Next(typ string, timeout time.Duration) cti.Envelope {
	w.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-w.sub.C:
			if !ok {
				w.t.Fatalf("event feed closed while waiting for %s", typ)
			}
			w.Log = append(w.Log, e)
			if e.Type == typ {
				return e
			}
		case <-deadline:
			w.t.Fatalf("no %s event within %v; saw %s", typ, timeout, types(w.Log))
		}
	}
}

func types(l []cti.Envelope) string {
	s := ""
	for _, e := range l {
		s += e.Type + " "
	}
	return s
}

// WaitState polls until the agent is in state or fails the test.
func (s *Stack) WaitState(t testing.TB, id int64, state cti.AgentState, timeout time.Duration) cti.AgentSnapshot {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		snap, err := s.Engine.Snapshot(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if snap.State.State == state {
			return snap
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %d: state %s, want %s (after %v)", id, snap.State.State, state, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Eventually polls cond until true or fails.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Str formats for messages.
func Str(v any) string { return fmt.Sprintf("%+v", v) }

// Clock adapts the double's FakeClock to the engine's Clock, so one virtual
// clock drives both.
func Clock(fc *aritest.FakeClock) cti.Clock { return fakeClock{fc} }

type fakeClock struct{ fc *aritest.FakeClock }

func (c fakeClock) Now() time.Time { return c.fc.Now() }
func (c fakeClock) AfterFunc(d time.Duration, f func()) cti.Timer {
	return c.fc.AfterFunc(d, f)
}

// StepUntil advances fc by step until cond holds, failing the test after
// timeout of real time. With a fake clock whatever waits on a timer (a phone
// that answers after 10 ms, a wrap limit) happens only while the test
// advances it; cond is checked after each step, once the engine and the
// double have had a moment to react.
func StepUntil(t testing.TB, fc *aritest.FakeClock, step, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v (fake clock at %s) waiting for %s", timeout, fc.Now().Format("15:04:05.000"), what)
		}
		fc.Advance(step)
		time.Sleep(time.Millisecond)
	}
}
