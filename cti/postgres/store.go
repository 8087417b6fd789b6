package postgres

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ctid/ctid/cti"
)

// Store is the engine's business-record store on PostgreSQL.
type Store struct{ db *gorm.DB }

// NewStore wraps a migrated database.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

var _ cti.Store = (*Store)(nil)

// LoadConfig reads everything the engine keeps in memory: users,
// campaigns with their DIDs, wrap codes and agents, and pause reasons.
func (s *Store) LoadConfig(ctx context.Context) (*cti.Config, error) {
	db := s.db.WithContext(ctx)
	cfg := &cti.Config{Campaigns: map[int64]*cti.Campaign{}, ByDID: map[string]*cti.Campaign{}, Users: map[int64]*cti.User{}}
	var users []accountRow
	// Everything but the password hash, which the engine has no use for.
	if err := db.Omit("password_hash").Where("NOT disabled").Find(&users).Error; err != nil {
		return nil, err
	}
	for _, u := range users {
		cu := u.user()
		cfg.Users[u.ID] = &cu
	}
	var camps []campaignRecRow
	if err := db.Order("id").Find(&camps).Error; err != nil {
		return nil, err
	}
	for _, r := range camps {
		c := r.campaign()
		cfg.Campaigns[c.ID] = c
	}
	var dids []struct {
		DID        string `gorm:"column:did"`
		CampaignID int64
	}
	if err := db.Table("campaign_dids").Find(&dids).Error; err != nil {
		return nil, err
	}
	for _, d := range dids {
		if c := cfg.Campaigns[d.CampaignID]; c != nil {
			c.DIDs = append(c.DIDs, d.DID)
			cfg.ByDID[d.DID] = c
		}
	}
	var codes []struct {
		CampaignID  int64
		Code, Label string
	}
	if err := db.Table("wrap_codes").Order("id").Find(&codes).Error; err != nil {
		return nil, err
	}
	for _, w := range codes {
		if c := cfg.Campaigns[w.CampaignID]; c != nil {
			c.WrapCodes = append(c.WrapCodes, cti.WrapCode{Code: w.Code, Label: w.Label})
		}
	}
	var members []struct{ CampaignID, UserID int64 }
	if err := db.Table("campaign_agents").Find(&members).Error; err != nil {
		return nil, err
	}
	for _, m := range members {
		if c := cfg.Campaigns[m.CampaignID]; c != nil {
			c.AgentIDs = append(c.AgentIDs, m.UserID)
		}
	}
	var anns []struct {
		ID, CampaignID     int64
		Name, Media, Token string
	}
	if err := db.Table("announcements").Select("id, campaign_id, name, media, token").Order("id").Find(&anns).Error; err != nil {
		return nil, err
	}
	for _, a := range anns {
		if c := cfg.Campaigns[a.CampaignID]; c != nil {
			media := a.Media
			if media == "" && a.Token != "" {
				media = "media:" + a.Token // resolved against Config.MediaBase by the engine
			}
			c.Announcements = append(c.Announcements, cti.Announcement{ID: a.ID, Name: a.Name, Media: media})
		}
	}
	cfg.Workflows = map[string]*cti.Workflow{}
	var wfs []cti.Workflow
	if err := db.Table("workflows").Order("id").Find(&wfs).Error; err != nil {
		return nil, err
	}
	for i := range wfs {
		cfg.Workflows[wfs[i].Name] = &wfs[i]
	}
	if err := db.Table("pause_reasons").Where("NOT system").Order("id").Pluck("name", &cfg.PauseReasons).Error; err != nil {
		return nil, err
	}
	return cfg, nil
}

// user is the engine's view of a users row.
func (r accountRow) user() cti.User {
	return cti.User{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Role: cti.Role(r.Role),
		DefaultPhone: r.DefaultPhone, ManualCallWhenPaused: r.ManualCallWhenPaused,
		TransferWhenPaused: r.TransferWhenPaused, RecordingControl: r.RecordingControl, Disabled: r.Disabled}
}

