package cti

import "fmt"

// AgentState is where an agent is in their working day. The adaptor shows it
// and the allocator reads it; it changes only through agentTransitions.
type AgentState string

const (
	AgentLoggedOut  AgentState = "logged_out"
	AgentLoggedIn   AgentState = "logged_in"  // authenticated, phone not connected
	AgentConnecting AgentState = "connecting" // phone connection being set up
	AgentPaused     AgentState = "paused"
	AgentReady      AgentState = "ready"
	AgentReserved   AgentState = "reserved" // a call is ringing the agent's phone
	AgentOnCall     AgentState = "on_call"
	AgentOnWrap     AgentState = "on_wrap"
)

// AgentAction names what moves an agent between states.
type AgentAction string

const (
	ActLogin       AgentAction = "login"
	ActConnect     AgentAction = "connect"
	ActConnected   AgentAction = "connected"
	ActConnectFail AgentAction = "connect_failed"
	ActPhoneLost   AgentAction = "phone_lost"
	ActReady       AgentAction = "ready"
	ActPause       AgentAction = "pause"
	ActOffer       AgentAction = "offer"  // inbound call rings the agent
	ActAccept      AgentAction = "accept" // agent answered the offered call
	ActMiss        AgentAction = "miss"   // agent did not answer: Auto Pause
	ActRecall      AgentAction = "recall" // offer withdrawn (caller hung up first)
	// ActDecline: the agent refused the offered call; like a miss, but at
	// once and by choice (decline.go).
	ActDecline AgentAction = "decline"
	// ActReturnPaused: a transfer offered to a Paused agent did not reach
	// them; they go back to Paused with their reason.
	ActReturnPaused AgentAction = "return_paused"
	ActDial         AgentAction = "dial" // manual outbound call
	ActCallEnd      AgentAction = "call_end"
	ActWrapReady    AgentAction = "wrap_ready"
	ActWrapPause    AgentAction = "wrap_pause"
	ActLogout       AgentAction = "logout"
)

// agentTransitions is the whole agent state machine: from a state, an action
// leads to exactly one state. Anything absent is refused with 409.
var agentTransitions = map[AgentState]map[AgentAction]AgentState{
	AgentLoggedOut: {ActLogin: AgentLoggedIn},
	AgentLoggedIn: {
		ActLogin: AgentLoggedIn, ActConnect: AgentConnecting, ActLogout: AgentLoggedOut,
	},
	AgentConnecting: {
		ActConnected: AgentPaused, ActConnectFail: AgentLoggedIn, ActPhoneLost: AgentLoggedIn,
		ActLogout: AgentLoggedOut, ActLogin: AgentConnecting,
	},
	AgentPaused: {
		ActReady: AgentReady, ActPause: AgentPaused, ActDial: AgentOnCall, ActOffer: AgentReserved,
		ActPhoneLost: AgentLoggedIn, ActLogout: AgentLoggedOut, ActLogin: AgentPaused,
		ActConnect: AgentConnecting,
	},
	AgentReady: {
		ActPause: AgentPaused, ActOffer: AgentReserved, ActDial: AgentOnCall, ActAccept: AgentOnCall,
		ActPhoneLost: AgentLoggedIn, ActLogin: AgentReady, ActLogout: AgentLoggedOut,
	},
	AgentReserved: {
		ActAccept: AgentOnCall, ActMiss: AgentPaused, ActRecall: AgentReady, ActReturnPaused: AgentPaused,
		ActDecline: AgentPaused, ActPhoneLost: AgentLoggedIn, ActLogin: AgentReserved,
	},
	AgentOnCall: {ActCallEnd: AgentOnWrap, ActLogin: AgentOnCall},
	AgentOnWrap: {
		ActWrapReady: AgentReady, ActWrapPause: AgentPaused, ActLogin: AgentOnWrap,
		ActPhoneLost: AgentOnWrap,
	},
}

// nextAgentState looks up the transition table. A refusal is a sentence
// the agent reads as it is (the adaptor shows it), never "cannot ready
// while ready".
func nextAgentState(from AgentState, act AgentAction) (AgentState, error) {
	if to, ok := agentTransitions[from][act]; ok {
		return to, nil
	}
	return from, &Error{Kind: KindConflict, State: string(from), Msg: refusal(from, act)}
}

