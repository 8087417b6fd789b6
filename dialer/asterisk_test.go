package dialer_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/dialer"
	"github.com/ctid/ctid/dialer/pacing"
)

// The acceptance against a real Asterisk 22 loaded with
// asterisk-conf/: agents' phones and customers are Local channels into
// [test-answer] (answers at once and stays up). Run with
//
//	ASTERISK_BIN=/opt/asterisk22/sbin/asterisk CTID_REQUIRE_ASTERISK=1 go test -run Asterisk -v ./dialer/
//
// Skipped, saying so, without an Asterisk.

// asteriskStack is startStack on a real Asterisk: the CTI core with an
// outbound campaign, two agents logged in with persistent legs and Ready,
// the leads, and a started worker.
func asteriskStack(t *testing.T, settings string, pacer pacing.Pacer, phones ...[]string) *stack {
	tg := aritest.AsteriskTarget(t)
	bg := context.Background()
	var worker atomic.Pointer[dialer.Worker]
	s := &stack{leads: map[int64][]string{}}
	s.Stack = ctitest.StartSeeded(t, ctitest.Options{Target: &tg, Tune: func(o *cti.Options) {
		o.AgentEndpoint = func(n string) string { return "Local/" + n + "@test-answer" }
		o.TrunkEndpoint = func(n string) string { return "Local/" + strings.TrimPrefix(n, "+") + "@test-answer" }
		o.Outcome = func(x cti.AttemptOutcome) {
			if w := worker.Load(); w != nil {
				w.Outcome(x)
			}
		}
	}}, func(db *gorm.DB) {
		s.alice = ctitest.Agent(t, db, "alice", "1001")
		s.bob = ctitest.Agent(t, db, "bob", "1002")
		s.camp = ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Outbound", Kind: "outbound", Platform: "+441632960000",
			Agents: []int64{s.alice, s.bob}, Codes: []string{"SALE"}})
		if err := db.Exec(`UPDATE campaigns SET settings = ?::jsonb WHERE id = ?`, `{"dialer":`+settings+`}`, s.camp).Error; err != nil {
			t.Fatal(err)
		}
		var list int64
		db.Raw(`INSERT INTO dialer_lead_lists (campaign_id, name) VALUES (?, 'L') RETURNING id`, s.camp).Scan(&list)
		for _, p := range phones {
			q := append(append([]string(nil), p...), "", "", "")
			var id int64
			db.Raw(`INSERT INTO dialer_leads (list_id, campaign_id, name, phone1, phone2, phone3, primary_phone, time_zone)
				VALUES (?, ?, ?, ?, ?, ?, ?, 'Europe/London') RETURNING id`, list, s.camp, "Lead "+p[0], q[0], q[1], q[2], p[0]).Scan(&id)
			s.leads[id] = p
		}
	})
	cfg := dialer.Config{DB: s.DB, Engine: s.Engine, Logger: quiet(), TickSpec: "@every 1h"}
	if pacer != nil {
		cfg.NewPacer = func(int64, dialer.Settings) pacing.Pacer { return pacer }
	}
	w, err := dialer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.w = w
	worker.Store(w)
	if err := w.Start(bg); err != nil { // outcome loop; ticks are driven by the test
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	for _, a := range []struct {
		id  int64
		ext string
	}{{s.alice, "1001"}, {s.bob, "1002"}} {
		if _, err := s.Engine.Login(bg, a.id); err != nil {
			t.Fatal(err)
		}
		if err := s.Engine.Connect(bg, a.id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: a.ext, Persistent: true}); err != nil {
			t.Fatal(err)
		}
		s.WaitState(t, a.id, cti.AgentPaused, 10*time.Second)
		if err := s.Engine.SetReady(bg, a.id); err != nil {
			t.Fatal(err)
		}
	}
	ctitest.Eventually(t, 5*time.Second, "two persistent agents ready", func() bool {
		l, _ := s.Engine.CampaignLoad(bg, s.camp)
		return l.ReadyPersistent == 2
	})
	return s
}

// playProbe is a second ARI application that subscribes to every channel
// it sees (polling the channel list) and records what each one is played.
type playProbe struct {
	mu     sync.Mutex
	played map[string][]string // channel id → media URIs started
	subbed map[string]bool
}

