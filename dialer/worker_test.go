package dialer

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
	"github.com/ctid/ctid/dialer/store"
)

// Tuesday 2026-03-10 14:00 UTC: London 14:00, New York 10:00 (EDT),
// Tokyo 23:00.
var tuesday = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)

func TestPreviewCallingWindowByLeadZone(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Renewals", "outbound", `{"mode":"preview","previewTimeoutSeconds":20}`)
	list := seedList(t, db, camp, "L")
	london := seedLead(t, db, camp, list, "London", "Europe/London", ukNumber(1))
	ny := seedLead(t, db, camp, list, "New York", "America/New_York", "+12015550101")
	tokyo := seedLead(t, db, camp, list, "Tokyo", "Asia/Tokyo", "+81312345678")
	unknown := seedLead(t, db, camp, list, "Unknown zone", "", ukNumber(2)) // campaign zone: Europe/London
	bogus := seedLead(t, db, camp, list, "Bad zone", "Nowhere/Atlantis", ukNumber(3))
	var agents []int64
	for _, n := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
		agents = append(agents, seedAgent(t, db, n, camp))
	}
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	eng.SetLoad(camp, CampaignLoad{Ready: agents})
	w := newWorker(t, db, eng, clk)
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	offers, dials := eng.Take()
	if len(dials) != 0 {
		t.Fatalf("preview campaign dialled %v", dials)
	}
	var got []int64
	for i, o := range offers {
		got = append(got, o.Lead.ID)
		if o.Timeout != 20*time.Second || o.Campaign != camp || o.Agent != agents[i] {
			t.Errorf("offer %+v", o)
		}
	}
	slices.Sort(got)
	if want := []int64{london, ny, unknown}; !slices.Equal(got, want) {
		t.Fatalf("offered %v, want %v (tokyo %d is at 23:00, zone of %d unknown)", got, want, tokyo, bogus)
	}
	if l := lead(t, db, tokyo); l.Status != "new" {
		t.Errorf("tokyo %+v", l)
	}
	// The same agents still hold their offers: nothing more, even when due.
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if offers, _ := eng.Take(); len(offers) != 0 {
		t.Fatalf("agents with offers got more: %+v", offers)
	}
	// 01:00 UTC Wednesday: Tokyo 10:00, London 01:00.
	clk.Set(time.Date(2026, 3, 11, 1, 0, 0, 0, time.UTC))
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	offers, _ = eng.Take()
	if len(offers) != 1 || offers[0].Lead.ID != tokyo || offers[0].Lead.TimeZone != "Asia/Tokyo" {
		t.Fatalf("at 01:00 UTC offered %+v", offers)
	}
	// Sunday is not a calling day by default.
	exec(t, db, `UPDATE dialer_leads SET status = 'new'`)
	clk.Set(time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))
	w2 := newWorker(t, db, eng, clk)
	if err := w2.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if offers, _ := eng.Take(); len(offers) != 0 {
		t.Fatalf("Sunday offers %+v", offers)
	}
}