// agentStateWords says where an agent is, for sentences ("while you are …").
var agentStateWords = map[AgentState]string{
	AgentLoggedOut:  "logged out",
	AgentLoggedIn:   "logged in without a connected phone",
	AgentConnecting: "connecting your phone",
	AgentPaused:     "paused",
	AgentReady:      "Ready",
	AgentReserved:   "being offered a call",
	AgentOnCall:     "on a call",
	AgentOnWrap:     "wrapping up a call",
}

// agentActionWords says what the agent tried, for sentences ("You cannot …").
var agentActionWords = map[AgentAction]string{
	ActLogin: "log in", ActConnect: "connect your phone", ActConnected: "connect your phone",
	ActConnectFail: "connect your phone", ActPhoneLost: "disconnect your phone", ActReady: "go Ready",
	ActPause: "pause", ActOffer: "take a call", ActAccept: "take the call", ActMiss: "miss the call",
	ActRecall: "release the call", ActDecline: "decline a call", ActReturnPaused: "release the call", ActDial: "make a call",
	ActCallEnd: "end the call", ActWrapReady: "finish wrap-up", ActWrapPause: "finish wrap-up", ActLogout: "log out",
}

func refusal(from AgentState, act AgentAction) string {
	switch {
	case act == ActReady && from == AgentReady:
		return "You are already Ready."
	case act == ActDecline && from == AgentOnCall:
		return "The call is already connected, so it cannot be declined. Hang up to end it."
	case act == ActDecline && from != AgentLoggedOut:
		return NoOfferToDecline
	case act == ActLogout && (from == AgentOnCall || from == AgentReserved):
		return "You cannot log out during a call. Finish the call first."
	case act == ActLogout && from == AgentOnWrap:
		return "Finish wrapping up your call before you log out."
	case from == AgentLoggedOut:
		return "You are not logged in. Log in first."
	case from == AgentLoggedIn && (act == ActReady || act == ActPause || act == ActDial):
		return "Connect your phone first."
	}
	what, where := agentActionWords[act], agentStateWords[from]
	if what == "" {
		what = "do that"
	}
	if where == "" {
		where = string(from)
	}
	return fmt.Sprintf("You cannot %s while you are %s.", what, where)
}

// CallState is where an interaction (a customer call) is.
type CallState string

const (
	CallQueued    CallState = "queued"    // waiting in the campaign's holding bridge
	CallOffering  CallState = "offering"  // an agent's phone is ringing for it
	CallDialing   CallState = "dialing"   // outbound: the customer is being called
	CallConnected CallState = "connected" // customer and agent talking
	CallEnded     CallState = "ended"     // customer leg gone; agent may be wrapping
	CallWrapped   CallState = "wrapped"   // wrap code saved: the record is complete
)

// CallAction names what moves a call between states.
type CallAction string

const (
	CallActQueue CallAction = "queue"
	CallActOffer CallAction = "offer"
	CallActMiss  CallAction = "miss" // offer failed: back to the head of the queue
	// CallActDecline: the offered agent declined; back to the head of the
	// queue for another agent.
	CallActDecline  CallAction = "decline"
	CallActConnect  CallAction = "connect"
	CallActHangup   CallAction = "hangup"
	CallActFail     CallAction = "fail" // outbound: busy, no answer, congestion
	CallActOverflow CallAction = "overflow"
	CallActWrap     CallAction = "wrap"
	// CallActTransferIn starts the child interaction that continues a
	// transferred call: it is connected from its first moment.
	CallActTransferIn CallAction = "transfer_in"
)

var callTransitions = map[CallState]map[CallAction]CallState{
	"": {CallActQueue: CallQueued, CallActOffer: CallDialing /* outbound starts dialing */, CallActTransferIn: CallConnected},
	CallQueued: {
		CallActOffer: CallOffering, CallActHangup: CallEnded, CallActOverflow: CallEnded,
		CallActConnect: CallConnected, // persistent agent: straight into their bridge
	},
	CallOffering: {
		CallActConnect: CallConnected, CallActMiss: CallQueued, CallActDecline: CallQueued, CallActHangup: CallEnded,
	},
	CallDialing:   {CallActConnect: CallConnected, CallActFail: CallEnded, CallActHangup: CallEnded},
	CallConnected: {CallActHangup: CallEnded},
	CallEnded:     {CallActWrap: CallWrapped},
}

func nextCallState(from CallState, act CallAction) (CallState, error) {
	if to, ok := callTransitions[from][act]; ok {
		return to, nil
	}
	return from, &Error{Kind: KindConflict, State: string(from),
		Msg: fmt.Sprintf("call cannot %s while %s", act, from)}
}
