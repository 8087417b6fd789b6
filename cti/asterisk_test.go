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

// TestAsteriskAgentCore is issue 3's acceptance against a real Asterisk 22
// loaded with asterisk-conf/: Local channels stand in for phones and the
// carrier (asterisk-conf's test contexts). Skipped, saying so, without one.
func TestAsteriskAgentCore(t *testing.T) {
	tg := aritest.AsteriskTarget(t)
	const realDID = "5550100"
	var alice, bob int64
	var camp int64
	// Agent "numbers" map to Local test contexts: 1001 answers, 1002 never does.
	phone := map[string]string{"1001": "Local/1001@test-answer", "1002": "Local/1002@test-noanswer"}
	st := ctitest.StartSeeded(t, ctitest.Options{Target: &tg, OfferTimeout: 2 * time.Second, Tune: func(o *cti.Options) {
		o.AgentEndpoint = func(n string) string { return phone[n] }
		o.TrunkEndpoint = func(n string) string { return "Local/" + strings.TrimPrefix(n, "+") + "@test-answer" }
	}}, func(db *gorm.DB) {
		alice = ctitest.Agent(t, db, "alice", "1001")
		bob = ctitest.Agent(t, db, "bob", "1002")
		camp = ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Real", DID: realDID, Platform: "+442071234567",
			Agents: []int64{alice, bob}, Codes: []string{"DONE"}})
	})
	ctx := context.Background()
	w := st.WatchAgent(t, alice)

	// Login → persistent system-calls-agent connection → Ready.
	st.Engine.Login(ctx, alice)
	if err := st.Engine.Connect(ctx, alice, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1001", Persistent: true}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentPaused, 10*time.Second)
	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}

	// An inbound call through the dialplan: [test-customer] → [inbound] → Stasis.
	customer := func(id string) {
		_, err := st.ARI.Channels.Originate(ctx, ari.OriginateRequest{Endpoint: "Local/" + realDID + "@test-customer",
			Context: "test-answer", Extension: "s", Priority: 1, CallerID: "+447700900123", ChannelID: id})
		if err != nil {
			t.Fatal(err)
		}
	}
	customer("cust-1")
	info := decode[cti.CallInfo](t, w.Next("call.connected", 10*time.Second))
	if info.CampaignName != "Real" || info.Direction != "IN" || info.PlatformNumber != realDID ||
		info.IVRText != "Inbound call on "+realDID || !strings.Contains(info.IVRData, "did="+realDID) {
		t.Fatalf("call info from the real dialplan: %+v", info)
	}
	b, err := st.ARI.Bridges.Get(ctx, "agent-"+itoa(alice))
	if err != nil || len(b.Channels) != 2 {
		t.Fatalf("agent bridge: %+v %v", b, err)
	}
	if err := st.Engine.SetNotes(ctx, alice, info.InteractionID, "real asterisk"); err != nil {
		t.Fatal(err)
	}
	if err := st.ARI.Channels.Hangup(ctx, "cust-1", "normal"); err != nil { // the caller hangs up
		t.Fatal(err)
	}
	w.Next("wrap.started", 10*time.Second)
	if err := st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentPaused, 2*time.Second)
	if b, _ := st.ARI.Bridges.Get(ctx, "agent-"+itoa(alice)); b == nil || len(b.Channels) != 1 {
		t.Fatalf("the persistent agent leg should stay in its bridge: %+v", b)
	}

	// Non-persistent bob never answers: Auto Pause, and the caller goes back
	// to the queue and reaches alice when she is Ready.
	st.Engine.Login(ctx, bob)
	if err := st.Engine.Connect(ctx, bob, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1002"}); err != nil {
		t.Fatal(err)
	}
	st.Engine.SetReady(ctx, bob)
	customer("cust-2")
	snap := st.WaitState(t, bob, cti.AgentPaused, 15*time.Second)
	if snap.State.PauseReason != "Auto Pause" {
		t.Fatalf("bob: %+v", snap.State)
	}
	st.Engine.SetReady(ctx, alice)
	info2 := decode[cti.CallInfo](t, w.Next("call.connected", 10*time.Second))
	if info2.InteractionID == info.InteractionID {
		t.Fatal("same interaction")
	}
	st.Engine.Hangup(ctx, alice)
	w.Next("wrap.started", 10*time.Second)
	st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"})

	// A manual outbound call through the "trunk".
	c := camp
	out, err := st.Engine.Dial(ctx, alice, cti.DialRequest{Number: "020 7946 0000", CampaignID: &c})
	if err != nil {
		t.Fatal(err)
	}
	got := decode[cti.CallInfo](t, w.Next("call.connected", 10*time.Second))
	if got.InteractionID != out.InteractionID || got.CustomerNumber != "+442079460000" {
		t.Fatalf("outbound: %+v", got)
	}
	st.Engine.Hangup(ctx, alice)
	st.WaitState(t, alice, cti.AgentOnWrap, 10*time.Second)

	st.Engine.Flush(ctx)
	var rows []struct{ State, Notes, WrapCode string }
	st.DB.Raw(`SELECT state, notes, wrap_code FROM interactions ORDER BY created_at`).Scan(&rows)
	if len(rows) != 3 || rows[0].State != "wrapped" || rows[0].Notes != "real asterisk" || rows[1].State != "wrapped" {
		t.Fatalf("records: %+v", rows)
	}
}
