package dialer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/dialer"
	"github.com/ctid/ctid/dialer/pacing"
)

// stack is the whole CTI core (ARI double, engine, Postgres) with the
// dialler's worker on top.
type stack struct {
	*ctitest.Stack
	w          *dialer.Worker
	camp       int64
	alice, bob int64
	agents     []int64 // alice, bob, then agent3… on 1003…
	leads      map[int64][]string

	// With a fake clock (stackSpec.Clock): the double, the engine and the
	// worker all run on fc, and settle knows when the engine has taken in
	// what the double did.
	fc     *aritest.FakeClock
	events atomic.Int64  // ARI events the engine has handled
	marks  chan struct{} // one per marker event handled
	marker bool          // the marker endpoint's last state
}

// stackSpec describes a stack: the campaign's dialer settings (JSON),
// its leads' phones, the agents (default 2) and the campaign's wrap limit
// in seconds (0: no auto-wrap). Pacer, if set, replaces the worker's
// default (dialer.DefaultPacer). Clock, if set, is the one virtual clock
// of the double, the engine and the worker.
type stackSpec struct {
	Clock     *aritest.FakeClock
	Settings  string
	Pacer     pacing.Pacer
	Phones    [][]string
	Agents    int
	WrapLimit int
}

// markerEndpoint is an endpoint no agent or contact uses: toggling it
// sends the engine an event (EndpointStateChange, which it ignores) that
// follows, on the websocket, every event the double sent before it.
const markerEndpoint = "PJSIP/ctid-test-marker"

// startStackOn brings up the CTI core with a campaign (dialer settings
// JSON), two agents logged in with persistent legs and Ready, leads with
// the given phones, and a started worker (ticks are driven by the test).
// With a fake clock (fc not nil) the agents' phones answer at once, and
// the worker reads the same clock.
func startStackOn(t *testing.T, fc *aritest.FakeClock, settings string, pacer pacing.Pacer, phones ...[]string) *stack {
	return startStackSpec(t, stackSpec{Clock: fc, Settings: settings, Pacer: pacer, Phones: phones})
}

func startStackSpec(t *testing.T, spec stackSpec) *stack {
	bg := context.Background()
	fc := spec.Clock
	if spec.Agents == 0 {
		spec.Agents = 2
	}
	var worker atomic.Pointer[dialer.Worker]
	s := &stack{leads: map[int64][]string{}, fc: fc, marks: make(chan struct{}, 1)}
	opts := ctitest.Options{FakeClock: fc, Tune: func(o *cti.Options) {
		o.Outcome = func(x cti.AttemptOutcome) {
			if w := worker.Load(); w != nil {
				w.Outcome(x)
			}
		}
	}}
	if fc != nil {
		opts.EventLag = func(typ string, _ time.Duration) {
			s.events.Add(1)
			if typ == "EndpointStateChange" {
				s.marks <- struct{}{}
			}
		}
	}
	exts := map[int64]string{}
	s.Stack = ctitest.StartSeeded(t, opts, func(db *gorm.DB) {
		for i := range spec.Agents {
			name := []string{"alice", "bob"}[min(i, 1)]
			if i >= 2 {
				name = fmt.Sprintf("agent%d", i+1)
			}
			ext := fmt.Sprint(1001 + i)
			id := ctitest.Agent(t, db, name, ext)
			s.agents = append(s.agents, id)
			exts[id] = ext
		}
		s.alice = s.agents[0]
		if len(s.agents) > 1 {
			s.bob = s.agents[1]
		}
		s.camp = ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Outbound", Kind: "outbound", Platform: "+441632960000",
			Agents: s.agents, Codes: []string{"SALE"}, WrapLimit: spec.WrapLimit})
		exec := func(sql string, args ...any) {
			if err := db.Exec(sql, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec(`UPDATE campaigns SET settings = ?::jsonb WHERE id = ?`, `{"dialer":`+spec.Settings+`}`, s.camp)
		var list int64
		db.Raw(`INSERT INTO dialer_lead_lists (campaign_id, name) VALUES (?, 'L') RETURNING id`, s.camp).Scan(&list)
		for _, p := range spec.Phones {
			q := append(append([]string(nil), p...), "", "", "")
			var id int64
			db.Raw(`INSERT INTO dialer_leads (list_id, campaign_id, name, phone1, phone2, phone3, primary_phone, time_zone)
				VALUES (?, ?, ?, ?, ?, ?, ?, 'Europe/London') RETURNING id`, list, s.camp, "Lead "+p[0], q[0], q[1], q[2], p[0]).Scan(&id)
			s.leads[id] = p
		}
	})
	if fc != nil {
		if _, err := s.ARI.Applications.Subscribe(bg, "ctid", "endpoint:"+markerEndpoint); err != nil {
			t.Fatal(err)
		}
	}
	// The test drives every tick and minute job itself: the worker's cron
	// runs on the wall clock, and a tick of its own between the test's tick
	// and LastDecision replaced the decision the test reads (its dials were
	// lost from the count, under load).
	cfg := dialer.Config{DB: s.DB, Engine: s.Engine, Logger: quiet(), TickSpec: "@every 1h", MinuteSpec: "@every 1h"}
	if fc != nil {
		cfg.Clock = fc
	}
	if spec.Pacer != nil {
		pacer := spec.Pacer
		cfg.NewPacer = func(int64, dialer.Settings) pacing.Pacer { return pacer }
	}
	w, err := dialer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.w = w
	worker.Store(w)
	if err := w.Start(bg); err != nil { // outcome loop; ticks are driven by the test
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	for _, id := range s.agents {
		answer := aritest.Behavior{AnswerAfter: 10 * time.Millisecond}
		if fc != nil {
			answer = aritest.Behavior{}
		}
		s.Double.Script("PJSIP/"+exts[id], answer)
		if _, err := s.Engine.Login(bg, id); err != nil {
			t.Fatal(err)
		}
		if err := s.Engine.Connect(bg, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: exts[id], Persistent: true}); err != nil {
			t.Fatal(err)
		}
		s.WaitState(t, id, cti.AgentPaused, 15*time.Second)
		if err := s.Engine.SetReady(bg, id); err != nil {
			t.Fatal(err)
		}
		if fc != nil {
			// Idle order is the login order: alice has waited longest.
			s.advance(t, time.Second)
		}
	}
	ctitest.Eventually(t, 15*time.Second, "persistent agents ready", func() bool {
		l, _ := s.Engine.CampaignLoad(bg, s.camp)
		return l.ReadyPersistent == len(s.agents)
	})
	return s
}

