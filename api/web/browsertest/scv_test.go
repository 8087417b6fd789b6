package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
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
	sfvBefore(t, ctx, "HANGUP", "AFTER_CALL_WORK_STARTED")
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

// --- the rest of the SDK's interface, as Salesforce sends it ----------------

// sfvStart starts ctid on the double and the Salesforce stand-in framing
// the connector with the contact center's settings in cfg (ctid's origin
// and the presence status ids are added).
func sfvStart(t *testing.T, cfg url.Values, before ...func(*real)) (*real, context.Context) {
	t.Helper()
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("the connector runs on the real backend")
	}
	r := newReal(t)
	for _, f := range before {
		f(r)
	}
	sf := httptest.NewUnstartedServer(http.FileServer(http.Dir("testdata/www/scv")))
	sf.StartTLS()
	t.Cleanup(sf.Close)
	ctx := browserWith(t, chromedp.Flag("host-resolver-rules", "MAP "+sfHost+" "+sf.Listener.Addr().String()),
		chromedp.Flag("ignore-certificate-errors", true))
	q := url.Values{"ctid": {r.URL()}, "/reqCtid/reqReadyStatusId": {sfReadyStatus}, "/reqCtid/reqPausedStatusId": {sfPausedStatus}}
	for k, v := range cfg {
		q[k] = v
	}
	run(t, ctx, "open the Salesforce stand-in", chromedp.EmulateViewport(1100, 640),
		chromedp.Navigate("https://"+sfHost+"/index.html?"+q.Encode()))
	return r, ctx
}

