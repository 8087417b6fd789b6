package dialer

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/dialer/pacing"
	"github.com/ctid/ctid/dialer/store"
)

// What a regulator checks, computed from dialer_attempts: the abandon rate
// of a campaign over 24 hours (UK Ofcom's persistent-misuse policy) and
// over 30 days (US FTC Telemarketing Sales Rule), counting AMD false
// positives as abandoned (Ofcom: an estimate of them, from the campaign's
// amd.falsePositiveShare of its machine verdicts).

// Windows of the compliance report.
const (
	OfcomWindow = 24 * time.Hour
	TSRWindow   = 30 * 24 * time.Hour
)

// AbandonWindow is one window's abandon rate as a regulator counts it.
type AbandonWindow struct {
	Window    string    `json:"window"` // "24h" or "30d"
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Answered  int       `json:"answered"`  // answered by a person as far as the dialler can tell
	Abandoned int       `json:"abandoned"` // of those, no agent within 2 s
	// Machines are AMD machine verdicts; EstimatedFalsePositives the share
	// of them taken for people, counted answered and abandoned.
	Machines                int     `json:"machines"`
	EstimatedFalsePositives float64 `json:"estimatedFalsePositives"`
	Rate                    float64 `json:"rate"` // (abandoned + fp) / (answered + fp)
	Cap                     float64 `json:"cap"`
	AtCap                   bool    `json:"atCap"`
}

// ComplianceReport is a campaign's abandon figures.
type ComplianceReport struct {
	CampaignID int64  `json:"campaignId"`
	Name       string `json:"name"`
	Mode       Mode   `json:"mode"`
	AMD        bool   `json:"amd"`
	// FalsePositiveShare is the AMD estimate used.
	FalsePositiveShare float64       `json:"falsePositiveShare"`
	Day                AbandonWindow `json:"day"`   // Ofcom, 24 h
	Month              AbandonWindow `json:"month"` // TSR, 30 days
	// Progressive is true when a predictive campaign dials progressively
	// because a window is at its cap (it does so on its own until the
	// rate falls back under).
	Progressive bool `json:"progressive"`
	// MaxDailyAttemptsPerNumber is the campaign's per-number cap (0: none).
	MaxDailyAttemptsPerNumber int `json:"maxDailyAttemptsPerNumber"`
}

// abandonWindow counts the campaign's attempts with an outcome in
// (now−span, now], by outcome time.
func abandonWindow(ctx context.Context, db *gorm.DB, campaignID int64, span time.Duration, now time.Time, s *Settings) (AbandonWindow, error) {
	var c struct{ A, B, M int }
	err := db.WithContext(ctx).Raw(`SELECT
			count(*) FILTER (WHERE outcome IN ('answered','abandoned')) AS a,
			count(*) FILTER (WHERE outcome = 'abandoned') AS b,
			count(*) FILTER (WHERE outcome IN ('machine','machine_message')) AS m
		FROM dialer_attempts WHERE campaign_id = ? AND answered_at > ? AND answered_at <= ?`,
		campaignID, now.Add(-span), now).Scan(&c).Error
	w := AbandonWindow{Window: "24h", From: now.Add(-span), To: now, Answered: c.A, Abandoned: c.B, Machines: c.M, Cap: s.MaxAbandonRate}
	if span == TSRWindow {
		w.Window = "30d"
	}
	fp := 0.0
	if s.AMD.Enabled || c.M > 0 {
		fp = s.AMD.FalsePositiveShare
	}
	ans, ab := pacing.Tally{Answered: c.A, Abandoned: c.B, Machines: c.M}.Rates(fp)
	w.EstimatedFalsePositives = fp * float64(c.M)
	if ans > 0 {
		w.Rate = ab / ans
	}
	w.AtCap = ans > 0 && w.Rate >= w.Cap
	return w, err
}