// settle returns once the engine has taken in everything the double did up
// to the fake clock's present, and the telephony requests that caused
// (with whatever the double sent back) are done: a round — Engine.Sync,
// then a marker event through the double's websocket — that saw no event
// but its marker. Nothing moves meanwhile: timers run only in Advance.
func (s *stack) settle(t testing.TB) {
	t.Helper()
	bg := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := s.Engine.Sync(bg); err != nil {
			t.Fatal(err)
		}
		before := s.events.Load()
		s.marker = !s.marker
		s.Double.SetEndpointState(markerEndpoint, s.marker)
		select {
		case <-s.marks:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("the engine did not settle within 30 s (fake clock at %s)", s.fc.Now().Format("15:04:05.000"))
		}
		if s.events.Load() == before+1 {
			return
		}
	}
}

// advance moves the virtual clock on by d and settles.
func (s *stack) advance(t testing.TB, d time.Duration) {
	t.Helper()
	s.fc.Advance(d)
	s.settle(t)
}

// recorded waits until the worker has recorded every outcome the engine
// reported: after settle, every dial not ringing or waiting in the engine
// has one (the engine reports an outcome as it lets a dial go).
func (s *stack) recorded(t testing.TB) {
	t.Helper()
	bg := context.Background()
	ctitest.Eventually(t, 30*time.Second, "the worker to record the engine's outcomes", func() bool {
		l, err := s.Engine.CampaignLoad(bg, s.camp)
		if err != nil {
			t.Fatal(err)
		}
		open := scalarOf[int](t, s.DB, `SELECT count(*) FROM dialer_attempts WHERE campaign_id = ? AND outcome = ''`, s.camp)
		return open == l.Dialing+l.Queued
	})
}

// tick runs one campaign tick and returns its decision.
func (s *stack) tick(t testing.TB) dialer.Decision {
	t.Helper()
	if err := s.w.TickCampaign(context.Background(), s.camp); err != nil {
		t.Fatal(err)
	}
	dec, _ := s.w.LastDecision(s.camp)
	return dec
}

