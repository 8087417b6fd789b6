package cti

import (
	"context"
	"slices"
	"time"
)

// SupervisorView is the engine's live picture for supervisors: every
// logged-in agent and, per campaign, the callers waiting. Service level
// (answered within a threshold) needs history and comes from the store.
type SupervisorView struct {
	Agents []SupervisorAgent `json:"agents"`
	Queues []QueueView       `json:"queues"`
	// Calls by state: queued (waiting for an agent), offering (ringing an
	// agent), dialing (outbound customer ringing), connected.
	Queued, Offering, Dialing, Connected int
	// Calls is every call in progress (queued, ringing or connected).
	Calls []SupervisorCall `json:"calls"`
}

// SupervisorCall is one call in progress on the floor.
type SupervisorCall struct {
	ID             string     `json:"id"`
	CampaignID     *int64     `json:"campaignId"`
	Direction      string     `json:"direction"`
	CustomerNumber string     `json:"customerNumber"`
	State          CallState  `json:"state"`
	AgentID        *int64     `json:"agentId"`
	QueuedAt       *time.Time `json:"queuedAt"`
	ConnectedAt    *time.Time `json:"connectedAt"`
}

// SupervisorAgent is one row of the supervisor's agent list.
type SupervisorAgent struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"displayName"`
	State       AgentState `json:"state"`
	PauseReason string     `json:"pauseReason,omitempty"`
	Since       time.Time  `json:"since"`
	// InteractionID is the call the agent is on or wrapping, if any.
	InteractionID string `json:"interactionId,omitempty"`
	CampaignID    *int64 `json:"campaignId,omitempty"`
	// Phone is the number the agent's phone connection uses.
	Phone string `json:"phone"`
	// Campaigns the agent takes calls for.
	CampaignIDs []int64 `json:"campaignIds"`
}

// QueueView is one campaign's queue right now.
type QueueView struct {
	CampaignID   int64  `json:"campaignId"`
	CampaignName string `json:"campaignName"`
	Waiting      int    `json:"waiting"`
	// LongestWaitMs is how long the caller at the head has waited.
	LongestWaitMs int64 `json:"longestWaitMs"`
}

// Supervisor returns the live agent list (sorted by display name) and a
// queue row for every inbound campaign, waiting or not.
func (e *Engine) Supervisor(ctx context.Context) (SupervisorView, error) {
	var v SupervisorView
	err := e.exec(ctx, func() error {
		now := e.now()
		v.Agents = make([]SupervisorAgent, 0, len(e.agents))
		for _, a := range e.agents {
			sa := SupervisorAgent{ID: a.user.ID, Username: a.user.Username, DisplayName: a.user.DisplayName,
				State: a.state, PauseReason: a.pauseReason, Since: a.since, Phone: a.number,
				CampaignIDs: slices.Clone(e.campaignsOf[a.user.ID])}
			if sa.CampaignIDs == nil {
				sa.CampaignIDs = []int64{}
			}
			if a.call != nil {
				sa.InteractionID, sa.CampaignID = a.call.rec.ID, a.call.rec.CampaignID
			}
			v.Agents = append(v.Agents, sa)
		}
		slices.SortFunc(v.Agents, func(x, y SupervisorAgent) int {
			if x.DisplayName != y.DisplayName {
				if x.DisplayName < y.DisplayName {
					return -1
				}
				return 1
			}
			return int(x.ID - y.ID)
		})
		v.Queues = []QueueView{}
		for id, c := range e.cfg.Campaigns {
			q := e.queues[id]
			if c.Kind != "inbound" && len(q) == 0 {
				continue
			}
			qv := QueueView{CampaignID: id, CampaignName: c.Name, Waiting: len(q)}
			for _, cl := range q {
				if cl.rec.QueuedAt != nil {
					qv.LongestWaitMs = max(qv.LongestWaitMs, now.Sub(*cl.rec.QueuedAt).Milliseconds())
				}
			}
			v.Queues = append(v.Queues, qv)
		}
		slices.SortFunc(v.Queues, func(x, y QueueView) int { return int(x.CampaignID - y.CampaignID) })
		v.Calls = make([]SupervisorCall, 0, len(e.calls))
		for _, c := range e.calls {
			if c.rec.State != CallEnded && c.rec.State != CallWrapped {
				v.Calls = append(v.Calls, SupervisorCall{ID: c.rec.ID, CampaignID: c.rec.CampaignID, Direction: c.rec.Direction,
					CustomerNumber: c.rec.CustomerNumber, State: c.rec.State, AgentID: c.rec.AgentID,
					QueuedAt: c.rec.QueuedAt, ConnectedAt: c.rec.ConnectedAt})
			}
			switch c.rec.State {
			case CallQueued:
				v.Queued++
			case CallOffering:
				v.Offering++
			case CallDialing:
				v.Dialing++
			case CallConnected:
				v.Connected++
			}
		}
		return nil
	})
	return v, err
}
