package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
)

// POST /agent/decline: a call ringing alice's phone is declined; the caller
// goes to bob, alice is Paused "Declined a call". Declining with nothing
// offered, or once connected, is a 409 sentence that changes nothing.
func TestDeclineOfferedCallOverAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.Double.Script("PJSIP/1001", aritest.Behavior{NoAnswer: true}) // rings until declined
	e.Double.Script("PJSIP/1002", aritest.Behavior{AnswerAfter: 50 * time.Millisecond})
	alice, bob := e.login("alice"), e.login("bob")
	for tok, num := range map[string]string{alice: "1001", bob: "1002"} {
		e.must(200, "POST", "/api/v1/agent/login", tok, "")
		e.must(200, "POST", "/api/v1/agent/connect", tok, `{"mode":"system_calls","number":"`+num+`","persistent":false}`)
		e.waitState(tok, cti.AgentPaused)
	}
	wsA, wsB := e.dialWS(alice, 0), e.dialWS(bob, 0)
	wsA.next("hello")
	wsB.next("hello")

	// Nothing offered: 409, alice stays Paused.
	p := e.must(409, "POST", "/api/v1/agent/decline", alice, "").problem(t)
	if p.Detail != cti.NoOfferToDecline || p.State != "paused" {
		t.Fatalf("decline with nothing offered: %+v", p)
	}
	e.must(400, "POST", "/api/v1/agent/decline", alice, `{"now":true}`).problem(t)

	e.must(200, "POST", "/api/v1/agent/ready", alice, "")
	p = e.must(409, "POST", "/api/v1/agent/decline", alice, "").problem(t)
	if p.Detail != cti.NoOfferToDecline || p.State != "ready" {
		t.Fatalf("decline while Ready: %+v", p)
	}
	e.Double.Inbound("ctid", []string{"inbound", did}, "+447700900123", did, nil)
	var offered cti.CallInfo
	json.Unmarshal(wsA.next("call.offered").Data, &offered)
	e.waitState(alice, cti.AgentReserved)
	e.must(200, "POST", "/api/v1/agent/ready", bob, "")

	var snap cti.AgentSnapshot
	e.must(200, "POST", "/api/v1/agent/decline", alice, "").json(t, &snap)
	if snap.State.State != cti.AgentPaused || snap.State.PauseReason != "Declined a call" || snap.Call != nil {
		t.Fatalf("decline answered %+v (call %+v)", snap.State, snap.Call)
	}
	wsA.next("call.declined")
	var got cti.CallInfo
	json.Unmarshal(wsB.next("call.connected").Data, &got)
	if got.InteractionID != offered.InteractionID || got.CustomerNumber != "+447700900123" {
		t.Fatalf("bob got %+v, want %s", got, offered.InteractionID)
	}
	e.waitState(bob, cti.AgentOnCall)
	if s := e.snapshot(alice); s.State.State != cti.AgentPaused || s.State.PauseReason != "Declined a call" {
		t.Fatalf("alice %+v", s.State)
	}

	// The call's history (what a reviewer sees) says alice declined it.
	e.Engine.Flush(context.Background())
	var h struct {
		Legs []struct {
			Role, Cause string
			AgentID     *int64
		}
		Events      []struct{ From, To, Detail string }
		AgentStates []struct {
			UserID           int64
			From, To, Reason string
		}
	}
	e.must(200, "GET", "/api/v1/history/interactions/"+offered.InteractionID, e.login("root"), "").json(t, &h)
	declinedLeg, declinedEvent, declinedState := false, false, false
	for _, l := range h.Legs {
		declinedLeg = declinedLeg || (l.Role == "agent" && l.Cause == "declined" && l.AgentID != nil && *l.AgentID == e.ids["alice"])
	}
	for _, ev := range h.Events {
		declinedEvent = declinedEvent || (ev.From == "offering" && ev.To == "queued" && ev.Detail == "declined by agent alice")
	}
	for _, a := range h.AgentStates {
		declinedState = declinedState || (a.UserID == e.ids["alice"] && a.To == "paused" && a.Reason == "Declined a call")
	}
	if !declinedLeg || !declinedEvent || !declinedState {
		t.Errorf("the history does not show alice's decline (leg %v, event %v, state %v): %+v", declinedLeg, declinedEvent, declinedState, h)
	}

	var sup struct{ Declined, AutoPaused int64 }
	e.must(200, "GET", "/api/v1/supervisor/snapshot", e.login("root"), "").json(t, &sup)
	if sup.Declined != 1 || sup.AutoPaused != 0 {
		t.Errorf("supervisor snapshot: %d declined, %d auto-paused; want 1 and 0", sup.Declined, sup.AutoPaused)
	}

	// Bob's call is connected: he cannot decline it.
	p = e.must(409, "POST", "/api/v1/agent/decline", bob, "").problem(t)
	if p.State != "on_call" || !strings.Contains(p.Detail, "already connected") {
		t.Fatalf("decline a connected call: %+v", p)
	}
	if s := e.snapshot(bob); s.State.State != cti.AgentOnCall || s.Call == nil || s.Call.InteractionID != offered.InteractionID {
		t.Fatalf("bob after a refused decline: %+v", s.State)
	}
}
