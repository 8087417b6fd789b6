package cti

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// AgentSnapshot is everything the adaptor needs to draw an agent's screen;
// it is the websocket "hello" and GET /api/v1/agent.
type AgentSnapshot struct {
	AgentID      int64         `json:"agentId"`
	Username     string        `json:"username"`
	DisplayName  string        `json:"displayName"`
	State        StateView     `json:"state"`
	Phone        PhoneView     `json:"phone"`
	Call         *CallInfo     `json:"call,omitempty"`
	Wrap         *WrapView     `json:"wrap,omitempty"`
	Campaigns    []CampaignRef `json:"campaigns"`
	PauseReasons []string      `json:"pauseReasons"`
	Permissions  Permissions   `json:"permissions"`
	Seq          uint64        `json:"seq"`

	// In-call panels; each is present only when it applies.
	Recording      *RecordingView  `json:"recording,omitempty"`
	Transfer       *TransferView   `json:"transfer,omitempty"`
	Conference     *ConferenceView `json:"conference,omitempty"`
	Announcements  []Announcement  `json:"announcements,omitempty"`
	PaymentEnabled bool            `json:"paymentEnabled"`
	Payment        *PaymentView    `json:"payment,omitempty"`
	Workflows      []string        `json:"workflows"`
	Preview        *PreviewView    `json:"preview,omitempty"`
	Controls       *ControlsView   `json:"controls,omitempty"` // hold and mute, during a call
}

// StateView is an agent's state as shown to them.
type StateView struct {
	State       AgentState `json:"state"`
	PauseReason string     `json:"pauseReason,omitempty"`
	Since       time.Time  `json:"since"`
}

// PhoneView describes the phone connection.
type PhoneView struct {
	Mode          PhoneMode `json:"mode,omitempty"`
	Number        string    `json:"number,omitempty"`
	Persistent    bool      `json:"persistent"`
	Connected     bool      `json:"connected"`
	DefaultNumber string    `json:"defaultNumber"`
}

// CallInfo is the view-only Info tab plus the editable notes.
type CallInfo struct {
	InteractionID  string     `json:"interactionId"`
	CampaignID     *int64     `json:"campaignId,omitempty"`
	CampaignName   string     `json:"campaignName"`
	Direction      string     `json:"direction"`
	CustomerNumber string     `json:"customerNumber"`
	PlatformNumber string     `json:"platformNumber"`
	IVRText        string     `json:"ivrText"`
	IVRData        string     `json:"ivrData"`
	TimeInQueueMs  int64      `json:"timeInQueueMs"`
	State          CallState  `json:"state"`
	ConnectedAt    *time.Time `json:"connectedAt,omitempty"`
	EndedAt        *time.Time `json:"endedAt,omitempty"`
	Notes          string     `json:"notes"`
	EndReason      string     `json:"endReason,omitempty"`
	Lead           *Lead      `json:"lead,omitempty"` // outbound campaign calls: the Lead tab
	HoldMs         int64      `json:"holdMs"`
	// TransferredFrom is set when the call came by transfer (or the agent
	// joined it as a conference party).
	TransferredFrom *TransferredFrom `json:"transferredFrom,omitempty"`
	// ConferenceParty: this agent joined another agent's call as a party.
	ConferenceParty bool `json:"conferenceParty,omitempty"`
}

// WrapView is the wrap panel: codes, default, countdown deadline, extension.
type WrapView struct {
	InteractionID string     `json:"interactionId"`
	Codes         []WrapCode `json:"codes"`
	DefaultCode   string     `json:"defaultCode,omitempty"`
	Deadline      *time.Time `json:"deadline,omitempty"`
	ExtendSeconds int        `json:"extendSeconds"`
}

// CampaignRef names a campaign an agent may dial on.
type CampaignRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Permissions are the profile switches the adaptor needs.
type Permissions struct {
	ManualCallWhenPaused bool `json:"manualCallWhenPaused"`
	TransferWhenPaused   bool `json:"transferWhenPaused"`
	RecordingControl     bool `json:"recordingControl"`
}

// Snapshot returns the agent's current view (logged-out agents get a
// snapshot with state logged_out).
func (e *Engine) Snapshot(ctx context.Context, userID int64) (AgentSnapshot, error) {
	var s AgentSnapshot
	err := e.exec(ctx, func() error {
		a := e.agents[userID]
		if a == nil {
			u := e.cfg.Users[userID]
			if u == nil {
				return notFound("no such agent")
			}
			a = &agent{user: u, state: AgentLoggedOut, number: u.DefaultPhone}
		}
		s = e.snapshot(a)
		return nil
	})
	return s, err
}

