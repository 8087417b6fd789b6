package api_test

import (
	"context"
	"errors"
	"net"
	"regexp"

	"encoding/json"
	"fmt"
	"github.com/gorilla/websocket"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

func TestFullAgentFlowOverAPIAndWebsocket(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	tok := e.login("alice")

	var snap cti.AgentSnapshot
	e.must(200, "POST", "/api/v1/agent/login", tok, "").json(t, &snap)
	if snap.State.State != cti.AgentLoggedIn || snap.Phone.DefaultNumber != "1001" || len(snap.Campaigns) != 1 {
		t.Fatalf("after login: %+v", snap)
	}
	ws := e.dialWS(tok, 0)
	hello := ws.next("hello")
	var hs cti.AgentSnapshot
	json.Unmarshal(hello.Data, &hs)
	if hs.AgentID != e.ids["alice"] || hs.State.State != cti.AgentLoggedIn || hello.Seq != hs.Seq {
		t.Fatalf("hello %+v", hello)
	}
	ws2 := e.dialWS(tok, 0) // a second tab
	ws2.next("hello")

	// Ready before the phone is up: 409 naming the state, nothing changes.
	p := e.must(409, "POST", "/api/v1/agent/ready", tok, "").problem(t)
	if p.State != "logged_in" {
		t.Fatalf("409 state %q", p.State)
	}
	e.must(200, "POST", "/api/v1/agent/connect", tok, `{"mode":"system_calls","number":"1001","persistent":true}`)
	ws.next("phone.connected")
	e.waitState(tok, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/ready", tok, "{}")
	e.waitState(tok, cti.AgentReady)

	// An inbound call on the campaign's DID reaches alice.
	cust := e.Double.Inbound("ctid", []string{"inbound", did, "Sales line", "acct=42"}, "+447700900123", did, nil)
	m := ws.next("call.connected")
	ws2.next("call.connected")
	var info cti.CallInfo
	json.Unmarshal(m.Data, &info)
	if info.Direction != "IN" || info.CampaignName != "Sales" || info.CustomerNumber != "+447700900123" ||
		info.PlatformNumber != did || info.IVRText != "Sales line" || info.IVRData != "acct=42" {
		t.Fatalf("call info %+v", info)
	}
	snap = e.waitState(tok, cti.AgentOnCall)
	if snap.Call == nil || snap.Call.InteractionID != info.InteractionID {
		t.Fatalf("snapshot call %+v", snap.Call)
	}

	// Bob cannot touch alice's call.
	bob := e.login("bob")
	e.must(200, "POST", "/api/v1/agent/login", bob, "")
	e.must(404, "PUT", "/api/v1/agent/calls/"+info.InteractionID+"/notes", bob, `{"notes":"mine now"}`).problem(t)
	e.must(409, "POST", "/api/v1/agent/hangup", bob, "").problem(t)

	e.must(204, "PUT", "/api/v1/agent/calls/"+info.InteractionID+"/notes", tok, `{"notes":"wants a callback"}`)
	ws.next("call.notes")
	p = e.must(409, "POST", "/api/v1/agent/pause", tok, `{"reason":"Break"}`).problem(t)
	if p.State != "on_call" {
		t.Fatalf("pause on call: %+v", p)
	}
	e.must(200, "POST", "/api/v1/agent/hangup", tok, "")
	ws.next("call.ended")
	w := ws.next("wrap.started")
	var wv cti.WrapView
	json.Unmarshal(w.Data, &wv)
	if len(wv.Codes) != 2 {
		t.Fatalf("wrap view %+v", wv)
	}
	e.waitState(tok, cti.AgentOnWrap)
	// The customer leg goes with the agent's hang-up.
	ctitest.Eventually(t, 15*time.Second, "the customer channel gone after the agent's hang-up", func() bool {
		_, ok := e.Double.Channel(cust)
		return !ok
	})
	p = e.must(400, "POST", "/api/v1/agent/wrap", tok, `{"code":"BOGUS"}`).problem(t)
	if p.Field != "code" {
		t.Fatalf("bogus wrap: %+v", p)
	}
	e.must(200, "POST", "/api/v1/agent/wrap", tok, `{"code":"SALE","next":"ready","notes":"called back"}`)
	e.waitState(tok, cti.AgentReady)

	// Manual call while Ready, skipping the campaign.
	e.Double.Script("PJSIP/+442079460999@trunk", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	r := e.must(201, "POST", "/api/v1/agent/calls", tok, `{"number":"020 7946 0999","campaignId":null}`)
	var out cti.CallInfo
	r.json(t, &out)
	if out.Direction != "OUT" || out.CustomerNumber != "+442079460999" || !strings.HasSuffix(r.Header.Get("Location"), out.InteractionID) {
		t.Fatalf("dial %s", r.body)
	}
	ws.next("call.connected")
	e.must(200, "POST", "/api/v1/agent/hangup", tok, "")
	ws.next("wrap.started")
	e.must(200, "POST", "/api/v1/agent/wrap", tok, `{"next":"paused","reason":"Lunch"}`)
	snap = e.waitState(tok, cti.AgentPaused)
	if snap.State.PauseReason != "Lunch" {
		t.Fatalf("pause reason %q", snap.State.PauseReason)
	}

	// Logout with a reason.
	e.must(200, "POST", "/api/v1/agent/logout", tok, `{"reason":"Break"}`)
	e.waitState(tok, cti.AgentLoggedOut)
	e.Engine.Flush(ctx())
	var rec struct{ State, WrapCode, Notes string }
	e.DB.Raw(`SELECT state, wrap_code, notes FROM interactions WHERE id = ?`, info.InteractionID).Scan(&rec)
	if rec.WrapCode != "SALE" || rec.Notes != "called back" {
		t.Fatalf("interaction record %+v", rec)
	}
	var hist []string
	e.DB.Raw(`SELECT to_state || ':' || reason FROM agent_state_history WHERE user_id = ? ORDER BY id`, e.ids["alice"]).Scan(&hist)
	if last := hist[len(hist)-2:]; last[0] != "paused:Break" || !strings.HasPrefix(last[1], "logged_out") {
		t.Fatalf("history ends %v", last)
	}
}

func TestWebsocketResumeAndHeartbeat(t *testing.T) {
	e := newEnv(t, envOptions{heartbeat: 50 * time.Millisecond})
	tok := e.login("alice")
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	ws := e.dialWS(tok, 0)
	hello := ws.next("hello")
	ws.next("ping")
	e.must(200, "POST", "/api/v1/agent/connect", tok, `{"mode":"system_calls","persistent":false}`)
	st := ws.next("agent.state") // connecting or paused
	ws.conn.Close()
	<-ws.done
	e.must(200, "POST", "/api/v1/agent/ready", tok, "")

	// Resume after the last seen sequence: only the missed events come, no hello.
	ws = e.dialWS(tok, st.Seq)
	m := <-ws.msgs
	if m.Type == "hello" || m.Seq != st.Seq+1 {
		t.Fatalf("resume got %+v, want seq %d", m, st.Seq+1)
	}
	for m.Type != "agent.state" || !strings.Contains(string(m.Data), `"ready"`) {
		m = ws.next("agent.state")
	}
	// A sequence the feed cannot resume (from the future): fresh hello.
	ws = e.dialWS(tok, 1<<40)
	h2 := ws.next("hello")
	if h2.Seq <= hello.Seq {
		t.Fatalf("second hello seq %d after %d", h2.Seq, hello.Seq)
	}
}

func TestBadJSONIsAProblemNeverA500(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *apiOptions) { o.BodyLimit = 4096 }})
	tok := e.login("alice")
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	for _, c := range []struct {
		path, body, field, detail string
		status                    int
	}{
		{"/api/v1/agent/connect", `{"mode":"system_calls"`, "", "malformed JSON", 400},
		{"/api/v1/agent/connect", `{"mode":`, "", "malformed JSON", 400},
		{"/api/v1/agent/connect", `[1,2]`, "", "JSON object", 400},
		{"/api/v1/agent/connect", `"x"`, "", "JSON object", 400},
		{"/api/v1/agent/connect", `{"mode":"system_calls","persistant":true}`, "persistant", "unknown field", 400},
		{"/api/v1/agent/connect", `{"mode":"system_calls","persistent":"yes"}`, "persistent", "true or false", 400},
		{"/api/v1/agent/connect", `{"mode":1}`, "mode", "string", 400},
		{"/api/v1/agent/connect", `{}`, "mode", "mode is required", 400},
		{"/api/v1/agent/connect", `{"mode":"pigeon"}`, "mode", "agent_calls", 400},
		{"/api/v1/agent/connect", `{"mode":"system_calls"} {}`, "", "after the JSON object", 400},
		{"/api/v1/agent/connect", "", "", "body is required", 400},
		{"/api/v1/agent/calls", `{"number":"07700900123","campaignId":"one"}`, "campaignId", "integer", 400},
		{"/api/v1/agent/calls", `{"number":"07700900123","campaignId":1e99}`, "campaignId", "integer", 400},
		{"/api/v1/agent/calls", `{"campaignId":null}`, "number", "required", 400},
		{"/api/v1/agent/pause", `{"reason":["Break"]}`, "reason", "string", 400},
		{"/api/v1/agent/pause", `{"reason":"Gone fishing"}`, "reason", "unknown pause reason", 400},
		{"/api/v1/agent/wrap", `{"code":"SALE","notes":5}`, "notes", "string", 400},
		{"/api/v1/agent/ready", `{"now":true}`, "now", "unknown field", 400},
		{"/api/v1/agent/connect", `{"mode":"system_calls","number":"` + strings.Repeat("9", 5000) + `"}`, "", "", 413},
	} {
		r := e.do("POST", c.path, tok, c.body)
		if r.StatusCode != c.status {
			t.Errorf("%s %.60s → %d, want %d: %s", c.path, c.body, r.StatusCode, c.status, r.body)
			continue
		}
		p := r.problem(t)
		if p.Field != c.field || !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s %.60s: field %q detail %q, want %q / %q", c.path, c.body, p.Field, p.Detail, c.field, c.detail)
		}
	}
	r := e.doHdr("POST", "/api/v1/agent/pause", tok, `reason=Break`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if r.StatusCode != 415 {
		t.Fatalf("form body → %d", r.StatusCode)
	}
	e.must(404, "GET", "/api/v1/nothing-here", tok, "").problem(t)
	e.must(404, "PUT", "/api/v1/agent/calls/x/notes", tok, `{"notes":"n"}`).problem(t)
}