// load is the engine's view of the campaign.
func (s *stack) load(t testing.TB) cti.CampaignLoad {
	t.Helper()
	l, err := s.Engine.CampaignLoad(context.Background(), s.camp)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// agentLegs maps each agent to the channel of their persistent leg.
func (s *stack) agentLegs() map[int64]string {
	legs := map[int64]string{}
	for _, ch := range s.Double.Channels() {
		if len(ch.Args) == 2 && ch.Args[0] == "agentleg" {
			var id int64
			fmt.Sscan(ch.Args[1], &id)
			legs[id] = ch.ID
		}
	}
	return legs
}

// played is what the double played to a channel, comma-separated.
func (s *stack) played(id string) string { return strings.Join(s.Double.Played(id), ",") }

// dialChannel is the channel the engine originates for a dialler attempt.
func dialChannel(attemptID int64) string { return fmt.Sprintf("pd-dialer-%d", attemptID) }

func scalarOf[T any](t testing.TB, db *gorm.DB, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := db.Raw(sql, args...).Scan(&v).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestPredictiveCampaignThroughEngine runs the worker against the whole CTI
// core with the ARI double on one virtual clock: a predictive campaign
// with two persistent agents over-dials three contacts (a fixed 1.5 dial
// level) who answer after 4, 6 and 9 s of ringing. The first two reach
// alice and bob (longest idle first) the moment they answer, each agent
// hearing a beep on their own leg; the third has no agent, hears the
// campaign's abandon message exactly 2 s after answering (not a
// millisecond before) and is counted as abandoned.
func TestPredictiveCampaignThroughEngine(t *testing.T) {
	phones := []string{"+442079460201", "+442079460202", "+442079460203"}
	rings := []time.Duration{4 * time.Second, 6 * time.Second, 9 * time.Second}
	fc := aritest.NewFakeClock(time.Now().Truncate(time.Second))
	s := startStackOn(t, fc, `{"mode":"predictive","abandonMessage":"sound:sorry-all-busy","ringSeconds":20,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, pacing.FixedRatio{Ratio: 1.5},
		[]string{phones[0]}, []string{phones[1]}, []string{phones[2]})
	for i, p := range phones {
		s.Double.Script("PJSIP/"+p+"@trunk", aritest.Behavior{AnswerAfter: rings[i]})
	}

	t0 := fc.Now()
	dec := s.tick(t)
	if dec.Dialled != 3 || dec.Snapshot.Ready != 2 || !dec.At.Equal(t0) {
		t.Fatalf("decision %+v", dec)
	}
	s.settle(t)
	type row struct {
		ID         int64
		Number     string
		Outcome    string
		AgentID    *int64
		StartedAt  time.Time
		AnsweredAt *time.Time
	}
	attempts := func() map[string]row {
		var rows []row
		s.DB.Raw(`SELECT id, number, outcome, agent_id, started_at, answered_at FROM dialer_attempts ORDER BY id`).Scan(&rows)
		m := map[string]row{}
		for _, r := range rows {
			m[r.Number] = r
		}
		return m
	}
	at := attempts()
	if len(at) != 3 {
		t.Fatalf("attempts %+v", at)
	}
	wantLoad := func(when string, dialing, queued, busy int) {
		t.Helper()
		if l := s.load(t); l.Dialing != dialing || l.Queued != queued || len(l.Busy) != busy {
			t.Fatalf("%s: dialing %d, waiting %d, busy %d; want %d, %d, %d", when, l.Dialing, l.Queued, len(l.Busy), dialing, queued, busy)
		}
	}
	legs := s.agentLegs()
	// Ringing: nobody answers a millisecond before the first ring time.
	s.advance(t, rings[0]-time.Millisecond)
	wantLoad("a millisecond before the first answer", 3, 0, 0)
	s.advance(t, time.Millisecond)
	wantLoad("at the first answer", 2, 0, 1)
	if got := s.played(legs[s.alice]); got != "sound:beep" {
		t.Errorf("alice's leg heard %q at the first answer, want the beep", got)
	}
	s.advance(t, rings[1]-rings[0])
	wantLoad("at the second answer", 1, 0, 2)
	if got := s.played(legs[s.bob]); got != "sound:beep" {
		t.Errorf("bob's leg heard %q at the second answer, want the beep", got)
	}
	// The third answers into a full floor: it waits the 2 s grace, and
	// hears nothing until then.
	s.advance(t, rings[2]-rings[1])
	wantLoad("at the third answer", 0, 1, 2)
	third := dialChannel(at[phones[2]].ID)
	s.advance(t, cti.AbandonAfter-time.Millisecond)
	wantLoad("a millisecond before the grace ends", 0, 1, 2)
	if got := s.played(third); got != "" {
		t.Fatalf("the third contact heard %q a millisecond before the grace ended", got)
	}
	s.advance(t, time.Millisecond)
	wantLoad("at the end of the grace", 0, 0, 2)
	if got := s.played(third); got != "sound:sorry-all-busy" {
		t.Errorf("the abandoned contact heard %q, want the campaign's message", got)
	}
	s.recorded(t)

	at = attempts()
	for i, p := range phones {
		r := at[p]
		want, agent := "answered", []int64{s.alice, s.bob, 0}[i]
		answered := t0.Add(rings[i])
		if i == 2 {
			want, answered = "abandoned", answered.Add(cti.AbandonAfter)
		}
		if r.Outcome != want || !r.StartedAt.Equal(t0) || r.AnsweredAt == nil || !r.AnsweredAt.Equal(answered) ||
			(agent == 0) != (r.AgentID == nil) || (r.AgentID != nil && *r.AgentID != agent) {
			t.Errorf("%s: %+v (answered %v); want %s at %v by agent %d", p, r, r.AnsweredAt, want, answered, agent)
		}
	}
	// Each agent heard exactly one beep, on their own leg.
	for id, leg := range s.agentLegs() {
		if got := s.played(leg); got != "sound:beep" {
			t.Errorf("agent %d's leg heard %q", id, got)
		}
	}
	// Leads: answered ones done, the abandoned one retried in 72 h; the next
	// decision counts the abandon against the cap.
	type leadRow struct {
		Phone1, Status string
		NextAttemptAt  *time.Time
	}
	var leads []leadRow
	s.DB.Raw(`SELECT phone1, status, next_attempt_at FROM dialer_leads ORDER BY phone1`).Scan(&leads)
	if len(leads) != 3 || leads[0].Status != "done" || leads[1].Status != "done" || leads[2].Status != "retry" ||
		leads[2].NextAttemptAt == nil || !leads[2].NextAttemptAt.Equal(t0.Add(rings[2]+cti.AbandonAfter+72*time.Hour)) {
		t.Errorf("leads %+v", leads)
	}
	dec = s.tick(t)
	if dec.Snapshot.Day.Answered != 3 || dec.Snapshot.Day.Abandoned != 1 || len(dec.Snapshot.Busy) != 2 || dec.Dialled != 0 {
		t.Errorf("decision after the calls %+v, dialled %d", dec.Snapshot, dec.Dialled)
	}
}

// TestPreviewAutoDialThroughEngine: a preview campaign offers a lead with
// three numbers to the longest-idle Ready agent; nobody clicks, so exactly
// at the campaign's preview timeout (fake clock: not a millisecond before)
// the engine dials the first number, and the answered outcome closes the
// lead.
func TestPreviewAutoDialThroughEngine(t *testing.T) {
	bg := context.Background()
	phones := []string{"+442079460301", "+442079460302", "+442079460303"}
	fc := aritest.NewFakeClock(time.Now())
	s := startStackOn(t, fc, `{"mode":"preview","previewTimeoutSeconds":5,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, nil, phones)
	s.Double.Script("PJSIP/+44*@trunk", aritest.Behavior{}) // answers at once
	watch := s.WatchAgent(t, s.alice)
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	offered := watch.Next("preview.offered", 15*time.Second)
	for _, p := range phones {
		if !strings.Contains(string(offered.Data), p) {
			t.Fatalf("offer without %s: %s", p, offered.Data)
		}
	}
	// Bob is Ready too but the only lead is taken: nothing for him.
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	fc.Advance(5*time.Second - time.Millisecond)
	if snap, _ := s.Engine.Snapshot(bg, s.alice); snap.Call != nil || snap.State.State != cti.AgentReserved {
		t.Fatalf("a millisecond before the preview timeout: %s, call %+v; want the offer still open", snap.State.State, snap.Call)
	}
	fc.Advance(time.Millisecond)
	watch.Next("preview.autodial", 15*time.Second)
	watch.Next("call.connected", 15*time.Second)
	// The engine reports a preview call's outcome when it ends.
	if err := s.Engine.Hangup(bg, s.alice); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Number, Outcome string
		AgentID         int64
	}
	ctitest.Eventually(t, 15*time.Second, "answered attempt", func() bool {
		s.DB.Raw(`SELECT number, outcome, COALESCE(agent_id, 0) AS agent_id FROM dialer_attempts`).Scan(&got)
		return got.Outcome == "answered"
	})
	if got.Number != phones[0] || got.AgentID != s.alice {
		t.Errorf("attempt %+v", got)
	}
	var status string
	s.DB.Raw(`SELECT status FROM dialer_leads`).Scan(&status)
	if status != "done" {
		t.Errorf("lead %s", status)
	}
}
