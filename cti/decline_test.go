package cti_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// ringingLeg is the channel ringing ext's phone, "" if none.
func ringingLeg(f *fixture, ext string) string {
	for _, c := range f.Double.Channels() {
		if strings.HasPrefix(c.Name, "PJSIP/"+ext+"-") && c.State == "Ringing" && !c.Destroyed {
			return c.ID
		}
	}
	return ""
}

// Alice declines the call ringing her phone: her leg is hung up at once,
// the caller (who never left the queue's holding bridge, music playing)
// goes to bob, and alice is Paused "Declined a call"; the record says who
// declined.
func TestDeclineRingingCallGoesToNextAgent(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{OfferTimeout: 60 * time.Second})
	f.Double.Script("PJSIP/1001", aritest.Behavior{NoAnswer: true}) // rings until declined
	f.Double.Script("PJSIP/1002", aritest.Behavior{AnswerAfter: 400 * time.Millisecond})
	for id, num := range map[int64]string{f.alice: "1001", f.bob: "1002"} {
		if _, err := f.Engine.Login(bg, id); err != nil {
			t.Fatal(err)
		}
		if err := f.Engine.Connect(bg, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: num}); err != nil {
			t.Fatal(err)
		}
	}
	wa, wb := f.WatchAgent(t, f.alice), f.WatchAgent(t, f.bob)
	if err := f.Engine.SetReady(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	cust := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900125", did, nil)
	offered := decode[cti.CallInfo](t, wa.Next("call.offered", 15*time.Second))
	f.WaitState(t, f.alice, cti.AgentReserved, 15*time.Second)
	var leg string
	ctitest.Eventually(t, 15*time.Second, "alice's phone ringing", func() bool { leg = ringingLeg(f, "1001"); return leg != "" })
	queue := "queue-" + itoa(f.camp)
	if b, _ := f.Double.Bridge(queue); bridgeOf(f, cust) != queue || b.MOH == "" {
		t.Fatalf("while alice's phone rings the caller should hear the queue's music: in %q, bridge %+v", bridgeOf(f, cust), b)
	}
	// Bob goes Ready meanwhile: the call is alice's, so nothing reaches him yet.
	if err := f.Engine.SetReady(bg, f.bob); err != nil {
		t.Fatal(err)
	}

	if err := f.Engine.Decline(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	// The engine has acted when Decline returns: alice is Paused with the reason.
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.State.State != cti.AgentPaused || s.State.PauseReason != cti.DeclineReason || s.Call != nil {
		t.Fatalf("alice after decline: %+v, call %+v", s.State, s.Call)
	}
	if d := decode[cti.CallInfo](t, wa.Next("call.declined", 5*time.Second)); d.InteractionID != offered.InteractionID {
		t.Fatalf("call.declined %+v, want %s", d, offered.InteractionID)
	}
	ctitest.Eventually(t, 10*time.Second, "alice's ringing leg hung up", func() bool {
		st, ok := f.Double.Channel(leg)
		return !ok || st.Destroyed
	})
	// Bob's phone rings; the caller still hears the queue's music.
	ctitest.Eventually(t, 10*time.Second, "bob's phone ringing", func() bool { return ringingLeg(f, "1002") != "" })
	if b, _ := f.Double.Bridge(queue); bridgeOf(f, cust) != queue || b.MOH == "" {
		t.Fatalf("after the decline the caller should still hear the queue's music: in %q, bridge %+v", bridgeOf(f, cust), b)
	}
	info := decode[cti.CallInfo](t, wb.Next("call.connected", 15*time.Second))
	if info.InteractionID != offered.InteractionID || info.CustomerNumber != "+447700900125" {
		t.Fatalf("bob got %+v, want %s", info, offered.InteractionID)
	}
	f.WaitState(t, f.bob, cti.AgentOnCall, 15*time.Second)
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentPaused {
		t.Fatalf("alice %s after bob took the call, want paused", s.State.State)
	}

	f.Engine.Flush(bg)
	var history []string
	f.DB.Raw(`SELECT to_state FROM interaction_events WHERE interaction_id = ? ORDER BY id`, info.InteractionID).Scan(&history)
	if want := "queued offering queued offering connected"; join(history) != want {
		t.Fatalf("history %q, want %q", join(history), want)
	}
	var detail string
	f.DB.Raw(`SELECT detail FROM interaction_events WHERE interaction_id = ? AND from_state = 'offering' AND to_state = 'queued'`, info.InteractionID).Scan(&detail)
	if detail != "declined by agent alice" {
		t.Fatalf("decline event detail %q", detail)
	}
	var legs []struct {
		AgentID int64
		Cause   string
	}
	f.DB.Raw(`SELECT agent_id, cause FROM interaction_legs WHERE interaction_id = ? AND role = 'agent' AND cause = 'declined'`, info.InteractionID).Scan(&legs)
	if len(legs) != 1 || legs[0].AgentID != f.alice {
		t.Fatalf("declined agent legs %+v, want one for alice", legs)
	}
	var reason, iid string
	f.DB.Raw(`SELECT reason, interaction_id FROM agent_state_history WHERE user_id = ? AND from_state = 'reserved' AND to_state = 'paused'`, f.alice).Row().Scan(&reason, &iid)
	if reason != cti.DeclineReason || iid != info.InteractionID {
		t.Fatalf("alice's state history: reason %q interaction %q", reason, iid)
	}
	if st, _ := f.Engine.Stats(bg); st.Declined != 1 || st.AutoPaused != 0 {
		t.Fatalf("stats: %d declined, %d auto-paused; want 1 and 0", st.Declined, st.AutoPaused)
	}
	if bad := f.Engine.CheckInvariants(bg); len(bad) > 0 {
		t.Fatalf("invariants: %v", bad)
	}
}

// Nothing offered, or the call already connected: 409 with a sentence, and
// nothing changes.
func TestDeclineRefusedWithoutAnOffer(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	if err := f.Engine.Decline(bg, f.alice); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("decline logged out: %v, want conflict", err)
	}
	w := f.WatchAgent(t, f.alice)
	f.loginPersistent(t, f.alice, "1001")
	err := f.Engine.Decline(bg, f.alice)
	if cti.KindOf(err) != cti.KindConflict || !strings.Contains(err.Error(), cti.NoOfferToDecline) {
		t.Fatalf("decline while paused: %v", err)
	}
	if err := f.Engine.SetReady(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	err = f.Engine.Decline(bg, f.alice)
	if cti.KindOf(err) != cti.KindConflict || !strings.Contains(err.Error(), cti.NoOfferToDecline) {
		t.Fatalf("decline while ready: %v", err)
	}
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentReady {
		t.Fatalf("alice %s after a refused decline, want ready", s.State.State)
	}
	f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900126", did, nil)
	w.Next("call.connected", 10*time.Second)
	f.WaitState(t, f.alice, cti.AgentOnCall, 10*time.Second)
	err = f.Engine.Decline(bg, f.alice)
	if cti.KindOf(err) != cti.KindConflict || !strings.Contains(err.Error(), "already connected") {
		t.Fatalf("decline on a connected call: %v", err)
	}
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentOnCall || s.Call == nil || s.Call.State != cti.CallConnected {
		t.Fatalf("alice after a refused decline: %+v", s.State)
	}
}

// A consult ringing bob's phone: bob declines, the consult fails, alice
// gets her caller back (off hold, in her bridge) and is told; bob is Paused.
func TestDeclineTransferRingingTheTarget(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{OfferTimeout: 60 * time.Second})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	f.Double.Script("PJSIP/1002", aritest.Behavior{NoAnswer: true})
	if _, err := f.Engine.Login(bg, f.bob); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.Connect(bg, f.bob, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1002"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.SetReady(bg, f.bob); err != nil {
		t.Fatal(err)
	}
	v, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "agent", Target: "bob", Mode: "consult"})
	if err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.bob, cti.AgentReserved, 10*time.Second)
	ctitest.Eventually(t, 10*time.Second, "bob's phone ringing", func() bool { return ringingLeg(f, "1002") != "" })
	if b := bridgeOf(f, cust); !strings.HasPrefix(b, "hold-") {
		t.Fatalf("customer should be held while bob's phone rings, is in %q", b)
	}
	if err := f.Engine.Decline(bg, f.bob); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Engine.Snapshot(bg, f.bob); s.State.State != cti.AgentPaused || s.State.PauseReason != cti.DeclineReason {
		t.Fatalf("bob after decline: %+v", s.State)
	}
	talk := "agent-" + itoa(f.alice)
	ctitest.Eventually(t, 10*time.Second, "customer back with alice", func() bool { return bridgeOf(f, cust) == talk })
	ctitest.Eventually(t, 10*time.Second, "bob's leg hung up", func() bool {
		st, ok := f.Double.Channel("xf-" + v.ID)
		return !ok || st.Destroyed
	})
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.State.State != cti.AgentOnCall || s.Transfer != nil || (s.Controls != nil && s.Controls.Held) {
		t.Fatalf("alice after bob declined: %+v transfer %+v controls %+v", s.State, s.Transfer, s.Controls)
	}
	n := decode[cti.Notice](t, w.Next("notice", 5*time.Second))
	if n.Kind != cti.NoticeTransferDeclined || !strings.Contains(n.Text, "declined") {
		t.Fatalf("notice %+v", n)
	}
}

