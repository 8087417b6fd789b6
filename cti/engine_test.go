package cti_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var bg = context.Background()

const did = "+442071234567"

type fixture struct {
	*ctitest.Stack
	alice, bob int64
	camp       int64
}

func setup(t *testing.T, spec ctitest.CampaignSpec, o ctitest.Options) *fixture {
	f := &fixture{}
	f.Stack = ctitest.StartSeeded(t, o, func(db *gorm.DB) {
		f.alice = ctitest.Agent(t, db, "alice", "1001")
		f.bob = ctitest.Agent(t, db, "bob", "1002")
		spec.Agents = []int64{f.alice, f.bob}
		if spec.Name == "" {
			spec.Name = "Sales"
		}
		if spec.DID == "" {
			spec.DID = did
		}
		if spec.Codes == nil {
			spec.Codes = []string{"SALE", "NOSALE"}
		}
		spec.Platform = did
		f.camp = ctitest.Campaign(t, db, spec)
	})
	return f
}

// loginPersistent logs an agent in with a persistent system-calls-agent
// connection to an extension that answers.
func (f *fixture) loginPersistent(t *testing.T, id int64, ext string) {
	t.Helper()
	f.Double.Script("PJSIP/"+ext, aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	if _, err := f.Engine.Login(bg, id); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.Connect(bg, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: ext, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, id, cti.AgentPaused, 5*time.Second)
}

// fakeSetup is setup on a fake clock that drives the engine and the
// double: wrap limits, offer timeouts and idle order are exact and cost no
// real time.
func fakeSetup(t *testing.T, spec ctitest.CampaignSpec, o ctitest.Options) (*fixture, *aritest.FakeClock) {
	o.FakeClock = aritest.NewFakeClock(time.Now())
	return setup(t, spec, o), o.FakeClock
}

// loginAnswering logs an agent in with a persistent connection to an
// extension that answers at once (no timer: works on a still fake clock).
func (f *fixture) loginAnswering(t *testing.T, id int64, ext string) {
	t.Helper()
	f.Double.Script("PJSIP/"+ext, aritest.Behavior{})
	if _, err := f.Engine.Login(bg, id); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.Connect(bg, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: ext, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, id, cti.AgentPaused, 15*time.Second)
}

func decode[T any](t *testing.T, e cti.Envelope) T {
	var v T
	if err := json.Unmarshal(e.Data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestInboundCallPersistentAgentFullCycle(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	f.loginPersistent(t, f.alice, "1001")
	if err := f.Engine.SetReady(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	cust := f.Double.Inbound("ctid", []string{"inbound", did, "Sales line", "acct=42"}, "+447700900123", did, nil)
	info := decode[cti.CallInfo](t, w.Next("call.connected", 5*time.Second))
	if info.Direction != "IN" || info.CustomerNumber != "+447700900123" || info.PlatformNumber != did ||
		info.CampaignName != "Sales" || info.IVRText != "Sales line" || info.IVRData != "acct=42" {
		t.Fatalf("call info wrong: %+v", info)
	}
	snap := f.WaitState(t, f.alice, cti.AgentOnCall, 15*time.Second)
	// The caller is in the agent's own bridge with the agent leg.
	b, ok := f.Double.Bridge("agent-" + itoa(f.alice))
	if !ok || len(b.Channels) != 2 {
		t.Fatalf("agent bridge: %+v", b)
	}
	if err := f.Engine.SetNotes(bg, f.alice, snap.Call.InteractionID, "wants a callback"); err != nil {
		t.Fatal(err)
	}
	// Ready is refused mid-call, state unchanged.
	if err := f.Engine.SetReady(bg, f.alice); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("SetReady on call: %v, want conflict", err)
	}
	f.Double.HangupChannel(cust, 16)
	w.Next("wrap.started", 5*time.Second)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 15*time.Second)
	// The persistent agent leg stays up in its bridge.
	if b, _ := f.Double.Bridge("agent-" + itoa(f.alice)); len(b.Channels) != 1 {
		t.Fatalf("agent leg should stay in its bridge: %+v", b)
	}
	if err := f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "BOGUS"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("bogus wrap code: %v", err)
	}
	if err := f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "SALE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentReady, 15*time.Second)
	f.Engine.Flush(bg)
	var rec struct {
		State, WrapCode, Notes, Direction, CustomerNumber string
		QueueMs                                           int64
	}
	f.DB.Raw(`SELECT state, wrap_code, notes, direction, customer_number, queue_ms FROM interactions WHERE id = ?`, info.InteractionID).Scan(&rec)
	if rec.State != "wrapped" || rec.WrapCode != "SALE" || rec.Notes != "wants a callback" || rec.Direction != "IN" {
		t.Fatalf("interaction record: %+v", rec)
	}
	var history []string
	f.DB.Raw(`SELECT to_state FROM interaction_events WHERE interaction_id = ? ORDER BY id`, info.InteractionID).Scan(&history)
	if want := "queued offering connected ended wrapped"; join(history) != want {
		t.Fatalf("history %q, want %q", join(history), want)
	}
	var agentStates []string
	f.DB.Raw(`SELECT to_state FROM agent_state_history WHERE user_id = ? ORDER BY id`, f.alice).Scan(&agentStates)
	if want := "logged_in connecting paused ready reserved on_call on_wrap ready"; join(agentStates) != want {
		t.Fatalf("agent history %q, want %q", join(agentStates), want)
	}
}

// On the fake clock: alice's phone rings for exactly the offer timeout, not
// a moment less, then she is auto-paused and the call goes to bob.
func TestNonPersistentMissGoesAutoPauseAndCallRequeues(t *testing.T) {
	const offer = 15 * time.Second
	f, fc := fakeSetup(t, ctitest.CampaignSpec{}, ctitest.Options{OfferTimeout: offer})
	f.Double.Script("PJSIP/1001", aritest.Behavior{NoAnswer: true})
	f.Double.Script("PJSIP/1002", aritest.Behavior{}) // answers at once
	for _, id := range []int64{f.alice, f.bob} {
		f.Engine.Login(bg, id)
		num := map[int64]string{f.alice: "1001", f.bob: "1002"}[id]
		if err := f.Engine.Connect(bg, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: num}); err != nil {
			t.Fatal(err)
		}
	}
	// Alice has idled longer, so she is offered the call first.
	if err := f.Engine.SetReady(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	fc.Advance(time.Second)
	if err := f.Engine.SetReady(bg, f.bob); err != nil {
		t.Fatal(err)
	}
	wb := f.WatchAgent(t, f.bob)
	f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900124", did, nil)
	f.WaitState(t, f.alice, cti.AgentReserved, 15*time.Second)
	ctitest.Eventually(t, 15*time.Second, "alice's phone ringing", func() bool {
		for _, c := range f.Double.Channels() {
			if strings.HasPrefix(c.Name, "PJSIP/1001-") && c.State == "Ringing" {
				return true
			}
		}
		return false
	})
	fc.Advance(offer - time.Millisecond)
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentReserved {
		t.Fatalf("alice %s a millisecond before the offer timeout, want still reserved", s.State.State)
	}
	fc.Advance(time.Millisecond)
	snap := f.WaitState(t, f.alice, cti.AgentPaused, 15*time.Second)
	if snap.State.PauseReason != "Auto Pause" {
		t.Fatalf("alice pause reason %q, want Auto Pause", snap.State.PauseReason)
	}
	info := decode[cti.CallInfo](t, wb.Next("call.connected", 15*time.Second))
	if info.CustomerNumber != "+447700900124" {
		t.Fatalf("bob got %+v", info)
	}
	f.Engine.Flush(bg)
	var history []string
	f.DB.Raw(`SELECT to_state FROM interaction_events WHERE interaction_id = ? ORDER BY id`, info.InteractionID).Scan(&history)
	if want := "queued offering queued offering connected"; join(history) != want {
		t.Fatalf("history %q, want %q", join(history), want)
	}
}

func TestManualOutboundCallAndAgentHangup(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.loginPersistent(t, f.alice, "1001")
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	w := f.WatchAgent(t, f.alice)
	// Bad numbers are refused and change nothing.
	if _, err := f.Engine.Dial(bg, f.alice, cti.DialRequest{Number: "not a number"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("nonsense number: %v", err)
	}
	f.WaitState(t, f.alice, cti.AgentPaused, 15*time.Second)
	camp := f.camp
	info, err := f.Engine.Dial(bg, f.alice, cti.DialRequest{Number: "020 7946 0000", CampaignID: &camp})
	if err != nil {
		t.Fatal(err)
	}
	if info.CustomerNumber != "+442079460000" || info.Direction != "OUT" || info.PlatformNumber != did {
		t.Fatalf("dial info %+v", info)
	}
	w.Next("call.connected", 5*time.Second)
	ch, ok := f.Double.Channel("cu-" + info.InteractionID)
	if !ok || ch.CallerNumber != did {
		t.Fatalf("customer leg caller id: %+v", ch)
	}
	if err := f.Engine.Hangup(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 5*time.Second)
	if err := f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "NOSALE", Next: "paused", Reason: "Break"}); err != nil {
		t.Fatal(err)
	}
	snap := f.WaitState(t, f.alice, cti.AgentPaused, 15*time.Second)
	if snap.State.PauseReason != "Break" {
		t.Fatalf("pause reason %q", snap.State.PauseReason)
	}
}

