package browsertest

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAdminLeadUpload: the admin page uploads a CSV lead list to an
// outbound campaign, shows the import result (imported, rejected with
// reasons) and lists the campaign's lead lists with their counts.
func TestAdminLeadUpload(t *testing.T) {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("the fake has no admin API")
	}
	b := newReal(t)
	ctx := browser(t)
	run(t, ctx, "open admin", chromedp.EmulateViewport(900, 1100), chromedp.Navigate(b.URL()+"/admin/index.html"),
		chromedp.WaitVisible(chromedp.ID("lgUser")))
	run(t, ctx, "admin login", chromedp.SendKeys(chromedp.ID("lgUser"), "root"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "campaign rows", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Renewals')`)
	run(t, ctx, "pick Renewals", ev(`[...document.querySelectorAll('#list tr')].find(tr=>tr.firstChild.textContent==='Renewals').click()`))
	waitJS(t, ctx, "lead upload section", visible("#leadUpload"))
	// 5,000 good rows, a bad number and a duplicate.
	run(t, ctx, "choose file", ev(`(()=>{let s='Name,Mobile,Home\n';
		for(let i=0;i<5000;i++) s+='Lead '+i+',+4474001'+String(i).padStart(5,'0')+',\n';
		s+='Bad,12345,\nDup,+447400100000,\n';
		const dt=new DataTransfer(); dt.items.add(new File([s],'renewals.csv',{type:'text/csv'})); document.getElementById('leadFile').files=dt.files;
		document.getElementById('leadListName').value='June renewals'; })()`))
	run(t, ctx, "upload", chromedp.Click(chromedp.ID("leadUpload")))
	waitJS(t, ctx, "import result", `document.getElementById('leadMsg').textContent.startsWith('Imported 5000 leads')`)
	msg := text(t, ctx, "#leadMsg")
	for _, want := range []string{"“June renewals”", "2 rejected (1 duplicates, 0 do-not-call)", "row 5002:", "row 5003:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	waitJS(t, ctx, "list shown", `document.getElementById('leadLists').textContent.includes('June renewals: 5000 leads (new 5000)')`)
	if v := eval[float64](t, ctx, `document.getElementById('leadBar').value`); v != 100 {
		t.Errorf("progress bar at %v", v)
	}
	shot(t, ctx, "34-admin-lead-upload")
	var n int64
	b.DB.Raw(`SELECT count(*) FROM dialer_leads WHERE campaign_id = ?`, b.CampaignID("Renewals")).Scan(&n)
	if n != 5000 {
		t.Fatalf("stored leads: %d", n)
	}
}
