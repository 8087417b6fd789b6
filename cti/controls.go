package cti

import (
	"context"
	"time"

	"github.com/ctid/ctid/ari"
)

// In-call controls an agent works during a connected call: hold (the
// customer hears music; timed per interaction), mute (the agent's
// microphone no longer reaches anyone), a keypad whose digits go to the
// customer's side (an IVR the agent called), and dropping one conference
// party. The state lives on the call (controls) and is published as
// "call.controls" on every change.

// ControlsView is the "call.controls" event and the snapshot's controls.
type ControlsView struct {
	InteractionID string     `json:"interactionId"`
	Held          bool       `json:"held"`
	HoldSeconds   int64      `json:"holdSeconds"` // hold time so far, closed holds plus the open one
	HeldSince     *time.Time `json:"heldSince"`
	Muted         bool       `json:"muted"`
}

// controls are the agent's switches on one call.
type controls struct {
	held      bool // the agent put the customer on hold (c.holdBridge is the bridge move itself)
	heldSince time.Time
	muted     bool
	mutedLeg  string // the agent channel that carries the mute
}

// MaxDTMFDigits bounds one keypad request.
const MaxDTMFDigits = 32

// validDTMF reports whether s is 1..32 keypad digits (0-9 * # A-D).
func validDTMF(s string) bool {
	if s == "" || len(s) > MaxDTMFDigits {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#', r >= 'A' && r <= 'D':
		default:
			return false
		}
	}
	return true
}

func (e *Engine) controlsView(c *call) ControlsView {
	v := ControlsView{InteractionID: c.rec.ID, Held: c.ctl.held, Muted: c.ctl.muted, HoldSeconds: c.rec.HoldMs / 1000}
	if c.ctl.held {
		since := c.ctl.heldSince
		v.HeldSince = &since
		v.HoldSeconds = (c.rec.HoldMs + e.now().Sub(since).Milliseconds()) / 1000
	}
	return v
}

func (e *Engine) publishControls(c *call) {
	if a := c.agent; a != nil && a.call == c {
		e.publish(a, "call.controls", e.controlsView(c))
	}
}

// withConnected runs f for the agent's connected call (and refuses with a
// sentence otherwise).
func (e *Engine) withConnected(ctx context.Context, userID int64, what string, f func(a *agent, c *call) error) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c == nil || a.state != AgentOnCall || c.rec.State != CallConnected || c.rec.CustomerChannel == "" {
			return conflict(string(a.state), "You can "+what+" only during a connected call.")
		}
		if c.partyOf != nil {
			return conflict(string(a.state), "You joined this call as a conference party: only the agent who owns it can "+what+".")
		}
		return f(a, c)
	})
}

// Hold puts the customer on hold: they move to a holding bridge with music
// and hear neither the agent nor any party.
func (e *Engine) Hold(ctx context.Context, userID int64) error {
	return e.withConnected(ctx, userID, "put a call on hold", func(a *agent, c *call) error {
		if c.ctl.held {
			return nil
		}
		if c.xfer != nil {
			return conflict(string(a.state), "The customer is already on hold while you transfer the call.")
		}
		if c.payment != nil {
			return conflict(string(a.state), "You cannot hold the call while the customer is keying card details.")
		}
		if err := e.hold(c); err != nil {
			return &Error{Kind: KindUnavailable, Msg: "The call could not be put on hold. Please try again."}
		}
		c.ctl.held, c.ctl.heldSince = true, e.now()
		e.saveInteraction(c)
		e.publishControls(c)
		return nil
	})
}

// Resume takes the customer off hold.
func (e *Engine) Resume(ctx context.Context, userID int64) error {
	return e.withConnected(ctx, userID, "resume a call", func(a *agent, c *call) error {
		if !c.ctl.held {
			return nil
		}
		e.closeHold(c)
		e.unhold(c)
		e.saveInteraction(c)
		e.publishControls(c)
		return nil
	})
}

// closeHold ends the agent's hold accounting (the customer's bridge move is
// the caller's business).
func (e *Engine) closeHold(c *call) {
	if !c.ctl.held {
		return
	}
	c.rec.HoldMs += e.now().Sub(c.ctl.heldSince).Milliseconds()
	c.ctl.held = false
}

// agentLegOf is the channel that carries the agent's voice on c.
func agentLegOf(c *call) string {
	if c.agentLeg != "" {
		return c.agentLeg
	}
	if c.agent != nil && c.agent.persistent {
		return c.agent.phoneChan
	}
	return ""
}