func TestManualCallSkipCampaignBusy(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.loginPersistent(t, f.alice, "1001")
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{Busy: true, RingFor: 20 * time.Millisecond})
	f.Engine.SetReady(bg, f.alice)
	if _, err := f.Engine.Dial(bg, f.alice, cti.DialRequest{Number: "+44 20 7946 0001"}); err != nil {
		t.Fatal(err)
	}
	snap := f.WaitState(t, f.alice, cti.AgentOnWrap, 5*time.Second)
	if snap.Call == nil || snap.Call.EndReason != "busy" || snap.Call.CampaignID != nil {
		t.Fatalf("busy call: %+v", snap.Call)
	}
	// A skipped-campaign call has no wrap codes; wrap without one.
	if err := f.Engine.Wrap(bg, f.alice, cti.WrapRequest{}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentReady, 15*time.Second)
}

// On the fake clock: the wrap deadline is exact, an extension moves it by
// the campaign's seconds, and auto-wrap fires at the new deadline, not a
// millisecond before.
func TestAutoWrapAppliesDefaultCodeAndExtend(t *testing.T) {
	const limit, extend = 30 * time.Second, 15 * time.Second
	f, fc := fakeSetup(t, ctitest.CampaignSpec{WrapLimit: 30, ExtendWrap: 15}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	f.loginAnswering(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	cust := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900125", did, nil)
	info := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	f.Double.HangupChannel(cust, 16)
	wrap := decode[cti.WrapView](t, w.Next("wrap.started", 15*time.Second))
	started := fc.Now()
	if wrap.Deadline == nil || !wrap.Deadline.Equal(started.Add(limit)) || wrap.DefaultCode != "SALE" || wrap.ExtendSeconds != 15 {
		t.Fatalf("wrap view %+v, want deadline %v (wrap start + %v)", wrap, started.Add(limit), limit)
	}
	fc.Advance(20 * time.Second)
	if err := f.Engine.ExtendWrap(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	ext := decode[cti.WrapView](t, w.Next("wrap.extended", 15*time.Second))
	if ext.Deadline == nil || !ext.Deadline.Equal(started.Add(limit+extend)) {
		t.Fatalf("extended deadline %v, want %v (the old deadline + %v)", ext.Deadline, started.Add(limit+extend), extend)
	}
	fc.Advance(limit + extend - 20*time.Second - time.Millisecond)
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentOnWrap {
		t.Fatalf("alice %s a millisecond before the extended deadline, want on wrap", s.State.State)
	}
	fc.Advance(time.Millisecond)
	w.Next("wrap.auto", 15*time.Second)
	f.WaitState(t, f.alice, cti.AgentReady, 15*time.Second)
	f.Engine.Flush(bg)
	var code string
	f.DB.Raw(`SELECT wrap_code FROM interactions WHERE id = ?`, info.InteractionID).Scan(&code)
	if code != "SALE" {
		t.Fatalf("auto-wrap code %q, want default SALE", code)
	}
}

// On the fake clock: with nobody to take them, a caller who hangs up after
// 10 s is recorded as abandoned; the other waits exactly the campaign's
// 30 s (not a millisecond less) and overflows to its context.
func TestQueuedCallerOverflowsAndAbandonIsRecorded(t *testing.T) {
	f, fc := fakeSetup(t, ctitest.CampaignSpec{MaxQueue: 30, OverflowContext: "voicemail"}, ctitest.Options{})
	queued := func(n int) {
		t.Helper()
		ctitest.Eventually(t, 15*time.Second, fmt.Sprintf("%d queued", n), func() bool {
			s, _ := f.Engine.Stats(bg)
			return s.Queued == n
		})
	}
	overflowed := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900126", did, nil)
	abandoned := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900127", did, nil)
	queued(2)
	fc.Advance(10 * time.Second)
	f.Double.HangupChannel(abandoned, 16)
	queued(1)
	fc.Advance(20*time.Second - time.Millisecond)
	if ch, ok := f.Double.Channel(overflowed); !ok || ch.Context == "voicemail" {
		t.Fatalf("a millisecond before the queue limit: %+v (found %v), want still queued", ch, ok)
	}
	fc.Advance(time.Millisecond)
	ctitest.Eventually(t, 15*time.Second, "overflow", func() bool {
		ch, ok := f.Double.Channel(overflowed)
		return ok && ch.Context == "voicemail"
	})
	f.Engine.Sync(bg)
	f.Engine.Flush(bg)
	var rows []struct{ CustomerNumber, State, EndReason string }
	f.DB.Raw(`SELECT customer_number, state, end_reason FROM interactions ORDER BY customer_number`).Scan(&rows)
	if len(rows) != 2 || rows[0].EndReason != "overflow to voicemail" || rows[1].EndReason != "abandoned in queue" ||
		rows[0].State != "ended" || rows[1].State != "ended" {
		t.Fatalf("records: %+v", rows)
	}
}

func TestUnknownDIDStillLeavesARecord(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.Double.Inbound("ctid", []string{"inbound", "+449999999999"}, "+447700900128", "+449999999999", nil)
	ctitest.Eventually(t, 5*time.Second, "record", func() bool {
		f.Engine.Flush(bg)
		var n int64
		f.DB.Raw(`SELECT count(*) FROM interactions WHERE end_reason LIKE 'unknown DID%'`).Scan(&n)
		return n == 1
	})
}

func TestInvalidTransitionsChangeNothing(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	if err := f.Engine.SetReady(bg, f.alice); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("ready before login: %v", err)
	}
	f.Engine.Login(bg, f.alice)
	if err := f.Engine.SetReady(bg, f.alice); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("ready without phone: %v", err)
	}
	if err := f.Engine.Connect(bg, f.alice, cti.ConnectRequest{Mode: "carrier pigeon"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("bad mode: %v", err)
	}
	f.loginPersistent(t, f.alice, "1001")
	if err := f.Engine.SetPaused(bg, f.alice, "Auto Pause"); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("agents cannot choose the system reason: %v", err)
	}
	if err := f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "SALE"}); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("wrap without call: %v", err)
	}
	if err := f.Engine.ExtendWrap(bg, f.alice); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("extend: %v", err)
	}
	f.WaitState(t, f.alice, cti.AgentPaused, 15*time.Second)
}

