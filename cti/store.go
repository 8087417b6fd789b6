package cti

import (
	"context"
	"time"
)

// Store is the business-record persistence the engine needs. The engine
// calls it from a single writer goroutine, in order, so implementations need
// no ordering logic of their own.
type Store interface {
	LoadConfig(ctx context.Context) (*Config, error)

	CreateInteraction(ctx context.Context, in Interaction) error
	UpdateInteraction(ctx context.Context, in Interaction) error
	AddInteractionEvent(ctx context.Context, interactionID string, at time.Time, from, to CallState, detail string) error
	UpsertLeg(ctx context.Context, leg Leg) error
	OpenInteractions(ctx context.Context) ([]Interaction, error)

	AddAgentState(ctx context.Context, userID int64, at time.Time, from, to AgentState, reason, interactionID string) error
	SaveAgentSession(ctx context.Context, s AgentSession) error
	DeleteAgentSession(ctx context.Context, userID int64) error
	AgentSessions(ctx context.Context) ([]AgentSession, error)

	SaveTransfer(ctx context.Context, t TransferRecord) error
	SaveRecording(ctx context.Context, r RecordingRecord) error
	AddRecordingEvent(ctx context.Context, name, interactionID string, userID *int64, action, reason string, at time.Time) error
	AddBookmark(ctx context.Context, b Bookmark) error
	SavePayment(ctx context.Context, p PaymentRecord) error
}
