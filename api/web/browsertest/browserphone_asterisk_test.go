package browsertest

// The browser softphone on a real Asterisk (issue 12): headless chromium
// with a fake microphone is alice's phone. She chooses "Browser phone" in
// the adaptor; the page registers phone 2701 (from ctid's Postgres, read by
// Asterisk's realtime) over SIP-over-WebSocket with the secret ctid hands
// out, ctid calls it and the page answers its own connection call; a SIP
// customer on the trunk calls the campaign's DID sending a tone: the
// browser's WebRTC statistics show the customer's audio arriving, the
// customer's phone hears the browser's microphone (and silence while the
// agent turns it off), all within the test's own network namespace. The
// customer hangs up: wrap, the line stays. Then without a kept line the
// page rings for the next call, the agent answers in the page, and both
// hear each other again.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
	"github.com/ctid/ctid/cti/ctitest/testenv"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

const bpDID = "5550100" // asterisk-conf's test DID

// netnsAddr is the address of the network namespace the test runs in.
const netnsAddr = "10.254.0.1"

// runInOwnNetns runs the calling test again in a network namespace of its
// own and reports whether it did (the caller then returns). WebRTC gathers
// every interface address of the machine, and Asterisk never offers
// 127.0.0.1 (it skips loopback interfaces), so on the machine's network a
// browser phone's media would use its real address. In the namespace the
// only interfaces are lo and a veth pair with netnsAddr: every address the
// browser, Asterisk, ctid and Postgres (a fresh test cluster) use is the
// test's own. Needs root (CI runs as root) and unshare(1).
func runInOwnNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv("CTID_TEST_NETNS") == "1" {
		return false // the child: run the test here
	}
	if os.Geteuid() != 0 {
		if os.Getenv(aritest.EnvRequireAsterisk) == "1" {
			t.Fatal("the browser phone test needs root for its network namespace")
		}
		t.Skip("skipped: the browser phone test needs root for its network namespace (unshare --net)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := `ip link set lo up && ip link add ctid0 type veth peer name ctid1 && ip addr add ` + netnsAddr + `/24 dev ctid0 &&
		ip link set ctid0 up && ip link set ctid1 up && exec "$0" "$@"`
	cmd := exec.Command("unshare", "--net", "sh", "-c", script, exe,
		"-test.run", "^"+t.Name()+"$", "-test.count", "1", "-test.v", "-test.timeout", "10m")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CTID_TEST_DSN=") { // the outer database is not reachable in there
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "CTID_TEST_NETNS=1")
	out, err := cmd.CombinedOutput()
	passed := strings.Contains(string(out), "--- PASS: "+t.Name())
	if err != nil || !passed {
		t.Fatalf("in its network namespace: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "    ") { // the child's own log lines
			t.Log(strings.TrimSpace(l))
		}
	}
	return true
}

func TestAsteriskBrowserPhone(t *testing.T) {
	if _, err := testenv.Chromium(); err != nil {
		t.Skip(err)
	}
	if runInOwnNetns(t) {
		return
	}
	var ast *aritest.Asterisk
	var alice int64
	st := ctitest.StartSeeded(t, ctitest.Options{OfferTimeout: 30 * time.Second,
		TargetFor: func(db *gorm.DB) *aritest.Target {
			rt, err := aritest.ParseRealtimeDSN(pgtest.DSNOfDB(t, db))
			if err != nil {
				t.Fatal(err)
			}
			ast = aritest.StartAsteriskWith(t, aritest.AsteriskOptions{Realtime: &rt})
			tg := aritest.TargetOf(ast)
			return &tg
		}}, func(db *gorm.DB) {
		ctx := context.Background()
		adm := postgres.NewAdmin(db)
		acc, err := adm.CreateUser(ctx, postgres.NewUser{Username: "alice", Password: agentPassword, DisplayName: "Alice Agent", Role: cti.RoleAgent})
		if err != nil {
			t.Fatal(err)
		}
		alice = acc.ID
		ext, kind := "2701", postgres.PhoneBrowser
		if _, _, err := adm.CreatePhone(ctx, postgres.PhoneInput{Extension: &ext, Kind: &kind, UserID: &alice}); err != nil {
			t.Fatal(err)
		}
		ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Real", DID: bpDID, Platform: "+442071234567",
			Agents: []int64{alice}, Codes: []string{"DONE"}})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Options{Engine: st.Engine, DB: st.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Desk: api.DeskOptions{SIPWebsocketURL: fmt.Sprintf("ws://127.0.0.1:%d/ws", ast.HTTPPort)}})
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	carrier := sipphone.NewCarrier(t, ast, sipphone.WithTone(600))

	// Chromium's fake microphone (a periodic beep) and a fake permission
	// prompt; loopback ICE candidates allowed (the tests' Asterisk offers
	// only 127.0.0.1); audio plays without a click.
	ctx := browserWith(t, chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true), chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	consoleErrs := watchConsole(t, ctx)
	run(t, ctx, "viewport", chromedp.EmulateViewport(320, 760))
	openPage(t, ctx, "http://"+ln.Addr().String()+"/adaptor/", "lgUser", consoleErrs)
	run(t, ctx, "login", chromedp.SendKeys(chromedp.ID("lgUser"), "alice"), chromedp.SendKeys(chromedp.ID("lgPass"), agentPassword), chromedp.Click(chromedp.ID("lgBtn")))
	waitJS(t, ctx, "connect screen", visible("#cnBtn"))
	choose(t, ctx, `input[name=mode][value=browser]`)
	waitJS(t, ctx, "no number to type", `!`+visible("#cnNum")+` && document.getElementById('cnPersist').checked`)
	click(t, ctx, "cnBtn")
	// ctid calls the browser phone; the page answers its connection call.
	waitJS(t, ctx, "connected, paused", visible("#dialer")+` && document.body.className==='st-paused' && `+visible("#bphone"))
	waitJS(t, ctx, "line up", `document.getElementById('bpState').textContent.includes('connected')`)
	shot(t, ctx, "browserphone-connected")
	fits(t, ctx, "browser phone connected")
	// A reload: the page hangs up its line as it goes, registers again and
	// ctid's new connection call is answered: connected again.
	run(t, ctx, "reload", chromedp.Reload())
	waitJS(t, ctx, "connected again after the reload", visible("#dialer")+` && document.body.className==='st-paused' && document.getElementById('bpState').textContent.includes('connected')`)
	run(t, ctx, "ready", chromedp.SetValue(chromedp.ID("status"), "ready"))
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)

	// The customer calls; the call comes down the kept line.
	energy := func() float64 {
		return eval[float64](t, ctx, `(window.ctidBrowserPhone && window.ctidBrowserPhone.energy) || 0`)
	}
	e0 := energy()
	cust, err := carrier.Call(context.Background(), bpDID, "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "on call", visible("#controls")+` && document.body.className==='st-on_call'`)
	hearsCustomer := func(from float64) {
		t.Helper()
		// totalAudioEnergy grows with what the browser plays out; a tone at
		// audioLevel ~0.1 adds ~0.01 a second, silence nothing.
		waitJS(t, ctx, "the browser hears the customer", fmt.Sprintf(`window.ctidBrowserPhone && window.ctidBrowserPhone.energy - %f > 0.005 && window.ctidBrowserPhone.level > 0.01`, from))
	}
	hearsCustomer(e0)
	l := cust.WaitLevel("the browser's microphone", 20*time.Second, func(l sipphone.Level) bool { return !l.Silent() })
	t.Logf("the customer hears the browser: %v; browser stats %v", l, eval[map[string]any](t, ctx, `window.ctidBrowserPhone`))
	pair := eval[string](t, ctx, `window.ctidBrowserPhone.pair`)
	local, remote, _ := strings.Cut(pair, ">")
	if own := map[string]bool{"127.0.0.1": true, netnsAddr: true, "?": true}; !own[local] || !own[remote] {
		t.Fatalf("WebRTC media ran over %q, not the test's own addresses", pair)
	}
	// The microphone button: the customer hears silence, then the browser again.
	click(t, ctx, "bpMute")
	waitJS(t, ctx, "muted", `document.getElementById('bpMute').getAttribute('aria-pressed')==='true' && document.getElementById('bpState').textContent.includes('microphone is off')`)
	cust.WaitSilence(15 * time.Second)
	shot(t, ctx, "browserphone-on-call-muted")
	click(t, ctx, "bpMute")
	cust.WaitLevel("the browser's microphone again", 15*time.Second, func(l sipphone.Level) bool { return !l.Silent() })
	shot(t, ctx, "browserphone-on-call")
	if err := cust.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "wrap", visible("#wrap")+` && document.body.className==='st-on_wrap'`)
	// The kept line stays up through the wrap.
	waitJS(t, ctx, "line still up", `document.getElementById('bpState').textContent.includes('connected')`)
	click(t, ctx, "wrReady")
	waitJS(t, ctx, "ready again", `document.body.className==='st-ready'`)

	// Without a kept line: log the agent out of the queue (the kept line
	// hangs up), connect again with the box unticked; the next call rings
	// in the page and is answered there.
	if err := st.Engine.Logout(context.Background(), alice, ""); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "connect screen again", visible("#cnBtn")+` && document.querySelector('input[name=mode][value=browser]').checked && !`+visible("#bpMute"))
	run(t, ctx, "untick keep", ev(`document.getElementById('cnPersist').click()`))
	waitJS(t, ctx, "unticked", `!document.getElementById('cnPersist').checked`)
	click(t, ctx, "cnBtn")
	waitJS(t, ctx, "connected without a line", visible("#dialer")+` && document.body.className==='st-paused' && document.getElementById('bpState').textContent.includes('is ready')`)
	run(t, ctx, "ready", chromedp.SetValue(chromedp.ID("status"), "ready"))
	waitJS(t, ctx, "ready", `document.body.className==='st-ready'`)
	e1 := energy()
	cust2, err := carrier.Call(context.Background(), bpDID, "+447700900456")
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the page rings", visible("#bpAnswer")+` && document.getElementById('bpState').textContent.includes('ringing')`)
	shot(t, ctx, "browserphone-ringing")
	fits(t, ctx, "browser phone ringing")
	click(t, ctx, "bpAnswer")
	waitJS(t, ctx, "on call", visible("#controls")+` && document.body.className==='st-on_call' && !`+visible("#bpAnswer"))
	hearsCustomer(e1)
	cust2.WaitLevel("the browser's microphone", 20*time.Second, func(l sipphone.Level) bool { return !l.Silent() })
	if err := cust2.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "wrap", visible("#wrap")+` && document.body.className==='st-on_wrap' && `+visible("#bphone")+` && !`+visible("#bpMute"))
	if errs := consoleErrs(); len(errs) > 0 {
		t.Fatalf("console errors: %v", errs)
	}
}
