package cti

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ctid/ctid/ari"
)

// TransferRequest starts a transfer, a consult, or adds a conference party.
type TransferRequest struct {
	Type   string `json:"type"`   // agent, queue, workflow, number
	Target string `json:"target"` // username or user id, campaign id, workflow name, phone number
	Mode   string `json:"mode"`   // blind (default) or consult
}

// XferState is where a transfer is.
type XferState string

const (
	XferRinging     XferState = "ringing"     // the destination is being called; the customer hears music
	XferConsulting  XferState = "consulting"  // agent and destination talk; the customer is held
	XferDone        XferState = "completed"   // the customer is with the destination
	XferConferenced XferState = "conferenced" // merged: customer, agent and parties together
	XferCancelled   XferState = "cancelled"
	XferFailed      XferState = "failed"
	XferEnded       XferState = "ended" // a conference party left
)

// XferAction names what moves a transfer.
type XferAction string

const (
	XActAnswerConsult XferAction = "answer_consult"
	XActAnswerBlind   XferAction = "answer_blind"
	XActFail          XferAction = "fail"
	XActComplete      XferAction = "complete"
	XActMerge         XferAction = "merge"
	XActCancel        XferAction = "cancel"
	XActHangup        XferAction = "hangup"
)

var xferTransitions = map[XferState]map[XferAction]XferState{
	XferRinging: {
		XActAnswerConsult: XferConsulting, XActAnswerBlind: XferDone, XActFail: XferFailed, XActCancel: XferCancelled,
		XActMerge: XferConferenced, // a conference "add" joins on answer
	},
	XferConsulting:  {XActComplete: XferDone, XActMerge: XferConferenced, XActCancel: XferCancelled, XActHangup: XferFailed},
	XferConferenced: {XActHangup: XferEnded},
}

// DefaultMaxConferenceParties is how many parties besides the customer and
// the agent a conference holds ("up to 3 additional callers") unless the
// campaign's settings say otherwise (maxConferenceParties).
const DefaultMaxConferenceParties = 3

// maxParties is the campaign's conference limit.
func maxParties(c *Campaign) int {
	if c == nil || len(c.Settings) == 0 {
		return DefaultMaxConferenceParties
	}
	var s struct {
		Max *int `json:"maxConferenceParties"`
	}
	if json.Unmarshal(c.Settings, &s) != nil || s.Max == nil || *s.Max < 1 {
		return DefaultMaxConferenceParties
	}
	return *s.Max
}

// TransferView is what the adaptor shows of a transfer.
type TransferView struct {
	ID     string    `json:"id"`
	Mode   string    `json:"mode"`
	Type   string    `json:"type"`
	Target string    `json:"target"`
	State  XferState `json:"state"`
	Detail string    `json:"detail,omitempty"`
}

type transfer struct {
	id       string
	c        *call
	from     *agent
	mode     string // blind, consult, add
	ttype    string
	target   string // what the agent asked for, for display and records
	number   string // E.164 for number targets
	tagent   *agent
	leg      string // the destination's channel
	borrowed bool   // a persistent target agent's own leg, moved into the talk bridge
	state    XferState
	detail   string
	// back is where a target agent returns when the transfer does not
	// reach them after all (cancelled, failed): exactly the state, pause
	// reason and place in the ready line they had.
	back agentReturn
	// pcall is a party agent's own interaction while they are in the
	// conference (their call state, wrap and records follow it).
	pcall *call
}

type agentReturn struct {
	state  AgentState
	reason string
	idle   time.Time
}

func (e *Engine) xferStep(t *transfer, act XferAction, detail string) bool {
	to, ok := xferTransitions[t.state][act]
	if !ok {
		e.log.Error("transfer state machine", "transfer", t.id, "state", t.state, "action", act)
		return false
	}
	t.state, t.detail = to, detail
	e.saveTransfer(t, "")
	if t.from != nil && t.from.call == t.c {
		e.publish(t.from, "transfer.state", t.view())
	}
	return true
}

func (t *transfer) view() TransferView {
	return TransferView{ID: t.id, Mode: t.mode, Type: t.ttype, Target: t.target, State: t.state, Detail: t.detail}
}

