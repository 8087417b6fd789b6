package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// recordWS wraps the page's WebSocket so every message the adaptor
// receives is kept in window.wsLog (for the card-leak search).
const recordWS = `(()=>{ if (window.wsLog) return; window.wsLog = []; const W = window.WebSocket;
  window.WebSocket = function(u, p) { const s = new W(u, p); s.addEventListener('message', e => window.wsLog.push(String(e.data))); return s; };
  window.WebSocket.prototype = W.prototype; Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3}); })()`

// pageLeaks reports whether the card number (or its first 12 digits)
// appears in the page: DOM text, markup, input values, or websocket messages.
func pageLeaks(t *testing.T, ctx context.Context, pan string) []string {
	t.Helper()
	texts := eval[[]string](t, ctx, `[document.body.innerText, document.documentElement.outerHTML,
		[...document.querySelectorAll('input,textarea,select')].map(i=>i.value).join('\n'), (window.wsLog||[]).join('\n')]`)
	var where []string
	for i, s := range texts {
		compact := strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(s)
		if strings.Contains(compact, pan) || strings.Contains(compact, pan[:12]) {
			where = append(where, []string{"page text", "markup", "input values", "websocket messages"}[i])
		}
	}
	return where
}

// TestAdaptorPaymentAndTransfer drives the payment screen (the customer keys
// the card on the phone; the page shows only counts, brand and last four)
// and a blind transfer to a number through the dialog, then wraps.
func TestAdaptorPaymentAndTransfer(t *testing.T) {
	b := newBackend(t)
	r, ok := b.(*real)
	if !ok {
		t.Skip("payment and transfer need the real stack (unset CTID_WEB_FAKE)")
	}
	if err := r.DB.Exec(`UPDATE campaigns SET recording = true, payment_enabled = true,
		settings = '{"payment":{"kind":"sandbox","currency":"GBP"}}'::jsonb WHERE id = ?`, r.camps["Sales"]).Error; err != nil {
		t.Fatal(err)
	}
	if err := r.Engine.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	const pan = "4242424242424242"
	ctx := browser(t)
	run(t, ctx, "open adaptor", chromedp.EmulateViewport(300, 760), chromedp.Navigate(b.URL()+"/adaptor/index.html"),
		chromedp.WaitVisible(chromedp.ID("lgUser")), ev(recordWS))
	run(t, ctx, "login", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "connect screen", visible("#cnBtn"))
	run(t, ctx, "start", chromedp.Click(chromedp.ID("cnBtn")))
	waitJS(t, ctx, "paused", visible("#dialer")+` && document.getElementById('conn').textContent==='online'`)
	run(t, ctx, "ready", chromedp.SetValue(chromedp.ID("status"), "ready")) // SetValue fires change
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)

	cust := r.Inbound("+447700900777")
	waitJS(t, ctx, "on call", visible("#hangBtn")+` && document.body.className==='st-on_call'`)
	// Transfer is offered on any connected call; recording shows grey
	// (alice may not control it) and Services appears for payments.
	waitJS(t, ctx, "transfer button", visible("#xfOpen"))
	waitJS(t, ctx, "recording icon grey", visible("#recBtn")+` && document.getElementById('recBtn').classList.contains('grey')`)
	waitJS(t, ctx, "services tab", visible("#t-svc"))

	// Payment screen.
	run(t, ctx, "services", chromedp.Click(chromedp.ID("t-svc")))
	run(t, ctx, "take a payment", chromedp.Click(chromedp.ID("payOpen")))
	waitJS(t, ctx, "payment form", visible("#pay"))
	run(t, ctx, "fill payment", chromedp.SendKeys(chromedp.ID("payRef"), "INV-1001"), chromedp.SendKeys(chromedp.ID("payExp"), "12/39"),
		chromedp.SendKeys(chromedp.ID("payName"), "A Customer"), chromedp.SendKeys(chromedp.ID("payAmt"), "12.34"))
	if err := r.Double.KeyDTMF(cust, pan+"#123"); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "card keyed", `document.getElementById('payCard').textContent.includes('4242') && document.getElementById('payCvv').textContent.includes('valid')`)
	card := text(t, ctx, "#payCard")
	t.Logf("card progress: %q, cvv: %q", card, text(t, ctx, "#payCvv"))
	if !strings.Contains(card, "16 digits") || !strings.Contains(strings.ToLower(card), "visa") {
		t.Errorf("card progress %q", card)
	}
	shot(t, ctx, "13-payment-progress")
	if w := pageLeaks(t, ctx, pan); len(w) > 0 {
		t.Fatalf("card number found in %v", w)
	}
	run(t, ctx, "make a payment", chromedp.Click(chromedp.ID("payGo")))
	waitJS(t, ctx, "approved", `document.getElementById('payResult').textContent.includes('Approved')`)
	shot(t, ctx, "14-payment-approved")
	if w := pageLeaks(t, ctx, pan); len(w) > 0 {
		t.Fatalf("card number found in %v after payment", w)
	}
	if n := eval[int](t, ctx, `(window.wsLog||[]).filter(m=>m.includes('"payment.')).length`); n < 3 {
		t.Errorf("only %d payment events recorded from the websocket", n)
	}
	run(t, ctx, "exit payment", chromedp.Click(chromedp.ID("payExit")))
	waitJS(t, ctx, "leave asked", visible("#dlgOk")+` && document.getElementById('dlgOk').textContent==='Leave'`)
	run(t, ctx, "leave", chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "payment closed, back on the call", `!`+visible("#pay")+` && `+visible("#notes"))

	// Transfer: dialog → blind to a number → the agent wraps.
	run(t, ctx, "open transfer", chromedp.Click(chromedp.ID("xfOpen")))
	waitJS(t, ctx, "transfer dialog", visible("#xfTarget"))
	run(t, ctx, "fill transfer", chromedp.SetValue(chromedp.ID("xfType"), "number"), chromedp.SendKeys(chromedp.ID("xfTarget"), "020 7946 0999"))
	shot(t, ctx, "15-transfer-dialog")
	run(t, ctx, "transfer", chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "wrap after transfer", visible("#wrap")+` && document.body.className==='st-on_wrap'`)
	shot(t, ctx, "16-transfer-wrap")
	var leg string
	for _, ch := range r.Double.Channels() {
		if strings.HasPrefix(ch.ID, "xf-") {
			leg = ch.ID
		}
	}
	if leg == "" {
		t.Fatal("no transfer leg at the double")
	}
	c, _ := r.Double.Channel(cust)
	d, _ := r.Double.Channel(leg)
	if c.Bridge == "" || c.Bridge != d.Bridge {
		t.Errorf("customer in %q, destination in %q", c.Bridge, d.Bridge)
	}
	run(t, ctx, "wrap ready", chromedp.SetValue(chromedp.ID("wrCode"), "SALE"), chromedp.Click(chromedp.ID("wrReady")))
	waitJS(t, ctx, "ready after wrap", `document.body.className==='st-ready'`)
	if w := pageLeaks(t, ctx, pan); len(w) > 0 {
		t.Fatalf("card number found in %v at the end", w)
	}
}