func TestPreviewOutcomesSkipAndRefusal(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "P", "outbound", `{"mode":"preview","retryDelays":{"skipped":600}}`)
	list := seedList(t, db, camp, "L")
	l1 := seedLead(t, db, camp, list, "One", "Europe/London", ukNumber(1), ukNumber(2), ukNumber(3))
	agent := seedAgent(t, db, "a", camp)
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{agent}})
	w := newWorker(t, db, eng, clk)

	// The engine refuses the offer: the lead goes back, undialled.
	eng.offerErr = errRefused
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if l := lead(t, db, l1); l.Status != "retry" || l.Attempts != 0 {
		t.Fatalf("after refusal %+v", l)
	}
	eng.offerErr = nil
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	offers, _ := eng.Take()
	if len(offers) != 1 || !slices.Equal(offers[0].Lead.Phones, []string{ukNumber(1), ukNumber(2), ukNumber(3)}) {
		t.Fatalf("offers %+v", offers)
	}
	// Timeout dialled the first number (informational), then no answer: the
	// next number is due at once; the agent is free again.
	aid := offers[0].AttemptID
	if err := w.HandleOutcome(ctx, AttemptOutcome{AttemptID: aid, CampaignID: camp, LeadID: l1, AgentID: agent, Result: ResultPreviewTimeoutDialled, At: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := w.HandleOutcome(ctx, AttemptOutcome{AttemptID: aid, CampaignID: camp, LeadID: l1, AgentID: agent, Number: ukNumber(1), Result: ResultNoAnswer, At: clk.Add(25 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if l := lead(t, db, l1); l.Status != "retry" || l.Attempts != 1 || l.NextPhone != 1 || l.LastOutcome != "no_answer" {
		t.Fatalf("after no answer %+v", l)
	}
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	offers, _ = eng.Take()
	if len(offers) != 1 || offers[0].Lead.ID != l1 {
		t.Fatalf("re-offer %+v", offers)
	}
	// Skip: back after the skipped delay, no attempt counted.
	if err := w.HandleOutcome(ctx, AttemptOutcome{AttemptID: offers[0].AttemptID, CampaignID: camp, LeadID: l1, AgentID: agent, Result: ResultSkipped, At: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	l := lead(t, db, l1)
	if l.Status != "retry" || l.Attempts != 1 || l.NextAttemptAt == nil || !l.NextAttemptAt.Equal(clk.Now().Add(10*time.Minute)) {
		t.Fatalf("after skip %+v", l)
	}
	atts := attempts(t, db, l1)
	if len(atts) != 1 || atts[0].Outcome != store.OutcomeNoAnswer || atts[0].Number != ukNumber(1) {
		t.Fatalf("attempts %+v", atts)
	}
}

func TestAttemptLimitsRetryDelaysAndNextPhone(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Prog", "outbound",
		`{"mode":"progressive","maxAttempts":3,"retryDelays":{"no_answer":600,"busy":120},"ringSeconds":20,"abandonMessage":"sound:sorry"}`)
	list := seedList(t, db, camp, "L")
	l1 := seedLead(t, db, camp, list, "Two phones", "Europe/London", ukNumber(1), ukNumber(2))
	exec(t, db, `INSERT INTO dialer_dnc (number, reason) VALUES (?, 'test')`, ukNumber(9))
	dncOnly := seedLead(t, db, camp, list, "DNC", "Europe/London", ukNumber(9))
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{1, 2}, ReadyPersistent: 2}) // room for both: the DNC one is dropped
	w := newWorker(t, db, eng, clk)

	dial := func(wantNumber string) PredictiveCall {
		t.Helper()
		if err := w.TickCampaign(ctx, camp); err != nil {
			t.Fatal(err)
		}
		_, dials := eng.Take()
		if len(dials) != 1 || dials[0].Number != wantNumber || dials[0].Lead.ID != l1 {
			t.Fatalf("dials %+v, want one to %s", dials, wantNumber)
		}
		return dials[0]
	}
	d := dial(ukNumber(1))
	if d.RingSeconds != 20 || d.AbandonMessage != "sound:sorry" || d.CallerID != "+441632960000" || d.CampaignID != camp {
		t.Errorf("call %+v", d)
	}
	if l := lead(t, db, dncOnly); l.Status != "dnc" {
		t.Errorf("DNC-only lead %+v", l)
	}
	// While it rings nothing else is due.
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if _, dials := eng.Take(); len(dials) != 0 {
		t.Fatalf("dialled while ringing: %+v", dials)
	}
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: d.AttemptID, CampaignID: camp, LeadID: l1, Number: d.Number, Result: ResultNoAnswer, At: clk.Add(20 * time.Second)}))
	d = dial(ukNumber(2)) // next phone at once
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: d.AttemptID, CampaignID: camp, LeadID: l1, Number: d.Number, Result: ResultBusy, At: clk.Add(5 * time.Second)}))
	if l := lead(t, db, l1); l.Status != "retry" || l.NextPhone != 0 || l.Attempts != 2 || !l.NextAttemptAt.Equal(clk.Now().Add(2*time.Minute)) {
		t.Fatalf("after busy on last phone %+v", l)
	}
	clk.Add(time.Minute)
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if _, dials := eng.Take(); len(dials) != 0 {
		t.Fatalf("dialled before the busy delay: %+v", dials)
	}
	clk.Add(61 * time.Second)
	d = dial(ukNumber(1)) // new round
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: d.AttemptID, CampaignID: camp, LeadID: l1, Number: d.Number, Result: ResultNoAnswer, At: clk.Add(20 * time.Second)}))
	if l := lead(t, db, l1); l.Status != "exhausted" || l.Attempts != 3 {
		t.Fatalf("after max attempts %+v", l)
	}
	atts := attempts(t, db, l1)
	var got []string
	for _, a := range atts {
		got = append(got, a.Number+":"+string(a.Outcome))
	}
	want := []string{ukNumber(1) + ":no_answer", ukNumber(2) + ":busy", ukNumber(1) + ":no_answer"}
	if !slices.Equal(got, want) {
		t.Fatalf("attempts %v, want %v", got, want)
	}
}

