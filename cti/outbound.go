package cti

import (
	"context"
	"slices"
	"time"

	"github.com/ctid/ctid/ari"
)

// The engine's side of the outbound dialler (package dialer decides whom to
// call and when; the engine owns the calls and the agents).

// Lead is an outbound contact as the agent's Lead tab shows it.
type Lead struct {
	ID     int64    `json:"id"`
	ListID int64    `json:"listId"`
	Name   string   `json:"name"`
	Phones []string `json:"phones"`
	// PhoneLabels says which kind each number is (mobile, home, work), by
	// number; absent: "other".
	PhoneLabels map[string]string `json:"phoneLabels,omitempty"`
	TimeZone    string            `json:"timeZone"`
	Data        map[string]string `json:"data"`
}

// CampaignLoad is the engine's view of a campaign for pacing.
type CampaignLoad struct {
	Ready           []int64         // Ready agents on the campaign, longest idle first
	ReadyPersistent int             // of those, with a nailed-up leg (predictive needs it)
	Busy            []time.Duration // agents on a call: time since it connected
	Wrapping        []time.Duration // agents in wrap: time since wrap began
	Dialing         int             // predictive calls ringing
	Queued          int             // answered predictive calls waiting for an agent
}

// PredictiveCall asks the engine to dial a contact and connect them to a
// free persistent agent when they answer.
type PredictiveCall struct {
	AttemptID      string
	CampaignID     int64
	Lead           Lead
	Number         string
	CallerID       string
	RingSeconds    int
	AbandonMessage string // played to an answered contact no agent takes within AbandonAfter
	// AMD sends the answered contact through answering-machine detection
	// (the dialplan's [dialer-amd], Asterisk AMD()) before an agent is
	// sought. On a machine verdict the call is hung up, or, with
	// MachineMessage (a sound name, e.g. "custom/sorry-we-missed-you"),
	// sent to [dialer-amd-message], which leaves it after the beep.
	AMD            bool
	MachineMessage string
}

// AttemptOutcome tells the dialler how an attempt ended.
type AttemptOutcome struct {
	AttemptID  string
	CampaignID int64
	LeadID     int64
	Number     string
	Result     string // answered, abandoned, busy, no_answer, failed, skipped, returned, preview_timeout_dialled
	// Reason is the agent's skip reason ("Do not call" puts the lead's
	// numbers on the campaign's do-not-call list).
	Reason        string
	AgentID       int64
	InteractionID string
	At            time.Time
	// AMD is detection's verdict and cause ("MACHINE/LONGGREETING-1600-1500"),
	// for attempts that went through it.
	AMD string
}

// AbandonAfter is how long an answered predictive contact may wait for an
// agent before hearing the abandon message (the regulators' 2 seconds).
const AbandonAfter = 2 * time.Second

// AMDAfterGreetingSilence is amd.conf's after_greeting_silence: AMD says
// HUMAN only once the greeting is followed by this much silence. The 2 s run
// from the end of the greeting, so a contact AMD passes may wait only
// AbandonAfter − this for an agent.
const AMDAfterGreetingSilence = 800 * time.Millisecond

// amdTimeout bounds detection (amd.conf total_analysis_time is 5 s): a
// contact that hangs up meanwhile never comes back to Stasis.
const amdTimeout = 15 * time.Second

// Results of a machine verdict.
const (
	ResultMachine        = "machine"         // hung up
	ResultMachineMessage = "machine_message" // message left after the beep
)

// leadCall ties a call to the dialler's attempt.
type leadCall struct {
	attempt    string
	campaignID int64
	lead       Lead
	number     string
	reason     string // skip reason
	amd        string // AMD verdict/cause
	reported   bool
}

type preview struct {
	camp     *Campaign
	lead     Lead
	attempt  string
	deadline time.Time
	timer    Timer
}

// PreviewView is the preview card.
type PreviewView struct {
	CampaignID   int64  `json:"campaignId"`
	CampaignName string `json:"campaignName"`
	// Kind is "lead" (from a lead list) or "callback" (a callback that is
	// due, offered like a preview).
	Kind     string          `json:"kind"`
	Lead     Lead            `json:"lead"`
	Numbers  []PreviewNumber `json:"numbers"`            // the lead's numbers with what they are
	Deadline *time.Time      `json:"deadline,omitempty"` // absent: no auto-dial
}

