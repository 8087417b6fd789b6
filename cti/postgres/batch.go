package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ctid/ctid/cti"
)

// Batch runs f with a Store that collects the engine's record writes and
// then sends them to Postgres in one round trip: a pgx pipeline, which
// Postgres runs as one implicit transaction (all or nothing). Under load
// the engine's writer hands it whatever queued up while the last batch ran,
// so 500 calls a second cost tens of round trips a second, not thousands.
// Every write of cti.Store is batched; a read fails the batch with
// errNotBatched, and the writer then replays it one write at a time through
// the plain Store.
func (s *Store) Batch(ctx context.Context, f func(cti.Store) error) error {
	b := &batchStore{Store: s}
	if err := f(b); err != nil {
		return err
	}
	if b.batch.Len() == 0 {
		return nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("batch: driver connection is %T, not pgx", dc)
		}
		return c.Conn().SendBatch(ctx, &b.batch).Close()
	})
}

var errNotBatched = errors.New("postgres: not a batched write")

// pgSQL holds the shared write statements with pgx's numbered
// placeholders, converted once.
var pgSQL = func() map[string]string {
	m := map[string]string{}
	for _, q := range []string{legUpsert, interactionEventInsert, agentStateInsert, transferUpsert,
		recordingUpsert, recordingEventInsert, bookmarkInsert, paymentInsert} {
		m[q] = numbered(q)
	}
	return m
}()

func pg(q string) string { return pgSQL[q] }

// numbered turns gorm's ? placeholders into $1, $2, … (the SQL it is used
// on has no ? anywhere else).
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// batchStore queues writes instead of running them. Methods it does not
// override are refused (see Batch).
type batchStore struct {
	*Store
	batch pgx.Batch
}

const interactionUpsert = `INSERT INTO interactions (id, campaign_id, direction, customer_number, platform_number,
	ivr_text, ivr_data, agent_id, state, queued_at, offered_at, connected_at, ended_at, wrapped_at, queue_ms,
	wrap_code, notes, end_reason, customer_channel, parent_id, updated_at, hold_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
ON CONFLICT (id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id, direction = EXCLUDED.direction,
	customer_number = EXCLUDED.customer_number, platform_number = EXCLUDED.platform_number,
	ivr_text = EXCLUDED.ivr_text, ivr_data = EXCLUDED.ivr_data, agent_id = EXCLUDED.agent_id,
	state = EXCLUDED.state, queued_at = EXCLUDED.queued_at, offered_at = EXCLUDED.offered_at,
	connected_at = EXCLUDED.connected_at, ended_at = EXCLUDED.ended_at, wrapped_at = EXCLUDED.wrapped_at,
	queue_ms = EXCLUDED.queue_ms, wrap_code = EXCLUDED.wrap_code, notes = EXCLUDED.notes,
	end_reason = EXCLUDED.end_reason, customer_channel = EXCLUDED.customer_channel,
	parent_id = EXCLUDED.parent_id, updated_at = EXCLUDED.updated_at, hold_ms = EXCLUDED.hold_ms`

func (b *batchStore) upsertInteraction(in cti.Interaction) {
	r := toRow(in)
	b.batch.Queue(interactionUpsert, r.ID, r.CampaignID, r.Direction, r.CustomerNumber, r.PlatformNumber,
		r.IVRText, r.IVRData, r.AgentID, r.State, r.QueuedAt, r.OfferedAt, r.ConnectedAt, r.EndedAt, r.WrappedAt,
		r.QueueMs, r.WrapCode, r.Notes, r.EndReason, r.CustomerChannel, r.ParentID, r.UpdatedAt, r.HoldMs)
}

func (b *batchStore) CreateInteraction(_ context.Context, in cti.Interaction) error {
	b.upsertInteraction(in)
	return nil
}

// UpdateInteraction: the plain Store updates and creates the row when it
// is missing; an upsert does both in one statement.
func (b *batchStore) UpdateInteraction(_ context.Context, in cti.Interaction) error {
	b.upsertInteraction(in)
	return nil
}

