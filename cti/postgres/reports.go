package postgres

import (
	"context"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
)

// Reports are computed from the records ctid already keeps: interactions
// (calls, queue time, talk, hold, wrap), the agent state
// history (pause by reason, ready, occupancy) and the dialler's callbacks.
//
// Everything is first computed per 15-minute interval; a day is the sum of
// its intervals and a range total the sum of its days, so the totals are the
// same whichever way a report is asked for (API, page, CSV). A call counts in
// the interval it was answered in (agent figures) or arrived in (campaign
// figures); state time is split exactly at interval boundaries.

// ReportInterval is 15 minutes; days are UTC days.
const ReportInterval = 15 * time.Minute

// MaxReportRange bounds one report (a month and a bit).
const MaxReportRange = 62 * 24 * time.Hour

// AgentFigures are one agent's figures over one bucket.
type AgentFigures struct {
	Handled int64 `json:"handled"`
	// TalkMs is connected time less hold (so talk + hold + wrap is the
	// handle time).
	TalkMs int64 `json:"talkMs"`
	HoldMs int64 `json:"holdMs"`
	WrapMs int64 `json:"wrapMs"`
	// AHT (average handle time: talk + hold + wrap per call handled).
	AHTMs int64 `json:"ahtMs"`
	// Time by state from the state history.
	ReadyMs    int64            `json:"readyMs"`
	OnCallMs   int64            `json:"onCallMs"`
	OnWrapMs   int64            `json:"onWrapMs"`
	ReservedMs int64            `json:"reservedMs"`
	PausedMs   int64            `json:"pausedMs"`
	PauseByMs  map[string]int64 `json:"pauseByReasonMs"`
	LoggedInMs int64            `json:"loggedInMs"`
	// Occupancy is the share of available time spent on calls: (on call +
	// wrap) / (on call + wrap + ringing + ready); null with no such time.
	Occupancy *float64 `json:"occupancy"`
}

func (f *AgentFigures) add(g AgentFigures) {
	f.Handled += g.Handled
	f.TalkMs += g.TalkMs
	f.HoldMs += g.HoldMs
	f.WrapMs += g.WrapMs
	f.ReadyMs += g.ReadyMs
	f.OnCallMs += g.OnCallMs
	f.OnWrapMs += g.OnWrapMs
	f.ReservedMs += g.ReservedMs
	f.PausedMs += g.PausedMs
	f.LoggedInMs += g.LoggedInMs
	for k, v := range g.PauseByMs {
		if f.PauseByMs == nil {
			f.PauseByMs = map[string]int64{}
		}
		f.PauseByMs[k] += v
	}
}

// finish computes the derived figures from the sums.
func (f *AgentFigures) finish() {
	if f.PauseByMs == nil {
		f.PauseByMs = map[string]int64{}
	}
	f.AHTMs = 0
	if f.Handled > 0 {
		f.AHTMs = (f.TalkMs + f.HoldMs + f.WrapMs) / f.Handled
	}
	f.Occupancy = nil
	if avail := f.OnCallMs + f.OnWrapMs + f.ReservedMs + f.ReadyMs; avail > 0 {
		o := float64(f.OnCallMs+f.OnWrapMs) / float64(avail)
		f.Occupancy = &o
	}
}

// CampaignFigures are one campaign's figures over one bucket.
type CampaignFigures struct {
	Offered     int64 `json:"offered"`  // inbound calls that arrived
	Answered    int64 `json:"answered"` // ... and reached an agent
	InThreshold int64 `json:"answeredInThreshold"`
	Abandoned   int64 `json:"abandoned"` // ... ended before an agent answered
	QueueMsSum  int64 `json:"queueMsAnswered"`
	// ServiceLevel: answered within the threshold / (answered + abandoned).
	ServiceLevel *float64 `json:"serviceLevel"`
	ASAMs        *int64   `json:"asaMs"` // average speed of answer
	Dialled      int64    `json:"dialled"`
	Connected    int64    `json:"connected"` // outbound calls answered
	Callbacks    int64    `json:"callbacks"` // callbacks scheduled
}

