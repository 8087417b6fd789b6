package api_test

import (
	"encoding/csv"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/postgres"
)

// addReviewer creates the reviewer "rita" and returns her token.
func (e *env) addReviewer() string {
	e.t.Helper()
	acc, err := e.admin.CreateUser(ctx(), postgres.NewUser{Username: "rita", Password: password, DisplayName: "Rita", Role: cti.RoleReviewer})
	if err != nil {
		e.t.Fatal(err)
	}
	e.ids["rita"] = acc.ID
	return e.login("rita")
}

type historyPage struct {
	Items []postgres.HistoryRow
	Next  string
}

func (e *env) search(tok, query string) historyPage {
	e.t.Helper()
	var p historyPage
	e.must(200, "GET", "/api/v1/history/interactions?"+query, tok, "").json(e.t, &p)
	return p
}

// A recorded call with bookmarks and a pause, found and opened by each
// role as the access rules say, its markers on the recording's timeline.
func TestHistorySearchDetailAccessAndExport(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.recordingCampaign()
	tok := e.login("alice")
	ws, cust, iid := e.onCall(tok, "1001")
	e.eventually(tok, "recording", func(s cti.AgentSnapshot) bool { return s.Recording != nil && s.Recording.State == "recording" })
	time.Sleep(50 * time.Millisecond) // a bookmark offset above zero
	e.must(201, "POST", "/api/v1/agent/bookmarks", tok, `{"note":"promised a refund"}`)
	ws.next("recording.bookmark")
	e.must(204, "PUT", "/api/v1/agent/calls/"+iid+"/notes", tok, `{"notes":"wants a refund"}`)
	e.must(200, "POST", "/api/v1/agent/recording/pause", tok, "")
	e.must(200, "POST", "/api/v1/agent/recording/resume", tok, "")
	e.eventually(tok, "resumed", func(s cti.AgentSnapshot) bool { return s.Recording != nil && s.Recording.State == "recording" })
	e.must(201, "POST", "/api/v1/agent/bookmarks", tok, `{"note":"after the pause"}`)
	e.Double.HangupChannel(cust, 16)
	e.waitState(tok, cti.AgentOnWrap)
	e.must(200, "POST", "/api/v1/agent/wrap", tok, `{"code":"SALE","next":"paused","reason":"Break"}`)
	e.Engine.Flush(ctx())
	ctitest.Eventually(t, 15*time.Second, "recording finished", func() bool {
		var n int64
		e.DB.Raw(`SELECT count(*) FROM recordings WHERE interaction_id = ? AND state NOT IN ('recording','starting')`, iid).Scan(&n)
		return n == 1
	})

	rita := e.addReviewer()
	sue, root, bob := e.login("sue"), e.login("root"), e.login("bob")
	// Sue supervises no campaign yet: she sees nothing.
	if p := e.search(sue, ""); len(p.Items) != 0 {
		t.Fatalf("unassigned supervisor sees %d calls", len(p.Items))
	}
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["sue"]), root, fmt.Sprintf(`{"campaignIds":[%d]}`, e.campaign))
	for _, who := range []struct {
		name, tok string
		n         int
	}{{"alice", tok, 1}, {"bob", bob, 0}, {"sue", sue, 1}, {"rita", rita, 1}, {"root", root, 1}} {
		if p := e.search(who.tok, ""); len(p.Items) != who.n {
			t.Errorf("%s sees %d calls, want %d", who.name, len(p.Items), who.n)
		}
	}
	// Filters, each one way that matches and one that does not.
	for q, n := range map[string]int{
		"hasRecording=true": 1, "hasRecording=false": 0, "hasBookmark=true": 1, "hasBookmark=false": 0,
		"direction=IN": 1, "direction=OUT": 0, "wrapCode=SALE": 1, "wrapCode=NOSALE": 0,
		"customer=%2B447700900123": 1, "customer=07700900123": 1, "customer=07700900999": 0,
		fmt.Sprintf("campaignId=%d", e.campaign): 1, "campaignId=999999": 0,
		fmt.Sprintf("agentId=%d", e.ids["alice"]): 1, fmt.Sprintf("agentId=%d", e.ids["bob"]): 0,
		"from=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)): 1,
		"from=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)):  0,
	} {
		if p := e.search(rita, q); len(p.Items) != n {
			t.Errorf("search %s: %d calls, want %d", q, len(p.Items), n)
		}
	}
	for _, bad := range []string{"direction=SIDEWAYS", "hasRecording=maybe", "limit=0", "limit=501", "cursor=zzz", "from=yesterday", "campaignId=-1"} {
		e.must(400, "GET", "/api/v1/history/interactions?"+bad, rita, "").problem(t)
	}

	var d postgres.InteractionDetail
	e.must(200, "GET", "/api/v1/history/interactions/"+iid, rita, "").json(t, &d)
	if d.ID != iid || d.WrapCode != "SALE" || d.AgentID == nil || *d.AgentID != e.ids["alice"] || len(d.Legs) == 0 || len(d.Events) == 0 {
		t.Fatalf("detail %+v", d)
	}
	if d.Notes != "wants a refund" {
		t.Errorf("notes %q", d.Notes)
	}
	if len(d.AgentStates) == 0 {
		t.Errorf("no agent state changes in the detail")
	}
	if len(d.Recordings) != 1 {
		t.Fatalf("recordings %+v", d.Recordings)
	}
	kinds := map[string]int{}
	var last int64 = -1
	for _, m := range d.Recordings[0].Markers {
		kinds[m.Kind]++
		if m.OffsetMs < last {
			t.Errorf("markers out of order: %+v", d.Recordings[0].Markers)
		}
		last = m.OffsetMs
	}
	if kinds["bookmark"] != 2 || kinds["pause"] != 1 {
		t.Fatalf("markers %+v", d.Recordings[0].Markers)
	}
	// Bob did not handle it: 404, worded like a call that does not exist.
	pBob := e.must(404, "GET", "/api/v1/history/interactions/"+iid, bob, "").problem(t)
	pNone := e.must(404, "GET", "/api/v1/history/interactions/I-nothing", rita, "").problem(t)
	if pBob.Detail != pNone.Detail {
		t.Fatalf("404s differ: %q vs %q", pBob.Detail, pNone.Detail)
	}
	e.must(200, "GET", "/api/v1/history/interactions/"+iid, tok, "")
	// The reviewer may play the recording.
	if got := e.do("GET", d.Recordings[0].File, rita, ""); got.StatusCode != 200 {
		t.Fatalf("reviewer GET %s → %d", d.Recordings[0].File, got.StatusCode)
	}

	// CSV export: the header and the one call.
	got := e.must(200, "GET", "/api/v1/history/export?hasRecording=true", rita, "")
	if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q", ct)
	}
	recs, err := csv.NewReader(strings.NewReader(string(got.body))).ReadAll()
	if err != nil || len(recs) != 2 || recs[0][0] != "id" || recs[1][0] != iid {
		t.Fatalf("csv %v %q", err, got.body)
	}
	if got := e.must(200, "GET", "/api/v1/history/export", bob, ""); strings.Count(string(got.body), "\n") != 1 {
		t.Fatalf("bob's export %q", got.body)
	}
	// Only admins assign campaigns; only supervisors are assigned.
	e.must(403, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["sue"]), sue, `{"campaignIds":[]}`)
	e.must(400, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["alice"]), root, `{"campaignIds":[]}`)
	e.must(400, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["sue"]), root, `{"campaignIds":[999999]}`)
	e.must(404, "PUT", "/api/v1/admin/supervisors/999999/campaigns", root, `{"campaignIds":[]}`)
}