func (e *Engine) saveTransfer(t *transfer, child string) {
	var aid *int64
	if t.from != nil {
		id := t.from.user.ID
		aid = &id
	}
	r := TransferRecord{ID: t.id, InteractionID: t.c.rec.ID, AgentID: aid, Mode: t.mode, TargetType: t.ttype,
		Target: t.target, State: string(t.state), ChildID: child, Detail: t.detail}
	e.writer.add(r.InteractionID, func(ctx context.Context, s Store) error { return s.SaveTransfer(ctx, r) })
}

// talkBridge is the bridge the agent talks in: the per-call bridge of a
// non-persistent agent, or the persistent agent's own bridge.
func (e *Engine) talkBridge(c *call) string {
	if c.bridge != "" {
		return c.bridge
	}
	if c.agent != nil {
		return c.agent.bridge
	}
	return ""
}

// Transfer starts a blind or consult transfer, or (during a conference)
// adds a party. The customer is never dropped: a destination that fails
// returns them to the agent.
func (e *Engine) Transfer(ctx context.Context, userID int64, req TransferRequest) (TransferView, error) {
	var v TransferView
	err := e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c == nil || a.state != AgentOnCall || c.rec.State != CallConnected {
			return conflict(string(a.state), "You can transfer only a connected call.")
		}
		if c.xfer != nil {
			return conflict(string(a.state), "A transfer is already in progress: complete, merge or cancel it first.")
		}
		mode := req.Mode
		switch mode {
		case "", "blind":
			mode = "blind"
		case "consult":
		default:
			return invalid("mode", "mode must be blind or consult")
		}
		if c.partyOf != nil {
			return conflict(string(a.state), "You joined this call as a conference party: only the agent who owns it can transfer it.")
		}
		if c.payment != nil {
			return conflict(string(a.state), "Finish or leave the payment before transferring the call.")
		}
		if len(c.parties) > 0 {
			mode = "add" // in a conference, a new destination joins it
			if n := maxParties(c.campaign); len(c.parties) >= n {
				return conflict(string(a.state), fmt.Sprintf("The conference is full: it already has %d people besides you and the customer.", n))
			}
			if req.Type != "number" && req.Type != "agent" {
				return invalid("type", "Only a phone number or another agent can be added to a conference.")
			}
		}
		t := &transfer{id: e.newID("X"), c: c, from: a, mode: mode, ttype: req.Type, target: req.Target}
		switch req.Type {
		case "workflow":
			wf := e.cfg.Workflows[req.Target]
			if wf == nil {
				return invalid("target", "unknown workflow '"+req.Target+"'")
			}
			if mode != "blind" {
				return invalid("mode", "A transfer to a workflow is blind.")
			}
			if err := e.toWorkflow(t, wf); err != nil {
				return err
			}
			v = t.view()
			return nil
		case "agent":
			ta, err := e.findTargetAgent(a, req.Target)
			if err != nil {
				return err
			}
			t.tagent = ta
			t.target = ta.user.Username
		case "queue":
			camp, err := e.queueTarget(req.Target)
			if err != nil {
				return err
			}
			if mode != "blind" {
				return invalid("mode", "A transfer to a queue is blind: the next free agent takes the call.")
			}
			t.target = camp.Name
			if err := e.toQueue(t, camp); err != nil {
				return err
			}
			v = t.view()
			return nil
		case "number":
			region := e.o.DefaultRegion
			if c.campaign != nil && c.campaign.DefaultRegion != "" {
				region = c.campaign.DefaultRegion
			}
			n, err := NormalizeNumber(req.Target, region)
			if err != nil {
				return invalid("target", err.Error())
			}
			t.number = n
		default:
			return invalid("type", "type must be agent, queue, workflow or number")
		}
		if c.ctl.held {
			// The agent's own hold becomes the consult's hold: the
			// customer is already parked with music.
			e.closeHold(c)
			e.publishControls(c)
		}
		if mode != "add" && c.holdBridge == "" {
			// Nobody may be called while the customer could still hear
			// the agent: no hold, no consult.
			if err := e.hold(c); err != nil {
				return err
			}
		}
		t.state = XferRinging
		c.xfer = t
		if err := e.dialTarget(t); err != nil {
			c.xfer = nil
			if mode != "add" {
				e.unhold(c)
			}
			return err
		}
		e.saveTransfer(t, "")
		v = t.view()
		e.publish(a, "transfer.state", v)
		return nil
	})
	return v, err
}

