package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// openHarness signs alice in and opens the Open CTI harness with two
// adaptor frames (two Salesforce tabs' softphones sharing one browser
// storage partition) in the time zone tz; it returns the index of the
// frame that is not the CRM leader.
func openHarness(t *testing.T, b backend, ctx context.Context, tz string) int {
	t.Helper()
	token := loginAndConnect(t, b)
	run(t, ctx, "seed token", chromedp.EmulateViewport(960, 900), chromedp.Navigate(b.URL()+"/livez"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tz})
			return err
		}),
		ev(fmt.Sprintf(`sessionStorage.setItem('ctid.token',%q); sessionStorage.setItem('ctid.camp','%d')`, token, b.CampaignID("Sales"))),
		chromedp.Navigate(b.URL()+"/test/opencti-harness.html?tabs=2"))
	waitJS(t, ctx, "both frames initialised", `countCalls('notifyInitializationComplete')===2 && countCalls('onNavigationChange')===2 && countCalls('getAppViewInfo')===2`)
	waitJS(t, ctx, "both frames online", `adaptors().every(f=>f.document.getElementById('conn').textContent==='online')`)
	waitJS(t, ctx, "a leader", `adaptors().some(f=>f.document.documentElement.dataset.crmLeader==='true')`)
	leader := eval[int](t, ctx, `adaptors().findIndex(f=>f.document.documentElement.dataset.crmLeader==='true')`)
	return 1 - leader
}

// lastArgs is the args of frame i's last call of method.
func lastArgs(i int, method string) string {
	return fmt.Sprintf(`(openctiCalls.filter(c=>c.frame==='%c'&&c.method==='%s').pop()||{args:{}}).args`, 'A'+i, method)
}