// Keyset paging walks every row once, newest first, however rows tie on time.
func TestHistoryKeysetPaging(t *testing.T) {
	e := newEnv(t, envOptions{})
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	// 120 calls, three to a second so created_at ties.
	if err := e.DB.Exec(`INSERT INTO interactions(id, campaign_id, direction, customer_number, agent_id, state, created_at,
			connected_at, ended_at, queue_ms)
		SELECT 'I-' || lpad(g::text, 4, '0'), ?, CASE WHEN g % 4 = 0 THEN 'OUT' ELSE 'IN' END, '+4477009' || lpad(g::text, 5, '0'), ?,
			'wrapped', ?::timestamptz + (g / 3) * interval '1 second', ?::timestamptz + (g / 3) * interval '1 second', ?::timestamptz + (g / 3 + 30) * interval '1 second', 1000
		FROM generate_series(1, 120) g`, e.campaign, e.ids["alice"], base, base, base).Error; err != nil {
		t.Fatal(err)
	}
	root := e.login("root")
	seen := map[string]bool{}
	var prev *postgres.HistoryRow
	cursor, pages := "", 0
	for {
		p := e.search(root, "limit=50&cursor="+cursor)
		pages++
		for i := range p.Items {
			r := p.Items[i]
			if seen[r.ID] {
				t.Fatalf("row %s twice", r.ID)
			}
			seen[r.ID] = true
			if prev != nil && (r.CreatedAt.After(prev.CreatedAt) || r.CreatedAt.Equal(prev.CreatedAt) && r.ID > prev.ID) {
				t.Fatalf("order: %s after %s", r.ID, prev.ID)
			}
			prev = &r
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(seen) != 120 || pages != 3 {
		t.Fatalf("%d rows in %d pages", len(seen), pages)
	}
	if p := e.search(root, "direction=OUT&limit=500"); len(p.Items) != 30 || p.Next != "" {
		t.Fatalf("OUT: %d next %q", len(p.Items), p.Next)
	}
	// The export streams all of them.
	got := e.must(200, "GET", "/api/v1/history/export", root, "")
	if n := strings.Count(string(got.body), "\n"); n != 121 {
		t.Fatalf("export has %d lines", n)
	}
}