func (e *Engine) findTargetAgent(from *agent, target string) (*agent, error) {
	var ta *agent
	for _, x := range e.agents {
		if x.user.Username == target || strconv.FormatInt(x.user.ID, 10) == target {
			ta = x
		}
	}
	if ta == nil {
		for _, u := range e.cfg.Users {
			if u.Username == target || strconv.FormatInt(u.ID, 10) == target {
				return nil, conflict("", personName(u)+" is not logged in.")
			}
		}
		return nil, invalid("target", "There is no agent called '"+target+"'.")
	}
	if ta == from {
		return nil, invalid("target", "You cannot transfer a call to yourself.")
	}
	ok := ta.state == AgentReady || (ta.state == AgentPaused && ta.user.TransferWhenPaused)
	if !ok || !e.phoneReady(ta) {
		return nil, conflict(string(ta.state), personName(ta.user)+" cannot take a call now ("+presenceLabel(ta)+").")
	}
	return ta, nil
}

// dialTarget reaches the destination. A persistent target agent's leg is
// already up: it is "answered" at once.
func (e *Engine) dialTarget(t *transfer) error {
	ctx, cancel := e.tctx()
	defer cancel()
	if ta := t.tagent; ta != nil {
		t.back = agentReturn{state: ta.state, reason: ta.pauseReason, idle: ta.idleSince}
		e.transition(ta, ActOffer, "")
		e.publish(ta, "transfer.offered", TransferOffer{From: t.from.user.Username, CustomerNumber: t.c.rec.CustomerNumber,
			Mode: t.mode, TransferredFrom: e.transferredFrom(t)})
		if ta.persistent && ta.phoneUp {
			t.leg, t.borrowed = ta.phoneChan, true
			e.xferAnswered(t)
			return nil
		}
	}
	t.leg = "xf-" + t.id
	e.channels[t.leg] = chanRef{role: roleThirdParty, call: t.c, xfer: t}
	endpoint, cid := e.o.TrunkEndpoint(t.number), t.c.rec.PlatformNumber
	if t.tagent != nil {
		endpoint, cid = e.o.AgentEndpoint(t.tagent.number), t.c.rec.CustomerNumber
	}
	if cid != "" {
		cid = "<" + cid + ">"
	}
	err := e.tel.Originate(ctx, ari.OriginateRequest{Endpoint: endpoint, App: e.o.App, AppArgs: []string{"xfer", t.id},
		CallerID: cid, Timeout: secs(e.o.OfferTimeout), ChannelID: t.leg, Originator: t.c.rec.CustomerChannel})
	if err != nil {
		delete(e.channels, t.leg)
		if t.tagent != nil {
			e.returnTarget(t)
		}
		return &Error{Kind: KindUnavailable, Msg: "The destination could not be called. Please try again."}
	}
	return nil
}

func (e *Engine) onXferLegUp(ch ari.Channel) {
	ref, ok := e.channels[ch.ID]
	if !ok || ref.role != roleThirdParty || ref.xfer == nil || ref.xfer.state != XferRinging {
		e.hangup(ch.ID, "normal")
		return
	}
	e.xferAnswered(ref.xfer)
}

func (e *Engine) xferAnswered(t *transfer) {
	ctx, cancel := e.tctx()
	defer cancel()
	switch t.mode {
	case "blind":
		e.xferStep(t, XActAnswerBlind, "answered")
		e.completeTransfer(t)
	case "consult":
		if err := e.tel.AddToBridge(ctx, e.talkBridge(t.c), t.leg, false); err != nil {
			e.log.Error("consult: join destination", "err", err)
		}
		e.xferStep(t, XActAnswerConsult, "answered")
	case "add":
		// A party agent talks like the agent (their keys are theirs); a
		// number's digits are absorbed like the customer's.
		if err := e.tel.AddToBridge(ctx, e.talkBridge(t.c), t.leg, t.tagent == nil); err != nil {
			e.log.Error("conference: join party", "err", err)
		}
		e.xferStep(t, XActMerge, "joined the conference")
		t.c.xfer = nil
		t.c.parties = append(t.c.parties, t)
		if t.tagent != nil {
			e.joinAsParty(t)
		}
		e.publishConference(t.c)
	}
}

