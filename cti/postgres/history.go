package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
)

// History is the call-history search and detail (the "Call Management
// Module"): what reviewers, supervisors and agents look at after the call.
type History struct{ db *gorm.DB }

func NewHistory(db *gorm.DB) *History { return &History{db: db} }

// Scope is what one user may see of the history: everything (admins,
// reviewers), the campaigns they supervise, or the calls they handled.
type Scope struct {
	All bool
	// Campaigns a supervisor looks after (supervisor_campaigns).
	Campaigns []int64
	// AgentID: an agent sees their own calls (and the calls transferred to
	// them, whose parent they may open too).
	AgentID int64
}

// ScopeFor builds the scope of a user from their role.
func (h *History) ScopeFor(ctx context.Context, userID int64, role cti.Role) (Scope, error) {
	switch role {
	case cti.RoleAdmin, cti.RoleReviewer:
		return Scope{All: true}, nil
	case cti.RoleSupervisor:
		ids, err := SupervisedCampaigns(ctx, h.db, userID)
		return Scope{Campaigns: ids}, err
	default:
		return Scope{AgentID: userID}, nil
	}
}

// SupervisedCampaigns lists the campaigns assigned to a supervisor.
func SupervisedCampaigns(ctx context.Context, db *gorm.DB, userID int64) ([]int64, error) {
	ids := []int64{}
	err := db.WithContext(ctx).Raw(`SELECT campaign_id FROM supervisor_campaigns WHERE user_id = ? ORDER BY campaign_id`, userID).Scan(&ids).Error
	return ids, err
}

// SetSupervisedCampaigns replaces a supervisor's campaigns.
func SetSupervisedCampaigns(ctx context.Context, db *gorm.DB, userID int64, campaigns []int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var role string
		if err := tx.Raw(`SELECT role FROM users WHERE id = ? FOR UPDATE`, userID).Scan(&role).Error; err != nil {
			return err
		}
		if role == "" {
			return &cti.Error{Kind: cti.KindNotFound, Msg: "no such user"}
		}
		if role != string(cti.RoleSupervisor) {
			return &cti.Error{Kind: cti.KindInvalid, Field: "userId", Msg: "only supervisors are assigned campaigns"}
		}
		if len(campaigns) > 0 {
			var n int64
			if err := tx.Raw(`SELECT count(*) FROM campaigns WHERE id IN ?`, campaigns).Scan(&n).Error; err != nil {
				return err
			}
			if int(n) != len(dedupe(campaigns)) {
				return &cti.Error{Kind: cti.KindInvalid, Field: "campaignIds", Msg: "one of the campaigns does not exist"}
			}
		}
		if err := tx.Exec(`DELETE FROM supervisor_campaigns WHERE user_id = ?`, userID).Error; err != nil {
			return err
		}
		for _, c := range dedupe(campaigns) {
			if err := tx.Exec(`INSERT INTO supervisor_campaigns(user_id, campaign_id) VALUES (?, ?)`, userID, c).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

func dedupe(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := []int64{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// HistoryFilter selects interactions. Zero fields do not filter.
type HistoryFilter struct {
	From, To     time.Time // created_at in [From, To)
	CampaignID   int64
	AgentID      int64
	Customer     string // the number as typed; its E.164 form matches too
	Direction    string // IN or OUT
	WrapCode     string
	HasRecording *bool
	HasBookmark  *bool
	Limit        int    // 1..500, default 50
	Cursor       string // from the previous page's Next
}

// HistoryRow is one interaction in a search result.
type HistoryRow struct {
	ID             string     `json:"id"`
	ParentID       *string    `json:"parentId"`
	CampaignID     *int64     `json:"campaignId"`
	CampaignName   string     `json:"campaignName"`
	Direction      string     `json:"direction"`
	CustomerNumber string     `json:"customerNumber"`
	AgentID        *int64     `json:"agentId"`
	AgentName      string     `json:"agentName"`
	State          string     `json:"state"`
	CreatedAt      time.Time  `json:"createdAt"`
	ConnectedAt    *time.Time `json:"connectedAt"`
	EndedAt        *time.Time `json:"endedAt"`
	WrappedAt      *time.Time `json:"wrappedAt"`
	QueueMs        int64      `json:"queueMs"`
	TalkMs         int64      `json:"talkMs"`
	HoldMs         int64      `json:"holdMs"`
	WrapCode       string     `json:"wrapCode"`
	EndReason      string     `json:"endReason"`
	HasRecording   bool       `json:"hasRecording"`
	HasBookmark    bool       `json:"hasBookmark"`
}

// HistoryPage is one page of a search; Next is empty on the last page.
type HistoryPage struct {
	Items []HistoryRow `json:"items"`
	Next  string       `json:"next"`
}

const historyColumns = `i.id, i.parent_id, i.campaign_id, COALESCE(c.name, '') AS campaign_name, i.direction,
	i.customer_number, i.agent_id, COALESCE(NULLIF(u.display_name, ''), u.username, '') AS agent_name, i.state,
	i.created_at, i.connected_at, i.ended_at, i.wrapped_at, i.queue_ms, i.hold_ms, i.wrap_code, i.end_reason,
	EXISTS (SELECT 1 FROM recordings r WHERE r.interaction_id = i.id) AS has_recording,
	EXISTS (SELECT 1 FROM bookmarks b WHERE b.interaction_id = i.id) AS has_bookmark`

// cursor is the keyset position: the last row's created_at and id.
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + ":" + id))
}

func decodeCursor(s string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		ts, id, ok := strings.Cut(string(b), ":")
		if n, perr := strconv.ParseInt(ts, 10, 64); ok && perr == nil && id != "" && len(id) <= 128 {
			return time.UnixMicro(n).UTC(), id, nil
		}
	}
	return time.Time{}, "", &cti.Error{Kind: cti.KindInvalid, Field: "cursor", Msg: "cursor is not one this server gave out"}
}

