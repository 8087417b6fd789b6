package sipphone_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
)

// events records every event of a small ARI app so a test can wait for one.
type events struct {
	mu  sync.Mutex
	log []ari.Event
}

func (e *events) wait(t *testing.T, what string, timeout time.Duration, match func(ari.Event) bool) ari.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		e.mu.Lock()
		for _, ev := range e.log {
			if match(ev) {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *events) started(t *testing.T, id string) {
	t.Helper()
	e.wait(t, "StasisStart of "+id, 15*time.Second, func(ev ari.Event) bool {
		s, ok := ev.(*ari.StasisStart)
		return ok && s.Channel.ID == id
	})
}

func (e *events) destroyed(t *testing.T, id string) *ari.ChannelDestroyed {
	t.Helper()
	return e.wait(t, "ChannelDestroyed of "+id, 20*time.Second, func(ev ari.Event) bool {
		d, ok := ev.(*ari.ChannelDestroyed)
		return ok && d.Channel.ID == id
	}).(*ari.ChannelDestroyed)
}

// TestAsteriskSIPPhoneKit runs the kit against a real Asterisk without
// ctid: two phones register, a small ARI app bridges phone 1001 with a
// customer reached through the trunk and each hears the other (and not
// itself), digits cross the bridge both ways, a busy phone fails the
// originate with cause 17, an unanswered one rings until cancelled, and
// calls into the dialplan with no ctid hear its "im-sorry" prompts.
func TestAsteriskSIPPhoneKit(t *testing.T) {
	ast := aritest.StartAsterisk(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const agentHz, customerHz = 1000, 600

	// A small ARI app of its own (ctid is not running).
	app, err := ari.New(ari.Config{URL: ast.URL(), Username: ast.User, Password: ast.Password, App: "kit"})
	if err != nil {
		t.Fatal(err)
	}
	go app.Run(ctx)
	ev := &events{}
	go func() {
		for e := range app.Events() {
			ev.mu.Lock()
			ev.log = append(ev.log, e)
			ev.mu.Unlock()
		}
	}()

	agent := sipphone.NewPhone(t, ast, "1001", sipphone.WithTone(agentHz))
	busy := sipphone.NewPhone(t, ast, "1002", sipphone.WithPolicy(sipphone.Busy))
	carrier := sipphone.NewCarrier(t, ast, sipphone.WithTone(customerHz))
	for deadline := time.Now().Add(10 * time.Second); !app.Connected(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("kit app did not connect")
		}
	}
	// Registration: ARI sees both phones online, an unregistered one not.
	for ext, want := range map[string]string{"1001": "online", "1002": "online", "1003": "offline"} {
		ep, err := app.Endpoints.Get(ctx, "PJSIP", ext)
		if err != nil || ep.State != want {
			t.Fatalf("endpoint PJSIP/%s: %+v %v, want %s", ext, ep, err, want)
		}
	}

	// The agent's phone and a customer through the trunk, in a mixing bridge.
	if _, err := app.Bridges.Create(ctx, ari.BridgeRequest{ID: "kit-talk", Types: []string{ari.BridgeMixing}}); err != nil {
		t.Fatal(err)
	}
	for id, ep := range map[string]string{"kit-agent": "PJSIP/1001", "kit-cust": "PJSIP/+447700900999@trunk"} {
		if _, err := app.Channels.Originate(ctx, ari.OriginateRequest{Endpoint: ep, App: "kit", ChannelID: id,
			CallerID: "<+442071234567>", Timeout: 15}); err != nil {
			t.Fatal(err)
		}
	}
	onPhone := agent.NextCall(10 * time.Second)
	atCustomer := carrier.NextCall(10 * time.Second)
	if atCustomer.Dialled != "+447700900999" {
		t.Errorf("the carrier was asked for %q, want +447700900999", atCustomer.Dialled)
	}
	if atCustomer.From != "+442071234567" && atCustomer.PAI != "+442071234567" {
		t.Errorf("caller id presented to the customer: From %q PAI %q, want +442071234567", atCustomer.From, atCustomer.PAI)
	}
	t.Logf("trunk INVITE: %v; phone INVITE: %v", atCustomer, onPhone)
	for _, id := range []string{"kit-agent", "kit-cust"} {
		ev.started(t, id)
		if err := app.Bridges.AddChannel(ctx, "kit-talk", ari.AddChannelRequest{Channels: []string{id}}); err != nil {
			t.Fatal(err)
		}
	}
	agentHears := onPhone.WaitHears(customerHz, 10*time.Second)
	custHears := atCustomer.WaitHears(agentHz, 10*time.Second)
	t.Logf("measured, agent hears: %v", agentHears)
	t.Logf("measured, customer hears: %v", custHears)
	for _, l := range onPhone.HearsNot(agentHz, 2*time.Second) {
		if !l.Hears(customerHz) {
			t.Errorf("the agent lost the customer: %v", l)
		}
	}
	atCustomer.HearsNot(customerHz, time.Second)

	// Digits cross the bridge, each way.
	if err := atCustomer.SendDigits("19#"); err != nil {
		t.Fatal(err)
	}
	if got := onPhone.WaitDigits(3, 10*time.Second); got != "19#" {
		t.Errorf("the agent's phone received %q, want 19#", got)
	}
	if err := onPhone.SendDigits("*5"); err != nil {
		t.Fatal(err)
	}
	if got := atCustomer.WaitDigits(2, 10*time.Second); got != "*5" {
		t.Errorf("the customer received %q, want *5", got)
	}

	// The customer stops talking: the agent hears silence; then the
	// customer hangs up and the bridge keeps the agent, still in silence.
	atCustomer.Silence()
	t.Logf("measured, silence: %v", onPhone.WaitSilence(10*time.Second))
	if err := atCustomer.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	ev.destroyed(t, "kit-cust")
	onPhone.WaitSilence(10 * time.Second)
	if err := onPhone.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	ev.destroyed(t, "kit-agent")

	// A refusing phone: the originate fails with "user busy".
	if _, err := app.Channels.Originate(ctx, ari.OriginateRequest{Endpoint: "PJSIP/1002", App: "kit", ChannelID: "kit-busy", Timeout: 10}); err != nil {
		t.Fatal(err)
	}
	if d := ev.destroyed(t, "kit-busy"); d.Cause != 17 {
		t.Errorf("busy phone: cause %d %q, want 17", d.Cause, d.CauseTxt)
	}
	if n := busy.Invites(); n != 1 {
		t.Errorf("busy phone saw %d INVITEs, want 1", n)
	}
	// Never answering: it rings until the originate times out and cancels.
	busy.SetPolicy(sipphone.NeverAnswer)
	if _, err := app.Channels.Originate(ctx, ari.OriginateRequest{Endpoint: "PJSIP/1002", App: "kit", ChannelID: "kit-ring", Timeout: 2}); err != nil {
		t.Fatal(err)
	}
	ringing := busy.NextCall(5 * time.Second) // the refused call's record
	if ringing.EndReason() == "refused 486" {
		ringing = busy.NextCall(5 * time.Second)
	}
	if why := ringing.WaitEnded(15 * time.Second); why != "cancelled while ringing" {
		t.Errorf("unanswered phone: %s", why)
	}
	d := ev.destroyed(t, "kit-ring")
	t.Logf("unanswered originate: cause %d %s", d.Cause, d.CauseTxt)

	// No ctid: a customer on a DID and an agent dialling 8000 hear the
	// dialplan's fallback prompts (broadband, not their own tone), then
	// Asterisk hangs up.
	cust, err := carrier.Call(ctx, "5550100", "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("measured, im-sorry on the DID: %v", cust.WaitBroadband(10*time.Second, customerHz))
	cust.WaitEnded(30 * time.Second)
	login, err := agent.Dial(ctx, "8000")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("measured, im-sorry on 8000: %v", login.WaitBroadband(10*time.Second, agentHz))
	login.WaitEnded(30 * time.Second)

	// Unregistering takes the phone offline in ARI.
	uctx, ucancel := context.WithTimeout(ctx, 10*time.Second)
	defer ucancel()
	if err := agent.Unregister(uctx); err != nil {
		t.Fatal(err)
	}
	if ep, _ := app.Endpoints.Get(ctx, "PJSIP", "1001"); ep == nil || ep.State == "online" {
		t.Fatalf("after unregister: %+v", ep)
	}
}
