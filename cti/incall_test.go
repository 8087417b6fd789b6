package cti_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// inCall puts alice (persistent, 1001) on an inbound call and returns the
// customer channel and the interaction id.
func (f *fixture) inCall(t *testing.T, w *ctitest.Watch) (cust, iid string) {
	t.Helper()
	f.loginPersistent(t, f.alice, "1001")
	if err := f.Engine.SetReady(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	cust = f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900200", did, nil)
	info := decode[cti.CallInfo](t, w.Next("call.connected", 5*time.Second))
	return cust, info.InteractionID
}

func bridgeOf(f *fixture, ch string) string {
	st, _ := f.Double.Channel(ch)
	return st.Bridge
}

func TestBlindTransferToNumber(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, iid := f.inCall(t, w)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 50 * time.Millisecond})
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "not-a-number"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("malformed number: %v", err)
	}
	v, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "020 7946 0999"})
	if err != nil {
		t.Fatal(err)
	}
	if v.State != cti.XferRinging {
		t.Fatalf("transfer %+v", v)
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 5*time.Second)
	leg := "xf-" + v.ID
	ctitest.Eventually(t, 15*time.Second, "customer bridged with destination", func() bool {
		b := bridgeOf(f, cust)
		return b != "" && b == bridgeOf(f, leg)
	})
	// The persistent agent leg is alone in its own bridge again.
	if b, _ := f.Double.Bridge("agent-" + itoa(f.alice)); len(b.Channels) != 1 {
		t.Fatalf("agent bridge %+v", b)
	}
	f.Double.HangupChannel(cust, 16)
	ctitest.Eventually(t, 15*time.Second, "destination hung up", func() bool { _, ok := f.Double.Channel(leg); return !ok })
	f.Engine.Sync(bg)
	f.Engine.Flush(bg)
	var rows []struct{ ID, State, ParentID, EndReason string }
	f.DB.Raw(`SELECT id, state, coalesce(parent_id,'') AS parent_id, end_reason FROM interactions ORDER BY created_at`).Scan(&rows)
	if len(rows) != 2 || rows[0].ID != iid || rows[1].ParentID != iid || rows[1].State != "ended" ||
		!strings.HasPrefix(rows[0].EndReason, "transferred to number") {
		t.Fatalf("records %+v", rows)
	}
}

func TestConsultMergeConferenceLimitAndLeave(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	v, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460001", Mode: "consult"})
	if err != nil {
		t.Fatal(err)
	}
	// While consulting the customer is held away from the talk bridge.
	ctitest.Eventually(t, 15*time.Second, "consulting", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.alice)
		return s.Transfer != nil && s.Transfer.State == cti.XferConsulting
	})
	if b := bridgeOf(f, cust); !strings.HasPrefix(b, "hold-") {
		t.Fatalf("customer should be on hold, is in %q", b)
	}
	if _, err := f.Engine.TransferAction(bg, f.alice, "merge"); err != nil {
		t.Fatal(err)
	}
	talk := "agent-" + itoa(f.alice)
	if bridgeOf(f, cust) != talk || bridgeOf(f, "xf-"+v.ID) != talk {
		t.Fatalf("merge: customer in %q, party in %q", bridgeOf(f, cust), bridgeOf(f, "xf-"+v.ID))
	}
	for i := 2; i <= 3; i++ { // the default limit: 3 parties besides customer and agent
		if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+44207946000" + itoa(int64(i))}); err != nil {
			t.Fatalf("add party %d: %v", i, err)
		}
		ctitest.Eventually(t, 15*time.Second, "party joined", func() bool {
			s, _ := f.Engine.Snapshot(bg, f.alice)
			return s.Conference != nil && len(s.Conference.Parties) == i && s.Transfer == nil
		})
	}
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460005"}); cti.KindOf(err) != cti.KindConflict ||
		!strings.Contains(err.Error(), "full") {
		t.Fatalf("4th party: %v", err)
	}
	if err := f.Engine.Hangup(bg, f.alice); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("plain hang-up in conference should ask leave/terminate: %v", err)
	}
	if err := f.Engine.ConferenceEnd(bg, f.alice, false); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 15*time.Second)
	// The conference goes on without the agent: customer + 3 parties.
	b, _ := f.Double.Bridge(bridgeOf(f, cust))
	if len(b.Channels) != 4 || b.ID == talk {
		t.Fatalf("conference after leave: %+v", b)
	}
	f.Double.HangupChannel(cust, 16)
	ctitest.Eventually(t, 15*time.Second, "parties released", func() bool {
		for _, ch := range f.Double.Channels() {
			if strings.HasPrefix(ch.ID, "xf-") {
				return false
			}
		}
		return true
	})
}

