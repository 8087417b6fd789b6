package dialer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"gorm.io/gorm"
)

// Callback statuses.
const (
	CallbackPending   = "pending"
	CallbackOffered   = "offered"
	CallbackDone      = "done"
	CallbackCancelled = "cancelled"
)

// Callback is an arranged call back to a person, presented in preview mode
// when due: to its agent when they are Ready, else (after the campaign's
// grace period, or at once for a queue callback) to any Ready agent of the
// campaign, inside the calling window in the number's time zone.
type Callback struct {
	ID              int64      `json:"id"`
	CampaignID      int64      `json:"campaignId"`
	LeadID          *int64     `json:"leadId,omitempty"`
	Number          string     `json:"number"`
	Name            string     `json:"name"`
	TimeZone        string     `json:"timeZone"`
	DueAt           time.Time  `json:"dueAt"`
	AgentID         *int64     `json:"agentId,omitempty"` // nil: campaign queue
	CreatedBy       *int64     `json:"createdBy,omitempty"`
	FromInteraction *string    `json:"fromInteraction,omitempty"`
	Note            string     `json:"note"`
	Status          string     `json:"status"`
	OfferedTo       *int64     `json:"offeredTo,omitempty"`
	OfferedAt       *time.Time `json:"offeredAt,omitempty"`
	Attempts        int        `json:"attempts"`
	Outcome         string     `json:"outcome"`
	InteractionID   *string    `json:"interactionId,omitempty"`
	CreatedAt       time.Time  `json:"createdAt"`
	UpdatedAt       time.Time  `json:"updatedAt"`
}

const callbackCols = `id, campaign_id, lead_id, number, name, time_zone, due_at, agent_id, created_by, from_interaction,
	note, status, offered_to, offered_at, attempts, outcome, interaction_id, created_at, updated_at`

// CallbackRequest asks for a callback.
type CallbackRequest struct {
	CampaignID int64
	// Number in E.164 or national format (of the campaign's region).
	Number string
	Name   string
	DueAt  time.Time
	// AgentID 0 makes a queue callback (any agent of the campaign).
	AgentID int64
	// CreatedBy is the user arranging it (0: workflow or system).
	CreatedBy       int64
	LeadID          int64  // optional: the lead the callback continues
	FromInteraction string // optional: the call it was arranged on
	Note            string
}

// ValidationError is a callback request problem (the API's 422).
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string { return fmt.Sprintf("callback %s: %s", e.Field, e.Problem) }

func invalid(field, format string, a ...any) error {
	return &ValidationError{Field: field, Problem: fmt.Sprintf(format, a...)}
}

// ErrCallbackNotFound: no such callback.
var ErrCallbackNotFound = errors.New("dialer: callback not found")