func TestAdminChangesReachTheEngine(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	// Create a user with campaigns, and they can log in and see them.
	var camp struct{ ID int64 }
	e.must(201, "POST", "/api/v1/admin/campaigns", root, `{"name":"Support","dids":["+442079460000"],
		"wrapCodes":[{"code":"OK","label":"Resolved"}],"defaultWrapCode":"OK","wrapLimitSeconds":30,"extendWrapSeconds":15,
		"settings":{"sla":20}}`).json(t, &camp)
	e.must(409, "POST", "/api/v1/admin/campaigns", root, `{"name":"Support"}`).problem(t)
	p := e.must(400, "POST", "/api/v1/admin/campaigns", root, `{"name":"X","kind":"sideways"}`).problem(t)
	if p.Field != "kind" {
		t.Fatalf("kind problem %+v", p)
	}
	var u struct {
		ID          int64
		CampaignIDs []int64
	}
	e.must(201, "POST", "/api/v1/admin/users", root, fmt.Sprintf(`{"username":"carol","password":"%s","displayName":"Carol",
		"role":"agent","defaultPhone":"1005","campaignIds":[%d]}`, password, camp.ID)).json(t, &u)
	if len(u.CampaignIDs) != 1 {
		t.Fatalf("user campaigns %v", u.CampaignIDs)
	}
	e.must(409, "POST", "/api/v1/admin/users", root, `{"username":"carol","password":"password-2"}`)
	e.must(400, "POST", "/api/v1/admin/users", root, `{"username":"dave","password":"short"}`)
	e.must(400, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", u.ID), root, `{"campaignIds":[424242]}`)
	carol := e.login("carol")
	snap := e.snapshot(carol)
	if len(snap.Campaigns) != 1 || snap.Campaigns[0].Name != "Support" || snap.Phone.DefaultNumber != "1005" {
		t.Fatalf("carol's snapshot %+v", snap)
	}
	// Profile change reaches the engine.
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", u.ID), root, `{"manualCallWhenPaused":false,"recordingControl":true}`)
	if s := e.snapshot(carol); s.Permissions.ManualCallWhenPaused || !s.Permissions.RecordingControl {
		t.Fatalf("permissions %+v", s.Permissions)
	}
	// Admin cannot lock themselves out.
	e.must(409, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", e.ids["root"]), root, `{"disabled":true}`)
	// Pause reasons: new ones are choosable at once.
	var pr struct{ ID int64 }
	e.must(201, "POST", "/api/v1/admin/pause-reasons", root, `{"name":"Coaching"}`).json(t, &pr)
	var reasons []struct{ Name string }
	e.must(200, "GET", "/api/v1/pause-reasons", carol, "").json(t, &reasons)
	if len(reasons) != 4 || reasons[3].Name != "Coaching" {
		t.Fatalf("reasons %+v", reasons)
	}
	if s := e.snapshot(carol); !contains(s.PauseReasons, "Coaching") {
		t.Fatalf("engine reasons %v", s.PauseReasons)
	}
	var all []struct {
		ID     int64
		System bool
	}
	e.must(200, "GET", "/api/v1/admin/pause-reasons", root, "").json(t, &all)
	for _, r := range all {
		if r.System {
			e.must(409, "DELETE", fmt.Sprintf("/api/v1/admin/pause-reasons/%d", r.ID), root, "")
		}
	}
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/pause-reasons/%d", pr.ID), root, `{"name":"1:1"}`)
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/admin/pause-reasons/%d", pr.ID), root, "")
	// Workflows.
	var wf struct{ ID int64 }
	e.must(201, "POST", "/api/v1/admin/workflows", root, `{"name":"Main IVR","context":"ivr-main"}`).json(t, &wf)
	e.must(200, "GET", fmt.Sprintf("/api/v1/admin/workflows/%d", wf.ID), root, "")
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/workflows/%d", wf.ID), root, `{"name":"Main IVR","context":"ivr-main","extension":"100"}`)
	e.must(200, "GET", "/api/v1/admin/workflows", root, "")
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/admin/workflows/%d", wf.ID), root, "")
	e.must(404, "GET", fmt.Sprintf("/api/v1/admin/workflows/%d", wf.ID), root, "")
	// Campaign update and delete.
	e.must(200, "GET", "/api/v1/admin/campaigns", root, "")
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/campaigns/%d", camp.ID), root, `{"name":"Support 2","agentIds":[]}`)
	if s := e.snapshot(carol); len(s.Campaigns) != 0 {
		t.Fatalf("carol still on %+v", s.Campaigns)
	}
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/admin/campaigns/%d", camp.ID), root, "")
	e.must(404, "GET", fmt.Sprintf("/api/v1/admin/campaigns/%d", camp.ID), root, "")
	e.must(200, "GET", "/api/v1/admin/users", root, "")
	e.must(404, "GET", "/api/v1/admin/users/abc", root, "")

	// Supervisor view.
	e.must(200, "POST", "/api/v1/agent/login", carol, "")
	var sv struct {
		AgentsByState map[string]int
		LoggedIn      int
	}
	e.must(200, "GET", "/api/v1/supervisor/snapshot", e.login("sue"), "").json(t, &sv)
	if sv.LoggedIn != 1 || sv.AgentsByState["logged_in"] != 1 {
		t.Fatalf("supervisor view %+v", sv)
	}
}

func TestOpsEndpointsAndHeaders(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.must(200, "GET", "/livez", "", "")
	e.must(200, "GET", "/readyz", "", "")
	e.ready = fmt.Errorf("ARI disconnected")
	p := e.must(503, "GET", "/readyz", "", "").problem(t)
	if !strings.Contains(p.Detail, "ARI disconnected") {
		t.Fatalf("readyz %+v", p)
	}
	var d map[string]any
	e.must(200, "GET", "/api/v1/openapi.json", "", "").json(t, &d)
	if d["openapi"] != "3.0.3" {
		t.Fatalf("openapi %v", d["openapi"])
	}
	tok := e.login("alice")
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	e.dialWS(tok, 0).next("hello")
	r := e.must(200, "GET", "/metrics", "", "")
	for _, want := range []string{`ctid_agents{state="logged_in"} 1`, `ctid_websocket_clients 1`,
		`ctid_http_request_duration_seconds_count{method="POST",route="/api/v1/auth/login",status="200"} 1`, `ctid_calls_queued 0`} {
		if !strings.Contains(string(r.body), want) {
			t.Log(grepLines(string(r.body), "ctid_http_request_duration_seconds_count"))
			t.Errorf("metrics lack %s", want)
		}
	}
	// Request ids: echoed when sane, generated otherwise, and in problems.
	r = e.doHdr("GET", "/api/v1/agent", "", "", map[string]string{"X-Request-Id": "abc-123"})
	if r.Header.Get("X-Request-Id") != "abc-123" || r.problem(t).RequestID != "abc-123" {
		t.Fatalf("request id %q", r.Header.Get("X-Request-Id"))
	}
	r = e.doHdr("GET", "/livez", "", "", map[string]string{"X-Request-Id": "bad id!"})
	if id := r.Header.Get("X-Request-Id"); len(id) != 16 {
		t.Fatalf("generated request id %q", id)
	}
	// CSP frame-ancestors and CORS allow-list.
	if csp := r.Header.Get("Content-Security-Policy"); csp != "frame-ancestors 'self' https://*.lightning.force.com" {
		t.Fatalf("CSP %q", csp)
	}
	r = e.doHdr("OPTIONS", "/api/v1/agent", "", "", map[string]string{"Origin": "https://crm.example.com",
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"})
	if r.Header.Get("Access-Control-Allow-Origin") != "https://crm.example.com" {
		t.Fatalf("CORS preflight: %v", r.Header)
	}
	// The embedded adaptor is served at /adaptor/, framable per the CSP.
	r = e.must(200, "GET", "/adaptor/", "", "")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "lightning.force.com") {
		t.Fatalf("adaptor page: %v", r.Header)
	}
	e.must(404, "GET", "/no-such-page.html", "", "")
	r = e.doHdr("GET", "/livez", "", "", map[string]string{"Origin": "https://evil.example.com"})
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS allowed a stranger")
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestSlowWebsocketClientIsCutOffAndResumes(t *testing.T) {
	e := newEnv(t, envOptions{feed: cti.NewFeed(4096, 64), sndbuf: 8192})
	tok := e.login("alice")
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/api/v1/ws?ticket=" + e.ticket(tok)
	var raw *net.TCPConn
	slow := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil {
			raw = c.(*net.TCPConn)
			raw.SetReadBuffer(4096)
		}
		return c, err
	}}
	conn, _, err := slow.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fast := e.dialWS(tok, 0) // a healthy tab keeps reading
	fast.next("hello")
	// Flood the feed while the slow client reads nothing: its socket and
	// then its subscription fill up, and the feed cuts it off.
	big := strings.Repeat("x", 4<<10)
	const n = 400
	id := e.ids["alice"]
	fastGot := make(chan int, 1)
	go func() {
		n := 0
		for m := range fast.msgs {
			if m.Type == "test.flood" {
				if n++; n == 400 {
					break
				}
			}
		}
		fastGot <- n
	}()
	var last uint64
	for i := 0; i < n; i++ {
		last = e.Engine.Feed().Publish(id, "test.flood", map[string]string{"pad": big}, time.Now())
		if i%4 == 3 {
			time.Sleep(4 * time.Millisecond) // a burst a healthy client absorbs
		}
	}
	t.Logf("published %d", last)
	raw.SetReadBuffer(1 << 20) // now read quickly
	var closeErr *websocket.CloseError
	var lastSeen uint64
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			if !errors.As(err, &closeErr) {
				t.Fatalf("slow client read: %v", err)
			}
			break
		}
		var m wsMsg
		json.Unmarshal(b, &m)
		if m.Type != "hello" {
			lastSeen = m.Seq
		}
	}
	if closeErr.Code != 4000 || !strings.Contains(closeErr.Text, fmt.Sprintf("after=%d", lastSeen)) {
		t.Fatalf("close %d %q, last seen %d", closeErr.Code, closeErr.Text, lastSeen)
	}
	if lastSeen >= last {
		t.Fatalf("slow client saw everything (%d of %d): not cut off", lastSeen, last)
	}
	// The healthy tab got every event.
	t.Logf("slow cut at %d", lastSeen)
	if got := <-fastGot; got != n {
		t.Fatalf("healthy tab got %d events", got)
	}
	// The feed's backlog (4096) still holds everything after lastSeen, so
	// reconnecting with after=lastSeen is a resume: no hello, and exactly
	// the events the slow client missed, in order, lastSeen+1 … last.
	again := e.dialWS(tok, lastSeen)
	deadline := time.After(15 * time.Second)
	for want := lastSeen + 1; want <= last; {
		select {
		case m, ok := <-again.msgs:
			if !ok {
				t.Fatalf("resumed websocket closed at seq %d of %d: %v", want, last, again.err)
			}
			if m.Type == "ping" {
				continue
			}
			if m.Type != "test.flood" || m.Seq != want {
				t.Fatalf("resume after=%d: got %s seq %d, want test.flood seq %d (a hello means the replay was refused)", lastSeen, m.Type, m.Seq, want)
			}
			want++
		case <-deadline:
			t.Fatalf("resume after=%d: replay stopped before seq %d of %d", lastSeen, want, last)
		}
	}
}

