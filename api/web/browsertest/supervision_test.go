package browsertest

// The floor page (/supervisor/) and the review page (/review/) against the
// real stack: engine on the Asterisk double, Postgres, the API with
// recording downloads.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/ctitest/testenv"
	"github.com/ctid/ctid/cti/postgres"
)

// supDID is the Sales line of these tests (a valid UK number).
const supDID = "+442079460177"

type supStack struct {
	*ctitest.Stack
	base     string
	campaign int64
	ids      map[string]int64
}

func (s *supStack) URL() string { return s.base }

// Unused parts of backend, so call() can be used.
func (s *supStack) Inbound(string) string      { return "" }
func (s *supStack) CustomerHangup()            {}
func (s *supStack) DropSockets()               {}
func (s *supStack) LastWrap() (string, string) { return "", "" }
func (s *supStack) LastDial() (string, int64)  { return "", 0 }
func (s *supStack) CampaignID(string) int64    { return s.campaign }
func (s *supStack) Close()                     {}
func (s *supStack) token(t *testing.T, user string) string {
	var r struct{ Token string }
	call(t, s, "", "POST", "/auth/login", `{"username":"`+user+`","password":"`+agentPassword+`"}`, &r)
	return r.Token
}

func newSupStack(t *testing.T, recording bool) *supStack {
	if _, err := testenv.Chromium(); err != nil {
		t.Skip(err)
	}
	s := &supStack{ids: map[string]int64{}}
	s.Stack = ctitest.Start(t, ctitest.Options{})
	ctx := context.Background()
	adm := postgres.NewAdmin(s.DB)
	for _, u := range []struct {
		name, display string
		role          cti.Role
		phone         string
	}{{"alice", "Alice Agent", cti.RoleAgent, "1001"}, {"sue", "Sue Supervisor", cti.RoleSupervisor, "1003"}, {"rita", "Rita Reviewer", cti.RoleReviewer, ""}} {
		acc, err := adm.CreateUser(ctx, postgres.NewUser{Username: u.name, Password: agentPassword, DisplayName: u.display, Role: u.role,
			DefaultPhone: u.phone, ManualCallWhenPaused: true, RecordingControl: true})
		if err != nil {
			t.Fatal(err)
		}
		s.ids[u.name] = acc.ID
	}
	c, err := adm.CreateCampaign(ctx, postgres.CampaignRecord{Name: "Sales", Kind: "inbound", PlatformNumber: supDID, DIDs: []string{supDID},
		DefaultRegion: "GB", Recording: recording, WrapCodes: []cti.WrapCode{{Code: "SALE", Label: "Sale"}}, AgentIDs: []int64{s.ids["alice"]}})
	if err != nil {
		t.Fatal(err)
	}
	s.campaign = c.ID
	if err := postgres.SetSupervisedCampaigns(ctx, s.DB, s.ids["sue"], []int64{c.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.Engine.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	s.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 50 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Options{Engine: s.Engine, DB: s.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Recordings: s.ARI.Recordings})
	go srv.Serve(ln)
	s.base = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return s
}

func signIn(t *testing.T, ctx context.Context, url, user string) {
	t.Helper()
	run(t, ctx, "open "+url, chromedp.EmulateViewport(320, 900), chromedp.Navigate(url))
	waitJS(t, ctx, "login form", visible("#lgUser"))
	run(t, ctx, "sign in", chromedp.SendKeys(chromedp.CSS(`#lgUser`), user), chromedp.SendKeys(chromedp.CSS(`#lgPass`), agentPassword), chromedp.Click(chromedp.CSS(`#login button[type=submit]`)))
}

// The floor shows an agent's state change and a waiting caller within a
// second of them happening (the feed samples the engine every 100 ms).
func TestFloorPageLiveUpdates(t *testing.T) {
	s := newSupStack(t, false)
	ctx := browser(t)
	signIn(t, ctx, s.base+"/supervisor/", "sue")
	waitJS(t, ctx, "floor live", `document.querySelector('#conn').textContent === 'live'`)
	waitJS(t, ctx, "Sales queue row", `document.querySelector('#queues tbody').textContent.includes('Sales')`)

	alice := s.token(t, "alice")
	start := time.Now()
	call(t, s, alice, "POST", "/agent/login", "", nil)
	waitJS(t, ctx, "Alice on the floor", `document.querySelector('#agents').textContent.includes('Alice Agent')`)
	agentLag := time.Since(start)
	call(t, s, alice, "POST", "/agent/connect", `{"mode":"system_calls","number":"1001","persistent":true}`, nil)
	waitJS(t, ctx, "Alice paused", `document.querySelector('#agents .st').textContent === 'Paused'`)

	start = time.Now()
	s.Double.Inbound("ctid", []string{"inbound", supDID}, "+447700900123", supDID, nil)
	waitJS(t, ctx, "a caller waiting", `[...document.querySelectorAll('#queues tbody tr')].some(r => r.cells[0].textContent === 'Sales' && r.cells[1].textContent === '1')`)
	callLag := time.Since(start)
	waitJS(t, ctx, "the call listed", `document.querySelector('#calls').textContent.includes('+447700900123')`)
	t.Logf("floor page: agent login shown after %s, queued call after %s", agentLag, callLag)
	// The browser polls every 50 ms and a loaded machine adds more; the
	// issue asks for 1 s.
	if agentLag > 1500*time.Millisecond || callLag > 1500*time.Millisecond {
		t.Errorf("floor too slow: agent %s, call %s", agentLag, callLag)
	}
	// Keyboard: the list takes focus, arrows select, Enter opens the panel;
	// the supervisor makes Alice ready and she takes the call.
	run(t, ctx, "open Alice by keyboard", ev(`document.getElementById("agents").focus()`), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter))
	waitJS(t, ctx, "panel", visible("#panel"))
	shot(t, ctx, "supervisor-floor-320")
	run(t, ctx, "make ready", chromedp.Click(chromedp.CSS(`#aReady`)))
	waitJS(t, ctx, "Alice on call", `document.querySelector('#agents .st').textContent === 'On call'`)
	waitJS(t, ctx, "monitor buttons", visible("#monBox"))
	shot(t, ctx, "supervisor-floor-on-call-320")
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 320 {
		t.Errorf("the floor is %d px wide at 320 px", w)
	}
}