// CreateCallback validates and stores a callback: the number must be a
// valid number (national ones read in the campaign's region) not on the
// do-not-call list, the due time in the future (at most a year) and inside
// the campaign's calling window in the number's time zone, the agent
// assigned to the campaign, the lead one of the campaign's. A lead with a
// callback is not dialled by the campaign meanwhile.
func (w *Worker) CreateCallback(ctx context.Context, req CallbackRequest) (Callback, error) {
	now := w.clock.Now()
	camp, err := w.loadCampaign(ctx, w.db, req.CampaignID)
	if errors.Is(err, ErrCampaignNotFound) {
		return Callback{}, invalid("campaignId", "campaign %d does not exist", req.CampaignID)
	}
	if err != nil {
		return Callback{}, err
	}
	s := &camp.Settings
	num, err := phonenumbers.Parse(strings.TrimSpace(req.Number), strings.ToUpper(camp.DefaultRegion))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return Callback{}, invalid("number", "%q is not a valid phone number (region %s)", req.Number, camp.DefaultRegion)
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if req.DueAt.IsZero() || !req.DueAt.After(now) {
		return Callback{}, invalid("dueAt", "must be in the future")
	}
	if req.DueAt.After(now.AddDate(1, 0, 0)) {
		return Callback{}, invalid("dueAt", "must be within a year")
	}
	if len(req.Name) > 200 || len(req.Note) > 2000 {
		return Callback{}, invalid("name", "name (200) or note (2000 characters) too long")
	}
	var leadTZ string
	if req.LeadID != 0 {
		var l struct {
			CampaignID int64
			TimeZone   string
		}
		res := w.db.WithContext(ctx).Raw(`SELECT campaign_id, time_zone FROM dialer_leads WHERE id = ?`, req.LeadID).Scan(&l)
		if res.Error != nil {
			return Callback{}, res.Error
		}
		if res.RowsAffected == 0 || l.CampaignID != req.CampaignID {
			return Callback{}, invalid("leadId", "lead %d is not a lead of campaign %d", req.LeadID, req.CampaignID)
		}
		leadTZ = l.TimeZone
	}
	loc := zoneOf(leadTZ, e164, s)
	if !s.CallingWindow.Contains(req.DueAt, loc) {
		return Callback{}, invalid("dueAt", "%s is outside the campaign's calling window %s in the number's time zone %s",
			req.DueAt.In(loc).Format("Mon 2006-01-02 15:04"), s.CallingWindow, loc)
	}
	if req.AgentID != 0 {
		var n int64
		if err := w.db.WithContext(ctx).Raw(`SELECT count(*) FROM campaign_agents WHERE campaign_id = ? AND user_id = ?`,
			req.CampaignID, req.AgentID).Scan(&n).Error; err != nil {
			return Callback{}, err
		}
		if n == 0 {
			return Callback{}, invalid("agentId", "agent %d is not on campaign %d", req.AgentID, req.CampaignID)
		}
	}
	if req.FromInteraction != "" {
		var n int64
		if err := w.db.WithContext(ctx).Raw(`SELECT count(*) FROM interactions WHERE id = ?`, req.FromInteraction).Scan(&n).Error; err != nil {
			return Callback{}, err
		}
		if n == 0 {
			return Callback{}, invalid("fromInteraction", "interaction %q does not exist", req.FromInteraction)
		}
	}
	if dnc, err := w.store.DNC(req.CampaignID).Contains(ctx, e164); err != nil {
		return Callback{}, err
	} else if dnc {
		return Callback{}, invalid("number", "%s is on the do-not-call list", e164)
	}
	var cb Callback
	err = w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(`INSERT INTO dialer_callbacks (campaign_id, lead_id, number, name, time_zone, due_at, agent_id,
				created_by, from_interaction, note, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+callbackCols,
			req.CampaignID, nullID(req.LeadID), e164, strings.TrimSpace(req.Name), loc.String(), req.DueAt, nullID(req.AgentID),
			nullID(req.CreatedBy), nullStr(req.FromInteraction), req.Note, now, now).Scan(&cb).Error; err != nil {
			return err
		}
		if req.LeadID != 0 {
			return tx.Exec(`UPDATE dialer_leads SET status = 'callback', updated_at = ? WHERE id = ?
				AND status IN ('new','retry','dialling','exhausted','skipped','done')`, now, req.LeadID).Error
		}
		return nil
	})
	return cb, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// StasisCallback is the dialplan's "Request a callback" workflow step: a
// queue callback on the campaign for number at when, which is RFC 3339
// ("2026-05-01T10:30:00+01:00"), a delay ("+2h", "90m"), or a local time
// of day "HH:MM" in the number's time zone (today, else tomorrow).
// interactionID (optional) is the inbound call it was requested on.
func (w *Worker) StasisCallback(ctx context.Context, campaignID int64, number, when, interactionID string) (Callback, error) {
	due, err := w.parseWhen(ctx, campaignID, number, when)
	if err != nil {
		return Callback{}, err
	}
	return w.CreateCallback(ctx, CallbackRequest{CampaignID: campaignID, Number: number, DueAt: due,
		FromInteraction: interactionID, Note: "requested in the IVR"})
}

func (w *Worker) parseWhen(ctx context.Context, campaignID int64, number, when string) (time.Time, error) {
	now := w.clock.Now()
	when = strings.TrimSpace(when)
	if t, err := time.Parse(time.RFC3339, when); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(when, "+")); err == nil && d > 0 {
		return now.Add(d), nil
	}
	if tod, err := parseClock(when); err == nil {
		camp, err := w.loadCampaign(ctx, w.db, campaignID)
		if err != nil {
			return time.Time{}, err
		}
		e164 := number
		if n, err := phonenumbers.Parse(number, strings.ToUpper(camp.DefaultRegion)); err == nil {
			e164 = phonenumbers.Format(n, phonenumbers.E164)
		}
		loc := zoneOf("", e164, &camp.Settings)
		lt := now.In(loc)
		t := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc).Add(tod)
		if !t.After(now) {
			t = time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc).Add(tod)
		}
		return t, nil
	}
	return time.Time{}, invalid("when", "%q is not a time (RFC 3339, a delay like +2h, or HH:MM)", when)
}

// GetCallback reads a callback.
func (w *Worker) GetCallback(ctx context.Context, id int64) (Callback, error) {
	var cb Callback
	res := w.db.WithContext(ctx).Raw(`SELECT `+callbackCols+` FROM dialer_callbacks WHERE id = ?`, id).Scan(&cb)
	if res.Error != nil {
		return cb, res.Error
	}
	if res.RowsAffected == 0 {
		return cb, ErrCallbackNotFound
	}
	return cb, nil
}

// CallbackFilter selects callbacks; zero fields match everything.
type CallbackFilter struct {
	CampaignID int64
	AgentID    int64 // the owning agent
	Status     string
	Limit      int // default 100, at most 1000
}

// ListCallbacks lists callbacks by due time.
func (w *Worker) ListCallbacks(ctx context.Context, f CallbackFilter) ([]Callback, error) {
	q := w.db.WithContext(ctx).Table("dialer_callbacks").Select(callbackCols)
	if f.CampaignID != 0 {
		q = q.Where("campaign_id = ?", f.CampaignID)
	}
	if f.AgentID != 0 {
		q = q.Where("agent_id = ?", f.AgentID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var out []Callback
	err := q.Order("due_at, id").Limit(f.Limit).Scan(&out).Error
	return out, err
}

// CancelCallback cancels a pending callback (an offered one can no longer
// be cancelled). Its lead, if any, goes back to dialling.
func (w *Worker) CancelCallback(ctx context.Context, id int64) error {
	now := w.clock.Now()
	return w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cb Callback
		res := tx.Raw(`UPDATE dialer_callbacks SET status = 'cancelled', updated_at = ? WHERE id = ? AND status = 'pending'
			RETURNING `+callbackCols, now, id).Scan(&cb)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if _, err := w.GetCallback(ctx, id); err != nil {
				return err
			}
			return invalid("status", "only a pending callback can be cancelled")
		}
		return releaseCallbackLead(tx, cb.LeadID, "retry", now)
	})
}

func releaseCallbackLead(tx *gorm.DB, leadID *int64, status string, now time.Time) error {
	if leadID == nil {
		return nil
	}
	return tx.Exec(`UPDATE dialer_leads SET status = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND status = 'callback'`,
		status, now, now, *leadID).Error
}

// dispatchCallbacks offers the campaign's due callbacks to free agents:
// the owner when free, anyone free once the grace period has passed (queue
// callbacks at once). It returns the agents given an offer.
func (w *Worker) dispatchCallbacks(ctx context.Context, st *campaignState, free []int64, now time.Time) (map[int64]bool, error) {
	used := map[int64]bool{}
	if len(free) == 0 {
		return used, nil
	}
	s := &st.info.Settings
	type pick struct {
		cb    Callback
		agent int64
	}
	var picks []pick
	err := w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var due []Callback
		if err := tx.Raw(`SELECT `+callbackCols+` FROM dialer_callbacks WHERE campaign_id = ? AND status = 'pending' AND due_at <= ?
			ORDER BY due_at, id LIMIT 100 FOR UPDATE SKIP LOCKED`, st.id, now).Scan(&due).Error; err != nil {
			return err
		}
		for _, cb := range due {
			if len(used) == len(free) {
				break
			}
			if !s.CallingWindow.Contains(now, zoneOf(cb.TimeZone, cb.Number, s)) {
				continue
			}
			agent := int64(0)
			if cb.AgentID != nil && slices.Contains(free, *cb.AgentID) && !used[*cb.AgentID] {
				agent = *cb.AgentID
			} else if cb.AgentID == nil || !now.Before(cb.DueAt.Add(s.CallbackGrace)) {
				for _, a := range free {
					if !used[a] {
						agent = a
						break
					}
				}
			}
			if agent == 0 {
				continue
			}
			if !w.reserve(agent, offer{campaignID: st.id, callbackID: cb.ID, until: now.Add(offerSpan(s))}, now) {
				continue
			}
			if err := tx.Exec(`UPDATE dialer_callbacks SET status = 'offered', offered_to = ?, offered_at = ?, updated_at = ? WHERE id = ?`,
				agent, now, now, cb.ID).Error; err != nil {
				w.release(agent)
				return err
			}
			used[agent] = true
			picks = append(picks, pick{cb, agent})
		}
		return nil
	})
	if err != nil {
		for _, p := range picks {
			w.release(p.agent)
		}
		return map[int64]bool{}, err
	}
	var errs []error
	for _, p := range picks {
		lead := Lead{Name: p.cb.Name, Phones: []string{p.cb.Number}, TimeZone: p.cb.TimeZone,
			Data: map[string]string{"callbackId": strconv.FormatInt(p.cb.ID, 10), "callbackDueAt": p.cb.DueAt.Format(time.RFC3339)}}
		if p.cb.LeadID != nil {
			lead.ID = *p.cb.LeadID
		}
		if p.cb.Note != "" {
			lead.Data["callbackNote"] = p.cb.Note
		}
		if err := w.eng.OfferPreview(ctx, p.agent, st.id, lead, callbackKey(p.cb.ID, p.cb.Attempts), s.PreviewTimeout); err != nil {
			w.log.Warn("dialer: callback offer refused", "callback", p.cb.ID, "agent", p.agent, "err", err)
			w.release(p.agent)
			delete(used, p.agent)
			errs = append(errs, w.db.WithContext(ctx).Exec(`UPDATE dialer_callbacks SET status = 'pending', offered_to = NULL,
				updated_at = ? WHERE id = ? AND status = 'offered'`, now, p.cb.ID).Error)
		}
	}
	return used, errors.Join(errs...)
}

// callbackOutcome records the outcome of a callback offered to the agent,
// if the outcome is one: answered ends it; skip, no answer, busy and
// failure put it back (owner first again) after the campaign's retry delay
// until maxAttempts dials, then it is done with that outcome.
func (w *Worker) callbackOutcome(ctx context.Context, o AttemptOutcome) (bool, error) {
	var handled bool
	err := w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cb Callback
		var res *gorm.DB
		if id, ok := parseCallbackKey(o.AttemptID); ok {
			res = tx.Raw(`SELECT `+callbackCols+` FROM dialer_callbacks WHERE id = ? AND status = 'offered' FOR UPDATE`, id).Scan(&cb)
		} else if o.AgentID != 0 && o.AttemptID == "" {
			// An outcome without an attempt id: the agent's offered callback.
			res = tx.Raw(`SELECT `+callbackCols+` FROM dialer_callbacks WHERE status = 'offered' AND offered_to = ? AND campaign_id = ?
				AND (? = '' OR number = ?) ORDER BY offered_at DESC LIMIT 1 FOR UPDATE`, o.AgentID, o.CampaignID, o.Number, o.Number).Scan(&cb)
		} else {
			return nil
		}
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		handled = true
		camp, err := w.loadCampaign(ctx, tx, cb.CampaignID)
		if err != nil && !isSettingsErr(err) {
			return err
		}
		s := &camp.Settings
		now := o.At
		attempts := cb.Attempts
		if o.Result != ResultSkipped && o.Result != ResultReturned {
			attempts++
		}
		status, due := CallbackPending, cb.DueAt
		switch o.Result {
		case ResultAnswered:
			status = CallbackDone
		case ResultReturned: // the agent paused: offered again as it was
			due = cb.DueAt
		case ResultSkipped:
			due = now.Add(s.RetryDelays[RetrySkipped])
		default:
			key := o.Result
			if _, ok := s.RetryDelays[key]; !ok {
				key = RetryFailed
			}
			due = now.Add(s.RetryDelays[key])
		}
		if status == CallbackPending && attempts >= s.MaxAttempts {
			status = CallbackDone
		}
		if err := tx.Exec(`UPDATE dialer_callbacks SET status = ?, due_at = ?, attempts = ?, outcome = ?, offered_to = NULL,
				interaction_id = COALESCE((SELECT id FROM interactions WHERE id = ?), interaction_id), updated_at = ? WHERE id = ?`,
			status, due, attempts, o.Result, o.InteractionID, now, cb.ID).Error; err != nil {
			return err
		}
		if status == CallbackDone {
			leadStatus := "done"
			if o.Result != ResultAnswered {
				leadStatus = "retry"
			}
			return releaseCallbackLead(tx, cb.LeadID, leadStatus, now)
		}
		return nil
	})
	return handled, err
}