// The click-to-dial record survives the hand-over: a numeric click-to-dial
// in the tab that does not lead, wrapped there, is logged by the leader
// with the clicked Contact as WhoId; the panel shows, click-to-dial is off
// during the call, the utility bar follows the state, and the Task is a
// Call dated in the agent's time zone, followed by refreshView.
func TestOpenCTICrossTabClickToDial(t *testing.T) {
	b := newBackend(t)
	ctx := browser(t)
	// A zone whose date differs from UTC's now, so a UTC ActivityDate fails.
	tz := "Pacific/Pago_Pago" // UTC-11
	if time.Now().UTC().Hour() >= 10 {
		tz = "Pacific/Kiritimati" // UTC+14
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Skip(err)
	}
	nl := openHarness(t, b, ctx, tz)
	other := 1 - nl

	// Settings come from getCallCenterSettings: the panel is sized from them.
	waitJS(t, ctx, "panel sized", `countCalls('setSoftphonePanelHeight')===2 && countCalls('setSoftphonePanelWidth')===2`)
	if e := eval[string](t, ctx, `adaptors().map(f=>f.document.getElementById('err')).filter(e=>!e.hidden).map(e=>e.textContent).join(' | ')`); e != "" {
		t.Errorf("an error shows after start-up: %s", e)
	}
	if h := eval[float64](t, ctx, lastArgs(nl, "setSoftphonePanelHeight")+".heightPX"); h != 600 {
		t.Errorf("setSoftphonePanelHeight heightPX = %v, want 600 (reqSoftphoneHeight)", h)
	}
	waitJS(t, ctx, "click-to-dial on, utility bar paused", lastArgs(nl, "setSoftphoneItemLabel")+`.label==='Phone: Paused' && countCalls('enableClickToDial')===2`)

	panels := eval[int](t, ctx, `countCalls('setSoftphonePanelVisibility')`)
	run(t, ctx, "numeric click to dial in the non-leader", ev(fmt.Sprintf(
		`frames[%d].sforceHarness.clickToDial(442079460321,'003000000000002AAA','Contact','Numeric Contact')`, nl)))
	waitJS(t, ctx, "call in both frames", `adaptors().every(f=>f.document.body.className==='st-on_call')`)
	checkDialed(t, b, "+442079460321", b.CampaignID("Sales"))
	if n := eval[int](t, ctx, `countCalls('setSoftphonePanelVisibility')`); n <= panels {
		t.Errorf("click-to-dial did not show the panel (%d setSoftphonePanelVisibility calls, %d before)", n, panels)
	}
	waitJS(t, ctx, "click-to-dial off on the call", `countCalls('disableClickToDial')===2 && `+lastArgs(nl, "setSoftphoneItemLabel")+`.label==='Phone: On call'`)
	if ic := eval[string](t, ctx, lastArgs(nl, "setSoftphoneItemIcon")+".key"); ic != "call" {
		t.Errorf("utility bar icon on a call = %q", ic)
	}
	// A second click while on the call is refused in words, in the panel.
	run(t, ctx, "click to dial on a call", ev(fmt.Sprintf(`frames[%d].sforceHarness.clickToDial(442079460322)`, nl)))
	waitJS(t, ctx, "refusal shown", fmt.Sprintf(`frames[%d].document.getElementById('err').textContent.includes("can't dial now")`, nl))
	shot(t, ctx, "30-opencti-numeric-click-to-dial")

	waitJS(t, ctx, "connected", `ctidMessages.some(m=>m.type==='ctid.callConnected')`)
	b.CustomerHangup()
	waitJS(t, ctx, "wrap in both", `adaptors().every(f=>f.document.getElementById('wrap').offsetParent!==null)`)
	// The agent opens an Account meanwhile: the clicked Contact still wins.
	run(t, ctx, "navigate to an account", ev(`navigateAll({url:location.origin+'/lightning/r/Account/001000000000009AAA/view',recordId:'001000000000009AAA',recordName:'Some Account',objectType:'Account'})`))
	run(t, ctx, "wrap in the non-leader", ev(fmt.Sprintf(`frames[%d].document.getElementById('wrReady').click()`, nl)))
	waitJS(t, ctx, "saveLog by the leader", `countCalls('saveLog')===1`)
	v := eval[map[string]any](t, ctx, `openctiCalls.find(c=>c.method==='saveLog').args.value`)
	frame := eval[string](t, ctx, `openctiCalls.find(c=>c.method==='saveLog').frame`)
	want := map[string]any{"WhoId": "003000000000002AAA", "Type": "Call", "TaskSubtype": "Call", "CallType": "Outbound", "CallDisposition": "SALE",
		"ActivityDate": time.Now().In(loc).Format("2006-01-02")}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("saveLog %s = %v, want %v", k, v[k], w)
		}
	}
	if _, ok := v["WhatId"]; ok || frame != string(rune('A'+other)) {
		t.Errorf("saveLog from frame %s (leader %c) value %v", frame, 'A'+other, v)
	}
	t.Logf("saveLog (tz %s): %v", tz, v)
	waitJS(t, ctx, "refreshView after saveLog", `countCalls('refreshView')===1 && openctiCalls.findIndex(c=>c.method==='refreshView') > openctiCalls.findIndex(c=>c.method==='saveLog')`)
	waitJS(t, ctx, "click-to-dial back on", `countCalls('enableClickToDial')===4 && `+lastArgs(nl, "setSoftphoneItemLabel")+`.label==='Phone: Ready'`)
	shot(t, ctx, "31-opencti-cross-tab-logged")

	// A manual call from the keypad while the agent is on a Lead: logged
	// against that Lead.
	run(t, ctx, "navigate to a lead", ev(`navigateAll({url:location.origin+'/lightning/r/Lead/00Q000000000031AAA/view',recordId:'00Q000000000031AAA',recordName:'A Lead',objectType:'Lead'})`))
	run(t, ctx, "manual dial in the non-leader", ev(fmt.Sprintf(
		`(d=>{d.getElementById('dialNum').value='02079460444';d.getElementById('dialBtn').click()})(frames[%d].document)`, nl)))
	waitJS(t, ctx, "manual call", `adaptors().every(f=>f.document.body.className==='st-on_call') && ctidMessages.filter(m=>m.type==='ctid.callConnected').length===4`)
	b.CustomerHangup()
	waitJS(t, ctx, "wrap in both", `adaptors().every(f=>f.document.getElementById('wrap').offsetParent!==null)`)
	run(t, ctx, "wrap in the non-leader", ev(fmt.Sprintf(`frames[%d].document.getElementById('wrReady').click()`, nl)))
	waitJS(t, ctx, "second saveLog", `countCalls('saveLog')===2`)
	if v := eval[map[string]any](t, ctx, `openctiCalls.filter(c=>c.method==='saveLog')[1].args.value`); v["WhoId"] != "00Q000000000031AAA" {
		t.Errorf("manual call saveLog = %v, want WhoId the Lead the agent is on", v)
	}

	// Logged out: click-to-dial is off and the utility bar says so.
	waitJS(t, ctx, "ready", `adaptors().every(f=>f.document.body.className==='st-ready')`)
	offs := eval[int](t, ctx, `countCalls('disableClickToDial')`)
	run(t, ctx, "agent menu", ev(fmt.Sprintf(`frames[%d].document.getElementById('agentBtn').click()`, nl)))
	run(t, ctx, "logout", ev(fmt.Sprintf(`frames[%d].document.querySelector('#agentMenu button:last-child').click()`, nl)))
	waitJS(t, ctx, "logout dialog", fmt.Sprintf(`frames[%d].document.getElementById('dlgReason').offsetParent!==null`, nl))
	run(t, ctx, "confirm logout", ev(fmt.Sprintf(`frames[%d].document.getElementById('dlgOk').click()`, nl)))
	waitJS(t, ctx, "click-to-dial off when logged out", fmt.Sprintf(`countCalls('disableClickToDial')===%d && `, offs+2)+
		lastArgs(nl, "setSoftphoneItemLabel")+`.label==='Phone: Logged out' && `+lastArgs(nl, "setSoftphoneItemIcon")+`.key==='offline'`)
	shot(t, ctx, "35-opencti-logged-out")
}