// campaign is the engine's view of a campaigns row.
func (r campaignRecRow) campaign() *cti.Campaign {
	return &cti.Campaign{ID: r.ID, Name: r.Name, Kind: r.Kind, PlatformNumber: r.PlatformNumber,
		DefaultRegion: r.DefaultRegion, Recording: r.Recording, WrapLimitSeconds: r.WrapLimitSeconds,
		DefaultWrapCode: r.DefaultWrapCode, ExtendWrapSeconds: r.ExtendWrapSeconds,
		MaxQueueSeconds: r.MaxQueueSeconds, OverflowContext: r.OverflowContext,
		OverflowExtension: r.OverflowExtension, PaymentEnabled: r.PaymentEnabled, Settings: []byte(r.Settings)}
}

type interactionRow struct {
	ID              string `gorm:"primaryKey"`
	CampaignID      *int64
	Direction       string
	CustomerNumber  string
	PlatformNumber  string
	IVRText         string `gorm:"column:ivr_text"`
	IVRData         string `gorm:"column:ivr_data"`
	AgentID         *int64
	State           string
	QueuedAt        *time.Time
	OfferedAt       *time.Time
	ConnectedAt     *time.Time
	EndedAt         *time.Time
	WrappedAt       *time.Time
	QueueMs         int64
	HoldMs          int64
	WrapCode        string
	Notes           string
	EndReason       string
	CustomerChannel string
	ParentID        *string
	UpdatedAt       time.Time
}

func (interactionRow) TableName() string { return "interactions" }