func (f *CampaignFigures) add(g CampaignFigures) {
	f.Offered += g.Offered
	f.Answered += g.Answered
	f.InThreshold += g.InThreshold
	f.Abandoned += g.Abandoned
	f.QueueMsSum += g.QueueMsSum
	f.Dialled += g.Dialled
	f.Connected += g.Connected
	f.Callbacks += g.Callbacks
}

func (f *CampaignFigures) finish() {
	f.ServiceLevel, f.ASAMs = nil, nil
	if n := f.Answered + f.Abandoned; n > 0 {
		sl := float64(f.InThreshold) / float64(n)
		f.ServiceLevel = &sl
	}
	if f.Answered > 0 {
		a := f.QueueMsSum / f.Answered
		f.ASAMs = &a
	}
}

// AgentReportRow is one agent in one bucket (Start is the bucket's start).
type AgentReportRow struct {
	Start     time.Time `json:"start"`
	AgentID   int64     `json:"agentId"`
	AgentName string    `json:"agentName"`
	AgentFigures
}

// CampaignReportRow is one campaign in one bucket.
type CampaignReportRow struct {
	Start        time.Time `json:"start"`
	CampaignID   int64     `json:"campaignId"`
	CampaignName string    `json:"campaignName"`
	CampaignFigures
}

// ReportQuery selects a report.
type ReportQuery struct {
	From, To   time.Time // [From, To), aligned down/up to 15 minutes
	ByDay      bool      // days instead of 15-minute intervals
	CampaignID int64     // 0: every campaign in scope
	// Threshold for the service level (default 20 s).
	Threshold time.Duration
	Now       time.Time // open states end here (default time.Now)
}