func TestConsultTerminateEndsAll(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460001", Mode: "consult"})
	ctitest.Eventually(t, 15*time.Second, "consulting", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.alice)
		return s.Transfer != nil && s.Transfer.State == cti.XferConsulting
	})
	if _, err := f.Engine.TransferAction(bg, f.alice, "merge"); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.ConferenceEnd(bg, f.alice, true); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 15*time.Second)
	ctitest.Eventually(t, 15*time.Second, "everyone hung up", func() bool {
		_, c := f.Double.Channel(cust)
		return !c && len(f.Double.Channels()) == 1 // only the agent's persistent leg
	})
}

func TestConsultToAgentCompletes(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, iid := f.inCall(t, w)
	// bob: not persistent, his phone answers when rung.
	f.Double.Script("PJSIP/1002", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	f.Engine.Login(bg, f.bob)
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "agent", Target: "bob", Mode: "consult"}); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("transfer to a logged-in-but-unavailable agent: %v", err)
	}
	f.Engine.Connect(bg, f.bob, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1002"})
	f.Engine.SetReady(bg, f.bob)
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "agent", Target: "nobody"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("unknown agent: %v", err)
	}
	wb := f.WatchAgent(t, f.bob)
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "agent", Target: "bob", Mode: "consult"}); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 15*time.Second, "consulting", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.alice)
		return s.Transfer != nil && s.Transfer.State == cti.XferConsulting
	})
	if _, err := f.Engine.TransferAction(bg, f.alice, "complete"); err != nil {
		t.Fatal(err)
	}
	info := decode[cti.CallInfo](t, wb.Next("call.connected", 15*time.Second))
	if info.CustomerNumber != "+447700900200" || info.InteractionID == iid {
		t.Fatalf("bob's call %+v", info)
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 15*time.Second)
	f.WaitState(t, f.bob, cti.AgentOnCall, 15*time.Second)
	if b := bridgeOf(f, cust); b != "call-"+info.InteractionID {
		t.Fatalf("customer in %q", b)
	}
}

func TestFailedDestinationReturnsCustomer(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{Busy: true, RingFor: 20 * time.Millisecond})
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460001"}); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 15*time.Second, "customer back with the agent", func() bool {
		return bridgeOf(f, cust) == "agent-"+itoa(f.alice)
	})
	s := f.WaitState(t, f.alice, cti.AgentOnCall, 15*time.Second)
	if s.Transfer != nil {
		t.Fatalf("transfer still pending: %+v", s.Transfer)
	}
}

