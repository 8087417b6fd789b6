package cti

import "github.com/ctid/ctid/ari"

// After an Asterisk crash (or restart) every channel and bridge is gone.
// Each call ends with what happened ("telephony lost"), not "customer hung
// up"; every persistent phone ctid dialled itself is dialled again at once,
// whatever the agent's state (an agent in wrap gets their phone back while
// wrapping); and when the leg is up the agent returns to the state they
// would have had: Ready or Paused with their reason as before the crash,
// or what they choose when they wrap the call the crash ended.

// TelephonyLostReason is the end reason of calls Asterisk dropped.
const TelephonyLostReason = "telephony lost"

func (e *Engine) telephonyLost() {
	for _, c := range e.calls {
		if c.rec.State != CallEnded && c.rec.State != CallWrapped && c.rec.EndReason == "" {
			c.rec.EndReason = TelephonyLostReason
		}
	}
	persistent := map[*agent]bool{}
	for _, a := range e.agents {
		if a.mode == PhoneSystemCalls && a.persistent {
			persistent[a] = true
			if a.state == AgentReady || a.state == AgentPaused {
				a.restoreTo = &agentReturn{state: a.state, reason: a.pauseReason}
			}
		}
	}
	for id := range e.channels {
		e.onChannelGone(id, "asterisk_restart")
	}
	e.mohOn = map[string]bool{}
	for a := range persistent {
		if e.agents[a.user.ID] != a {
			continue // logged out meanwhile
		}
		e.notify(a, NoticeTelephonyLost, "The phone system restarted, so your phone is being called again to reconnect you.")
		a.redial = false
		switch a.state {
		case AgentLoggedIn:
			if err := e.connect(a, ConnectRequest{Mode: a.mode, Number: a.number, Persistent: true}); err != nil {
				e.log.Warn("re-connect agent phone", "agent", a.user.ID, "err", err)
				a.restoreTo = nil
			}
		default:
			// On wrap (the crash ended their call): the leg comes back
			// without a state change; the wrap decides what follows.
			e.redialLeg(a)
		}
	}
}

// redialLeg calls a persistent agent's phone again without moving them in
// the state machine (attachPhone brings the leg into their bridge).
func (e *Engine) redialLeg(a *agent) {
	if a.phoneUp || a.phoneChan != "" {
		return
	}
	a.phoneChan = e.newID("ap-")
	e.channels[a.phoneChan] = chanRef{role: roleAgentPhone, agent: a}
	leg := a.phoneChan
	e.originate(ari.OriginateRequest{
		Endpoint: e.o.AgentEndpoint(a.number), App: e.o.App,
		AppArgs: []string{"agentleg", itoa(a.user.ID)}, CallerID: "ctid <" + a.user.Username + ">",
		Timeout: secs(e.o.OfferTimeout), ChannelID: leg,
	}, func(err error) {
		if err == nil || a.phoneChan != leg {
			return
		}
		e.log.Warn("re-dial agent phone", "agent", a.user.ID, "err", err)
		delete(e.channels, leg)
		a.phoneChan = ""
		a.redial = true // the wrap's end tries again (finishWrap)
	})
}

// restoreAfterRedial puts an agent whose phone came back after a crash
// where they were before it.
func (e *Engine) restoreAfterRedial(a *agent) {
	r := a.restoreTo
	a.restoreTo = nil
	if r == nil || !a.phoneUp {
		return
	}
	if a.state == AgentLoggedIn {
		// They wrapped while the leg was still ringing: the phone is
		// connected now.
		if e.transition(a, ActConnect, "") != nil || e.transition(a, ActConnected, "") != nil {
			return
		}
		e.publish(a, "phone.connected", e.phoneView(a))
	}
	if a.state != AgentPaused {
		return
	}
	switch r.state {
	case AgentReady:
		if e.transition(a, ActReady, "") == nil {
			e.allocate()
		}
	case AgentPaused:
		if r.reason != "" && r.reason != a.pauseReason {
			e.transition(a, ActPause, r.reason)
		}
	}
}