func (q *ReportQuery) normalise() error {
	if q.From.IsZero() || q.To.IsZero() {
		return &cti.Error{Kind: cti.KindInvalid, Field: "from", Msg: "from and to are required"}
	}
	q.From = q.From.UTC().Truncate(ReportInterval)
	if t := q.To.UTC().Truncate(ReportInterval); t.Before(q.To) {
		q.To = t.Add(ReportInterval)
	} else {
		q.To = t
	}
	if !q.To.After(q.From) {
		return &cti.Error{Kind: cti.KindInvalid, Field: "to", Msg: "to must be after from"}
	}
	if q.To.Sub(q.From) > MaxReportRange {
		return &cti.Error{Kind: cti.KindInvalid, Field: "to", Msg: "a report covers at most 62 days"}
	}
	if q.Threshold <= 0 {
		q.Threshold = 20 * time.Second
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	return nil
}

// binWidth is the SQL bucket: a call falls in the day that holds its
// 15-minute interval, so grouping by day in SQL gives the same totals as
// adding the intervals up (and a month by day reads 6,000 groups, not
// 576,000).
func (q ReportQuery) binWidth() string {
	if q.ByDay {
		return "1 day"
	}
	return "15 minutes"
}

func (q ReportQuery) bucket(t time.Time) time.Time {
	if q.ByDay {
		return t.UTC().Truncate(24 * time.Hour)
	}
	return t.UTC().Truncate(ReportInterval)
}

// Reports computes agent and campaign reports.
type Reports struct{ db *gorm.DB }

func NewReports(db *gorm.DB) *Reports { return &Reports{db: db} }

type bucketKey struct {
	start time.Time
	id    int64
}

// Agents is the per-agent report: rows by bucket then agent, and the
// range total per agent.
func (r *Reports) Agents(ctx context.Context, sc Scope, q ReportQuery) (rows []AgentReportRow, totals []AgentReportRow, err error) {
	if err := q.normalise(); err != nil {
		return nil, nil, err
	}
	db := r.db.WithContext(ctx)
	// Which agents: in scope and (with a campaign filter) members of it.
	agentCond, args := "TRUE", []any{}
	switch {
	case sc.All:
	case sc.AgentID != 0:
		agentCond, args = "u.id = ?", append(args, sc.AgentID)
	case len(sc.Campaigns) > 0:
		agentCond, args = "u.id IN (SELECT user_id FROM campaign_agents WHERE campaign_id IN ?)", append(args, sc.Campaigns)
	default:
		agentCond = "FALSE"
	}
	if q.CampaignID != 0 {
		agentCond += " AND u.id IN (SELECT user_id FROM campaign_agents WHERE campaign_id = ?)"
		args = append(args, q.CampaignID)
	}
	var agents []struct {
		ID   int64
		Name string
	}
	if err := db.Raw(`SELECT u.id, COALESCE(NULLIF(u.display_name, ''), u.username) AS name FROM users u
		WHERE u.role IN ('agent','supervisor') AND `+agentCond+` ORDER BY name, u.id`, args...).Scan(&agents).Error; err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(agents))
	names := map[int64]string{}
	for i, a := range agents {
		ids[i], names[a.ID] = a.ID, a.Name
	}
	acc := map[bucketKey]*AgentFigures{}
	get := func(t time.Time, id int64) *AgentFigures {
		k := bucketKey{q.bucket(t), id}
		f := acc[k]
		if f == nil {
			f = &AgentFigures{}
			acc[k] = f
		}
		return f
	}
	if len(ids) > 0 {
		campCond, cargs := "", []any{}
		if q.CampaignID != 0 {
			campCond, cargs = " AND campaign_id = ?", []any{q.CampaignID}
		}
		// Calls, by the interval they were answered in.
		var calls []struct {
			AgentID                   int64
			Bucket                    time.Time
			N, TalkMs, WrapMs, HoldMs int64
		}
		err := db.Raw(`SELECT agent_id, date_bin('`+q.binWidth()+`', connected_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
				count(*) AS n,
				COALESCE(sum(EXTRACT(EPOCH FROM (ended_at - connected_at)) * 1000 - hold_ms) FILTER (WHERE ended_at IS NOT NULL), 0)::bigint AS talk_ms,
				COALESCE(sum(EXTRACT(EPOCH FROM (wrapped_at - ended_at)) * 1000) FILTER (WHERE wrapped_at IS NOT NULL AND ended_at IS NOT NULL), 0)::bigint AS wrap_ms,
				COALESCE(sum(hold_ms), 0)::bigint AS hold_ms
			FROM interactions i
			WHERE agent_id IN ? AND connected_at >= ? AND connected_at < ?`+campCond+`
			GROUP BY agent_id, bucket`, append([]any{ids, q.From, q.To}, cargs...)...).Scan(&calls).Error
		if err != nil {
			return nil, nil, err
		}
		for _, c := range calls {
			f := get(c.Bucket, c.AgentID)
			f.Handled += c.N
			f.TalkMs += c.TalkMs
			f.WrapMs += c.WrapMs
			f.HoldMs += c.HoldMs
		}
		// State time: each agent's state at From (their last change before
		// it) and every change in the range, split at interval boundaries.
		type change struct {
			UserID  int64
			At      time.Time
			ToState string
			Reason  string
		}
		var changes []change
		// Plain rows.Scan: a month of 200 agents is ~600,000 changes, too
		// many for gorm's reflection.
		sqlRows, err := db.Raw(`SELECT s.user_id, s.at, s.to_state, s.reason FROM (
				SELECT user_id, at, id, to_state, reason FROM agent_state_history WHERE user_id IN ? AND at >= ? AND at < ?
				UNION ALL
				SELECT l.user_id, l.at, l.id, l.to_state, l.reason FROM unnest(?::bigint[]) AS a(id)
				CROSS JOIN LATERAL (SELECT user_id, at, id, to_state, reason FROM agent_state_history h
					WHERE h.user_id = a.id AND h.at < ? ORDER BY h.at DESC, h.id DESC LIMIT 1) l
			) s ORDER BY s.user_id, s.at, s.id`, ids, q.From, q.To, int64Array(ids), q.From).Rows()
		if err != nil {
			return nil, nil, err
		}
		for sqlRows.Next() {
			var c change
			if err := sqlRows.Scan(&c.UserID, &c.At, &c.ToState, &c.Reason); err != nil {
				sqlRows.Close()
				return nil, nil, err
			}
			changes = append(changes, c)
		}
		sqlRows.Close()
		if err := sqlRows.Err(); err != nil {
			return nil, nil, err
		}
		end := tmin(q.To, q.Now)
		for i, ch := range changes {
			from := ch.At
			if from.Before(q.From) {
				from = q.From
			}
			to := end
			if i+1 < len(changes) && changes[i+1].UserID == ch.UserID {
				to = tmin(changes[i+1].At, end)
			}
			for t := from; t.Before(to); {
				next := tmin(t.Truncate(ReportInterval).Add(ReportInterval), to)
				ms := next.Sub(t).Milliseconds()
				f := get(t, ch.UserID)
				st := cti.AgentState(ch.ToState)
				if st != cti.AgentLoggedOut {
					f.LoggedInMs += ms
				}
				switch st {
				case cti.AgentReady:
					f.ReadyMs += ms
				case cti.AgentOnCall:
					f.OnCallMs += ms
				case cti.AgentOnWrap:
					f.OnWrapMs += ms
				case cti.AgentReserved:
					f.ReservedMs += ms
				case cti.AgentPaused:
					f.PausedMs += ms
					if f.PauseByMs == nil {
						f.PauseByMs = map[string]int64{}
					}
					reason := ch.Reason
					if reason == "" {
						reason = "(no reason)"
					}
					f.PauseByMs[reason] += ms
				}
				t = next
			}
		}
	}
	rows, totals = agentRows(q, acc, ids, names)
	return rows, totals, nil
}