// The fake clock drives the double and the engine, so every span below is
// exact: the recorded file, the bookmark offset and the stored duration are
// checked to the millisecond against the spans the test advanced.
func TestRecordingPauseBookmarksAndFollowsTransfer(t *testing.T) {
	fc := aritest.NewFakeClock(time.Now())
	f := setup(t, ctitest.CampaignSpec{Recording: true}, ctitest.Options{FakeClock: fc})
	step := func(what string, cond func() bool) {
		t.Helper()
		ctitest.StepUntil(t, fc, 10*time.Millisecond, 20*time.Second, what, cond)
	}
	state := func(id int64) cti.AgentState {
		s, err := f.Engine.Snapshot(bg, id)
		if err != nil {
			t.Fatal(err)
		}
		return s.State.State
	}
	w := f.WatchAgent(t, f.alice)
	f.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	if _, err := f.Engine.Login(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.Connect(bg, f.alice, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1001", Persistent: true}); err != nil {
		t.Fatal(err)
	}
	step("alice's phone connected", func() bool { return state(f.alice) == cti.AgentPaused })
	if err := f.Engine.SetReady(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	cust := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900200", did, nil)
	step("call connected", func() bool { return state(f.alice) == cti.AgentOnCall })
	snap, _ := f.Engine.Snapshot(bg, f.alice)
	iid := snap.Call.InteractionID
	// The recorder starts on connect without any timer: wait for it with
	// the clock standing still, so the double and the engine agree on t0.
	liveRec := func() aritest.RecordingState {
		for _, r := range f.Double.Recordings() {
			if r.Live {
				return r
			}
		}
		return aritest.RecordingState{}
	}
	ctitest.Eventually(t, 10*time.Second, "recorder started", func() bool {
		var st string
		f.Engine.Flush(bg)
		f.DB.Raw(`SELECT state FROM recordings WHERE interaction_id = ?`, iid).Scan(&st)
		return st == "recording" && liveRec().State == "recording"
	})
	t0 := fc.Now()
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.Recording == nil || s.Recording.Icon != "red" || !s.Recording.Allowed {
		t.Fatalf("recording view %+v", s.Recording)
	}
	const before, paused, after = 1400 * time.Millisecond, 5 * time.Second, 1200 * time.Millisecond
	fc.Advance(before)
	if err := f.Engine.PauseRecording(bg, f.alice, true); err != nil {
		t.Fatal(err)
	}
	for rv := decode[cti.RecordingView](t, w.Next("recording.state", 10*time.Second)); rv.State != "paused"; {
		rv = decode[cti.RecordingView](t, w.Next("recording.state", 10*time.Second))
		if rv.State == "paused" && rv.Icon != "white" {
			t.Fatalf("paused icon %+v", rv)
		}
	}
	ctitest.Eventually(t, 10*time.Second, "the double's recorder paused", func() bool { return liveRec().State == "paused" })
	fc.Advance(paused)
	if err := f.Engine.PauseRecording(bg, f.alice, false); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 10*time.Second, "the double's recorder resumed", func() bool { return liveRec().State == "recording" })
	fc.Advance(after)
	bm, err := f.Engine.AddBookmark(bg, f.alice, "customer agreed")
	if err != nil {
		t.Fatal(err)
	}
	// The offset is audio time: the paused span is excluded.
	if want := (before + after).Milliseconds(); bm.OffsetMs != want {
		t.Fatalf("bookmark offset %d ms, want %d (%v before the pause + %v after it)", bm.OffsetMs, want, before, after)
	}
	// The recording rides on the customer leg through a blind transfer.
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460001"}); err != nil {
		t.Fatal(err)
	}
	step("alice wrapping after the transfer", func() bool { return state(f.alice) == cti.AgentOnWrap })
	step("customer bridged with the destination", func() bool {
		b := bridgeOf(f, cust)
		return b != "" && b != "agent-"+itoa(f.alice)
	})
	fc.Advance(time.Second)
	if st := liveRec(); st.State != "recording" {
		t.Fatalf("recorder after the transfer: %+v", st)
	}
	f.Double.HangupChannel(cust, 16)
	end := fc.Now()
	ctitest.Eventually(t, 10*time.Second, "recording stored", func() bool {
		f.Engine.Flush(bg)
		var st string
		f.DB.Raw(`SELECT state FROM recordings WHERE interaction_id = ?`, iid).Scan(&st)
		return st == "stopped"
	})
	var recs []struct {
		Name       string
		DurationMs int64
	}
	f.DB.Raw(`SELECT name, duration_ms FROM recordings`).Scan(&recs)
	if len(recs) != 1 {
		t.Fatalf("want one recording per interaction chain, got %+v", recs)
	}
	// The file holds the call minus the pause; ctid stores its length to
	// the millisecond, read from the file (Asterisk reports whole seconds).
	wall := end.Sub(t0)
	audio := wall - paused
	if got, ok := f.Double.StoredRecordingDuration(recs[0].Name); !ok || got != audio {
		t.Fatalf("stored file %s: %v (found %v), want %v (%v of call minus the %v pause)", recs[0].Name, got, ok, audio, wall, paused)
	}
	ctitest.Eventually(t, 10*time.Second, "recording length to the millisecond", func() bool {
		f.Engine.Sync(bg)
		f.Engine.Flush(bg)
		f.DB.Raw(`SELECT duration_ms FROM recordings WHERE name = ?`, recs[0].Name).Scan(&recs[0].DurationMs)
		return recs[0].DurationMs == audio.Milliseconds()
	})
	var actions []string
	f.DB.Raw(`SELECT action FROM recording_events ORDER BY id`).Scan(&actions)
	if join(actions) != "start pause resume stop" {
		t.Fatalf("audit %q", join(actions))
	}
	var who []int64
	f.DB.Raw(`SELECT user_id FROM recording_events WHERE action IN ('pause','resume')`).Scan(&who)
	if len(who) != 2 || who[0] != f.alice {
		t.Fatalf("audit users %v", who)
	}
}

