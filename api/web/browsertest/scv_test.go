package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sfHost is the Salesforce origin the Service Cloud Voice stand-in is
// served from: the SDK takes SETUP_CONNECTOR only from an https
// *.lightning.force.com page, and ctid's frame-ancestors allows
// https://*.lightning.force.com. Chromium resolves it to a local TLS server
// serving testdata/www/scv (the page is not part of ctid).
const sfHost = "acme.lightning.force.com"

const (
	sfReadyStatus  = "0N5000000000001AAA"
	sfPausedStatus = "0N5000000000002AAA"
)

func agentState(t *testing.T, b backend, token string) (state string, held bool) {
	t.Helper()
	var s struct {
		State    struct{ State string }
		Controls *struct{ Held bool }
	}
	call(t, b, token, "GET", "/agent", "", &s)
	return s.State.State, s.Controls != nil && s.Controls.Held
}

// waitAgent polls GET /api/v1/agent until cond holds (at most 20 s).
func waitAgent(t *testing.T, b backend, token, what string, cond func(state string, held bool) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, held := agentState(t, b, token)
		if cond(st, held) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ctid: timed out waiting for %s (state %s, held %v)", what, st, held)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The Salesforce Voice connector (/scv/) on the real backend, driven by the
// stand-in of Salesforce's side of scv-connector-base's postMessage
// protocol: login, Ready, an inbound call published as CALL_STARTED and
// CALL_CONNECTED, hold and resume, end call, Paused, and a change made in
// ctid published back to Salesforce.
func TestSalesforceVoiceConnector(t *testing.T) {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("the connector runs on the real backend")
	}
	r := newReal(t)
	sf := httptest.NewUnstartedServer(http.FileServer(http.Dir("testdata/www/scv")))
	sf.StartTLS()
	t.Cleanup(sf.Close)
	ctx := browserWith(t, chromedp.Flag("host-resolver-rules", "MAP "+sfHost+" "+sf.Listener.Addr().String()),
		chromedp.Flag("ignore-certificate-errors", true))

	q := url.Values{"ctid": {r.URL()}, "/reqCtid/reqUsername": {"alice"}, "/reqCtid/reqPassword": {agentPassword},
		"/reqCtid/reqReadyStatusId": {sfReadyStatus}, "/reqCtid/reqPausedStatusId": {sfPausedStatus}}
	run(t, ctx, "open the Salesforce stand-in", chromedp.EmulateViewport(1100, 640),
		chromedp.Navigate("https://"+sfHost+"/index.html?"+q.Encode()))
	waitJS(t, ctx, "connector ready", `sf.ready()`)
	if e := eval[[]string](t, ctx, `sf.errors()`); len(e) > 0 {
		t.Errorf("errors published at set-up: %v", e)
	}

	// The connector logged alice in and connected her phone: ctid shows her Paused.
	var lr struct{ Token string }
	call(t, r, "", "POST", "/auth/login", `{"username":"alice","password":"`+agentPassword+`"}`, &lr)
	tok := lr.Token
	waitAgent(t, r, tok, "paused after the connector's login", func(s string, _ bool) bool { return s == "paused" })
	waitJS(t, ctx, "paused published", `sfStatus===`+fmt.Sprintf("%q", sfPausedStatus))
	shot(t, ctx, "50-scv-logged-in")

	// Ready from Salesforce.
	run(t, ctx, "set Online", ev(`sf.send('SET_AGENT_STATUS',{agentStatus:'Online',statusInfo:{statusId:'`+sfReadyStatus+`',statusName:'Available'}})`))
	waitJS(t, ctx, "set status result", `sf.count('SET_AGENT_STATUS_RESULT')===1 && sf.last('SET_AGENT_STATUS_RESULT').payload.success===true`)
	waitAgent(t, r, tok, "ready", func(s string, _ bool) bool { return s == "ready" })

	// An inbound call: started (ringing) then connected.
	r.Inbound("+447700900123")
	waitJS(t, ctx, "call started", `sf.count('CALL_STARTED')===1 && sf.last('CALL_STARTED').payload.callType==='Inbound' && sf.last('CALL_STARTED').payload.phoneNumber==='+447700900123'`)
	if st := eval[string](t, ctx, `sf.last('CALL_STARTED').payload.state`); st != "ringing" {
		t.Errorf("CALL_STARTED state %q, want ringing", st)
	}
	waitJS(t, ctx, "call connected", `sf.count('CALL_CONNECTED')===1 && sf.last('CALL_CONNECTED').payload.state==='connected'`)
	waitAgent(t, r, tok, "on call", func(s string, _ bool) bool { return s == "on_call" })
	// Salesforce's Accept: the call as it is.
	run(t, ctx, "accept", ev(`sf.send('ACCEPT_CALL',{call:sf.last('CALL_STARTED').payload})`))
	waitJS(t, ctx, "accepted", `sf.count('CALL_CONNECTED')===2`)
	shot(t, ctx, "51-scv-call-connected")

	// Hold and resume through the connector.
	run(t, ctx, "hold", ev(`sf.send('HOLD',{call:sf.call()})`))
	waitJS(t, ctx, "hold published", `sf.count('HOLD_TOGGLE')===1 && sf.last('HOLD_TOGGLE').payload.isCustomerOnHold===true`)
	waitAgent(t, r, tok, "held", func(s string, held bool) bool { return s == "on_call" && held })
	shot(t, ctx, "52-scv-on-hold")
	run(t, ctx, "resume", ev(`sf.send('RESUME',{call:sf.call()})`))
	waitJS(t, ctx, "resume published", `sf.count('HOLD_TOGGLE')===2 && sf.last('HOLD_TOGGLE').payload.isCustomerOnHold===false`)
	waitAgent(t, r, tok, "resumed", func(s string, held bool) bool { return s == "on_call" && !held })

	// End the call from Salesforce: one HANGUP, then after-call work.
	run(t, ctx, "end call", ev(`sf.send('END_CALL',{call:sf.call(),agentStatus:'AfterCallWork'})`))
	waitJS(t, ctx, "hangup", `sf.count('HANGUP')===1 && sf.count('AFTER_CALL_WORK_STARTED')===1`)
	waitAgent(t, r, tok, "wrap", func(s string, _ bool) bool { return s == "on_wrap" })
	if n := eval[int](t, ctx, `sf.count('HOLD_TOGGLE')`); n != 2 {
		t.Errorf("HOLD_TOGGLE published %d times, want 2 (each once)", n)
	}

	// Paused from Salesforce: the wrap ends into Paused.
	run(t, ctx, "set Offline", ev(`sf.send('SET_AGENT_STATUS',{agentStatus:'Offline',statusInfo:{statusId:'`+sfPausedStatus+`',statusName:'Break'}})`))
	waitJS(t, ctx, "set status result", `sf.count('SET_AGENT_STATUS_RESULT')===2 && sf.last('SET_AGENT_STATUS_RESULT').payload.success===true`)
	waitAgent(t, r, tok, "paused", func(s string, _ bool) bool { return s == "paused" })
	if n := eval[int](t, ctx, `sf.count('HANGUP')`); n != 1 {
		t.Errorf("HANGUP published %d times, want 1", n)
	}

	// A change made in ctid is published to Salesforce.
	before := eval[int](t, ctx, `sf.count('SET_AGENT_STATUS')`)
	call(t, r, tok, "POST", "/agent/ready", "", nil)
	waitJS(t, ctx, "ready published", fmt.Sprintf(`sf.count('SET_AGENT_STATUS')===%d && sfStatus===%q`, before+1, sfReadyStatus))
	if e := eval[[]string](t, ctx, `sf.errors()`); len(e) > 0 {
		t.Errorf("errors published: %v", e)
	}
	shot(t, ctx, "53-scv-ready-from-ctid")
}
