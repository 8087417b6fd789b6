package dialer_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/dialer"
	"github.com/ctid/ctid/dialer/pacing"
)

// TestPredictiveCampaignThroughEngine runs the worker against the whole CTI
// core with the ARI double: a predictive campaign with two persistent
// agents over-dials three answering contacts (a fixed 1.5 dial level); two
// reach an agent who hears a beep, the third has no agent within 2 s,
// hears the campaign's abandon message and is counted as abandoned.
type stack struct {
	*ctitest.Stack
	w          *dialer.Worker
	camp       int64
	alice, bob int64
	leads      map[int64][]string
}

// startStack brings up the CTI core with a campaign (dialer settings JSON),
// two agents logged in with persistent legs and Ready, leads with the
// given phones, and a started worker (ticks are driven by the test).
func startStack(t *testing.T, settings string, pacer pacing.Pacer, phones ...[]string) *stack {
	return startStackOn(t, nil, settings, pacer, phones...)
}

// startStackOn is startStack with the CTI core on a fake clock (fc, if not
// nil): the agents' phones then answer at once, so no timer needs advancing.
func startStackOn(t *testing.T, fc *aritest.FakeClock, settings string, pacer pacing.Pacer, phones ...[]string) *stack {
	bg := context.Background()
	var worker atomic.Pointer[dialer.Worker]
	s := &stack{leads: map[int64][]string{}}
	s.Stack = ctitest.StartSeeded(t, ctitest.Options{FakeClock: fc, Tune: func(o *cti.Options) {
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
		exec := func(sql string, args ...any) {
			if err := db.Exec(sql, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec(`UPDATE campaigns SET settings = ?::jsonb WHERE id = ?`, `{"dialer":`+settings+`}`, s.camp)
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
	cfg := dialer.Config{DB: s.DB, Engine: s.Engine, Logger: quiet()}
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
		answer := aritest.Behavior{AnswerAfter: 10 * time.Millisecond}
		if fc != nil {
			answer = aritest.Behavior{}
		}
		s.Double.Script("PJSIP/"+a.ext, answer)
		if _, err := s.Engine.Login(bg, a.id); err != nil {
			t.Fatal(err)
		}
		if err := s.Engine.Connect(bg, a.id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: a.ext, Persistent: true}); err != nil {
			t.Fatal(err)
		}
		s.WaitState(t, a.id, cti.AgentPaused, 5*time.Second)
		if err := s.Engine.SetReady(bg, a.id); err != nil {
			t.Fatal(err)
		}
	}
	ctitest.Eventually(t, 15*time.Second, "two persistent agents ready", func() bool {
		l, _ := s.Engine.CampaignLoad(bg, s.camp)
		return l.ReadyPersistent == 2
	})
	return s
}

func TestPredictiveCampaignThroughEngine(t *testing.T) {
	bg := context.Background()
	s := startStack(t, `{"mode":"predictive","abandonMessage":"sound:sorry-all-busy","ringSeconds":20,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, pacing.FixedRatio{Ratio: 1.5},
		[]string{"+442079460201"}, []string{"+442079460202"}, []string{"+442079460203"})
	f, w, camp, alice, bob := s.Stack, s.w, s.camp, s.alice, s.bob
	f.Double.Script("PJSIP/+44*@trunk", aritest.Behavior{AnswerAfter: 50 * time.Millisecond})

	if err := w.TickCampaign(bg, camp); err != nil {
		t.Fatal(err)
	}
	dec, _ := w.LastDecision(camp)
	if dec.Dialled != 3 || dec.Snapshot.Ready != 2 {
		t.Fatalf("decision %+v", dec)
	}
	type row struct {
		LeadID  int64
		Number  string
		Outcome string
		AgentID *int64
	}
	var rows []row
	ctitest.Eventually(t, 6*time.Second, "three outcomes", func() bool {
		rows = nil
		f.DB.Raw(`SELECT lead_id, number, outcome, agent_id FROM dialer_attempts WHERE outcome <> '' ORDER BY id`).Scan(&rows)
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
	if answered != 2 || abandoned == "" || !agents[alice] || !agents[bob] {
		t.Fatalf("attempts %+v", rows)
	}
	// Each agent heard one beep on their own leg.
	beeps := 0
	for _, ch := range f.Double.Channels() {
		if len(ch.Args) > 0 && ch.Args[0] == "agentleg" && strings.Join(f.Double.Played(ch.ID), ",") == "sound:beep" {
			beeps++
		}
	}
	if beeps != 2 {
		t.Errorf("%d agent legs heard a beep", beeps)
	}
	// The abandoned contact heard the campaign's message.
	played := false
	for _, ch := range f.Double.Channels() {
		if strings.HasPrefix(ch.ID, "pd-dialer-") && strings.Join(f.Double.Played(ch.ID), ",") == "sound:sorry-all-busy" {
			played = true
		}
	}
	if !played {
		var ids []string
		for _, ch := range f.Double.Channels() {
			ids = append(ids, ch.ID+"="+strings.Join(f.Double.Played(ch.ID), ","))
		}
		t.Errorf("no abandon message played: %v", ids)
	}
	// Leads: answered ones done, the abandoned one retried in 72 h; the next
	// decision counts the abandon against the cap.
	var statuses []string
	f.DB.Raw(`SELECT status FROM dialer_leads ORDER BY status`).Scan(&statuses)
	if strings.Join(statuses, ",") != "done,done,retry" {
		t.Errorf("lead statuses %v", statuses)
	}
	if err := w.TickCampaign(bg, camp); err != nil {
		t.Fatal(err)
	}
	dec, _ = w.LastDecision(camp)
	if dec.Snapshot.Day.Answered != 3 || dec.Snapshot.Day.Abandoned != 1 || len(dec.Snapshot.Busy) != 2 {
		t.Errorf("decision after the calls %+v", dec.Snapshot)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestPreviewAutoDialThroughEngine: a preview campaign offers a lead with
// three numbers to the longest-idle Ready agent; nobody clicks, so exactly
// at the campaign's preview timeout (fake clock: not a millisecond before)
// the engine dials the first number, and the answered outcome closes the
// lead.
func TestPreviewAutoDialThroughEngine(t *testing.T) {
	bg := context.Background()
	phones := []string{"+442079460301", "+442079460302", "+442079460303"}
	fc := aritest.NewFakeClock(time.Now())
	s := startStackOn(t, fc, `{"mode":"preview","previewTimeoutSeconds":5,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, nil, phones)
	s.Double.Script("PJSIP/+44*@trunk", aritest.Behavior{}) // answers at once
	watch := s.WatchAgent(t, s.alice)
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	offered := watch.Next("preview.offered", 15*time.Second)
	for _, p := range phones {
		if !strings.Contains(string(offered.Data), p) {
			t.Fatalf("offer without %s: %s", p, offered.Data)
		}
	}
	// Bob is Ready too but the only lead is taken: nothing for him.
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	fc.Advance(5*time.Second - time.Millisecond)
	if snap, _ := s.Engine.Snapshot(bg, s.alice); snap.Call != nil || snap.State.State != cti.AgentReserved {
		t.Fatalf("a millisecond before the preview timeout: %s, call %+v; want the offer still open", snap.State.State, snap.Call)
	}
	fc.Advance(time.Millisecond)
	watch.Next("preview.autodial", 15*time.Second)
	watch.Next("call.connected", 15*time.Second)
	// The engine reports a preview call's outcome when it ends.
	if err := s.Engine.Hangup(bg, s.alice); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Number, Outcome string
		AgentID         int64
	}
	ctitest.Eventually(t, 15*time.Second, "answered attempt", func() bool {
		s.DB.Raw(`SELECT number, outcome, COALESCE(agent_id, 0) AS agent_id FROM dialer_attempts`).Scan(&got)
		return got.Outcome == "answered"
	})
	if got.Number != phones[0] || got.AgentID != s.alice {
		t.Errorf("attempt %+v", got)
	}
	var status string
	s.DB.Raw(`SELECT status FROM dialer_leads`).Scan(&status)
	if status != "done" {
		t.Errorf("lead %s", status)
	}
}