func TestRecordingControlNeedsPermissionAndBookmarkNeedsRecording(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	f.inCall(t, w)
	if _, err := f.Engine.AddBookmark(bg, f.alice, "x"); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("bookmark when not recording: %v", err)
	}
	f.DB.Exec(`UPDATE users SET recording_control = false WHERE id = ?`, f.alice)
	f.Engine.Reload(bg)
	if err := f.Engine.PauseRecording(bg, f.alice, true); cti.KindOf(err) != cti.KindForbidden {
		t.Fatalf("pause without permission: %v", err)
	}
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.Recording == nil || s.Recording.Icon != "grey" || s.Recording.State != "" {
		t.Fatalf("no-permission icon %+v", s.Recording)
	}
}

// TestPaymentCaptureNeverLeaksCard runs a full payment with a known test card
// and searches the logs, the database, the websocket transcript and the
// digits delivered to the agent's leg for the card number and CVV.
func TestPaymentCaptureNeverLeaksCard(t *testing.T) {
	const pan, cvv = "378282246310005", "9173" // Amex: 4-digit CVV, unlikely in ids
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := &fixture{}
	f.Stack = ctitest.StartSeeded(t, ctitest.Options{Logger: logger}, func(db *gorm.DB) {
		f.alice = ctitest.Agent(t, db, "alice", "1001")
		f.camp = ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Pay", DID: did, Platform: did, Agents: []int64{f.alice},
			Codes: []string{"PAID"}, Recording: true, Payment: `{"kind":"sandbox","currency":"GBP"}`})
	})
	w := f.WatchAgent(t, f.alice)
	cust, iid := f.inCall(t, w)
	if _, err := f.Engine.MakePayment(bg, f.alice, cti.PaymentDetails{}); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("pay before start: %v", err)
	}
	if _, err := f.Engine.StartPayment(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Double.Channel(cust); !st.MuteIn || !st.AbsorbDTMF {
		t.Fatalf("customer leg not secured: %+v", st)
	}
	// Wrong key and a Luhn-invalid card first; the agent resets.
	f.Double.KeyDTMF(cust, "378282246310006#")
	ctitest.Eventually(t, 8*time.Second, "invalid card reported", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.alice)
		return s.Payment != nil && s.Payment.Progress.Error != ""
	})
	if _, err := f.Engine.ResetPayment(bg, f.alice, "card"); err != nil {
		t.Fatal(err)
	}
	f.Double.KeyDTMF(cust, pan+cvv)
	var last cti.PaymentView
	ctitest.Eventually(t, 10*time.Second, "card and cvv keyed", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.alice)
		last = *s.Payment
		return s.Payment.Progress.CVVValid
	})
	if last.Progress.CardLast4 != "0005" || last.Progress.CardBrand == "" {
		t.Fatalf("progress %+v", last.Progress)
	}
	if _, err := f.Engine.MakePayment(bg, f.alice, cti.PaymentDetails{Reference: "INV-1", Expiry: "01/20", CardholderName: "A Customer", Amount: "12.34"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("expired card: %v", err)
	}
	if _, err := f.Engine.MakePayment(bg, f.alice, cti.PaymentDetails{Reference: "INV-1", Expiry: "12/39", CardholderName: "A Customer", Amount: "12.34"}); err != nil {
		t.Fatal(err)
	}
	res := decode[cti.PaymentView](t, w.Next("payment.result", 5*time.Second))
	if res.Result == nil || !res.Result.Approved || res.Result.Receipt == "" {
		t.Fatalf("payment result %+v", res)
	}
	if err := f.Engine.ExitPayment(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Double.Channel(cust); st.MuteIn {
		t.Fatal("customer still muted after exit")
	}
	f.Double.HangupChannel(cust, 16)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 15*time.Second)
	f.Engine.Flush(bg)

	// The agent's leg never received a digit.
	for _, ch := range f.Double.Channels() {
		if ch.Args != nil && len(ch.Args) > 0 && ch.Args[0] == "agentleg" && ch.Delivered != "" {
			t.Fatalf("agent leg received DTMF %q", ch.Delivered)
		}
	}
	// Search everything that rests or travels.
	var transcript bytes.Buffer
	for _, e := range w.Log {
		b, _ := json.Marshal(e)
		transcript.Write(b)
	}
	var dump []string
	f.DB.Raw(`SELECT string_agg(t::text, E'\n') FROM (
		SELECT row_to_json(x)::text AS t FROM interactions x UNION ALL
		SELECT row_to_json(x)::text FROM interaction_events x UNION ALL
		SELECT row_to_json(x)::text FROM interaction_legs x UNION ALL
		SELECT row_to_json(x)::text FROM payments x UNION ALL
		SELECT row_to_json(x)::text FROM recordings x UNION ALL
		SELECT row_to_json(x)::text FROM recording_events x UNION ALL
		SELECT row_to_json(x)::text FROM agent_state_history x UNION ALL
		SELECT row_to_json(x)::text FROM agent_sessions x) s`).Scan(&dump)
	var paid struct{ CardLast4, CardBrand string }
	f.DB.Raw(`SELECT card_last4, card_brand FROM payments WHERE interaction_id = ?`, iid).Scan(&paid)
	if paid.CardLast4 != "0005" {
		t.Fatalf("payment record %+v", paid)
	}
	cvvRe := regexp.MustCompile(`\b` + cvv + `\b`)
	for name, text := range map[string]string{"logs": logs.String(), "websocket": transcript.String(), "database": strings.Join(dump, "\n")} {
		if strings.Contains(text, pan) || strings.Contains(text, pan[:12]) || cvvRe.MatchString(text) {
			t.Errorf("card data found in %s", name)
		}
	}
	// The recording was paused for the whole capture (audited as payment).
	var reasons []string
	f.DB.Raw(`SELECT action || ':' || reason FROM recording_events WHERE action IN ('pause','resume') ORDER BY id`).Scan(&reasons)
	if join(reasons) != "pause:payment resume:payment" {
		t.Fatalf("recording during payment: %q", join(reasons))
	}
}