// The review page finds a recorded call, plays it and seeks to a bookmark.
func TestReviewPagePlaysAndSeeksToBookmark(t *testing.T) {
	s := newSupStack(t, true)
	alice := s.token(t, "alice")
	call(t, s, alice, "POST", "/agent/login", "", nil)
	call(t, s, alice, "POST", "/agent/connect", `{"mode":"system_calls","number":"1001","persistent":true}`, nil)
	ctitest.Eventually(t, 15*time.Second, "alice paused", func() bool {
		var v struct{ State struct{ State string } }
		call(t, s, alice, "GET", "/agent", "", &v)
		return v.State.State == "paused"
	})
	call(t, s, alice, "POST", "/agent/ready", "", nil)
	cust := s.Double.Inbound("ctid", []string{"inbound", supDID}, "+447700900123", supDID, nil)
	ctitest.Eventually(t, 15*time.Second, "recording", func() bool {
		var v struct{ Recording *struct{ State string } }
		call(t, s, alice, "GET", "/agent", "", &v)
		return v.Recording != nil && v.Recording.State == "recording"
	})
	time.Sleep(1200 * time.Millisecond)
	call(t, s, alice, "POST", "/agent/bookmarks", `{"note":"customer asks for a refund"}`, nil)
	time.Sleep(1500 * time.Millisecond)
	s.Double.HangupChannel(cust, 16)
	ctitest.Eventually(t, 15*time.Second, "wrap", func() bool {
		var v struct{ State struct{ State string } }
		call(t, s, alice, "GET", "/agent", "", &v)
		return v.State.State == "on_wrap"
	})
	call(t, s, alice, "POST", "/agent/wrap", `{"code":"SALE"}`, nil)
	s.Engine.Flush(context.Background())
	ctitest.Eventually(t, 15*time.Second, "recording stored", func() bool {
		var n int64
		s.DB.Raw(`SELECT count(*) FROM recordings WHERE state NOT IN ('recording','starting')`).Scan(&n)
		return n == 1
	})
	var offset int64
	s.DB.Raw(`SELECT offset_ms FROM bookmarks`).Scan(&offset)

	ctx := browser(t)
	signIn(t, ctx, s.base+"/review/", "rita")
	waitJS(t, ctx, "the call in the results", `document.querySelector('#results').textContent.includes('+447700900123')`)
	shot(t, ctx, "review-search-320")
	run(t, ctx, "open the call", chromedp.Click(chromedp.CSS(`#results li button`)))
	waitJS(t, ctx, "detail", visible("#detail"))
	waitJS(t, ctx, "audio loaded", `(a => a && a.readyState >= 1 && a.duration > 0)(document.querySelector('#detail audio'))`)
	waitJS(t, ctx, "bookmark marker", `document.querySelector('.timeline .mark.bookmark')`)
	run(t, ctx, "click the bookmark", chromedp.Click(chromedp.CSS(`.timeline .mark.bookmark`)))
	waitJS(t, ctx, "seeked to the bookmark", fmt.Sprintf(`Math.abs(document.querySelector('#detail audio').currentTime * 1000 - %d) < 400`, offset))
	got := eval[float64](t, ctx, `document.querySelector('#detail audio').currentTime`)
	t.Logf("bookmark at %d ms; player at %.3f s after the click", offset, got)
	if !strings.Contains(text(t, ctx, "#detail"), "customer asks for a refund") {
		t.Errorf("the bookmark's note is not in the detail")
	}
	shot(t, ctx, "review-detail-320")
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 320 {
		t.Errorf("the review page is %d px wide at 320 px", w)
	}
	// Reports tab: today's figures for the campaign.
	run(t, ctx, "reports", chromedp.Navigate(s.base+"/review/#reports"))
	waitJS(t, ctx, "reports form", visible("#repForm"))
	run(t, ctx, "campaign report", chromedp.SetValue(chromedp.CSS(`#rKind`), "campaigns"), chromedp.Click(chromedp.CSS(`#repForm button[type=submit]`)))
	waitJS(t, ctx, "report table", `document.querySelector('#repOut table') && document.querySelector('#repOut').textContent.includes('Sales')`)
	shot(t, ctx, "review-reports-320")
}