// Screen pops: several matches → the agent picks (in the tab that does not
// lead) and the Task links the pick; no match → the record the agent is on;
// a failed saveLog shows Salesforce's errors as a sentence in every tab.
func TestOpenCTIScreenPopMatches(t *testing.T) {
	b := newBackend(t)
	ctx := browser(t)
	nl := openHarness(t, b, ctx, "Europe/London")
	run(t, ctx, "ready", ev(fmt.Sprintf(`(d=>{const s=d.getElementById('status');s.value='ready';s.dispatchEvent(new Event('change'))})(frames[%d].document)`, nl)))
	waitJS(t, ctx, "ready", `adaptors().every(f=>f.document.body.className==='st-ready')`)

	// Several Contacts share the number.
	run(t, ctx, "two matches", ev(`openctiSearchResult={'003000000000011AAA':{Id:'003000000000011AAA',Name:'Sam Smith',RecordType:'Contact'},`+
		`'00Q000000000012AAA':{Id:'00Q000000000012AAA',Name:'Sam Smith (lead)',RecordType:'Lead'}}`))
	b.Inbound("+447700900555")
	waitJS(t, ctx, "picker in both frames", `adaptors().every(f=>f.document.getElementById('crmLink').offsetParent!==null && f.document.getElementById('crmPick').options.length===3)`)
	run(t, ctx, "pick the lead in the non-leader", ev(fmt.Sprintf(
		`(s=>{s.value='00Q000000000012AAA';s.dispatchEvent(new Event('change'))})(frames[%d].document.getElementById('crmPick'))`, nl)))
	waitJS(t, ctx, "pick shared", fmt.Sprintf(`frames[%d].document.getElementById('crmPick').value==='00Q000000000012AAA'`, 1-nl))
	shot(t, ctx, "32-opencti-multi-match-pick")
	waitJS(t, ctx, "connected", `ctidMessages.some(m=>m.type==='ctid.callConnected')`)
	b.CustomerHangup()
	waitJS(t, ctx, "wrap in both", `adaptors().every(f=>f.document.getElementById('wrap').offsetParent!==null)`)
	// Wrapped in the leader this time: it logs the pick made in the other tab.
	run(t, ctx, "wrap in the leader", ev(fmt.Sprintf(`frames[%d].document.getElementById('wrReady').click()`, 1-nl)))
	waitJS(t, ctx, "saveLog", `countCalls('saveLog')===1`)
	v := eval[map[string]any](t, ctx, `openctiCalls.find(c=>c.method==='saveLog').args.value`)
	if v["WhoId"] != "00Q000000000012AAA" || v["CallType"] != "Inbound" {
		t.Errorf("multi-match saveLog = %v, want WhoId the picked Lead", v)
	}

	// No match: the agent is on an Account (created while talking, say);
	// Salesforce refuses the Task.
	waitJS(t, ctx, "ready again", `adaptors().every(f=>f.document.body.className==='st-ready')`)
	run(t, ctx, "no match, saveLog fails", ev(`openctiSearchResult={}; openctiFail={saveLog:['Required fields are missing: [Subject]']}`))
	b.Inbound("+447700900666")
	waitJS(t, ctx, "inbound", `countCalls('searchAndScreenPop')===2 && adaptors().every(f=>f.document.body.className==='st-on_call')`)
	if eval[bool](t, ctx, `adaptors().some(f=>f.document.getElementById('crmLink').offsetParent!==null)`) {
		t.Error("the picker shows for a call with no match")
	}
	waitJS(t, ctx, "second connected", `ctidMessages.filter(m=>m.type==='ctid.callConnected').length===4`)
	run(t, ctx, "agent opens an account", ev(`navigateAll({url:location.origin+'/lightning/r/Account/001000000000021AAA/view',recordId:'001000000000021AAA',recordName:'New Account',objectType:'Account'})`))
	b.CustomerHangup()
	waitJS(t, ctx, "wrap in both", `adaptors().every(f=>f.document.getElementById('wrap').offsetParent!==null)`)
	run(t, ctx, "wrap in the non-leader", ev(fmt.Sprintf(`frames[%d].document.getElementById('wrReady').click()`, nl)))
	waitJS(t, ctx, "second saveLog", `countCalls('saveLog')===2`)
	v = eval[map[string]any](t, ctx, `openctiCalls.filter(c=>c.method==='saveLog')[1].args.value`)
	if v["WhatId"] != "001000000000021AAA" || v["WhoId"] != nil {
		t.Errorf("no-match saveLog = %v, want WhatId the Account the agent is on", v)
	}
	waitJS(t, ctx, "error shown in both tabs", `adaptors().every(f=>!f.document.getElementById('err').hidden && f.document.getElementById('err').textContent.includes('Required fields are missing'))`)
	msg := eval[string](t, ctx, fmt.Sprintf(`frames[%d].document.getElementById('err').textContent`, nl))
	if !strings.HasPrefix(msg, "Salesforce could not log the call with +447700900666: ") {
		t.Errorf("error shown = %q", msg)
	}
	t.Logf("shown: %q", msg)
	if n := eval[int](t, ctx, `countCalls('refreshView')`); n != 1 {
		t.Errorf("refreshView called %d times, want 1 (not after the failed saveLog)", n)
	}
	shot(t, ctx, "33-opencti-savelog-failed")
}