// TransferAction completes, merges or cancels the agent's consult.
func (e *Engine) TransferAction(ctx context.Context, userID int64, action string) (TransferView, error) {
	var v TransferView
	err := e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c == nil || c.xfer == nil {
			return conflict(string(a.state), "No transfer is in progress.")
		}
		t := c.xfer
		switch action {
		case "complete":
			if t.state != XferConsulting {
				return conflict(string(t.state), "The person you are calling has not answered yet.")
			}
			e.xferStep(t, XActComplete, "completed by agent")
			e.completeTransfer(t)
		case "merge":
			if t.state != XferConsulting {
				return conflict(string(t.state), "The person you are calling has not answered yet.")
			}
			if n := maxParties(c.campaign); len(c.parties) >= n {
				return conflict(string(t.state), fmt.Sprintf("The conference is full: it already has %d people besides you and the customer.", n))
			}
			e.xferStep(t, XActMerge, "merged")
			c.xfer = nil
			c.parties = append(c.parties, t)
			if t.tagent != nil {
				e.joinAsParty(t)
			}
			e.unhold(c)
			e.publishConference(c)
		case "cancel":
			e.xferStep(t, XActCancel, "cancelled by agent")
			e.dropXfer(t)
			e.unhold(c)
		default:
			return invalid("action", "action must be complete, merge or cancel")
		}
		v = t.view()
		return nil
	})
	return v, err
}

// dropXfer releases the destination of a transfer that did not complete.
func (e *Engine) dropXfer(t *transfer) {
	t.c.xfer = nil
	if t.borrowed {
		ctx, cancel := e.tctx()
		e.tel.AddToBridge(ctx, t.tagent.bridge, t.leg, false) // back to their own bridge
		cancel()
	} else if t.leg != "" {
		delete(e.channels, t.leg)
		e.hangup(t.leg, "normal")
	}
	if ta := t.tagent; ta != nil && ta.state == AgentReserved {
		e.returnTarget(t)
	}
}

// returnTarget puts a target agent the transfer did not reach back where
// they were: a Paused agent stays Paused with their reason (not Ready, which
// would hand them the next queued call), a Ready agent keeps their place in
// the ready line.
func (e *Engine) returnTarget(t *transfer) {
	ta := t.tagent
	if ta.state != AgentReserved {
		return
	}
	if t.back.state == AgentPaused {
		e.transition(ta, ActReturnPaused, t.back.reason)
		return
	}
	e.transition(ta, ActRecall, "")
	if ta.state == AgentReady && !t.back.idle.IsZero() {
		e.markReady(ta, false)
		ta.idleSince = t.back.idle
		e.markReady(ta, true)
	}
}

// xferLegGone: the destination hung up or never answered.
func (e *Engine) xferLegGone(t *transfer, cause string) {
	c := t.c
	switch t.state {
	case XferRinging, XferConsulting:
		act := XActFail
		if t.state == XferConsulting {
			act = XActHangup
		}
		e.xferStep(t, act, "destination "+cause)
		t.leg = ""
		if ta := t.tagent; ta != nil && act == XActFail && ta.state == AgentReserved {
			e.notify(ta, NoticeMissedTransfer, "You missed a call transferred to you by "+personName(t.from.user)+".")
		}
		e.dropXfer(t)
		if t.mode != "add" && c.rec.State == CallConnected {
			e.unhold(c) // a failed destination returns the customer to the agent
		}
	case XferConferenced:
		t.leg = ""
		e.endParty(c, t, "party left")
	}
}