// PreviewNumber is one number button of the preview card.
type PreviewNumber struct {
	Number string `json:"number"`
	Label  string `json:"label"` // mobile, home, work or other
}

type predictive struct {
	req       PredictiveCall
	camp      *Campaign
	timer     Timer
	call      *call  // once answered (and passed by AMD)
	listening bool   // in [dialer-amd]
	amd       string // AMD's verdict/cause
}

func (e *Engine) outcome(lc *leadCall, result string, agentID int64, iid string) {
	if lc == nil || lc.reported || e.o.Outcome == nil {
		return
	}
	lc.reported = true
	o := AttemptOutcome{AttemptID: lc.attempt, CampaignID: lc.campaignID, LeadID: lc.lead.ID, Number: lc.number,
		Result: result, Reason: lc.reason, AgentID: agentID, InteractionID: iid, At: e.now(), AMD: lc.amd}
	go e.o.Outcome(o) // never block the loop on the dialler
}

// CampaignLoad reports the campaign's agents and calls.
func (e *Engine) CampaignLoad(ctx context.Context, campaignID int64) (CampaignLoad, error) {
	var l CampaignLoad
	err := e.exec(ctx, func() error {
		camp := e.cfg.Campaigns[campaignID]
		if camp == nil {
			return notFound("no such campaign")
		}
		var ready []*agent
		now := e.now()
		for _, id := range camp.AgentIDs {
			a := e.agents[id]
			if a == nil {
				continue
			}
			switch a.state {
			case AgentReady:
				if e.phoneReady(a) && a.preview == nil {
					ready = append(ready, a)
					if a.persistent && a.phoneUp {
						l.ReadyPersistent++
					}
				}
			case AgentOnCall:
				if a.call != nil && a.call.rec.ConnectedAt != nil {
					l.Busy = append(l.Busy, now.Sub(*a.call.rec.ConnectedAt))
				} else {
					l.Busy = append(l.Busy, 0)
				}
			case AgentOnWrap:
				l.Wrapping = append(l.Wrapping, now.Sub(a.since))
			}
		}
		slices.SortFunc(ready, func(x, y *agent) int { return x.idleSince.Compare(y.idleSince) })
		for _, a := range ready {
			l.Ready = append(l.Ready, a.user.ID)
		}
		for _, p := range e.predictive {
			if p.req.CampaignID == campaignID {
				if p.call == nil {
					l.Dialing++
				} else {
					l.Queued++
				}
			}
		}
		return nil
	})
	return l, err
}

// OfferPreview presents a lead to a Ready agent. They dial one of its
// numbers or skip; when the timeout runs out the first number is dialled.
func (e *Engine) OfferPreview(ctx context.Context, agentID, campaignID int64, lead Lead, attemptID string, timeout time.Duration) error {
	return e.withAgent(ctx, agentID, func(a *agent) error {
		camp := e.cfg.Campaigns[campaignID]
		if camp == nil || !agentOn(camp, agentID) {
			return invalid("campaignId", "agent is not on this campaign")
		}
		if len(lead.Phones) == 0 {
			return invalid("lead", "lead has no phone number")
		}
		if a.state != AgentReady || a.preview != nil || !e.phoneReady(a) {
			return conflict(string(a.state), "The agent cannot take a preview now.")
		}
		if err := e.transition(a, ActOffer, ""); err != nil {
			return err
		}
		p := &preview{camp: camp, lead: lead, attempt: attemptID}
		if timeout > 0 {
			p.deadline = e.now().Add(timeout)
			p.timer = e.after(timeout, func() {
				if a.preview == p {
					e.previewDial(a, lead.Phones[0], "preview_timeout_dialled")
				}
			})
		}
		a.preview = p
		e.publish(a, "preview.offered", e.previewView(a))
		return nil
	})
}

func (e *Engine) previewView(a *agent) PreviewView {
	p := a.preview
	v := PreviewView{CampaignID: p.camp.ID, CampaignName: p.camp.Name, Lead: p.lead, Kind: "lead", Numbers: []PreviewNumber{}}
	if _, ok := p.lead.Data["callbackId"]; ok {
		v.Kind = "callback"
	}
	for _, n := range p.lead.Phones {
		label := p.lead.PhoneLabels[n]
		if label == "" {
			label = "other"
		}
		v.Numbers = append(v.Numbers, PreviewNumber{Number: n, Label: label})
	}
	if !p.deadline.IsZero() {
		d := p.deadline
		v.Deadline = &d
	}
	return v
}

