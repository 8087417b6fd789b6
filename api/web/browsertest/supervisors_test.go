package browsertest

// The admin page's "Campaigns this supervisor looks after" section on the
// real stack: an admin ticks a supervisor's campaigns and saves (a
// sentence says what was saved, the database holds it, a reload shows
// it), unticks one, sees the server's refusal as a sentence; an agent's
// editor has no such section (until the role select says supervisor: then
// a hint to save the role first); the section fits 320 px; no console
// errors.

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

func TestAdminSupervisorCampaigns(t *testing.T) {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("the fake has no admin API")
	}
	b := newReal(t)
	sue, err := postgres.NewAdmin(b.DB).CreateUser(context.Background(), postgres.NewUser{Username: "sue", Password: agentPassword,
		DisplayName: "Sue Super", Role: cti.RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	sales, renewals := b.CampaignID("Sales"), b.CampaignID("Renewals")
	box := func(id int64) string { return "#sup-camp-" + strconv.FormatInt(id, 10) }
	stored := func() []int64 {
		t.Helper()
		var ids []int64
		if err := b.DB.Raw(`SELECT campaign_id FROM supervisor_campaigns WHERE user_id = ? ORDER BY campaign_id`, sue.ID).Scan(&ids).Error; err != nil {
			t.Fatal(err)
		}
		return ids
	}

	ctx := browser(t)
	consoleErrs := watchConsole(t, ctx)
	run(t, ctx, "open admin", chromedp.EmulateViewport(900, 900), chromedp.Navigate(b.URL()+"/admin/"), chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "admin login", chromedp.SendKeys(chromedp.ID("lgUser"), "root"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "campaigns", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Renewals')`)

	// openUser goes to the users screen and opens one user's editor.
	openUser := func(username string) {
		t.Helper()
		run(t, ctx, "users", chromedp.Click(chromedp.CSS(`nav button[data-r="users"]`)))
		// The section's click empties the editor once its list has loaded:
		// pick a row only from that list.
		waitJS(t, ctx, "users loaded", `document.querySelector('#edit > p.hint')?.textContent==='Pick a row or press New.'`)
		waitJS(t, ctx, "user list", `document.querySelector('#list h1')?.textContent==='Agents & users' && [...document.querySelectorAll('#list tr')].some(tr=>tr.firstChild.textContent==='`+username+`')`)
		run(t, ctx, "pick "+username, ev(`[...document.querySelectorAll('#list tr')].find(tr=>tr.firstChild.textContent==='`+username+`').click()`))
		waitJS(t, ctx, username+"'s editor", `document.getElementById('f-username')?.value==='`+username+`' && !!document.getElementById('sup-campaigns')`)
	}
	// loaded: the supervisor's campaigns are drawn and may be saved.
	loaded := `document.querySelectorAll('#sup-camps input[type=checkbox]').length===2 && !document.getElementById('sup-save').disabled`
	// setBox ticks or unticks a checkbox from script and waits until it is so.
	setBox := func(sel string, want bool) {
		t.Helper()
		q := "document.querySelector(" + strconv.Quote(sel) + ")"
		w := strconv.FormatBool(want)
		waitJS(t, ctx, sel+" enabled", q+" && !"+q+".disabled")
		run(t, ctx, "set "+sel, ev(`(()=>{const e=`+q+`; if (e.checked!==`+w+`) e.click();})()`))
		waitJS(t, ctx, sel+" checked="+w, q+".checked==="+w)
	}

	openUser("sue")
	waitJS(t, ctx, "sue's campaigns", loaded+` && `+visible("#sup-campaigns"))
	// Real checkboxes, each with its label, in a fieldset with a legend.
	if !eval[bool](t, ctx, `(()=>{const f=document.getElementById('sup-camps'); const ins=[...f.querySelectorAll('input[type=checkbox]')];
		return !!f.querySelector('legend') && f.tagName==='FIELDSET' && ins.every(i=>i.labels.length===1) &&
			ins.map(i=>i.labels[0].textContent).sort().join()==='Renewals,Sales' && ins.every(i=>!i.checked);})()`) {
		t.Error("the campaigns are not unticked, labelled checkboxes in a fieldset with a legend")
	}
	// Sales by keyboard (focus, space), Renewals from script.
	run(t, ctx, "Sales by keyboard", ev(`document.querySelector(`+strconv.Quote(box(sales))+`).focus()`), chromedp.KeyEvent(" "))
	waitJS(t, ctx, "Sales ticked", `document.querySelector(`+strconv.Quote(box(sales))+`).checked`)
	setBox(box(renewals), true)
	click(t, ctx, "sup-save")
	waitJS(t, ctx, "saved sentence", `document.getElementById('sup-msg').textContent==='Saved: Sue Super looks after Sales and Renewals.'`)
	shot(t, ctx, "admin-supervisor-campaigns")
	if got, want := stored(), []int64{min(sales, renewals), max(sales, renewals)}; !slices.Equal(got, want) {
		t.Errorf("supervisor_campaigns holds %v, want %v", got, want)
	}

	// After a reload both are ticked.
	run(t, ctx, "reload", chromedp.Reload())
	waitJS(t, ctx, "campaigns again", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Renewals')`)
	openUser("sue")
	waitJS(t, ctx, "both ticked", loaded+` && document.querySelector(`+strconv.Quote(box(sales))+`).checked && document.querySelector(`+strconv.Quote(box(renewals))+`).checked`)

	// Untick Renewals: only Sales remains.
	setBox(box(renewals), false)
	click(t, ctx, "sup-save")
	waitJS(t, ctx, "saved Sales only", `document.getElementById('sup-msg').textContent==='Saved: Sue Super looks after Sales.'`)
	if got := stored(); !slices.Equal(got, []int64{sales}) {
		t.Errorf("supervisor_campaigns holds %v, want only Sales %d", got, sales)
	}

	// An agent's editor has no such section.
	openUser("alice")
	if eval[bool](t, ctx, visible("#sup-campaigns")+` || !!document.getElementById('sup-camps')`) {
		t.Error("alice, an agent, shows the supervisor's campaigns section")
	}
	// Choosing supervisor in her (unsaved) form says to save the role first.
	run(t, ctx, "alice to supervisor", ev(`(()=>{const s=document.getElementById('f-role'); s.value='supervisor'; s.dispatchEvent(new Event('change'));})()`))
	waitJS(t, ctx, "save the role first", visible("#sup-later")+` && !document.getElementById('sup-camps')`)

	// At 320 px the section fits.
	run(t, ctx, "320 px", chromedp.EmulateViewport(320, 800))
	openUser("sue")
	waitJS(t, ctx, "sue at 320 px", loaded+` && `+visible("#sup-campaigns"))
	run(t, ctx, "scroll to section", ev(`document.getElementById('sup-campaigns').scrollIntoView()`))
	fits(t, ctx, "supervisor campaigns at 320 px")
	if r := eval[float64](t, ctx, `document.getElementById('sup-campaigns').getBoundingClientRect().right`); r > 320.5 {
		t.Errorf("the section's right edge is at %.0f px at 320 px", r)
	}
	shot(t, ctx, "admin-supervisor-campaigns-320")

	// A refusal is the server's sentence: sue is no longer a supervisor
	// behind the page's back.
	if err := b.DB.Exec(`UPDATE users SET role = 'agent' WHERE id = ?`, sue.ID).Error; err != nil {
		t.Fatal(err)
	}
	setBox(box(renewals), true)
	click(t, ctx, "sup-save")
	waitJS(t, ctx, "refused", `document.getElementById('sup-err').textContent.length>0`)
	if m := text(t, ctx, "#sup-err"); m != "Only supervisors are assigned campaigns." {
		t.Errorf("refusal shown as %q", m)
	}
	if s := text(t, ctx, "#sup-msg"); s != "" {
		t.Errorf("a refused save still says %q", s)
	}
	if got := stored(); !slices.Equal(got, []int64{sales}) {
		t.Errorf("after the refusal supervisor_campaigns holds %v, want only Sales", got)
	}

	if errs := consoleErrs(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
