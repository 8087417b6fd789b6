package browsertest

// Issue 15, the agent's desk, in chromium at 320 px against the contract
// fake (desk_fake_test.go): one browser for the whole walk, a screenshot
// per item under test-artifacts/screenshots (desk-*.png), and no console
// errors at the end.

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ctid/ctid/api/web"
	"github.com/ctid/ctid/cti"
)

// watchConsole collects console.error calls, uncaught exceptions and
// failed page resources (not API answers: a 409 the page explains is fine).
func watchConsole(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			bad := m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException
			if m.Source == "network" && strings.Contains(m.URL, "/api/") {
				bad = false
			}
			if bad {
				mu.Lock()
				errs = append(errs, m.String())
				mu.Unlock()
			}
		}
	}()
	return func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), errs...) }
}

// fits checks nothing sticks out of a 320 px viewport.
func fits(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	over := eval[[]string](t, ctx, `(()=>{const w=document.documentElement.clientWidth, out=[];
		if (document.documentElement.scrollWidth>w) out.push('page '+document.documentElement.scrollWidth+'>'+w);
		for (const e of document.querySelectorAll('button,input,select,textarea,[role=tab],.badge')) {
			if (!e.offsetParent) continue; const r=e.getBoundingClientRect();
			if (r.right>w+0.5 && !e.closest('dialog:not([open])')) out.push((e.id||e.textContent.trim().slice(0,20))+' right '+Math.round(r.right)); }
		return out; })()`)
	if len(over) > 0 {
		t.Errorf("%s: layout overflows 320 px: %v", what, over)
	}
	// Nothing the page shows is a stray null or undefined.
	if bad := eval[string](t, ctx, `(document.body.innerText.match(/(^|\s|·)(null|undefined|NaN|\[object Object\])(\s|$)/)||[''])[0]`); bad != "" {
		t.Errorf("%s: the page shows %q", what, bad)
	}
}

// choose picks a radio button by selector and waits until it is checked.
// It clicks from script: a mouse click at the button's coordinates can land
// beside it when the layout moves under a loaded machine (a CI run's click
// on "I call the system" left "System calls my phone" checked).
func choose(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	q := "document.querySelector(" + strconv.Quote(sel) + ")"
	waitJS(t, ctx, sel+" enabled", q+" && !"+q+".disabled")
	run(t, ctx, "choose "+sel, ev(q+".click()"))
	waitJS(t, ctx, sel+" checked", q+".checked")
}

func click(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	waitJS(t, ctx, id+" visible", visible("#"+id)+` && !document.getElementById('`+id+`').disabled`)
	run(t, ctx, "click "+id, chromedp.Click(chromedp.ID(id)))
}

