package dialer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/dialer/pacing"
)

// seedHistory writes a day of the campaign's history as the worker would
// have recorded it: attempts (a tenth answered after 4–15 s of ringing,
// the rest unanswered after 20 s) over the last 14 minutes (so the
// 15-minute window has enough answers to judge an abandon rate by), and
// wrapped outbound interactions (talk 60–240 s, wrap 20–40 s).
func seedHistory(t *testing.T, s *stack, attempts, handles int) {
	t.Helper()
	var lead int64
	for id := range s.leads {
		lead = id
		break
	}
	now := time.Now()
	for i := range attempts {
		start := now.Add(-14*time.Minute + time.Duration(i)*14*time.Minute/time.Duration(attempts))
		var err error
		if i%10 == 0 {
			ans := start.Add(time.Duration(4+i%12) * time.Second)
			err = s.DB.Exec(`INSERT INTO dialer_attempts (lead_id, campaign_id, number, outcome, started_at, answered_at, ended_at)
				VALUES (?, ?, '+442079460999', 'answered', ?, ?, ?)`, lead, s.camp, start, ans, ans.Add(2*time.Minute)).Error
		} else {
			err = s.DB.Exec(`INSERT INTO dialer_attempts (lead_id, campaign_id, number, outcome, started_at, ended_at)
				VALUES (?, ?, '+442079460999', 'no_answer', ?, ?)`, lead, s.camp, start, start.Add(20*time.Second)).Error
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range handles {
		conn := now.Add(-2*time.Hour + time.Duration(i)*time.Minute)
		end := conn.Add(time.Duration(60+(i*37)%180) * time.Second)
		if err := s.DB.Exec(`INSERT INTO interactions (id, campaign_id, direction, state, connected_at, ended_at, wrapped_at)
			VALUES (?, ?, 'OUT', 'wrapped', ?, ?, ?)`, fmt.Sprintf("I-hist-%d", i), s.camp, conn, end,
			end.Add(time.Duration(20+i%20)*time.Second)).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestLearnedPredictiveThroughEngine runs the production default pacer
// (dialer.DefaultPacer: pacing.Predictive, no ratio injected) through the
// worker and the engine with the ARI double. Warmed up from the
// campaign's records (a tenth of dials answered, calls of a few minutes),
// it dials more calls than Ready agents; the contacts who answer reach an
// agent with a beep or, with no agent within 2 s, hear the abandon message
// and count against the cap; the next decision sees them.
func TestLearnedPredictiveThroughEngine(t *testing.T) {
	bg := context.Background()
	var phones [][]string
	for i := range 30 {
		phones = append(phones, []string{fmt.Sprintf("+4420794603%02d", i)})
	}
	s := startStack(t, `{"mode":"predictive","abandonMessage":"sound:sorry-all-busy","ringSeconds":20,
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, nil, phones...)
	seedHistory(t, s, 1000, 80) // 100 answered: the hour and the 15 minutes can judge a rate
	s.Double.Script("PJSIP/+44*@trunk", aritest.Behavior{AnswerAfter: 300 * time.Millisecond})

	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	dec, _ := s.w.LastDecision(s.camp)
	if dec.Pacer != "ctid-predictive" {
		t.Fatalf("pacer %q, want the default ctid-predictive", dec.Pacer)
	}
	// Two Ready agents, nothing ringing, p ≈ 0.1 learnt: more than two
	// calls (progressive would place exactly two).
	if dec.Snapshot.Ready != 2 || dec.Dial <= 2 || dec.Dialled != dec.Dial {
		t.Fatalf("warmed-up decision: ready %d, dial %d, dialled %d", dec.Snapshot.Ready, dec.Dial, dec.Dialled)
	}
	type row struct {
		Outcome string
		AgentID *int64
	}
	var rows []row
	ctitest.Eventually(t, 20*time.Second, "every dial's outcome", func() bool {
		rows = nil
		s.DB.Raw(`SELECT outcome, agent_id FROM dialer_attempts WHERE number <> '+442079460999' AND outcome <> '' ORDER BY id`).Scan(&rows)
		return len(rows) == dec.Dialled
	})
	answered, abandoned := 0, 0
	for _, r := range rows {
		switch r.Outcome {
		case "answered":
			answered++
			if r.AgentID == nil {
				t.Errorf("answered without an agent: %+v", r)
			}
		case "abandoned":
			abandoned++
		default:
			t.Errorf("outcome %q (every contact answers here)", r.Outcome)
		}
	}
	// Every contact answers: two agents take two, the rest are abandoned.
	if answered != 2 || abandoned != dec.Dialled-2 {
		t.Fatalf("%d answered, %d abandoned of %d dials", answered, abandoned, dec.Dialled)
	}
	beeps, messages := 0, 0
	for _, ch := range s.Double.Channels() {
		played := strings.Join(s.Double.Played(ch.ID), ",")
		if len(ch.Args) > 0 && ch.Args[0] == "agentleg" && played == "sound:beep" {
			beeps++
		}
		if strings.HasPrefix(ch.ID, "pd-dialer-") && played == "sound:sorry-all-busy" {
			messages++
		}
	}
	if beeps != 2 || messages != abandoned {
		t.Errorf("%d beeps on agent legs, %d abandon messages for %d abandoned", beeps, messages, abandoned)
	}
	// The next decision counts the abandons (and, the agents busy and the
	// day's abandon rate now far over 3%, dials nothing ahead).
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	dec, _ = s.w.LastDecision(s.camp)
	if dec.Snapshot.Short.Abandoned != abandoned || dec.Snapshot.Short.Answered != 100+answered+abandoned || dec.Dial != 0 {
		t.Errorf("decision after the calls: %+v dial %d", dec.Snapshot.Windows, dec.Dial)
	}
}

// oneAtATime dials one call per tick while nothing is ringing.
type oneAtATime struct{}

func (oneAtATime) Name() string { return "one-at-a-time" }
func (oneAtATime) Decide(s *pacing.Snapshot) int {
	if len(s.Ringing) > 0 || s.Waiting > 0 {
		return 0
	}
	return 1
}

// TestAMDThroughEngine: with AMD on, an answered dialler call goes to the
// dialplan's [dialer-amd] (scripted in the double as AMD's verdict coming
// back to Stasis). A machine verdict leaves the campaign's message in
// [dialer-amd-message] and closes the lead as machine_message with AMD's
// cause recorded; a HUMAN verdict reaches an agent with a beep; the
// decision's windows count the machine verdict.
func TestAMDThroughEngine(t *testing.T) {
	bg := context.Background()
	s := startStack(t, `{"mode":"predictive","ringSeconds":20,
		"amd":{"enabled":true,"onMachine":"message","message":"sound:custom/sorry-we-missed-you","falsePositiveShare":0.04},
		"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}`, oneAtATime{},
		[]string{"+442079460401"}, []string{"+442079460402"})
	s.Double.Script("PJSIP/+44*@trunk", aritest.Behavior{AnswerAfter: 50 * time.Millisecond})
	s.Double.ScriptContext("dialer-amd", aritest.DialplanContext{Stasis: "ctid",
		StasisArgs: []string{"dialer", "amd", "MACHINE", "LONGGREETING-2000-1500"}, Delay: 200 * time.Millisecond})
	s.Double.ScriptContext("dialer-amd-message", aritest.DialplanContext{HangupAfter: 300 * time.Millisecond})

	type row struct {
		Number, Outcome, AmdStatus string
		AgentID                    *int64
	}
	outcomes := func(n int) []row {
		var rows []row
		ctitest.Eventually(t, 15*time.Second, fmt.Sprintf("%d outcomes", n), func() bool {
			rows = nil
			s.DB.Raw(`SELECT number, outcome, amd_status, agent_id FROM dialer_attempts WHERE outcome <> '' ORDER BY id`).Scan(&rows)
			return len(rows) == n
		})
		return rows
	}
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	m := outcomes(1)[0]
	if m.Outcome != "machine_message" || m.AmdStatus != "MACHINE/LONGGREETING-2000-1500" || m.AgentID != nil {
		t.Fatalf("machine attempt %+v", m)
	}
	var status string
	s.DB.Raw(`SELECT status FROM dialer_leads WHERE phone1 = ?`, m.Number).Scan(&status)
	if status != "done" {
		t.Errorf("lead after a message was left: %s", status)
	}
	for _, ch := range s.Double.Channels() {
		if ch.ID == "pd-dialer-1" || strings.HasPrefix(ch.ID, "pd-") {
			if p := s.Double.Played(ch.ID); len(p) != 0 {
				t.Errorf("ctid played %v to the machine (the dialplan leaves the message)", p)
			}
		}
	}

	s.Double.ScriptContext("dialer-amd", aritest.DialplanContext{Stasis: "ctid",
		StasisArgs: []string{"dialer", "amd", "HUMAN", "HUMAN-1-1"}, Delay: 200 * time.Millisecond})
	ctitest.Eventually(t, 10*time.Second, "a tick with nothing ringing", func() bool {
		if err := s.w.TickCampaign(bg, s.camp); err != nil {
			t.Fatal(err)
		}
		d, _ := s.w.LastDecision(s.camp)
		return d.Dialled == 1
	})
	h := outcomes(2)[1]
	if h.Outcome != "answered" || h.AmdStatus != "HUMAN/HUMAN-1-1" || h.AgentID == nil {
		t.Fatalf("human attempt %+v", h)
	}
	if err := s.w.TickCampaign(bg, s.camp); err != nil {
		t.Fatal(err)
	}
	dec, _ := s.w.LastDecision(s.camp)
	if dec.Snapshot.Day != (pacing.Tally{Answered: 1, Machines: 1}) || dec.Snapshot.MachineFalse != 0.04 || dec.Snapshot.Grace != 1200*time.Millisecond {
		t.Errorf("decision after AMD: %+v false %.2f grace %v", dec.Snapshot.Day, dec.Snapshot.MachineFalse, dec.Snapshot.Grace)
	}
}