func startProbe(t *testing.T, st *ctitest.Stack) *playProbe {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	probe, err := ari.New(ari.Config{URL: st.ARIURL, Username: st.ARIUser, Password: st.ARIPassword, App: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	go probe.Run(ctx)
	ctitest.Eventually(t, 5*time.Second, "probe connected", probe.Connected)
	p := &playProbe{played: map[string][]string{}, subbed: map[string]bool{}}
	go func() {
		for ev := range probe.Events() {
			if ps, ok := ev.(*ari.PlaybackStarted); ok {
				if ch, ok := strings.CutPrefix(ps.Playback.TargetURI, "channel:"); ok {
					p.mu.Lock()
					p.played[ch] = append(p.played[ch], ps.Playback.MediaURI)
					p.mu.Unlock()
				}
			}
		}
	}()
	sub := func() {
		chans, err := st.ARI.Channels.List(ctx)
		if err != nil {
			return
		}
		for _, c := range chans {
			p.mu.Lock()
			done := p.subbed[c.ID]
			p.subbed[c.ID] = true
			p.mu.Unlock()
			if !done {
				probe.Applications.Subscribe(ctx, "probe", "channel:"+c.ID)
			}
		}
	}
	sub()
	go func() {
		for ctx.Err() == nil {
			sub()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return p
}

func (p *playProbe) snapshot() map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]string{}
	for k, v := range p.played {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// TestAsteriskPreviewAutoDialFirstOfThreeNumbers: a preview campaign offers
// a lead with three numbers to a Ready agent; nobody clicks, so when the
// auto-preview timeout runs out the first number is dialled through
// Asterisk, answered in [test-answer], and connected to the agent.
func TestAsteriskPreviewAutoDialFirstOfThreeNumbers(t *testing.T) {
	bg := context.Background()
	phones := []string{"+442079460301", "+442079460302", "+442079460303"}
	s := asteriskStack(t, `{"mode":"preview","previewTimeoutSeconds":5,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, nil, phones)
	// Offers go to the longest-idle Ready agent: watch both.
	wa, wb := s.WatchAgent(t, s.alice), s.WatchAgent(t, s.bob)
	start := time.Now()
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	var agent int64
	var watch *ctitest.Watch
	deadline := time.Now().Add(5 * time.Second)
	for agent == 0 && time.Now().Before(deadline) {
		for _, c := range []struct {
			id int64
			w  *ctitest.Watch
		}{{s.alice, wa}, {s.bob, wb}} {
			snap, _ := s.Engine.Snapshot(bg, c.id)
			if snap.Preview != nil {
				agent, watch = c.id, c.w
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if agent == 0 {
		t.Fatal("no preview offered")
	}
	offered := watch.Next("preview.offered", 2*time.Second)
	for _, p := range phones {
		if !strings.Contains(string(offered.Data), p) {
			t.Fatalf("offer without %s: %s", p, offered.Data)
		}
	}
	watch.Next("preview.autodial", 10*time.Second)
	if waited := time.Since(start); waited < 5*time.Second {
		t.Errorf("auto-dialled after %v, before the 5 s timeout", waited)
	}
	var info cti.CallInfo
	if err := json.Unmarshal(watch.Next("call.connected", 10*time.Second).Data, &info); err != nil {
		t.Fatal(err)
	}
	if info.CustomerNumber != phones[0] || info.Direction != "OUT" {
		t.Errorf("connected call %+v", info)
	}
	// The customer leg is a real Asterisk channel (Local/…@test-answer), up.
	chans, _ := s.ARI.Channels.List(bg)
	up := 0
	for _, c := range chans {
		if strings.HasPrefix(c.Name, "Local/"+strings.TrimPrefix(phones[0], "+")+"@test-answer") && c.State == "Up" {
			up++
		}
	}
	if up == 0 {
		t.Errorf("no Up Local channel to %s among %d channels", phones[0], len(chans))
	}
	if err := s.Engine.Hangup(bg, agent); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Number, Outcome string
		AgentID         int64
	}
	ctitest.Eventually(t, 10*time.Second, "answered attempt", func() bool {
		s.DB.Raw(`SELECT number, outcome, COALESCE(agent_id, 0) AS agent_id FROM dialer_attempts`).Scan(&got)
		return got.Outcome == "answered"
	})
	if got.Number != phones[0] || got.AgentID != agent {
		t.Errorf("attempt %+v", got)
	}
	var status string
	s.DB.Raw(`SELECT status FROM dialer_leads`).Scan(&status)
	if status != "done" {
		t.Errorf("lead %s", status)
	}
	t.Logf("preview offered, auto-dialled %s after %v, answered by Asterisk and connected to agent %d", phones[0], time.Since(start).Round(time.Millisecond), agent)
}

// TestAsteriskPredictiveBeepAndAbandon: a predictive campaign with two
// persistent agents over-dials three contacts (a fixed 1.5 dial level);
// Asterisk answers all three; two reach an agent whose leg plays a beep,
// the third has no agent within 2 s, is played the abandon message and is
// counted as abandoned in dialer_attempts.
func TestAsteriskPredictiveBeepAndAbandon(t *testing.T) {
	bg := context.Background()
	s := asteriskStack(t, `{"mode":"predictive","abandonMessage":"sound:all-circuits-busy-now","ringSeconds":20,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, pacing.FixedRatio{Ratio: 1.5},
		[]string{"+442079460201"}, []string{"+442079460202"}, []string{"+442079460203"})
	// The agents' legs exist now: remember them, then watch everything.
	agentLegs := map[string]bool{}
	chans, _ := s.ARI.Channels.List(bg)
	for _, c := range chans {
		agentLegs[c.ID] = true
	}
	probe := startProbe(t, s.Stack)

	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	dec, _ := s.w.LastDecision(s.camp)
	if dec.Dialled != 3 || dec.Snapshot.Ready != 2 {
		t.Fatalf("decision %+v", dec)
	}
	type row struct {
		Number  string
		Outcome string
		AgentID *int64
	}
	var rows []row
	ctitest.Eventually(t, 20*time.Second, "three outcomes", func() bool {
		rows = nil
		s.DB.Raw(`SELECT number, outcome, agent_id FROM dialer_attempts WHERE outcome <> '' ORDER BY id`).Scan(&rows)
		return len(rows) == 3
	})
	answered, abandoned := 0, ""
	agents := map[int64]bool{}
	for _, r := range rows {
		switch r.Outcome {
		case "answered":
			answered++
			if r.AgentID != nil {
				agents[*r.AgentID] = true
			}
		case "abandoned":
			abandoned = r.Number
		}
	}
	if answered != 2 || abandoned == "" || !agents[s.alice] || !agents[s.bob] {
		t.Fatalf("attempts %+v", rows)
	}
	var beeps, abandonPlays int
	var abandonedOn string
	ctitest.Eventually(t, 5*time.Second, "two beeps and the abandon message", func() bool {
		beeps, abandonPlays = 0, 0
		for ch, media := range probe.snapshot() {
			joined := strings.Join(media, ",")
			if agentLegs[ch] && joined == "sound:beep" {
				beeps++
			}
			if !agentLegs[ch] && strings.Contains(joined, "sound:all-circuits-busy-now") {
				abandonPlays++
				abandonedOn = ch
			}
		}
		return beeps == 2 && abandonPlays == 1
	})
	if beeps != 2 || abandonPlays != 1 {
		t.Errorf("beeps on agent legs %d (want 2), abandon messages %d (want 1): %v", beeps, abandonPlays, probe.snapshot())
	}
	// Nothing else was played to the agents or the contacts.
	for ch, media := range probe.snapshot() {
		if agentLegs[ch] && strings.Join(media, ",") != "sound:beep" {
			t.Errorf("agent leg %s played %v", ch, media)
		}
	}
	var statuses []string
	s.DB.Raw(`SELECT status FROM dialer_leads ORDER BY status`).Scan(&statuses)
	if strings.Join(statuses, ",") != "done,done,retry" {
		t.Errorf("lead statuses %v", statuses)
	}
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	dec, _ = s.w.LastDecision(s.camp)
	if dec.Snapshot.Day.Answered != 3 || dec.Snapshot.Day.Abandoned != 1 {
		t.Errorf("decision after the calls %+v", dec.Snapshot)
	}
	t.Logf("attempts %d answered + abandoned %s (message on channel %s); beeps on %d agent legs", answered, abandoned, abandonedOn, beeps)
}

// TestAsteriskRequestCallbackDialplan: asterisk-conf's [workflows]
// request-callback-http step (POST /api/v1/dialplan/callback through
// CURL()) loads into a real Asterisk. Whether it can run depends on
// func_curl being built; the HTTP side is covered by api's
// TestDialplanCallback with the form body CURL() sends.
func TestAsteriskRequestCallbackDialplan(t *testing.T) {
	tg := aritest.AsteriskTarget(t)
	out, err := tg.Asterisk.CLI("dialplan show request-callback-http@workflows")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"CURLOPT(httpheader)=X-Ctid-Dialplan-Secret: ${CTI_DIALPLAN_SECRET}",
		"/api/v1/dialplan/callback,campaign=", "REGEX(\"status...pending\"", "[booked]", "[declined]"} {
		if !strings.Contains(out, want) {
			t.Errorf("dialplan lacks %q:\n%s", want, out)
		}
	}
	fn, _ := tg.Asterisk.CLI("core show function CURL")
	t.Logf("func_curl loaded: %v", strings.Contains(fn, "Retrieve content from a URL"))
}