func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	e := newEnv(t, envOptions{})
	var d struct {
		Paths map[string]map[string]any
	}
	if err := json.Unmarshal(api.OpenAPIDocument, &d); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, ops := range d.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+regexp.MustCompile(`\{(\w+)\}`).ReplaceAllString(p, ":$1")] = true
		}
	}
	served := map[string]bool{}
	for _, r := range e.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Path == "/" || r.Path == "/api" {
			continue // the static mount and the /api 404 catch-all
		}
		served[r.Method+" "+r.Path] = true
		if !documented[r.Method+" "+r.Path] {
			t.Errorf("route %s %s is not in openapi.json", r.Method, r.Path)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.json documents %s, which is not served", k)
		}
	}
}

func TestShutdownClosesWebsocketsWithResumeHint(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice")
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	ws := e.dialWS(tok, 0)
	h := ws.next("hello")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- e.srv.Shutdown(ctx)
	}()
	select {
	case <-ws.done:
	case <-time.After(5 * time.Second):
		t.Fatal("websocket not closed on shutdown")
	}
	var ce *websocket.CloseError
	if !errors.As(ws.err, &ce) || ce.Code != websocket.CloseServiceRestart || !strings.Contains(ce.Text, fmt.Sprintf("after=%d", h.Seq)) {
		t.Fatalf("close: %v", ws.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