// gatedBridges holds every AddToBridge into an agent's own bridge until
// open is closed: the moment a persistent agent's offer is on its way.
type gatedBridges struct {
	cti.Telephony
	open    chan struct{}
	waiting chan string
}

func (g gatedBridges) AddToBridge(ctx context.Context, bridgeID, ch string, absorb bool) error {
	if strings.HasPrefix(bridgeID, "agent-") && absorb { // a customer joining an agent
		g.waiting <- ch
		<-g.open
	}
	return g.Telephony.AddToBridge(ctx, bridgeID, ch, absorb)
}

// A persistent agent declines while the caller is on the way into their
// bridge: the offer is withdrawn, the caller ends up back in the queue's
// holding bridge (behind the connect, so even if it landed) and goes to
// the next agent.
func TestDeclinePersistentOfferInFlight(t *testing.T) {
	g := gatedBridges{open: make(chan struct{}), waiting: make(chan string, 4)}
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{Tune: func(o *cti.Options) {
		g.Telephony = o.Telephony
		o.Telephony = g
	}})
	f.loginPersistent(t, f.alice, "1001")
	f.loginPersistent(t, f.bob, "1002")
	if err := f.Engine.SetReady(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	cust := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900127", did, nil)
	select {
	case ch := <-g.waiting:
		if ch != cust {
			t.Fatalf("gated %s, want the caller %s", ch, cust)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the caller was never sent to alice's bridge")
	}
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentReserved {
		t.Fatalf("alice %s while the caller is on the way, want reserved", s.State.State)
	}
	if err := f.Engine.Decline(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	close(g.open) // the connect lands after all; the re-park queued behind it wins
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentPaused || s.State.PauseReason != cti.DeclineReason {
		t.Fatalf("alice after decline: %+v", s.State)
	}
	queue := "queue-" + itoa(f.camp)
	ctitest.Eventually(t, 15*time.Second, "caller back in the queue with music", func() bool {
		b, _ := f.Double.Bridge(queue)
		return bridgeOf(f, cust) == queue && b.MOH != ""
	})
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentPaused || s.Call != nil {
		t.Fatalf("alice after the connect landed: %+v call %+v", s.State, s.Call)
	}
	wb := f.WatchAgent(t, f.bob)
	if err := f.Engine.SetReady(bg, f.bob); err != nil {
		t.Fatal(err)
	}
	if info := decode[cti.CallInfo](t, wb.Next("call.connected", 15*time.Second)); info.CustomerNumber != "+447700900127" {
		t.Fatalf("bob got %+v", info)
	}
	ctitest.Eventually(t, 15*time.Second, "caller with bob", func() bool { return bridgeOf(f, cust) == "agent-"+itoa(f.bob) })
	if bad := f.Engine.CheckInvariants(bg); len(bad) > 0 {
		t.Fatalf("invariants: %v", bad)
	}
}
