package api_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

// supervisionRoutes are issue 13's routes for the authorisation matrix
// (TestAuthorizationMatrix checks agent, supervisor and admin; the test
// below adds the reviewer, letter r, and a supervisor of another campaign).
func supervisionRoutes(e *env) []route {
	sup := "/api/v1/admin/supervisors/" + strconv.FormatInt(e.ids["sue"], 10) + "/campaigns"
	alice := "/api/v1/supervisor/agents/" + strconv.FormatInt(e.ids["alice"], 10)
	return []route{
		{"GET", "/api/v1/history/interactions", "", "*"},
		{"GET", "/api/v1/history/interactions/nope", "", "*"},
		{"GET", "/api/v1/history/export", "", "*"},
		{"GET", "/api/v1/reports/agents", "", "sAr"},
		{"GET", "/api/v1/reports/campaigns", "", "sAr"},
		{"GET", sup, "", "A"},
		{"PUT", sup, `{"campaignIds":null}`, "A"},
		{"POST", "/api/v1/supervisor/ws-ticket", "", "sA"},
		{"GET", "/api/v1/supervisor/floor", "", "sA"},
		{"POST", alice + "/pause", `{"reason":"Nope"}`, "sA"},
		{"POST", alice + "/ready", "", "sA"},
		{"POST", alice + "/logout", `{"reason":"Nope"}`, "sA"},
		{"POST", alice + "/hangup", "", "sA"},
		{"GET", "/api/v1/supervisor/monitor", "", "sA"},
		{"POST", "/api/v1/supervisor/monitor", `{"interactionId":"nope","mode":"listen"}`, "sA"},
		{"POST", "/api/v1/supervisor/monitor/stop", "", "sA"},
	}
}

// The reviewer reads history and reports and nothing else; a supervisor of
// another campaign gets the routes but sees none of this campaign's calls,
// agents or figures.
func TestSupervisionAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, envOptions{})
	rita := e.addReviewer()
	for _, r := range supervisionRoutes(e) {
		got := e.do(r.method, r.path, rita, r.body)
		allowed := r.roles == "*" || strings.Contains(r.roles, "r")
		roleDenied := got.StatusCode == 403 && strings.Contains(string(got.body), " role")
		if allowed == roleDenied {
			t.Errorf("%s %s as reviewer → %d (allowed %v): %s", r.method, r.path, got.StatusCode, allowed, got.body)
		}
	}
	// A call on Sales, handled by alice.
	now := time.Now().UTC()
	if err := e.DB.Exec(`INSERT INTO interactions(id, campaign_id, direction, customer_number, agent_id, state, created_at, connected_at, ended_at)
		VALUES ('I-sales', ?, 'IN', '+447700900123', ?, 'wrapped', ?, ?, ?)`, e.campaign, e.ids["alice"], now.Add(-time.Minute), now.Add(-50*time.Second), now).Error; err != nil {
		t.Fatal(err)
	}
	// Sam supervises another campaign only.
	root := e.login("root")
	acc, err := e.admin.CreateUser(ctx(), postgres.NewUser{Username: "sam", Password: password, DisplayName: "Sam", Role: cti.RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.admin.CreateCampaign(ctx(), postgres.CampaignRecord{Name: "Other", DIDs: []string{"+441234000000"}})
	if err != nil {
		t.Fatal(err)
	}
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", acc.ID), root, fmt.Sprintf(`{"campaignIds":[%d]}`, other.ID))
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["sue"]), root, fmt.Sprintf(`{"campaignIds":[%d]}`, e.campaign))
	sam, sue := e.login("sam"), e.login("sue")
	if p := e.search(sam, ""); len(p.Items) != 0 {
		t.Fatalf("sam sees %d calls", len(p.Items))
	}
	e.must(404, "GET", "/api/v1/history/interactions/I-sales", sam, "")
	e.must(200, "GET", "/api/v1/history/interactions/I-sales", sue, "")
	if p := e.search(sue, ""); len(p.Items) != 1 {
		t.Fatalf("sue sees %d calls", len(p.Items))
	}
	e.must(404, "POST", fmt.Sprintf("/api/v1/supervisor/agents/%d/ready", e.ids["alice"]), sam, "")
	from := qtime(now.Add(-time.Hour))
	var rep struct{ Totals []postgres.CampaignReportRow }
	e.must(200, "GET", "/api/v1/reports/campaigns?from="+from+"&to="+qtime(now.Add(time.Hour)), sam, "").json(t, &rep)
	for _, r := range rep.Totals {
		if r.CampaignID == e.campaign {
			t.Fatalf("sam's report has Sales: %+v", rep.Totals)
		}
	}
	var arep struct{ Totals []postgres.AgentReportRow }
	e.must(200, "GET", "/api/v1/reports/agents?from="+from+"&to="+qtime(now.Add(time.Hour)), sam, "").json(t, &arep)
	if len(arep.Totals) != 0 {
		t.Fatalf("sam's agent report: %+v", arep.Totals)
	}
	var f struct{ Agents, Queues []map[string]any }
	e.must(200, "GET", "/api/v1/supervisor/floor", sam, "").json(t, &f)
	for _, q := range f.Queues {
		if int64(q["campaignId"].(float64)) == e.campaign {
			t.Fatalf("sam's floor has Sales: %v", f.Queues)
		}
	}
}

func qtime(t time.Time) string { return strings.ReplaceAll(t.UTC().Format(time.RFC3339), "+", "%2B") }