// PreviewDial dials one of the offered lead's numbers.
func (e *Engine) PreviewDial(ctx context.Context, agentID int64, number string) (CallInfo, error) {
	var info CallInfo
	err := e.withAgent(ctx, agentID, func(a *agent) error {
		if a.preview == nil {
			return conflict(string(a.state), "There is no preview to dial or skip.")
		}
		if !slices.Contains(a.preview.lead.Phones, number) {
			return invalid("number", "not one of the lead's numbers")
		}
		c := e.previewDial(a, number, "")
		if c == nil {
			return &Error{Kind: KindUnavailable, Msg: "the call could not be placed"}
		}
		info = e.callView(c)
		return nil
	})
	return info, err
}

func (e *Engine) previewDial(a *agent, number, note string) *call {
	p := a.preview
	a.preview = nil
	stopTimer(&p.timer)
	lc := &leadCall{attempt: p.attempt, campaignID: p.camp.ID, lead: p.lead, number: number}
	c, err := e.placeCall(a, p.camp, number, p.camp.PlatformNumber, ActAccept, lc)
	if err != nil {
		e.log.Error("preview dial", "err", err)
		return nil
	}
	if note != "" {
		e.publish(a, "preview.autodial", map[string]string{"number": number})
	}
	e.publish(a, "call.dialing", e.callView(c))
	return c
}

// PreviewSkip declines the offered lead.
func (e *Engine) PreviewSkip(ctx context.Context, agentID int64, reason string) error {
	return e.withAgent(ctx, agentID, func(a *agent) error {
		p := a.preview
		if p == nil {
			return conflict(string(a.state), "There is no preview to dial or skip.")
		}
		if reason == "" {
			return invalid("reason", "a skip reason is required")
		}
		a.preview = nil
		stopTimer(&p.timer)
		e.transition(a, ActRecall, "")
		lc := &leadCall{attempt: p.attempt, campaignID: p.camp.ID, lead: p.lead, reason: reason}
		e.outcome(lc, "skipped", a.user.ID, "")
		e.publish(a, "preview.skipped", map[string]string{"reason": reason})
		e.allocate()
		return nil
	})
}

// withdrawPreview returns the offered lead to the dialler untouched (the
// agent paused instead of dialling or skipping it): no attempt counts.
func (e *Engine) withdrawPreview(a *agent, why string) {
	p := a.preview
	if p == nil {
		return
	}
	a.preview = nil
	stopTimer(&p.timer)
	lc := &leadCall{attempt: p.attempt, campaignID: p.camp.ID, lead: p.lead, reason: why}
	e.outcome(lc, "returned", a.user.ID, "")
	e.publish(a, "preview.withdrawn", map[string]string{"reason": why})
}

// DialPredictive originates a dialler call; see PredictiveCall.
func (e *Engine) DialPredictive(ctx context.Context, req PredictiveCall) error {
	return e.exec(ctx, func() error {
		camp := e.cfg.Campaigns[req.CampaignID]
		if camp == nil {
			return notFound("no such campaign")
		}
		num, err := NormalizeNumber(req.Number, camp.DefaultRegion)
		if err != nil {
			return err
		}
		ch := "pd-" + req.AttemptID
		if _, dup := e.predictive[ch]; dup {
			return conflict("", "attempt already dialling")
		}
		ring := req.RingSeconds
		if ring < 15 {
			ring = 15 // never give up on a number before 15 s of ringing
		}
		cid := req.CallerID
		if cid == "" {
			cid = camp.PlatformNumber
		}
		if cid != "" {
			cid = "<" + cid + ">"
		}
		req.Number = num
		p := &predictive{req: req, camp: camp}
		e.predictive[ch] = p
		tctx, cancel := e.tctx()
		defer cancel()
		err = e.tel.Originate(tctx, ari.OriginateRequest{Endpoint: e.o.TrunkEndpoint(num), App: e.o.App,
			AppArgs: []string{"dialer", req.AttemptID}, CallerID: cid, Timeout: ring, ChannelID: ch})
		if err != nil {
			delete(e.predictive, ch)
			return &Error{Kind: KindUnavailable, Msg: "originate: " + err.Error()}
		}
		return nil
	})
}

