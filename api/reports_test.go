package api_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/cti/postgres"
)

type agentRep struct {
	Rows, Totals []postgres.AgentReportRow
}
type campRep struct {
	Rows, Totals []postgres.CampaignReportRow
}

// A known hour of one agent and two calls: the figures are what a person
// would work out by hand, and 15-minute rows, day rows, totals and CSV agree.
func TestReportsFiguresAndTotalsAgree(t *testing.T) {
	e := newEnv(t, envOptions{})
	t0 := time.Date(2026, 11, 2, 9, 5, 0, 0, time.UTC) // not on a boundary: state time is split
	at := func(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }
	alice := e.ids["alice"]
	for _, s := range []struct {
		m      float64
		to, rs string
	}{{0, "paused", "Break"}, {10, "ready", ""}, {20, "on_call", ""}, {25, "on_wrap", ""}, {26, "ready", ""}, {40, "logged_out", "Lunch"}} {
		if err := e.DB.Exec(`INSERT INTO agent_state_history(user_id, at, to_state, reason) VALUES (?, ?, ?, ?)`, alice, at(s.m), s.to, s.rs).Error; err != nil {
			t.Fatal(err)
		}
	}
	// An earlier state change, before the range: she was logged out then.
	e.DB.Exec(`INSERT INTO agent_state_history(user_id, at, to_state) VALUES (?, ?, 'logged_out')`, alice, at(-600))
	if err := e.DB.Exec(`INSERT INTO interactions(id, campaign_id, direction, customer_number, agent_id, state, created_at, queued_at,
			connected_at, ended_at, wrapped_at, queue_ms, hold_ms, wrap_code)
		VALUES ('I-answered', ?, 'IN', '+447700900001', ?, 'wrapped', ?, ?, ?, ?, ?, 5000, 30000, 'SALE'),
		       ('I-abandoned', ?, 'IN', '+447700900002', NULL, 'ended', ?, ?, NULL, ?, NULL, 0, 0, '')`,
		e.campaign, alice, at(19.9), at(19.9), at(20), at(25), at(26),
		e.campaign, at(30), at(30), at(31)).Error; err != nil {
		t.Fatal(err)
	}
	e.DB.Exec(`INSERT INTO dialer_callbacks(campaign_id, number, due_at, created_at) VALUES (?, '+447700900001', ?, ?)`, e.campaign, at(120), at(24))
	root := e.login("root")
	rng := fmt.Sprintf("from=%s&to=%s", qtime(t0.Truncate(time.Hour)), qtime(t0.Truncate(time.Hour).Add(2*time.Hour)))

	var r15, rday agentRep
	e.must(200, "GET", "/api/v1/reports/agents?"+rng, root, "").json(t, &r15)
	e.must(200, "GET", "/api/v1/reports/agents?interval=day&"+rng, root, "").json(t, &rday)
	var tot postgres.AgentReportRow
	for _, r := range r15.Totals {
		if r.AgentID == alice {
			tot = r
		}
	}
	s := func(ms int64) float64 { return float64(ms) / 1000 }
	if tot.Handled != 1 || s(tot.TalkMs) != 270 || s(tot.WrapMs) != 60 || s(tot.HoldMs) != 30 || s(tot.AHTMs) != 360 || s(tot.PauseByMs["Break"]) != 600 ||
		s(tot.ReadyMs) != 1440 || s(tot.OnCallMs) != 300 || s(tot.OnWrapMs) != 60 || s(tot.LoggedInMs) != 2400 ||
		tot.Occupancy == nil || *tot.Occupancy != 0.2 {
		t.Fatalf("alice's totals %+v", tot)
	}
	// 15-minute rows: 09:00 holds 10 min of pause (09:05-09:15), ...
	sum := postgres.AgentFigures{}
	for _, r := range r15.Rows {
		if r.AgentID != alice {
			continue
		}
		if r.Start.Equal(t0.Truncate(time.Hour)) && s(r.PausedMs) != 600 {
			t.Errorf("09:00 row %+v", r)
		}
		sum.Handled += r.Handled
		sum.TalkMs += r.TalkMs
		sum.ReadyMs += r.ReadyMs
		sum.PausedMs += r.PausedMs
		sum.LoggedInMs += r.LoggedInMs
	}
	var day postgres.AgentReportRow
	for _, r := range rday.Rows {
		if r.AgentID == alice {
			day = r
		}
	}
	if sum.Handled != day.Handled || sum.TalkMs != day.TalkMs || sum.ReadyMs != day.ReadyMs || sum.PausedMs != day.PausedMs ||
		sum.LoggedInMs != day.LoggedInMs || day.LoggedInMs != tot.LoggedInMs || day.ReadyMs != tot.ReadyMs {
		t.Fatalf("15-minute sum %+v, day %+v, total %+v", sum, day, tot)
	}

	var c15, cday campRep
	e.must(200, "GET", "/api/v1/reports/campaigns?"+rng, root, "").json(t, &c15)
	e.must(200, "GET", "/api/v1/reports/campaigns?interval=day&"+rng, root, "").json(t, &cday)
	var ct postgres.CampaignReportRow
	for _, r := range c15.Totals {
		if r.CampaignID == e.campaign {
			ct = r
		}
	}
	if ct.Offered != 2 || ct.Answered != 1 || ct.Abandoned != 1 || ct.InThreshold != 1 || ct.ServiceLevel == nil || *ct.ServiceLevel != 0.5 ||
		ct.ASAMs == nil || *ct.ASAMs != 5000 || ct.Callbacks != 1 {
		t.Fatalf("campaign totals %+v", ct)
	}
	if len(cday.Rows) != 1 || cday.Rows[0].Offered != 2 || cday.Rows[0].Callbacks != 1 {
		t.Fatalf("campaign day rows %+v", cday.Rows)
	}
	// CSV: the same totals.
	got := e.must(200, "GET", "/api/v1/reports/agents?format=csv&"+rng, root, "")
	recs, err := csv.NewReader(strings.NewReader(string(got.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	found := false
	for _, r := range recs[1:] {
		if r[0] == "total" && r[col["agent"]] == "Alice" {
			found = true
			if r[col["handled"]] != "1" || r[col["talk_s"]] != "270.0" || r[col["paused_Break_s"]] != "600.0" || r[col["occupancy_pct"]] != "20.0" {
				t.Fatalf("csv total %v (%v)", r, recs[0])
			}
		}
	}
	if !found {
		t.Fatalf("no total for Alice in %v", recs)
	}
	gotc := e.must(200, "GET", "/api/v1/reports/campaigns?format=csv&interval=day&"+rng, root, "")
	if !strings.Contains(string(gotc.body), "total,"+fmt.Sprint(e.campaign)+",Sales,2,1,1,1,50.0,5.0,0,0,1") {
		t.Fatalf("campaign csv %s", gotc.body)
	}
	// Bad requests.
	for _, q := range []string{"", "from=2026-11-02", "from=2026-11-02&to=2026-11-01", "from=2026-01-01&to=2026-06-01",
		rng + "&interval=week", rng + "&format=xml"} {
		e.must(400, "GET", "/api/v1/reports/agents?"+q, root, "").problem(t)
	}
	// Agents have no reports.
	e.must(403, "GET", "/api/v1/reports/agents?"+rng, e.login("alice"), "")
}