func TestBlindTransferToWorkflowCarriesInteraction(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.DB.Exec(`INSERT INTO workflows(name, context, extension) VALUES ('survey', 'workflows', 'survey')`)
	f.Engine.Reload(bg)
	w := f.WatchAgent(t, f.alice)
	cust, iid := f.inCall(t, w)
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "workflow", Target: "nope"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("unknown workflow: %v", err)
	}
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "workflow", Target: "survey", Mode: "consult"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("consult to a workflow: %v", err)
	}
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "workflow", Target: "survey"}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 15*time.Second)
	ch, ok := f.Double.Channel(cust)
	if !ok || ch.Context != "workflows" || ch.Exten != "survey" || ch.Vars["CTI_INTERACTION_ID"] != iid {
		t.Fatalf("customer in dialplan: %+v", ch)
	}
}

func TestConsultToPersistentAgentBorrowsTheirLeg(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	f.loginPersistent(t, f.bob, "1002")
	f.Engine.SetReady(bg, f.bob)
	wb := f.WatchAgent(t, f.bob)
	if _, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "agent", Target: "bob", Mode: "consult"}); err != nil {
		t.Fatal(err)
	}
	// Bob's own leg joins alice's bridge for the consult; the customer waits on hold.
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.Transfer == nil || s.Transfer.State != cti.XferConsulting {
		t.Fatalf("transfer %+v", s.Transfer)
	}
	if b, _ := f.Double.Bridge("agent-" + itoa(f.alice)); len(b.Channels) != 2 {
		t.Fatalf("consult bridge %+v", b)
	}
	if _, err := f.Engine.TransferAction(bg, f.alice, "cancel"); err != nil {
		t.Fatal(err)
	}
	// Cancel: bob's leg goes home, bob is Ready, the customer is back with alice.
	f.WaitState(t, f.bob, cti.AgentReady, 15*time.Second)
	if b, _ := f.Double.Bridge("agent-" + itoa(f.bob)); len(b.Channels) != 1 {
		t.Fatalf("bob's bridge after cancel %+v", b)
	}
	if bridgeOf(f, cust) != "agent-"+itoa(f.alice) {
		t.Fatalf("customer in %q after cancel", bridgeOf(f, cust))
	}
	// Again, and complete: the customer joins bob in his bridge.
	f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "agent", Target: "bob", Mode: "consult"})
	if _, err := f.Engine.TransferAction(bg, f.alice, "complete"); err != nil {
		t.Fatal(err)
	}
	wb.Next("call.connected", 15*time.Second)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 15*time.Second)
	if b, _ := f.Double.Bridge("agent-" + itoa(f.bob)); len(b.Channels) != 2 || bridgeOf(f, cust) != b.ID {
		t.Fatalf("bob's bridge after transfer %+v", b)
	}
	if b, _ := f.Double.Bridge("agent-" + itoa(f.alice)); len(b.Channels) != 1 {
		t.Fatalf("alice's bridge after transfer %+v", b)
	}
}

func TestAnnouncementPlaysToBothAndReportsFinish(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	f.DB.Exec(`INSERT INTO announcements(campaign_id, name, media) VALUES (?, 'Terms', 'sound:tt-monkeys')`, f.camp)
	f.Engine.Reload(bg)
	w := f.WatchAgent(t, f.alice)
	f.inCall(t, w)
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if len(s.Announcements) != 1 {
		t.Fatalf("announcements %+v", s.Announcements)
	}
	if err := f.Engine.PlayAnnouncement(bg, f.alice, 999); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("unknown announcement: %v", err)
	}
	if err := f.Engine.PlayAnnouncement(bg, f.alice, s.Announcements[0].ID); err != nil {
		t.Fatal(err)
	}
	w.Next("announcement.started", 15*time.Second)
	if p := f.Double.Played("agent-" + itoa(f.alice)); len(p) != 1 || p[0] != "sound:tt-monkeys" {
		t.Fatalf("played to the bridge: %v", p)
	}
	w.Next("announcement.finished", 5*time.Second)
	if err := f.Engine.StopAnnouncement(bg, f.alice); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("stop when nothing plays: %v", err)
	}
}
