package cti

import (
	"context"
	"time"
)

// DeclineReason is the pause reason of an agent who declined an offered
// call: what the agent, the supervisor and the history read.
const DeclineReason = "Declined a call"

// NoticeTransferDeclined tells the sending agent that the agent they were
// transferring to declined.
const NoticeTransferDeclined = "transfer_declined"

// NoOfferToDecline answers a decline when nothing is being offered.
const NoOfferToDecline = "There is no call being offered to you."

// Decline refuses the call being offered to the agent: the same outcome as
// a no-answer (Auto Pause, the caller to the head of the queue for another
// agent), but at once and with its own reason.
//
//   - An inbound queue call ringing a non-persistent agent: their ringing
//     leg is hung up; the caller never left the queue's holding bridge, so
//     the music goes on without a gap.
//   - A persistent agent's offer (the caller on the way into the agent's
//     bridge): the offer is withdrawn and the caller parked again with music
//     (queued behind the connect on the caller's channel, so it wins).
//   - A transfer or consult ringing the agent: the transfer fails as if
//     they had not answered; the sending agent gets the customer back.
//
// The agent goes Paused "Declined a call" (a transfer offered while they
// were Paused leaves them Paused with their own reason). The interaction's
// history records who declined. Anything else is a 409 sentence.
func (e *Engine) Decline(ctx context.Context, userID int64) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		if _, err := nextAgentState(a.state, ActDecline); err != nil {
			return err
		}
		if a.preview != nil {
			return conflict(string(a.state), "This is a preview: choose Skip to pass it on.")
		}
		if c := a.call; c != nil && c.agent == a && c.rec.State == CallOffering && c.rec.Direction == "IN" && c.campaign != nil {
			e.declineOffer(c, a)
			return nil
		}
		if c := a.call; c != nil && c.rec.State != CallOffering {
			// A predictive contact: the customer has answered already.
			return conflict(string(a.state), "This call is already answered, so it cannot be declined.")
		}
		if t := e.transferRinging(a); t != nil {
			e.declineTransfer(t)
			return nil
		}
		return conflict(string(a.state), NoOfferToDecline)
	})
}

func (e *Engine) declineOffer(c *call, a *agent) {
	stopTimer(&a.offerTimer)
	now := e.now()
	uid := a.user.ID
	leg := Leg{InteractionID: c.rec.ID, Role: "agent", Endpoint: e.o.AgentEndpoint(a.number), AgentID: &uid,
		StartedAt: now, EndedAt: &now, Cause: "declined"}
	if c.rec.OfferedAt != nil {
		leg.StartedAt = *c.rec.OfferedAt
	}
	if ch := c.agentLeg; ch != "" {
		// Forget the leg first: its end, when Asterisk reports it, is
		// then nobody's (agentCallLegGone would count it a miss).
		c.agentLeg = ""
		delete(e.channels, ch)
		e.hangup(ch, "normal")
		leg.ChannelID = ch
	} else {
		// A persistent agent's leg is theirs, not the call's: the record
		// gets a leg of its own for the offer.
		leg.ChannelID = e.newID("dc-")
	}
	e.writer.add(c.rec.ID, func(ctx context.Context, s Store) error { return s.UpsertLeg(ctx, leg) })
	e.stats.Declined++
	e.transition(a, ActDecline, DeclineReason) // a.call still set: the history names the interaction
	a.call = nil
	c.agent, c.rec.AgentID = nil, nil
	e.callTransition(c, CallActDecline, "declined by agent "+a.user.Username)
	e.publish(a, "call.declined", e.callView(c))
	e.backToQueueHead(c)
	e.allocate()
}

// backToQueueHead puts a caller whose offer came undone first in their
// campaign's queue, keeping their overflow deadline, and (re)parks them
// with music.
func (e *Engine) backToQueueHead(c *call) {
	e.queues[c.campaign.ID] = append([]*call{c}, e.queues[c.campaign.ID]...)
	if c.campaign.MaxQueueSeconds > 0 && c.campaign.OverflowContext != "" {
		left := time.Duration(c.campaign.MaxQueueSeconds)*time.Second - e.now().Sub(*c.rec.QueuedAt)
		c.timer = e.after(max(left, 0), func() { e.overflow(c) })
	}
	e.park(c)
}

// transferRinging finds the transfer ringing agent a's own phone (a
// persistent target is answered at once, so it never rings).
func (e *Engine) transferRinging(a *agent) *transfer {
	for _, c := range e.calls {
		if t := c.xfer; t != nil && t.tagent == a && t.state == XferRinging && !t.borrowed {
			return t
		}
	}
	return nil
}

func (e *Engine) declineTransfer(t *transfer) {
	ta, c := t.tagent, t.c
	reason := DeclineReason
	if t.back.state == AgentPaused && t.back.reason != "" {
		reason = t.back.reason
	}
	e.stats.Declined++
	e.transition(ta, ActDecline, reason) // no longer Reserved: dropXfer leaves them be
	e.xferStep(t, XActFail, "declined by "+personName(ta.user))
	e.dropXfer(t) // hangs up the ringing leg
	if t.mode != "add" && c.rec.State == CallConnected {
		e.unhold(c) // the customer goes back to the agent who sent them
	}
	if t.from != nil {
		e.notify(t.from, NoticeTransferDeclined, personName(ta.user)+" declined the call you were transferring. The caller is back with you.")
	}
}
