package dialer

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCreateCallbackValidation(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Sales", "outbound", `{"callingWindow":{"start":"09:00","end":"20:00","days":[1,2,3,4,5]}}`)
	other := seedCampaign(t, db, "Other", "inbound", "")
	agent := seedAgent(t, db, "owner", camp)
	stranger := seedAgent(t, db, "stranger", other)
	list := seedList(t, db, other, "L")
	otherLead := seedLead(t, db, other, list, "X", "", ukNumber(7))
	exec(t, db, `INSERT INTO dialer_dnc (number, campaign_id) VALUES (?, ?)`, ukNumber(8), camp)
	clk := &fakeClock{t: tuesday}
	w := newWorker(t, db, newFakeEngine(), clk)
	ok := CallbackRequest{CampaignID: camp, Number: "07911 000001", Name: "Ann", DueAt: tuesday.Add(2 * time.Hour), AgentID: agent, CreatedBy: agent}
	cases := []struct {
		mod   func(*CallbackRequest)
		field string
		msg   string
	}{
		{func(r *CallbackRequest) { r.Number = "12345" }, "number", "not a valid phone number"},
		{func(r *CallbackRequest) { r.Number = ukNumber(8) }, "number", "do-not-call"},
		{func(r *CallbackRequest) { r.DueAt = tuesday.Add(-time.Minute) }, "dueAt", "must be in the future"},
		{func(r *CallbackRequest) { r.DueAt = tuesday.AddDate(2, 0, 0) }, "dueAt", "within a year"},
		{func(r *CallbackRequest) { r.DueAt = tuesday.Add(7 * time.Hour) }, "dueAt", "Tue 2026-03-10 21:00 is outside the campaign's calling window 09:00-20:00 days 1,2,3,4,5 in the number's time zone Europe/London"},
		{func(r *CallbackRequest) { r.DueAt = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC) }, "dueAt", "Sat"},
		{func(r *CallbackRequest) { r.AgentID = stranger }, "agentId", "is not on campaign"},
		{func(r *CallbackRequest) { r.CampaignID = 9999 }, "campaignId", "does not exist"},
		{func(r *CallbackRequest) { r.LeadID = otherLead }, "leadId", "is not a lead of campaign"},
		{func(r *CallbackRequest) { r.FromInteraction = "nope" }, "fromInteraction", "does not exist"},
	}
	for _, c := range cases {
		r := ok
		c.mod(&r)
		_, err := w.CreateCallback(ctx, r)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || !strings.Contains(ve.Problem, c.msg) {
			t.Errorf("%s: got %v, want %s: …%s…", c.field, err, c.field, c.msg)
		}
	}
	if n := scalar[int64](t, db, `SELECT count(*) FROM dialer_callbacks`); n != 0 {
		t.Fatalf("%d callbacks stored by bad requests", n)
	}
	// New York number: its own zone decides (16:00 UTC = 12:00 EDT).
	cb, err := w.CreateCallback(ctx, CallbackRequest{CampaignID: camp, Number: "+1 201 555 0123", DueAt: tuesday.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if cb.Number != "+12015550123" || cb.TimeZone != "America/New_York" || cb.Status != CallbackPending || cb.AgentID != nil {
		t.Errorf("%+v", cb)
	}
	cb, err = w.CreateCallback(ctx, ok)
	if err != nil || cb.Number != ukNumber(1) || *cb.AgentID != agent || cb.Name != "Ann" {
		t.Fatalf("%+v %v", cb, err)
	}
	list2 := scalar[int64](t, db, `INSERT INTO dialer_lead_lists (campaign_id, name) VALUES (?, 'mine') RETURNING id`, camp)
	l := seedLead(t, db, camp, list2, "Lead", "Europe/London", ukNumber(5))
	cb2, err := w.CreateCallback(ctx, CallbackRequest{CampaignID: camp, Number: ukNumber(5), LeadID: l, DueAt: tuesday.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r := lead(t, db, l); r.Status != "callback" {
		t.Errorf("lead with callback %+v", r)
	}
	must(t, w.CancelCallback(ctx, cb2.ID))
	if r := lead(t, db, l); r.Status != "retry" {
		t.Errorf("lead after cancel %+v", r)
	}
	var ve *ValidationError
	if err := w.CancelCallback(ctx, cb2.ID); !errors.As(err, &ve) {
		t.Errorf("second cancel: %v", err)
	}
	if err := w.CancelCallback(ctx, 424242); !errors.Is(err, ErrCallbackNotFound) {
		t.Errorf("missing cancel: %v", err)
	}
	mine, err := w.ListCallbacks(ctx, CallbackFilter{AgentID: agent})
	if err != nil || len(mine) != 1 || mine[0].ID != cb.ID {
		t.Errorf("list %+v %v", mine, err)
	}
}

func TestCallbackToOwnerThenQueueAfterGrace(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Sales", "outbound", `{"mode":"preview","callbackGraceSeconds":300,"previewTimeoutSeconds":15}`)
	owner := seedAgent(t, db, "owner", camp)
	other := seedAgent(t, db, "other", camp)
	third := seedAgent(t, db, "third", camp)
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	w := newWorker(t, db, eng, clk)
	due := tuesday.Add(10 * time.Minute)
	mine, err := w.CreateCallback(ctx, CallbackRequest{CampaignID: camp, Number: ukNumber(1), Name: "Mine", DueAt: due, AgentID: owner, CreatedBy: owner})
	must(t, err)
	queue, err := w.CreateCallback(ctx, CallbackRequest{CampaignID: camp, Number: ukNumber(2), Name: "Queue", DueAt: due})
	must(t, err)

	// Not due yet: nothing.
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{other}})
	must(t, w.TickCampaign(ctx, camp))
	if offers, _ := eng.Take(); len(offers) != 0 {
		t.Fatalf("early offers %+v", offers)
	}
	// Due; the owner is not Ready: the queue callback goes to anyone, the
	// owner's waits for the grace period.
	clk.Set(due.Add(time.Second))
	must(t, w.TickCampaign(ctx, camp))
	offers, _ := eng.Take()
	if len(offers) != 1 || offers[0].Agent != other || offers[0].Lead.Name != "Queue" || offers[0].Lead.Data["callbackId"] == "" ||
		offers[0].Timeout != 15*time.Second || offers[0].Lead.Phones[0] != ukNumber(2) {
		t.Fatalf("offers %+v", offers)
	}
	// The owner becomes Ready: their own callback.
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{owner, third}})
	clk.Add(time.Minute)
	must(t, w.TickCampaign(ctx, camp))
	offers, _ = eng.Take()
	if len(offers) != 1 || offers[0].Agent != owner || offers[0].Lead.Name != "Mine" {
		t.Fatalf("owner offers %+v", offers)
	}
	// The owner answers it; the queue one is not answered: back to pending
	// after the no-answer delay (1 h), to its agent again then.
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: offers[0].AttemptID, CampaignID: camp, Number: ukNumber(1), AgentID: owner,
		Result: ResultAnswered, At: clk.Now()}))
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: callbackKey(queue.ID, 0), CampaignID: camp, Number: ukNumber(2), AgentID: other,
		Result: ResultNoAnswer, At: clk.Now()}))
	got, _ := w.GetCallback(ctx, mine.ID)
	if got.Status != CallbackDone || got.Outcome != "answered" || got.Attempts != 1 {
		t.Errorf("answered callback %+v", got)
	}
	got, _ = w.GetCallback(ctx, queue.ID)
	if got.Status != CallbackPending || got.Attempts != 1 || !got.DueAt.Equal(clk.Now().Add(time.Hour)) || got.OfferedTo != nil {
		t.Errorf("unanswered callback %+v", got)
	}

	// An owned callback after the grace period goes to another agent.
	later, err := w.CreateCallback(ctx, CallbackRequest{CampaignID: camp, Number: ukNumber(3), DueAt: clk.Now().Add(time.Minute), AgentID: owner})
	must(t, err)
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{third}})
	clk.Add(2 * time.Minute)
	must(t, w.TickCampaign(ctx, camp))
	if offers, _ := eng.Take(); len(offers) != 0 {
		t.Fatalf("offered to another agent inside grace: %+v", offers)
	}
	clk.Add(5 * time.Minute)
	must(t, w.TickCampaign(ctx, camp))
	offers, _ = eng.Take()
	if len(offers) != 1 || offers[0].Agent != third || offers[0].Lead.Phones[0] != ukNumber(3) {
		t.Fatalf("after grace %+v", offers)
	}
	// Skipped: pending again.
	must(t, w.HandleOutcome(ctx, AttemptOutcome{AttemptID: offers[0].AttemptID, CampaignID: camp, AgentID: third, Result: ResultSkipped, At: clk.Now()}))
	if got, _ := w.GetCallback(ctx, later.ID); got.Status != CallbackPending || got.Attempts != 0 {
		t.Errorf("skipped %+v", got)
	}
}