// where builds the WHERE clause of a search (without cursor) for a scope.
func (f HistoryFilter) where(sc Scope) (string, []any, error) {
	var conds []string
	var args []any
	switch {
	case sc.All:
	case sc.AgentID != 0:
		conds = append(conds, `(i.agent_id = ? OR i.id IN (SELECT p.parent_id FROM interactions p WHERE p.agent_id = ? AND p.parent_id IS NOT NULL))`)
		args = append(args, sc.AgentID, sc.AgentID)
	case len(sc.Campaigns) > 0:
		conds = append(conds, `i.campaign_id IN ?`)
		args = append(args, sc.Campaigns)
	default:
		conds = append(conds, `FALSE`)
	}
	if !f.From.IsZero() {
		conds, args = append(conds, `i.created_at >= ?`), append(args, f.From)
	}
	if !f.To.IsZero() {
		conds, args = append(conds, `i.created_at < ?`), append(args, f.To)
	}
	if f.CampaignID != 0 {
		conds, args = append(conds, `i.campaign_id = ?`), append(args, f.CampaignID)
	}
	if f.AgentID != 0 {
		conds, args = append(conds, `i.agent_id = ?`), append(args, f.AgentID)
	}
	if n := strings.TrimSpace(f.Customer); n != "" {
		forms := []string{n}
		// Typed national ("07700 900123") or international: match the
		// E.164 form too (validity does not matter for a search).
		if num, err := phonenumbers.Parse(n, "GB"); err == nil {
			if e164 := phonenumbers.Format(num, phonenumbers.E164); e164 != n {
				forms = append(forms, e164)
			}
		}
		conds, args = append(conds, `i.customer_number IN ?`), append(args, forms)
	}
	switch f.Direction {
	case "":
	case "IN", "OUT":
		conds, args = append(conds, `i.direction = ?`), append(args, f.Direction)
	default:
		return "", nil, &cti.Error{Kind: cti.KindInvalid, Field: "direction", Msg: "direction must be IN or OUT"}
	}
	if f.WrapCode != "" {
		conds, args = append(conds, `i.wrap_code = ?`), append(args, f.WrapCode)
	}
	if f.HasRecording != nil {
		conds = append(conds, map[bool]string{true: ``, false: `NOT `}[*f.HasRecording]+`EXISTS (SELECT 1 FROM recordings r WHERE r.interaction_id = i.id)`)
	}
	if f.HasBookmark != nil {
		conds = append(conds, map[bool]string{true: ``, false: `NOT `}[*f.HasBookmark]+`EXISTS (SELECT 1 FROM bookmarks b WHERE b.interaction_id = i.id)`)
	}
	if len(conds) == 0 {
		return "TRUE", args, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

type historyScan struct {
	HistoryRow
}

// Search returns one page, newest first. Paging is by keyset (created_at,
// id), so page 10,000 costs what page 1 does and rows arriving meanwhile do
// not shift the pages.
func (h *History) Search(ctx context.Context, sc Scope, f HistoryFilter) (HistoryPage, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 {
		return HistoryPage{}, &cti.Error{Kind: cti.KindInvalid, Field: "limit", Msg: "limit must be at most 500"}
	}
	q, args, err := h.query(sc, f, f.Limit+1)
	if err != nil {
		return HistoryPage{}, err
	}
	var rows []HistoryRow
	if err := h.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return HistoryPage{}, err
	}
	page := HistoryPage{Items: rows}
	if len(rows) > f.Limit {
		page.Items = rows[:f.Limit]
		last := page.Items[f.Limit-1]
		page.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	for i := range page.Items {
		page.Items[i].fix()
	}
	if page.Items == nil {
		page.Items = []HistoryRow{}
	}
	return page, nil
}

func (r *HistoryRow) fix() {
	r.CreatedAt = r.CreatedAt.UTC()
	r.ConnectedAt, r.EndedAt, r.WrappedAt = utcp(r.ConnectedAt), utcp(r.EndedAt), utcp(r.WrappedAt)
	if r.ConnectedAt != nil && r.EndedAt != nil {
		r.TalkMs = max(0, r.EndedAt.Sub(*r.ConnectedAt).Milliseconds()-r.HoldMs) // as in the reports
	}
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *History) query(sc Scope, f HistoryFilter, limit int) (string, []any, error) {
	where, args, err := f.where(sc)
	if err != nil {
		return "", nil, err
	}
	if f.Cursor != "" {
		t, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		where += ` AND (i.created_at, i.id) < (?, ?)`
		args = append(args, t, id)
	}
	if limit > 0 {
		// The page first, then its names and flags: computed over the whole
		// query, Postgres hashes every recording and bookmark to answer
		// has_recording for fifty rows (0.9 s at a million calls).
		return `SELECT ` + historyColumns + ` FROM (SELECT i.* FROM interactions i WHERE ` + where + `
			ORDER BY i.created_at DESC, i.id DESC LIMIT ?) i
			LEFT JOIN campaigns c ON c.id = i.campaign_id LEFT JOIN users u ON u.id = i.agent_id
			ORDER BY i.created_at DESC, i.id DESC`, append(args, limit), nil
	}
	return `SELECT ` + historyColumns + ` FROM interactions i
		LEFT JOIN campaigns c ON c.id = i.campaign_id LEFT JOIN users u ON u.id = i.agent_id
		WHERE ` + where + ` ORDER BY i.created_at DESC, i.id DESC`, args, nil
}

// Explain returns Postgres's plan for a search's first page (for the
// benchmark and the index test).
func (h *History) Explain(ctx context.Context, sc Scope, f HistoryFilter, analyze bool) (string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q, args, err := h.query(sc, f, f.Limit+1)
	if err != nil {
		return "", err
	}
	ex := `EXPLAIN `
	if analyze {
		ex = `EXPLAIN (ANALYZE, BUFFERS) `
	}
	var lines []string
	if err := h.db.WithContext(ctx).Raw(ex+q, args...).Scan(&lines).Error; err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}

// Each streams every row of a search (no limit) to fn, newest first, for
// the CSV export: rows are read from the database cursor as they are
// written, so an export of a million rows never sits in memory.
func (h *History) Each(ctx context.Context, sc Scope, f HistoryFilter, fn func(HistoryRow) error) error {
	f.Cursor = ""
	q, args, err := h.query(sc, f, 0)
	if err != nil {
		return err
	}
	db := h.db.WithContext(ctx)
	rows, err := db.Raw(q, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r HistoryRow
		if err := db.ScanRows(rows, &r); err != nil {
			return err
		}
		r.fix()
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// --- detail -------------------------------------------------------------------

// InteractionDetail is everything kept about one call.
type InteractionDetail struct {
	HistoryRow
	PlatformNumber string             `json:"platformNumber"`
	IVRText        string             `json:"ivrText"`
	Notes          string             `json:"notes"`
	QueuedAt       *time.Time         `json:"queuedAt"`
	OfferedAt      *time.Time         `json:"offeredAt"`
	Children       []HistoryRow       `json:"children"`
	Legs           []LegView          `json:"legs"`
	Transfers      []TransferRecord   `json:"transfers"`
	Events         []EventView        `json:"events"`
	AgentStates    []AgentStateChange `json:"agentStates"`
	Payments       []PaymentOutcome   `json:"payments"`
	Recordings     []RecordingDetail  `json:"recordings"`
	Monitoring     []SupervisorAction `json:"monitoring"`
}

// LegView is one channel of the call: the customer, an agent, a transfer
// target or conference party.
type LegView struct {
	InteractionID string     `json:"interactionId"`
	Role          string     `json:"role"`
	Endpoint      string     `json:"endpoint"`
	AgentID       *int64     `json:"agentId"`
	StartedAt     time.Time  `json:"startedAt"`
	AnsweredAt    *time.Time `json:"answeredAt"`
	EndedAt       *time.Time `json:"endedAt"`
	Cause         string     `json:"cause"`
}

// TransferRecord is one transfer or conference add.
type TransferRecord struct {
	ID         string    `json:"id"`
	AgentID    *int64    `json:"agentId"`
	Mode       string    `json:"mode"`
	TargetType string    `json:"targetType"`
	Target     string    `json:"target"`
	State      string    `json:"state"`
	ChildID    string    `json:"childId"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// EventView is one step of the call's state machine.
type EventView struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Detail string    `json:"detail"`
}

// AgentStateChange is one change of the handling agent's state during the call.
type AgentStateChange struct {
	UserID int64     `json:"userId"`
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// PaymentOutcome is what a payment did: never the card number or CVV, only
// the brand and the last four digits the gateway returned.
type PaymentOutcome struct {
	ID            string    `json:"id"`
	Reference     string    `json:"reference"`
	AmountMinor   int64     `json:"amountMinor"`
	Currency      string    `json:"currency"`
	CardBrand     string    `json:"cardBrand"`
	CardLast4     string    `json:"cardLast4"`
	Approved      bool      `json:"approved"`
	GatewayRef    string    `json:"gatewayRef"`
	DeclineReason string    `json:"declineReason"`
	CreatedAt     time.Time `json:"createdAt"`
}

// RecordingDetail is a recording with its markers on the recording's own
// timeline (offset from its start, paused stretches excluded since a
// paused recording stores no audio).
type RecordingDetail struct {
	Name       string           `json:"name"`
	State      string           `json:"state"`
	StartedAt  *time.Time       `json:"startedAt"`
	EndedAt    *time.Time       `json:"endedAt"`
	DurationMs int64            `json:"durationMs"`
	Format     string           `json:"format"`
	File       string           `json:"file"`
	Markers    []RecordingMark  `json:"markers"`
	Events     []RecordingEvent `json:"events"`
}

// RecordingMark is a point on the player's timeline: a bookmark, a pause
// (where audio was dropped) or a supervisor's monitoring step.
type RecordingMark struct {
	Kind     string `json:"kind"` // bookmark, pause, monitor
	OffsetMs int64  `json:"offsetMs"`
	Label    string `json:"label"`
	By       string `json:"by"`
}

// RecordingEvent is one audited pause/resume/start/stop.
type RecordingEvent struct {
	Action string    `json:"action"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// SupervisorAction is one audited supervisor step.
type SupervisorAction struct {
	ID             int64     `json:"id"`
	At             time.Time `json:"at"`
	SupervisorID   int64     `json:"supervisorId"`
	SupervisorName string    `json:"supervisorName"`
	AgentID        *int64    `json:"agentId"`
	InteractionID  string    `json:"interactionId"`
	Action         string    `json:"action"`
	Reason         string    `json:"reason"`
	Outcome        string    `json:"outcome"`
}

// ErrNotVisible is returned for calls outside the scope: the API answers
// 404, as for calls that do not exist.
var ErrNotVisible = &cti.Error{Kind: cti.KindNotFound, Msg: "no such call"}

// Detail loads one interaction with everything about it, if sc may see it.
func (h *History) Detail(ctx context.Context, sc Scope, id string) (InteractionDetail, error) {
	db := h.db.WithContext(ctx)
	where, args, _ := HistoryFilter{}.where(sc)
	var d struct {
		HistoryRow
		PlatformNumber, IvrText, Notes string
		QueuedAt, OfferedAt            *time.Time
	}
	q := `SELECT ` + historyColumns + `, i.platform_number, i.ivr_text, i.notes, i.queued_at, i.offered_at
		FROM interactions i LEFT JOIN campaigns c ON c.id = i.campaign_id LEFT JOIN users u ON u.id = i.agent_id
		WHERE i.id = ? AND ` + where
	res := db.Raw(q, append([]any{id}, args...)...).Scan(&d)
	if res.Error != nil {
		return InteractionDetail{}, res.Error
	}
	if res.RowsAffected == 0 || d.ID == "" {
		return InteractionDetail{}, ErrNotVisible
	}
	d.fix()
	out := InteractionDetail{HistoryRow: d.HistoryRow, PlatformNumber: d.PlatformNumber, IVRText: d.IvrText, Notes: d.Notes,
		QueuedAt: utcp(d.QueuedAt), OfferedAt: utcp(d.OfferedAt), Children: []HistoryRow{}, Legs: []LegView{},
		Transfers: []TransferRecord{}, Events: []EventView{}, AgentStates: []AgentStateChange{}, Payments: []PaymentOutcome{},
		Recordings: []RecordingDetail{}, Monitoring: []SupervisorAction{}}
	// The call and its children (the legs a transfer created) together.
	if err := db.Raw(`SELECT `+historyColumns+` FROM interactions i LEFT JOIN campaigns c ON c.id = i.campaign_id
		LEFT JOIN users u ON u.id = i.agent_id WHERE i.parent_id = ? ORDER BY i.created_at, i.id`, id).Scan(&out.Children).Error; err != nil {
		return out, err
	}
	ids := []string{id}
	for i := range out.Children {
		out.Children[i].fix()
		ids = append(ids, out.Children[i].ID)
	}
	var legs []struct {
		InteractionID, Role, Endpoint, Cause string
		AgentID                              *int64
		StartedAt                            time.Time
		AnsweredAt, EndedAt                  *time.Time
	}
	if err := db.Raw(`SELECT interaction_id, role, endpoint, cause, agent_id, started_at, answered_at, ended_at
		FROM interaction_legs WHERE interaction_id IN ? ORDER BY started_at, id`, ids).Scan(&legs).Error; err != nil {
		return out, err
	}
	for _, l := range legs {
		out.Legs = append(out.Legs, LegView{InteractionID: l.InteractionID, Role: l.Role, Endpoint: l.Endpoint, AgentID: l.AgentID,
			StartedAt: l.StartedAt.UTC(), AnsweredAt: utcp(l.AnsweredAt), EndedAt: utcp(l.EndedAt), Cause: l.Cause})
	}
	if err := db.Raw(`SELECT id, agent_id, mode, target_type, target, state, child_id, created_at, updated_at
		FROM transfers WHERE interaction_id IN ? ORDER BY created_at, id`, ids).Scan(&out.Transfers).Error; err != nil {
		return out, err
	}
	for i := range out.Transfers {
		out.Transfers[i].CreatedAt, out.Transfers[i].UpdatedAt = out.Transfers[i].CreatedAt.UTC(), out.Transfers[i].UpdatedAt.UTC()
	}
	var evs []struct {
		At                         time.Time
		FromState, ToState, Detail string
	}
	if err := db.Raw(`SELECT at, from_state, to_state, detail FROM interaction_events WHERE interaction_id = ? ORDER BY id`, id).Scan(&evs).Error; err != nil {
		return out, err
	}
	for _, e := range evs {
		out.Events = append(out.Events, EventView{At: e.At.UTC(), From: e.FromState, To: e.ToState, Detail: e.Detail})
	}
	var sts []struct {
		UserID                     int64
		At                         time.Time
		FromState, ToState, Reason string
	}
	if err := db.Raw(`SELECT user_id, at, from_state, to_state, reason FROM agent_state_history
		WHERE interaction_id IN ? ORDER BY at, id`, ids).Scan(&sts).Error; err != nil {
		return out, err
	}
	for _, s := range sts {
		out.AgentStates = append(out.AgentStates, AgentStateChange{UserID: s.UserID, At: s.At.UTC(), From: s.FromState, To: s.ToState, Reason: s.Reason})
	}
	// Only the outcome columns: the payments table holds no card data, and
	// this names its columns so a future one never leaks through here.
	if err := db.Raw(`SELECT id, reference, amount_minor, currency, card_brand, card_last4, approved, gateway_ref,
		decline_reason, created_at FROM payments WHERE interaction_id IN ? ORDER BY created_at, id`, ids).Scan(&out.Payments).Error; err != nil {
		return out, err
	}
	for i := range out.Payments {
		out.Payments[i].CreatedAt = out.Payments[i].CreatedAt.UTC()
	}
	if err := db.Raw(`SELECT a.id, a.at, a.supervisor_id, COALESCE(NULLIF(u.display_name, ''), u.username) AS supervisor_name,
		a.agent_id, a.interaction_id, a.action, a.reason, a.outcome FROM supervisor_actions a JOIN users u ON u.id = a.supervisor_id
		WHERE a.interaction_id IN ? ORDER BY a.at, a.id`, ids).Scan(&out.Monitoring).Error; err != nil {
		return out, err
	}
	for i := range out.Monitoring {
		out.Monitoring[i].At = out.Monitoring[i].At.UTC()
	}
	recs, err := h.recordings(ctx, id, out.Monitoring)
	if err != nil {
		return out, err
	}
	out.Recordings = recs
	return out, nil
}

// recordings loads a call's recordings with their timeline markers.
func (h *History) recordings(ctx context.Context, id string, mon []SupervisorAction) ([]RecordingDetail, error) {
	db := h.db.WithContext(ctx)
	var recs []struct {
		Name, State, Format string
		StartedAt, EndedAt  *time.Time
		DurationMs          int64
	}
	if err := db.Raw(`SELECT name, state, format, started_at, ended_at, duration_ms FROM recordings
		WHERE interaction_id = ? ORDER BY started_at NULLS LAST, name`, id).Scan(&recs).Error; err != nil {
		return nil, err
	}
	out := []RecordingDetail{}
	for _, r := range recs {
		rd := RecordingDetail{Name: r.Name, State: r.State, Format: r.Format, StartedAt: utcp(r.StartedAt), EndedAt: utcp(r.EndedAt),
			DurationMs: r.DurationMs, File: "/api/v1/recordings/" + r.Name + "/file", Markers: []RecordingMark{}, Events: []RecordingEvent{}}
		var bms []struct {
			OffsetMs int64
			Note     string
			By       *string
		}
		if err := db.Raw(`SELECT b.offset_ms, b.note, u.username AS by FROM bookmarks b LEFT JOIN users u ON u.id = b.user_id
			WHERE b.recording_name = ? ORDER BY b.offset_ms, b.id`, r.Name).Scan(&bms).Error; err != nil {
			return nil, err
		}
		for _, b := range bms {
			m := RecordingMark{Kind: "bookmark", OffsetMs: b.OffsetMs, Label: b.Note}
			if b.By != nil {
				m.By = *b.By
			}
			rd.Markers = append(rd.Markers, m)
		}
		var evs []struct {
			Action, Reason string
			By             *string
			At             time.Time
		}
		if err := db.Raw(`SELECT e.action, e.reason, u.username AS by, e.at FROM recording_events e LEFT JOIN users u ON u.id = e.user_id
			WHERE e.recording_name = ? ORDER BY e.at, e.id`, r.Name).Scan(&evs).Error; err != nil {
			return nil, err
		}
		for _, e := range evs {
			ev := RecordingEvent{Action: e.Action, Reason: e.Reason, At: e.At.UTC()}
			if e.By != nil {
				ev.By = *e.By
			}
			rd.Events = append(rd.Events, ev)
		}
		if r.StartedAt != nil {
			rd.Markers = append(rd.Markers, timelineMarks(*r.StartedAt, rd.Events, mon)...)
		}
		sortMarks(rd.Markers)
		out = append(out, rd)
	}
	return out, nil
}

// timelineMarks places pauses and monitoring steps on a recording's
// timeline. A paused recording stores nothing, so wall time maps to
// recording time by subtracting the paused stretches before it; a pause
// shows as one point where the audio jumps.
func timelineMarks(start time.Time, evs []RecordingEvent, mon []SupervisorAction) []RecordingMark {
	type stretch struct{ from, to time.Time }
	var paused []stretch
	var pausedAt *time.Time
	var out []RecordingMark
	for _, e := range evs {
		switch e.Action {
		case "pause":
			if pausedAt == nil {
				t := e.At
				pausedAt = &t
			}
		case "resume":
			if pausedAt != nil {
				paused = append(paused, stretch{*pausedAt, e.At})
				pausedAt = nil
			}
		}
	}
	offset := func(t time.Time) int64 {
		d := t.Sub(start)
		for _, p := range paused {
			switch {
			case !t.After(p.from):
			case t.Before(p.to):
				d -= t.Sub(p.from)
			default:
				d -= p.to.Sub(p.from)
			}
		}
		if pausedAt != nil && t.After(*pausedAt) {
			d -= t.Sub(*pausedAt)
		}
		return max(0, d.Milliseconds())
	}
	for _, p := range paused {
		label := fmt.Sprintf("recording paused for %s", p.to.Sub(p.from).Round(time.Second))
		out = append(out, RecordingMark{Kind: "pause", OffsetMs: offset(p.from), Label: label})
	}
	if pausedAt != nil {
		out = append(out, RecordingMark{Kind: "pause", OffsetMs: offset(*pausedAt), Label: "recording paused until the end"})
	}
	for _, m := range mon {
		if !strings.HasPrefix(m.Action, "monitor_") || m.At.Before(start) {
			continue
		}
		out = append(out, RecordingMark{Kind: "monitor", OffsetMs: offset(m.At), Label: monitorLabel(m.Action), By: m.SupervisorName})
	}
	return out
}

func monitorLabel(action string) string {
	switch action {
	case "monitor_listen":
		return "supervisor started listening"
	case "monitor_whisper":
		return "supervisor started whispering to the agent"
	case "monitor_barge":
		return "supervisor joined the call"
	case "monitor_stop":
		return "supervisor stopped monitoring"
	}
	return action
}

func sortMarks(m []RecordingMark) {
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && m[j].OffsetMs < m[j-1].OffsetMs; j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
}

// RecordSupervisorAction audits one supervisor step.
func RecordSupervisorAction(ctx context.Context, db *gorm.DB, a SupervisorAction) error {
	if a.Outcome == "" {
		a.Outcome = "ok"
	}
	return db.WithContext(ctx).Exec(`INSERT INTO supervisor_actions(at, supervisor_id, agent_id, interaction_id, action, reason, outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.At, a.SupervisorID, a.AgentID, a.InteractionID, a.Action, a.Reason, a.Outcome).Error
}

// IsNotVisible reports whether err means the call is not there for this user.
func IsNotVisible(err error) bool { return errors.Is(err, ErrNotVisible) }
