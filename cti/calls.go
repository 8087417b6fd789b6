package cti

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ctid/ctid/ari"
)

// DialRequest is a manual outbound call from the keypad.
type DialRequest struct {
	Number     string `json:"number"`
	CampaignID *int64 `json:"campaignId"` // nil: "skip campaign"
}

// --- inbound --------------------------------------------------------------

// onInbound takes a caller the dialplan handed to ctid:
// Stasis(ctid,inbound,<DID>[,<IVR text>[,<IVR data>]]).
func (e *Engine) onInbound(ch ari.Channel, args []string) {
	if _, known := e.channels[ch.ID]; known {
		// Already adopted by a resync; this is the delayed StasisStart.
		return
	}
	did := ch.Dialplan.Exten
	if len(args) > 0 && args[0] != "" {
		did = args[0]
	}
	now := e.now()
	c := &call{rec: Interaction{
		ID: e.newID("I"), Direction: "IN", CustomerNumber: ch.Caller.Number, PlatformNumber: did,
		CustomerChannel: ch.ID, QueuedAt: &now,
	}}
	c.rec.IVRText = argOr(args, 1, ch.ChannelVars["CTI_IVR_TEXT"])
	c.rec.IVRData = argOr(args, 2, ch.ChannelVars["CTI_IVR_DATA"])
	camp := e.cfg.ByDID[did]
	if camp == nil {
		camp = e.cfg.ByDID[e164DID(did, e.o.DefaultRegion)]
	}
	if camp == nil {
		// Still a record: every inbound call ends in exactly one.
		c.rec.State, c.rec.EndedAt, c.rec.EndReason = CallEnded, &now, "unknown DID "+did
		rec := c.rec
		e.writer.add(rec.ID, func(ctx context.Context, s Store) error { return s.CreateInteraction(ctx, rec) })
		e.hangup(ch.ID, "normal")
		return
	}
	c.campaign = camp
	// The dialplan hands over the DID without its "+" (and a carrier may
	// send it national): the record keeps it in E.164.
	region := camp.DefaultRegion
	if region == "" {
		region = e.o.DefaultRegion
	}
	c.rec.PlatformNumber = e164DID(did, region)
	id := camp.ID
	c.rec.CampaignID = &id
	e.calls[c.rec.ID] = c
	e.channels[ch.ID] = chanRef{role: roleCustomer, call: c}
	e.callTransition(c, CallActQueue, "did "+did)
	leg := Leg{InteractionID: c.rec.ID, ChannelID: ch.ID, Role: "customer", Endpoint: ch.Name, StartedAt: now}
	e.writer.add(c.rec.ID, func(ctx context.Context, s Store) error { return s.UpsertLeg(ctx, leg) }) // the queue transition created the record
	if ch.State != "Up" {
		id := ch.ID
		e.request(id, "answer inbound", func(ctx context.Context) error { return e.tel.Answer(ctx, id) }, nil)
	}
	e.stats.CallsQueued++
	// Nobody waiting and a nailed-up agent free: connect at once, without
	// parking the caller in the holding bridge first (one ARI request
	// instead of two, and no snatch of music).
	if len(e.queues[camp.ID]) == 0 {
		if a := e.pickAgent(camp); a != nil && a.persistent && a.phoneUp {
			e.offer(c, a)
			return
		}
	}
	e.park(c)
	e.queues[camp.ID] = append(e.queues[camp.ID], c)
	if camp.MaxQueueSeconds > 0 && camp.OverflowContext != "" {
		c.timer = e.after(time.Duration(camp.MaxQueueSeconds)*time.Second, func() { e.overflow(c) })
	}
	e.allocate()
}

func argOr(args []string, i int, def string) string {
	if i < len(args) && args[i] != "" {
		return args[i]
	}
	return def
}

// e164DID turns a DID as the dialplan passes it (E.164, E.164 without its
// "+", or national) into E.164; what is no phone number stays as it is.
func e164DID(did, region string) string {
	if n, err := NormalizeNumber(did, region); err == nil && strings.HasPrefix(n, "+") {
		return n
	}
	d := strings.TrimSpace(did)
	if strings.HasPrefix(d, "+") {
		if n, err := NormalizePlatformNumber(d, region); err == nil {
			return n // a range libphonenumber does not know, as the admin may store it
		}
	}
	if len(d) >= 8 && strings.Trim(d, "0123456789") == "" {
		if n, err := NormalizePlatformNumber("+"+d, region); err == nil {
			return n
		}
	}
	return did
}