func TestCallbacksSurviveRestartAndRespectWindow(t *testing.T) {
	db := pgtestDB(t)
	// An inbound campaign: callbacks only, served by the minute job.
	camp := seedCampaign(t, db, "Help", "inbound", "")
	agent := seedAgent(t, db, "a", camp)
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	w1 := newWorker(t, db, eng, clk)
	// Due at 19:59 London: inside the window when due, but it is only
	// looked at after 20:00, so it waits for the next morning.
	cb, err := w1.CreateCallback(ctx, CallbackRequest{CampaignID: camp, Number: ukNumber(1), DueAt: time.Date(2026, 3, 10, 19, 59, 0, 0, time.UTC)})
	must(t, err)
	// ctid restarts: a new worker with no memory.
	w2 := newWorker(t, db, eng, clk)
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{agent}})
	clk.Set(time.Date(2026, 3, 10, 20, 30, 0, 0, time.UTC))
	must(t, w2.Minute(ctx))
	if offers, _ := eng.Take(); len(offers) != 0 {
		t.Fatalf("offered outside the window: %+v", offers)
	}
	clk.Set(time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC))
	must(t, w2.Minute(ctx))
	offers, _ := eng.Take()
	if len(offers) != 1 || offers[0].Agent != agent || offers[0].Lead.Data["callbackId"] != itoa(cb.ID) {
		t.Fatalf("offers %+v", offers)
	}
	// Offered but ctid restarted before any outcome: housekeeping gives it
	// back after StaleAfter.
	w3 := newWorker(t, db, eng, clk, func(c *Config) { c.StaleAfter = 10 * time.Minute })
	clk.Add(11 * time.Minute)
	must(t, w3.Minute(ctx))
	offers, _ = eng.Take()
	if len(offers) != 1 {
		t.Fatalf("stale offer not re-offered: %+v", offers)
	}
}