func TestDeskRedirectsAndNoStandIn(t *testing.T) {
	f := newFake()
	defer f.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{"/": "/adaptor/", "/adaptor": "/adaptor/", "/admin": "/admin/", "/adaptor?x=1": "/adaptor/?x=1"} {
		res, err := noFollow.Get(f.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Errorf("GET %s: %d Location %q, want 302 %q", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	// The production tree has no Open CTI stand-in.
	for _, p := range []string{"test/opencti_min.js", "test/opencti-harness.html", "support/api/63.0/lightning/opencti_min.js"} {
		if f, err := web.Static().Open(p); err == nil {
			f.Close()
			t.Errorf("the embedded pages include the test stand-in %s", p)
		}
	}
}

func TestDesk(t *testing.T) {
	f := newFake()
	defer f.Close()
	f.do(func() {
		f.desk.agents = []map[string]any{
			{"id": int64(21), "username": "bob", "displayName": "Bob Builder", "state": "Ready", "reason": "", "sinceSeconds": 40, "campaigns": []string{"Sales"}},
			{"id": int64(22), "username": "carol", "displayName": "Carol Jones", "state": "Paused", "reason": "Lunch", "sinceSeconds": 300, "campaigns": []string{"Sales"}},
		}
	})
	ctx := browser(t)
	consoleErrs := watchConsole(t, ctx)
	t.Logf("screenshots in %s (desk-*.png)", artifacts(t))
	run(t, ctx, "open adaptor", chromedp.EmulateViewport(320, 720), chromedp.Navigate(f.URL()+"/adaptor"), chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "login", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))

	// 6. I call the system: the number to dial, what is awaited, cancel.
	waitJS(t, ctx, "connect screen", visible("#cnBtn"))
	choose(t, ctx, `input[name=mode][value=agent_calls]`)
	waitJS(t, ctx, "number to dial", visible("#cnDial")+` && document.getElementById('cnDial').textContent.includes('call 8000')`)
	if eval[bool](t, ctx, `document.getElementById('cnPersist').checked && document.getElementById('cnPersist').disabled`) != true {
		t.Error("agent_calls: the keep-connection box should be checked and explained")
	}
	click(t, ctx, "cnBtn")
	waitJS(t, ctx, "waiting for the call", visible("#cnCancel")+` && document.getElementById('cnWait').textContent.includes('Waiting for your call to 8000')`)
	fits(t, ctx, "connecting")
	shot(t, ctx, "desk-06-agent-calls-waiting")
	click(t, ctx, "cnCancel")
	waitJS(t, ctx, "cancelled", `!`+visible("#cnCancel")+` && !document.getElementById('cnBtn').disabled`)
	click(t, ctx, "cnBtn")
	waitJS(t, ctx, "waiting again", visible("#cnCancel"))
	if s := f.requests("POST /agent/connect"); len(s) == 0 || !strings.Contains(s[len(s)-1], `"persistent":true`) {
		t.Errorf("connect requests: %v", s)
	}
	f.AgentCallsIn()
	waitJS(t, ctx, "main, paused", visible("#dialer")+` && document.getElementById('conn').textContent==='online'`)

	// Manual call: no campaign pre-selected; digits typed anywhere land in the number.
	if v := eval[string](t, ctx, `document.getElementById('dialCamp').value`); v != "" {
		t.Errorf("campaign pre-selected: %q", v)
	}
	run(t, ctx, "type digits on the page", ev(`document.activeElement.blur()`), chromedp.KeyEvent("02079460123"))
	waitJS(t, ctx, "digits in the dial field", `document.getElementById('dialNum').value==='02079460123'`)
	click(t, ctx, "dialBtn")
	waitJS(t, ctx, "campaign asked for", `document.getElementById('dialErr').textContent.includes('Choose the campaign')`)
	shot(t, ctx, "desk-manual-campaign-required")
	run(t, ctx, "choose Renewals", chromedp.SetValue(chromedp.ID("dialCamp"), "2"))
	click(t, ctx, "dialBtn")
	waitJS(t, ctx, "connected", visible("#controls")+` && document.getElementById('clState').textContent.includes('connected')`)
	checkDialed(t, f, "02079460123", 2)

	// Hold with a timer, mute, DTMF keypad.
	click(t, ctx, "holdBtn")
	waitJS(t, ctx, "on hold", `document.getElementById('ctlState').textContent.startsWith('On hold 0:0') && document.getElementById('holdBtn').textContent==='Resume'`)
	waitJS(t, ctx, "hold timer runs", `/On hold 0:0[2-9]/.test(document.getElementById('ctlState').textContent)`)
	click(t, ctx, "muteBtn")
	waitJS(t, ctx, "muted", `document.getElementById('ctlState').textContent.includes('Muted')`)
	fits(t, ctx, "hold and mute")
	shot(t, ctx, "desk-hold-mute")
	click(t, ctx, "holdBtn")
	click(t, ctx, "muteBtn")
	waitJS(t, ctx, "resumed", `!`+visible("#ctlState")+` && document.getElementById('holdTotal').textContent.startsWith('Hold time this call: 0:0')`)
	click(t, ctx, "dtmfBtn")
	run(t, ctx, "keys", chromedp.Click(chromedp.CSS(`#dtmfPad button[data-key="1"]`)), chromedp.Click(chromedp.CSS(`#dtmfPad button[data-key="#"]`)))
	waitJS(t, ctx, "keys shown", `document.getElementById('dtmfSent').textContent==='1#'`)
	shot(t, ctx, "desk-dtmf")
	deadline := time.Now().Add(20 * time.Second)
	for f.desk.dtmf != "1#" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if f.desk.dtmf != "1#" {
		t.Errorf("DTMF sent: %q", f.desk.dtmf)
	}

	// 7. Recording: off distinct from paused, readable as text.
	for _, c := range []struct{ state, icon, class, text string }{
		{"off", "white", "off", "Not recording"}, {"paused", "white", "white", "Recording paused"}, {"recording", "red", "red", "Recording"}} {
		f.Recording(c.state, c.icon, true)
		waitJS(t, ctx, "recording "+c.state, `document.getElementById('recBtn').classList.contains('`+c.class+`') && document.getElementById('recText').textContent==='`+c.text+`'`)
		shot(t, ctx, "desk-07-recording-"+c.state)
	}

	// Five tabs at 320 px.
	f.do(func() {
		f.snap.Announcements = []cti.Announcement{{ID: 1, Name: "Terms"}}
		f.snap.PaymentEnabled = true
		f.snap.Call.Lead = &cti.Lead{ID: 5, Name: "Pat Lead", Phones: []string{"+447700900111"}, Data: map[string]string{"Policy": "R-100"}}
		f.publish("call.connected", *f.snap.Call)
	})
	run(t, ctx, "reload for the snapshot", chromedp.Reload())
	waitJS(t, ctx, "five tabs", `[...document.querySelectorAll('#tabs [role=tab]')].filter(t=>!t.hidden).length===5`)
	fits(t, ctx, "five tabs")
	if n := eval[int](t, ctx, `new Set([...document.querySelectorAll('#tabs [role=tab]')].map(t=>Math.round(t.getBoundingClientRect().top))).size`); n > 2 {
		t.Errorf("tabs on %d rows", n)
	}
	shot(t, ctx, "desk-five-tabs")

	// Payment as the guide has it.
	click(t, ctx, "t-svc")
	click(t, ctx, "payOpen")
	waitJS(t, ctx, "what to ask", `document.getElementById('payAsk').textContent.includes('key their card number')`)
	f.PaymentProgress(map[string]any{"phase": "cvv", "card_digits": 16, "card_last4": "4242", "card_brand": "visa", "card_valid": true, "cvv_digits": 1, "cvv_length": 3})
	waitJS(t, ctx, "cvv asked", `document.getElementById('payAsk').textContent.includes('3-digit security code') && document.getElementById('payStep').textContent.includes('2 of 3')`)
	shot(t, ctx, "desk-payment-progress")
	run(t, ctx, "fill", chromedp.SendKeys(chromedp.ID("payRef"), "INV-9"), chromedp.SendKeys(chromedp.ID("payExp"), "12/39"),
		chromedp.SendKeys(chromedp.ID("payName"), "A Customer"), chromedp.SendKeys(chromedp.ID("payAmt"), "99.99"))
	click(t, ctx, "payGo")
	waitJS(t, ctx, "declined, clearly", `document.getElementById('payResult').classList.contains('bad') && document.getElementById('payResult').textContent.startsWith('Declined — insufficient funds')`)
	fits(t, ctx, "payment declined")
	shot(t, ctx, "desk-payment-declined")
	click(t, ctx, "payExit")
	waitJS(t, ctx, "leave asked", visible("#dlgOk")+` && document.getElementById('dlgOk').textContent==='Leave'`)
	click(t, ctx, "dlgOk")
	waitJS(t, ctx, "back to the call", `!`+visible("#pay")+` && document.getElementById('t-call').getAttribute('aria-selected')==='true'`)

	// Transfer panel: directory with search and live presence, quick connects, queues.
	click(t, ctx, "xfOpen")
	waitJS(t, ctx, "directory", `document.getElementById('xfAgents').textContent.includes('Bob Builder') && document.getElementById('xfQuick').textContent.includes('Billing desk') && document.getElementById('xfQueues').textContent.includes('Renewals queue')`)
	run(t, ctx, "search", chromedp.SendKeys(chromedp.ID("xfSearch"), "car"))
	waitJS(t, ctx, "search result", `!document.getElementById('xfAgents').textContent.includes('Bob') && document.getElementById('xfAgents').textContent.includes('Carol Jones')`)
	run(t, ctx, "clear search", ev(`(()=>{const s=document.getElementById('xfSearch'); s.value=''; s.dispatchEvent(new Event('input'));})()`))
	f.Presence(21, "On Call", "")
	waitJS(t, ctx, "live presence", `document.querySelector('#xfAgents [data-agent="21"]').textContent==='On Call'`)
	fits(t, ctx, "transfer dialog")
	shot(t, ctx, "desk-transfer-directory")
	f.Presence(21, "Ready", "")
	waitJS(t, ctx, "ready again", `document.querySelector('#xfAgents [data-agent="21"]').textContent==='Ready'`)
	run(t, ctx, "consult Bob", chromedp.Click(chromedp.CSS(`input[name=mode][value=consult]`)), chromedp.Click(chromedp.CSS(`input[name=pick][value="agent:21"]`)),
		chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "consulting Bob", `document.getElementById('xfState').textContent.includes('Consulting Bob Builder')`)
	if x := f.desk.lastXfer; x["type"] != "agent" || x["target"] != float64(21) {
		t.Errorf("transfer request %v", x)
	}
	click(t, ctx, "xfMerge")
	waitJS(t, ctx, "conference", `document.getElementById('confParties').textContent.includes('Bob Builder')`)
	click(t, ctx, "xfOpen")
	waitJS(t, ctx, "add dialog", `document.getElementById('dlgTitle').textContent.includes('conference') && document.getElementById('xfQuick').textContent.includes('Billing')`)
	run(t, ctx, "add quick connect", chromedp.Click(chromedp.CSS(`input[name=pick][value="number:+442079460500"]`)), chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "two parties", `document.querySelectorAll('#confParties li').length===2 && document.getElementById('xfState').textContent.includes('2 of 3')`)
	fits(t, ctx, "conference")
	shot(t, ctx, "desk-conference-parties")
	run(t, ctx, "drop Bob", chromedp.Click(chromedp.CSS(`#confParties button[aria-label="Drop Bob Builder"]`)))
	waitJS(t, ctx, "Bob dropped", `document.querySelectorAll('#confParties li').length===1 && !document.getElementById('confParties').textContent.includes('Bob')`)
	run(t, ctx, "drop the other", chromedp.Click(chromedp.CSS(`#confParties button.drop`)))
	waitJS(t, ctx, "no conference", `!`+visible("#confParties"))

	// Auto-wrap countdown with its label, then the notice when the default code was applied.
	click(t, ctx, "hangBtn")
	waitJS(t, ctx, "auto-wrap label", visible("#wrAuto")+` && /^Auto-wrap in 0:\d\d with “Sale”$/.test(document.getElementById('wrAutoText').textContent)`)
	shot(t, ctx, "desk-wrap-countdown")
	f.AutoWrap()
	waitJS(t, ctx, "auto-wrap notice", `document.querySelector('#notices [data-kind=auto_wrap_applied]') && document.getElementById('notices').textContent.includes('The wrap time ran out')`)
	f.Notice("auto_pause", "You missed a call, so you were paused.")
	f.Notice("missed_transfer", "Bob Builder tried to transfer a call to you, but you did not answer.")
	waitJS(t, ctx, "three notices", `document.querySelectorAll('#notices li').length===3`)
	fits(t, ctx, "notices")
	shot(t, ctx, "desk-notices")
	run(t, ctx, "dismiss", chromedp.Click(chromedp.CSS(`#notices [data-kind=auto_pause] button`)))
	waitJS(t, ctx, "dismissed", `document.querySelectorAll('#notices li').length===2`)
	// A supervisor listening (where the campaign shows it), then gone; a
	// supervisor's action told in the server's words.
	f.Publish("monitor.state", map[string]any{"active": true, "mode": "listen", "by": "Sue Visor", "interactionId": "I1"})
	waitJS(t, ctx, "monitor notice", `(document.querySelector('#notices [data-kind=monitor]')||{}).textContent?.startsWith('Sue Visor is listening to this call.')`)
	f.Publish("monitor.state", map[string]any{"active": false, "mode": "", "by": "Sue Visor", "interactionId": "I1"})
	waitJS(t, ctx, "monitor notice gone", `!document.querySelector('#notices [data-kind=monitor]') && document.querySelectorAll('#notices li').length===2`)
	f.Publish("supervisor.notice", map[string]string{"action": "pause", "by": "Sue Visor", "reason": "Coaching", "message": "Sue Visor paused you: Coaching."})
	waitJS(t, ctx, "supervisor notice", `(document.querySelector('#notices [data-kind=supervisor_pause]')||{}).textContent?.startsWith('Sue Visor paused you: Coaching.')`)
	fits(t, ctx, "supervisor notices")

	// Transfer to a campaign's queue.
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)
	f.Inbound("+447700900555")
	click(t, ctx, "xfOpen")
	waitJS(t, ctx, "queues", `document.getElementById('xfQueues').textContent.includes('3 waiting')`)
	run(t, ctx, "to the queue", chromedp.Click(chromedp.CSS(`input[name=pick][value="queue:2"]`)), chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "wrap after the queue transfer", visible("#wrap"))
	if x := f.desk.lastXfer; x["type"] != "queue" || x["target"] != "2" || x["mode"] != "blind" {
		t.Errorf("queue transfer request %v", x)
	}
	click(t, ctx, "wrReady")
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)

	// The receiving agent sees who is calling, from whom, and the notes.
	f.TransferIn("+447700900999", "Bob Builder", "Wants a refund for May.")
	waitJS(t, ctx, "transferred from", visible("#xfFrom")+` && document.getElementById('xfFrom').textContent.includes('Transferred by Bob Builder') && document.getElementById('xfFromNotes').textContent==='Wants a refund for May.'`)
	if w := text(t, ctx, "#clWho"); w != "+447700900999" {
		t.Errorf("caller shown as %q", w)
	}
	fits(t, ctx, "transferred call")
	shot(t, ctx, "desk-transferred-from")

	// Callbacks: schedule for the queue in the customer's zone, see it, cancel it.
	click(t, ctx, "cbCall")
	waitJS(t, ctx, "callback form", visible("#cbWhen")+` && document.getElementById('cbNumber').value==='+447700900999'`)
	run(t, ctx, "fill callback", ev(`document.getElementById('cbWhen').value='2030-07-01T10:00'`), ev(`document.getElementById('cbZone').value='America/New_York'`),
		chromedp.Click(chromedp.CSS(`input[name=owner][value=queue]`)), chromedp.SendKeys(chromedp.ID("cbNote"), "after payday"))
	fits(t, ctx, "callback form")
	shot(t, ctx, "desk-callback-form")
	click(t, ctx, "dlgOk")
	deadline = time.Now().Add(20 * time.Second)
	var cbs []map[string]any
	for time.Now().Before(deadline) {
		f.do(func() { cbs = append([]map[string]any(nil), f.desk.callbacks...) })
		if len(cbs) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(cbs) != 1 || !cbs[0]["dueAt"].(time.Time).Equal(time.Date(2030, 7, 1, 14, 0, 0, 0, time.UTC)) || cbs[0]["timeZone"] != "America/New_York" || cbs[0]["agentId"] != nil {
		t.Fatalf("callbacks stored: %v", cbs)
	}
	f.CustomerHangup()
	click(t, ctx, "wrReady")
	waitJS(t, ctx, "callbacks listed", visible("#callbacks")+` && (document.getElementById('callbacks').open=true) && document.getElementById('cbList').textContent.includes('America/New_York · queue · after payday')`)
	shot(t, ctx, "desk-callbacks")
	run(t, ctx, "cancel callback", chromedp.Click(chromedp.CSS(`#cbList button`)))
	click(t, ctx, "dlgOk")
	waitJS(t, ctx, "cancelled", `document.getElementById('cbList').textContent.includes('No callbacks scheduled')`)

	// Preview: status "Preview", labelled numbers, pause returns the lead.
	f.OfferPreview("lead")
	waitJS(t, ctx, "preview", visible("#preview")+` && document.getElementById('status').selectedOptions[0].textContent==='Preview'`)
	nums := eval[[]string](t, ctx, `[...document.querySelectorAll('#pvNums button')].map(b=>b.textContent)`)
	if strings.Join(nums, "|") != "Call mobile +447700900111|Call home +441632960222" {
		t.Errorf("number buttons %q", nums)
	}
	fits(t, ctx, "preview")
	shot(t, ctx, "desk-preview")
	click(t, ctx, "pvPause")
	waitJS(t, ctx, "pause reason", visible("#dlgReason"))
	click(t, ctx, "dlgOk")
	waitJS(t, ctx, "paused, lead returned", `document.body.className==='st-paused' && !`+visible("#preview"))
	if f.desk.preview != nil {
		t.Error("the lead was not returned")
	}
	run(t, ctx, "ready", chromedp.SetValue(chromedp.ID("status"), "ready"))
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)
	f.OfferPreview("callback")
	waitJS(t, ctx, "callback due", visible("#preview")+` && document.getElementById('pvTitle').textContent==='Callback due'`)
	click(t, ctx, "pvSkip")
	click(t, ctx, "dlgOk")
	waitJS(t, ctx, "skipped", `!`+visible("#preview")+` && document.body.className==='st-ready'`)

	// Engine messages as sentences.
	run(t, ctx, "a refused action", ev(`import('/adaptor/api.js').then(m=>m.act('POST','/agent/hangup'))`))
	waitJS(t, ctx, "sentence", visible("#err"))
	if e := text(t, ctx, "#err"); e != "That is not possible while you are ready." {
		t.Errorf("error banner %q", e)
	}
	shot(t, ctx, "desk-sentence")

	// Added to another agent's call as a conference party: talk and leave only.
	f.JoinAsParty("+447700900888", "Bob Builder")
	waitJS(t, ctx, "party", visible("#xfFrom")+` && document.getElementById('xfFrom').textContent.includes('You joined Bob Builder’s call') && document.getElementById('hangBtn').textContent==='Leave the call'`)
	if eval[bool](t, ctx, visible("#controls")+` || `+visible("#xfOpen")) {
		t.Error("a conference party is offered hold/mute/keypad or transfer")
	}
	fits(t, ctx, "conference party")
	shot(t, ctx, "desk-conference-party")
	click(t, ctx, "hangBtn")
	waitJS(t, ctx, "party wraps", visible("#wrap"))
	click(t, ctx, "wrReady")
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)

	// The session ends elsewhere: a sentence, and back to login.
	f.EndSession()
	waitJS(t, ctx, "back to login", visible("#lgUser")+` && document.getElementById('lgErr').textContent.includes('session has ended')`)
	shot(t, ctx, "desk-session-ended")

	if errs := consoleErrs(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