func toRow(in cti.Interaction) interactionRow {
	return interactionRow{ID: in.ID, CampaignID: in.CampaignID, Direction: in.Direction,
		CustomerNumber: storable(in.CustomerNumber), PlatformNumber: storable(in.PlatformNumber), IVRText: storable(in.IVRText),
		IVRData: storable(in.IVRData), AgentID: in.AgentID, State: string(in.State), QueuedAt: in.QueuedAt,
		OfferedAt: in.OfferedAt, ConnectedAt: in.ConnectedAt, EndedAt: in.EndedAt, WrappedAt: in.WrappedAt,
		QueueMs: in.QueueMs, HoldMs: in.HoldMs, WrapCode: storable(in.WrapCode), Notes: storable(in.Notes), EndReason: storable(in.EndReason),
		CustomerChannel: storable(in.CustomerChannel), ParentID: nilIfEmpty(in.ParentID), UpdatedAt: time.Now()}
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r interactionRow) toInteraction() cti.Interaction {
	return cti.Interaction{ID: r.ID, CampaignID: r.CampaignID, Direction: r.Direction,
		CustomerNumber: r.CustomerNumber, PlatformNumber: r.PlatformNumber, IVRText: r.IVRText,
		IVRData: r.IVRData, AgentID: r.AgentID, State: cti.CallState(r.State), QueuedAt: r.QueuedAt,
		OfferedAt: r.OfferedAt, ConnectedAt: r.ConnectedAt, EndedAt: r.EndedAt, WrappedAt: r.WrappedAt,
		QueueMs: r.QueueMs, HoldMs: r.HoldMs, WrapCode: r.WrapCode, Notes: r.Notes, EndReason: r.EndReason,
		CustomerChannel: r.CustomerChannel, ParentID: deref(r.ParentID)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CreateInteraction inserts the record (idempotent on id, so a retried
// write after a timeout does not fail).
func (s *Store) CreateInteraction(ctx context.Context, in cti.Interaction) error {
	row := toRow(in)
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}

// UpdateInteraction writes every field of the record.
func (s *Store) UpdateInteraction(ctx context.Context, in cti.Interaction) error {
	row := toRow(in)
	res := s.db.WithContext(ctx).Model(&interactionRow{}).Where("id = ?", in.ID).Select("*").Updates(&row)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return s.CreateInteraction(ctx, in)
	}
	return nil
}

// AddInteractionEvent appends to the interaction's state history.
func (s *Store) AddInteractionEvent(ctx context.Context, id string, at time.Time, from, to cti.CallState, detail string) error {
	return s.db.WithContext(ctx).Exec(interactionEventInsert, id, at, string(from), string(to), storable(detail)).Error
}

// legUpsert records a leg; later writes fill in answered/ended times.
const legUpsert = `INSERT INTO interaction_legs(interaction_id, channel_id, role, endpoint, agent_id, started_at, answered_at, ended_at, cause)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (interaction_id, channel_id) DO UPDATE SET
		  endpoint = CASE WHEN EXCLUDED.endpoint <> '' THEN EXCLUDED.endpoint ELSE interaction_legs.endpoint END,
		  agent_id = COALESCE(EXCLUDED.agent_id, interaction_legs.agent_id),
		  answered_at = COALESCE(EXCLUDED.answered_at, interaction_legs.answered_at),
		  ended_at = COALESCE(EXCLUDED.ended_at, interaction_legs.ended_at),
		  cause = CASE WHEN EXCLUDED.cause <> '' THEN EXCLUDED.cause ELSE interaction_legs.cause END`

// UpsertLeg records a leg; later writes fill in answered/ended times.
func (s *Store) UpsertLeg(ctx context.Context, l cti.Leg) error {
	if l.StartedAt.IsZero() {
		l.StartedAt = time.Now()
	}
	return s.db.WithContext(ctx).Exec(legUpsert,
		l.InteractionID, storable(l.ChannelID), l.Role, storable(l.Endpoint), l.AgentID, l.StartedAt, l.AnsweredAt, l.EndedAt, storable(l.Cause)).Error
}

// OpenInteractions returns records not yet wrapped (ended ones may still be
// in an agent's wrap).
func (s *Store) OpenInteractions(ctx context.Context) ([]cti.Interaction, error) {
	var rows []interactionRow
	err := s.db.WithContext(ctx).Where("state NOT IN ('wrapped') AND (ended_at IS NULL OR agent_id IS NOT NULL AND wrapped_at IS NULL)").
		Find(&rows).Error
	out := make([]cti.Interaction, len(rows))
	for i, r := range rows {
		out[i] = r.toInteraction()
	}
	return out, err
}

// AddAgentState appends to the agent's state history (for reporting).
func (s *Store) AddAgentState(ctx context.Context, uid int64, at time.Time, from, to cti.AgentState, reason, iid string) error {
	return s.db.WithContext(ctx).Exec(agentStateInsert, uid, at, string(from), string(to), reason, iid).Error
}

type sessionRow struct {
	UserID        int64 `gorm:"primaryKey"`
	State         string
	PauseReason   string
	PhoneMode     string
	PhoneNumber   string
	Persistent    bool
	AgentChannel  string
	BridgeID      string
	InteractionID string
	StateSince    time.Time
	UpdatedAt     time.Time
}

func (sessionRow) TableName() string { return "agent_sessions" }

// SaveAgentSession upserts the agent's live session.
func (s *Store) SaveAgentSession(ctx context.Context, a cti.AgentSession) error {
	row := sessionRow{UserID: a.UserID, State: string(a.State), PauseReason: a.PauseReason,
		PhoneMode: string(a.PhoneMode), PhoneNumber: a.PhoneNumber, Persistent: a.Persistent,
		AgentChannel: a.AgentChannel, BridgeID: a.BridgeID, InteractionID: a.InteractionID,
		StateSince: a.StateSince, UpdatedAt: time.Now()}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}

// DeleteAgentSession removes a logged-out agent's session.
func (s *Store) DeleteAgentSession(ctx context.Context, uid int64) error {
	return s.db.WithContext(ctx).Exec(`DELETE FROM agent_sessions WHERE user_id = ?`, uid).Error
}

// AgentSessions lists every live session.
func (s *Store) AgentSessions(ctx context.Context) ([]cti.AgentSession, error) {
	var rows []sessionRow
	if err := s.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]cti.AgentSession, len(rows))
	for i, r := range rows {
		out[i] = cti.AgentSession{UserID: r.UserID, State: cti.AgentState(r.State), PauseReason: r.PauseReason,
			PhoneMode: cti.PhoneMode(r.PhoneMode), PhoneNumber: r.PhoneNumber, Persistent: r.Persistent,
			AgentChannel: r.AgentChannel, BridgeID: r.BridgeID, InteractionID: r.InteractionID, StateSince: r.StateSince}
	}
	return out, nil
}

