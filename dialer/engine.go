package dialer

import (
	"context"
	"time"

	"github.com/ctid/ctid/cti"
)

var _ Engine = (*cti.Engine)(nil)

// Engine is what the dialler needs from the CTI engine (cti.Engine).
type Engine interface {
	// CampaignLoad reports the campaign's agents: Ready ones (and how many
	// of them have a persistent, nailed-up leg, which predictive and
	// progressive dialling need), busy and wrapping ones, predictive calls
	// ringing and answered calls waiting for an agent.
	CampaignLoad(ctx context.Context, campaignID int64) (CampaignLoad, error)
	// OfferPreview presents a lead to a Ready agent; the agent clicks a
	// number or skips; after timeout the first number is dialled.
	// attemptID comes back in the outcomes of the offer's dials (or skip).
	OfferPreview(ctx context.Context, agentID, campaignID int64, lead Lead, attemptID string, timeout time.Duration) error
	// DialPredictive originates a predictive/progressive call; when answered
	// the engine beeps a free persistent agent and bridges, else plays
	// AbandonMessage and reports abandoned.
	DialPredictive(ctx context.Context, req PredictiveCall) error
}

// The engine's outbound types (package cti owns them).
type (
	// Lead is a lead as presented to the engine and the agent's Lead tab.
	Lead = cti.Lead
	// CampaignLoad is the engine's view of a campaign's agents and calls.
	CampaignLoad = cti.CampaignLoad
	// PredictiveCall is one predictive/progressive origination.
	PredictiveCall = cti.PredictiveCall
	// AttemptOutcome is what the engine reports for a dial or an offer.
	AttemptOutcome = cti.AttemptOutcome
)

// Results of AttemptOutcome.
const (
	ResultAnswered  = "answered"
	ResultAbandoned = "abandoned"
	ResultBusy      = "busy"
	ResultNoAnswer  = "no_answer"
	ResultFailed    = "failed"
	ResultSkipped   = "skipped"
	// ResultReturned: the agent paused during the preview; the lead (or
	// callback) goes back as it was, no attempt counted.
	ResultReturned              = "returned"
	ResultPreviewTimeoutDialled = "preview_timeout_dialled"
	ResultMachine               = cti.ResultMachine        // AMD: a machine, hung up
	ResultMachineMessage        = cti.ResultMachineMessage // AMD: a machine, message left
)

// Clock is the worker's time source.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