// Compliance reports a campaign's abandon rates over 24 hours and 30 days.
func (w *Worker) Compliance(ctx context.Context, campaignID int64) (ComplianceReport, error) {
	info, err := w.loadCampaign(ctx, w.db, campaignID)
	if err != nil && !isSettingsErr(err) {
		return ComplianceReport{}, err
	}
	return compliance(ctx, w.db, info, w.clock.Now())
}

func compliance(ctx context.Context, db *gorm.DB, info campaignInfo, now time.Time) (ComplianceReport, error) {
	s := &info.Settings
	r := ComplianceReport{CampaignID: info.ID, Name: info.Name, Mode: s.Mode, AMD: s.AMD.Enabled,
		FalsePositiveShare: s.AMD.FalsePositiveShare, MaxDailyAttemptsPerNumber: s.MaxDailyAttemptsPerNumber}
	var err error
	if r.Day, err = abandonWindow(ctx, db, info.ID, OfcomWindow, now, s); err != nil {
		return r, err
	}
	if r.Month, err = abandonWindow(ctx, db, info.ID, TSRWindow, now, s); err != nil {
		return r, err
	}
	r.Progressive = s.Mode == Predictive && (r.Day.AtCap || r.Month.AtCap)
	return r, nil
}

type monthState struct {
	read  time.Time
	atCap bool
}

// atMonthCap reports whether the campaign's 30-day abandon rate has reached
// its cap: the worker then dials it progressively whatever its pacer says.
func (w *Worker) atMonthCap(ctx context.Context, st *campaignState, now time.Time) bool {
	// Read at most once a minute: the 30-day count is not cheap. (The
	// pacer guards the 24-hour window itself.)
	if m := st.month; !m.read.IsZero() && now.Sub(m.read) < time.Minute && !now.Before(m.read) {
		return m.atCap
	}
	win, err := abandonWindow(ctx, w.db, st.id, TSRWindow, now, &st.info.Settings)
	if err != nil {
		w.log.Warn("dialer: reading the 30-day abandon rate", "campaign", st.id, "err", err)
		return st.month.atCap
	}
	if win.AtCap && !st.month.atCap {
		w.log.Warn("dialer: 30-day abandon rate at the cap; dialling progressively", "campaign", st.id, "rate", win.Rate)
	}
	st.month = monthState{read: now, atCap: win.AtCap}
	return win.AtCap
}

// dailyCap drops claimed leads whose number has been dialled
// MaxDailyAttemptsPerNumber times today (the campaign's zone, every
// campaign's attempts counted): they are given back for tomorrow.
func (w *Worker) dailyCap(ctx context.Context, st *campaignState, leads []claimedLead, now time.Time) ([]claimedLead, error) {
	s := &st.info.Settings
	if s.MaxDailyAttemptsPerNumber <= 0 || len(leads) == 0 {
		return leads, nil
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	lt := now.In(loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	nums := make([]string, len(leads))
	for i, l := range leads {
		nums[i] = l.Number
	}
	var rows []struct {
		Number string
		N      int
	}
	if err := w.db.WithContext(ctx).Raw(`SELECT number, count(*) AS n FROM dialer_attempts
		WHERE number = ANY(CAST(? AS text[])) AND started_at >= ? GROUP BY number`, store.TextArray(nums), midnight).Scan(&rows).Error; err != nil {
		return leads, fmt.Errorf("counting today's attempts: %w", err)
	}
	today := map[string]int{}
	for _, r := range rows {
		today[r.Number] = r.N
	}
	out := leads[:0]
	tomorrow := midnight.AddDate(0, 0, 1)
	var errs []error
	for _, l := range leads {
		if today[l.Number] >= s.MaxDailyAttemptsPerNumber {
			errs = append(errs, w.db.WithContext(ctx).Exec(`UPDATE dialer_leads SET status = 'retry', next_attempt_at = ?, updated_at = ?
				WHERE id = ? AND status = 'dialling'`, tomorrow, now, l.ID).Error)
			continue
		}
		today[l.Number]++
		out = append(out, l)
	}
	for _, e := range errs {
		if e != nil {
			return out, e
		}
	}
	return out, nil
}
