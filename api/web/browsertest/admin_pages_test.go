package browsertest

// Issue 15's admin items on the real stack: creating a user, the dialler
// settings form (help text, inline errors), quick connects, the
// do-not-call page, lead lists (browse, pause, delete, duplicate upload),
// the page redirects, and errors as sentences; no console errors.

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestAdminDeskPages(t *testing.T) {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("the fake has no admin API")
	}
	b := newReal(t)
	// Item 8: redirects instead of blank pages or raw 403 JSON.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{"/": "/adaptor/", "/adaptor": "/adaptor/", "/admin": "/admin/"} {
		res, err := noFollow.Get(b.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Errorf("GET %s: %d Location %q, want 302 %q", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}

	ctx := browser(t)
	consoleErrs := watchConsole(t, ctx)
	run(t, ctx, "open admin", chromedp.EmulateViewport(900, 900), chromedp.Navigate(b.URL()+"/admin"), chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "admin login", chromedp.SendKeys(chromedp.ID("lgUser"), "root"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "campaigns", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Renewals')`)

	// Item 5: creating a user works.
	run(t, ctx, "users", chromedp.Click(chromedp.CSS(`nav button[data-r="users"]`)))
	waitJS(t, ctx, "user list", `document.querySelector('#list h1').textContent==='Agents & users'`)
	run(t, ctx, "new user", chromedp.Click(chromedp.CSS(`#list button.primary`)), chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), "dave"), chromedp.SendKeys(chromedp.ID("f-password"), "dave-secret-1"),
		chromedp.SendKeys(chromedp.ID("f-displayName"), "Dave Agent"), chromedp.Click(chromedp.CSS(`#edit button.primary`)))
	waitJS(t, ctx, "dave listed", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='dave')`)
	var n int64
	b.DB.Raw(`SELECT count(*) FROM users WHERE username = 'dave' AND NOT disabled`).Scan(&n)
	if n != 1 {
		t.Errorf("dave stored %d times", n)
	}

	// Dialler settings: a form with help text; the server's refusal inline.
	run(t, ctx, "campaigns", chromedp.Click(chromedp.CSS(`nav button[data-r="campaigns"]`)))
	waitJS(t, ctx, "campaign rows", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Renewals')`)
	run(t, ctx, "pick Renewals", ev(`[...document.querySelectorAll('#list tr')].find(tr=>tr.firstChild.textContent==='Renewals').click()`))
	waitJS(t, ctx, "dialler form", visible("#f-dialer-mode")+` && document.getElementById('f-dialer-ringSeconds-help').textContent.includes('at least 15')`)
	run(t, ctx, "bad ring time", chromedp.SetValue(chromedp.ID("f-dialer-mode"), "preview"), ev(`document.getElementById('f-dialer-ringSeconds').value='5'`),
		chromedp.Click(chromedp.CSS(`#edit button.primary`)))
	waitJS(t, ctx, "inline error", `document.getElementById('f-dialer-ringSeconds-err').textContent.length>0`)
	msg := text(t, ctx, "#f-dialer-ringSeconds-err")
	t.Logf("ring time refused: %q", msg)
	if strings.Contains(msg, "{") || strings.Contains(msg, "settings.dialer") {
		t.Errorf("inline error is raw: %q", msg)
	}
	shot(t, ctx, "admin-dialer-settings-error")
	run(t, ctx, "good ring time", ev(`document.getElementById('f-dialer-ringSeconds').value='30'`), chromedp.Click(chromedp.CSS(`#edit button.primary`)))
	waitJS(t, ctx, "saved", `document.querySelector('#edit h2').textContent.includes('saved')`)
	var settings string
	b.DB.Raw(`SELECT settings::text FROM campaigns WHERE id = ?`, b.CampaignID("Renewals")).Scan(&settings)
	if !strings.Contains(settings, `"ringSeconds": 30`) || !strings.Contains(settings, `"mode": "preview"`) {
		t.Errorf("stored settings %s", settings)
	}

	// Lead lists: upload, browse, duplicate warning, pause, delete.
	csv := `Name,Mobile\nAnn,+447400100001\nBen,+447400100002\n`
	choose := `(()=>{const dt=new DataTransfer(); dt.items.add(new File(["` + csv + `"],'june.csv',{type:'text/csv'})); document.getElementById('leadFile').files=dt.files;})()`
	waitJS(t, ctx, "lead upload", visible("#leadUpload"))
	run(t, ctx, "upload", ev(choose), chromedp.Click(chromedp.ID("leadUpload")))
	waitJS(t, ctx, "imported", `document.getElementById('leadMsg').textContent.startsWith('Imported 2 leads')`)
	waitJS(t, ctx, "list row", `document.querySelector('#leadLists li button.browse')`)
	run(t, ctx, "browse", chromedp.Click(chromedp.CSS(`#leadLists li button.browse`)))
	waitJS(t, ctx, "leads shown", `document.getElementById('leadRows') && document.getElementById('leadRows').textContent.includes('+447400100002')`)
	// The same file again (under another list name): warned, then uploaded on request.
	run(t, ctx, "upload again", ev(`document.getElementById('leadMsg').textContent=''; document.getElementById('leadListName').value='June again'`), ev(choose),
		chromedp.Click(chromedp.ID("leadUpload")))
	waitJS(t, ctx, "second upload answered", `document.getElementById('leadDup') || document.getElementById('leadMsg').textContent.startsWith('Imported')`)
	if eval[bool](t, ctx, `!!document.getElementById('leadDup')`) {
		if d := text(t, ctx, "#leadDup"); !strings.Contains(d, "already uploaded") || strings.Contains(d, "force=") {
			t.Errorf("duplicate warning %q", d)
		}
		shot(t, ctx, "admin-lead-duplicate")
		run(t, ctx, "upload anyway", chromedp.Click(chromedp.ID("leadForce")))
		waitJS(t, ctx, "forced", `document.getElementById('leadMsg').textContent.startsWith('Imported 2 leads')`)
	} else {
		t.Errorf("the same file uploaded again was not warned about: %q", text(t, ctx, "#leadMsg"))
	}
	run(t, ctx, "pause list", chromedp.Click(chromedp.CSS(`#leadLists li button.toggle`)))
	waitJS(t, ctx, "paused", `document.getElementById('leadLists').textContent.includes('— paused')`)
	shot(t, ctx, "admin-lead-lists")
	run(t, ctx, "accept confirms", ev(`window.confirm=()=>true`))
	lists := eval[int](t, ctx, `document.querySelectorAll('#leadLists li').length`)
	run(t, ctx, "delete list", chromedp.Click(chromedp.CSS(`#leadLists li button.delete`)))
	waitJS(t, ctx, "deleted", `document.querySelectorAll('#leadLists li').length===`+strconv.Itoa(lists-1))

	// Quick connects editor.
	run(t, ctx, "quick connects", chromedp.Click(chromedp.CSS(`nav button[data-r="quick-connects"]`)))
	waitJS(t, ctx, "qc list", `document.querySelector('#list h1').textContent==='Quick connects'`)
	run(t, ctx, "new qc", chromedp.Click(chromedp.CSS(`#list button.primary`)), chromedp.WaitVisible(chromedp.ID("f-name")),
		chromedp.SendKeys(chromedp.ID("f-name"), "Billing desk"), chromedp.SetValue(chromedp.ID("f-type"), "number"),
		chromedp.SendKeys(chromedp.ID("f-target"), "020 7946 0500"), chromedp.Click(chromedp.CSS(`#edit button.primary`)))
	waitJS(t, ctx, "qc listed", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Billing desk')`)
	run(t, ctx, "bad qc", chromedp.Click(chromedp.CSS(`#list button.primary`)), chromedp.WaitVisible(chromedp.ID("f-name")),
		chromedp.SendKeys(chromedp.ID("f-name"), "Nowhere"), chromedp.SetValue(chromedp.ID("f-type"), "number"),
		chromedp.SendKeys(chromedp.ID("f-target"), "not a number"), chromedp.Click(chromedp.CSS(`#edit button.primary`)))
	waitJS(t, ctx, "qc refused", `[...document.querySelectorAll('#edit .ferr')].some(e=>e.textContent.length>0)`)
	refusal := eval[string](t, ctx, `[...document.querySelectorAll('#edit .ferr')].map(e=>e.textContent).join('')`)
	t.Logf("quick connect refused: %q", refusal)
	if strings.Contains(refusal, "constraint") || strings.Contains(refusal, "{") {
		t.Errorf("refusal is not a sentence: %q", refusal)
	}
	shot(t, ctx, "admin-quick-connects")

	// Do-not-call: add, search, remove, import.
	run(t, ctx, "dnc", chromedp.Click(chromedp.CSS(`nav button[data-r="dnc"]`)))
	waitJS(t, ctx, "dnc page", visible("#dncAddBtn"))
	run(t, ctx, "add", chromedp.SendKeys(chromedp.ID("dncNumber"), "+447400100321"), chromedp.SendKeys(chromedp.ID("dncReason"), "asked on the phone"),
		chromedp.Click(chromedp.ID("dncAddBtn")))
	waitJS(t, ctx, "listed", `document.getElementById('dncRows').textContent.includes('+447400100321') && document.getElementById('dncRows').textContent.includes('asked on the phone')`)
	run(t, ctx, "bad number", chromedp.SendKeys(chromedp.ID("dncNumber"), "12"), chromedp.Click(chromedp.ID("dncAddBtn")))
	waitJS(t, ctx, "refused", `(document.getElementById('dncNumber-err').textContent+document.getElementById('dncErr').textContent).length>0`)
	t.Logf("bad DNC number: %q", eval[string](t, ctx, `document.getElementById('dncNumber-err').textContent+document.getElementById('dncErr').textContent`))
	run(t, ctx, "import", ev(`(()=>{const dt=new DataTransfer(); dt.items.add(new File(["number\n+447400100401\n+447400100402\nnope\n"],'dnc.csv',{type:'text/csv'})); document.getElementById('dncFile').files=dt.files;})()`),
		chromedp.Click(chromedp.ID("dncImport")))
	waitJS(t, ctx, "imported", `document.getElementById('dncMsg').textContent.startsWith('Imported: 2 added')`)
	run(t, ctx, "search", ev(`document.getElementById('dncQ').value=''`), chromedp.SendKeys(chromedp.ID("dncQ"), "100401"))
	waitJS(t, ctx, "found", `document.querySelectorAll('#dncRows tr').length===1 && document.getElementById('dncRows').textContent.includes('+447400100401')`)
	shot(t, ctx, "admin-dnc")
	run(t, ctx, "remove", chromedp.Click(chromedp.CSS(`#dncRows button`)))
	waitJS(t, ctx, "removed", `document.getElementById('dncMsg').textContent.includes('removed') && document.getElementById('dncRows').textContent.includes('No numbers match')`)
	run(t, ctx, "320 px", chromedp.EmulateViewport(320, 800))
	shot(t, ctx, "admin-dnc-320")

	if errs := consoleErrs(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
