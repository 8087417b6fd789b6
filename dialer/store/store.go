// Package store keeps the dialler's lead lists, leads, do-not-call numbers
// and call attempts in PostgreSQL (tables dialer_*, migration
// cti/postgres/migrations/0100_dialer_leads.up.sql) through gorm.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/dialer/leads"
)

// Store is the dialler's Postgres store.
type Store struct{ db *gorm.DB }

// New wraps a migrated database.
func New(db *gorm.DB) *Store { return &Store{db: db} }

// List is a lead list of a campaign.
type List struct {
	ID         int64
	CampaignID int64
	Name       string
	Active     bool
	Source     string
	CreatedAt  time.Time
}

// ErrNotFound is returned for a missing list or lead.
var ErrNotFound = errors.New("store: not found")

// CreateList makes a new lead list.
func (s *Store) CreateList(ctx context.Context, campaignID int64, name, source string, m *leads.Mapping) (List, error) {
	mapping := []byte("{}")
	if m != nil {
		mapping, _ = json.Marshal(m)
	}
	var l List
	err := s.db.WithContext(ctx).Raw(`
		INSERT INTO dialer_lead_lists (campaign_id, name, source, mapping)
		VALUES (?, ?, ?, ?::jsonb)
		RETURNING id, campaign_id, name, active, source, created_at`,
		campaignID, name, source, string(mapping)).Scan(&l).Error
	if err != nil {
		return List{}, fmt.Errorf("store: creating list %q: %w", name, err)
	}
	return l, nil
}

// SetMapping records the mapping an import used.
func (s *Store) SetMapping(ctx context.Context, listID int64, m leads.Mapping) error {
	b, _ := json.Marshal(m)
	return s.db.WithContext(ctx).Exec(`UPDATE dialer_lead_lists SET mapping = ?::jsonb WHERE id = ?`, string(b), listID).Error
}

// Sink returns a leads.LeadSink (and leads.ExistingChecker) adding to the
// list.
func (s *Store) Sink(list List) *ListSink { return &ListSink{db: s.db, list: list} }

// ListSink inserts imported leads into one list. A lead whose primary
// number is already in the list is skipped (ON CONFLICT DO NOTHING), so a
// concurrent import of the same numbers cannot create duplicates.
type ListSink struct {
	db   *gorm.DB
	list List
	// Skipped counts leads dropped by the conflict rule.
	Skipped int
}

// Add implements leads.LeadSink with one multi-row INSERT per batch.
func (k *ListSink) Add(ctx context.Context, batch []leads.Lead) error {
	if len(batch) == 0 {
		return nil
	}
	const cols = 11
	var sb strings.Builder
	sb.WriteString(`INSERT INTO dialer_leads (list_id, campaign_id, external_id, name, phone1, phone2, phone3,
		primary_phone, time_zone, data, source_row) VALUES `)
	args := make([]any, 0, cols*len(batch))
	for i := range batch {
		l := &batch[i]
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?,?,?,?,?,?,?::jsonb,?)")
		data := []byte("{}")
		if len(l.Data) > 0 {
			var err error
			if data, err = json.Marshal(l.Data); err != nil {
				return err
			}
		}
		args = append(args, k.list.ID, k.list.CampaignID, l.ExternalID, l.Name,
			l.Phones[0], l.Phones[1], l.Phones[2], l.Primary(), l.TimeZone, string(data), l.Row)
	}
	sb.WriteString(` ON CONFLICT (list_id, primary_phone) DO NOTHING`)
	res := k.db.WithContext(ctx).Exec(sb.String(), args...)
	if res.Error != nil {
		return res.Error
	}
	k.Skipped += len(batch) - int(res.RowsAffected)
	return nil
}

// ExistingPhones implements leads.ExistingChecker.
func (k *ListSink) ExistingPhones(ctx context.Context, nums []string) (map[string]bool, error) {
	var found []string
	err := k.db.WithContext(ctx).Raw(`SELECT primary_phone FROM dialer_leads
		WHERE list_id = ? AND primary_phone = ANY(?)`, k.list.ID, TextArray(nums)).Scan(&found).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(found))
	for _, n := range found {
		out[n] = true
	}
	return out, nil
}

// TextArray renders a PostgreSQL text[] literal (for "= ANY(?)"), with
// backslashes and quotes escaped.
func TextArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// Lead is a stored lead.
type Lead struct {
	ID, ListID, CampaignID int64
	leads.Lead
	Status        string
	Attempts      int
	NextAttemptAt *time.Time
	LastOutcome   string
}

type leadRow struct {
	ID, ListID, CampaignID int64
	ExternalID, Name       string
	Phone1, Phone2, Phone3 string
	TimeZone               string
	Data                   string
	SourceRow              int
	Status                 string
	Attempts               int
	NextAttemptAt          *time.Time
	LastOutcome            string
}

