package dialer_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
	"github.com/ctid/ctid/dialer"
	"github.com/ctid/ctid/dialer/pacing"
)

// Real Asterisk with people on SIP: the agents' desk phones register as
// 1001/1002 (cti/ctitest/sipphone) and the contacts are the kit's carrier
// behind the PJSIP trunk, so what each one hears is measured from the
// audio. Tones: contacts talk at 600 Hz, alice's phone 1000 Hz.
const (
	hzContact = 600
	hzAlice   = 1000
)

type sipStack struct {
	*stack
	ast     *aritest.Asterisk
	alice   *sipphone.Phone
	leg     *sipphone.Call // alice's nailed-up leg
	carrier *sipphone.Carrier
}

// newSIPStack is asteriskStack with one agent (alice) on a registered
// phone with a persistent leg, Ready, and the carrier on the trunk.
func newSIPStack(t *testing.T, settings string, pacer pacing.Pacer, phones ...[]string) *sipStack {
	tg := aritest.AsteriskTarget(t)
	bg := context.Background()
	var worker atomic.Pointer[dialer.Worker]
	s := &sipStack{stack: &stack{leads: map[int64][]string{}}, ast: tg.Asterisk}
	s.Stack = ctitest.StartSeeded(t, ctitest.Options{Target: &tg, Tune: func(o *cti.Options) {
		o.Outcome = func(x cti.AttemptOutcome) {
			if w := worker.Load(); w != nil {
				w.Outcome(x)
			}
		}
	}}, func(db *gorm.DB) {
		s.stack.alice = ctitest.Agent(t, db, "alice", "1001")
		s.camp = ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Outbound", Kind: "outbound", Platform: "+441632960000",
			Agents: []int64{s.stack.alice}, Codes: []string{"SALE"}})
		if err := db.Exec(`UPDATE campaigns SET settings = ?::jsonb WHERE id = ?`, `{"dialer":`+settings+`}`, s.camp).Error; err != nil {
			t.Fatal(err)
		}
		var list int64
		db.Raw(`INSERT INTO dialer_lead_lists (campaign_id, name) VALUES (?, 'L') RETURNING id`, s.camp).Scan(&list)
		for _, p := range phones {
			var id int64
			db.Raw(`INSERT INTO dialer_leads (list_id, campaign_id, name, phone1, primary_phone, time_zone)
				VALUES (?, ?, ?, ?, ?, 'Europe/London') RETURNING id`, list, s.camp, "Lead "+p[0], p[0], p[0]).Scan(&id)
			s.leads[id] = p
		}
	})
	cfg := dialer.Config{DB: s.DB, Engine: s.Engine, Logger: quiet(), TickSpec: "@every 1h", MinuteSpec: "@every 1h"}
	if pacer != nil {
		cfg.NewPacer = func(int64, dialer.Settings) pacing.Pacer { return pacer }
	}
	w, err := dialer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.w = w
	worker.Store(w)
	if err := w.Start(bg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	s.alice = sipphone.NewPhone(t, s.ast, "1001", sipphone.WithTone(hzAlice))
	s.carrier = sipphone.NewCarrier(t, s.ast)
	if _, err := s.Engine.Login(bg, s.stack.alice); err != nil {
		t.Fatal(err)
	}
	if err := s.Engine.Connect(bg, s.stack.alice, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1001", Persistent: true}); err != nil {
		t.Fatal(err)
	}
	s.leg = s.alice.NextCall(15 * time.Second)
	s.leg.WaitAnswered(15 * time.Second)
	s.WaitState(t, s.stack.alice, cti.AgentPaused, 15*time.Second)
	if err := s.Engine.SetReady(bg, s.stack.alice); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 10*time.Second, "alice ready on her persistent leg", func() bool {
		l, _ := s.Engine.CampaignLoad(bg, s.camp)
		return l.ReadyPersistent == 1
	})
	return s
}