func (e *Engine) snapshot(a *agent) AgentSnapshot {
	s := AgentSnapshot{
		AgentID: a.user.ID, Username: a.user.Username, DisplayName: a.user.DisplayName,
		State: e.stateView(a), Phone: e.phoneView(a), PauseReasons: e.cfg.PauseReasons,
		Permissions: Permissions{a.user.ManualCallWhenPaused, a.user.TransferWhenPaused, a.user.RecordingControl},
		Seq:         e.feed.Seq(a.user.ID), Campaigns: []CampaignRef{}, Workflows: []string{},
	}
	if s.PauseReasons == nil {
		s.PauseReasons = []string{}
	}
	for _, c := range e.cfg.Campaigns {
		if e.members[c.ID][a.user.ID] {
			s.Campaigns = append(s.Campaigns, CampaignRef{c.ID, c.Name, c.Kind})
		}
	}
	// A stable order: the adaptor's drop-down preselects the first.
	slices.SortFunc(s.Campaigns, func(x, y CampaignRef) int { return cmp.Compare(x.ID, y.ID) })
	if a.preview != nil {
		pv := e.previewView(a)
		s.Preview = &pv
	}
	for name := range e.cfg.Workflows {
		s.Workflows = append(s.Workflows, name)
	}
	slices.Sort(s.Workflows)
	if c := a.call; c != nil {
		ci := e.callView(c)
		s.Call = &ci
		if a.state == AgentOnWrap {
			w := e.wrapView(a)
			s.Wrap = &w
		}
		if a.state == AgentOnCall {
			rv := e.recordingView(a, c)
			s.Recording = &rv
			if c.xfer != nil {
				tv := c.xfer.view()
				s.Transfer = &tv
			}
			if len(c.parties) > 0 {
				cv := e.conferenceView(c)
				s.Conference = &cv
			}
			if c.partyOf == nil {
				ctl := e.controlsView(c)
				s.Controls = &ctl
			}
			if c.campaign != nil {
				s.Announcements = c.campaign.Announcements
				s.PaymentEnabled = c.campaign.PaymentEnabled
			}
			if c.payment != nil {
				pv := e.paymentView(c)
				s.Payment = &pv
			}
		}
	}
	return s
}

func (e *Engine) stateView(a *agent) StateView {
	return StateView{State: a.state, PauseReason: a.pauseReason, Since: a.since}
}

func (e *Engine) phoneView(a *agent) PhoneView {
	return PhoneView{Mode: a.mode, Number: a.number, Persistent: a.persistent,
		Connected:     a.state != AgentLoggedOut && a.state != AgentLoggedIn && a.state != AgentConnecting && e.phoneReady(a),
		DefaultNumber: a.user.DefaultPhone}
}

func (e *Engine) callView(c *call) CallInfo {
	ci := CallInfo{
		InteractionID: c.rec.ID, CampaignID: c.rec.CampaignID, Direction: c.rec.Direction,
		CustomerNumber: c.rec.CustomerNumber, PlatformNumber: c.rec.PlatformNumber,
		IVRText: c.rec.IVRText, IVRData: c.rec.IVRData, TimeInQueueMs: c.rec.QueueMs,
		State: c.rec.State, ConnectedAt: c.rec.ConnectedAt, EndedAt: c.rec.EndedAt,
		Notes: c.rec.Notes, EndReason: c.rec.EndReason, HoldMs: c.rec.HoldMs,
		TransferredFrom: c.from, ConferenceParty: c.partyOf != nil,
	}
	if c.campaign != nil {
		ci.CampaignName = c.campaign.Name
	}
	if c.lead != nil {
		l := c.lead.lead
		ci.Lead = &l
	}
	if ci.TimeInQueueMs == 0 && c.rec.State == CallQueued && c.rec.QueuedAt != nil {
		ci.TimeInQueueMs = e.now().Sub(*c.rec.QueuedAt).Milliseconds()
	}
	return ci
}

func (e *Engine) wrapView(a *agent) WrapView {
	w := WrapView{InteractionID: a.call.rec.ID}
	if c := a.call.campaign; c != nil {
		w.Codes, w.DefaultCode, w.ExtendSeconds = c.WrapCodes, c.DefaultWrapCode, c.ExtendWrapSeconds
	}
	if a.wrapTimer != nil {
		d := a.wrapUntil
		w.Deadline = &d
	}
	return w
}

// Stats returns engine counters and gauges.
func (e *Engine) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := e.exec(ctx, func() error {
		s = e.stats
		s.Agents = len(e.agents)
		for _, q := range e.queues {
			s.Queued += len(q)
		}
		return nil
	})
	return s, err
}

// AgentStates counts logged-in agents by state (for metrics and the
// supervisor view).
func (e *Engine) AgentStates(ctx context.Context) (map[AgentState]int, error) {
	m := map[AgentState]int{}
	err := e.exec(ctx, func() error {
		for _, a := range e.agents {
			m[a.state]++
		}
		return nil
	})
	return m, err
}
