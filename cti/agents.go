package cti

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/ctid/ctid/ari"
)

// ConnectRequest is the phone connection step after login.
type ConnectRequest struct {
	Mode       PhoneMode `json:"mode"`
	Number     string    `json:"number"`
	Persistent bool      `json:"persistent"`
}

// WrapRequest closes the wrap of the agent's last call.
type WrapRequest struct {
	Code   string  `json:"code"`
	Next   string  `json:"next"`   // "ready" (default) or "paused"
	Reason string  `json:"reason"` // pause reason when Next is "paused"
	Notes  *string `json:"notes,omitempty"`
}

// Login marks an authenticated user as logged in to the CTI (idempotent:
// a second tab or a page reload keeps the current state).
func (e *Engine) Login(ctx context.Context, userID int64) (AgentSnapshot, error) {
	var snap AgentSnapshot
	err := e.exec(ctx, func() error {
		u := e.cfg.Users[userID]
		if u == nil {
			return notFound("no such agent")
		}
		a := e.agents[userID]
		if a == nil {
			a = &agent{user: u, state: AgentLoggedOut, since: e.now(), number: u.DefaultPhone}
			e.agents[userID] = a
		}
		if err := e.transition(a, ActLogin, ""); err != nil {
			return err
		}
		snap = e.snapshot(a)
		return nil
	})
	return snap, err
}

// Connect sets up the agent's phone connection. The agent lands in Paused
// once the connection is up.
func (e *Engine) Connect(ctx context.Context, userID int64, req ConnectRequest) error {
	if err := e.checkPhone(ctx, userID, &req); err != nil { // phones.go: only a phone they may use
		return err
	}
	return e.withAgent(ctx, userID, func(a *agent) error { return e.connect(a, req) })
}

func (e *Engine) connect(a *agent, req ConnectRequest) error {
	if req.Mode != PhoneAgentCalls && req.Mode != PhoneSystemCalls {
		return invalid("mode", "Choose how your phone connects: you call the system (agent_calls) or the system calls you (system_calls).")
	}
	if req.Number == "" {
		req.Number = a.user.DefaultPhone
	}
	if req.Mode == PhoneSystemCalls && req.Number == "" {
		return invalid("number", "Type the phone number the system should call.")
	}
	if req.Mode == PhoneAgentCalls && req.Number == "" {
		// No wildcard: the call to 8000 is matched to the phone given here.
		return invalid("number", "Type the extension of the phone you will call from.")
	}
	if req.Number != "" {
		n, err := NormalizeNumber(req.Number, e.o.DefaultRegion)
		if err != nil {
			return err
		}
		req.Number = n
	}
	if a.phoneUp {
		// One phone per agent. A second login (another desk, another
		// browser) that asks for a phone is refused, saying which phone
		// holds the agent, rather than silently moving their calls:
		// the first desk may be in the middle of something.
		if req.Number != a.number {
			return conflict(string(a.state), "You are already connected on phone "+a.number+". Log out there first, then connect this phone.")
		}
		return conflict(string(a.state), "Your phone is already connected.")
	}
	if err := e.transition(a, ActConnect, ""); err != nil {
		return err
	}
	a.mode, a.number, a.persistent = req.Mode, req.Number, req.Persistent
	switch {
	case req.Mode == PhoneAgentCalls:
		// Wait for the agent's call (StasisStart agentlogin). That leg
		// stays up until they hang up, so it is persistent by nature.
		a.persistent = true
	case req.Persistent:
		a.phoneChan = e.newID("ap-")
		e.channels[a.phoneChan] = chanRef{role: roleAgentPhone, agent: a}
		ctx, cancel := e.tctx()
		defer cancel()
		err := e.tel.Originate(ctx, ari.OriginateRequest{
			Endpoint: e.o.AgentEndpoint(req.Number), App: e.o.App,
			AppArgs: []string{"agentleg", itoa(a.user.ID)}, CallerID: "ctid <" + a.user.Username + ">",
			Timeout: secs(e.o.OfferTimeout), ChannelID: a.phoneChan,
		})
		if err != nil {
			delete(e.channels, a.phoneChan)
			a.phoneChan = ""
			e.transition(a, ActConnectFail, "")
			e.publish(a, "phone.failed", map[string]string{"error": err.Error()})
			return &Error{Kind: KindUnavailable, Msg: "could not call the agent's phone: " + err.Error()}
		}
	default:
		// Non-persistent system-calls-agent: the phone is called for each
		// allocated call, so the connection is "up" at once.
		e.transition(a, ActConnected, "")
		e.publish(a, "phone.connected", e.phoneView(a))
	}
	e.saveSession(a)
	return nil
}

