package cti_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// consulting starts a consult from alice to target and waits until the
// destination answered.
func (f *fixture) consulting(t *testing.T, req cti.TransferRequest) cti.TransferView {
	t.Helper()
	req.Mode = "consult"
	v, err := f.Engine.Transfer(bg, f.alice, req)
	if err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 10*time.Second, "consulting", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.alice)
		return s.Transfer != nil && s.Transfer.State == cti.XferConsulting
	})
	return v
}

func bridgeMembers(f *fixture, id string) []string {
	b, _ := f.Double.Bridge(id)
	return b.Channels
}

// Item 1 (persistent legs): a consulted agent merged into the conference
// is On Call with their own interaction; when the first agent leaves, the
// customer and the second agent carry on; the customer's hang-up puts the
// second agent in wrap, and their record follows.
func TestConsultAgentMergeLeaveAndWrapPersistent(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, iid := f.inCall(t, w)
	if err := f.Engine.SetNotes(bg, f.alice, iid, "wants the manager"); err != nil {
		t.Fatal(err)
	}
	f.loginPersistent(t, f.bob, "1002")
	if err := f.Engine.SetReady(bg, f.bob); err != nil {
		t.Fatal(err)
	}
	wb := f.WatchAgent(t, f.bob)
	v := f.consulting(t, cti.TransferRequest{Type: "agent", Target: itoa(f.bob)})
	offer := decode[cti.TransferOffer](t, wb.Next("transfer.offered", 5*time.Second))
	if offer.TransferredFrom == nil || offer.TransferredFrom.AgentName != "Agent alice" ||
		offer.TransferredFrom.Notes != "wants the manager" || offer.CustomerNumber != "+447700900200" {
		t.Fatalf("offer %+v", offer)
	}
	if b := bridgeOf(f, cust); !strings.HasPrefix(b, "hold-") {
		t.Fatalf("customer should be held during the consult, is in %q", b)
	}
	if _, err := f.Engine.TransferAction(bg, f.alice, "merge"); err != nil {
		t.Fatal(err)
	}
	info := decode[cti.CallInfo](t, wb.Next("call.connected", 5*time.Second))
	if !info.ConferenceParty || info.TransferredFrom == nil || info.TransferredFrom.InteractionID != iid || info.InteractionID == iid {
		t.Fatalf("bob's party call %+v", info)
	}
	f.WaitState(t, f.bob, cti.AgentOnCall, 5*time.Second)
	talk := "agent-" + itoa(f.alice)
	ctitest.Eventually(t, 5*time.Second, "three-way bridge", func() bool {
		return len(bridgeMembers(f, talk)) == 3 && bridgeOf(f, cust) == talk
	})
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.Conference == nil || s.Conference.Max != 3 || len(s.Conference.Parties) != 1 || s.Conference.Parties[0].ID != v.ID ||
		s.Conference.Parties[0].Target != "bob" {
		t.Fatalf("conference %+v", s.Conference)
	}
	if bad := f.Engine.CheckInvariants(bg); len(bad) > 0 {
		t.Fatalf("invariants: %v", bad)
	}
	// alice leaves: customer and bob carry on together.
	if err := f.Engine.ConferenceEnd(bg, f.alice, false); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 5*time.Second)
	ctitest.Eventually(t, 5*time.Second, "customer with bob", func() bool {
		b := bridgeOf(f, cust)
		return b != "" && b != talk && len(bridgeMembers(f, b)) == 2
	})
	f.WaitState(t, f.bob, cti.AgentOnCall, time.Second)
	f.Double.HangupChannel(cust, 16)
	wb.Next("wrap.started", 5*time.Second)
	f.WaitState(t, f.bob, cti.AgentOnWrap, 5*time.Second)
	// bob's persistent leg is home in his own bridge, still up.
	ctitest.Eventually(t, 5*time.Second, "bob's leg home", func() bool {
		return len(bridgeMembers(f, "agent-"+itoa(f.bob))) == 1
	})
	if err := f.Engine.Wrap(bg, f.bob, cti.WrapRequest{Code: "SALE"}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.bob, cti.AgentReady, time.Second)
	f.Engine.Sync(bg)
	f.Engine.Flush(bg)
	var rec struct {
		State, WrapCode, ParentID string
		AgentID                   int64
	}
	f.DB.Raw(`SELECT state, wrap_code, parent_id, agent_id FROM interactions WHERE id = ?`, info.InteractionID).Scan(&rec)
	if rec.State != "wrapped" || rec.WrapCode != "SALE" || rec.ParentID != iid || rec.AgentID != f.bob {
		t.Fatalf("bob's record %+v", rec)
	}
	if bad := f.Engine.CheckInvariants(bg); len(bad) > 0 {
		t.Fatalf("invariants: %v", bad)
	}
}