func TestAgentPhoneDropDuringCallEndsCallAndNeedsReconnect(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.loginPersistent(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	w := f.WatchAgent(t, f.alice)
	cust := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900129", did, nil)
	w.Next("call.connected", 5*time.Second)
	b, _ := f.Double.Bridge("agent-" + itoa(f.alice))
	for _, ch := range b.Channels {
		if ch != cust {
			f.Double.HangupChannel(ch, 16)
		}
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 5*time.Second)
	ctitest.Eventually(t, 5*time.Second, "customer hung up", func() bool { _, ok := f.Double.Channel(cust); return !ok })
	if err := f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "SALE"}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentLoggedIn, 15*time.Second)
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAgentCallsSystemConnection(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.Engine.Login(bg, f.alice)
	if err := f.Engine.Connect(bg, f.alice, cti.ConnectRequest{Mode: cti.PhoneAgentCalls, Number: "1001"}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentConnecting, 15*time.Second)
	// A call from a number no connecting agent gave is refused.
	stranger, _ := f.Double.InboundCall(aritest.Call{App: "ctid", Args: []string{"agentlogin", "1009"}, From: "1009", To: "8000", Endpoint: "1009"})
	// Caller-id is not who calls: endpoint 1009 presenting 1001 is refused too.
	spoof, _ := f.Double.InboundCall(aritest.Call{App: "ctid", Args: []string{"agentlogin", "1001"}, From: "1001", To: "8000", Endpoint: "1009"})
	// The agent dials 8000 from their phone: [agent-login] → Stasis(ctid,agentlogin,<callerid>),
	// matched by the authenticated endpoint (CTI_ENDPOINT / the channel name).
	leg, _ := f.Double.InboundCall(aritest.Call{App: "ctid", Args: []string{"agentlogin", "1001"}, From: "1001", To: "8000", Endpoint: "1001"})
	snap := f.WaitState(t, f.alice, cti.AgentPaused, 5*time.Second)
	if !snap.Phone.Connected || snap.Phone.Mode != cti.PhoneAgentCalls {
		t.Fatalf("phone %+v", snap.Phone)
	}
	if b, _ := f.Double.Bridge("agent-" + itoa(f.alice)); len(b.Channels) != 1 || b.Channels[0] != leg {
		t.Fatalf("agent bridge %+v", b)
	}
	ctitest.Eventually(t, 5*time.Second, "stranger hung up", func() bool { _, ok := f.Double.Channel(stranger); return !ok })
	ctitest.Eventually(t, 5*time.Second, "spoofed caller-id hung up", func() bool { _, ok := f.Double.Channel(spoof); return !ok })
	// Calls reach the agent through that leg.
	f.Engine.SetReady(bg, f.alice)
	w := f.WatchAgent(t, f.alice)
	f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900300", did, nil)
	w.Next("call.connected", 5*time.Second)
	// Hanging up the phone ends the connection.
	f.Double.HangupChannel(leg, 16)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 5*time.Second)
	f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "SALE"})
	f.WaitState(t, f.alice, cti.AgentLoggedIn, 15*time.Second)
}