func (e *Engine) onAgentPhoneUp(ch ari.Channel, args []string) {
	ref, ok := e.channels[ch.ID]
	if !ok || ref.role != roleAgentPhone {
		e.hangup(ch.ID, "normal")
		return
	}
	e.attachPhone(ref.agent, ch.ID)
	e.restoreAfterRedial(ref.agent)
}

// attachPhone puts a persistent agent leg into the agent's own bridge,
// where customers are added and removed call by call.
func (e *Engine) attachPhone(a *agent, chID string) {
	ctx, cancel := e.tctx()
	defer cancel()
	// The agent's bridge is "agent-<id>" where Asterisk allows it. Real
	// Asterisk keeps refusing an id whose bridge once held a channel (the
	// agent's previous connection, or a previous ctid's), so a bridge we
	// cannot create is not ours: take a fresh id rather than join whatever
	// that id names.
	a.bridge = "agent-" + itoa(a.user.ID)
	if a.dyingBridge == a.bridge {
		a.bridge = e.newID(a.bridge + "-")
	}
	if err := e.tel.CreateBridge(ctx, a.bridge, "mixing", "dtmf_events"); err != nil {
		fresh := e.newID(a.bridge + "-")
		e.log.Info("agent bridge id taken; using a fresh one", "bridge", a.bridge, "fresh", fresh, "err", err)
		a.bridge = fresh
		if err := e.tel.CreateBridge(ctx, a.bridge, "mixing", "dtmf_events"); err != nil {
			e.log.Error("create agent bridge", "bridge", a.bridge, "err", err)
			a.bridge = ""
			e.hangup(chID, "normal")
			return
		}
	}
	if err := e.tel.AddToBridge(ctx, a.bridge, chID, false); err != nil {
		e.log.Error("add agent leg to bridge", "err", err)
		e.hangup(chID, "normal")
		return
	}
	a.phoneChan, a.phoneUp = chID, true
	if a.state == AgentConnecting {
		e.transition(a, ActConnected, "")
	}
	e.publish(a, "phone.connected", e.phoneView(a))
	e.saveSession(a)
}

func (e *Engine) onAgentDialIn(ch ari.Channel, args []string) {
	// The phone that called is the PJSIP endpoint that authenticated
	// (phones.go), never the caller-id in args; no connecting agent
	// matches a phone they did not name.
	from := dialInEndpoint(ch)
	var match *agent
	for _, a := range e.agents {
		if a.state == AgentConnecting && a.mode == PhoneAgentCalls && from != "" &&
			(a.number == from || a.number == "+"+from) {
			if match == nil || a.since.Before(match.since) {
				match = a
			}
		}
	}
	ctx, cancel := e.tctx()
	defer cancel()
	if match == nil {
		e.log.Info("agent dial-in from a number no connecting agent gave", "from", from)
		e.tel.Answer(ctx, ch.ID)
		e.tel.Play(ctx, ch.ID, e.newID("pb-"), "sound:vm-goodbye")
		e.after(3*time.Second, func() { e.hangup(ch.ID, "normal") })
		return
	}
	e.tel.Answer(ctx, ch.ID)
	e.channels[ch.ID] = chanRef{role: roleAgentPhone, agent: match}
	e.attachPhone(match, ch.ID)
}