func TestStasisCallback(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "IVR", "inbound", "")
	exec(t, db, `INSERT INTO interactions (id, campaign_id, direction, state) VALUES ('I1', ?, 'IN', 'ended')`, camp)
	clk := &fakeClock{t: tuesday} // 14:00 London
	w := newWorker(t, db, newFakeEngine(), clk)
	cb, err := w.StasisCallback(ctx, camp, "07911000001", "+2h", "I1")
	if err != nil || !cb.DueAt.Equal(tuesday.Add(2*time.Hour)) || cb.AgentID != nil || *cb.FromInteraction != "I1" {
		t.Fatalf("%+v %v", cb, err)
	}
	cb, err = w.StasisCallback(ctx, camp, "+447911000001", "10:30", "")
	if err != nil || !cb.DueAt.Equal(time.Date(2026, 3, 11, 10, 30, 0, 0, time.UTC)) {
		t.Fatalf("HH:MM tomorrow: %+v %v", cb, err)
	}
	if _, err := w.StasisCallback(ctx, camp, "+447911000001", "soon", ""); err == nil || !strings.Contains(err.Error(), "not a time") {
		t.Fatalf("bad when: %v", err)
	}
	if _, err := w.StasisCallback(ctx, camp, "+447911000001", "2026-03-10T23:00:00Z", ""); err == nil {
		t.Fatal("callback outside the window accepted")
	}
}
