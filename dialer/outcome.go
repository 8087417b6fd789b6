package dialer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/dialer/pacing"
	"github.com/ctid/ctid/dialer/store"
)

// HandleOutcome records an outcome synchronously (Outcome queues to it):
// the attempt in dialer_attempts, the lead's next step (done; retry after
// the outcome's delay; the lead's next number at once after no answer,
// busy or failure while the round has numbers left; exhausted at
// maxAttempts), the callback's, and the pacer's learning.
//
// preview_timeout_dialled is informational: the dial's own outcome
// follows.
func (w *Worker) HandleOutcome(ctx context.Context, o AttemptOutcome) error {
	if o.At.IsZero() {
		o.At = w.clock.Now()
	}
	if o.Result == ResultPreviewTimeoutDialled {
		w.log.Info("dialer: preview timed out, first number dialled", "campaign", o.CampaignID, "lead", o.LeadID, "agent", o.AgentID)
		return nil
	}
	if _, ours := parseAttemptKey(o.AttemptID); !ours {
		// A preview dial or skip: the agent's offer is answered.
		if o.AgentID != 0 {
			w.release(o.AgentID)
		}
		handled, err := w.callbackOutcome(ctx, o)
		if handled || err != nil {
			return err
		}
	}
	if o.LeadID == 0 {
		return nil
	}
	st, err := w.state(ctx, o.CampaignID, true)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	return w.leadOutcome(ctx, st, o)
}

type leadState struct {
	Phone1, Phone2, Phone3 string
	Attempts               int
	NextPhone              int
	Status                 string
}

func (w *Worker) leadOutcome(ctx context.Context, st *campaignState, o AttemptOutcome) error {
	s := &st.info.Settings
	now := o.At
	if o.Result == ResultSkipped && IsDoNotCall(o.Reason) {
		return w.skipDoNotCall(ctx, st.id, o)
	}
	if o.Result == ResultSkipped {
		return w.db.WithContext(ctx).Exec(`UPDATE dialer_leads SET status = 'retry', next_attempt_at = ?, last_outcome = 'skipped', updated_at = ?
			WHERE id = ? AND status = 'dialling'`, now.Add(s.RetryDelays[RetrySkipped]), now, o.LeadID).Error
	}
	if o.Result == ResultReturned {
		return w.db.WithContext(ctx).Exec(`UPDATE dialer_leads SET status = 'retry', next_attempt_at = ?, updated_at = ?
			WHERE id = ? AND status = 'dialling'`, now, now, o.LeadID).Error
	}
	outcome, ok := map[string]store.Outcome{
		ResultAnswered: store.OutcomeAnswered, ResultAbandoned: store.OutcomeAbandoned, ResultBusy: store.OutcomeBusy,
		ResultNoAnswer: store.OutcomeNoAnswer, ResultFailed: store.OutcomeFailed,
		ResultMachine: outcomeMachine, ResultMachineMessage: outcomeMachineMessage,
	}[o.Result]
	if !ok {
		return fmt.Errorf("dialer: unknown outcome result %q", o.Result)
	}
	attemptID, ours := parseAttemptKey(o.AttemptID)
	startedAt, ringing := st.inflight[o.AttemptID]
	delete(st.inflight, o.AttemptID)
	if ours && !ringing {
		var a struct{ StartedAt time.Time }
		if err := w.db.WithContext(ctx).Raw(`SELECT started_at FROM dialer_attempts WHERE id = ?`, attemptID).Scan(&a).Error; err != nil {
			return err
		}
		startedAt = a.StartedAt
	}
	if !ours {
		// A preview dial: the engine placed it, so it is recorded now.
		startedAt = now
		id, err := w.store.StartAttempt(ctx, store.Attempt{LeadID: o.LeadID, CampaignID: st.id, Number: o.Number, StartedAt: now})
		if err != nil {
			return err
		}
		attemptID = id
	}
	var l leadState
	if err := w.db.WithContext(ctx).Raw(`SELECT phone1, phone2, phone3, attempts, next_phone, status FROM dialer_leads WHERE id = ?`,
		o.LeadID).Scan(&l).Error; err != nil {
		return err
	}
	var phones []string
	for _, p := range []string{l.Phone1, l.Phone2, l.Phone3} {
		if p != "" {
			phones = append(phones, p)
		}
	}
	idx := l.NextPhone
	for i, p := range phones {
		if p == o.Number {
			idx = i
		}
	}
	status, next, nextPhone := "retry", (*time.Time)(nil), idx
	switch o.Result {
	case ResultAnswered:
		status = "done"
	case ResultAbandoned:
		next = ptr(now.Add(s.RetryDelays[RetryAbandoned]))
	case ResultMachineMessage:
		status = "done" // the message is the campaign's word to them
	case ResultMachine: // try again later, as after no answer
		next, nextPhone = ptr(now.Add(s.RetryDelays[RetryNoAnswer])), idx
	default: // no_answer, busy, failed: next number, else next round after the delay
		if idx+1 < len(phones) {
			next, nextPhone = ptr(now), idx+1
		} else {
			next, nextPhone = ptr(now.Add(s.RetryDelays[o.Result])), 0
		}
	}
	if status == "retry" && l.Attempts >= s.MaxAttempts {
		status, next = "exhausted", nil
	}
	if l.Status == "callback" {
		status = "callback" // a callback arranged meanwhile owns the lead
	}
	var answeredAt *time.Time
	if outcome == store.OutcomeAnswered || outcome == store.OutcomeAbandoned || outcome == outcomeMachine || outcome == outcomeMachineMessage {
		answeredAt = ptr(now) // the outcome time: the windows count by it
	}
	w.linkAttempt(ctx, attemptID, o)
	if o.AMD != "" {
		if err := w.db.WithContext(ctx).Exec(`UPDATE dialer_attempts SET amd_status = ? WHERE id = ?`, o.AMD, attemptID).Error; err != nil {
			return err
		}
	}
	if err := w.store.EndAttempt(ctx, attemptID, outcome, answeredAt, now, status, next); err != nil {
		return err
	}
	if err := w.db.WithContext(ctx).Exec(`UPDATE dialer_leads SET next_phone = ? WHERE id = ?`, nextPhone, o.LeadID).Error; err != nil {
		return err
	}
	if lr, ok := st.pacer.(pacing.Learner); ok && ours {
		switch outcome {
		case store.OutcomeAnswered, store.OutcomeAbandoned:
			lr.Observe(pacing.Event{Kind: pacing.Answered, At: now, Duration: now.Sub(startedAt)})
			if outcome == store.OutcomeAbandoned {
				lr.Observe(pacing.Event{Kind: pacing.Abandoned, At: now})
			}
		default: // a machine verdict too: resolved without an agent
			lr.Observe(pacing.Event{Kind: pacing.Failed, At: now, Duration: now.Sub(startedAt)})
		}
	}
	return nil
}

