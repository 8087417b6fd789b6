package browsertest

// The desk on the real stack (engine, API, Postgres, the Asterisk double):
// "I call the system" with the configured number and Cancel, hold, mute,
// the DTMF keypad reaching the customer's channel, the directory with live
// presence, and a transfer to the campaign's queue reaching the next Ready
// agent, who sees who sent the call and the notes. 320 px, no console errors.

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

func TestDeskRealStack(t *testing.T) {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("runs on the real stack")
	}
	r := newReal(t)
	ctx0 := context.Background()
	bob, err := postgres.NewAdmin(r.DB).CreateUser(ctx0, postgres.NewUser{Username: "bob", Password: agentPassword, DisplayName: "Bob Builder",
		Role: cti.RoleAgent, DefaultPhone: "1002"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.DB.Exec(`INSERT INTO campaign_agents(campaign_id, user_id) VALUES (?, ?)`, r.CampaignID("Sales"), bob.ID).Error; err != nil {
		t.Fatal(err)
	}
	// Alice may control recording; Sales does not record (item 7: "off", not "paused").
	if err := r.DB.Exec(`UPDATE users SET recording_control = true WHERE username = 'alice'`).Error; err != nil {
		t.Fatal(err)
	}
	if err := r.Engine.Reload(ctx0); err != nil {
		t.Fatal(err)
	}
	r.Double.Script("PJSIP/1002", aritest.Behavior{AnswerAfter: 100 * time.Millisecond})
	var bt struct{ Token string }
	call(t, r, "", "POST", "/auth/login", `{"username":"bob","password":"`+agentPassword+`"}`, &bt)
	call(t, r, bt.Token, "POST", "/agent/login", "", nil)
	call(t, r, bt.Token, "POST", "/agent/connect", `{"mode":"system_calls","number":"1002","persistent":true}`, nil)
	bobState := func() (string, *cti.CallInfo) {
		var s cti.AgentSnapshot
		call(t, r, bt.Token, "GET", "/agent", "", &s)
		return string(s.State.State), s.Call
	}
	deadline := time.Now().Add(20 * time.Second)
	for st, _ := bobState(); st != "paused"; st, _ = bobState() {
		if time.Now().After(deadline) {
			t.Fatalf("bob did not reach paused: %s", st)
		}
		time.Sleep(50 * time.Millisecond)
	}

	ctx := browser(t)
	consoleErrs := watchConsole(t, ctx)
	run(t, ctx, "open", chromedp.EmulateViewport(320, 760), chromedp.Navigate(r.URL()+"/"), chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "login", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword), chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "connect screen", visible("#cnBtn"))

	// I call the system: the configured number, what is awaited, Cancel.
	choose(t, ctx, `input[name=mode][value=agent_calls]`)
	waitJS(t, ctx, "number shown", `document.getElementById('cnDial').textContent==='From your phone, call 8000.'`)
	click(t, ctx, "cnBtn")
	waitJS(t, ctx, "waiting", visible("#cnCancel")+` && document.getElementById('cnWait').textContent.startsWith('Waiting for your call to 8000')`)
	shot(t, ctx, "desk-real-agent-calls")
	click(t, ctx, "cnCancel")
	waitJS(t, ctx, "cancelled", visible("#cnBtn")+` && !`+visible("#cnCancel"))
	choose(t, ctx, `input[name=mode][value=system_calls]`)
	click(t, ctx, "cnBtn")
	waitJS(t, ctx, "paused", visible("#dialer")+` && document.getElementById('conn').textContent==='online'`)
	run(t, ctx, "ready", chromedp.SetValue(chromedp.ID("status"), "ready"))
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)

	cust := r.Inbound("+447700900123")
	waitJS(t, ctx, "on call", visible("#controls")+` && document.body.className==='st-on_call'`)
	waitJS(t, ctx, "recording off", visible("#recBtn")+` && document.getElementById('recBtn').classList.contains('off') && document.getElementById('recText').textContent==='Not recording'`)
	click(t, ctx, "holdBtn")
	waitJS(t, ctx, "held", `document.getElementById('ctlState').textContent.startsWith('On hold') && document.getElementById('holdBtn').getAttribute('aria-pressed')==='true'`)
	click(t, ctx, "muteBtn")
	waitJS(t, ctx, "muted", `document.getElementById('ctlState').textContent.includes('Muted')`)
	shot(t, ctx, "desk-real-hold-mute")
	click(t, ctx, "holdBtn")
	click(t, ctx, "muteBtn")
	waitJS(t, ctx, "resumed", `!`+visible("#ctlState"))
	click(t, ctx, "dtmfBtn")
	run(t, ctx, "keys", chromedp.Click(chromedp.CSS(`#dtmfPad button[data-key="1"]`)), chromedp.Click(chromedp.CSS(`#dtmfPad button[data-key="#"]`)))
	deadline = time.Now().Add(20 * time.Second)
	for r.Double.DTMFDelivered(cust) != "1#" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := r.Double.DTMFDelivered(cust); got != "1#" {
		t.Errorf("digits at the customer's channel: %q", got)
	}
	run(t, ctx, "notes", chromedp.SendKeys(chromedp.ID("notes"), "Needs billing"))
	waitJS(t, ctx, "notes saved", `document.getElementById('notesState').textContent==='Saved'`)

	// Directory with live presence, then a transfer to the Sales queue.
	click(t, ctx, "xfOpen")
	waitJS(t, ctx, "bob listed", `document.querySelector('#xfAgents [data-agent]') && document.getElementById('xfAgents').textContent.includes('Bob Builder')`)
	call(t, r, bt.Token, "POST", "/agent/ready", "", nil)
	waitJS(t, ctx, "bob ready, live", `[...document.querySelectorAll('#xfAgents .badge')].some(b=>b.textContent==='Ready')`)
	waitJS(t, ctx, "queue listed", `document.querySelector('#xfQueues input[value="queue:`+itoa64(r.CampaignID("Sales"))+`"]')`)
	shot(t, ctx, "desk-real-directory")
	run(t, ctx, "to the queue", chromedp.Click(chromedp.CSS(`#xfQueues input[value="queue:`+itoa64(r.CampaignID("Sales"))+`"]`)), chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "alice wraps", visible("#wrap"))
	deadline = time.Now().Add(20 * time.Second)
	var bc *cti.CallInfo
	for st := ""; st != "on_call" || bc == nil; st, bc = bobState() {
		if time.Now().After(deadline) {
			t.Fatalf("the queue transfer did not reach bob: %s", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if bc.TransferredFrom == nil || bc.TransferredFrom.AgentName != "Alice Agent" || !strings.Contains(bc.TransferredFrom.Notes, "Needs billing") {
		t.Errorf("bob's call came without who sent it: %+v", bc.TransferredFrom)
	}
	// Bob's adaptor (a second tab of the same browser) shows who sent the call and the notes.
	bctx, cancelB := chromedp.NewContext(ctx)
	defer cancelB()
	run(t, bctx, "bob's tab", chromedp.EmulateViewport(320, 760), chromedp.Navigate(r.URL()+"/livez"),
		ev(`sessionStorage.setItem('ctid.token','`+bt.Token+`')`), chromedp.Navigate(r.URL()+"/adaptor/"))
	waitJS(t, bctx, "bob sees who sent it", visible("#xfFrom")+` && document.getElementById('xfFrom').textContent.includes('Transferred by Alice Agent') && document.getElementById('xfFromNotes').textContent.includes('Needs billing')`)
	fits(t, bctx, "bob's transferred call")
	shot(t, bctx, "desk-real-transferred-from")
	click(t, ctx, "wrReady")
	waitJS(t, ctx, "alice ready", `document.body.className==='st-ready'`)
	if errs := consoleErrs(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestDeskRealAutoPause: a non-persistent agent whose phone is not
// answered is paused (Auto Pause) and the adaptor says so as a notice.
func TestDeskRealAutoPause(t *testing.T) {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("runs on the real stack")
	}
	r := newReal(t)
	r.Double.Script("PJSIP/1003", aritest.Behavior{NoAnswer: true, RingFor: 300 * time.Millisecond})
	ctx := browser(t)
	consoleErrs := watchConsole(t, ctx)
	run(t, ctx, "open", chromedp.EmulateViewport(320, 760), chromedp.Navigate(r.URL()+"/adaptor"), chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "login", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword), chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "connect screen", visible("#cnBtn"))
	run(t, ctx, "phone 1003, not kept", ev(`document.getElementById('cnNum').value='1003'`), chromedp.Click(chromedp.ID("cnPersist")))
	click(t, ctx, "cnBtn")
	waitJS(t, ctx, "paused", visible("#dialer")+` && document.getElementById('conn').textContent==='online'`)
	run(t, ctx, "ready", chromedp.SetValue(chromedp.ID("status"), "ready"))
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)
	r.Inbound("+447700900124")
	waitJS(t, ctx, "auto pause notice", `document.querySelector('#notices [data-kind=auto_pause]') && document.getElementById('notices').textContent.includes('You missed a call') && document.body.className==='st-paused'`)
	if n := eval[int](t, ctx, `document.querySelectorAll('#notices [data-kind=auto_pause]').length`); n != 1 {
		t.Errorf("%d Auto Pause notices", n)
	}
	fits(t, ctx, "auto pause")
	shot(t, ctx, "desk-real-auto-pause")
	if errs := consoleErrs(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