// completeTransfer hands the customer to the destination: a new interaction
// (child) carries the rest of the call, the agent wraps the original.
func (e *Engine) completeTransfer(t *transfer) {
	c := t.c
	c.xfer = nil
	ctx, cancel := e.tctx()
	defer cancel()
	cc := e.childCall(c)
	cc.from = e.transferredFrom(t)
	switch {
	case t.tagent != nil:
		ta := t.tagent
		cc.agent, ta.call = ta, cc
		uid := ta.user.ID
		cc.rec.AgentID = &uid
		if t.borrowed {
			// Customer and the target's own leg go to the target's bridge.
			e.tel.AddToBridge(ctx, ta.bridge, t.leg, false)
			e.tel.AddToBridge(ctx, ta.bridge, cc.rec.CustomerChannel, true)
		} else {
			cc.agentLeg = t.leg
			cc.bridge = "call-" + cc.rec.ID
			e.channels[t.leg] = chanRef{role: roleAgentCall, call: cc, agent: ta}
			e.tel.CreateBridge(ctx, cc.bridge, "mixing", "dtmf_events")
			e.tel.AddToBridge(ctx, cc.bridge, t.leg, false)
			e.tel.AddToBridge(ctx, cc.bridge, cc.rec.CustomerChannel, true)
		}
		e.connected(cc, ta)
	default: // a phone number: customer and destination talk without an agent
		cc.bridge = "call-" + cc.rec.ID
		e.tel.CreateBridge(ctx, cc.bridge, "mixing", "dtmf_events")
		e.tel.AddToBridge(ctx, cc.bridge, t.leg, true)
		e.tel.AddToBridge(ctx, cc.bridge, cc.rec.CustomerChannel, true)
		party := &transfer{id: t.id, c: cc, mode: t.mode, ttype: t.ttype, target: t.target, leg: t.leg, state: XferConferenced}
		cc.parties = []*transfer{party}
		e.channels[t.leg] = chanRef{role: roleThirdParty, call: cc, xfer: party}
	}
	if hb := c.holdBridge; hb != "" {
		c.holdBridge = ""
		e.destroyBridge(hb)
	}
	e.saveTransfer(t, cc.rec.ID)
	c.rec.EndReason = "transferred to " + t.ttype + " " + t.target
	e.endCall(c, CallActHangup, "transferred")
	e.agentToWrap(c)
}

// childCall makes the interaction that continues a call after a transfer;
// the customer channel and the recording move to it.
func (e *Engine) childCall(c *call) *call {
	now := e.now()
	cc := &call{campaign: c.campaign, recording: c.recording, rec: Interaction{
		ID: e.newID("I"), ParentID: c.rec.ID, CampaignID: c.rec.CampaignID, Direction: c.rec.Direction,
		CustomerNumber: c.rec.CustomerNumber, PlatformNumber: c.rec.PlatformNumber, IVRText: c.rec.IVRText,
		IVRData: c.rec.IVRData, CustomerChannel: c.rec.CustomerChannel, QueuedAt: &now,
	}}
	c.rec.CustomerChannel = ""
	e.calls[cc.rec.ID] = cc
	e.channels[cc.rec.CustomerChannel] = chanRef{role: roleCustomer, call: cc}
	e.callTransition(cc, CallActTransferIn, "from "+c.rec.ID)
	return cc
}

func (e *Engine) toWorkflow(t *transfer, wf *Workflow) error {
	c := t.c
	ctx, cancel := e.tctx()
	defer cancel()
	cust := c.rec.CustomerChannel
	for k, v := range map[string]string{"CTI_INTERACTION_ID": c.rec.ID, "CTI_IVR_DATA": c.rec.IVRData,
		"CTI_TRANSFERRED_BY": t.from.user.Username} {
		e.tel.SetVar(ctx, cust, k, v)
	}
	ext := wf.Extension
	if ext == "" {
		ext = "s"
	}
	if err := e.tel.Continue(ctx, cust, wf.Context, ext); err != nil {
		return &Error{Kind: KindUnavailable, Msg: "could not send the call to the workflow: " + err.Error()}
	}
	delete(e.channels, cust)
	t.state = XferDone
	e.saveTransfer(t, "")
	c.rec.EndReason = "transferred to workflow " + wf.Name
	e.endCall(c, CallActHangup, "transferred")
	e.agentToWrap(c)
	return nil
}