// Item 1 (non-persistent leg): bob's phone is rung for the consult; after
// the merge he hangs up from his adaptor and wraps, the conference goes on.
func TestConsultAgentMergeNonPersistentPartyLeaves(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	f.Double.Script("PJSIP/1002", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	f.Engine.Login(bg, f.bob)
	f.Engine.Connect(bg, f.bob, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1002"})
	f.Engine.SetReady(bg, f.bob)
	v := f.consulting(t, cti.TransferRequest{Type: "agent", Target: "bob"})
	if _, err := f.Engine.TransferAction(bg, f.alice, "merge"); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.bob, cti.AgentOnCall, 5*time.Second)
	talk := "agent-" + itoa(f.alice)
	ctitest.Eventually(t, 5*time.Second, "bob's leg in the conference", func() bool {
		return bridgeOf(f, "xf-"+v.ID) == talk && bridgeOf(f, cust) == talk
	})
	// A plain hang-up from alice is refused in a conference; bob's is his
	// leaving it.
	if err := f.Engine.Hangup(bg, f.bob); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.bob, cti.AgentOnWrap, 5*time.Second)
	ctitest.Eventually(t, 5*time.Second, "bob's leg hung up", func() bool { _, ok := f.Double.Channel("xf-" + v.ID); return !ok })
	s := f.WaitState(t, f.alice, cti.AgentOnCall, time.Second)
	if s.Conference != nil {
		t.Fatalf("conference should be over: %+v", s.Conference)
	}
	if bridgeOf(f, cust) != talk {
		t.Fatalf("customer left alice: %q", bridgeOf(f, cust))
	}
	if bad := f.Engine.CheckInvariants(bg); len(bad) > 0 {
		t.Fatalf("invariants: %v", bad)
	}
}

// Item 3: cancelling a consult returns a Paused target agent to Paused
// with the same reason (not Ready, where the next queued call would reach
// them); a Ready target stays Ready.
func TestCancelConsultReturnsTargetToTheirState(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.DB.Exec(`UPDATE users SET transfer_when_paused = true WHERE id = ?`, f.bob)
	if err := f.Engine.Reload(bg); err != nil {
		t.Fatal(err)
	}
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	f.loginPersistent(t, f.bob, "1002")
	if err := f.Engine.SetPaused(bg, f.bob, "Training"); err != nil {
		t.Fatal(err)
	}
	f.consulting(t, cti.TransferRequest{Type: "agent", Target: "bob"})
	if s, _ := f.Engine.Snapshot(bg, f.bob); s.State.State != cti.AgentReserved {
		t.Fatalf("bob during consult: %+v", s.State)
	}
	if _, err := f.Engine.TransferAction(bg, f.alice, "cancel"); err != nil {
		t.Fatal(err)
	}
	s := f.WaitState(t, f.bob, cti.AgentPaused, 5*time.Second)
	if s.State.PauseReason != "Training" {
		t.Fatalf("bob back in Paused with %q, want Training", s.State.PauseReason)
	}
	ctitest.Eventually(t, 5*time.Second, "customer back with alice", func() bool { return bridgeOf(f, cust) == "agent-"+itoa(f.alice) })
	// A second caller waits: bob, Paused, is not offered it.
	f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900201", did, nil)
	time.Sleep(200 * time.Millisecond) // nothing to wait for: the call must NOT reach bob
	if s, _ := f.Engine.Snapshot(bg, f.bob); s.State.State != cti.AgentPaused {
		t.Fatalf("bob took a queued call after the cancel: %+v", s.State)
	}
	// Ready before the consult: Ready after the cancel.
	if err := f.Engine.SetReady(bg, f.bob); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.bob, cti.AgentOnCall, 5*time.Second) // takes the waiting caller
}