// goneCaller makes adding a caller to an agent's bridge fail as Asterisk
// does when the caller hung up a moment ago (their event not yet handled).
type goneCaller struct{ cti.Telephony }

func (g goneCaller) AddToBridge(ctx context.Context, bridge, ch string, absorb bool) error {
	if strings.HasPrefix(bridge, "agent-") && !strings.HasPrefix(ch, "ap-") {
		return &ari.Error{Op: "Bridges.AddChannel", Status: 400, Message: "Channel not found"}
	}
	return g.Telephony.AddToBridge(ctx, bridge, ch, absorb)
}

func TestCallerGoneAtConnectEndsCallWithoutRetrying(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{Tune: func(o *cti.Options) { o.Telephony = goneCaller{o.Telephony} }})
	f.loginPersistent(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900400", did, nil)
	ctitest.Eventually(t, 5*time.Second, "record ended", func() bool {
		f.Engine.Flush(bg)
		var st string
		f.DB.Raw(`SELECT state FROM interactions WHERE customer_number = '+447700900400'`).Scan(&st)
		return st == "ended"
	})
	// Alice is Ready again, not paused, and was offered the call once.
	f.WaitState(t, f.alice, cti.AgentReady, 15*time.Second)
	f.Engine.Flush(bg)
	var offers int64
	f.DB.Raw(`SELECT count(*) FROM agent_state_history WHERE user_id = ? AND to_state = 'reserved'`, f.alice).Scan(&offers)
	if offers != 1 {
		var h []string
		f.DB.Raw(`SELECT from_state || '>' || to_state FROM agent_state_history WHERE user_id = ? ORDER BY id`, f.alice).Scan(&h)
		t.Fatalf("alice was offered the gone caller %d times: %v", offers, h)
	}
}