func (p *predictive) leadCall() *leadCall {
	return &leadCall{attempt: p.req.AttemptID, campaignID: p.req.CampaignID, lead: p.req.Lead, number: p.req.Number, amd: p.amd}
}

// onPredictiveAnswered: the contact answered (args empty), or came back
// from [dialer-amd] (args "amd", AMDSTATUS, AMDCAUSE). With AMD on, the
// answer goes to detection first; a person (HUMAN, or NOTSURE: a person
// until shown otherwise, since hanging up on one is an abandoned call) is
// connected as any answer, a machine hung up on or left a message.
func (e *Engine) onPredictiveAnswered(ch ari.Channel, args []string) {
	p := e.predictive[ch.ID]
	if p == nil || p.call != nil {
		e.hangup(ch.ID, "normal")
		return
	}
	grace := AbandonAfter
	switch {
	case len(args) > 0 && args[0] == "amd":
		if !p.listening {
			e.hangup(ch.ID, "normal")
			return
		}
		stopTimer(&p.timer)
		p.listening = false
		status, cause := "", ""
		if len(args) > 1 {
			status = args[1]
		}
		if len(args) > 2 {
			cause = args[2]
		}
		p.amd = status + "/" + cause
		if status == "MACHINE" {
			e.machine(p, ch.ID)
			return
		}
		grace = AbandonAfter - AMDAfterGreetingSilence
	case p.req.AMD:
		if e.listen(p, ch.ID) {
			return
		}
	}
	e.predictiveAnswered(p, ch, grace)
}

// listen sends an answered contact to [dialer-amd]. While it is there the
// call counts as dialling, and leaving Stasis is not its end (predictiveGone
// ignores it); amdTimeout ends a contact who hung up during detection.
func (e *Engine) listen(p *predictive, ch string) bool {
	ctx, cancel := e.tctx()
	defer cancel()
	if m := p.req.MachineMessage; m != "" {
		if err := e.tel.SetVar(ctx, ch, "DIALER_MACHINE_MESSAGE", m); err != nil {
			e.log.Warn("dialer AMD: setting the machine message", "channel", ch, "err", err)
		}
	}
	p.listening = true
	if err := e.tel.Continue(ctx, ch, "dialer-amd", "s"); err != nil {
		// No detection: the contact is treated as a person (never hung up
		// on for want of a verdict).
		p.listening = false
		e.log.Warn("dialer AMD: continue to [dialer-amd] failed; connecting without detection", "channel", ch, "err", err)
		return false
	}
	p.timer = e.after(amdTimeout, func() {
		if e.predictive[ch] != p || !p.listening {
			return
		}
		p.listening = false
		p.amd = "TIMEOUT/"
		e.hangup(ch, "normal")
		delete(e.predictive, ch)
		e.outcome(p.leadCall(), "failed", 0, "")
	})
	return true
}

// machine ends a call AMD says a machine answered: hung up, or sent to
// leave the campaign's message after the beep.
func (e *Engine) machine(p *predictive, ch string) {
	delete(e.predictive, ch)
	result := ResultMachine
	if p.req.MachineMessage != "" {
		ctx, cancel := e.tctx()
		err := e.tel.Continue(ctx, ch, "dialer-amd-message", "s")
		cancel()
		if err == nil {
			result = ResultMachineMessage
		} else {
			e.log.Warn("dialer AMD: continue to [dialer-amd-message] failed; hanging up", "channel", ch, "err", err)
		}
	}
	if result == ResultMachine {
		e.hangup(ch, "normal")
	}
	e.outcome(p.leadCall(), result, 0, "")
}

func (e *Engine) predictiveAnswered(p *predictive, ch ari.Channel, grace time.Duration) {
	now := e.now()
	id := p.camp.ID
	c := &call{campaign: p.camp, number: p.req.Number, lead: p.leadCall(), rec: Interaction{
		ID: e.newID("I"), Direction: "OUT", CustomerNumber: p.req.Number, PlatformNumber: p.camp.PlatformNumber,
		CampaignID: &id, CustomerChannel: ch.ID, QueuedAt: &now,
	}}
	p.call = c
	e.calls[c.rec.ID] = c
	e.channels[ch.ID] = chanRef{role: roleCustomer, call: c}
	e.callTransition(c, CallActOffer, "predictive answer")
	if a := e.pickPersistent(p.camp); a != nil {
		e.connectPredictive(p, a)
		return
	}
	p.timer = e.after(grace, func() { e.abandonPredictive(p) })
}