// TestAsteriskSIPPredictiveBeepAndAbandonMessage: one agent on a
// registered phone, a fixed 2.0 dial level: two contacts answer at the
// carrier. The first reaches alice, who hears the beep and then the
// contact; the second has no agent within 2 s and hears the campaign's
// abandon message (a prompt: broadband sound), then the call ends, counted
// abandoned.
func TestAsteriskSIPPredictiveBeepAndAbandonMessage(t *testing.T) {
	bg := context.Background()
	s := newSIPStack(t, `{"mode":"predictive","abandonMessage":"sound:all-circuits-busy-now","ringSeconds":20,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, pacing.FixedRatio{Ratio: 2},
		[]string{"+442079460201"}, []string{"+442079460202"})
	start := time.Now()
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	if dec, _ := s.w.LastDecision(s.camp); dec.Dialled != 2 {
		t.Fatalf("decision %+v", dec)
	}
	// The contacts answer silently: what alice hears first is ctid's beep.
	calls := []*sipphone.Call{s.carrier.NextCall(15 * time.Second), s.carrier.NextCall(15 * time.Second)}
	for _, c := range calls {
		c.WaitAnswered(15 * time.Second)
	}
	type row struct{ Number, Outcome string }
	var rows []row
	ctitest.Eventually(t, 20*time.Second, "two outcomes", func() bool {
		rows = nil
		s.DB.Raw(`SELECT number, outcome FROM dialer_attempts WHERE outcome <> '' ORDER BY id`).Scan(&rows)
		return len(rows) == 2
	})
	var served, dropped *sipphone.Call
	for _, r := range rows {
		for _, c := range calls {
			if strings.HasSuffix(r.Number, strings.TrimPrefix(c.Dialled, "+")) || c.Dialled == r.Number {
				if r.Outcome == "answered" {
					served = c
				} else if r.Outcome == "abandoned" {
					dropped = c
				}
			}
		}
	}
	if served == nil || dropped == nil {
		t.Fatalf("attempts %+v for calls to %s and %s", rows, calls[0].Dialled, calls[1].Dialled)
	}
	beep := s.heardBeep(t, start)
	served.Play(hzContact)
	s.leg.WaitHears(hzContact, 10*time.Second)
	served.WaitHears(hzAlice, 10*time.Second)
	if !heardMessage(dropped, start) {
		t.Errorf("the abandoned contact heard no message")
	}
	t.Logf("beep at alice: %v; served %s, abandoned %s", beep, served.Dialled, dropped.Dialled)
}

// heardBeep waits until alice's leg carried something while the contacts
// were silent: the beep (a quarter-second slice since start that is not
// silent).
func (s *sipStack) heardBeep(t *testing.T, start time.Time) sipphone.Level {
	t.Helper()
	var beep sipphone.Level
	ctitest.Eventually(t, 10*time.Second, "the beep on alice's phone", func() bool {
		for at := start; at.Before(time.Now()); at = at.Add(250 * time.Millisecond) {
			if l := s.leg.Window(at, at.Add(250*time.Millisecond)); !l.Silent() {
				beep = l
				return true
			}
		}
		return false
	})
	return beep
}

// heardMessage waits for an abandoned contact's call to end and says
// whether they heard the abandon message (a prompt: broadband) in some
// second since start.
func heardMessage(c *sipphone.Call, start time.Time) bool {
	c.WaitEnded(30 * time.Second)
	for at := start; at.Before(time.Now()); at = at.Add(500 * time.Millisecond) {
		if l := c.Window(at, at.Add(time.Second)); l.Broadband() {
			return true
		}
	}
	return false
}

// TestAsteriskSIPLearnedPredictive: the production default pacer (the
// learned ctid-predictive, nothing injected) on real Asterisk. Warmed up
// from the campaign's records (one dial in 20 answered), with alice the
// one Ready agent it places more calls than agents; here every contact
// answers at the carrier: one reaches alice, who hears the beep and then
// the contact, the others hear the campaign's abandon message and are
// counted abandoned, and the next decision counts them against the cap.
func TestAsteriskSIPLearnedPredictive(t *testing.T) {
	bg := context.Background()
	var phones [][]string
	for i := range 20 {
		phones = append(phones, []string{fmt.Sprintf("+4420794602%02d", 10+i)})
	}
	s := newSIPStack(t, `{"mode":"predictive","abandonMessage":"sound:all-circuits-busy-now","ringSeconds":20,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, nil, phones...)
	seedHistory(t, s.stack, time.Now(), 2000, 20, 80) // 100 answered: the windows can judge a rate
	start := time.Now()
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	dec, _ := s.w.LastDecision(s.camp)
	if dec.Pacer != "ctid-predictive" || dec.Snapshot.Ready != 1 || dec.Dial <= 1 || dec.Dialled != dec.Dial {
		t.Fatalf("warmed-up decision: pacer %q, ready %d, dial %d, dialled %d", dec.Pacer, dec.Snapshot.Ready, dec.Dial, dec.Dialled)
	}
	calls := make([]*sipphone.Call, dec.Dialled)
	for i := range calls {
		calls[i] = s.carrier.NextCall(15 * time.Second)
	}
	for _, c := range calls {
		c.WaitAnswered(15 * time.Second)
	}
	type row struct{ Number, Outcome string }
	var rows []row
	ctitest.Eventually(t, 30*time.Second, "every dial's outcome", func() bool {
		rows = nil
		s.DB.Raw(`SELECT number, outcome FROM dialer_attempts WHERE number <> '+442079460999' AND outcome <> '' ORDER BY id`).Scan(&rows)
		return len(rows) == len(calls)
	})
	var served *sipphone.Call
	var dropped []*sipphone.Call
	for _, r := range rows {
		for _, c := range calls {
			if strings.HasSuffix(r.Number, strings.TrimPrefix(c.Dialled, "+")) || c.Dialled == r.Number {
				switch r.Outcome {
				case "answered":
					if served != nil {
						t.Fatalf("two contacts answered for one agent: %+v", rows)
					}
					served = c
				case "abandoned":
					dropped = append(dropped, c)
				default:
					t.Fatalf("outcome %q (every contact answers here): %+v", r.Outcome, rows)
				}
			}
		}
	}
	if served == nil || len(dropped) != len(calls)-1 {
		t.Fatalf("attempts %+v for %d calls", rows, len(calls))
	}
	beep := s.heardBeep(t, start)
	served.Play(hzContact)
	s.leg.WaitHears(hzContact, 10*time.Second)
	served.WaitHears(hzAlice, 10*time.Second)
	for _, c := range dropped {
		if !heardMessage(c, start) {
			t.Errorf("abandoned contact %s heard no message", c.Dialled)
		}
	}
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	dec, _ = s.w.LastDecision(s.camp)
	if dec.Snapshot.Short.Abandoned != len(dropped) || dec.Dial != 0 {
		t.Errorf("decision after the calls: windows %+v, dial %d (want %d abandons counted, nothing dialled)", dec.Snapshot.Windows, dec.Dial, len(dropped))
	}
	t.Logf("learned pacer dialled %d for 1 Ready agent; beep at alice %v; %d abandoned, each heard the message", len(calls), beep, len(dropped))
}

// TestAsteriskSIPAnsweringMachineDetection: AMD() on real Asterisk. A
// contact whose greeting runs on (a tone for 4 s, then silence: the beep's
// end) is a machine: the campaign's message is left after the beep (the
// carrier hears a prompt), nobody is connected, the attempt ends
// machine_message with AMD's cause. A contact who says "hello" (0.5 s) and
// waits is a person: alice hears the beep and them.
func TestAsteriskSIPAnsweringMachineDetection(t *testing.T) {
	bg := context.Background()
	s := newSIPStack(t, `{"mode":"predictive","ringSeconds":20,
		"amd":{"enabled":true,"onMachine":"message","message":"sound:vm-goodbye"},
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, oneAtATime{},
		[]string{"+442079460301"}, []string{"+442079460302"})

	// The machine.
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	m := s.carrier.NextCall(15 * time.Second)
	m.WaitAnswered(15 * time.Second)
	m.Play(hzContact)
	time.Sleep(4 * time.Second) // the greeting is the test's input, not a wait for ctid
	m.Silence()
	m.WaitBroadband(20*time.Second, hzContact)
	m.WaitEnded(20 * time.Second)
	type row struct {
		Outcome, AmdStatus string
		AgentID            *int64
	}
	var rows []row
	ctitest.Eventually(t, 20*time.Second, "the machine's outcome", func() bool {
		rows = nil
		s.DB.Raw(`SELECT outcome, amd_status, agent_id FROM dialer_attempts WHERE outcome <> '' ORDER BY id`).Scan(&rows)
		return len(rows) == 1
	})
	if r := rows[0]; r.Outcome != "machine_message" || !strings.HasPrefix(r.AmdStatus, "MACHINE/") || r.AgentID != nil {
		t.Fatalf("machine attempt %+v", r)
	}

	// The person.
	ctitest.Eventually(t, 15*time.Second, "the second dial", func() bool {
		if err := s.w.TickCampaign(bg, s.camp); err != nil {
			t.Fatal(err)
		}
		d, _ := s.w.LastDecision(s.camp)
		return d.Dialled == 1
	})
	h := s.carrier.NextCall(15 * time.Second)
	h.WaitAnswered(15 * time.Second)
	h.Play(hzContact)
	time.Sleep(500 * time.Millisecond) // "hello"
	h.Silence()
	ctitest.Eventually(t, 20*time.Second, "the person's outcome", func() bool {
		rows = nil
		s.DB.Raw(`SELECT outcome, amd_status, agent_id FROM dialer_attempts WHERE outcome <> '' ORDER BY id`).Scan(&rows)
		return len(rows) == 2
	})
	if r := rows[1]; r.Outcome != "answered" || !strings.HasPrefix(r.AmdStatus, "HUMAN/") || r.AgentID == nil {
		t.Fatalf("person attempt %+v", r)
	}
	h.Play(hzContact)
	s.leg.WaitHears(hzContact, 10*time.Second)
	h.WaitHears(hzAlice, 10*time.Second)
}

// TestAsteriskSIPPreviewAutoDialFirstOfThreeNumbers: a preview campaign
// offers a lead with three numbers to alice; nobody clicks, so when the
// 5 s preview timeout runs out the first number is dialled on the PJSIP
// trunk; the carrier answers and alice and the contact hear each other;
// alice hangs up and the attempt is answered, the lead done.
func TestAsteriskSIPPreviewAutoDialFirstOfThreeNumbers(t *testing.T) {
	bg := context.Background()
	phones := []string{"+442079460301", "+442079460302", "+442079460303"}
	s := newSIPStack(t, `{"mode":"preview","previewTimeoutSeconds":5,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, nil)
	var list, lead int64
	s.DB.Raw(`SELECT id FROM dialer_lead_lists WHERE campaign_id = ?`, s.camp).Scan(&list)
	s.DB.Raw(`INSERT INTO dialer_leads (list_id, campaign_id, name, phone1, phone2, phone3, primary_phone, time_zone)
		VALUES (?, ?, 'Three numbers', ?, ?, ?, ?, 'Europe/London') RETURNING id`, list, s.camp, phones[0], phones[1], phones[2], phones[0]).Scan(&lead)
	watch := s.WatchAgent(t, s.stack.alice)
	start := time.Now()
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	offered := watch.Next("preview.offered", 10*time.Second)
	for _, p := range phones {
		if !strings.Contains(string(offered.Data), p) {
			t.Fatalf("offer without %s: %s", p, offered.Data)
		}
	}
	watch.Next("preview.autodial", 15*time.Second)
	if waited := time.Since(start); waited < 5*time.Second {
		t.Errorf("auto-dialled after %v, before the 5 s timeout", waited)
	}
	cust := s.carrier.NextCall(15 * time.Second)
	if cust.Dialled != phones[0] && cust.Dialled != strings.TrimPrefix(phones[0], "+") {
		t.Errorf("carrier got a call to %q, want the first number %s", cust.Dialled, phones[0])
	}
	cust.WaitAnswered(15 * time.Second)
	watch.Next("call.connected", 15*time.Second)
	cust.Play(hzContact)
	s.leg.WaitHears(hzContact, 10*time.Second)
	cust.WaitHears(hzAlice, 10*time.Second)
	if err := s.Engine.Hangup(bg, s.stack.alice); err != nil {
		t.Fatal(err)
	}
	cust.WaitEnded(15 * time.Second)
	var got struct {
		Number, Outcome string
		AgentID         int64
	}
	ctitest.Eventually(t, 15*time.Second, "answered attempt", func() bool {
		s.DB.Raw(`SELECT number, outcome, COALESCE(agent_id, 0) AS agent_id FROM dialer_attempts WHERE lead_id = ?`, lead).Scan(&got)
		return got.Outcome == "answered"
	})
	if got.Number != phones[0] || got.AgentID != s.stack.alice {
		t.Errorf("attempt %+v", got)
	}
	var status string
	s.DB.Raw(`SELECT status FROM dialer_leads WHERE id = ?`, lead).Scan(&status)
	if status != "done" {
		t.Errorf("lead %s", status)
	}
}
