package cti_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
)

// The agent's desk (issue 15 "Acceptance") on a real Asterisk with
// registered SIP phones and the carrier: a consulted agent merged into a
// three-way call who carries on alone with the customer and wraps; hold,
// mute and the keypad as the customer's phone hears them; a transfer to a
// queue that reaches the next Ready agent. (The consult privacy regression
// is TestAsteriskConsultPrivacy.)

const hzBob = 1800 // bob's phone, 1002

// deskRig is the in-call rig (alice Ready on her nailed-up leg to 1001)
// plus bob, on the same campaign, with his own phone 1002.
type deskRig struct {
	*inCallRig
	bob      int64
	bobPhone *sipphone.Phone
	bobLeg   *sipphone.Call
	wb       *ctitest.Watch
}

func newDeskRig(t *testing.T) *deskRig {
	t.Helper()
	tg := aritest.AsteriskTarget(t)
	r := &deskRig{inCallRig: &inCallRig{ast: tg.Asterisk}}
	r.st = ctitest.StartSeeded(t, ctitest.Options{Target: &tg, OfferTimeout: 15 * time.Second}, func(db *gorm.DB) {
		r.alice = ctitest.Agent(t, db, "alice", "1001")
		r.bob = ctitest.Agent(t, db, "bob", "1002")
		r.camp = ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Real", DID: incallDID, Platform: incallPlatform,
			Agents: []int64{r.alice, r.bob}, Codes: []string{"DONE"}})
	})
	r.phone = sipphone.NewPhone(t, r.ast, "1001", sipphone.WithTone(hzAgent))
	r.bobPhone = sipphone.NewPhone(t, r.ast, "1002", sipphone.WithTone(hzBob))
	r.carrier = sipphone.NewCarrier(t, r.ast)
	r.w = r.st.WatchAgent(t, r.alice)
	r.wb = r.st.WatchAgent(t, r.bob)
	r.leg = r.connect(t, r.alice, r.phone)
	return r
}