// Opened without Salesforce's sfdcIframeOrigin/mode parameters, the
// stand-in fails every call as the real library would; the adaptor says so
// in words instead of silently doing nothing.
func TestOpenCTIWithoutSalesforceParameters(t *testing.T) {
	b := newBackend(t)
	ctx := browser(t)
	token := loginAndConnect(t, b)
	run(t, ctx, "seed token", chromedp.EmulateViewport(960, 760), chromedp.Navigate(b.URL()+"/livez"),
		ev(fmt.Sprintf(`sessionStorage.setItem('ctid.token',%q)`, token)),
		chromedp.Navigate(b.URL()+"/test/opencti-harness.html?tabs=0"),
		ev(`(f=>{f.name='A';f.src='/adaptor/index.html';document.getElementById('frames').append(f)})(document.createElement('iframe'))`))
	waitJS(t, ctx, "initialised", `countCalls('notifyInitializationComplete')===1`)
	waitJS(t, ctx, "failure shown", `(e=>!e.hidden && e.textContent.startsWith('Salesforce could not'))(frames[0].document.getElementById('err'))`)
	t.Logf("shown: %q", eval[string](t, ctx, `frames[0].document.getElementById('err').textContent`))
	shot(t, ctx, "34-opencti-not-in-salesforce")
}

// The postMessage bridge takes click-to-dial numbers typed as numbers too,
// with the record to link.
func TestCRMPostMessageNumericClickToDial(t *testing.T) {
	b := newBackend(t)
	ctx := browser(t)
	token := loginAndConnect(t, b)
	run(t, ctx, "seed token", chromedp.EmulateViewport(960, 760), chromedp.Navigate(b.URL()+"/livez"),
		ev(fmt.Sprintf(`sessionStorage.setItem('ctid.token',%q); sessionStorage.setItem('ctid.camp','%d')`, token, b.CampaignID("Sales"))),
		chromedp.Navigate(b.URL()+"/test/opencti-harness.html?tabs=1"))
	waitJS(t, ctx, "initialised", `countCalls('notifyInitializationComplete')===1 && adaptors()[0].document.getElementById('conn').textContent==='online'`)
	run(t, ctx, "postMessage click-to-dial", ev(`adaptors()[0].postMessage({type:'ctid.clickToDial',number:442079460555,recordId:'001000000000041AAA',objectType:'Account'},location.origin)`))
	waitJS(t, ctx, "call", `adaptors()[0].document.body.className==='st-on_call' && ctidMessages.some(m=>m.type==='ctid.callConnected')`)
	checkDialed(t, b, "+442079460555", b.CampaignID("Sales"))
	b.CustomerHangup()
	waitJS(t, ctx, "wrap", `adaptors()[0].document.getElementById('wrap').offsetParent!==null`)
	run(t, ctx, "wrap", ev(`adaptors()[0].document.getElementById('wrReady').click()`))
	waitJS(t, ctx, "saveLog", `countCalls('saveLog')===1`)
	if v := eval[map[string]any](t, ctx, `openctiCalls.find(c=>c.method==='saveLog').args.value`); v["WhatId"] != "001000000000041AAA" {
		t.Errorf("saveLog = %v, want WhatId the Account sent with the click", v)
	}
}