func (e *Engine) agentPhoneGone(a *agent, chID string) {
	if a.phoneChan != chID {
		return
	}
	a.phoneUp, a.phoneChan = false, ""
	if a.bridge != "" {
		b := a.bridge
		a.bridge = ""
		a.dyingBridge = b
		e.request(chID, "destroy agent bridge", func(ctx context.Context) error { return e.tel.DestroyBridge(ctx, b) },
			func(error) {
				if a.dyingBridge == b {
					a.dyingBridge = ""
				}
			})
	}
	switch a.state {
	case AgentConnecting:
		e.transition(a, ActConnectFail, "")
		e.publish(a, "phone.failed", map[string]string{"error": "the phone did not answer"})
	case AgentOnCall:
		// The customer is alone in the agent's bridge: end the call; the
		// agent wraps and then has to reconnect. A conference party agent
		// just leaves the conference.
		if c := a.call; c != nil && c.partyOf != nil {
			e.leaveAsParty(c)
		} else if c != nil && c.rec.CustomerChannel != "" {
			e.hangup(c.rec.CustomerChannel, "normal")
		}
		e.publish(a, "phone.disconnected", e.phoneView(a))
	default:
		if c := a.call; c != nil && a.state == AgentReserved {
			// A caller was on the way into the bridge that just went:
			// they go back to the head of the queue for someone else.
			e.requeue(c, a, false)
			defer e.allocate()
		}
		e.transition(a, ActPhoneLost, "phone disconnected")
		e.publish(a, "phone.disconnected", e.phoneView(a))
	}
	e.saveSession(a)
}

// SetReady makes the agent available for calls.
func (e *Engine) SetReady(ctx context.Context, userID int64) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		if a.state == AgentOnWrap {
			return conflict(string(a.state), "Choose a wrap code for your last call first.")
		}
		if !e.phoneReady(a) {
			return conflict(string(a.state), "Your phone is not connected. Connect it first.")
		}
		if err := e.transition(a, ActReady, ""); err != nil {
			return err
		}
		e.allocate()
		return nil
	})
}

// SetPaused pauses the agent with one of the admin's pause reasons.
func (e *Engine) SetPaused(ctx context.Context, userID int64, reason string) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		if err := e.checkReason(reason); err != nil {
			return err
		}
		if a.preview != nil && a.state == AgentReserved {
			// Pausing during a preview hands the lead back to the list.
			e.withdrawPreview(a, "agent paused")
			return e.transition(a, ActReturnPaused, reason)
		}
		return e.transition(a, ActPause, reason)
	})
}

func (e *Engine) checkReason(reason string) error {
	if reason == "" {
		return invalid("reason", "Choose a pause reason.")
	}
	if !slices.Contains(e.cfg.PauseReasons, reason) {
		return invalid("reason", "unknown pause reason '"+reason+"'")
	}
	return nil
}

// Logout ends the agent's CTI session. The user guide asks for a pause
// reason first: with a reason, a Ready agent is paused with it and logged
// out in one step; logout itself is allowed from Paused (and before the
// phone is up).
func (e *Engine) Logout(ctx context.Context, userID int64, reason string) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		if reason != "" {
			if err := e.checkReason(reason); err != nil {
				return err
			}
			if a.state == AgentReady || a.state == AgentPaused {
				if err := e.transition(a, ActPause, reason); err != nil {
					return err
				}
			}
		}
		if err := e.transition(a, ActLogout, reason); err != nil {
			return err
		}
		e.dropAgent(a)
		return nil
	})
}

// forceLogout removes an agent whatever their state (no call in progress).
func (e *Engine) forceLogout(a *agent, why string) {
	from := a.state
	a.state = AgentLoggedOut
	uid := a.user.ID
	now := e.now()
	e.writer.add(agentKey(uid), func(ctx context.Context, s Store) error {
		return s.AddAgentState(ctx, uid, now, from, AgentLoggedOut, why, "")
	})
	e.publish(a, "agent.state", e.stateView(a))
	e.dropAgent(a)
}