// sfvAlice is the connector's login from its settings: alice, on the
// phone the settings say.
func sfvAlice(extra url.Values) url.Values {
	q := url.Values{"/reqCtid/reqUsername": {"alice"}, "/reqCtid/reqPassword": {agentPassword}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

// sfvAgent adds a second ctid agent on the Sales campaign, logged in through
// the API with phone ext kept open, Paused; it returns their token.
func sfvAgent(t *testing.T, r *real, name, display, ext string) string {
	t.Helper()
	ctx := context.Background()
	u, err := postgres.NewAdmin(r.DB).CreateUser(ctx, postgres.NewUser{Username: name, Password: agentPassword, DisplayName: display,
		Role: cti.RoleAgent, DefaultPhone: ext})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.DB.Exec(`INSERT INTO campaign_agents(campaign_id, user_id) VALUES (?, ?)`, r.CampaignID("Sales"), u.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := r.Engine.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	r.Double.Script("PJSIP/"+ext, aritest.Behavior{AnswerAfter: 100 * time.Millisecond})
	var lr struct{ Token string }
	call(t, r, "", "POST", "/auth/login", `{"username":"`+name+`","password":"`+agentPassword+`"}`, &lr)
	call(t, r, lr.Token, "POST", "/agent/login", "", nil)
	call(t, r, lr.Token, "POST", "/agent/connect", `{"mode":"system_calls","number":"`+ext+`","persistent":true}`, nil)
	sfvWait(t, r, lr.Token, name+" paused", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentPaused })
	return lr.Token
}

func sfvToken(t *testing.T, r *real, name string) string {
	t.Helper()
	var lr struct{ Token string }
	call(t, r, "", "POST", "/auth/login", `{"username":"`+name+`","password":"`+agentPassword+`"}`, &lr)
	return lr.Token
}

// sfvWait polls GET /api/v1/agent until cond holds (at most 20 s).
func sfvWait(t *testing.T, r *real, tok, what string, cond func(cti.AgentSnapshot) bool) cti.AgentSnapshot {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var s cti.AgentSnapshot
		call(t, r, tok, "GET", "/agent", "", &s)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("ctid: timed out waiting for %s (state %s %q, call %+v, transfer %+v)", what, s.State.State, s.State.PauseReason, s.Call, s.Transfer)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sfvReady sets alice Online from Salesforce and waits for ctid's Ready.
func sfvReady(t *testing.T, ctx context.Context, r *real, tok string) {
	t.Helper()
	n := eval[int](t, ctx, `sf.count('SET_AGENT_STATUS_RESULT')`)
	run(t, ctx, "set Online", ev(`sf.send('SET_AGENT_STATUS',{agentStatus:'Online',statusInfo:{statusId:'`+sfReadyStatus+`',statusName:'Available'}})`))
	sfvJS(t, ctx, "set status result", fmt.Sprintf(`sf.count('SET_AGENT_STATUS_RESULT')===%d && sf.last('SET_AGENT_STATUS_RESULT').payload.success===true`, n+1))
	sfvWait(t, r, tok, "ready", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentReady })
}

func sfvNoErrors(t *testing.T, ctx context.Context) {
	t.Helper()
	if e := eval[[]string](t, ctx, `sf.errors()`); len(e) > 0 {
		t.Errorf("errors published to Salesforce: %v", e)
	}
}

func onCallWith(number string) func(cti.AgentSnapshot) bool {
	return func(s cti.AgentSnapshot) bool {
		return s.State.State == cti.AgentOnCall && s.Call != nil && s.Call.CustomerNumber == number && s.Call.State == cti.CallConnected
	}
}

// Decline from Salesforce: alice's phone rings (ctid calls it for each
// call: reqPersistent false); Salesforce's Decline sends DECLINE_CALL; the
// SDK publishes HANGUP once, ctid gives the caller to bob and pauses alice
// "Declined a call", which Salesforce hears as her Paused status. A second
// decline, with nothing offered, is an error Salesforce shows.
func TestSalesforceVoiceConnectorDecline(t *testing.T) {
	r, ctx := sfvStart(t, sfvAlice(url.Values{"/reqCtid/reqPersistent": {"false"}}))
	r.Double.Script("PJSIP/1001", aritest.Behavior{NoAnswer: true}) // rings until declined
	sfvJS(t, ctx, "connector ready", `sf.ready()`)
	tok := sfvToken(t, r, "alice")
	s := sfvWait(t, r, tok, "alice paused", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentPaused })
	if s.Phone.Persistent {
		t.Errorf("reqPersistent false: alice's phone is kept open (%+v)", s.Phone)
	}
	bob := sfvAgent(t, r, "bob", "Bob Builder", "1002")
	sfvReady(t, ctx, r, tok)

	r.Inbound("+447700900123")
	sfvJS(t, ctx, "call started, ringing", `sf.count('CALL_STARTED')===1 && sf.last('CALL_STARTED').payload.state==='ringing' && sf.last('CALL_STARTED').payload.phoneNumber==='+447700900123'`)
	if !eval[bool](t, ctx, `sf.last('CALL_STARTED').payload.callInfo.declineEnabled===true`) {
		t.Errorf("an offered inbound call should say declineEnabled")
	}
	sfvWait(t, r, tok, "alice ringing", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentReserved })
	call(t, r, bob, "POST", "/agent/ready", "", nil) // bob is Ready only now, so the call rang alice
	shot(t, ctx, "54-scv-offered")

	run(t, ctx, "decline", ev(`sf.send('DECLINE_CALL',{call:sf.last('CALL_STARTED').payload})`))
	sfvJS(t, ctx, "hangup published", `sf.count('HANGUP')===1`)
	s = sfvWait(t, r, tok, "alice paused after declining", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentPaused })
	if s.State.PauseReason != "Declined a call" || s.Call != nil {
		t.Errorf("alice after declining: %+v, call %+v", s.State, s.Call)
	}
	sfvWait(t, r, bob, "the caller with bob", onCallWith("+447700900123"))
	sfvJS(t, ctx, "paused published", `sfStatus===`+fmt.Sprintf("%q", sfPausedStatus))
	sfvBefore(t, ctx, "HANGUP", "SET_AGENT_STATUS")
	if h := eval[string](t, ctx, `JSON.stringify(sf.last('HANGUP').payload)`); !strings.Contains(h, sfvCallID(t, ctx)) {
		t.Errorf("HANGUP %s is not the declined call", h)
	}
	sfvNoErrors(t, ctx)
	if n := eval[int](t, ctx, `sf.count('CALL_CONNECTED')`); n != 0 {
		t.Errorf("CALL_CONNECTED published %d times for a declined call", n)
	}
	shot(t, ctx, "55-scv-declined")

	// Nothing offered any more: Salesforce is told the decline failed.
	run(t, ctx, "decline again", ev(`sf.send('DECLINE_CALL',{call:sf.last('CALL_STARTED').payload})`))
	sfvJS(t, ctx, "decline refused", `sf.errors().some(e=>e.includes('CAN_NOT_DECLINE_THE_CALL'))`)
	if n := eval[int](t, ctx, `sf.count('HANGUP')`); n != 1 {
		t.Errorf("HANGUP published %d times, want 1", n)
	}
	if s := sfvWait(t, r, tok, "alice", func(cti.AgentSnapshot) bool { return true }); s.State.State != cti.AgentPaused {
		t.Errorf("a refused decline changed alice to %s", s.State.State)
	}

	// The next call: Salesforce's Accept while the phone rings waits for
	// the phone to be answered, then CALL_CONNECTED comes once.
	sfvReady(t, ctx, r, tok)
	r.Inbound("+447700900124")
	sfvJS(t, ctx, "second call ringing", `sf.count('CALL_STARTED')===2 && sf.last('CALL_STARTED').payload.state==='ringing'`)
	var leg string
	deadline := time.Now().Add(20 * time.Second)
	for leg == "" {
		for _, c := range r.Double.Channels() {
			if strings.HasPrefix(c.Name, "PJSIP/1001-") && c.State == "Ringing" && !c.Destroyed {
				leg = c.ID
			}
		}
		if leg == "" {
			if time.Now().After(deadline) {
				t.Fatal("alice's phone does not ring for the second call")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	run(t, ctx, "accept", ev(`sf.send('ACCEPT_CALL',{call:sf.last('CALL_STARTED').payload})`))
	waitJS(t, sfvFrame(t, ctx, r), "the connector asks to answer on the phone", `document.getElementById('st').textContent.includes('Answer the call on your phone.')`)
	if n := eval[int](t, ctx, `sf.count('CALL_CONNECTED')`); n != 0 {
		t.Errorf("CALL_CONNECTED published %d times before the phone was answered", n)
	}
	r.Double.AnswerChannel(leg)
	sfvJS(t, ctx, "connected", `sf.count('CALL_CONNECTED')===1 && sf.last('CALL_CONNECTED').payload.state==='connected' && sf.last('CALL_CONNECTED').payload.phoneNumber==='+447700900124'`)
	sfvWait(t, r, tok, "alice on the second call", onCallWith("+447700900124"))
	shot(t, ctx, "55b-scv-accepted-on-the-phone")
	run(t, ctx, "end call", ev(`sf.send('END_CALL',{call:sf.call(),agentStatus:'AfterCallWork'})`))
	sfvJS(t, ctx, "hangup", `sf.count('HANGUP')===2`)
	if n := eval[int](t, ctx, `sf.count('CALL_CONNECTED')`); n != 1 {
		t.Errorf("CALL_CONNECTED published %d times, want 1", n)
	}
	if e := eval[[]string](t, ctx, `sf.errors()`); len(e) != 1 {
		t.Errorf("errors published to Salesforce: %v, want only the refused decline", e)
	}
}

// sfvBefore checks that Salesforce got the last a before the last b.
func sfvBefore(t *testing.T, ctx context.Context, a, b string) {
	t.Helper()
	order := eval[string](t, ctx, `scvEvents.map(e=>e.type).join(' ')`)
	if !eval[bool](t, ctx, fmt.Sprintf(`(l=>l.lastIndexOf(%q)>=0 && l.lastIndexOf(%q)>l.lastIndexOf(%q))(scvEvents.map(e=>e.type))`, a, b, a)) {
		t.Errorf("Salesforce should get %s before %s; got %s", a, b, order)
	}
}

func sfvCallID(t *testing.T, ctx context.Context) string {
	return eval[string](t, ctx, `sf.last('CALL_STARTED').payload.callId`)
}

// A consult to another ctid agent from Salesforce's directory, merged into
// a conference and left; then a second call consulted and completed (the
// agent ends their side: a warm transfer).
func TestSalesforceVoiceConnectorConsult(t *testing.T) {
	r, ctx := sfvStart(t, sfvAlice(nil))
	sfvJS(t, ctx, "connector ready", `sf.ready()`)
	tok := sfvToken(t, r, "alice")
	sfvWait(t, r, tok, "alice paused", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentPaused })
	bob := sfvAgent(t, r, "bob", "Bob Builder", "1002")
	sfvReady(t, ctx, r, tok)

	// Call 1: consult bob, merge, leave.
	r.Inbound("+447700900201")
	sfvJS(t, ctx, "call connected", `sf.count('CALL_CONNECTED')===1`)
	sfvWait(t, r, tok, "alice on call", onCallWith("+447700900201"))
	call(t, r, bob, "POST", "/agent/ready", "", nil)
	// Salesforce's directory lists bob as an Agent contact, available.
	run(t, ctx, "directory", ev(`sf.send('GET_PHONE_CONTACTS',{filter:{}})`))
	sfvJS(t, ctx, "contacts", `sf.count('PHONE_CONTACTS')===1`)
	if !eval[bool](t, ctx, `sf.last('PHONE_CONTACTS').payload.contacts.some(c=>c.id==='bob'&&c.type==='Agent'&&c.availability==='AVAILABLE')`) {
		t.Errorf("bob is not an available Agent contact: %s", eval[string](t, ctx, `JSON.stringify(sf.last('PHONE_CONTACTS').payload)`))
	}
	run(t, ctx, "consult bob", ev(`sf.send('ADD_PARTICIPANT',{contact:sf.last('PHONE_CONTACTS').payload.contacts.find(c=>c.id==='bob'),call:sf.call(),isBlindTransfer:false})`))
	sfvJS(t, ctx, "participant added and connected", `sf.count('PARTICIPANT_ADDED')===1 && sf.count('PARTICIPANT_CONNECTED')===1`)
	if sf := eval[bool](t, ctx, `sf.last('PARTICIPANT_ADDED').payload.initialCallHasEnded===false && sf.last('PARTICIPANT_CONNECTED').payload.callId===sf.last('PARTICIPANT_ADDED').payload.callId`); !sf {
		t.Errorf("participant events: %s", eval[string](t, ctx, `JSON.stringify([sf.last('PARTICIPANT_ADDED'),sf.last('PARTICIPANT_CONNECTED')])`))
	}
	sfvWait(t, r, tok, "consulting bob", func(s cti.AgentSnapshot) bool {
		return s.Transfer != nil && s.Transfer.State == cti.XferConsulting && s.Transfer.Target == "bob"
	})
	sfvBefore(t, ctx, "PARTICIPANT_ADDED", "PARTICIPANT_CONNECTED")
	shot(t, ctx, "56-scv-consulting")
	// SDK 3.6.2 publishes PARTICIPANTS_CONFERENCED as a HOLD_TOGGLE with
	// nobody on hold.
	holds := eval[int](t, ctx, `sf.count('HOLD_TOGGLE')`)
	run(t, ctx, "conference", ev(`sf.send('CONFERENCE',{calls:[sf.call()]})`))
	sfvJS(t, ctx, "conferenced", fmt.Sprintf(`sf.count('HOLD_TOGGLE')===%d && !sf.last('HOLD_TOGGLE').payload.isCustomerOnHold && !sf.last('HOLD_TOGGLE').payload.isThirdPartyOnHold`, holds+1))
	sfvWait(t, r, tok, "conference", func(s cti.AgentSnapshot) bool { return s.Conference != nil && len(s.Conference.Parties) == 1 })
	sfvWait(t, r, bob, "bob in the conference", func(s cti.AgentSnapshot) bool {
		return s.State.State == cti.AgentOnCall && s.Call != nil && s.Call.ConferenceParty
	})
	shot(t, ctx, "57-scv-conference")
	hangups := eval[int](t, ctx, `sf.count('HANGUP')`)
	run(t, ctx, "end (leave the conference)", ev(`sf.send('END_CALL',{call:sf.call(),agentStatus:'AfterCallWork'})`))
	sfvJS(t, ctx, "hangup", fmt.Sprintf(`sf.count('HANGUP')===%d`, hangups+1))
	sfvWait(t, r, tok, "alice wraps", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentOnWrap })
	sfvJS(t, ctx, "after-call work", `sf.count('AFTER_CALL_WORK_STARTED')===1`)
	sfvBefore(t, ctx, "HANGUP", "AFTER_CALL_WORK_STARTED")
	sfvWait(t, r, bob, "bob carries on with the caller", func(s cti.AgentSnapshot) bool {
		return s.State.State == cti.AgentOnCall && s.Call != nil && s.Call.CustomerNumber == "+447700900201"
	})
	sfvNoErrors(t, ctx)
	if n := eval[int](t, ctx, `sf.count('HOLD_TOGGLE')`); n != holds+1 {
		t.Errorf("HOLD_TOGGLE published %d times, want %d (the conference's, once)", n, holds+1)
	}
	r.CustomerHangup()
	sfvWait(t, r, bob, "bob wraps", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentOnWrap })
	call(t, r, bob, "POST", "/agent/wrap", `{"code":"SALE","next":"paused","reason":"Break"}`, nil)
	sfvReady(t, ctx, r, tok) // ends alice's wrap into Ready

	// Call 2: consult bob, then end alice's side: bob takes the caller.
	r.Inbound("+447700900202")
	sfvJS(t, ctx, "call 2 connected", `sf.count('CALL_CONNECTED')===2`)
	sfvWait(t, r, tok, "alice on call 2", onCallWith("+447700900202"))
	call(t, r, bob, "POST", "/agent/ready", "", nil)
	run(t, ctx, "consult bob", ev(`sf.send('ADD_PARTICIPANT',{contact:{id:'bob',type:'Agent',name:'Bob Builder'},call:sf.call(),isBlindTransfer:false})`))
	sfvJS(t, ctx, "participant connected", `sf.count('PARTICIPANT_CONNECTED')===2`)
	sfvWait(t, r, tok, "consulting bob", func(s cti.AgentSnapshot) bool { return s.Transfer != nil && s.Transfer.State == cti.XferConsulting })
	hangups = eval[int](t, ctx, `sf.count('HANGUP')`)
	run(t, ctx, "end my side (complete)", ev(`sf.send('END_CALL',{call:sf.call(),agentStatus:'AfterCallWork'})`))
	sfvJS(t, ctx, "hangup", fmt.Sprintf(`sf.count('HANGUP')===%d`, hangups+1))
	sfvWait(t, r, tok, "alice wraps", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentOnWrap })
	bs := sfvWait(t, r, bob, "bob has the caller", onCallWith("+447700900202"))
	if bs.Call.TransferredFrom == nil || bs.Call.ConferenceParty {
		t.Errorf("bob's call should be a completed transfer from alice: %+v", bs.Call)
	}
	sfvNoErrors(t, ctx)
	shot(t, ctx, "58-scv-consult-completed")
	sfvJS(t, ctx, "after-call work", `sf.count('AFTER_CALL_WORK_STARTED')===2`)
	sfvBefore(t, ctx, "PARTICIPANT_ADDED", "PARTICIPANT_CONNECTED")
	sfvBefore(t, ctx, "HANGUP", "AFTER_CALL_WORK_STARTED")
	if n := eval[int](t, ctx, `sf.count('HANGUP')`); n != 2 {
		t.Errorf("HANGUP published %d times over two calls, want 2", n)
	}
}