func (e *Engine) pickPersistent(camp *Campaign) *agent {
	var best *agent
	members := e.members[camp.ID]
	for id, a := range e.ready {
		if !members[id] || !a.persistent || !a.phoneUp || a.preview != nil {
			continue
		}
		if best == nil || a.idleSince.Before(best.idleSince) {
			best = a
		}
	}
	return best
}

func (e *Engine) connectPredictive(p *predictive, a *agent) {
	stopTimer(&p.timer)
	c := p.call
	delete(e.predictive, c.rec.CustomerChannel)
	uid := a.user.ID
	c.agent, c.rec.AgentID, a.call = a, &uid, c
	e.transition(a, ActOffer, "")
	ctx, cancel := e.tctx()
	defer cancel()
	// The beep is queued to the agent's channel only (ARI-NOTES §4), and
	// the customer joins once it has played (PlaybackFinished, or at most
	// beepWait). Started together, Asterisk sometimes failed to open the
	// beep file ("Unable to open beep (format ulaw)") while the customer
	// was joining the agent's bridge, and the agent heard nothing.
	pb := e.newID("pb-")
	c.beep = pb
	if err := e.tel.Play(ctx, a.phoneChan, pb, "sound:beep"); err != nil {
		c.beep = ""
		e.joinPredictive(c, a)
	} else {
		e.after(beepWait, func() {
			if c.beep == pb {
				e.joinPredictive(c, a)
			}
		})
	}
	e.connected(c, a)
	e.outcome(c.lead, "answered", a.user.ID, c.rec.ID)
}

// beepWait bounds how long a predictive customer waits for the agent's
// beep to finish (it lasts about a quarter of a second).
const beepWait = 1500 * time.Millisecond

// joinPredictive adds the answered customer to the agent's bridge.
func (e *Engine) joinPredictive(c *call, a *agent) {
	c.beep = ""
	if a.call != c {
		return // the call ended meanwhile
	}
	ctx, cancel := e.tctx()
	defer cancel()
	if err := e.tel.AddToBridge(ctx, a.bridge, c.rec.CustomerChannel, true); err != nil {
		e.log.Error("predictive connect", "err", err)
	}
}

func (e *Engine) abandonPredictive(p *predictive) {
	c := p.call
	if c == nil || c.rec.State != CallDialing {
		return
	}
	delete(e.predictive, c.rec.CustomerChannel)
	msg := p.req.AbandonMessage
	if msg == "" {
		msg = "sound:ss-noservice"
	}
	ctx, cancel := e.tctx()
	defer cancel()
	e.tel.Play(ctx, c.rec.CustomerChannel, e.newID("ab-"), msg)
	c.rec.EndReason = "abandoned: no agent free"
	e.outcome(c.lead, "abandoned", 0, c.rec.ID)
	// Let the message play, then end the call.
	cust := c.rec.CustomerChannel
	e.after(8*time.Second, func() { e.hangup(cust, "normal") })
}

// servePredictive gives answered contacts waiting for an agent to one
// that just became free (called from allocate).
func (e *Engine) servePredictive() {
	for _, p := range e.predictive {
		if p.call == nil || p.call.rec.State != CallDialing {
			continue
		}
		if a := e.pickPersistent(p.camp); a != nil {
			e.connectPredictive(p, a)
		}
	}
}

// predictiveGone: a dialler channel ended before anyone answered, or an
// answered contact hung up while waiting for an agent.
func (e *Engine) predictiveGone(ch, cause string) {
	p := e.predictive[ch]
	if p.listening {
		// Left Stasis for [dialer-amd] (StasisEnd), or hung up there: the
		// verdict or amdTimeout settles it.
		return
	}
	delete(e.predictive, ch)
	stopTimer(&p.timer)
	if p.call == nil {
		result := cause
		switch cause {
		case "busy", "no_answer":
		default:
			result = "failed"
		}
		e.outcome(p.leadCall(), result, 0, "")
		return
	}
	c := p.call
	c.rec.EndReason = "contact hung up before an agent was free"
	e.outcome(c.lead, "abandoned", 0, c.rec.ID)
	delete(e.channels, ch)
	e.endCall(c, CallActFail, cause)
	delete(e.calls, c.rec.ID)
}