func (e *Engine) dropAgent(a *agent) {
	stopTimer(&a.wrapTimer)
	stopTimer(&a.offerTimer)
	if a.phoneChan != "" {
		ch := a.phoneChan
		delete(e.channels, ch)
		a.phoneUp, a.phoneChan = false, ""
		e.hangup(ch, "normal")
	}
	if a.bridge != "" {
		ctx, cancel := e.tctx()
		e.tel.DestroyBridge(ctx, a.bridge)
		cancel()
		a.bridge = ""
	}
	e.markReady(a, false)
	delete(e.agents, a.user.ID)
	uid := a.user.ID
	e.writer.add(agentKey(uid), func(ctx context.Context, s Store) error { return s.DeleteAgentSession(ctx, uid) })
}

// Wrap saves the wrap code (and notes) and moves the agent on.
func (e *Engine) Wrap(ctx context.Context, userID int64, req WrapRequest) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		if a.state != AgentOnWrap || a.call == nil {
			return conflict(string(a.state), "There is no call to wrap up.")
		}
		c := a.call
		if req.Code == "" && c.campaign != nil && len(c.campaign.WrapCodes) > 0 {
			return invalid("code", "Choose a wrap code.")
		}
		if req.Code != "" && (c.campaign == nil || !hasCode(c.campaign, req.Code)) {
			return invalid("code", "'"+req.Code+"' is not one of this campaign's wrap codes.")
		}
		act := ActWrapReady
		switch req.Next {
		case "", "ready":
		case "paused":
			if err := e.checkReason(req.Reason); err != nil {
				return err
			}
			act = ActWrapPause
		default:
			return invalid("next", "next must be ready or paused")
		}
		if req.Notes != nil {
			c.rec.Notes = *req.Notes
		}
		e.finishWrap(a, req.Code, act, req.Reason)
		return nil
	})
}

func hasCode(c *Campaign, code string) bool {
	for _, w := range c.WrapCodes {
		if w.Code == code {
			return true
		}
	}
	return false
}

func (e *Engine) finishWrap(a *agent, code string, act AgentAction, reason string) {
	c := a.call
	stopTimer(&a.wrapTimer)
	c.rec.WrapCode = code
	now := e.now()
	c.rec.WrappedAt = &now
	e.callTransition(c, CallActWrap, "wrap code "+code)
	if !e.phoneReady(a) && a.phoneChan != "" && a.persistent {
		// The phone is being re-dialled (after an Asterisk crash): what the
		// agent chose applies once it answers (restoreAfterRedial).
		next := agentReturn{state: AgentReady}
		if act == ActWrapPause {
			next = agentReturn{state: AgentPaused, reason: reason}
		}
		a.restoreTo = &next
	}
	if !e.phoneReady(a) && act == ActWrapReady {
		act, reason = ActWrapPause, "Logged in"
	}
	a.call = nil
	e.transition(a, act, reason)
	delete(e.calls, c.rec.ID)
	if a.state == AgentPaused && !e.phoneReady(a) {
		e.transition(a, ActPhoneLost, "phone disconnected")
	}
	if a.disabled {
		e.forceLogout(a, "user disabled")
	} else if a.redial && a.state == AgentLoggedIn {
		a.redial = false
		if err := e.connect(a, ConnectRequest{Mode: a.mode, Number: a.number, Persistent: true}); err != nil {
			e.log.Warn("re-connect agent phone after wrap", "agent", a.user.ID, "err", err)
		}
	}
	e.allocate()
}

// ExtendWrap adds the campaign's extension to the auto-wrap countdown.
func (e *Engine) ExtendWrap(ctx context.Context, userID int64) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		if a.state != AgentOnWrap || a.call == nil {
			return conflict(string(a.state), "You are not wrapping up a call.")
		}
		c := a.call.campaign
		if c == nil || c.ExtendWrapSeconds <= 0 || a.wrapTimer == nil {
			return forbidden("This campaign does not allow more wrap time.")
		}
		e.startWrapTimer(a, a.wrapUntil.Add(time.Duration(c.ExtendWrapSeconds)*time.Second))
		e.publish(a, "wrap.extended", e.wrapView(a))
		return nil
	})
}

func (e *Engine) startWrap(a *agent) {
	c := a.call
	if c.campaign != nil && c.campaign.WrapLimitSeconds > 0 {
		e.startWrapTimer(a, e.now().Add(time.Duration(c.campaign.WrapLimitSeconds)*time.Second))
	}
	e.publish(a, "wrap.started", e.wrapView(a))
}