func tmin(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// int64Array renders ids as a Postgres array literal (for unnest).
func int64Array(ids []int64) string {
	b := []byte{'{'}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, '}'))
}

func agentRows(q ReportQuery, acc map[bucketKey]*AgentFigures, ids []int64, names map[int64]string) ([]AgentReportRow, []AgentReportRow) {
	rows := []AgentReportRow{}
	sum := map[int64]*AgentFigures{}
	for k, f := range acc {
		row := AgentReportRow{Start: k.start, AgentID: k.id, AgentName: names[k.id], AgentFigures: *f}
		row.finish()
		rows = append(rows, row)
		if sum[k.id] == nil {
			sum[k.id] = &AgentFigures{}
		}
		sum[k.id].add(*f)
	}
	slices.SortFunc(rows, func(a, b AgentReportRow) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return compareName(a.AgentName, b.AgentName, a.AgentID, b.AgentID)
	})
	totals := []AgentReportRow{}
	for _, id := range ids {
		f := sum[id]
		if f == nil {
			f = &AgentFigures{}
		}
		t := AgentReportRow{Start: q.From, AgentID: id, AgentName: names[id], AgentFigures: *f}
		t.finish()
		totals = append(totals, t)
	}
	return rows, totals
}

func compareName(a, b string, ai, bi int64) int {
	if a != b {
		if a < b {
			return -1
		}
		return 1
	}
	return int(ai - bi)
}

