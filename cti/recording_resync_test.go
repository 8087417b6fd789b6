package cti_test

import (
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// TestRecordingFinishedDuringAWebsocketGap (issue 17 item 10): the ARI
// websocket is cut during a recorded call and the customer hangs up before
// ctid is back. Asterisk finishes and stores the recording meanwhile, but
// its RecordingFinished is dropped; after the reconnect the engine asks
// Asterisk and finishes the row (state and length), as it ends the call.
func TestRecordingFinishedDuringAWebsocketGap(t *testing.T) {
	fc := aritest.NewFakeClock(time.Now())
	f := setup(t, ctitest.CampaignSpec{Recording: true}, ctitest.Options{FakeClock: fc})
	step := func(what string, cond func() bool) {
		t.Helper()
		ctitest.StepUntil(t, fc, 10*time.Millisecond, 20*time.Second, what, cond)
	}
	w := f.WatchAgent(t, f.alice)
	f.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	if _, err := f.Engine.Login(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.Connect(bg, f.alice, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1001", Persistent: true}); err != nil {
		t.Fatal(err)
	}
	step("phone connected", func() bool { s, _ := f.Engine.Snapshot(bg, f.alice); return s.State.State == cti.AgentPaused })
	if err := f.Engine.SetReady(bg, f.alice); err != nil {
		t.Fatal(err)
	}
	cust := f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900200", did, nil)
	info := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	iid := info.InteractionID
	var rec struct {
		State      string
		DurationMs int64
	}
	row := func() {
		f.Engine.Flush(bg)
		f.DB.Raw(`SELECT state, duration_ms FROM recordings WHERE interaction_id = ?`, iid).Scan(&rec)
	}
	step("Asterisk recording", func() bool { row(); return rec.State == "recording" })
	fc.Advance(4 * time.Second) // four seconds of recorded call
	// Keep ctid out for its next reconnect attempts, cut it, and hang the
	// customer up while it is away.
	for i := 0; i < 3; i++ {
		f.Double.FailNext("GET", "/events", 503)
	}
	f.Double.DropWebsockets()
	f.Double.HangupChannel(cust, 16)
	step("wrap after the reconnect", func() bool { s, _ := f.Engine.Snapshot(bg, f.alice); return s.State.State == cti.AgentOnWrap })
	step("recording row finished", func() bool { row(); return rec.State != "recording" })
	// It has a length (the stored file's, or Asterisk's whole seconds); its
	// exact value against the file is left to the real-Asterisk tests.
	if rec.State != "stopped" || rec.DurationMs < 1000 {
		t.Fatalf("recording after the gap: %+v", rec)
	}
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.State.State != cti.AgentOnWrap {
		t.Fatalf("agent after the gap: %+v", s.State)
	}
}

// TestRecordingRefusedIsFailed: when Asterisk will not record the snoop
// (the customer went first, or a disk error), the recording's row says
// "failed" rather than "starting" for ever.
func TestRecordingRefusedIsFailed(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{Recording: true}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	f.Double.FailNext("POST", "/record", 500)
	_, iid := f.inCall(t, w)
	var state string
	ctitest.Eventually(t, 20*time.Second, "recording row failed", func() bool {
		f.Engine.Flush(bg)
		f.DB.Raw(`SELECT state FROM recordings WHERE interaction_id = ?`, iid).Scan(&state)
		return state == "failed"
	})
}