// overflow sends a caller who waited past the campaign's limit to its
// overflow workflow (voicemail, message, another queue) in the dialplan.
func (e *Engine) overflow(c *call) {
	if c.rec.State != CallQueued {
		return
	}
	e.unqueue(c)
	camp := c.campaign
	ext := camp.OverflowExtension
	if ext == "" {
		ext = "s"
	}
	ch, id := c.rec.CustomerChannel, c.rec.ID
	e.request(ch, "overflow", func(ctx context.Context) error {
		return e.tel.Continue(ctx, ch, camp.OverflowContext, ext)
	}, func(err error) {
		if err != nil {
			e.log.Error("overflow", "interaction", id, "err", err)
		}
	})
	delete(e.channels, c.rec.CustomerChannel)
	c.rec.EndReason = "overflow to " + camp.OverflowContext
	e.stats.Overflowed++
	e.endCall(c, CallActOverflow, "overflow")
	delete(e.calls, c.rec.ID)
}

func (e *Engine) unqueue(c *call) {
	if c.campaign == nil {
		return
	}
	q := e.queues[c.campaign.ID]
	for i, x := range q {
		if x == c {
			e.queues[c.campaign.ID] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	stopTimer(&c.timer)
}

// allocate gives waiting callers to Ready agents: the caller who has waited
// longest among the campaigns' queue heads goes to the longest-idle Ready
// agent on that campaign. It repeats until no pair matches.
func (e *Engine) allocate() {
	if len(e.predictive) > 0 {
		e.servePredictive() // answered contacts cannot wait: they come first
	}
	for {
		var best *call
		var to *agent
		for _, q := range e.queues {
			if len(q) > 0 && (best == nil || q[0].rec.QueuedAt.Before(*best.rec.QueuedAt)) {
				// Skip a head that no Ready agent can take, so another
				// campaign's caller is not blocked behind it.
				if a := e.pickAgent(q[0].campaign); a != nil {
					best, to = q[0], a
				}
			}
		}
		if best == nil {
			return
		}
		e.offer(best, to) // pickAgent scans the campaign's agents: once per offer, not twice
	}
}

func (e *Engine) offer(c *call, a *agent) {
	e.unqueue(c)
	now := e.now()
	c.rec.OfferedAt = &now
	c.agent = a
	uid := a.user.ID
	c.rec.AgentID = &uid
	a.call = c
	c.offerCount++
	e.transition(a, ActOffer, "")
	e.callTransition(c, CallActOffer, "agent "+a.user.Username)
	if a.persistent && a.phoneUp {
		// Nailed-up agent leg: the caller joins the agent's bridge at once.
		// The agent is Reserved and the call Offering until Asterisk says
		// the caller is in; whatever happens meanwhile (the caller hangs
		// up, the agent's phone drops) withdraws the offer first.
		bridge, ch := a.bridge, c.rec.CustomerChannel
		c.parked = ""
		e.request(ch, "connect caller", func(ctx context.Context) error {
			return e.tel.AddToBridge(ctx, bridge, ch, true)
		}, func(err error) { e.offerAnswered(c, a, err) })
		return
	}
	c.agentLeg = e.newID("ag-")
	e.channels[c.agentLeg] = chanRef{role: roleAgentCall, call: c, agent: a}
	e.publish(a, "call.offered", e.callView(c))
	leg := c.agentLeg
	req := ari.OriginateRequest{
		Endpoint: e.o.AgentEndpoint(a.number), App: e.o.App, AppArgs: []string{"agentcall", c.rec.ID},
		CallerID: callerID(c), Timeout: secs(e.o.OfferTimeout), ChannelID: leg,
		Originator: c.rec.CustomerChannel,
	}
	e.originate(req, func(err error) {
		if err == nil || c.agentLeg != leg || c.rec.State != CallOffering {
			return
		}
		e.log.Warn("call agent phone", "agent", a.user.ID, "err", err)
		delete(e.channels, leg)
		c.agentLeg = ""
		e.requeue(c, a, true)
		e.allocate() // the caller goes on with the next agent
	})
	// Backstop in case Asterisk never reports the leg's end.
	a.offerTimer = e.after(time.Duration(secs(e.o.OfferTimeout))*time.Second+2*time.Second, func() {
		if c.rec.State == CallOffering && c.agentLeg == leg {
			e.hangup(leg, "no_answer")
			e.onChannelGone(leg, "no_answer")
		}
	})
}

// offerAnswered: Asterisk answered the request that put a caller into a
// persistent agent's bridge.
func (e *Engine) offerAnswered(c *call, a *agent, err error) {
	if c.agent != a || a.call != c || c.rec.State != CallOffering {
		return // withdrawn meanwhile (caller gone, agent's phone dropped)
	}
	switch {
	case err == nil:
		e.connected(c, a)
		return
	case errors.Is(err, ari.ErrBadRequest):
		// 400/422: the caller's channel is gone or out of Stasis; their
		// hang-up event is on its way. End the call now rather than offer
		// it again.
		e.requeue(c, a, false)
		e.onChannelGone(c.rec.CustomerChannel, "gone before connect")
	default:
		// 404 (the agent's bridge is gone) or worse: something is wrong
		// with this agent's leg. Pause them so the caller goes to someone
		// else.
		e.log.Error("connect caller to agent bridge", "agent", a.user.ID, "err", err)
		e.requeue(c, a, true)
	}
	e.allocate()
}

func callerID(c *call) string {
	if c.rec.CustomerNumber == "" {
		return ""
	}
	return "<" + c.rec.CustomerNumber + ">"
}

// missOffer: the agent did not take the call. A non-persistent agent goes to
// Auto Pause (if autoPause); the caller goes back to the head of the queue.
func (e *Engine) missOffer(c *call, a *agent, autoPause bool) {
	e.requeue(c, a, autoPause)
	e.allocate()
}

// requeue undoes an offer: the agent is released (Auto Pause when they
// missed it) and the caller goes back to the head of the queue. It does not
// allocate: offer runs inside allocate's loop, which carries on by itself.
func (e *Engine) requeue(c *call, a *agent, autoPause bool) {
	stopTimer(&a.offerTimer)
	a.call = nil
	c.agent, c.rec.AgentID = nil, nil
	if autoPause {
		e.transition(a, ActMiss, "Auto Pause")
		e.notify(a, NoticeAutoPause, "You missed a call, so you are paused (Auto Pause). Choose Ready when you can take calls again.")
	} else {
		e.transition(a, ActRecall, "")
	}
	if c.rec.State == CallOffering {
		e.callTransition(c, CallActMiss, "agent "+a.user.Username+" did not answer")
	}
	e.backToQueueHead(c)
}

// park puts a caller in their campaign's holding bridge, with music,
// creating the bridge the first time.
func (e *Engine) park(c *call) {
	q := "queue-" + itoa(c.campaign.ID)
	if !e.mohOn[q] {
		// Once per campaign (and after an Asterisk restart): synchronous,
		// so every caller parked after it finds the bridge.
		ctx, cancel := e.tctx()
		if err := e.tel.CreateBridge(ctx, q, "holding"); err != nil {
			e.log.Debug("create holding bridge", "bridge", q, "err", err)
		}
		if err := e.tel.BridgeMOH(ctx, q); err == nil {
			e.mohOn[q] = true
		}
		cancel()
	}
	if c.parked == q {
		return // still in it (a ringing agent did not answer): see call.parked
	}
	c.parked = q
	ch := c.rec.CustomerChannel
	e.request(ch, "park caller", func(ctx context.Context) error { return e.tel.AddToBridge(ctx, q, ch, true) }, func(err error) {
		if err != nil && c.parked == q {
			c.parked = "" // not in it after all: a later park tries again
		}
	})
}

// onEnteredBridge restarts a queue's music whenever a caller has joined its
// holding bridge. Asterisk 22 hangs up a holding bridge's music announcer
// the moment the bridge has nobody in it (when the last caller went to an
// agent), and later callers then heard dead air (seen on real SIP phones,
// TestAsteriskPhoneQueueMusic). Starting it while it plays is harmless. A
// requeued caller who never left is not re-added at all (call.parked): the
// re-join raced the announcer's hang-up and lost the music.
func (e *Engine) onEnteredBridge(ev *ari.ChannelEnteredBridge) {
	if ev.Channel == nil || !strings.HasPrefix(ev.Bridge.ID, "queue-") {
		return
	}
	ref, ok := e.channels[ev.Channel.ID]
	if !ok || ref.role != roleCustomer {
		return
	}
	q := ev.Bridge.ID
	e.request(ev.Channel.ID, "queue music on hold", func(ctx context.Context) error { return e.tel.BridgeMOH(ctx, q) }, nil)
}

// onAgentCallUp: a non-persistent agent answered. For an inbound call the
// caller joins them; for a manual call the customer is dialled now.
func (e *Engine) onAgentCallUp(ch ari.Channel, args []string) {
	ref, ok := e.channels[ch.ID]
	if !ok || ref.role != roleAgentCall {
		e.hangup(ch.ID, "normal")
		return
	}
	c, a := ref.call, ref.agent
	stopTimer(&a.offerTimer)
	c.bridge = "call-" + c.rec.ID
	// One request builds the call's bridge and puts both legs in, in that
	// order; it is queued on the customer's channel (for an outbound call,
	// the one about to be dialled) so it also stays ordered with the
	// customer's other requests.
	bridge, leg, in := c.bridge, ch.ID, c.rec.CustomerChannel
	c.parked = ""
	key := in
	if c.rec.Direction == "OUT" {
		key, in = "cu-"+c.rec.ID, ""
	}
	e.request(key, "connect agent leg", func(ctx context.Context) error {
		if err := e.tel.CreateBridge(ctx, bridge, "mixing", "dtmf_events"); err != nil {
			e.log.Warn("create call bridge", "bridge", bridge, "err", err)
		}
		if err := e.tel.AddToBridge(ctx, bridge, leg, false); err != nil {
			e.log.Error("add agent leg", "bridge", bridge, "err", err)
		}
		if in != "" {
			if err := e.tel.AddToBridge(ctx, bridge, in, true); err != nil {
				e.log.Error("connect caller", "bridge", bridge, "err", err)
			}
		}
		return nil
	}, nil)
	e.writer.add(c.rec.ID, func(ctx context.Context, s Store) error {
		now := e.now()
		return s.UpsertLeg(ctx, Leg{InteractionID: c.rec.ID, ChannelID: ch.ID, Role: "agent",
			Endpoint: ch.Name, AgentID: &a.user.ID, StartedAt: now, AnsweredAt: &now})
	})
	if c.rec.Direction == "OUT" {
		e.dialCustomer(c, a)
		return
	}
	e.connected(c, a)
}

func (e *Engine) connected(c *call, a *agent) {
	now := e.now()
	c.rec.ConnectedAt = &now
	if c.rec.QueuedAt != nil && c.rec.Direction == "IN" {
		c.rec.QueueMs = now.Sub(*c.rec.QueuedAt).Milliseconds()
	}
	if c.rec.State != CallConnected { // a transferred-in child is born connected
		e.callTransition(c, CallActConnect, "agent "+a.user.Username)
	} else {
		e.saveInteraction(c)
	}
	if a.state == AgentReserved {
		e.transition(a, ActAccept, "")
	}
	e.stats.CallsConnected++
	e.publish(a, "call.connected", e.callView(c))
	e.startRecording(c)
	if c.recording != nil {
		e.publishRecording(c)
	}
}

func (e *Engine) agentCallLegGone(c *call, a *agent, chID, cause string) {
	if c.agentLeg != chID {
		return
	}
	c.agentLeg = ""
	stopTimer(&a.offerTimer)
	switch c.rec.State {
	case CallOffering:
		e.missOffer(c, a, true)
	case CallDialing:
		// The agent hung up before the customer answered.
		if ch := c.rec.CustomerChannel; ch != "" {
			delete(e.channels, ch)
			e.hangup(ch, "normal")
		}
		c.rec.EndReason = "agent hung up"
		e.endCall(c, CallActFail, cause)
		e.agentToWrap(c)
	case CallConnected:
		switch {
		case len(c.parties) > 0: // hanging up in a conference leaves it
			e.leaveConference(c)
		case c.xfer != nil && c.xfer.state == XferConsulting:
			e.xferStep(c.xfer, XActComplete, "agent hung up during consult")
			e.completeTransfer(c.xfer)
		case c.xfer != nil && c.xfer.state == XferRinging:
			c.xfer.mode = "blind" // complete when the destination answers
		default:
			c.rec.EndReason = "agent hung up"
			e.hangup(c.rec.CustomerChannel, "normal")
		}
	}
}

// customerGone: the customer's leg ended, whatever the state.
func (e *Engine) customerGone(c *call, cause string) {
	a := c.agent
	switch c.rec.State {
	case CallQueued:
		e.unqueue(c)
		if c.rec.EndReason == "" {
			c.rec.EndReason = "abandoned in queue"
		}
		e.stats.CallsAbandoned++
		e.endCall(c, CallActHangup, cause)
		delete(e.calls, c.rec.ID)
	case CallOffering:
		if c.agentLeg != "" {
			delete(e.channels, c.agentLeg)
			e.hangup(c.agentLeg, "normal")
			c.agentLeg = ""
		}
		if c.rec.EndReason == "" {
			c.rec.EndReason = "abandoned while ringing agent"
		}
		e.stats.CallsAbandoned++
		if a != nil {
			stopTimer(&a.offerTimer)
			a.call = nil
			e.transition(a, ActRecall, "")
		}
		e.endCall(c, CallActHangup, cause)
		delete(e.calls, c.rec.ID)
		e.allocate()
	case CallDialing:
		if c.rec.EndReason == "" {
			c.rec.EndReason = cause
		}
		e.endCall(c, CallActFail, cause)
		e.agentToWrap(c)
	case CallConnected:
		if c.rec.EndReason == "" {
			c.rec.EndReason = "customer hung up"
		}
		e.releaseExtras(c)
		e.endCall(c, CallActHangup, cause)
		e.agentToWrap(c)
	}
}

// releaseExtras ends what hangs off a call whose customer is gone: a
// pending transfer, conference parties, the hold bridge, a payment.
func (e *Engine) releaseExtras(c *call) {
	if c.xfer != nil {
		t := c.xfer
		t.state, t.detail = XferFailed, "customer hung up"
		e.saveTransfer(t, "")
		e.dropXfer(t)
	}
	parties := c.parties
	c.parties = nil
	for _, p := range parties {
		e.releasePartyLeg(p) // a party agent's own leg stays up; they wrap
	}
	if hb := c.holdBridge; hb != "" {
		c.holdBridge = ""
		e.destroyBridge(hb)
	}
	if c.payment != nil {
		e.endPayment(c, "customer hung up")
	}
}

func (e *Engine) agentToWrap(c *call) {
	a := c.agent
	if c.agentLeg != "" {
		delete(e.channels, c.agentLeg)
		e.hangup(c.agentLeg, "normal")
		c.agentLeg = ""
	}
	if c.bridge != "" {
		b := c.bridge
		e.request(c.rec.CustomerChannel, "destroy call bridge", func(ctx context.Context) error {
			return e.tel.DestroyBridge(ctx, b)
		}, nil)
	}
	if a == nil {
		delete(e.calls, c.rec.ID) // nobody wraps it: the record is complete
		return
	}
	e.transition(a, ActCallEnd, "")
	e.publish(a, "call.ended", e.callView(c))
	e.startWrap(a)
}

func (e *Engine) endCall(c *call, act CallAction, cause string) {
	e.stopControls(c)
	if c.lead != nil {
		result, aid := cause, int64(0)
		if c.rec.ConnectedAt != nil {
			result = "answered"
		} else if cause != "busy" && cause != "no_answer" {
			result = "failed"
		}
		if c.agent != nil {
			aid = c.agent.user.ID
		}
		e.outcome(c.lead, result, aid, c.rec.ID)
	}
	now := e.now()
	c.rec.EndedAt = &now
	stopTimer(&c.timer)
	e.stats.CallsEnded++
	e.callTransition(c, act, cause)
	ch := c.rec.CustomerChannel
	e.writer.add(c.rec.ID, func(ctx context.Context, s Store) error {
		return s.UpsertLeg(ctx, Leg{InteractionID: c.rec.ID, ChannelID: ch, Role: "customer",
			EndedAt: &now, Cause: cause})
	})
}

// callTransition is the only place a call's state changes; it persists the
// interaction and its history in order.
func (e *Engine) callTransition(c *call, act CallAction, detail string) {
	to, err := nextCallState(c.rec.State, act)
	if err != nil {
		e.log.Error("call state machine", "interaction", c.rec.ID, "err", err)
		return
	}
	from := c.rec.State
	c.rec.State = to
	now := e.now()
	rec := c.rec
	if from == "" {
		e.writer.add(rec.ID, func(ctx context.Context, s Store) error { return s.CreateInteraction(ctx, rec) })
	} else {
		e.saveInteraction(c)
	}
	e.writer.add(rec.ID, func(ctx context.Context, s Store) error {
		return s.AddInteractionEvent(ctx, rec.ID, now, from, to, detail)
	})
}

// saveInteraction writes the interaction's whole row (a newer save queued
// behind it makes it unnecessary).
func (e *Engine) saveInteraction(c *call) {
	rec := c.rec
	e.writer.replace(rec.ID, "interaction:"+rec.ID, func(ctx context.Context, s Store) error { return s.UpdateInteraction(ctx, rec) })
}

// hangup asks Asterisk to hang a channel up, after the requests already
// queued for it. Its end comes back as an event.
func (e *Engine) hangup(ch, reason string) { e.hangupThen(ch, reason, nil) }

// hangupThen is hangup with then run on the loop with Asterisk's answer
// (nil then: a failure is only logged).
func (e *Engine) hangupThen(ch, reason string, then func(error)) {
	if ch == "" {
		return
	}
	e.request(ch, "hangup", func(ctx context.Context) error { return e.tel.Hangup(ctx, ch, reason) }, then)
}

// originate creates req's channel after the requests already queued for
// it; then runs on the loop with Asterisk's answer.
func (e *Engine) originate(req ari.OriginateRequest, then func(error)) {
	e.request(req.ChannelID, "originate", func(ctx context.Context) error { return e.tel.Originate(ctx, req) }, then)
}

// --- manual outbound --------------------------------------------------------

// Dial places a manual call for the agent. It returns the new interaction.
func (e *Engine) Dial(ctx context.Context, userID int64, req DialRequest) (CallInfo, error) {
	var info CallInfo
	err := e.withAgent(ctx, userID, func(a *agent) error {
		switch a.state {
		case AgentReady:
		case AgentPaused:
			if !a.user.ManualCallWhenPaused {
				return forbidden("Your profile does not allow manual calls while you are paused.")
			}
		default:
			return conflict(string(a.state), "You can make a call only when you are Ready or Paused.")
		}
		if !e.phoneReady(a) {
			return conflict(string(a.state), "Your phone is not connected. Connect it first.")
		}
		var camp *Campaign
		// Without a campaign the call presents the configured default
		// caller id (CTID_DEFAULT_CALLER_ID), not "anonymous".
		region, platform := e.o.DefaultRegion, e.o.DefaultCallerID
		if req.CampaignID != nil {
			camp = e.cfg.Campaigns[*req.CampaignID]
			if camp == nil || !agentOn(camp, a.user.ID) {
				return invalid("campaignId", "not one of your campaigns")
			}
			region, platform = camp.DefaultRegion, camp.PlatformNumber
		}
		num, err := NormalizeNumber(req.Number, region)
		if err != nil {
			return err
		}
		c, err := e.placeCall(a, camp, num, platform, ActDial, nil)
		if err != nil {
			return err
		}
		info = e.callView(c)
		e.publish(a, "call.dialing", info)
		return nil
	})
	return info, err
}

func agentOn(c *Campaign, uid int64) bool {
	for _, id := range c.AgentIDs {
		if id == uid {
			return true
		}
	}
	return false
}

func (e *Engine) dialCustomer(c *call, a *agent) {
	ch := "cu-" + c.rec.ID
	c.rec.CustomerChannel = ch
	e.channels[ch] = chanRef{role: roleCustomer, call: c}
	cid := c.rec.PlatformNumber
	if cid != "" {
		cid = "<" + cid + ">"
	}
	now := e.now()
	e.writer.add(c.rec.ID, func(ctx context.Context, s Store) error {
		return s.UpsertLeg(ctx, Leg{InteractionID: c.rec.ID, ChannelID: ch, Role: "customer",
			Endpoint: e.o.TrunkEndpoint(c.number), StartedAt: now})
	})
	req := ari.OriginateRequest{
		Endpoint: e.o.TrunkEndpoint(c.number), App: e.o.App, AppArgs: []string{"outbound", c.rec.ID},
		CallerID: cid, Timeout: secs(e.o.DialTimeout), ChannelID: ch,
	}
	e.originate(req, func(err error) {
		if err == nil || c.rec.CustomerChannel != ch || c.rec.State != CallDialing {
			return
		}
		delete(e.channels, ch)
		c.rec.EndReason = "dial failed: " + err.Error()
		e.endCall(c, CallActFail, "failed")
		e.agentToWrap(c)
	})
}

func (e *Engine) onCustomerAnswered(ch ari.Channel, args []string) {
	ref, ok := e.channels[ch.ID]
	if !ok || ref.role != roleCustomer || ref.call.rec.State != CallDialing {
		e.hangup(ch.ID, "normal")
		return
	}
	c := ref.call
	a := c.agent
	bridge := c.bridge
	if bridge == "" {
		bridge = a.bridge
	}
	id := ch.ID
	e.request(id, "connect customer", func(ctx context.Context) error { return e.tel.AddToBridge(ctx, bridge, id, true) }, nil)
	e.connected(c, a)
}

// Hangup ends the agent's current call (the customer leg).
//
// It returns once Asterisk has hung the leg up and the engine has ended the
// call, so the agent is already in wrap when the API answers (a CRM clicks
// Wrap right after Hangup). The channel's own end event, when it comes, finds
// nothing left to do.
func (e *Engine) Hangup(ctx context.Context, userID int64) error {
	done := make(chan struct{})
	err := e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c == nil || (a.state != AgentOnCall) {
			return conflict(string(a.state), "There is no call to hang up.")
		}
		if c.partyOf != nil {
			e.leaveAsParty(c)
			close(done)
			return nil
		}
		if len(c.parties) > 0 {
			return conflict(string(a.state), "You are in a conference: choose Leave (the others carry on) or End for all.")
		}
		if c.rec.EndReason == "" {
			c.rec.EndReason = "agent hung up"
		}
		ch := c.rec.CustomerChannel
		if ch == "" {
			ch = c.agentLeg
		}
		if ch == "" {
			close(done)
			return nil
		}
		e.hangupThen(ch, "normal", func(err error) {
			defer close(done)
			if err != nil && !errors.Is(err, ari.ErrNotFound) {
				e.log.Warn("hangup", "channel", ch, "err", err)
				return
			}
			e.onChannelGone(ch, "normal")
		})
		return nil
	})
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// secs converts a ring timeout to ARI's whole seconds, rounding up (ARI
// reads 0 as "the default", not "no time").
func secs(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// placeCall starts an outbound call for an agent (manual or preview): the
// agent moves with act (Dial from Ready/Paused, Accept from a preview
// offer), and the customer is dialled through the agent's persistent leg,
// or after calling the agent's phone first.
func (e *Engine) placeCall(a *agent, camp *Campaign, num, platform string, act AgentAction, lead *leadCall) (*call, error) {
	uid := a.user.ID
	c := &call{campaign: camp, agent: a, number: num, lead: lead, rec: Interaction{
		ID: e.newID("I"), Direction: "OUT", CustomerNumber: num, PlatformNumber: platform, AgentID: &uid,
	}}
	if camp != nil {
		id := camp.ID
		c.rec.CampaignID = &id
	}
	if err := e.transition(a, act, ""); err != nil {
		return nil, err
	}
	e.calls[c.rec.ID] = c
	a.call = c
	e.callTransition(c, CallActOffer, "outbound call by "+a.user.Username)
	if a.persistent {
		e.dialCustomer(c, a)
		return c, nil
	}
	// Call the agent first; the customer is dialled when they answer.
	c.agentLeg = e.newID("ag-")
	e.channels[c.agentLeg] = chanRef{role: roleAgentCall, call: c, agent: a}
	leg := c.agentLeg
	req := ari.OriginateRequest{
		Endpoint: e.o.AgentEndpoint(a.number), App: e.o.App, AppArgs: []string{"agentcall", c.rec.ID},
		CallerID: "<" + num + ">", Timeout: secs(e.o.OfferTimeout), ChannelID: leg,
	}
	e.originate(req, func(err error) {
		if err == nil || c.agentLeg != leg || c.rec.State != CallDialing {
			return
		}
		delete(e.channels, leg)
		c.agentLeg = ""
		c.rec.EndReason = "agent phone failed"
		e.endCall(c, CallActFail, "failed")
		e.agentToWrap(c)
	})
	return c, nil
}