// TestAdaptorConsultConference consults a number, merges it into a
// conference, adds a party, and leaves the conference on hang-up.
func TestAdaptorConsultConference(t *testing.T) {
	b := newBackend(t)
	r, ok := b.(*real)
	if !ok {
		t.Skip("conference needs the real stack (unset CTID_WEB_FAKE)")
	}
	ctx := browser(t)
	run(t, ctx, "open adaptor", chromedp.EmulateViewport(300, 760), chromedp.Navigate(b.URL()+"/adaptor/index.html"),
		chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "login", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "connect screen", visible("#cnBtn"))
	run(t, ctx, "start", chromedp.Click(chromedp.ID("cnBtn")))
	waitJS(t, ctx, "paused", visible("#dialer")+` && document.getElementById('conn').textContent==='online'`)
	run(t, ctx, "ready", chromedp.SetValue(chromedp.ID("status"), "ready"))
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)
	cust := r.Inbound("+447700900888")
	waitJS(t, ctx, "on call", visible("#xfOpen")+` && document.body.className==='st-on_call'`)

	run(t, ctx, "open transfer", chromedp.Click(chromedp.ID("xfOpen")))
	waitJS(t, ctx, "transfer dialog", visible("#xfTarget"))
	run(t, ctx, "consult", chromedp.SetValue(chromedp.ID("xfType"), "number"), chromedp.SendKeys(chromedp.ID("xfTarget"), "020 7946 0001"),
		chromedp.Click(chromedp.CSS(`input[name=mode][value=consult]`)), chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "consulting", visible("#xfMerge")+` && document.getElementById('xfState').textContent.includes('Consulting')`)
	shot(t, ctx, "17-consult")
	run(t, ctx, "merge", chromedp.Click(chromedp.ID("xfMerge")))
	waitJS(t, ctx, "conference", `document.getElementById('xfState').textContent.includes('1 of 3')`)
	run(t, ctx, "add party", chromedp.Click(chromedp.ID("xfOpen")))
	waitJS(t, ctx, "add dialog", visible("#xfTarget")+` && document.getElementById('dlgTitle').textContent.includes('conference')`)
	run(t, ctx, "add", chromedp.SetValue(chromedp.ID("xfType"), "number"), chromedp.SendKeys(chromedp.ID("xfTarget"), "020 7946 0002"),
		chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "two parties", `document.getElementById('xfState').textContent.includes('2 of 3')`)
	shot(t, ctx, "18-conference")
	run(t, ctx, "hang up", chromedp.Click(chromedp.ID("hangBtn")))
	waitJS(t, ctx, "leave or terminate", visible(`input[name=how][value=leave]`))
	shot(t, ctx, "19-conference-leave")
	run(t, ctx, "leave", chromedp.Click(chromedp.ID("dlgOk")))
	waitJS(t, ctx, "wrap after leave", visible("#wrap")+` && document.body.className==='st-on_wrap'`)
	c, _ := r.Double.Channel(cust)
	if br, _ := r.Double.Bridge(c.Bridge); len(br.Channels) != 3 {
		t.Errorf("conference after leave: %+v", br)
	}
	r.Double.HangupChannel(cust, 16)
}

