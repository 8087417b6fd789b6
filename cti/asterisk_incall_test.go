package cti_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// realStack starts a real Asterisk and the engine on it: agents' phones and
// the carrier are Local channels into asterisk-conf's test contexts.
func realStack(t *testing.T, spec ctitest.CampaignSpec) (*ctitest.Stack, int64, func(id, ctx string, vars map[string]string)) {
	tg := aritest.AsteriskTarget(t)
	return realStackOn(t, &tg, spec)
}

// realStackOn is realStack on a target the test already holds (for its
// ports). Alice ends up Ready with a persistent leg to Local/1001@test-answer.
func realStackOn(t *testing.T, tg *aritest.Target, spec ctitest.CampaignSpec) (*ctitest.Stack, int64, func(id, ctx string, vars map[string]string)) {
	var alice int64
	st := ctitest.StartSeeded(t, ctitest.Options{Target: tg, OfferTimeout: 3 * time.Second, Tune: func(o *cti.Options) {
		o.AgentEndpoint = func(n string) string { return "Local/" + n + "@test-answer" }
		o.TrunkEndpoint = func(n string) string { return "Local/" + strings.TrimPrefix(n, "+") + "@test-answer" }
	}}, func(db *gorm.DB) {
		alice = ctitest.Agent(t, db, "alice", "1001")
		spec.Agents, spec.Name, spec.DID, spec.Platform, spec.Codes = []int64{alice}, "Real", "5550100", "+442071234567", []string{"DONE"}
		ctitest.Campaign(t, db, spec)
	})
	ctx := context.Background()
	st.Engine.Login(ctx, alice)
	if err := st.Engine.Connect(ctx, alice, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1001", Persistent: true}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentPaused, 10*time.Second)
	st.Engine.SetReady(ctx, alice)
	// customer originates a caller on the DID whose own side runs dpctx.
	customer := func(id, dpctx string, vars map[string]string) {
		_, err := st.ARI.Channels.Originate(ctx, ari.OriginateRequest{Endpoint: "Local/5550100@test-customer",
			Context: dpctx, Extension: "s", Priority: 1, CallerID: "+447700900123", ChannelID: id, Variables: vars})
		if err != nil {
			t.Fatal(err)
		}
	}
	return st, alice, customer
}

func TestAsteriskConferenceLeaveAndTerminate(t *testing.T) {
	st, alice, customer := realStack(t, ctitest.CampaignSpec{})
	ctx := context.Background()
	w := st.WatchAgent(t, alice)
	customer("c1", "test-answer", nil)
	w.Next("call.connected", 10*time.Second)
	if _, err := st.Engine.Transfer(ctx, alice, cti.TransferRequest{Type: "number", Target: "+442079460001", Mode: "consult"}); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 10*time.Second, "consulting", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.Transfer != nil && s.Transfer.State == cti.XferConsulting
	})
	if _, err := st.Engine.TransferAction(ctx, alice, "merge"); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 4; i++ {
		if _, err := st.Engine.Transfer(ctx, alice, cti.TransferRequest{Type: "number", Target: "+44207946000" + itoa(int64(i))}); err != nil {
			t.Fatal(err)
		}
		ctitest.Eventually(t, 10*time.Second, "party joined", func() bool {
			s, _ := st.Engine.Snapshot(ctx, alice)
			return s.Conference != nil && len(s.Conference.Parties) == i
		})
	}
	if _, err := st.Engine.Transfer(ctx, alice, cti.TransferRequest{Type: "number", Target: "+442079460005"}); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("5th party: %v", err)
	}
	talk := "agent-" + itoa(alice)
	b, _ := st.ARI.Bridges.Get(ctx, talk)
	if b == nil || len(b.Channels) != 6 { // agent, customer, 4 parties
		t.Fatalf("conference bridge: %+v", b)
	}
	if err := st.Engine.ConferenceEnd(ctx, alice, false); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentOnWrap, 5*time.Second)
	// The conference goes on in Asterisk without the agent.
	bs, _ := st.ARI.Bridges.List(ctx)
	var conf *ari.Bridge
	for i := range bs {
		if strings.HasPrefix(bs[i].ID, "conf-") {
			conf = &bs[i]
		}
	}
	if conf == nil || len(conf.Channels) != 5 {
		t.Fatalf("conference after leave: %+v", bs)
	}
	if b, _ := st.ARI.Bridges.Get(ctx, talk); len(b.Channels) != 1 {
		t.Fatalf("agent bridge after leave: %+v", b)
	}
	st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE"})

	// A second call: consult, merge, terminate ends every call.
	customer("c2", "test-answer", nil)
	w.Next("call.connected", 10*time.Second)
	v2, err := st.Engine.Transfer(ctx, alice, cti.TransferRequest{Type: "number", Target: "+442079460009", Mode: "consult"})
	if err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 10*time.Second, "consulting", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.Transfer != nil && s.Transfer.State == cti.XferConsulting
	})
	st.Engine.TransferAction(ctx, alice, "merge")
	if err := st.Engine.ConferenceEnd(ctx, alice, true); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentOnWrap, 5*time.Second)
	ctitest.Eventually(t, 10*time.Second, "only the agent leg left", func() bool {
		chans, _ := st.ARI.Channels.List(ctx)
		n := 0
		for _, c := range chans {
			if strings.HasPrefix(c.ID, "c2") || strings.HasPrefix(c.ID, "xf-"+v2.ID) {
				n++
			}
		}
		return n == 0
	})
}