// SaveTransfer upserts a transfer's state.
func (s *Store) SaveTransfer(ctx context.Context, t cti.TransferRecord) error {
	return s.db.WithContext(ctx).Exec(transferUpsert,
		t.ID, t.InteractionID, t.AgentID, t.Mode, t.TargetType, t.Target, t.State, t.ChildID, t.Detail).Error
}

// SaveRecording upserts a recording.
func (s *Store) SaveRecording(ctx context.Context, r cti.RecordingRecord) error {
	return s.db.WithContext(ctx).Exec(recordingUpsert,
		r.Name, r.InteractionID, r.CustomerChannel, r.State, r.StartedAt, r.EndedAt, r.DurationMs).Error
}

// AddRecordingEvent audits a pause, resume, start or stop.
func (s *Store) AddRecordingEvent(ctx context.Context, name, iid string, uid *int64, action, reason string, at time.Time) error {
	return s.db.WithContext(ctx).Exec(recordingEventInsert, name, iid, uid, action, reason, at).Error
}

// AddBookmark stores a bookmark.
func (s *Store) AddBookmark(ctx context.Context, b cti.Bookmark) error {
	return s.db.WithContext(ctx).Exec(bookmarkInsert, b.RecordingName, b.InteractionID, b.OffsetMs, storable(b.Note), b.UserID, b.At).Error
}

// SavePayment stores a payment outcome (brand and last four only).
func (s *Store) SavePayment(ctx context.Context, p cti.PaymentRecord) error {
	return s.db.WithContext(ctx).Exec(paymentInsert, p.ID, p.InteractionID, p.AgentID, p.Reference, p.AmountMinor,
		p.Currency, p.CardBrand, p.CardLast4, p.Approved, p.GatewayRef, p.DeclineReason).Error
}

// Write statements shared by Store and batchStore (gorm placeholders).
const (
	transferUpsert = `INSERT INTO transfers(id, interaction_id, agent_id, mode, target_type, target, state, child_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, child_id = EXCLUDED.child_id,
		  detail = EXCLUDED.detail, updated_at = now()`
	recordingUpsert = `INSERT INTO recordings(name, interaction_id, customer_channel, state, started_at, ended_at, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state,
		  started_at = COALESCE(EXCLUDED.started_at, recordings.started_at),
		  ended_at = COALESCE(EXCLUDED.ended_at, recordings.ended_at),
		  duration_ms = GREATEST(EXCLUDED.duration_ms, recordings.duration_ms)`
	recordingEventInsert = `INSERT INTO recording_events(recording_name, interaction_id, user_id, action, reason, at)
		VALUES (?, ?, ?, ?, ?, ?)`
	bookmarkInsert = `INSERT INTO bookmarks(recording_name, interaction_id, offset_ms, note, user_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	paymentInsert = `INSERT INTO payments(id, interaction_id, agent_id, reference, amount_minor, currency, card_brand, card_last4, approved, gateway_ref, decline_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	interactionEventInsert = `INSERT INTO interaction_events(interaction_id, at, from_state, to_state, detail)
		VALUES (?, ?, ?, ?, ?)`
	agentStateInsert = `INSERT INTO agent_state_history(user_id, at, from_state, to_state, reason, interaction_id)
		VALUES (?, ?, ?, ?, ?, ?)`
)
