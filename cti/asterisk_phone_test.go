package cti_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
)

// The agent-core scenarios with real SIP phones and a real carrier
// (cti/ctitest/sipphone) on a real Asterisk, and the production dial
// strings: PJSIP/<ext> for phones (cti.DefaultAgentEndpoint) and
// PJSIP/<E.164>@trunk for customers. Each party talks its own tone and
// the tests assert what each one hears.
const (
	customerHz = 600  // the caller
	aliceHz    = 1000 // alice's phone, 1001
	bobHz      = 1400 // bob's phone, 1002
)

const phoneDID = "5550100"

// phoneRig is ctid on a real Asterisk with alice (phone 1001) and bob
// (phone 1002) on campaign "Real" (DID 5550100, platform +442071234567).
type phoneRig struct {
	st               *ctitest.Stack
	ast              *aritest.Asterisk
	alice, bob, camp int64
}

func newPhoneRig(t *testing.T, offer time.Duration) *phoneRig {
	t.Helper()
	tg := aritest.AsteriskTarget(t)
	r := &phoneRig{ast: tg.Asterisk}
	r.st = ctitest.StartSeeded(t, ctitest.Options{Target: &tg, OfferTimeout: offer}, func(db *gorm.DB) {
		r.alice = ctitest.Agent(t, db, "alice", "1001")
		r.bob = ctitest.Agent(t, db, "bob", "1002")
		r.camp = ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Real", DID: phoneDID, Platform: "+442071234567",
			Agents: []int64{r.alice, r.bob}, Codes: []string{"DONE"}})
	})
	return r
}

// connectPersistent logs the agent in with a nailed-up system-calls-agent
// leg to their phone, which must ring and answer; the agent ends Paused.
func (r *phoneRig) connectPersistent(t *testing.T, id int64, phone *sipphone.Phone) *sipphone.Call {
	t.Helper()
	ctx := context.Background()
	r.st.Engine.Login(ctx, id)
	if err := r.st.Engine.Connect(ctx, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: phone.Ext, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	leg := phone.NextCall(10 * time.Second)
	leg.WaitAnswered(10 * time.Second)
	r.st.WaitState(t, id, cti.AgentPaused, 10*time.Second)
	return leg
}

// connectRinging logs the agent in with their phone rung for each call
// (no kept line) and makes them Ready.
func (r *phoneRig) connectRinging(t *testing.T, id int64, ext string) {
	t.Helper()
	ctx := context.Background()
	r.st.Engine.Login(ctx, id)
	if err := r.st.Engine.Connect(ctx, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: ext}); err != nil {
		t.Fatal(err)
	}
	r.st.WaitState(t, id, cti.AgentPaused, 10*time.Second)
	if err := r.st.Engine.SetReady(ctx, id); err != nil {
		t.Fatal(err)
	}
}

// talk asserts that two parties hear each other's tone and not their own.
func talk(t *testing.T, a *sipphone.Call, aHz float64, b *sipphone.Call, bHz float64) {
	t.Helper()
	la := a.WaitHears(bHz, 15*time.Second)
	lb := b.WaitHears(aHz, 15*time.Second)
	if la.Tone(aHz) >= sipphone.AbsentMax || lb.Tone(bHz) >= sipphone.AbsentMax {
		t.Fatalf("a party hears itself: %v / %v", la, lb)
	}
	t.Logf("%s hears %v", a, la)
	t.Logf("%s hears %v", b, lb)
}