// connect logs an agent in on a nailed-up leg to their phone; they end
// Paused.
func (r *deskRig) connect(t *testing.T, id int64, phone *sipphone.Phone) *sipphone.Call {
	t.Helper()
	ctx := context.Background()
	r.st.Engine.Login(ctx, id)
	if err := r.st.Engine.Connect(ctx, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: phone.Ext, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	leg := phone.NextCall(15 * time.Second)
	leg.WaitAnswered(15 * time.Second)
	r.st.WaitState(t, id, cti.AgentPaused, 15*time.Second)
	return leg
}

// TestAsteriskDeskConsultAgentMergeLeaveAndWrap: alice consults bob (the
// customer hears music, not them) → merge → each phone hears the other two
// → alice leaves: the customer and bob carry on, alice hears neither → the
// customer hangs up → bob wraps his part, his leg stays up.
func TestAsteriskDeskConsultAgentMergeLeaveAndWrap(t *testing.T) {
	r := newDeskRig(t)
	st, alice, bob := r.st, r.alice, r.bob
	ctx := context.Background()
	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}
	cust, info := r.inbound(t, "+447700900123")
	r.bobLeg = r.connect(t, bob, r.bobPhone)
	if err := st.Engine.SetReady(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Engine.Transfer(ctx, alice, cti.TransferRequest{Type: "agent", Target: "bob", Mode: "consult"}); err != nil {
		t.Fatal(err)
	}
	r.waitXfer(t, cti.XferConsulting)
	hearEachOther(t, r.leg, hzAgent, r.bobLeg, hzBob)
	cust.HearsOnlyMusic(20*time.Second, 3*time.Second, hzAgent, hzBob)

	if _, err := st.Engine.TransferAction(ctx, alice, "merge"); err != nil {
		t.Fatal(err)
	}
	party := decode[cti.CallInfo](t, r.wb.Next("call.connected", 20*time.Second))
	if !party.ConferenceParty || party.TransferredFrom == nil || party.TransferredFrom.InteractionID != info.InteractionID {
		t.Fatalf("bob's part of the call: %+v", party)
	}
	st.WaitState(t, bob, cti.AgentOnCall, 10*time.Second)
	hearsOnly(t, cust, hzCustomer, hzAgent, hzBob)
	hearsOnly(t, r.leg, hzAgent, hzCustomer, hzBob)
	hearsOnly(t, r.bobLeg, hzBob, hzCustomer, hzAgent)

	if err := st.Engine.ConferenceEnd(ctx, alice, false); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentOnWrap, 15*time.Second)
	hearEachOther(t, cust, hzCustomer, r.bobLeg, hzBob)
	talksFor(t, cust, 2*time.Second, []float64{hzBob}, hzAgent)
	r.leg.WaitSilence(10 * time.Second)
	if err := cust.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	r.wb.Next("wrap.started", 20*time.Second)
	st.WaitState(t, bob, cti.AgentOnWrap, 15*time.Second)
	if err := st.Engine.Wrap(ctx, bob, cti.WrapRequest{Code: "DONE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, bob, cti.AgentReady, 10*time.Second)
	for _, leg := range []*sipphone.Call{r.leg, r.bobLeg} {
		select {
		case <-leg.Ended():
			t.Fatalf("a nailed-up leg ended with the conference: %s %s", leg, leg.EndReason())
		default:
		}
	}
	st.Engine.Flush(ctx)
	var rec struct{ State, WrapCode, ParentID string }
	st.DB.Raw(`SELECT state, wrap_code, parent_id FROM interactions WHERE id = ?`, party.InteractionID).Scan(&rec)
	if rec.State != "wrapped" || rec.WrapCode != "DONE" || rec.ParentID != info.InteractionID {
		t.Fatalf("bob's record %+v", rec)
	}
}

// TestAsteriskDeskHoldMuteKeypadAndQueueTransfer: on hold the customer's
// phone hears music and not alice; muted, the customer hears silence while
// alice still hears them; a digit keyed on alice's desk reaches the
// customer's phone; then alice transfers the call to the campaign's queue
// and bob, the next Ready agent, takes it with audio both ways.
func TestAsteriskDeskHoldMuteKeypadAndQueueTransfer(t *testing.T) {
	r := newDeskRig(t)
	st, alice, bob := r.st, r.alice, r.bob
	ctx := context.Background()
	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}
	cust, info := r.inbound(t, "+447700900123")

	if err := st.Engine.Hold(ctx, alice); err != nil {
		t.Fatal(err)
	}
	cust.HearsOnlyMusic(20*time.Second, 3*time.Second, hzAgent)
	if l := r.leg.Level(); l.Tone(hzCustomer) >= sipphone.AbsentMax {
		t.Fatalf("alice hears the held customer: %v", l)
	}
	if err := st.Engine.Resume(ctx, alice); err != nil {
		t.Fatal(err)
	}
	hearEachOther(t, r.leg, hzAgent, cust, hzCustomer)

	if err := st.Engine.Mute(ctx, alice, true); err != nil {
		t.Fatal(err)
	}
	t.Logf("muted: the customer hears %v", cust.WaitSilence(15*time.Second))
	for i, l := range cust.Listen(2 * time.Second) {
		if l.Tone(hzAgent) >= sipphone.AbsentMax {
			t.Fatalf("muted alice heard by the customer at +%ds: %v", i, l)
		}
	}
	hearsOnly(t, r.leg, hzAgent, hzCustomer) // alice still hears the customer
	if err := st.Engine.Mute(ctx, alice, false); err != nil {
		t.Fatal(err)
	}
	hearsOnly(t, cust, hzCustomer, hzAgent)

	if err := st.Engine.SendDTMF(ctx, alice, "5"); err != nil {
		t.Fatal(err)
	}
	if got := cust.WaitDigits(1, 15*time.Second); got != "5" {
		t.Fatalf("the customer's phone received %q, want 5", got)
	}

	r.bobLeg = r.connect(t, bob, r.bobPhone)
	if err := st.Engine.SetReady(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Engine.Transfer(ctx, alice, cti.TransferRequest{Type: "queue", Target: strconv.FormatInt(r.camp, 10)}); err != nil {
		t.Fatal(err)
	}
	got := decode[cti.CallInfo](t, r.wb.Next("call.connected", 20*time.Second))
	if got.TransferredFrom == nil || got.TransferredFrom.InteractionID != info.InteractionID || got.CustomerNumber != "+447700900123" {
		t.Fatalf("bob's call %+v", got)
	}
	st.WaitState(t, alice, cti.AgentOnWrap, 15*time.Second)
	hearEachOther(t, cust, hzCustomer, r.bobLeg, hzBob)
	r.leg.WaitSilence(10 * time.Second)
	st.Engine.Flush(ctx)
	var holdMs int64
	st.DB.Raw(`SELECT hold_ms FROM interactions WHERE id = ?`, info.InteractionID).Scan(&holdMs)
	if holdMs < 1000 {
		t.Fatalf("hold_ms %d: the hold was not counted", holdMs)
	}
}

// TestAsteriskDeskCrashRedialsAtOnce (item 10): Asterisk is killed while
// alice talks to a customer and bob is Paused (Training). When it is back,
// the call's record says "telephony lost", both phones are called again at
// once (alice's while she still wraps), bob is Paused with his own reason
// again, and alice, wrapping with "ready", is Ready, not Paused "Logged in".
func TestAsteriskDeskCrashRedialsAtOnce(t *testing.T) {
	r := newDeskRig(t)
	st, alice, bob := r.st, r.alice, r.bob
	ctx := context.Background()
	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}
	_, info := r.inbound(t, "+447700900123")
	r.bobLeg = r.connect(t, bob, r.bobPhone)
	if err := st.Engine.SetPaused(ctx, bob, "Training"); err != nil {
		t.Fatal(err)
	}

	r.ast.Kill()
	r.leg.WaitSilence(10 * time.Second)
	r.ast.Restart()

	if n := decode[cti.Notice](t, r.w.Next("notice", 60*time.Second)); n.Kind != cti.NoticeTelephonyLost {
		t.Fatalf("notice %+v", n)
	}
	st.WaitState(t, alice, cti.AgentOnWrap, 20*time.Second)
	leg := r.phone.NextCall(60 * time.Second) // re-dialled during the wrap
	leg.WaitAnswered(15 * time.Second)
	ctitest.Eventually(t, 30*time.Second, "alice's phone back while she wraps", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.State.State == cti.AgentOnWrap && s.Phone.Connected
	})
	bobLeg := r.bobPhone.NextCall(60 * time.Second)
	bobLeg.WaitAnswered(15 * time.Second)
	ctitest.Eventually(t, 30*time.Second, "bob Paused with his reason, phone back", func() bool {
		s, _ := st.Engine.Snapshot(ctx, bob)
		return s.State.State == cti.AgentPaused && s.State.PauseReason == "Training" && s.Phone.Connected
	})
	if err := st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentReady, 15*time.Second)
	st.Engine.Flush(ctx)
	var reason string
	st.DB.Raw(`SELECT end_reason FROM interactions WHERE id = ?`, info.InteractionID).Scan(&reason)
	if reason != cti.TelephonyLostReason {
		t.Fatalf("the interrupted call ended with %q, want %q", reason, cti.TelephonyLostReason)
	}
	// The next caller reaches alice over the re-dialled leg, with audio.
	r.leg = leg
	r.inbound(t, "+447700900456")
}