func TestAnsweredAbandonedAndEngineFailure(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Prog", "outbound", `{"mode":"progressive"}`)
	list := seedList(t, db, camp, "L")
	a := seedLead(t, db, camp, list, "A", "Europe/London", ukNumber(1))
	b := seedLead(t, db, camp, list, "B", "Europe/London", ukNumber(2))
	c := seedLead(t, db, camp, list, "C", "Europe/London", ukNumber(3))
	agent := seedAgent(t, db, "agent", camp)
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{agent, 99}, ReadyPersistent: 2})
	w := newWorker(t, db, eng, clk)
	must(t, w.TickCampaign(ctx, camp))
	_, dials := eng.Take()
	if len(dials) != 2 {
		t.Fatalf("dials %+v", dials)
	}
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: dials[0].AttemptID, CampaignID: camp, LeadID: a, Number: dials[0].Number,
		Result: ResultAnswered, AgentID: agent, At: clk.Add(8 * time.Second)}))
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: dials[1].AttemptID, CampaignID: camp, LeadID: b, Number: dials[1].Number,
		Result: ResultAbandoned, At: clk.Now()}))
	if l := lead(t, db, a); l.Status != "done" {
		t.Errorf("answered %+v", l)
	}
	if l := lead(t, db, b); l.Status != "retry" || !l.NextAttemptAt.Equal(clk.Now().Add(72*time.Hour)) {
		t.Errorf("abandoned %+v", l)
	}
	if n := scalar[int64](t, db, `SELECT agent_id FROM dialer_attempts WHERE lead_id = ?`, a); n != agent {
		t.Errorf("attempt agent %d", n)
	}
	// The abandon shows in the next snapshot; the engine refusing a dial
	// gives it back uncounted.
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{agent}, ReadyPersistent: 1})
	eng.dialErr = errRefused
	clk.Add(time.Second)
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	dec, _ := w.LastDecision(camp)
	if dec.Snapshot.Day.Answered != 2 || dec.Snapshot.Day.Abandoned != 1 || dec.Snapshot.Short.Abandoned != 1 || dec.Dial != 1 || dec.Dialled != 0 {
		t.Errorf("decision %+v", dec)
	}
	if l := lead(t, db, c); l.Status != "retry" || l.Attempts != 0 {
		t.Errorf("lead after failed originate %+v", l)
	}
}

// recordingPacer asks for a fixed number of calls and remembers what it saw.
type recordingPacer struct {
	mu     sync.Mutex
	n      int
	snaps  []pacing.Snapshot
	events []pacing.Event
}

func (p *recordingPacer) Name() string { return "recording" }
func (p *recordingPacer) Decide(s *pacing.Snapshot) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.snaps = append(p.snaps, *s)
	return p.n
}
func (p *recordingPacer) Observe(e pacing.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
}