// TestAsteriskPhoneInboundPersistent: login → ctid calls alice's
// registered phone 1001, which answers → Ready → the carrier calls the
// DID → call.connected with the call info → alice and the customer hear
// each other → notes → the customer hangs up → wrap. A second caller
// comes over the same nailed-up leg: no new INVITE, audio again.
func TestAsteriskPhoneInboundPersistent(t *testing.T) {
	r := newPhoneRig(t, 10*time.Second)
	st, alice := r.st, r.alice
	ctx := context.Background()
	phone := sipphone.NewPhone(t, r.ast, "1001", sipphone.WithTone(aliceHz))
	carrier := sipphone.NewCarrier(t, r.ast, sipphone.WithTone(customerHz))
	w := st.WatchAgent(t, alice)

	leg := r.connectPersistent(t, alice, phone)
	t.Logf("the nailed-up leg's INVITE: %v, display name %q", leg, leg.FromName)
	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}

	cust, err := carrier.Call(ctx, phoneDID, "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	info := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	if info.CampaignName != "Real" || info.Direction != "IN" || info.PlatformNumber != phoneDID ||
		info.CustomerNumber != "+447700900123" || info.IVRText != "Inbound call on "+phoneDID ||
		!strings.Contains(info.IVRData, "did="+phoneDID) {
		t.Fatalf("call info: %+v", info)
	}
	talk(t, leg, aliceHz, cust, customerHz)
	if err := st.Engine.SetNotes(ctx, alice, info.InteractionID, "on a real phone"); err != nil {
		t.Fatal(err)
	}
	if err := cust.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	w.Next("wrap.started", 10*time.Second)
	leg.WaitSilence(10 * time.Second) // the customer is gone; the leg stays up
	if err := st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentReady, 5*time.Second)

	// The second caller reaches alice over the same leg.
	cust2, err := carrier.Call(ctx, phoneDID, "+447700900456")
	if err != nil {
		t.Fatal(err)
	}
	info2 := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	if info2.InteractionID == info.InteractionID || info2.CustomerNumber != "+447700900456" {
		t.Fatalf("second call: %+v", info2)
	}
	talk(t, leg, aliceHz, cust2, customerHz)
	if n := phone.Invites(); n != 1 {
		t.Fatalf("phone 1001 received %d INVITEs, want the one of the nailed-up leg", n)
	}
	select {
	case <-leg.Ended():
		t.Fatalf("the nailed-up leg ended: %s", leg.EndReason())
	default:
	}
	// The agent hangs up from the desktop: the customer's call ends, the
	// leg stays.
	if err := st.Engine.Hangup(ctx, alice); err != nil {
		t.Fatal(err)
	}
	cust2.WaitEnded(10 * time.Second)
	st.WaitState(t, alice, cti.AgentOnWrap, 10*time.Second)
	if err := st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"}); err != nil {
		t.Fatal(err)
	}
	st.Engine.Flush(ctx)
	var rows []struct{ State, Notes string }
	st.DB.Raw(`SELECT state, notes FROM interactions ORDER BY created_at`).Scan(&rows)
	if len(rows) != 2 || rows[0].State != "wrapped" || rows[0].Notes != "on a real phone" || rows[1].State != "wrapped" {
		t.Fatalf("records: %+v", rows)
	}
}

// TestAsteriskPhoneAgentCallsSystem: alice connects in agent-calls mode and
// dials 8000 from her phone; ctid answers, she is connected (Paused), and
// a caller reaches her over that leg with audio both ways. She hangs up
// her phone, reconnects the same way (her first bridge id is spent in
// Asterisk) and takes another call, with audio.
func TestAsteriskPhoneAgentCallsSystem(t *testing.T) {
	r := newPhoneRig(t, 10*time.Second)
	st, alice := r.st, r.alice
	ctx := context.Background()
	phone := sipphone.NewPhone(t, r.ast, "1001", sipphone.WithTone(aliceHz))
	carrier := sipphone.NewCarrier(t, r.ast, sipphone.WithTone(customerHz))
	w := st.WatchAgent(t, alice)

	st.Engine.Login(ctx, alice)
	if err := st.Engine.Connect(ctx, alice, cti.ConnectRequest{Mode: cti.PhoneAgentCalls}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentConnecting, 5*time.Second)
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	leg, err := phone.Dial(dctx, "8000") // [agent-login] in asterisk-conf/extensions.conf
	if err != nil {
		t.Fatal(err)
	}
	w.Next("phone.connected", 10*time.Second)
	st.WaitState(t, alice, cti.AgentPaused, 10*time.Second)
	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}
	cust, err := carrier.Call(ctx, phoneDID, "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	info := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	if info.Direction != "IN" || info.CustomerNumber != "+447700900123" {
		t.Fatalf("call info: %+v", info)
	}
	talk(t, leg, aliceHz, cust, customerHz)
	if err := cust.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	w.Next("wrap.started", 10*time.Second)
	if n := phone.Invites(); n != 0 {
		t.Fatalf("the phone received %d INVITEs; it placed the only call", n)
	}
	if err := st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentPaused, 5*time.Second)

	// She hangs up her phone: the connection is gone. She reconnects the
	// same way (her old bridge id is spent in Asterisk) and takes a call.
	if err := leg.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	w.Next("phone.disconnected", 10*time.Second)
	ctitest.Eventually(t, 10*time.Second, "alice without a phone", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.State.State == cti.AgentLoggedIn
	})
	if err := st.Engine.Connect(ctx, alice, cti.ConnectRequest{Mode: cti.PhoneAgentCalls}); err != nil {
		t.Fatal(err)
	}
	leg2, err := phone.Dial(dctx, "8000")
	if err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentPaused, 10*time.Second)
	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}
	cust2, err := carrier.Call(ctx, phoneDID, "+447700900456")
	if err != nil {
		t.Fatal(err)
	}
	w.Next("call.connected", 15*time.Second)
	talk(t, leg2, aliceHz, cust2, customerHz)
}