// TestAdminAnnouncements adds an Asterisk sound and uploads WAVs (a bad one
// is refused with the server's reason) on the campaign editor.
func TestAdminAnnouncements(t *testing.T) {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("the fake has no admin API")
	}
	b := newReal(t)
	ctx := browser(t)
	run(t, ctx, "open admin", chromedp.EmulateViewport(900, 900), chromedp.Navigate(b.URL()+"/admin/index.html"),
		chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "admin login", chromedp.SendKeys(chromedp.ID("lgUser"), "root"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "campaign rows", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Sales')`)
	run(t, ctx, "pick Sales", ev(`[...document.querySelectorAll('#list tr')].find(tr=>tr.firstChild.textContent==='Sales').click()`))
	waitJS(t, ctx, "announcements section", visible("#annAdd")+` && document.getElementById('annList').textContent.includes('No announcements')`)
	run(t, ctx, "add sound", chromedp.SendKeys(chromedp.ID("annName"), "Monkeys"), chromedp.SendKeys(chromedp.ID("annSound"), "sound:tt-monkeys"),
		chromedp.Click(chromedp.ID("annAdd")))
	waitJS(t, ctx, "sound listed", `document.getElementById('annList').textContent.includes('Monkeys — sound:tt-monkeys')`)
	// A stereo WAV is refused with the reason; a mono 8 kHz one is stored.
	wavJS := func(channels int) string {
		return fmt.Sprintf(`(()=>{const ch=%d, n=8000, data=n*2*ch, b=new ArrayBuffer(44+data), v=new DataView(b), s=(o,t)=>[...t].forEach((c,i)=>v.setUint8(o+i,c.charCodeAt(0)));
			s(0,'RIFF'); v.setUint32(4,36+data,true); s(8,'WAVEfmt '); v.setUint32(16,16,true); v.setUint16(20,1,true); v.setUint16(22,ch,true);
			v.setUint32(24,8000,true); v.setUint32(28,16000*ch,true); v.setUint16(32,2*ch,true); v.setUint16(34,16,true); s(36,'data'); v.setUint32(40,data,true);
			const dt=new DataTransfer(); dt.items.add(new File([b],'a.wav',{type:'audio/wav'})); document.getElementById('annFile').files=dt.files; })()`, channels)
	}
	run(t, ctx, "bad upload", ev(`document.getElementById('annName').value='Stereo'`), ev(wavJS(2)), chromedp.Click(chromedp.ID("annAdd")))
	waitJS(t, ctx, "refused", `document.getElementById('annErr').textContent.includes('mono')`)
	shot(t, ctx, "32-admin-announcement-refused")
	run(t, ctx, "good upload", ev(`document.getElementById('annName').value='Hold message'`), ev(wavJS(1)), chromedp.Click(chromedp.ID("annAdd")))
	waitJS(t, ctx, "upload listed", `document.getElementById('annList').textContent.includes('Hold message — uploaded WAV')`)
	shot(t, ctx, "33-admin-announcements")
	var n int64
	b.DB.Raw(`SELECT count(*) FROM announcements WHERE campaign_id = ? AND length(wav) = 16044 AND token <> ''`, b.CampaignID("Sales")).Scan(&n)
	if n != 1 {
		t.Fatalf("stored uploads: %d", n)
	}
}