func TestPacingWired(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Pred", "outbound", `{"mode":"predictive","maxAbandonRate":0.02}`)
	list := seedList(t, db, camp, "L")
	var ids []int64
	for i := range 10 {
		ids = append(ids, seedLead(t, db, camp, list, "L", "Europe/London", ukNumber(i)))
	}
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	rec := &recordingPacer{n: 3}
	var built []Settings
	w := newWorker(t, db, eng, clk, func(c *Config) {
		c.NewPacer = func(_ int64, s Settings) pacing.Pacer { built = append(built, s); return rec }
	})
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{1, 2, 3}, ReadyPersistent: 2, Busy: []time.Duration{30 * time.Second, 90 * time.Second},
		Wrapping: []time.Duration{12 * time.Second}, Dialing: 0, Queued: 1})
	must(t, w.TickCampaign(ctx, camp))
	_, dials := eng.Take()
	if len(dials) != 3 || len(built) != 1 || built[0].Mode != Predictive {
		t.Fatalf("dials %d, pacers %d", len(dials), len(built))
	}
	s := rec.snaps[0]
	if s.Ready != 2 || len(s.Busy) != 3 || s.InCall() != 2 || s.Busy[1].Elapsed != 90*time.Second || !s.Busy[2].InWrap || s.Busy[2].Elapsed != 12*time.Second || s.Waiting != 1 || s.Cap != 0.02 || !s.Now.Equal(tuesday) {
		t.Errorf("snapshot %+v", s)
	}
	// Ringing calls: the engine's count, with our dials' elapsed times.
	clk.Add(4 * time.Second)
	eng.SetLoad(camp, CampaignLoad{ReadyPersistent: 0, Dialing: 3})
	rec.n = 0
	must(t, w.TickCampaign(ctx, camp))
	if s := rec.snaps[1]; len(s.Ringing) != 3 || s.Ringing[0] != 4*time.Second {
		t.Errorf("ringing %v", s.Ringing)
	}
	// Outcomes teach the pacer: answered with its ring time, failures,
	// abandons.
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: dials[0].AttemptID, CampaignID: camp, LeadID: dials[0].Lead.ID, Number: dials[0].Number, Result: ResultAnswered, At: clk.Add(2 * time.Second)}))
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: dials[1].AttemptID, CampaignID: camp, LeadID: dials[1].Lead.ID, Number: dials[1].Number, Result: ResultNoAnswer, At: clk.Add(19 * time.Second)}))
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: dials[2].AttemptID, CampaignID: camp, LeadID: dials[2].Lead.ID, Number: dials[2].Number, Result: ResultAbandoned, At: clk.Now()}))
	var kinds []pacing.EventKind
	for _, e := range rec.events {
		kinds = append(kinds, e.Kind)
	}
	if want := []pacing.EventKind{pacing.Answered, pacing.Failed, pacing.Answered, pacing.Abandoned}; !slices.Equal(kinds, want) || rec.events[0].Duration != 6*time.Second {
		t.Errorf("events %+v", rec.events)
	}
	// Talk and wrap times come from the campaign's wrapped interactions.
	exec(t, db, `INSERT INTO interactions (id, campaign_id, direction, state, connected_at, ended_at, wrapped_at)
		VALUES ('i1', ?, 'OUT', 'wrapped', ?, ?, ?)`, camp, clk.Now(), clk.Now().Add(3*time.Minute), clk.Now().Add(200*time.Second))
	clk.Add(5 * time.Minute)
	must(t, w.TickCampaign(ctx, camp))
	var talked, wrapped time.Duration
	for _, e := range rec.events {
		switch e.Kind {
		case pacing.Talked:
			talked = e.Duration
		case pacing.Wrapped:
			wrapped = e.Duration
		}
	}
	if talked != 3*time.Minute || wrapped != 20*time.Second {
		t.Errorf("talk %v wrap %v", talked, wrapped)
	}
	// A restarted worker's predictive pacer is warmed up from the history.
	rec2 := &recordingPacer{}
	w2 := newWorker(t, db, eng, clk, func(c *Config) {
		c.NewPacer = func(int64, Settings) pacing.Pacer { return rec2 }
	})
	must(t, w2.TickCampaign(ctx, camp))
	if len(rec2.events) < 5 {
		t.Errorf("warm-up events %+v", rec2.events)
	}
}