func (e *Engine) startWrapTimer(a *agent, until time.Time) {
	stopTimer(&a.wrapTimer)
	a.wrapUntil = until
	c := a.call
	a.wrapTimer = e.after(until.Sub(e.now()), func() {
		if a.state != AgentOnWrap || a.call != c || !a.wrapUntil.Equal(until) {
			return // wrapped or extended meanwhile
		}
		code := ""
		if c.campaign != nil {
			code = c.campaign.DefaultWrapCode
		}
		e.finishWrap(a, code, ActWrapReady, "")
		e.publish(a, "wrap.auto", map[string]string{"interactionId": c.rec.ID, "code": code})
		text := "Wrap time ran out, so the call was closed"
		if code != "" {
			text += " with the default code " + wrapLabel(c.campaign, code)
		}
		e.notify(a, NoticeAutoWrap, text+".")
	})
}

// SetNotes replaces the notes of the agent's current or wrapping call.
func (e *Engine) SetNotes(ctx context.Context, userID int64, interactionID, notes string) error {
	if len(notes) > 20000 {
		return invalid("notes", "notes are limited to 20,000 characters")
	}
	return e.withAgent(ctx, userID, func(a *agent) error {
		if a.call == nil || a.call.rec.ID != interactionID {
			return notFound("That call is not yours, or it is over.")
		}
		a.call.rec.Notes = notes
		e.saveInteraction(a.call)
		e.publish(a, "call.notes", map[string]string{"interactionId": interactionID, "notes": notes})
		return nil
	})
}

func (e *Engine) withAgent(ctx context.Context, userID int64, f func(*agent) error) error {
	return e.exec(ctx, func() error {
		a := e.agents[userID]
		if a == nil {
			return conflict(string(AgentLoggedOut), "You are not logged in. Log in first.")
		}
		return f(a)
	})
}

func (e *Engine) phoneReady(a *agent) bool {
	if a.mode == PhoneSystemCalls && !a.persistent {
		return true
	}
	return a.phoneUp
}

// transition is the only place an agent's state changes.
func (e *Engine) transition(a *agent, act AgentAction, reason string) error {
	to, err := nextAgentState(a.state, act)
	if err != nil {
		return err
	}
	from := a.state
	now := e.now()
	if to == from && act != ActPause {
		return nil
	}
	a.state = to
	if to != from {
		a.since = now
	}
	if to == AgentReady {
		a.idleSince = now
	}
	e.markReady(a, to == AgentReady)
	if to == AgentPaused {
		if reason == "" {
			reason = "Logged in"
		}
		a.pauseReason = reason
	} else {
		a.pauseReason = ""
	}
	if act == ActMiss {
		e.stats.AutoPaused++
	}
	iid := ""
	if a.call != nil {
		iid = a.call.rec.ID
	}
	uid := a.user.ID
	e.writer.add(agentKey(uid), func(ctx context.Context, s Store) error {
		return s.AddAgentState(ctx, uid, now, from, to, reason, iid)
	})
	e.publish(a, "agent.state", e.stateView(a))
	e.presenceChanged(a)
	e.saveSession(a)
	return nil
}

func (e *Engine) saveSession(a *agent) {
	if a.state == AgentLoggedOut {
		return
	}
	s := AgentSession{UserID: a.user.ID, State: a.state, PauseReason: a.pauseReason, PhoneMode: a.mode,
		PhoneNumber: a.number, Persistent: a.persistent, AgentChannel: a.phoneChan, BridgeID: a.bridge,
		StateSince: a.since}
	if a.call != nil {
		s.InteractionID = a.call.rec.ID
	}
	key := agentKey(s.UserID)
	e.writer.replace(key, "session:"+key, func(ctx context.Context, st Store) error { return st.SaveAgentSession(ctx, s) })
}

func (e *Engine) publish(a *agent, typ string, data any) {
	e.feed.Publish(a.user.ID, typ, data, e.now())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