// Mute/unmute, recording pause/resume, a blind transfer and an outbound
// call dialled from Salesforce.
func TestSalesforceVoiceConnectorControls(t *testing.T) {
	r, ctx := sfvStart(t, sfvAlice(nil))
	if err := r.DB.Exec(`UPDATE users SET recording_control = true WHERE username = 'alice'`).Error; err != nil {
		t.Fatal(err)
	}
	if err := r.DB.Exec(`UPDATE campaigns SET recording = true WHERE id = ?`, r.CampaignID("Sales")).Error; err != nil {
		t.Fatal(err)
	}
	if err := r.Engine.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	sfvJS(t, ctx, "connector ready", `sf.ready()`)
	tok := sfvToken(t, r, "alice")
	sfvWait(t, r, tok, "alice paused", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentPaused })
	bob := sfvAgent(t, r, "bob", "Bob Builder", "1002")
	sfvReady(t, ctx, r, tok)
	if eval[bool](t, ctx, `scvMessages.find(m=>m.type==='CONNECTOR_READY').payload.capabilities.SUPERVISOR_LISTEN_IN!==false`) {
		t.Errorf("an agent is offered supervisor listen-in")
	}
	r.Inbound("+447700900301")
	sfvJS(t, ctx, "call connected", `sf.count('CALL_CONNECTED')===1`)
	if eval[bool](t, ctx, `sf.last('CALL_STARTED').payload.callInfo.declineEnabled`) {
		t.Errorf("a call on a kept line cannot be declined, yet CALL_STARTED says declineEnabled")
	}
	sfvWait(t, r, tok, "recording", func(s cti.AgentSnapshot) bool { return s.Recording != nil && s.Recording.State == "recording" })

	// Mute and unmute: one MUTE_TOGGLE each (the SDK's), ctid's controls follow.
	run(t, ctx, "mute", ev(`sf.send('MUTE',{call:sf.call()})`))
	sfvJS(t, ctx, "muted", `sf.count('MUTE_TOGGLE')===1 && sf.last('MUTE_TOGGLE').payload.isMuted===true`)
	sfvWait(t, r, tok, "muted in ctid", func(s cti.AgentSnapshot) bool { return s.Controls != nil && s.Controls.Muted })
	shot(t, ctx, "59-scv-muted")
	run(t, ctx, "unmute", ev(`sf.send('UNMUTE',{call:sf.call()})`))
	sfvJS(t, ctx, "unmuted", `sf.count('MUTE_TOGGLE')===2 && sf.last('MUTE_TOGGLE').payload.isMuted===false`)
	sfvWait(t, r, tok, "unmuted in ctid", func(s cti.AgentSnapshot) bool { return s.Controls != nil && !s.Controls.Muted })

	// Recording pause and resume.
	run(t, ctx, "pause recording", ev(`sf.send('PAUSE_RECORDING',{call:sf.call()})`))
	sfvJS(t, ctx, "recording paused", `sf.count('RECORDING_TOGGLE')===1 && sf.last('RECORDING_TOGGLE').payload.isRecordingPaused===true`)
	sfvWait(t, r, tok, "paused in ctid", func(s cti.AgentSnapshot) bool { return s.Recording != nil && s.Recording.State == "paused" })
	shot(t, ctx, "60-scv-recording-paused")
	run(t, ctx, "resume recording", ev(`sf.send('RESUME_RECORDING',{call:sf.call()})`))
	sfvJS(t, ctx, "recording resumed", `sf.count('RECORDING_TOGGLE')===2 && sf.last('RECORDING_TOGGLE').payload.isRecordingPaused===false`)
	sfvWait(t, r, tok, "recording in ctid", func(s cti.AgentSnapshot) bool { return s.Recording != nil && s.Recording.State == "recording" })

	// Blind transfer to bob: PARTICIPANT_ADDED and one HANGUP (both the SDK's).
	call(t, r, bob, "POST", "/agent/ready", "", nil)
	run(t, ctx, "blind transfer", ev(`sf.send('ADD_PARTICIPANT',{contact:{id:'bob',type:'Agent',name:'Bob Builder'},call:sf.call(),isBlindTransfer:true})`))
	sfvJS(t, ctx, "transferred", `sf.count('PARTICIPANT_ADDED')===1 && sf.last('PARTICIPANT_ADDED').payload.initialCallHasEnded===true && sf.count('HANGUP')===1`)
	sfvWait(t, r, tok, "alice wraps", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentOnWrap })
	sfvWait(t, r, bob, "bob has the caller", onCallWith("+447700900301"))
	sfvJS(t, ctx, "after-call work", `sf.count('AFTER_CALL_WORK_STARTED')===1`)
	sfvBefore(t, ctx, "HANGUP", "AFTER_CALL_WORK_STARTED")
	sfvNoErrors(t, ctx)
	if s := eval[string](t, ctx, `sf.count('MUTE_TOGGLE')+'/'+sf.count('RECORDING_TOGGLE')+'/'+sf.count('HANGUP')`); s != "2/2/1" {
		t.Errorf("MUTE_TOGGLE/RECORDING_TOGGLE/HANGUP published %s times, want 2/2/1 (each once)", s)
	}

	// Dial from Salesforce (alice is wrapping: Paused first, the wrap ends).
	run(t, ctx, "set Offline", ev(`sf.send('SET_AGENT_STATUS',{agentStatus:'Offline',statusInfo:{statusId:'`+sfPausedStatus+`',statusName:'Break'}})`))
	sfvWait(t, r, tok, "paused", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentPaused })
	run(t, ctx, "dial", ev(`sf.send('DIAL',{contact:{phoneNumber:'020 7946 0123'}})`))
	sfvJS(t, ctx, "outbound started", `sf.count('CALL_STARTED')===2 && sf.last('CALL_STARTED').payload.callType==='Outbound'`)
	sfvJS(t, ctx, "outbound connected", `sf.count('CALL_CONNECTED')===2 && sf.last('CALL_CONNECTED').payload.callType==='Outbound' && sf.last('CALL_CONNECTED').payload.state==='connected'`)
	s := sfvWait(t, r, tok, "alice on the outbound call", onCallWith("+442079460123"))
	if s.Call.Direction != "OUT" {
		t.Errorf("dialled call %+v", s.Call)
	}
	shot(t, ctx, "61-scv-dialled")
	run(t, ctx, "end call", ev(`sf.send('END_CALL',{call:sf.call(),agentStatus:'AfterCallWork'})`))
	sfvJS(t, ctx, "hangup", `sf.count('HANGUP')===2`)
	sfvWait(t, r, tok, "wrap", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentOnWrap })
	sfvJS(t, ctx, "after-call work", `sf.count('AFTER_CALL_WORK_STARTED')===2`)
	sfvBefore(t, ctx, "HANGUP", "AFTER_CALL_WORK_STARTED")
	if n := eval[int](t, ctx, `sf.count('CALL_STARTED')`); n != 2 {
		t.Errorf("CALL_STARTED published %d times over an inbound and a dialled call, want 2", n)
	}
	sfvNoErrors(t, ctx)
}