func TestDefaultPredictiveColdStartIsProgressive(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Pred", "outbound", `{"mode":"predictive"}`)
	list := seedList(t, db, camp, "L")
	for i := range 10 {
		seedLead(t, db, camp, list, "L", "Europe/London", ukNumber(i))
	}
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	w := newWorker(t, db, eng, clk)
	// Ready agents without a persistent leg are not dialled for.
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{1, 2}})
	must(t, w.TickCampaign(ctx, camp))
	if _, d := eng.Take(); len(d) != 0 {
		t.Fatalf("dialled without persistent agents: %d", len(d))
	}
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{1, 2, 3}, ReadyPersistent: 3, Dialing: 1})
	must(t, w.TickCampaign(ctx, camp))
	_, d := eng.Take()
	dec, _ := w.LastDecision(camp)
	if len(d) != 2 || dec.Pacer != "ctid-predictive" {
		t.Fatalf("cold predictive dialled %d (%+v)", len(d), dec)
	}
}

func TestSkipLockedTwoWorkers(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Busy", "outbound", `{"mode":"progressive"}`)
	list := seedList(t, db, camp, "L")
	const leads = 120
	for i := range leads {
		seedLead(t, db, camp, list, "L", "Europe/London", ukNumber(i))
	}
	clk := &fakeClock{t: tuesday}
	engA, engB := newFakeEngine(), newFakeEngine()
	for _, e := range []*fakeEngine{engA, engB} {
		e.SetLoad(camp, CampaignLoad{ReadyPersistent: 7})
	}
	wA, wB := newWorker(t, db, engA, clk), newWorker(t, db, engB, clk)
	var wg sync.WaitGroup
	for _, w := range []*Worker{wA, wB} {
		for range 3 { // also concurrent ticks within one instance
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					if err := w.TickCampaign(ctx, camp); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	_, da := engA.Take()
	_, dbb := engB.Take()
	seen := map[int64]bool{}
	for _, d := range append(da, dbb...) {
		if seen[d.Lead.ID] {
			t.Fatalf("lead %d dialled twice", d.Lead.ID)
		}
		seen[d.Lead.ID] = true
	}
	if len(seen) != leads || len(da) == 0 || len(dbb) == 0 {
		t.Fatalf("dialled %d leads (A %d, B %d), want %d", len(seen), len(da), len(dbb), leads)
	}
	if n := scalar[int64](t, db, `SELECT count(*) FROM dialer_attempts`); n != leads {
		t.Fatalf("%d attempts", n)
	}
}

func TestLeadListsAndInactiveLists(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "C", "outbound", "")
	l1, l2, l3 := seedList(t, db, camp, "one"), seedList(t, db, camp, "two"), seedList(t, db, camp, "three")
	exec(t, db, `UPDATE campaigns SET settings = ?::jsonb WHERE id = ?`, `{"dialer":{"mode":"progressive","leadLists":[`+itoa(l2)+`,`+itoa(l3)+`]}}`, camp)
	exec(t, db, `UPDATE dialer_lead_lists SET active = false WHERE id = ?`, l3)
	seedLead(t, db, camp, l1, "in one", "Europe/London", ukNumber(1))
	want := seedLead(t, db, camp, l2, "in two", "Europe/London", ukNumber(2))
	seedLead(t, db, camp, l3, "in three", "Europe/London", ukNumber(3))
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	eng.SetLoad(camp, CampaignLoad{ReadyPersistent: 5})
	w := newWorker(t, db, eng, clk)
	must(t, w.TickCampaign(ctx, camp))
	_, d := eng.Take()
	if len(d) != 1 || d[0].Lead.ID != want {
		t.Fatalf("dials %+v", d)
	}
	// Paused campaigns and inbound ones do not dial.
	exec(t, db, `UPDATE campaigns SET settings = '{"dialer":{"mode":"progressive","active":false}}' WHERE id = ?`, camp)
	exec(t, db, `UPDATE dialer_leads SET status = 'new'`)
	must(t, w.TickCampaign(ctx, camp))
	if _, d := eng.Take(); len(d) != 0 {
		t.Fatalf("paused campaign dialled %d", len(d))
	}
}

func TestHousekeepingReleasesStaleClaims(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "C", "outbound", `{"mode":"preview"}`)
	list := seedList(t, db, camp, "L")
	l := seedLead(t, db, camp, list, "L", "Europe/London", ukNumber(1))
	talking := seedLead(t, db, camp, list, "On a long call", "Europe/London", ukNumber(2))
	exec(t, db, `UPDATE dialer_leads SET status = 'dialling', updated_at = ?`, tuesday.Add(-time.Hour))
	exec(t, db, `INSERT INTO interactions (id, campaign_id, direction, state, customer_number) VALUES ('I9', ?, 'OUT', 'connected', ?)`, camp, ukNumber(2))
	w := newWorker(t, db, newFakeEngine(), &fakeClock{t: tuesday})
	must(t, w.Housekeeping(ctx, tuesday))
	if r := lead(t, db, l); r.Status != "retry" {
		t.Fatalf("%+v", r)
	}
	if r := lead(t, db, talking); r.Status != "dialling" {
		t.Fatalf("lead on a call released: %+v", r)
	}
}

