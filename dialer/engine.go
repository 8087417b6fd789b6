package dialer

import (
	"context"
	"time"
)

// Engine is what the dialler needs from the CTI engine (cti.Engine).
type Engine interface {
	// CampaignLoad reports the campaign's agents: Ready ones (and how many
	// of them have a persistent, nailed-up leg, which predictive and
	// progressive dialling need), busy and wrapping ones, predictive calls
	// ringing and answered calls waiting for an agent.
	CampaignLoad(ctx context.Context, campaignID int64) (CampaignLoad, error)
	// OfferPreview presents a lead to a Ready agent; the agent clicks a
	// number or skips; after timeout the first number is dialled.
	OfferPreview(ctx context.Context, agentID, campaignID int64, lead Lead, timeout time.Duration) error
	// DialPredictive originates a predictive/progressive call; when answered
	// the engine beeps a free persistent agent and bridges, else plays
	// AbandonMessage and reports abandoned.
	DialPredictive(ctx context.Context, req PredictiveCall) error
}

// Lead is a lead as presented to the engine.
type Lead struct {
	ID, ListID int64
	Name       string
	Phones     []string
	TimeZone   string
	Data       map[string]string
}

// CampaignLoad is the engine's view of a campaign's agents and calls.
type CampaignLoad struct {
	Ready           []int64         // agent ids
	ReadyPersistent int             // Ready agents with a nailed-up leg
	Busy            []time.Duration // on a call, since call start
	Wrapping        int
	Dialing         int // predictive calls ringing
	Queued          int // answered predictive calls waiting for an agent
}

// PredictiveCall is one predictive/progressive origination.
type PredictiveCall struct {
	AttemptID      string
	CampaignID     int64
	Lead           Lead
	Number         string
	CallerID       string
	RingSeconds    int
	AbandonMessage string
}

// AttemptOutcome is what the engine reports for a dial or an offer.
type AttemptOutcome struct {
	AttemptID          string
	CampaignID, LeadID int64
	Number             string
	// Result: answered, abandoned, busy, no_answer, failed, skipped,
	// preview_timeout_dialled.
	Result        string
	AgentID       int64
	InteractionID string
	At            time.Time
}

// Results of AttemptOutcome.
const (
	ResultAnswered              = "answered"
	ResultAbandoned             = "abandoned"
	ResultBusy                  = "busy"
	ResultNoAnswer              = "no_answer"
	ResultFailed                = "failed"
	ResultSkipped               = "skipped"
	ResultPreviewTimeoutDialled = "preview_timeout_dialled"
)

// Clock is the worker's time source.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