const leadCols = `id, list_id, campaign_id, external_id, name, phone1, phone2, phone3, time_zone,
	data::text AS data, source_row, status, attempts, next_attempt_at, last_outcome`

func (r leadRow) lead() (Lead, error) {
	l := Lead{ID: r.ID, ListID: r.ListID, CampaignID: r.CampaignID, Status: r.Status,
		Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt, LastOutcome: r.LastOutcome}
	l.Row, l.ExternalID, l.Name, l.TimeZone = r.SourceRow, r.ExternalID, r.Name, r.TimeZone
	l.Phones = [3]string{r.Phone1, r.Phone2, r.Phone3}
	if r.Data != "" && r.Data != "{}" {
		if err := json.Unmarshal([]byte(r.Data), &l.Data); err != nil {
			return l, err
		}
	}
	return l, nil
}

// DNC is the do-not-call list as seen by one campaign: its own numbers plus
// the global ones. It implements leads.DNC and leads.BatchDNC.
type DNC struct {
	db         *gorm.DB
	campaignID int64
}

// DNC returns the campaign's do-not-call view (campaignID 0: global only).
func (s *Store) DNC(campaignID int64) *DNC { return &DNC{db: s.db, campaignID: campaignID} }

// AddDNC adds numbers (E.164) to the campaign's list, or the global one
// when campaignID is 0. Numbers already listed are left alone.
func (s *Store) AddDNC(ctx context.Context, campaignID int64, reason string, numbers ...string) error {
	var camp any
	if campaignID != 0 {
		camp = campaignID
	}
	for _, n := range numbers {
		err := s.db.WithContext(ctx).Exec(`INSERT INTO dialer_dnc (number, campaign_id, reason) VALUES (?, ?, ?)
			ON CONFLICT (number, COALESCE(campaign_id, 0)) DO NOTHING`, n, camp, reason).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// Contains implements leads.DNC.
func (d *DNC) Contains(ctx context.Context, e164 string) (bool, error) {
	m, err := d.ContainsAny(ctx, []string{e164})
	return m[e164], err
}

// ContainsAny implements leads.BatchDNC.
func (d *DNC) ContainsAny(ctx context.Context, nums []string) (map[string]bool, error) {
	var found []string
	err := d.db.WithContext(ctx).Raw(`SELECT DISTINCT number FROM dialer_dnc
		WHERE number = ANY(?) AND (campaign_id IS NULL OR campaign_id = ?)`, TextArray(nums), d.campaignID).Scan(&found).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(found))
	for _, n := range found {
		out[n] = true
	}
	return out, nil
}

// Outcome of a call attempt.
type Outcome string

// Attempt outcomes (dialer_attempts.outcome).
const (
	OutcomeAnswered   Outcome = "answered"
	OutcomeAbandoned  Outcome = "abandoned"
	OutcomeNoAnswer   Outcome = "no_answer"
	OutcomeBusy       Outcome = "busy"
	OutcomeCongestion Outcome = "congestion"
	OutcomeFailed     Outcome = "failed"
	OutcomeCancelled  Outcome = "cancelled"
)

// Attempt is one dial of a lead's number.
type Attempt struct {
	ID            int64
	LeadID        int64
	CampaignID    int64
	Number        string
	Outcome       Outcome
	ChannelID     string
	InteractionID *string
	AgentID       *int64
	StartedAt     time.Time
	AnsweredAt    *time.Time
	EndedAt       *time.Time
}

// StartAttempt records a dial and counts it on the lead, marking the lead
// as being dialled.
func (s *Store) StartAttempt(ctx context.Context, a Attempt) (int64, error) {
	var id int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(`INSERT INTO dialer_attempts (lead_id, campaign_id, number, channel_id, started_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, a.LeadID, a.CampaignID, a.Number, a.ChannelID, a.StartedAt).Scan(&id).Error; err != nil {
			return err
		}
		res := tx.Exec(`UPDATE dialer_leads SET attempts = attempts + 1, status = 'dialling', updated_at = now()
			WHERE id = ?`, a.LeadID)
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	return id, err
}

// EndAttempt records an attempt's outcome and the lead's next step:
// status (e.g. "done", "retry", "exhausted") and, for retries, when.
func (s *Store) EndAttempt(ctx context.Context, attemptID int64, outcome Outcome, answeredAt *time.Time, endedAt time.Time,
	leadStatus string, nextAttemptAt *time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var leadID int64
		if err := tx.Raw(`UPDATE dialer_attempts SET outcome = ?, answered_at = ?, ended_at = ?
			WHERE id = ? RETURNING lead_id`, string(outcome), answeredAt, endedAt, attemptID).Scan(&leadID).Error; err != nil {
			return err
		}
		if leadID == 0 {
			return ErrNotFound
		}
		return tx.Exec(`UPDATE dialer_leads SET status = ?, next_attempt_at = ?, last_outcome = ?, updated_at = now()
			WHERE id = ?`, leadStatus, nextAttemptAt, string(outcome), leadID).Error
	})
}
