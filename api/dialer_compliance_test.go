package api_test

import (
	"fmt"
	"testing"
)

// TestDialerComplianceRoute: an admin reads an outbound campaign's
// abandon rates over 24 h and 30 days; agents may not; an inbound campaign
// is refused with a sentence.
func TestDialerComplianceRoute(t *testing.T) {
	e := newEnv(t, envOptions{tune: withDialer("")})
	root := e.login("root")
	camp := e.outbound(root, "Out", `,"settings":{"dialer":{"mode":"predictive","amd":{"enabled":true,"falsePositiveShare":0.04}}}`)
	var r struct {
		CampaignID         int64
		Mode               string
		AMD                bool
		FalsePositiveShare float64
		Day, Month         struct {
			Window             string
			Answered, Machines int
			Rate, Cap          float64
			AtCap              bool
		}
		Progressive bool
	}
	path := fmt.Sprintf("/api/v1/admin/campaigns/%d/dialer/compliance", camp)
	e.must(200, "GET", path, root, "").json(t, &r)
	if r.CampaignID != camp || r.Mode != "predictive" || !r.AMD || r.FalsePositiveShare != 0.04 || r.Day.Window != "24h" ||
		r.Month.Window != "30d" || r.Day.Cap != 0.03 || r.Day.Answered != 0 || r.Day.AtCap || r.Progressive {
		t.Errorf("report %+v", r)
	}
	e.must(403, "GET", path, e.login("alice"), "")
	e.must(404, "GET", "/api/v1/admin/campaigns/999999/dialer/compliance", root, "")
	var in struct{ ID int64 }
	e.must(201, "POST", "/api/v1/admin/campaigns", root, `{"name":"In"}`).json(t, &in)
	e.must(409, "GET", fmt.Sprintf("/api/v1/admin/campaigns/%d/dialer/compliance", in.ID), root, "")
}