// TestAsteriskPhoneNoAnswerAutoPause: bob (non-persistent) is Ready; his
// phone rings (the caller hears music meanwhile) and is never answered:
// after the offer timeout he is in Auto Pause, the caller is still
// queued, and reaches alice (persistent) once she is Ready, with audio
// both ways. (What the requeued caller hears is TestAsteriskPhoneQueueMusic.)
func TestAsteriskPhoneNoAnswerAutoPause(t *testing.T) {
	r := newPhoneRig(t, 3*time.Second)
	st, alice, bob := r.st, r.alice, r.bob
	ctx := context.Background()
	alicePhone := sipphone.NewPhone(t, r.ast, "1001", sipphone.WithTone(aliceHz))
	bobPhone := sipphone.NewPhone(t, r.ast, "1002", sipphone.WithTone(bobHz), sipphone.WithPolicy(sipphone.NeverAnswer))
	carrier := sipphone.NewCarrier(t, r.ast, sipphone.WithTone(customerHz))
	w := st.WatchAgent(t, alice)

	leg := r.connectPersistent(t, alice, alicePhone) // Paused
	r.connectRinging(t, bob, "1002")
	cust, err := carrier.Call(ctx, phoneDID, "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	ring := bobPhone.NextCall(10 * time.Second)
	if ring.Dialled != "1002" || ring.From != "+447700900123" {
		t.Errorf("bob's phone INVITE: %v", ring)
	}
	t.Logf("while bob's phone rings the caller hears %v", cust.WaitBroadband(5*time.Second, aliceHz, bobHz))
	ring.WaitEnded(15 * time.Second) // cancelled at the offer timeout
	snap := st.WaitState(t, bob, cti.AgentPaused, 10*time.Second)
	if snap.State.PauseReason != "Auto Pause" {
		t.Fatalf("bob after the unanswered offer: %+v", snap.State)
	}
	select {
	case <-cust.Ended():
		t.Fatalf("the caller was dropped: %s", cust.EndReason())
	default:
	}
	if s, _ := st.Engine.Snapshot(ctx, alice); s.State.State != cti.AgentPaused || s.Call != nil {
		t.Fatalf("alice: %+v", s.State)
	}

	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}
	info := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	if info.CustomerNumber != "+447700900123" {
		t.Fatalf("call info: %+v", info)
	}
	talk(t, leg, aliceHz, cust, customerHz)
	if n := bobPhone.Invites(); n != 1 {
		t.Fatalf("bob's phone received %d INVITEs, want 1", n)
	}
	cust.Hangup(ctx)
	w.Next("wrap.started", 10*time.Second)
}