// TestLongestIdleAgentTakesTheCall: callers go to the agent who has been
// Ready longest, and an agent back from a call joins the end of the line.
func TestLongestIdleAgentTakesTheCall(t *testing.T) {
	f, fc := fakeSetup(t, ctitest.CampaignSpec{WrapLimit: 30}, ctitest.Options{})
	f.loginAnswering(t, f.bob, "1002")
	f.loginAnswering(t, f.alice, "1001")
	// Bob becomes Ready first, then Alice, a second later.
	for _, id := range []int64{f.bob, f.alice} {
		if err := f.Engine.SetReady(bg, id); err != nil {
			t.Fatal(err)
		}
		fc.Advance(time.Second)
	}
	cust := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900001", did, nil)
	f.WaitState(t, f.bob, cti.AgentOnCall, 15*time.Second)
	f.Double.HangupChannel(cust, 16)
	f.WaitState(t, f.bob, cti.AgentOnWrap, 15*time.Second)
	fc.Advance(30 * time.Second) // auto-wrap: bob is Ready again, at the end of the line
	f.WaitState(t, f.bob, cti.AgentReady, 15*time.Second)
	// Alice has now been idle longer than Bob.
	cust = f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900002", did, nil)
	f.WaitState(t, f.alice, cti.AgentOnCall, 15*time.Second)
	if bad := f.Engine.CheckInvariants(bg); len(bad) > 0 {
		t.Fatal(bad)
	}
	f.Double.HangupChannel(cust, 16)
}

// Issue 12: a second login of the same agent that asks for another phone is
// refused, naming the phone that holds them; the first connection is
// untouched (same leg, same state).
func TestSecondLoginOnAnotherPhoneIsRefused(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.loginPersistent(t, f.alice, "1001")
	before, _ := f.Engine.Snapshot(bg, f.alice)
	if _, err := f.Engine.Login(bg, f.alice); err != nil { // the second desk logs in
		t.Fatal(err)
	}
	f.Double.Script("PJSIP/1002", aritest.Behavior{})
	err := f.Engine.Connect(bg, f.alice, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1002", Persistent: true})
	if cti.KindOf(err) != cti.KindConflict || !strings.Contains(err.Error(), "phone 1001") {
		t.Fatalf("second phone: %v", err)
	}
	after, _ := f.Engine.Snapshot(bg, f.alice)
	if after.State.State != before.State.State || after.Phone != before.Phone || !after.Phone.Connected {
		t.Fatalf("the first connection changed: %+v -> %+v", before, after)
	}
	for _, ch := range f.Double.Channels() {
		if strings.Contains(ch.Name, "1002") {
			t.Fatalf("the second phone was called: %s", ch.Name)
		}
	}
}
