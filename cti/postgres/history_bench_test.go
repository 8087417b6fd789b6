package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

// BenchmarkHistory generates CTID_HISTORY_ROWS interactions (1,000,000) over
// 30 days on 20 campaigns and 200 agents (a third recorded, one in twenty
// bookmarked) with the agents' state history for the month, then times
// each kind of search's first page and a deep page (p50/p99 of 50 runs,
// with the plan), and the month's reports. Figures are printed, not
// asserted. make bench-supervisor runs it.
func BenchmarkHistory(b *testing.B) {
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CTID_HISTORY_ROWS")); err == nil && v > 0 {
		rows = v
	}
	db := pgtest.DB(b)
	ctx := context.Background()
	t0 := time.Now()
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	start := end.AddDate(0, 0, -30)
	must := func(sql string, args ...any) {
		if err := db.Exec(sql, args...).Error; err != nil {
			b.Fatalf("%v\n%s", err, sql)
		}
	}
	must(`INSERT INTO campaigns(name) SELECT 'C' || g FROM generate_series(1, 20) g`)
	must(`INSERT INTO users(username, password_hash, display_name, role) SELECT 'a' || g, 'x', 'Agent ' || g, 'agent' FROM generate_series(1, 200) g`)
	must(`INSERT INTO campaign_agents(campaign_id, user_id) SELECT c.id, u.id FROM campaigns c JOIN users u ON (u.id % 20) = (c.id % 20)`)
	// Interactions: spread evenly over the month; every 7th abandoned.
	must(`INSERT INTO interactions(id, campaign_id, direction, customer_number, agent_id, state, created_at, queued_at, connected_at,
			ended_at, wrapped_at, queue_ms, wrap_code, end_reason)
		SELECT 'I' || g, c, CASE WHEN g % 3 = 0 THEN 'OUT' ELSE 'IN' END, '+4477009' || lpad((g % 100000)::text, 5, '0'),
			CASE WHEN g % 7 = 0 THEN NULL ELSE a END, 'wrapped', t, t, CASE WHEN g % 7 = 0 THEN NULL ELSE t + interval '15 seconds' END,
			t + interval '200 seconds', CASE WHEN g % 7 = 0 THEN NULL ELSE t + interval '230 seconds' END,
			CASE WHEN g % 7 = 0 THEN 40000 ELSE 15000 END, CASE WHEN g % 7 = 0 THEN '' ELSE (ARRAY['SALE','NOSALE','CB','INFO','COMPLAINT'])[1 + g % 5] END,
			CASE WHEN g % 7 = 0 THEN 'caller hung up' ELSE 'agent hung up' END
		FROM (SELECT g, ?::timestamptz + (g::float8 / ?) * interval '30 days' AS t,
			(SELECT min(id) FROM campaigns) + g % 20 AS c, (SELECT min(id) FROM users) + (g::bigint * 7919) % 200 AS a
			FROM generate_series(1, ?) g) s`, start, rows, rows)
	must(`INSERT INTO recordings(name, interaction_id, state, started_at, ended_at, duration_ms)
		SELECT 'rec-' || id, id, 'done', connected_at, ended_at, 185000 FROM interactions WHERE connected_at IS NOT NULL AND right(id, 1) IN ('1','4','7')`)
	must(`INSERT INTO bookmarks(recording_name, interaction_id, offset_ms, note)
		SELECT name, interaction_id, 30000, 'note' FROM recordings WHERE right(interaction_id, 2) IN ('11','41','71','17','47')`)
	// State history for the month: per agent per working day, 8 hours of
	// Ready / On call / Wrap cycles with a pause every hour.
	must(`INSERT INTO agent_state_history(user_id, at, to_state, reason)
		SELECT u.id, d + interval '8 hours' + k * interval '5 minutes',
			(ARRAY['ready','on_call','on_wrap','ready','on_call','on_wrap','ready','on_call','on_wrap','ready','on_call','paused'])[1 + k % 12],
			CASE WHEN k % 12 = 11 THEN (ARRAY['Break','Lunch','Training'])[1 + (k / 12) % 3] ELSE '' END
		FROM users u, generate_series(?::timestamptz, ?::timestamptz - interval '1 day', interval '1 day') d, generate_series(0, 95) k
		WHERE u.role = 'agent'`, start, end)
	must(`ANALYZE`)
	var n, nrec, nbm, nst int64
	db.Raw(`SELECT count(*) FROM interactions`).Scan(&n)
	db.Raw(`SELECT count(*) FROM recordings`).Scan(&nrec)
	db.Raw(`SELECT count(*) FROM bookmarks`).Scan(&nbm)
	db.Raw(`SELECT count(*) FROM agent_state_history`).Scan(&nst)
	fmt.Printf("history bench: %d interactions, %d recordings, %d bookmarks, %d state changes generated in %s\n", n, nrec, nbm, nst, time.Since(t0).Round(time.Second))

	h := postgres.NewHistory(db)
	var camp, agent int64
	db.Raw(`SELECT min(id) + 3 FROM campaigns`).Scan(&camp)
	db.Raw(`SELECT min(id) + 42 FROM users`).Scan(&agent)
	yes, no := true, false
	mid := start.Add(15 * 24 * time.Hour)
	all := postgres.Scope{All: true}
	kinds := []struct {
		name string
		sc   postgres.Scope
		f    postgres.HistoryFilter
	}{
		{"newest (no filter)", all, postgres.HistoryFilter{}},
		{"time range (one day)", all, postgres.HistoryFilter{From: mid, To: mid.Add(24 * time.Hour)}},
		{"campaign", all, postgres.HistoryFilter{CampaignID: camp}},
		{"agent", all, postgres.HistoryFilter{AgentID: agent}},
		{"customer number", all, postgres.HistoryFilter{Customer: "+447700912345"}},
		{"direction OUT", all, postgres.HistoryFilter{Direction: "OUT"}},
		{"wrap code", all, postgres.HistoryFilter{WrapCode: "COMPLAINT"}},
		{"has recording", all, postgres.HistoryFilter{HasRecording: &yes}},
		{"has bookmark", all, postgres.HistoryFilter{HasBookmark: &yes}},
		{"no recording", all, postgres.HistoryFilter{HasRecording: &no}},
		{"campaign + day + wrap", all, postgres.HistoryFilter{CampaignID: camp, From: mid, To: mid.Add(24 * time.Hour), WrapCode: "SALE"}},
		{"supervisor of 2 campaigns", postgres.Scope{Campaigns: []int64{camp, camp + 1}}, postgres.HistoryFilter{}},
		{"agent's own calls", postgres.Scope{AgentID: agent}, postgres.HistoryFilter{}},
	}
	var plans strings.Builder
	for _, k := range kinds {
		var times []time.Duration
		var got int
		page, err := h.Search(ctx, k.sc, k.f) // warm
		if err != nil {
			b.Fatalf("%s: %v", k.name, err)
		}
		for range 50 {
			t := time.Now()
			p, err := h.Search(ctx, k.sc, k.f)
			if err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(t))
			got = len(p.Items)
		}
		// A deep page: 20 pages on.
		deep := k.f
		deep.Cursor = page.Next
		for i := 0; i < 20 && deep.Cursor != ""; i++ {
			p, _ := h.Search(ctx, k.sc, deep)
			deep.Cursor = p.Next
		}
		var deepT time.Duration
		if deep.Cursor != "" {
			t := time.Now()
			h.Search(ctx, k.sc, deep)
			deepT = time.Since(t)
		}
		slices.Sort(times)
		fmt.Printf("  %-28s p50 %6.2f ms  p99 %6.2f ms  (%d rows/page; page 22: %.2f ms)\n", k.name,
			float64(times[len(times)/2].Microseconds())/1000, float64(times[len(times)*99/100].Microseconds())/1000, got, float64(deepT.Microseconds())/1000)
		plan, _ := h.Explain(ctx, k.sc, k.f, true)
		fmt.Fprintf(&plans, "--- %s\n%s\n", k.name, plan)
	}
	if os.Getenv("CTID_HISTORY_PLANS") != "" {
		fmt.Print(plans.String())
	} else {
		for _, line := range strings.Split(plans.String(), "\n") {
			if strings.HasPrefix(line, "---") || strings.Contains(line, "Scan") && !strings.Contains(line, "SubPlan") {
				fmt.Println("   ", strings.TrimSpace(line))
			}
		}
	}
	// Export: every row of a campaign, streamed.
	t := time.Now()
	cnt := 0
	if err := h.Each(ctx, all, postgres.HistoryFilter{CampaignID: camp}, func(postgres.HistoryRow) error { cnt++; return nil }); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("  export of one campaign: %d rows in %s (%.0f rows/s)\n", cnt, time.Since(t).Round(time.Millisecond), float64(cnt)/time.Since(t).Seconds())

	rep := postgres.NewReports(db)
	for _, byDay := range []bool{true, false} {
		q := postgres.ReportQuery{From: start, To: end, ByDay: byDay, Now: end}
		t := time.Now()
		rows, totals, err := rep.Agents(ctx, all, q)
		if err != nil {
			b.Fatal(err)
		}
		ta := time.Since(t)
		t = time.Now()
		crows, _, err := rep.Campaigns(ctx, all, q)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("  month report (byDay=%v): agents %d rows + %d totals in %s; campaigns %d rows in %s\n", byDay, len(rows), len(totals),
			ta.Round(time.Millisecond), len(crows), time.Since(t).Round(time.Millisecond))
	}
}
