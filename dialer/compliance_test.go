package dialer

import (
	"testing"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
)

// TestComplianceWindowsAndFallback: the 24-hour and 30-day abandon rates
// are counted from dialer_attempts by outcome time, with the AMD
// false-positive estimate in; a predictive campaign whose 30-day rate is at
// the cap dials progressively (and without AMD) whatever its pacer asks.
func TestComplianceWindowsAndFallback(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Pred", "outbound", `{"mode":"predictive","amd":{"enabled":true,"falsePositiveShare":0.1},
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`)
	list := seedList(t, db, camp, "L")
	leadID := seedLead(t, db, camp, list, "L", "Europe/London", ukNumber(1))
	for i := range 10 {
		seedLead(t, db, camp, list, "L", "Europe/London", ukNumber(100+i))
	}
	add := func(outcome string, ago time.Duration) {
		at := tuesday.Add(-ago)
		exec(t, db, `INSERT INTO dialer_attempts (lead_id, campaign_id, number, outcome, started_at, answered_at, ended_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, leadID, camp, ukNumber(1), outcome, at.Add(-10*time.Second), at, at)
	}
	// Today: 97 answered, 1 abandoned, 10 machine verdicts (1 estimated
	// person): (1+1)/(98+1) = 2.02%. Ten days ago: 100 answered, 5
	// abandoned. 30 days: (6+1)/(203+1) = 3.43%, over 3%.
	for range 97 {
		add("answered", time.Hour)
	}
	add("abandoned", 2*time.Hour)
	for range 10 {
		add("machine", 3*time.Hour)
	}
	for range 95 {
		add("answered", 240*time.Hour)
	}
	for range 5 {
		add("abandoned", 240*time.Hour)
	}
	add("abandoned", 31*24*time.Hour) // outside both windows
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	rec := &recordingPacer{n: 5}
	w := newWorker(t, db, eng, clk, func(c *Config) {
		c.NewPacer = func(int64, Settings) pacing.Pacer { return rec }
	})
	r, err := w.Compliance(ctx, camp)
	must(t, err)
	near := func(got, want float64) bool { return got > want-1e-9 && got < want+1e-9 }
	if d := r.Day; d.Answered != 98 || d.Abandoned != 1 || d.Machines != 10 || !near(d.EstimatedFalsePositives, 1) ||
		!near(d.Rate, 2.0/99) || d.AtCap || d.Window != "24h" {
		t.Errorf("24 h %+v", d)
	}
	if m := r.Month; m.Answered != 198 || m.Abandoned != 6 || !near(m.Rate, 7.0/199) || !m.AtCap || m.Window != "30d" {
		t.Errorf("30 days %+v", m)
	}
	if !r.Progressive || !r.AMD || r.Mode != Predictive {
		t.Errorf("report %+v", r)
	}
	// The pacer asks for 5 with 2 ready persistent agents: the 30-day cap
	// makes it progressive (2), without AMD.
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{1, 2}, ReadyPersistent: 2})
	must(t, w.TickCampaign(ctx, camp))
	_, dials := eng.Take()
	if len(dials) != 2 {
		t.Fatalf("%d dials at the 30-day cap, want progressive 2", len(dials))
	}
	for _, d := range dials {
		if d.AMD {
			t.Errorf("AMD on a call placed at the cap: %+v", d)
		}
	}
}

// TestDailyAttemptCapPerNumber: a number dialled its daily maximum (by any
// campaign) is not dialled again until the next day in the campaign's zone.
func TestDailyAttemptCapPerNumber(t *testing.T) {
	db := pgtestDB(t)
	camp := seedCampaign(t, db, "Prog", "outbound", `{"mode":"progressive","maxDailyAttemptsPerNumber":2,"timeZone":"Europe/London",
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`)
	other := seedCampaign(t, db, "Other", "outbound", `{"mode":"progressive"}`)
	list := seedList(t, db, camp, "L")
	capped := seedLead(t, db, camp, list, "A", "Europe/London", ukNumber(1))
	free := seedLead(t, db, camp, list, "B", "Europe/London", ukNumber(2))
	olist := seedList(t, db, other, "O")
	olead := seedLead(t, db, other, olist, "O", "Europe/London", ukNumber(1))
	for _, h := range []time.Duration{3 * time.Hour, 5 * time.Hour} { // today (14:00 London)
		exec(t, db, `INSERT INTO dialer_attempts (lead_id, campaign_id, number, outcome, started_at, ended_at) VALUES (?, ?, ?, 'no_answer', ?, ?)`,
			olead, other, ukNumber(1), tuesday.Add(-h), tuesday.Add(-h))
	}
	eng, clk := newFakeEngine(), &fakeClock{t: tuesday}
	w := newWorker(t, db, eng, clk)
	eng.SetLoad(camp, CampaignLoad{Ready: []int64{1, 2}, ReadyPersistent: 2})
	must(t, w.TickCampaign(ctx, camp))
	_, dials := eng.Take()
	if len(dials) != 1 || dials[0].Lead.ID != free {
		t.Fatalf("dials %+v, want only lead %d", dials, free)
	}
	l := lead(t, db, capped)
	if l.Status != "retry" || l.NextAttemptAt == nil || !l.NextAttemptAt.Equal(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("capped lead %+v, want retry at London midnight", l)
	}
}