// hold parks the customer in a fresh holding bridge with music while the
// agent consults; nobody in the talk bridge hears them. It fails, leaving
// the customer where they were, when Asterisk will not take them there.
func (e *Engine) hold(c *call) error {
	ctx, cancel := e.tctx()
	defer cancel()
	hb := e.newID("hold-")
	if err := e.tel.CreateBridge(ctx, hb, "holding"); err != nil {
		e.log.Error("hold customer: create hold bridge", "bridge", hb, "err", err)
		return &Error{Kind: KindUnavailable, Msg: "the caller could not be put on hold, so the consult was not started; please try again"}
	}
	if err := e.tel.BridgeMOH(ctx, hb); err != nil {
		e.log.Warn("hold customer: music on hold", "bridge", hb, "err", err)
	}
	if err := e.tel.AddToBridge(ctx, hb, c.rec.CustomerChannel, true); err != nil {
		e.log.Error("hold customer", "bridge", hb, "err", err)
		e.tel.DestroyBridge(ctx, hb)
		return &Error{Kind: KindUnavailable, Msg: "the caller could not be put on hold, so the consult was not started; please try again"}
	}
	c.holdBridge = hb
	return nil
}

func (e *Engine) unhold(c *call) {
	hb := c.holdBridge
	if hb == "" {
		return
	}
	c.holdBridge = ""
	ctx, cancel := e.tctx()
	defer cancel()
	if err := e.tel.AddToBridge(ctx, e.talkBridge(c), c.rec.CustomerChannel, true); err != nil {
		e.log.Error("unhold customer", "err", err)
	}
	e.destroyBridge(hb)
}

func (e *Engine) destroyBridge(id string) {
	ctx, cancel := e.tctx()
	defer cancel()
	e.tel.DestroyBridge(ctx, id)
}

// ConferenceLeave: the agent leaves; the customer and parties carry on in a
// child interaction. ConferenceTerminate ends every merged call.
func (e *Engine) ConferenceEnd(ctx context.Context, userID int64, terminate bool) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c != nil && c.partyOf != nil && a.state == AgentOnCall {
			e.leaveAsParty(c) // a party agent only ever leaves
			return nil
		}
		if c == nil || len(c.parties) == 0 {
			return conflict(string(a.state), "You are not in a conference.")
		}
		if terminate {
			c.rec.EndReason = "conference terminated by agent"
			parties := c.parties
			c.parties = nil
			for _, p := range parties {
				e.releasePartyLeg(p)
			}
			e.hangup(c.rec.CustomerChannel, "normal")
			return nil
		}
		e.leaveConference(c)
		return nil
	})
}

func (e *Engine) leaveConference(c *call) {
	ctx, cancel := e.tctx()
	defer cancel()
	cc := e.childCall(c)
	cc.parties = c.parties
	for _, p := range cc.parties {
		p.c = cc
		if !p.borrowed { // a persistent party agent's leg stays their phone
			e.channels[p.leg] = chanRef{role: roleThirdParty, call: cc, xfer: p}
		}
	}
	c.parties = nil
	if c.bridge != "" {
		cc.bridge, c.bridge = c.bridge, "" // the per-call bridge carries on without the agent
	} else {
		cc.bridge = "conf-" + cc.rec.ID // move everyone out of the agent's own bridge
		e.tel.CreateBridge(ctx, cc.bridge, "mixing", "dtmf_events")
		e.tel.AddToBridge(ctx, cc.bridge, cc.rec.CustomerChannel, true)
		for _, p := range cc.parties {
			e.tel.AddToBridge(ctx, cc.bridge, p.leg, true)
		}
	}
	c.rec.EndReason = "agent left the conference"
	e.endCall(c, CallActHangup, "left")
	e.agentToWrap(c)
}

// ConferenceView lists the parties.
type ConferenceView struct {
	InteractionID string         `json:"interactionId"`
	Parties       []TransferView `json:"parties"`
	Max           int            `json:"max"`
}

func (e *Engine) publishConference(c *call) {
	if c.agent == nil || c.agent.call != c {
		return
	}
	e.publish(c.agent, "conference.state", e.conferenceView(c))
}

func (e *Engine) conferenceView(c *call) ConferenceView {
	v := ConferenceView{InteractionID: c.rec.ID, Max: maxParties(c.campaign), Parties: []TransferView{}}
	for _, p := range c.parties {
		v.Parties = append(v.Parties, p.view())
	}
	return v
}