// The sign-in form inside the connector's frame: without credentials in the
// settings the SDK publishes SHOW_LOGIN; a wrong password is said in the
// form; the right one publishes LOGIN_RESULT and the connector is ready.
func TestSalesforceVoiceConnectorLoginForm(t *testing.T) {
	r, ctx := sfvStart(t, nil)
	sfvJS(t, ctx, "login shown", `sf.count('SHOW_LOGIN')===1`)
	if eval[bool](t, ctx, `sf.ready()`) {
		t.Fatal("connector ready before anyone signed in")
	}
	frame := sfvFrame(t, ctx, r)
	run(t, frame, "form visible", chromedp.WaitVisible(chromedp.ID("lgUser")))
	shot(t, ctx, "62-scv-login-form")
	run(t, frame, "wrong password", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), "not-it"),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, frame, "refusal shown", `document.getElementById('lgErr').textContent.length>0`)
	msg := eval[string](t, frame, `document.getElementById('lgErr').textContent`)
	if strings.Contains(strings.ToLower(msg), "error") && len(msg) < 8 || msg == "" {
		t.Errorf("wrong password said as %q", msg)
	}
	if n := eval[int](t, ctx, `sf.count('LOGIN_RESULT')`); n != 0 {
		t.Errorf("LOGIN_RESULT published %d times for a wrong password", n)
	}
	shot(t, ctx, "63-scv-login-refused")
	run(t, frame, "right password", ev(`document.getElementById('lgPass').value=''`), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	if _, err := chromedp.Run(frame, chromedp.Poll[bool](`document.getElementById('login').offsetParent===null`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the right password did not sign in: form says %q, status %q", eval[string](t, frame, `document.getElementById('lgErr').textContent`),
			eval[string](t, frame, `document.getElementById('st').textContent`))
	}
	sfvJS(t, ctx, "login result", `sf.count('LOGIN_RESULT')===1 && sf.last('LOGIN_RESULT').payload.success===true && sf.ready()`)
	waitJS(t, frame, "form gone", `document.getElementById('login').offsetParent===null && document.getElementById('st').textContent.includes('Alice Agent')`)
	tok := sfvToken(t, r, "alice")
	sfvWait(t, r, tok, "alice paused, phone connected", func(s cti.AgentSnapshot) bool {
		return s.State.State == cti.AgentPaused && s.Phone.Connected
	})
	sfvReady(t, ctx, r, tok)
	sfvNoErrors(t, ctx)
	shot(t, ctx, "64-scv-signed-in")
}

