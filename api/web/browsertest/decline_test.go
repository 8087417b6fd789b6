package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ctid/ctid/ari/aritest"
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
	var s struct{ State struct{ State, PauseReason string } }
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
}
