package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
)

// The adaptor's Decline button, shown while a call rings the agent's phone
// (ctid calls it for each call): pressed from the keyboard, the call goes
// back to the queue and the agent shows Paused "Declined a call".
func TestAdaptorDeclineRingingCall(t *testing.T) {
	b := newBackend(t)
	r, ok := b.(*real)
	if !ok {
		t.Skip("declining needs the real stack (unset CTID_WEB_FAKE)")
	}
	r.Double.Script("PJSIP/1001", aritest.Behavior{NoAnswer: true}) // rings until declined
	tok := sfvToken(t, r, "alice")
	call(t, r, tok, "POST", "/agent/login", "", nil)
	call(t, r, tok, "POST", "/agent/connect", `{"mode":"system_calls","number":"1001","persistent":false}`, nil)
	waitAgent(t, r, tok, "paused", func(s string, _ bool) bool { return s == "paused" })

	ctx := browser(t)
	run(t, ctx, "open adaptor", chromedp.EmulateViewport(300, 760), chromedp.Navigate(r.URL()+"/adaptor/index.html"),
		chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "login", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "main screen", visible("#dialer")+` && document.getElementById('conn').textContent==='online'`)
	call(t, r, tok, "POST", "/agent/ready", "", nil)
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)
	r.Inbound("+447700900777")
	waitJS(t, ctx, "ringing with Decline", visible("#declineBtn")+` && document.getElementById('clState').textContent.includes('ringing') && !(`+visible("#hangBtn")+`)`)
	shot(t, ctx, "65-adaptor-ringing-decline")
	run(t, ctx, "decline by keyboard", ev(`document.getElementById('declineBtn').focus()`), chromedp.KeyEvent(kb.Enter))
	waitJS(t, ctx, "paused, declined", `document.body.className==='st-paused' && !(`+visible("#call")+`) && document.getElementById('status').selectedOptions[0].textContent.includes('Declined a call')`)
	waitAgent(t, r, tok, "paused after decline", func(s string, _ bool) bool { return s == "paused" })
	var s struct {
		State struct{ State, PauseReason string }
	}
	call(t, r, tok, "GET", "/agent", "", &s)
	if s.State.PauseReason != "Declined a call" {
		t.Errorf("pause reason %q after Decline", s.State.PauseReason)
	}
	// The caller waits in the queue again (alice is the only agent).
	deadline := time.Now().Add(20 * time.Second)
	for {
		q, _ := r.Double.Bridge("queue-" + itoa64(r.CampaignID("Sales")))
		if len(q.Channels) == 1 && q.MOH != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the caller is not back in the queue with music: %+v", q)
		}
		time.Sleep(50 * time.Millisecond)
	}
	shot(t, ctx, "66-adaptor-declined")

	// Bob (a kept line) takes the caller and consults alice; her phone rings
	// and the offer card has a Decline: the consult fails, bob gets his
	// caller back, alice is Paused again.
	bob := sfvAgent(t, r, "bob", "Bob Builder", "1002")
	call(t, r, bob, "POST", "/agent/ready", "", nil)
	sfvWait(t, r, bob, "bob has the caller", onCallWith("+447700900777"))
	call(t, r, tok, "POST", "/agent/ready", "", nil)
	waitJS(t, ctx, "ready again", `document.body.className==='st-ready'`)
	call(t, r, bob, "POST", "/agent/transfer", `{"type":"agent","target":"alice","mode":"consult"}`, nil)
	waitJS(t, ctx, "transfer offered with Decline", visible("#offerDecline")+` && document.getElementById('offerText').textContent.includes('+447700900777')`)
	shot(t, ctx, "68-adaptor-transfer-offer-decline")
	run(t, ctx, "decline the transfer", chromedp.Click(chromedp.ID("offerDecline")))
	waitJS(t, ctx, "paused, offer gone", `document.body.className==='st-paused' && !(`+visible("#offer")+`)`)
	bs := sfvWait(t, r, bob, "bob's caller back, no transfer", func(s cti.AgentSnapshot) bool {
		return s.State.State == cti.AgentOnCall && s.Transfer == nil && (s.Controls == nil || !s.Controls.Held)
	})
	if bs.Call == nil || bs.Call.CustomerNumber != "+447700900777" {
		t.Errorf("bob's call after alice declined: %+v", bs.Call)
	}
}
