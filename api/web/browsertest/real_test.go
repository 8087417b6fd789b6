package browsertest

// The real stack behind the pages: a per-test Postgres database (pgtest),
// the in-process Asterisk double (aritest), the cti engine and the api
// server on a real listener. CTID_WEB_FAKE=1 runs the pages against the
// small contract fake (fake_test.go) instead.

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"

	"github.com/ctid/ctid/cti/ctitest/testenv"
)

func TestMain(m *testing.M) {
	postgres.PasswordParams.Memory = 1024 // fast hashes in tests
	postgres.PasswordParams.Time = 1
	pgtest.Main(m)
}

func newBackend(t *testing.T) backend {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		f := newFake()
		t.Cleanup(f.Close)
		return f
	}
	return newReal(t)
}

const realDID = "+442079460100" // a valid UK number: campaign DIDs are checked as E.164

type real struct {
	*ctitest.Stack
	t     *testing.T
	base  string
	ln    *trackingListener
	camps map[string]int64

	mu       sync.Mutex
	customer string // the customer channel of the current call
}

func newReal(t *testing.T) *real {
	if _, err := testenv.Chromium(); err != nil {
		t.Skip(err)
	}
	r := &real{t: t, camps: map[string]int64{}}
	r.Stack = ctitest.Start(t, ctitest.Options{})
	ctx := context.Background()
	adm := postgres.NewAdmin(r.DB)
	acc, err := adm.CreateUser(ctx, postgres.NewUser{Username: "alice", Password: agentPassword, DisplayName: "Alice Agent",
		Role: cti.RoleAgent, DefaultPhone: "1001", ManualCallWhenPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateUser(ctx, postgres.NewUser{Username: "root", Password: agentPassword, DisplayName: "Root", Role: cti.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []postgres.CampaignRecord{
		{Name: "Sales", Kind: "inbound", PlatformNumber: realDID, DIDs: []string{realDID}, DefaultRegion: "GB",
			WrapCodes:       []cti.WrapCode{{Code: "SALE", Label: "Sale"}, {Code: "NOSALE", Label: "No sale"}, {Code: "CB", Label: "Callback"}},
			DefaultWrapCode: "SALE", WrapLimitSeconds: 30, ExtendWrapSeconds: 15, AgentIDs: []int64{acc.ID}},
		{Name: "Renewals", Kind: "outbound", PlatformNumber: "+442079460999", DefaultRegion: "GB",
			WrapCodes:       []cti.WrapCode{{Code: "SALE", Label: "Sale"}, {Code: "NOSALE", Label: "No sale"}},
			DefaultWrapCode: "SALE", WrapLimitSeconds: 30, ExtendWrapSeconds: 15, AgentIDs: []int64{acc.ID}},
	} {
		rec, err := adm.CreateCampaign(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		r.camps[c.Name] = rec.ID
	}
	if err := r.Engine.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// Agent phones answer after a short ring; customers on the trunk answer too.
	r.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 100 * time.Millisecond})
	r.Double.Script("PJSIP/*@trunk", aritest.Behavior{AnswerAfter: 300 * time.Millisecond})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The test server is also the tests' "Salesforce": it serves the Open
	// CTI stand-in from testdata/www (never embedded in ctid).
	srv := api.New(api.Options{Engine: r.Engine, DB: r.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		FrameAncestors: []string{"https://*.lightning.force.com"}, Static: testWWW(),
		Desk: api.DeskOptions{SalesforceOrigin: "http://" + ln.Addr().String()}})
	r.ln = &trackingListener{Listener: ln, conns: map[net.Conn]bool{}}
	go srv.Serve(r.ln)
	r.base = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return r
}

func (r *real) URL() string { return r.base }
func (r *real) Close()      {}

func (r *real) Inbound(customer string) string {
	id := r.Double.Inbound("ctid", []string{"inbound", realDID, "Sales line", "option=2"}, customer, realDID, nil)
	r.mu.Lock()
	r.customer = id
	r.mu.Unlock()
	return id
}

// CustomerHangup hangs up the customer: the inbound caller, or the trunk
// leg of a manual call.
func (r *real) CustomerHangup() {
	r.mu.Lock()
	id := r.customer
	r.customer = ""
	r.mu.Unlock()
	if _, ok := r.Double.Channel(id); id == "" || !ok {
		for _, c := range r.Double.Channels() {
			if strings.Contains(c.Name, "trunk") {
				id = c.ID
			}
		}
	}
	r.Double.HangupChannel(id, 16)
}

func (r *real) DropSockets() { r.ln.dropAll() }

func (r *real) CampaignID(name string) int64 { return r.camps[name] }

func (r *real) last(dir string) (number, code, notes string, campaign int64) {
	r.t.Helper()
	var row struct {
		CustomerNumber, WrapCode, Notes string
		CampaignID                      *int64
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.Engine.Flush(ctx)
	if err := r.DB.Raw(`SELECT customer_number, wrap_code, notes, campaign_id FROM interactions WHERE (? = '' AND wrap_code <> '') OR direction = ? ORDER BY created_at DESC LIMIT 1`, dir, dir).Scan(&row).Error; err != nil {
		r.t.Fatal(err)
	}
	campaign = -1
	if row.CampaignID != nil {
		campaign = *row.CampaignID
	}
	return row.CustomerNumber, row.WrapCode, row.Notes, campaign
}

func (r *real) LastWrap() (string, string) {
	// The wrap is written behind the engine; wait for it briefly.
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, code, notes, _ := r.last("")
		if code != "" || time.Now().After(deadline) {
			return code, notes
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *real) LastDial() (string, int64) {
	n, _, _, c := r.last("OUT")
	return n, c
}

// trackingListener remembers accepted connections so a test can cut them
// all (a network blip for the browser's websocket).
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]bool
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns[c] = true
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Close()
		delete(l.conns, c)
	}
}

func TestAdminPages(t *testing.T) {
	if os.Getenv("CTID_WEB_FAKE") != "" {
		t.Skip("the fake has no admin API")
	}
	b := newReal(t)
	ctx := browser(t)
	run(t, ctx, "open admin", chromedp.EmulateViewport(900, 800), chromedp.Navigate(b.URL()+"/admin/index.html"),
		chromedp.WaitVisible(chromedp.ID("lgUser")))
	// An agent is refused.
	run(t, ctx, "agent login", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword),
		chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "not admin", `document.getElementById('lgErr').textContent.includes('not an administrator')`)
	run(t, ctx, "admin login", ev(`document.getElementById('lgUser').value='root'`), chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "campaign list", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Renewals')`)
	shot(t, ctx, "30-admin-campaigns")

	// Create a pause reason.
	run(t, ctx, "pause reasons", chromedp.Click(chromedp.CSS(`nav button[data-r="pause-reasons"]`)))
	waitJS(t, ctx, "pause list", `document.querySelector('#list h1').textContent==='Pause reasons'`)
	run(t, ctx, "new", chromedp.Click(chromedp.CSS(`#list button.primary`)), chromedp.WaitVisible(chromedp.ID("f-name")),
		chromedp.SendKeys(chromedp.ID("f-name"), "Coaching"), chromedp.Click(chromedp.CSS(`#edit button.primary`)))
	waitJS(t, ctx, "new reason listed", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Coaching')`)

	// Edit a campaign: wrap codes and DIDs round-trip through the API.
	run(t, ctx, "campaigns", chromedp.Click(chromedp.CSS(`nav button[data-r="campaigns"]`)))
	waitJS(t, ctx, "campaign rows", `[...document.querySelectorAll('#list td')].some(td=>td.textContent==='Sales')`)
	run(t, ctx, "pick Sales", ev(`[...document.querySelectorAll('#list tr')].find(tr=>tr.firstChild.textContent==='Sales').click()`))
	waitJS(t, ctx, "editor", `document.getElementById('f-wrapCodes') && document.getElementById('f-wrapCodes').value.includes('SALE | Sale')`)
	run(t, ctx, "edit codes", ev(`document.getElementById('f-wrapCodes').value += '\nVM | Voicemail'`), chromedp.Click(chromedp.CSS(`#edit button.primary`)))
	waitJS(t, ctx, "saved", `document.querySelector('#edit h2').textContent.includes('saved')`)
	shot(t, ctx, "31-admin-campaign-edit")
	var codes []string
	if err := b.DB.Raw(`SELECT code FROM wrap_codes WHERE campaign_id = ? ORDER BY code`, b.CampaignID("Sales")).Scan(&codes).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(codes, ",") != "CB,NOSALE,SALE,VM" {
		t.Errorf("Sales wrap codes after the edit: %v", codes)
	}
}