func TestCronDrivesTicks(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Cron", "outbound", `{"mode":"progressive","callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`)
	seedCampaign(t, db, "Inbound", "inbound", "")
	list := seedList(t, db, camp, "L")
	l := seedLead(t, db, camp, list, "L", "Europe/London", ukNumber(1))
	eng := newFakeEngine()
	eng.SetLoad(camp, CampaignLoad{ReadyPersistent: 1})
	w := newWorker(t, db, eng, nil, func(c *Config) { c.TickSpec = "@every 1s" })
	must(t, w.Start(ctx))
	deadline := time.Now().Add(10 * time.Second)
	var dials []PredictiveCall
	for time.Now().Before(deadline) && len(dials) == 0 {
		time.Sleep(100 * time.Millisecond)
		_, dials = eng.Take()
	}
	if len(dials) != 1 || dials[0].Lead.ID != l {
		t.Fatalf("cron dials %+v", dials)
	}
	w.Outcome(AttemptOutcome{AttemptID: dials[0].AttemptID, CampaignID: camp, LeadID: l, Number: dials[0].Number, Result: ResultAnswered, At: time.Now()})
	w.Stop() // drains queued outcomes
	if r := lead(t, db, l); r.Status != "done" {
		t.Fatalf("lead after async outcome %+v", r)
	}
	if len(w.entries) != 1 {
		t.Errorf("cron entries %v", w.entries)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestBrokenSettingsStopDiallingButOutcomesAreKept(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "C", "outbound", `{"mode":"progressive","retryDelays":{"no_answer":900}}`)
	list := seedList(t, db, camp, "L")
	l := seedLead(t, db, camp, list, "L", "Europe/London", ukNumber(1))
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	eng.SetLoad(camp, CampaignLoad{ReadyPersistent: 1})
	w := newWorker(t, db, eng, clk)
	must(t, w.TickCampaign(ctx, camp))
	_, d := eng.Take()
	exec(t, db, `UPDATE campaigns SET settings = '{"dialer":{"mode":"robot"}}' WHERE id = ?`, camp)
	if err := w.TickCampaign(ctx, camp); err == nil || !strings.Contains(err.Error(), "mode: must be preview, predictive or progressive") {
		t.Fatalf("tick with bad settings: %v", err)
	}
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: d[0].AttemptID, CampaignID: camp, LeadID: l, Number: ukNumber(1), Result: ResultNoAnswer, At: clk.Now()}))
	if r := lead(t, db, l); r.Status != "retry" || !r.NextAttemptAt.Equal(clk.Now().Add(15*time.Minute)) {
		t.Fatalf("outcome with broken settings: %+v (last good settings should apply)", r)
	}
}