// Outcomes of a machine verdict (migration 0320).
const (
	outcomeMachine        store.Outcome = "machine"
	outcomeMachineMessage store.Outcome = "machine_message"
)

// linkAttempt records the agent and interaction of an attempt; the
// interaction row may not be written yet (the engine writes
// asynchronously), so a missing one is left out.
func (w *Worker) linkAttempt(ctx context.Context, attemptID int64, o AttemptOutcome) {
	if o.AgentID == 0 && o.InteractionID == "" {
		return
	}
	err := w.db.WithContext(ctx).Exec(`UPDATE dialer_attempts SET
			agent_id = COALESCE((SELECT id FROM users WHERE id = ?), agent_id),
			interaction_id = COALESCE((SELECT id FROM interactions WHERE id = ?), interaction_id)
		WHERE id = ?`, o.AgentID, o.InteractionID, attemptID).Error
	if err != nil && !errors.Is(err, context.Canceled) {
		w.log.Warn("dialer: linking attempt", "attempt", attemptID, "err", err)
	}
}

// IsDoNotCall reports whether a preview skip reason asks for the number
// never to be called again.
func IsDoNotCall(reason string) bool {
	r := strings.ToLower(strings.Join(strings.Fields(reason), " "))
	return r == "do not call" || r == "dnc" || r == "do-not-call"
}

// skipDoNotCall puts every number of a skipped lead on its campaign's
// do-not-call list, recording the reason, the agent and the time, and
// closes the lead as dnc.
func (w *Worker) skipDoNotCall(ctx context.Context, campaignID int64, o AttemptOutcome) error {
	return w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var l struct{ Phone1, Phone2, Phone3 string }
		if err := tx.Raw(`SELECT phone1, phone2, phone3 FROM dialer_leads WHERE id = ?`, o.LeadID).Scan(&l).Error; err != nil {
			return err
		}
		for _, n := range []string{l.Phone1, l.Phone2, l.Phone3} {
			if n == "" {
				continue
			}
			if err := tx.Exec(`INSERT INTO dialer_dnc(number, campaign_id, reason, added_by, added_at)
				VALUES (?, ?, ?, COALESCE((SELECT username FROM users WHERE id = ?), ''), ?)
				ON CONFLICT (number, COALESCE(campaign_id, 0)) DO NOTHING`, n, campaignID, "Do not call (preview skip)", o.AgentID, o.At).Error; err != nil {
				return err
			}
		}
		return tx.Exec(`UPDATE dialer_leads SET status = 'dnc', last_outcome = 'skipped', next_attempt_at = NULL, updated_at = ?
			WHERE id = ?`, o.At, o.LeadID).Error
	})
}