// Campaigns is the per-campaign report.
func (r *Reports) Campaigns(ctx context.Context, sc Scope, q ReportQuery) (rows []CampaignReportRow, totals []CampaignReportRow, err error) {
	if err := q.normalise(); err != nil {
		return nil, nil, err
	}
	db := r.db.WithContext(ctx)
	cond, args := "TRUE", []any{}
	switch {
	case sc.All:
	case len(sc.Campaigns) > 0:
		cond, args = "c.id IN ?", append(args, sc.Campaigns)
	case sc.AgentID != 0:
		cond, args = "c.id IN (SELECT campaign_id FROM campaign_agents WHERE user_id = ?)", append(args, sc.AgentID)
	default:
		cond = "FALSE"
	}
	if q.CampaignID != 0 {
		cond += " AND c.id = ?"
		args = append(args, q.CampaignID)
	}
	var camps []struct {
		ID   int64
		Name string
	}
	if err := db.Raw(`SELECT c.id, c.name FROM campaigns c WHERE `+cond+` ORDER BY c.name, c.id`, args...).Scan(&camps).Error; err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(camps))
	names := map[int64]string{}
	for i, c := range camps {
		ids[i], names[c.ID] = c.ID, c.Name
	}
	acc := map[bucketKey]*CampaignFigures{}
	get := func(t time.Time, id int64) *CampaignFigures {
		k := bucketKey{q.bucket(t), id}
		f := acc[k]
		if f == nil {
			f = &CampaignFigures{}
			acc[k] = f
		}
		return f
	}
	if len(ids) > 0 {
		var calls []struct {
			CampaignID                                                             int64
			Bucket                                                                 time.Time
			Offered, Answered, InThreshold, Abandoned, QueueMs, Dialled, Connected int64
		}
		err := db.Raw(`SELECT campaign_id, date_bin('`+q.binWidth()+`', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
				count(*) FILTER (WHERE direction = 'IN') AS offered,
				count(*) FILTER (WHERE direction = 'IN' AND connected_at IS NOT NULL) AS answered,
				count(*) FILTER (WHERE direction = 'IN' AND connected_at IS NOT NULL AND queue_ms <= ?) AS in_threshold,
				count(*) FILTER (WHERE direction = 'IN' AND connected_at IS NULL AND ended_at IS NOT NULL) AS abandoned,
				COALESCE(sum(queue_ms) FILTER (WHERE direction = 'IN' AND connected_at IS NOT NULL), 0)::bigint AS queue_ms,
				count(*) FILTER (WHERE direction = 'OUT') AS dialled,
				count(*) FILTER (WHERE direction = 'OUT' AND connected_at IS NOT NULL) AS connected
			FROM interactions
			WHERE campaign_id IN ? AND parent_id IS NULL AND created_at >= ? AND created_at < ?
			GROUP BY campaign_id, bucket`, q.Threshold.Milliseconds(), ids, q.From, q.To).Scan(&calls).Error
		if err != nil {
			return nil, nil, err
		}
		for _, c := range calls {
			f := get(c.Bucket, c.CampaignID)
			f.Offered += c.Offered
			f.Answered += c.Answered
			f.InThreshold += c.InThreshold
			f.Abandoned += c.Abandoned
			f.QueueMsSum += c.QueueMs
			f.Dialled += c.Dialled
			f.Connected += c.Connected
		}
		var cbs []struct {
			CampaignID int64
			Bucket     time.Time
			N          int64
		}
		err = db.Raw(`SELECT campaign_id, date_bin('`+q.binWidth()+`', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, count(*) AS n
			FROM dialer_callbacks WHERE campaign_id IN ? AND created_at >= ? AND created_at < ? GROUP BY campaign_id, bucket`,
			ids, q.From, q.To).Scan(&cbs).Error
		if err != nil {
			return nil, nil, err
		}
		for _, c := range cbs {
			get(c.Bucket, c.CampaignID).Callbacks += c.N
		}
	}
	rows = []CampaignReportRow{}
	sum := map[int64]*CampaignFigures{}
	for k, f := range acc {
		row := CampaignReportRow{Start: k.start, CampaignID: k.id, CampaignName: names[k.id], CampaignFigures: *f}
		row.finish()
		rows = append(rows, row)
		if sum[k.id] == nil {
			sum[k.id] = &CampaignFigures{}
		}
		sum[k.id].add(*f)
	}
	slices.SortFunc(rows, func(a, b CampaignReportRow) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return compareName(a.CampaignName, b.CampaignName, a.CampaignID, b.CampaignID)
	})
	totals = []CampaignReportRow{}
	for _, id := range ids {
		f := sum[id]
		if f == nil {
			f = &CampaignFigures{}
		}
		t := CampaignReportRow{Start: q.From, CampaignID: id, CampaignName: names[id], CampaignFigures: *f}
		t.finish()
		totals = append(totals, t)
	}
	return rows, totals, nil
}