func (b *batchStore) AddInteractionEvent(_ context.Context, id string, at time.Time, from, to cti.CallState, detail string) error {
	b.batch.Queue(pg(interactionEventInsert),
		id, at, string(from), string(to), storable(detail))
	return nil
}

func (b *batchStore) UpsertLeg(_ context.Context, l cti.Leg) error {
	if l.StartedAt.IsZero() {
		l.StartedAt = time.Now()
	}
	b.batch.Queue(pg(legUpsert), l.InteractionID, storable(l.ChannelID), l.Role, storable(l.Endpoint), l.AgentID, l.StartedAt,
		l.AnsweredAt, l.EndedAt, storable(l.Cause))
	return nil
}

func (b *batchStore) AddAgentState(_ context.Context, uid int64, at time.Time, from, to cti.AgentState, reason, iid string) error {
	b.batch.Queue(pg(agentStateInsert),
		uid, at, string(from), string(to), reason, iid)
	return nil
}

func (b *batchStore) SaveAgentSession(_ context.Context, a cti.AgentSession) error {
	b.batch.Queue(`INSERT INTO agent_sessions (user_id, state, pause_reason, phone_mode, phone_number, persistent,
	agent_channel, bridge_id, interaction_id, state_since, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (user_id) DO UPDATE SET state = EXCLUDED.state, pause_reason = EXCLUDED.pause_reason,
	phone_mode = EXCLUDED.phone_mode, phone_number = EXCLUDED.phone_number, persistent = EXCLUDED.persistent,
	agent_channel = EXCLUDED.agent_channel, bridge_id = EXCLUDED.bridge_id,
	interaction_id = EXCLUDED.interaction_id, state_since = EXCLUDED.state_since, updated_at = EXCLUDED.updated_at`,
		a.UserID, string(a.State), a.PauseReason, string(a.PhoneMode), a.PhoneNumber, a.Persistent,
		a.AgentChannel, a.BridgeID, a.InteractionID, a.StateSince, time.Now())
	return nil
}

func (b *batchStore) DeleteAgentSession(_ context.Context, uid int64) error {
	b.batch.Queue(`DELETE FROM agent_sessions WHERE user_id = $1`, uid)
	return nil
}

func (b *batchStore) SaveTransfer(_ context.Context, t cti.TransferRecord) error {
	b.batch.Queue(pg(transferUpsert), t.ID, t.InteractionID, t.AgentID, t.Mode, t.TargetType, t.Target, t.State, t.ChildID, t.Detail)
	return nil
}

func (b *batchStore) SaveRecording(_ context.Context, r cti.RecordingRecord) error {
	b.batch.Queue(pg(recordingUpsert), r.Name, r.InteractionID, r.CustomerChannel, r.State, r.StartedAt, r.EndedAt, r.DurationMs)
	return nil
}

func (b *batchStore) AddRecordingEvent(_ context.Context, name, iid string, uid *int64, action, reason string, at time.Time) error {
	b.batch.Queue(pg(recordingEventInsert), name, iid, uid, action, reason, at)
	return nil
}

func (b *batchStore) AddBookmark(_ context.Context, bm cti.Bookmark) error {
	b.batch.Queue(pg(bookmarkInsert), bm.RecordingName, bm.InteractionID, bm.OffsetMs, storable(bm.Note), bm.UserID, bm.At)
	return nil
}

func (b *batchStore) SavePayment(_ context.Context, p cti.PaymentRecord) error {
	b.batch.Queue(pg(paymentInsert), p.ID, p.InteractionID, p.AgentID, p.Reference, p.AmountMinor,
		p.Currency, p.CardBrand, p.CardLast4, p.Approved, p.GatewayRef, p.DeclineReason)
	return nil
}

// Reads are refused: the writer replays such a batch write by write.
func (b *batchStore) LoadConfig(context.Context) (*cti.Config, error) { return nil, errNotBatched }
func (b *batchStore) OpenInteractions(context.Context) ([]cti.Interaction, error) {
	return nil, errNotBatched
}
func (b *batchStore) AgentSessions(context.Context) ([]cti.AgentSession, error) {
	return nil, errNotBatched
}

var _ cti.Batcher = (*Store)(nil)
