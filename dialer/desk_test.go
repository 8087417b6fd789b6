package dialer

import (
	"testing"
	"time"
)

// Issue 15: a preview skipped with "Do not call" puts the lead's numbers on
// the campaign's do-not-call list (reason, agent, time) and closes the lead;
// a preview the agent paused on goes back untouched and due at once; the
// offered lead's numbers say which is mobile, home and work.
func TestPreviewSkipDoNotCallAndPauseReturn(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "P", "outbound", `{"mode":"preview","retryDelays":{"skipped":600}}`)
	list := seedList(t, db, camp, "L")
	l1 := seedLead(t, db, camp, list, "One", "Europe/London", ukNumber(1), ukNumber(2), ukNumber(3))
	agent := seedAgent(t, db, "ann", camp)
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{agent}})
	w := newWorker(t, db, eng, clk)

	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	offers, _ := eng.Take()
	if len(offers) != 1 {
		t.Fatalf("offers %+v", offers)
	}
	if lb := offers[0].Lead.PhoneLabels; lb[ukNumber(1)] != "mobile" || lb[ukNumber(2)] != "home" || lb[ukNumber(3)] != "work" {
		t.Fatalf("labels %+v", lb)
	}
	// The agent paused: the lead is due again now, no attempt counted.
	if err := w.HandleOutcome(ctx, AttemptOutcome{AttemptID: offers[0].AttemptID, CampaignID: camp, LeadID: l1, AgentID: agent,
		Result: ResultReturned, Reason: "agent paused", At: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if l := lead(t, db, l1); l.Status != "retry" || l.Attempts != 0 || l.NextAttemptAt == nil || l.NextAttemptAt.After(clk.Now()) {
		t.Fatalf("after pause %+v", l)
	}
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	offers, _ = eng.Take()
	if len(offers) != 1 || offers[0].Lead.ID != l1 {
		t.Fatalf("re-offer after pause %+v", offers)
	}
	at := clk.Add(3 * time.Second)
	if err := w.HandleOutcome(ctx, AttemptOutcome{AttemptID: offers[0].AttemptID, CampaignID: camp, LeadID: l1, AgentID: agent,
		Result: ResultSkipped, Reason: "Do not call", At: at}); err != nil {
		t.Fatal(err)
	}
	if l := lead(t, db, l1); l.Status != "dnc" || l.Attempts != 0 {
		t.Fatalf("after do-not-call skip %+v", l)
	}
	type dncRow struct {
		Number, Reason, AddedBy string
		CampaignID              int64
		AddedAt                 time.Time
	}
	var rows []dncRow
	if err := db.Raw(`SELECT number, reason, added_by, campaign_id, added_at FROM dialer_dnc ORDER BY number`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Number != ukNumber(1) || rows[0].AddedBy != "ann" || rows[0].CampaignID != camp ||
		rows[0].Reason == "" || !rows[0].AddedAt.Equal(at) {
		t.Fatalf("dnc rows %+v", rows)
	}
	// Not offered again.
	if err := w.TickCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if offers, _ := eng.Take(); len(offers) != 0 {
		t.Fatalf("a do-not-call lead was offered again: %+v", offers)
	}
}

func TestIsDoNotCall(t *testing.T) {
	for reason, want := range map[string]bool{"Do not call": true, " do  NOT call ": true, "DNC": true, "Busy": false, "": false} {
		if IsDoNotCall(reason) != want {
			t.Errorf("IsDoNotCall(%q) = %v", reason, !want)
		}
	}
}