// Mute stops the agent's microphone reaching the call (ARI channel mute,
// direction in, on the agent's leg: ARI-NOTES §3).
func (e *Engine) Mute(ctx context.Context, userID int64, mute bool) error {
	what := "mute"
	if !mute {
		what = "unmute"
	}
	return e.withConnected(ctx, userID, what, func(a *agent, c *call) error {
		if c.ctl.muted == mute {
			return nil
		}
		leg := c.ctl.mutedLeg
		if mute {
			leg = agentLegOf(c)
		}
		if leg == "" {
			return conflict(string(a.state), "Your phone is not on this call, so it cannot be muted.")
		}
		tctx, cancel := e.tctx()
		defer cancel()
		var err error
		if mute {
			err = e.tel.Mute(tctx, leg, "in")
		} else {
			err = e.tel.Unmute(tctx, leg, "in")
		}
		if err != nil {
			return &Error{Kind: KindUnavailable, Msg: "Your microphone could not be " + what + "d. Try again."}
		}
		c.ctl.muted = mute
		c.ctl.mutedLeg = leg
		if !mute {
			c.ctl.mutedLeg = ""
		}
		e.publishControls(c)
		return nil
	})
}

// SendDTMF sends keypad digits to the customer's side of the call (an IVR
// the agent dialled). The digits are written to the customer channel, so
// they are never read from it: they cannot be taken for the customer's own
// keys, and while card entry runs they are refused outright.
func (e *Engine) SendDTMF(ctx context.Context, userID int64, digits string) error {
	if !validDTMF(digits) {
		return invalid("digits", "Digits are 0-9, *, # and A-D, at most 32 at a time.")
	}
	return e.withConnected(ctx, userID, "use the keypad", func(a *agent, c *call) error {
		if c.payment != nil {
			return conflict(string(a.state), "The keypad is off while the customer keys card details.")
		}
		if c.ctl.held {
			return conflict(string(a.state), "The customer is on hold: resume the call to use the keypad.")
		}
		ch := c.rec.CustomerChannel
		e.request(ch, "send dtmf", func(ctx context.Context) error {
			return e.tel.SendDTMF(ctx, ch, ari.DTMFOptions{Digits: digits})
		}, func(err error) {
			if err != nil {
				e.log.Warn("send dtmf", "interaction", c.rec.ID, "err", err)
			}
		})
		return nil
	})
}

// DropParty removes one conference party (a number or another agent);
// the conference carries on with the others.
func (e *Engine) DropParty(ctx context.Context, userID int64, partyID string) error {
	return e.withConnected(ctx, userID, "drop a conference party", func(a *agent, c *call) error {
		for _, p := range c.parties {
			if p.id == partyID {
				e.endParty(c, p, "dropped by agent")
				return nil
			}
		}
		return notFound("That person is not in this conference.")
	})
}

// endParty takes p out of c's conference now: its leg is released (an
// agent's persistent leg goes back to their own bridge), a party agent
// wraps their part of the call.
func (e *Engine) endParty(c *call, p *transfer, why string) {
	for i, x := range c.parties {
		if x == p {
			c.parties = append(c.parties[:i:i], c.parties[i+1:]...)
			break
		}
	}
	if p.state == XferConferenced {
		e.xferStep(p, XActHangup, why)
	}
	e.releasePartyLeg(p)
	if c.agent == nil && len(c.parties) == 0 && c.rec.CustomerChannel != "" {
		e.hangup(c.rec.CustomerChannel, "normal") // nobody left to talk to
	}
	e.publishConference(c)
}

// releasePartyLeg frees the channel a conference party used.
func (e *Engine) releasePartyLeg(p *transfer) {
	if p.borrowed && p.tagent != nil {
		ta, leg := p.tagent, p.leg
		if ta.phoneChan == leg && ta.bridge != "" {
			b := ta.bridge
			e.request(leg, "party agent home", func(ctx context.Context) error { return e.tel.AddToBridge(ctx, b, leg, false) }, nil)
		}
	} else if p.leg != "" {
		delete(e.channels, p.leg)
		e.hangup(p.leg, "normal")
	}
	p.leg = ""
	if pc := p.pcall; pc != nil && pc.rec.State == CallConnected {
		p.pcall = nil
		e.endCall(pc, CallActHangup, "left the conference")
		e.agentToWrap(pc)
	}
}

// stopControls runs as a call ends: the hold time is closed and a
// persistent leg that stays up is unmuted for the next call.
func (e *Engine) stopControls(c *call) {
	e.closeHold(c)
	if c.ctl.muted {
		c.ctl.muted = false
		if leg := c.ctl.mutedLeg; leg != "" && c.agent != nil && leg == c.agent.phoneChan {
			e.request(leg, "unmute agent leg", func(ctx context.Context) error { return e.tel.Unmute(ctx, leg, "in") }, nil)
		}
		c.ctl.mutedLeg = ""
	}
}