func TestAsteriskRecordingSpansTransferWithPauseAndBookmark(t *testing.T) {
	st, alice, customer := realStack(t, ctitest.CampaignSpec{Recording: true})
	ctx := context.Background()
	w := st.WatchAgent(t, alice)
	customer("r1", "test-milliwatt", nil)
	info := decode[cti.CallInfo](t, w.Next("call.connected", 10*time.Second))
	ctitest.Eventually(t, 10*time.Second, "recorder started", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.Recording != nil && s.Recording.Icon == "red"
	})
	start := time.Now()
	time.Sleep(2 * time.Second)
	if err := st.Engine.PauseRecording(ctx, alice, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	st.Engine.PauseRecording(ctx, alice, false)
	time.Sleep(time.Second)
	bm, err := st.Engine.AddBookmark(ctx, alice, "truth is ~3 s")
	if err != nil {
		t.Fatal(err)
	}
	if bm.OffsetMs < 2000 || bm.OffsetMs > 4000 {
		t.Fatalf("bookmark offset %d ms, want 3000 ± 1000", bm.OffsetMs)
	}
	// Blind transfer to a number: the recording follows the customer.
	st.Engine.Transfer(ctx, alice, cti.TransferRequest{Type: "number", Target: "+442079460001"})
	st.WaitState(t, alice, cti.AgentOnWrap, 10*time.Second)
	time.Sleep(2 * time.Second)
	st.ARI.Channels.Hangup(ctx, "r1", "normal")
	wall := time.Since(start)
	var rec struct {
		Name       string
		DurationMs int64
		State      string
	}
	ctitest.Eventually(t, 15*time.Second, "recording finished", func() bool {
		st.Engine.Flush(ctx)
		st.DB.Raw(`SELECT name, duration_ms, state FROM recordings WHERE interaction_id = ?`, info.InteractionID).Scan(&rec)
		return rec.State == "stopped"
	})
	var n int64
	st.DB.Raw(`SELECT count(*) FROM recordings`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d recordings, want one spanning the transfer", n)
	}
	// Pause shortens it: ~2 s of the wall time is missing from the file.
	got := time.Duration(rec.DurationMs) * time.Millisecond
	if got > wall-1500*time.Millisecond || got < wall-4*time.Second {
		t.Fatalf("recording %v for a %v call with 2 s paused", got, wall)
	}
	stored, err := st.ARI.Recordings.GetStored(ctx, rec.Name)
	if err != nil || stored.Format != "wav" {
		t.Fatalf("stored recording: %+v %v", stored, err)
	}
	t.Logf("recording %s: %v for %v of call, bookmark at %d ms", rec.Name, got, wall.Round(100*time.Millisecond), bm.OffsetMs)
}

// TestAsteriskPaymentDigitsNeverReachAgent: the customer's side keys a card
// (SendDTMF in [test-dtmf]); the capture sees every digit and the agent's
// phone receives none (a second app watches the agent leg's far half).
func TestAsteriskPaymentDigitsNeverReachAgent(t *testing.T) {
	st, alice, customer := realStack(t, ctitest.CampaignSpec{Recording: true, Payment: `{"kind":"sandbox","currency":"GBP"}`})
	ctx := context.Background()
	w := st.WatchAgent(t, alice)
	probe, _ := probeAgentPhone(t, st)
	leaked := make(chan string, 64)
	go func() {
		for ev := range probe.Events() {
			if d, ok := ev.(*ari.ChannelDtmfReceived); ok {
				leaked <- d.Digit
			}
		}
	}()
	customer("p1", "test-dtmf", map[string]string{"DTMF_DELAY": "4", "DTMF_DIGITS": "4242424242424242#123"})
	w.Next("call.connected", 10*time.Second)
	if _, err := st.Engine.StartPayment(ctx, alice); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 20*time.Second, "card and CVV captured", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.Payment != nil && s.Payment.Progress.CVVValid
	})
	s, _ := st.Engine.Snapshot(ctx, alice)
	if s.Payment.Progress.CardLast4 != "4242" {
		t.Fatalf("progress %+v", s.Payment.Progress)
	}
	if _, err := st.Engine.MakePayment(ctx, alice, cti.PaymentDetails{Reference: "R1", Expiry: "12/39", CardholderName: "C", Amount: "1.00"}); err != nil {
		t.Fatal(err)
	}
	res := decode[cti.PaymentView](t, w.Next("payment.result", 10*time.Second))
	if res.Result == nil || !res.Result.Approved {
		t.Fatalf("result %+v", res)
	}
	select {
	case d := <-leaked:
		t.Fatalf("a digit reached the agent's phone (%d bytes)", len(d))
	case <-time.After(500 * time.Millisecond):
	}
}

// probeAgentPhone connects a second ARI application ("probe") to the
// stack's Asterisk and subscribes it to the far (;2) half of the agent's
// persistent leg: any digit that reached the agent's phone would show there
// as ChannelDtmfReceived. It returns the probe and the agent leg's ;1 id.
func probeAgentPhone(t *testing.T, st *ctitest.Stack) (*ari.Client, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	probe, err := ari.New(ari.Config{URL: st.ARIURL, Username: st.ARIUser, Password: st.ARIPassword, App: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	go probe.Run(ctx)
	ctitest.Eventually(t, 5*time.Second, "probe connected", probe.Connected)
	var leg string
	chans, _ := st.ARI.Channels.List(ctx)
	for _, c := range chans {
		if strings.HasPrefix(c.ID, "ap-") && !strings.HasSuffix(c.ID, ";2") {
			leg = c.ID
		}
	}
	if leg == "" {
		t.Fatalf("no agent leg among %+v", chans)
	}
	if _, err := probe.Applications.Subscribe(ctx, "probe", "channel:"+leg+";2"); err != nil {
		t.Fatal(err)
	}
	return probe, leg
}