// TestAsteriskPhoneQueueMusic: a queued caller hears music on hold, also
// after an agent missed their call, and so does the next caller once the
// holding bridge has been empty. (Asterisk 22.10.1 hangs up the ARI music
// announcer of a holding bridge as soon as the bridge has no participant,
// even for a moment; park() restarts the music after every join.)
func TestAsteriskPhoneQueueMusic(t *testing.T) {
	r := newPhoneRig(t, 3*time.Second)
	st, alice, bob := r.st, r.alice, r.bob
	ctx := context.Background()
	alicePhone := sipphone.NewPhone(t, r.ast, "1001", sipphone.WithTone(aliceHz))
	sipphone.NewPhone(t, r.ast, "1002", sipphone.WithTone(bobHz), sipphone.WithPolicy(sipphone.NeverAnswer))
	carrier := sipphone.NewCarrier(t, r.ast, sipphone.WithTone(customerHz))
	w := st.WatchAgent(t, alice)
	r.connectPersistent(t, alice, alicePhone)

	// (b) first: a caller waits, is answered, the bridge empties; the next
	// caller must hear music.
	cust, err := carrier.Call(ctx, phoneDID, "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	cust.WaitBroadband(10*time.Second, aliceHz)
	st.Engine.SetReady(ctx, alice)
	w.Next("call.connected", 15*time.Second)
	cust.WaitHears(aliceHz, 10*time.Second)
	cust.Hangup(ctx)
	w.Next("wrap.started", 10*time.Second)
	st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"})
	next, err := carrier.Call(ctx, phoneDID, "+447700900124")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the next caller hears %v", next.WaitBroadband(10*time.Second, aliceHz))

	// (a): bob misses the call; the requeued caller must still hear music.
	r.connectRinging(t, bob, "1002")
	ctitest.Eventually(t, 15*time.Second, "bob in Auto Pause", func() bool {
		s, _ := st.Engine.Snapshot(ctx, bob)
		return s.State.PauseReason == "Auto Pause"
	})
	t.Logf("after the missed offer the caller hears %v", next.WaitBroadband(10*time.Second, aliceHz, bobHz))
}

// TestAsteriskPhoneManualOutbound: alice dials a customer through the
// trunk, with a campaign (the carrier is asked for the E.164 number and
// shown the campaign's platform number) and with "skip campaign"; audio
// both ways each time.
func TestAsteriskPhoneManualOutbound(t *testing.T) {
	r := newPhoneRig(t, 10*time.Second)
	st, alice := r.st, r.alice
	ctx := context.Background()
	phone := sipphone.NewPhone(t, r.ast, "1001", sipphone.WithTone(aliceHz))
	carrier := sipphone.NewCarrier(t, r.ast, sipphone.WithTone(customerHz))
	w := st.WatchAgent(t, alice)
	leg := r.connectPersistent(t, alice, phone)

	camp := r.camp
	out, err := st.Engine.Dial(ctx, alice, cti.DialRequest{Number: "020 7946 0000", CampaignID: &camp})
	if err != nil {
		t.Fatal(err)
	}
	in := carrier.NextCall(10 * time.Second)
	if in.Dialled != "+442079460000" {
		t.Errorf("the carrier was asked for %q, want +442079460000", in.Dialled)
	}
	if in.From != "+442071234567" || (in.PAI != "" && in.PAI != "+442071234567") {
		t.Errorf("caller id presented with a campaign: From %q PAI %q, want the platform number +442071234567", in.From, in.PAI)
	}
	got := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	if got.InteractionID != out.InteractionID || got.CustomerNumber != "+442079460000" || got.Direction != "OUT" {
		t.Fatalf("outbound: %+v", got)
	}
	talk(t, leg, aliceHz, in, customerHz)
	in.Hangup(ctx) // the customer hangs up
	w.Next("wrap.started", 10*time.Second)
	if err := st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentPaused, 5*time.Second)

	// Skip campaign: no platform number, so ctid sets no caller id on the
	// originate, and today Asterisk presents the call as anonymous (From
	// "Anonymous" <sip:anonymous@...>, no P-Asserted-Identity).
	out2, err := st.Engine.Dial(ctx, alice, cti.DialRequest{Number: "+442079460001"})
	if err != nil {
		t.Fatal(err)
	}
	in2 := carrier.NextCall(10 * time.Second)
	if in2.Dialled != "+442079460001" {
		t.Errorf("the carrier was asked for %q, want +442079460001", in2.Dialled)
	}
	t.Logf("caller id presented without a campaign: From %q <%s>, PAI %q", in2.FromName, in2.From, in2.PAI)
	if in2.From != "anonymous" || in2.PAI != "" {
		t.Errorf("skip-campaign caller id changed: From %q PAI %q (was anonymous, no PAI)", in2.From, in2.PAI)
	}
	got2 := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	if got2.InteractionID != out2.InteractionID || got2.CampaignID != nil {
		t.Fatalf("skip-campaign outbound: %+v", got2)
	}
	talk(t, leg, aliceHz, in2, customerHz)
	if err := st.Engine.Hangup(ctx, alice); err != nil {
		t.Fatal(err)
	}
	in2.WaitEnded(10 * time.Second)
	st.WaitState(t, alice, cti.AgentOnWrap, 10*time.Second)
}