// sfvJS is waitJS for the Salesforce stand-in: on a timeout it shows what
// the connector published (the frame is another site, so waitJS's dump of
// frames cannot read it).
func sfvJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	waitJSOr(t, ctx, what, expr, "Salesforce got", `document.getElementById('log').textContent+'\n'+JSON.stringify(scvMessages.filter(m=>m.type==='LOG').map(m=>m.payload).slice(-12))`)
}

// A supervisor in Salesforce listens in to alice's call, barges in and
// disconnects, through ctid's monitor on the supervisor's own phone; a
// second listen-in ends by itself when the caller hangs up.
func TestSalesforceVoiceConnectorSupervisor(t *testing.T) {
	r, ctx := sfvStart(t, url.Values{"/reqCtid/reqUsername": {"sue"}, "/reqCtid/reqPassword": {agentPassword}, "/reqCtid/reqPhoneMode": {"none"}},
		func(r *real) {
			sue, err := postgres.NewAdmin(r.DB).CreateUser(context.Background(), postgres.NewUser{Username: "sue", Password: agentPassword,
				DisplayName: "Sue Supervisor", Role: cti.RoleSupervisor, DefaultPhone: "1003"})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.DB.Exec(`INSERT INTO supervisor_campaigns(user_id, campaign_id) VALUES (?, ?)`, sue.ID, r.CampaignID("Sales")).Error; err != nil {
				t.Fatal(err)
			}
			if err := r.Engine.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			r.Double.Script("PJSIP/1003", aritest.Behavior{AnswerAfter: 300 * time.Millisecond})
		})
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`sf.ready()`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		f := sfvFrame(t, ctx, r)
		t.Fatalf("connector not ready: %q / %q", eval[string](t, f, `document.getElementById('lgErr').textContent`), eval[string](t, f, `document.getElementById('st').textContent`))
	}
	sfvJS(t, ctx, "listen-in and barge-in offered", `(m=>m&&m.payload.capabilities.SUPERVISOR_LISTEN_IN===true&&m.payload.capabilities.SUPERVISOR_BARGE_IN===true)(scvMessages.find(m=>m.type==='CONNECTOR_READY'))`)
	supTok := sfvToken(t, r, "sue")

	alice := loginAndConnect(t, r)
	call(t, r, alice, "POST", "/agent/ready", "", nil)
	r.Inbound("+447700900401")
	s := sfvWait(t, r, alice, "alice on call", onCallWith("+447700900401"))
	iid := s.Call.InteractionID
	monitor := func() (mode, state string, ok bool) {
		req, _ := http.NewRequest("GET", r.URL()+"/api/v1/supervisor/monitor", nil)
		req.Header.Set("Authorization", "Bearer "+supTok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v struct{ Mode, State string }
		if res.StatusCode != 200 {
			return "", "", false
		}
		json.NewDecoder(res.Body).Decode(&v)
		return v.Mode, v.State, true
	}
	waitMonitor := func(what string, cond func(mode, state string, ok bool) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			m, st, ok := monitor()
			if cond(m, st, ok) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("ctid: timed out waiting for %s (monitor %q %q %v)", what, m, st, ok)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	supervised := fmt.Sprintf(`{callId:%q,callType:'Inbound',from:'+447700900401'}`, iid)

	run(t, ctx, "listen in", ev(`sf.send('SUPERVISE_CALL',{call:`+supervised+`})`))
	sfvJS(t, ctx, "supervisor call started", fmt.Sprintf(`sf.count('SUPERVISOR_CALL_STARTED')===1 && sf.last('SUPERVISOR_CALL_STARTED').payload.callId===%q`, iid))
	sfvJS(t, ctx, "supervisor call connected", `sf.count('SUPERVISOR_CALL_CONNECTED')===1 && sf.last('SUPERVISOR_CALL_CONNECTED').payload.state==='connected'`)
	waitMonitor("listening", func(m, st string, ok bool) bool { return ok && m == "listen" && st == "active" })
	shot(t, ctx, "67-scv-supervisor-listening")
	run(t, ctx, "barge in", ev(`sf.send('SUPERVISOR_BARGE_IN',{call:`+supervised+`})`))
	sfvJS(t, ctx, "barged in", `sf.count('SUPERVISOR_BARGED_IN')===1`)
	waitMonitor("barged in", func(m, st string, ok bool) bool { return ok && m == "barge" })
	run(t, ctx, "disconnect", ev(`sf.send('SUPERVISOR_DISCONNECT',{call:`+supervised+`})`))
	sfvJS(t, ctx, "supervisor hung up", `sf.count('SUPERVISOR_HANGUP')===1`)
	waitMonitor("monitor stopped", func(_, _ string, ok bool) bool { return !ok })
	if s := sfvWait(t, r, alice, "alice still on the call", onCallWith("+447700900401")); s.Call.InteractionID != iid {
		t.Errorf("alice's call changed: %+v", s.Call)
	}
	sfvNoErrors(t, ctx)

	// Listening in again; the caller hangs up: the monitor ends by itself.
	run(t, ctx, "listen in again", ev(`sf.send('SUPERVISE_CALL',{call:`+supervised+`})`))
	sfvJS(t, ctx, "connected again", `sf.count('SUPERVISOR_CALL_CONNECTED')===2`)
	r.CustomerHangup()
	sfvJS(t, ctx, "monitor ended with the call", `sf.count('SUPERVISOR_HANGUP')===2`)
	waitMonitor("no monitor", func(_, _ string, ok bool) bool { return !ok })
	sfvNoErrors(t, ctx)
}

// sfvFrame is the connector's frame: another site (ctid), which chromedp
// reaches as a target of its own.
func sfvFrame(t *testing.T, ctx context.Context, r *real) context.Context {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, r.URL()+"/scv/") {
				fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				return fctx
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connector frame among the targets: %+v", infos)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