// Item 2: the party limit is the campaign's maxConferenceParties
// (default 3, tested in TestConsultMergeConferenceLimitAndLeave).
func TestConferenceLimitIsACampaignSetting(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.DB.Exec(`UPDATE campaigns SET settings = '{"maxConferenceParties": 2}'::jsonb WHERE id = ?`, f.camp)
	if err := f.Engine.Reload(bg); err != nil {
		t.Fatal(err)
	}
	w := f.WatchAgent(t, f.alice)
	f.inCall(t, w)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	f.consulting(t, cti.TransferRequest{Type: "number", Target: "+442079460001"})
	if _, err := f.Engine.TransferAction(bg, f.alice, "merge"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460002"}); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 5*time.Second, "second party joined", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.alice)
		return s.Conference != nil && len(s.Conference.Parties) == 2 && s.Conference.Max == 2
	})
	_, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460003"})
	if cti.KindOf(err) != cti.KindConflict || !strings.Contains(err.Error(), "full") {
		t.Fatalf("third party over a limit of 2: %v", err)
	}
}

// Hold: the customer moves to a fresh holding bridge with music and hears
// nobody; the hold time is counted on the fake clock, published in
// call.controls and stored with the interaction.
func TestHoldResumeTimedAndRecorded(t *testing.T) {
	fc := aritest.NewFakeClock(time.Now())
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{Clock: ctitest.Clock(fc)})
	w := f.WatchAgent(t, f.alice)
	cust, iid := f.inCall(t, w)
	talk := "agent-" + itoa(f.alice)
	for round := 1; round <= 2; round++ {
		if err := f.Engine.Hold(bg, f.alice); err != nil {
			t.Fatal(err)
		}
		cv := decode[cti.ControlsView](t, w.Next("call.controls", 5*time.Second))
		if !cv.Held || cv.HeldSince == nil {
			t.Fatalf("controls after hold %+v", cv)
		}
		hb := bridgeOf(f, cust)
		b, _ := f.Double.Bridge(hb)
		if !strings.HasPrefix(hb, "hold-") || b.MOH == "" || len(b.Channels) != 1 {
			t.Fatalf("round %d: customer in %q (%+v), want alone in a holding bridge with music", round, hb, b)
		}
		fc.Advance(30 * time.Second)
		if err := f.Engine.Resume(bg, f.alice); err != nil {
			t.Fatal(err)
		}
		cv = decode[cti.ControlsView](t, w.Next("call.controls", 5*time.Second))
		if cv.Held || cv.HoldSeconds != int64(30*round) {
			t.Fatalf("controls after resume %+v, want %d s held", cv, 30*round)
		}
		ctitest.Eventually(t, 5*time.Second, "customer back in the talk bridge", func() bool { return bridgeOf(f, cust) == talk })
		ctitest.Eventually(t, 5*time.Second, "hold bridge gone", func() bool { _, ok := f.Double.Bridge(hb); return !ok })
	}
	// Held again when the customer hangs up: that hold counts too.
	f.Engine.Hold(bg, f.alice)
	fc.Advance(5 * time.Second)
	f.Double.HangupChannel(cust, 16)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 5*time.Second)
	f.Engine.Sync(bg)
	f.Engine.Flush(bg)
	var holdMs int64
	f.DB.Raw(`SELECT hold_ms FROM interactions WHERE id = ?`, iid).Scan(&holdMs)
	if holdMs != 65000 {
		t.Fatalf("hold_ms %d, want 65000", holdMs)
	}
}

// Mute is a channel mute (direction in) on the agent's leg; a persistent
// leg is unmuted when the call ends, ready for the next one.
func TestMuteAgentLeg(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	snap, _ := f.Engine.Snapshot(bg, f.alice)
	leg := ""
	for _, ch := range f.Double.Channels() {
		if ch.Bridge == "agent-"+itoa(f.alice) && ch.ID != cust {
			leg = ch.ID
		}
	}
	if leg == "" || snap.Controls == nil || snap.Controls.Muted {
		t.Fatalf("leg %q controls %+v", leg, snap.Controls)
	}
	if err := f.Engine.Mute(bg, f.alice, true); err != nil {
		t.Fatal(err)
	}
	if cv := decode[cti.ControlsView](t, w.Next("call.controls", 5*time.Second)); !cv.Muted {
		t.Fatalf("controls %+v", cv)
	}
	if st, _ := f.Double.Channel(leg); !st.MuteIn {
		t.Fatalf("agent leg not muted: %+v", st)
	}
	if st, _ := f.Double.Channel(cust); st.MuteIn {
		t.Fatal("the customer must not be muted")
	}
	if err := f.Engine.Mute(bg, f.alice, false); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Double.Channel(leg); st.MuteIn {
		t.Fatal("agent leg still muted after unmute")
	}
	f.Engine.Mute(bg, f.alice, true)
	f.Double.HangupChannel(cust, 16)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 5*time.Second)
	ctitest.Eventually(t, 5*time.Second, "persistent leg unmuted after the call", func() bool {
		st, ok := f.Double.Channel(leg)
		return ok && !st.MuteIn
	})
}

