package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
)

// The in-call controls over HTTP: hold and resume (call.controls events,
// the customer in a holding bridge), mute and unmute, the keypad, and the
// problems a person reads when a control does not apply.
func TestDeskInCallControls(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice")
	// Not on a call: a sentence, not an engine message.
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	if p := e.must(409, "POST", "/api/v1/agent/hold", tok, "").problem(t); !strings.HasPrefix(p.Detail, "You can put a call on hold only") {
		t.Fatalf("hold without a call: %q", p.Detail)
	}
	ws, cust, iid := e.onCall(tok, "1001")

	e.must(204, "POST", "/api/v1/agent/hold", tok, "")
	var cv cti.ControlsView
	json.Unmarshal(ws.next("call.controls").Data, &cv)
	if !cv.Held || cv.InteractionID != iid || cv.HeldSince == nil {
		t.Fatalf("controls after hold %+v", cv)
	}
	st, _ := e.Double.Channel(cust)
	if !strings.HasPrefix(st.Bridge, "hold-") {
		t.Fatalf("customer in %q while held", st.Bridge)
	}
	if s := e.snapshot(tok); s.Controls == nil || !s.Controls.Held {
		t.Fatalf("snapshot controls %+v", s.Controls)
	}
	if p := e.must(409, "POST", "/api/v1/agent/dtmf", tok, `{"digits":"1"}`).problem(t); !strings.Contains(p.Detail, "on hold") {
		t.Fatalf("keypad while held: %q", p.Detail)
	}
	e.must(204, "POST", "/api/v1/agent/resume", tok, "")
	json.Unmarshal(ws.next("call.controls").Data, &cv)
	if cv.Held {
		t.Fatalf("controls after resume %+v", cv)
	}

	e.must(204, "POST", "/api/v1/agent/mute", tok, "")
	json.Unmarshal(ws.next("call.controls").Data, &cv)
	if !cv.Muted {
		t.Fatalf("controls after mute %+v", cv)
	}
	e.must(204, "POST", "/api/v1/agent/unmute", tok, "")

	for _, bad := range []string{`{"digits":"12x"}`, `{"digits":""}`, `{}`, `{"digits":"` + strings.Repeat("9", 33) + `"}`} {
		if p := e.must(400, "POST", "/api/v1/agent/dtmf", tok, bad).problem(t); p.Field != "digits" {
			t.Fatalf("%s: field %q", bad, p.Field)
		}
	}
	e.must(204, "POST", "/api/v1/agent/dtmf", tok, `{"digits":"1#"}`)
	deadline := time.Now().Add(10 * time.Second)
	for e.Double.DTMFDelivered(cust) != "1#" {
		if time.Now().After(deadline) {
			t.Fatalf("customer received %q, want 1#", e.Double.DTMFDelivered(cust))
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.must(404, "POST", "/api/v1/agent/conference/parties/nobody/drop", tok, "")
}

// The directory lists the other agents with their state (not the caller),
// the quick connects the admin made and the queues; an open directory gets
// directory.presence when a colleague's state changes. A transfer to a
// queue reaches that queue's next Ready agent, who sees who handed it over.
func TestDeskDirectoryQuickConnectsAndQueueTransfer(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("root")
	var qc struct{ ID int64 }
	e.must(201, "POST", "/api/v1/admin/quick-connects", admin, fmt.Sprintf(`{"name":"Bob direct","type":"agent","target":"%d"}`, e.ids["bob"])).json(t, &qc)
	e.must(201, "POST", "/api/v1/admin/quick-connects", admin, `{"name":"Sales queue","type":"queue","target":"`+fmt.Sprint(e.campaign)+`"}`)
	if p := e.must(400, "POST", "/api/v1/admin/quick-connects", admin, `{"name":"Bad","type":"number","target":"not a number"}`).problem(t); p.Field != "target" {
		t.Fatalf("bad number: %+v", p)
	}
	if p := e.must(409, "POST", "/api/v1/admin/quick-connects", admin, `{"name":"bob DIRECT","type":"number","target":"02079460000"}`).problem(t); strings.Contains(p.Detail, "quick_connects") {
		t.Fatalf("constraint name shown: %q", p.Detail)
	}
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/quick-connects/%d", qc.ID), admin, fmt.Sprintf(`{"name":"Bob","type":"agent","target":"%d"}`, e.ids["bob"]))

	alice, bob := e.login("alice"), e.login("bob")
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	var d api.DirectoryView
	e.must(200, "GET", "/api/v1/agent/directory?q=bo", alice, "").json(t, &d)
	if len(d.Agents) != 1 || d.Agents[0].Username != "bob" || d.Agents[0].State != "Logged out" || len(d.Agents[0].Campaigns) != 1 {
		t.Fatalf("directory agents %+v", d.Agents)
	}
	if len(d.QuickConnects) != 2 || d.QuickConnects[0].Name != "Bob" || d.QuickConnects[0].TargetLabel != "Bob" || len(d.Queues) != 1 {
		t.Fatalf("directory %+v", d)
	}
	wsA := e.dialWS(alice, 0)
	wsA.next("hello")
	// bob connects and goes Ready: alice's open directory hears it.
	e.Double.Script("PJSIP/1002", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	e.must(200, "POST", "/api/v1/agent/login", bob, "")
	wsB := e.dialWS(bob, 0)
	wsB.next("hello")
	e.must(200, "POST", "/api/v1/agent/connect", bob, `{"mode":"system_calls","number":"1002","persistent":true}`)
	e.waitState(bob, cti.AgentPaused)
	var pr cti.Presence
	for pr.State != "Paused" {
		json.Unmarshal(wsA.next("directory.presence").Data, &pr)
	}
	if pr.ID != e.ids["bob"] {
		t.Fatalf("presence %+v", pr)
	}

	// alice on a call transfers it to the Sales queue; bob takes it.
	_, cust, iid := e.onCallWith(alice, "1001", wsA)
	e.must(204, "PUT", "/api/v1/agent/calls/"+iid+"/notes", alice, `{"notes":"asked for a refund"}`)
	e.must(200, "POST", "/api/v1/agent/transfer", alice, fmt.Sprintf(`{"type":"queue","target":"%d"}`, e.campaign))
	e.waitState(alice, cti.AgentOnWrap)
	e.must(200, "POST", "/api/v1/agent/ready", bob, "")
	var info cti.CallInfo
	json.Unmarshal(wsB.next("call.connected").Data, &info)
	if info.TransferredFrom == nil || info.TransferredFrom.AgentName != "Alice" || info.TransferredFrom.Notes != "asked for a refund" ||
		info.TransferredFrom.InteractionID != iid {
		t.Fatalf("bob's call info %+v (from %+v)", info, info.TransferredFrom)
	}
	if st, _ := e.Double.Channel(cust); st.Bridge != "agent-"+fmt.Sprint(e.ids["bob"]) {
		t.Fatalf("customer in %q", st.Bridge)
	}
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/admin/quick-connects/%d", qc.ID), admin, "")
	e.must(404, "DELETE", fmt.Sprintf("/api/v1/admin/quick-connects/%d", qc.ID), admin, "")
}

// onCallWith is onCall with a websocket already open.
func (e *env) onCallWith(tok, ext string, ws *wsClient) (*wsClient, string, string) {
	e.t.Helper()
	e.Double.Script("PJSIP/"+ext, aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	e.must(200, "POST", "/api/v1/agent/connect", tok, `{"mode":"system_calls","number":"`+ext+`","persistent":true}`)
	e.waitState(tok, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/ready", tok, "")
	cust := e.Double.Inbound("ctid", []string{"inbound", did}, "+447700900123", did, nil)
	var info cti.CallInfo
	json.Unmarshal(ws.next("call.connected").Data, &info)
	e.waitState(tok, cti.AgentOnCall)
	return ws, cust, info.InteractionID
}

func TestDeskAgentConfig(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *api.Options) {
		o.Desk = api.DeskOptions{SalesforceOrigin: "https://example.my.salesforce.com", DefaultCallerID: "+442071234000"}
	}})
	var c api.AgentConfig
	e.must(200, "GET", "/api/v1/agent/config", e.login("alice"), "").json(t, &c)
	if c.AgentCallsNumber != "8000" || c.SalesforceOrigin != "https://example.my.salesforce.com" || c.DefaultCallerID != "+442071234000" {
		t.Fatalf("config %+v", c)
	}
}

// The do-not-call admin: import a CSV (header skipped, bad rows reported
// by row, duplicates skipped), search, page.
func TestDeskDNCImportAndSearch(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("root")
	csv := "number\n020 7946 0001\n+442079460002\nnot-a-number\n020 7946 0001\n"
	var res api.DNCImportResult
	r := e.uploadForm("/api/v1/admin/dnc/import", admin, map[string]string{"campaignId": fmt.Sprint(e.campaign), "reason": "complaint"}, &formFile{"dnc.csv", csv})
	if r.StatusCode != 200 {
		t.Fatalf("import %d: %s", r.StatusCode, r.body)
	}
	r.json(t, &res)
	if res.Added != 2 || res.Skipped != 1 || len(res.Errors) != 1 || res.Errors[0].Row != 4 {
		t.Fatalf("import result %+v", res)
	}
	var page struct {
		Items []struct {
			Number, Reason, AddedBy string
			CampaignID              *int64
		}
		Next string
	}
	e.must(200, "GET", "/api/v1/admin/dnc?q=0002", admin, "").json(t, &page)
	if len(page.Items) != 1 || page.Items[0].Number != "+442079460002" || page.Items[0].AddedBy != "root" ||
		page.Items[0].Reason != "complaint" || page.Items[0].CampaignID == nil {
		t.Fatalf("search %+v", page)
	}
	e.must(200, "GET", "/api/v1/admin/dnc?limit=1", admin, "").json(t, &page)
	if len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("first page %+v", page)
	}
	e.must(200, "GET", "/api/v1/admin/dnc?limit=1&cursor="+page.Next, admin, "").json(t, &page)
	if len(page.Items) != 1 || page.Next != "" {
		t.Fatalf("last page %+v", page)
	}
	e.must(400, "GET", "/api/v1/admin/dnc?cursor=x", admin, "")
}

// Item 5: the admin page's create-user form sends "disabled".
func TestDeskCreateUserDisabled(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("root")
	var u struct {
		ID       int64
		Disabled bool
	}
	e.must(201, "POST", "/api/v1/admin/users", admin, `{"username":"newbie","password":"password-9","role":"agent","disabled":true}`).json(t, &u)
	if !u.Disabled {
		t.Fatalf("created %+v, want disabled", u)
	}
	e.must(201, "POST", "/api/v1/admin/users", admin, `{"username":"active","password":"password-9","role":"agent","disabled":false}`).json(t, &u)
	if u.Disabled {
		t.Fatalf("created %+v, want enabled", u)
	}
}

// The adaptor's callback form: a local time in the customer's zone, owner
// me or queue.
func TestDeskCallbackLocalTimeAndOwner(t *testing.T) {
	e := newEnv(t, envOptions{tune: withDialer("")})
	root, alice := e.login("root"), e.login("alice")
	camp := e.outbound(root, "Out", "")
	ny, _ := time.LoadLocation("America/New_York")
	due := dueAt(t, time.Now()).In(ny)
	local := due.Format("2006-01-02T15:04")
	var cb struct {
		ID      int64
		DueAt   time.Time
		AgentID *int64
	}
	e.must(201, "POST", "/api/v1/agent/callbacks", alice, fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","when":%q,"timeZone":"America/New_York","owner":"queue"}`,
		camp, local)).json(t, &cb)
	if !cb.DueAt.Equal(due.Truncate(time.Minute)) || cb.AgentID != nil {
		t.Fatalf("callback %+v, want due %v for the queue", cb, due)
	}
	for _, c := range []struct{ body, field string }{
		{fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","when":%q,"timeZone":"Mars/Olympus"}`, camp, local), "timeZone"},
		{fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","when":%q}`, camp, local), "timeZone"},
		{fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","when":"soon","timeZone":"Europe/London"}`, camp), "when"},
		{fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","when":%q,"timeZone":"Europe/London","owner":"boss"}`, camp, local), "owner"},
	} {
		if p := e.must(400, "POST", "/api/v1/agent/callbacks", alice, c.body).problem(t); p.Field != c.field {
			t.Errorf("%s: field %q (%s), want %s", c.body, p.Field, p.Detail, c.field)
		}
	}
}

// Admin: the same lead file uploaded to a campaign twice is a 409 unless
// forced; DIDs and the platform number must be phone numbers (E.164 after
// the campaign's region); a duplicate DID is a sentence, not a constraint
// name; DNC POST takes one number and records who added it; lead lists can
// be browsed, paused, resumed and deleted.
func TestDeskAdminLeadsDIDsAndDNC(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	camp := e.outbound(root, "Out", "")
	csv := "Name,Mobile\nAnn,07400 123001\nBen,07400 123002\n"
	base := fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", camp)
	var res struct{ ListID int64 }
	r := e.uploadForm(base, root, map[string]string{"listName": "A"}, &formFile{"leads.csv", csv})
	if r.StatusCode != 201 {
		t.Fatalf("first upload %d %s", r.StatusCode, r.body)
	}
	r.json(t, &res)
	p := e.uploadForm(base, root, map[string]string{"listName": "B"}, &formFile{"again.csv", csv}).problem(t)
	if p.Status != 409 || p.Field != "file" || !strings.Contains(p.Detail, `"A"`) {
		t.Fatalf("duplicate upload: %+v", p)
	}
	if r := e.uploadForm(base+"?force=true", root, map[string]string{"listName": "B"}, &formFile{"again.csv", csv}); r.StatusCode != 201 {
		t.Fatalf("forced upload %d %s", r.StatusCode, r.body)
	}

	var page api.LeadPage
	e.must(200, "GET", fmt.Sprintf("/api/v1/admin/lead-lists/%d/leads", res.ListID), root, "").json(t, &page)
	if page.Total != 2 || len(page.Items) != 2 || page.Items[0].Phone1 != "+447400123001" || page.Next != "" {
		t.Fatalf("leads %+v", page)
	}
	e.must(204, "POST", fmt.Sprintf("/api/v1/admin/lead-lists/%d/pause", res.ListID), root, "")
	var active bool
	e.DB.Raw(`SELECT active FROM dialer_lead_lists WHERE id = ?`, res.ListID).Scan(&active)
	if active {
		t.Fatal("paused list still active")
	}
	e.must(204, "POST", fmt.Sprintf("/api/v1/admin/lead-lists/%d/resume", res.ListID), root, "")
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/admin/lead-lists/%d", res.ListID), root, "")
	e.must(404, "GET", fmt.Sprintf("/api/v1/admin/lead-lists/%d/leads", res.ListID), root, "")
	e.must(404, "POST", "/api/v1/admin/lead-lists/999999/pause", root, "")

	for _, c := range []struct{ body, field string }{
		{`{"name":"D1","dids":["not a number"]}`, "dids"},
		{`{"name":"D2","dids":["12"]}`, "dids"},
		{`{"name":"D3","platformNumber":"xyz"}`, "platformNumber"},
		{`{"name":"D4","settings":{"maxConferenceParties":0}}`, "settings.maxConferenceParties"},
	} {
		if p := e.must(400, "POST", "/api/v1/admin/campaigns", root, c.body).problem(t); p.Field != c.field {
			t.Errorf("%s: field %q (%s), want %s", c.body, p.Field, p.Detail, c.field)
		}
	}
	var cr struct{ DIDs []string }
	e.must(201, "POST", "/api/v1/admin/campaigns", root, `{"name":"National","dids":["020 7946 0555"]}`).json(t, &cr)
	if len(cr.DIDs) != 1 || cr.DIDs[0] != "+442079460555" {
		t.Fatalf("DIDs stored as %v, want E.164", cr.DIDs)
	}
	p = e.must(409, "POST", "/api/v1/admin/campaigns", root, `{"name":"Copy","dids":["+442079460555"]}`).problem(t)
	if strings.Contains(p.Detail, "campaign_dids") || strings.Contains(p.Detail, "pkey") || strings.Contains(p.Detail, "_key") {
		t.Fatalf("a constraint name reached the user: %q", p.Detail)
	}

	var dnc struct{ Numbers []string }
	e.must(200, "POST", "/api/v1/admin/dnc", root, fmt.Sprintf(`{"number":"07400 123777","campaignId":%d,"reason":"asked on the phone"}`, camp)).json(t, &dnc)
	var dp struct {
		Items []struct{ Number, AddedBy, Reason string }
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/admin/dnc?campaignId=%d", camp), root, "").json(t, &dp)
	if len(dp.Items) != 1 || dp.Items[0].Number != "+447400123777" || dp.Items[0].AddedBy != "root" || dp.Items[0].Reason != "asked on the phone" {
		t.Fatalf("dnc %+v", dp)
	}
	e.must(200, "DELETE", "/api/v1/admin/dnc", root, fmt.Sprintf(`{"number":"+447400123777","campaignId":%d}`, camp))
	e.must(200, "GET", fmt.Sprintf("/api/v1/admin/dnc?campaignId=%d", camp), root, "").json(t, &dp)
	if len(dp.Items) != 0 {
		t.Fatalf("after remove %+v", dp)
	}
}

// deskAuthRoutes are the desk's routes for the authorisation matrix
// (TestAuthorizationMatrix): agent routes for agents and supervisors,
// admin routes for admins.
func deskAuthRoutes() []route {
	return []route{
		{"GET", "/api/v1/agent/config", "", "as"},
		{"GET", "/api/v1/agent/directory", "", "as"},
		{"POST", "/api/v1/agent/browser-phone", "", "as"},
		{"POST", "/api/v1/agent/hold", "", "as"},
		{"POST", "/api/v1/agent/resume", "", "as"},
		{"POST", "/api/v1/agent/mute", "", "as"},
		{"POST", "/api/v1/agent/unmute", "", "as"},
		{"POST", "/api/v1/agent/dtmf", `{"digits":"1"}`, "as"},
		{"POST", "/api/v1/agent/conference/parties/nope/drop", "", "as"},
		{"GET", "/api/v1/admin/quick-connects", "", "A"},
		{"POST", "/api/v1/admin/quick-connects", `{"name":""}`, "A"},
		{"PUT", "/api/v1/admin/quick-connects/999999", `{"name":"x","type":"number","target":"02079460123"}`, "A"},
		{"DELETE", "/api/v1/admin/quick-connects/999999", "", "A"},
		{"GET", "/api/v1/admin/dnc", "", "A"},
		{"POST", "/api/v1/admin/dnc/import", "", "A"},
		{"GET", "/api/v1/admin/lead-lists/999999/leads", "", "A"},
		{"POST", "/api/v1/admin/lead-lists/999999/pause", "", "A"},
		{"POST", "/api/v1/admin/lead-lists/999999/resume", "", "A"},
		{"DELETE", "/api/v1/admin/lead-lists/999999", "", "A"},
	}
}
