package cti_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
)

// TestAsteriskPhoneDecline: a caller waits with music; bob's phone rings
// for it (ctid calls it per call) and bob declines: his phone stops
// ringing at once (long before the offer timeout), bob is Paused
// "Declined a call", the caller still hears the queue's music, and alice
// takes the call when she goes Ready.
func TestAsteriskPhoneDecline(t *testing.T) {
	r := newPhoneRig(t, 60*time.Second)
	st, alice, bob := r.st, r.alice, r.bob
	ctx := context.Background()
	alicePhone := sipphone.NewPhone(t, r.ast, "1001", sipphone.WithTone(aliceHz))
	bobPhone := sipphone.NewPhone(t, r.ast, "1002", sipphone.WithTone(bobHz), sipphone.WithPolicy(sipphone.NeverAnswer))
	carrier := sipphone.NewCarrier(t, r.ast, sipphone.WithTone(customerHz))
	wa := st.WatchAgent(t, alice)
	aliceLeg := r.connectPersistent(t, alice, alicePhone)

	cust, err := carrier.Call(ctx, phoneDID, "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the waiting caller hears %v", cust.WaitBroadband(10*time.Second, aliceHz))

	r.connectRinging(t, bob, "1002")
	ring := bobPhone.NextCall(10 * time.Second)
	st.WaitState(t, bob, cti.AgentReserved, 10*time.Second)
	if err := st.Engine.Decline(ctx, bob); err != nil {
		t.Fatal(err)
	}
	t.Logf("bob's phone stopped ringing: %s", ring.WaitEnded(5*time.Second))
	if s, _ := st.Engine.Snapshot(ctx, bob); s.State.State != cti.AgentPaused || s.State.PauseReason != cti.DeclineReason {
		t.Fatalf("bob after declining: %+v", s.State)
	}
	t.Logf("after the decline the caller hears %v", cust.WaitBroadband(10*time.Second, aliceHz, bobHz))

	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}
	wa.Next("call.connected", 15*time.Second)
	talk(t, aliceLeg, aliceHz, cust, customerHz)
}