// The keypad sends digits to the customer's channel; bad digits are a
// clear error; the customer joined with absorbDTMF; digits are refused
// during card entry.
func TestKeypadDTMFToCustomer(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{Payment: `{"kind":"sandbox","currency":"GBP"}`}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	if st, _ := f.Double.Channel(cust); !st.AbsorbDTMF {
		t.Fatal("the customer must join with absorbDTMF")
	}
	for _, bad := range []string{"", "12x", strings.Repeat("1", 33)} {
		if err := f.Engine.SendDTMF(bg, f.alice, bad); cti.KindOf(err) != cti.KindInvalid {
			t.Fatalf("digits %q: %v", bad, err)
		}
	}
	if err := f.Engine.SendDTMF(bg, f.alice, "12#*A"); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 10*time.Second, "digits reached the customer", func() bool { return f.Double.DTMFDelivered(cust) == "12#*A" })
	if _, err := f.Engine.StartPayment(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.SendDTMF(bg, f.alice, "4"); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("keypad during card entry: %v", err)
	}
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.Payment == nil || s.Payment.Progress.CardDigits != 0 {
		t.Fatalf("agent digits must not count as card digits: %+v", s.Payment)
	}
}

// Dropping one party leaves the others in the conference.
func TestDropOneConferenceParty(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	f.inCall(t, w)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	v1 := f.consulting(t, cti.TransferRequest{Type: "number", Target: "+442079460001"})
	f.Engine.TransferAction(bg, f.alice, "merge")
	v2, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460002"})
	if err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 5*time.Second, "two parties", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.alice)
		return s.Conference != nil && len(s.Conference.Parties) == 2
	})
	if err := f.Engine.DropParty(bg, f.alice, "nope"); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("unknown party: %v", err)
	}
	if err := f.Engine.DropParty(bg, f.alice, v1.ID); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 5*time.Second, "party 1 hung up", func() bool { _, ok := f.Double.Channel("xf-" + v1.ID); return !ok })
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.Conference == nil || len(s.Conference.Parties) != 1 || s.Conference.Parties[0].ID != v2.ID {
		t.Fatalf("conference after drop %+v", s.Conference)
	}
	if _, ok := f.Double.Channel("xf-" + v2.ID); !ok {
		t.Fatal("party 2 must stay")
	}
}

// Engine refusals are sentences a person reads (the adaptor shows them as
// they are): no "cannot ready while ready".
func TestRefusalsAreSentences(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	if _, err := f.Engine.Login(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	err := f.Engine.SetReady(bg, f.alice)
	if cti.KindOf(err) != cti.KindConflict || err.Error() != "Your phone is not connected. Connect it first." {
		t.Fatalf("ready without a phone: %v", err)
	}
	f.loginPersistent(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	for _, c := range []struct {
		err  error
		want string
	}{
		{f.Engine.SetReady(bg, f.alice), "You are already Ready."},
		{f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "SALE"}), "There is no call to wrap up."},
		{f.Engine.Hangup(bg, f.alice), "There is no call to hang up."},
	} {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("got %v, want %q", c.err, c.want)
		}
	}
	w := f.WatchAgent(t, f.alice)
	f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900200", did, nil)
	w.Next("call.connected", 10*time.Second)
	if err := f.Engine.SetPaused(bg, f.alice, "Break"); err == nil || err.Error() != "You cannot pause while you are on a call." {
		t.Fatalf("pause on a call: %v", err)
	}
	if err := f.Engine.Logout(bg, f.alice, ""); err == nil || err.Error() != "You cannot log out during a call. Finish the call first." {
		t.Fatalf("log out on a call: %v", err)
	}
}

// While the customer is on hold, a payment or an announcement would not
// reach them: both are refused with a sentence.
func TestHoldRefusesPaymentAndAnnouncement(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{Payment: `{"kind":"sandbox","currency":"GBP"}`}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	f.inCall(t, w)
	if err := f.Engine.Hold(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Engine.StartPayment(bg, f.alice); cti.KindOf(err) != cti.KindConflict || !strings.Contains(err.Error(), "hold") {
		t.Fatalf("payment while held: %v", err)
	}
	if err := f.Engine.Resume(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Engine.StartPayment(bg, f.alice); err != nil {
		t.Fatalf("payment after resume: %v", err)
	}
	if err := f.Engine.Hold(bg, f.alice); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("hold during card entry: %v", err)
	}
}
