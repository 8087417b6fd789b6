package dialer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"gorm.io/gorm"

	"github.com/ctid/ctid/dialer/pacing"
	"github.com/ctid/ctid/dialer/store"
)

// Config configures a Worker.
type Config struct {
	DB     *gorm.DB // migrated
	Engine Engine
	Clock  Clock        // default wall clock
	Logger *slog.Logger // default slog.Default()
	// TickSpec is the cron spec of each outbound campaign's job (default
	// "@every 2s"); MinuteSpec that of the callback/housekeeping job
	// (default "0 * * * * *"). Specs have a seconds field.
	TickSpec, MinuteSpec string
	// NewPacer builds a campaign's pacer for its mode (default:
	// pacing.Predictive for predictive, pacing.Progressive for progressive).
	NewPacer func(campaignID int64, s Settings) pacing.Pacer
	// StaleAfter releases leads left "dialling" and callbacks left
	// "offered" without an outcome for this long (default 30 min), e.g.
	// after a crash between claiming and dialling. Leads whose number is on
	// a call that has not ended are kept (preview outcomes come at the end
	// of the call).
	StaleAfter time.Duration
	// MaxPerTick caps the calls a campaign places in one tick (default 50).
	MaxPerTick int
}

// Worker is the live dialler. Create with New, run with Start, stop with
// Stop; give Outcome to the engine (cti.Options.Outcome).
type Worker struct {
	cfg   Config
	db    *gorm.DB
	eng   Engine
	clock Clock
	log   *slog.Logger
	store *store.Store

	mu     sync.Mutex
	camps  map[int64]*campaignState
	offers map[int64]offer // agent id → outstanding preview offer

	cron     *cron.Cron
	entries  map[int64]cron.EntryID
	omu      sync.RWMutex // guards outcomes (set by Start, closed by Stop)
	outcomes chan AttemptOutcome
	stopped  chan struct{}
	runCtx   context.Context
	cancel   context.CancelFunc
}

type offer struct {
	campaignID int64
	leadID     int64
	callbackID int64
	until      time.Time
}

// campaignState is one campaign's in-memory dialling state; its mutex
// serialises the campaign's ticks and outcomes.
type campaignState struct {
	mu       sync.Mutex
	id       int64
	info     campaignInfo
	mode     Mode
	pacer    pacing.Pacer
	inflight map[string]time.Time // attempt id → dialled at
	learnTo  time.Time            // interactions wrapped up to here were learnt
	last     Decision
	zones    []string   // valid time zones of the campaign's leads
	zonesAt  time.Time  // when zones was read (wall clock)
	month    monthState // the 30-day abandon rate's last reading (compliance.go)
}

// Decision is a campaign's last pacing decision (for tests and metrics).
type Decision struct {
	At       time.Time
	Pacer    string
	Snapshot pacing.Snapshot
	Dial     int // what the pacer asked for
	Dialled  int // calls actually placed (fewer when leads ran out)
}

type campaignInfo struct {
	ID             int64
	Name           string
	Kind           string
	PlatformNumber string
	DefaultRegion  string
	SettingsText   string   `gorm:"column:settings"`
	Settings       Settings `gorm:"-"`
}

// ErrCampaignNotFound: no such campaign.
var ErrCampaignNotFound = errors.New("dialer: campaign not found")

// New makes a worker; it does nothing until Start (or its Tick functions are
// called).
func New(cfg Config) (*Worker, error) {
	if cfg.DB == nil || cfg.Engine == nil {
		return nil, errors.New("dialer: Config needs DB and Engine")
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TickSpec == "" {
		cfg.TickSpec = "@every 2s"
	}
	if cfg.MinuteSpec == "" {
		cfg.MinuteSpec = "0 * * * * *"
	}
	if cfg.NewPacer == nil {
		cfg.NewPacer = DefaultPacer
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 30 * time.Minute
	}
	if cfg.MaxPerTick <= 0 {
		cfg.MaxPerTick = 50
	}
	for _, spec := range []string{cfg.TickSpec, cfg.MinuteSpec} {
		if _, err := cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor).Parse(spec); err != nil {
			return nil, fmt.Errorf("dialer: cron spec %q: %w", spec, err)
		}
	}
	return &Worker{
		cfg: cfg, db: cfg.DB, eng: cfg.Engine, clock: cfg.Clock, log: cfg.Logger.With("component", "dialer"),
		store:  store.New(cfg.DB),
		camps:  map[int64]*campaignState{},
		offers: map[int64]offer{},
	}, nil
}

// DefaultPacer is ctid's pacer for a mode: pacing.Predictive (which is
// progressive until it has learnt enough, and whenever the abandon cap is
// at risk) or pacing.Progressive.
func DefaultPacer(_ int64, s Settings) pacing.Pacer {
	if s.Mode == Predictive {
		return &pacing.Predictive{}
	}
	return pacing.Progressive{}
}

// Start schedules the cron jobs (a tick per active outbound campaign and
// the minute job) and the outcome loop. ctx bounds the jobs' work; Stop
// ends them.
func (w *Worker) Start(ctx context.Context) error {
	if w.cron != nil {
		return errors.New("dialer: already started")
	}
	w.runCtx, w.cancel = context.WithCancel(ctx)
	logger := cronLogger{w.log}
	w.cron = cron.New(cron.WithSeconds(), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	w.entries = map[int64]cron.EntryID{}
	w.omu.Lock()
	w.outcomes = make(chan AttemptOutcome, 4096)
	w.omu.Unlock()
	w.stopped = make(chan struct{})
	if _, err := w.cron.AddFunc(w.cfg.MinuteSpec, func() {
		if err := w.Minute(w.runCtx); err != nil && w.runCtx.Err() == nil {
			w.log.Error("dialer minute job", "err", err)
		}
	}); err != nil {
		return err
	}
	if err := w.syncCampaigns(w.runCtx); err != nil {
		w.log.Error("dialer: listing campaigns", "err", err)
	}
	go w.outcomeLoop()
	w.cron.Start()
	return nil
}

// Stop stops the cron jobs, waits for running ones, and drains outcomes
// already received.
func (w *Worker) Stop() {
	if w.cron == nil {
		return
	}
	<-w.cron.Stop().Done()
	w.omu.Lock()
	close(w.outcomes)
	w.outcomes = nil
	w.omu.Unlock()
	<-w.stopped
	w.cancel()
}

// Outcome receives the engine's attempt outcomes (cti.Options.Outcome). It
// never blocks the engine: outcomes are recorded by the worker's own
// goroutine, in order (before Start, after Stop or when the queue is full,
// by a goroutine of their own).
func (w *Worker) Outcome(o AttemptOutcome) {
	w.omu.RLock()
	defer w.omu.RUnlock()
	if w.outcomes != nil {
		select {
		case w.outcomes <- o:
			return
		default:
		}
	}
	go w.handleLogged(context.Background(), o)
}

func (w *Worker) outcomeLoop() {
	defer close(w.stopped)
	w.omu.RLock()
	ch := w.outcomes
	w.omu.RUnlock()
	for o := range ch {
		w.handleLogged(context.WithoutCancel(w.runCtx), o)
	}
}

func (w *Worker) handleLogged(ctx context.Context, o AttemptOutcome) {
	if err := w.HandleOutcome(ctx, o); err != nil {
		w.log.Error("dialer: recording outcome", "attempt", o.AttemptID, "lead", o.LeadID, "result", o.Result, "err", err)
	}
}

// syncCampaigns keeps one cron job per active outbound campaign.
func (w *Worker) syncCampaigns(ctx context.Context) error {
	var rows []campaignInfo
	if err := w.db.WithContext(ctx).Raw(`SELECT id, name, kind, platform_number, default_region, settings::text AS settings
		FROM campaigns WHERE kind = 'outbound' ORDER BY id`).Scan(&rows).Error; err != nil {
		return err
	}
	want := map[int64]bool{}
	for _, r := range rows {
		s, err := ParseSettings([]byte(r.SettingsText), r.DefaultRegion)
		if err != nil {
			w.log.Warn("dialer: campaign not dialled: bad settings", "campaign", r.ID, "err", err)
			continue
		}
		if s.Active {
			want[r.ID] = true
		}
	}
	for id, e := range w.entries {
		if !want[id] {
			w.cron.Remove(e)
			delete(w.entries, id)
		}
	}
	for id := range want {
		if _, ok := w.entries[id]; ok {
			continue
		}
		e, err := w.cron.AddFunc(w.cfg.TickSpec, func() {
			if err := w.TickCampaign(w.runCtx, id); err != nil && w.runCtx.Err() == nil {
				w.log.Error("dialer tick", "campaign", id, "err", err)
			}
		})
		if err != nil {
			return err
		}
		w.entries[id] = e
	}
	return nil
}

// loadCampaign reads a campaign and its dialler settings.
func (w *Worker) loadCampaign(ctx context.Context, db *gorm.DB, id int64) (campaignInfo, error) {
	var c campaignInfo
	res := db.WithContext(ctx).Raw(`SELECT id, name, kind, platform_number, default_region, settings::text AS settings
		FROM campaigns WHERE id = ?`, id).Scan(&c)
	if res.Error != nil {
		return c, res.Error
	}
	if res.RowsAffected == 0 {
		return c, ErrCampaignNotFound
	}
	s, err := ParseSettings([]byte(c.SettingsText), c.DefaultRegion)
	if err != nil {
		// The defaults, for callers that must go on (recording outcomes).
		c.Settings, _ = parseDialer(nil, c.DefaultRegion)
		return c, fmt.Errorf("campaign %d: %w", id, err)
	}
	c.Settings = s
	return c, nil
}

func isSettingsErr(err error) bool {
	var es SettingsErrors
	return errors.As(err, &es)
}

// state returns the campaign's state, refreshed from the database (so
// settings edits apply on the next tick), locked.
//
// With lenient, settings made invalid by an edit do not stop the caller
// (recording outcomes): the last good settings apply, else the defaults.
func (w *Worker) state(ctx context.Context, id int64, lenient bool) (*campaignState, error) {
	info, err := w.loadCampaign(ctx, w.db, id)
	if err != nil && !(lenient && isSettingsErr(err)) {
		return nil, err
	}
	w.mu.Lock()
	st := w.camps[id]
	if st == nil {
		st = &campaignState{id: id, inflight: map[string]time.Time{}}
		w.camps[id] = st
	}
	w.mu.Unlock()
	st.mu.Lock()
	if err != nil && st.info.ID == id {
		info.Settings = st.info.Settings
	}
	st.info = info
	if st.pacer == nil || st.mode != info.Settings.Mode {
		st.mode = info.Settings.Mode
		st.pacer = nil
		if info.Settings.Mode != Preview {
			st.pacer = w.cfg.NewPacer(id, info.Settings)
			w.warmUp(ctx, st)
		}
	}
	return st, nil
}

// LastDecision returns the campaign's last pacing decision.
func (w *Worker) LastDecision(campaignID int64) (Decision, bool) {
	w.mu.Lock()
	st := w.camps[campaignID]
	w.mu.Unlock()
	if st == nil {
		return Decision{}, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.last, !st.last.At.IsZero()
}

// TickCampaign is one campaign's job: offer due callbacks, then preview
// leads to free agents or place the calls the pacer asks for.
func (w *Worker) TickCampaign(ctx context.Context, id int64) error {
	st, err := w.state(ctx, id, false)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	now := w.clock.Now()
	s := &st.info.Settings
	load, err := w.eng.CampaignLoad(ctx, id)
	if err != nil {
		return fmt.Errorf("campaign %d load: %w", id, err)
	}
	free := w.freeAgents(load.Ready, now)
	used, err := w.dispatchCallbacks(ctx, st, free, now)
	if err != nil {
		w.log.Error("dialer: callbacks", "campaign", id, "err", err)
	}
	free = slices.DeleteFunc(free, func(a int64) bool { return used[a] })
	if st.info.Kind != "outbound" || !s.Active {
		return nil
	}
	if s.Mode == Preview {
		return w.previewTick(ctx, st, free, now)
	}
	return w.pacedTick(ctx, st, load, len(used), now)
}

// freeAgents are the Ready agents without an outstanding offer (expired
// offers are dropped).
func (w *Worker) freeAgents(ready []int64, now time.Time) []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int64
	for _, a := range ready {
		if o, ok := w.offers[a]; ok {
			if now.Before(o.until) {
				continue
			}
			delete(w.offers, a)
		}
		out = append(out, a)
	}
	return out
}

// reserve records an offer to an agent unless one is outstanding.
func (w *Worker) reserve(agent int64, o offer, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur, ok := w.offers[agent]; ok && now.Before(cur.until) {
		return false
	}
	w.offers[agent] = o
	return true
}

func (w *Worker) release(agent int64) {
	w.mu.Lock()
	delete(w.offers, agent)
	w.mu.Unlock()
}

// offerSpan is how long an offer keeps its agent reserved without an
// outcome: the preview timeout plus a full ring plus margin.
func offerSpan(s *Settings) time.Duration {
	return s.PreviewTimeout + time.Duration(s.RingSeconds)*time.Second + 30*time.Second
}

func (w *Worker) previewTick(ctx context.Context, st *campaignState, free []int64, now time.Time) error {
	if len(free) == 0 {
		return nil
	}
	s := &st.info.Settings
	leads, err := w.claimLeads(ctx, st, len(free), now)
	if err != nil {
		return err
	}
	var errs []error
	for i, l := range leads {
		agent := free[i]
		if !w.reserve(agent, offer{campaignID: st.id, leadID: l.ID, until: now.Add(offerSpan(s))}, now) {
			errs = append(errs, w.unclaim(ctx, l.ID, now))
			continue
		}
		if err := w.eng.OfferPreview(ctx, agent, st.id, l.engineLead(), previewKey(l.ID, now), s.PreviewTimeout); err != nil {
			w.release(agent)
			w.log.Warn("dialer: preview offer refused", "campaign", st.id, "agent", agent, "lead", l.ID, "err", err)
			errs = append(errs, w.unclaim(ctx, l.ID, now))
		}
	}
	return errors.Join(errs...)
}

// pacedTick asks the pacer and dials.
func (w *Worker) pacedTick(ctx context.Context, st *campaignState, load CampaignLoad, offered int, now time.Time) error {
	s := &st.info.Settings
	w.learnHandles(ctx, st, now)
	snap, err := w.snapshot(ctx, st, load, offered, now)
	if err != nil {
		return err
	}
	n := st.pacer.Decide(&snap)
	// With the cap at risk the calls go out without AMD (its false
	// positives count as abandoned and only not detecting stops them).
	amd := s.AMD.Enabled
	if r, ok := st.pacer.(pacing.Restrainer); ok && r.Restrained() {
		amd = false
	}
	if s.Mode == Predictive && w.atMonthCap(ctx, st, now) {
		// The US 30-day window at the cap: progressive until it recovers.
		n, amd = pacing.Progressive{}.Decide(&snap), false
	}
	st.last = Decision{At: now, Pacer: st.pacer.Name(), Snapshot: snap, Dial: n}
	n = min(n, w.cfg.MaxPerTick)
	if n <= 0 {
		return nil
	}
	leads, err := w.claimLeads(ctx, st, n, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range leads {
		id, err := w.store.StartAttempt(ctx, store.Attempt{LeadID: l.ID, CampaignID: st.id, Number: l.Number, StartedAt: now})
		if err != nil {
			errs = append(errs, err, w.unclaim(ctx, l.ID, now))
			continue
		}
		aid := attemptKey(id)
		st.inflight[aid] = now
		err = w.eng.DialPredictive(ctx, PredictiveCall{
			AttemptID: aid, CampaignID: st.id, Lead: l.engineLead(), Number: l.Number,
			CallerID: st.info.PlatformNumber, RingSeconds: s.RingSeconds, AbandonMessage: s.AbandonMessage,
			AMD: amd, MachineMessage: s.AMD.machineMessage(),
		})
		if err != nil {
			delete(st.inflight, aid)
			w.log.Warn("dialer: originate failed", "campaign", st.id, "lead", l.ID, "err", err)
			// Not the number's fault: give the dial back.
			errs = append(errs, w.store.EndAttempt(ctx, id, store.OutcomeCancelled, nil, now, "retry", ptr(now.Add(30*time.Second))),
				w.db.WithContext(ctx).Exec(`UPDATE dialer_leads SET attempts = GREATEST(attempts - 1, 0) WHERE id = ?`, l.ID).Error)
			continue
		}
		st.last.Dialled++
	}
	return errors.Join(errs...)
}

const attemptPrefix = "dialer-"

// previewKey and callbackKey name offers' attempts; their dials are
// recorded when their outcome arrives (the engine places them).
func previewKey(leadID int64, now time.Time) string {
	return fmt.Sprintf("preview-%d-%d", leadID, now.UnixMilli())
}

func callbackKey(id int64, attempts int) string { return fmt.Sprintf("callback-%d-%d", id, attempts) }

func parseCallbackKey(s string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, "callback-")
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, "-")
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

func attemptKey(id int64) string { return attemptPrefix + strconv.FormatInt(id, 10) }

func parseAttemptKey(s string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, attemptPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

func ptr[T any](v T) *T { return &v }

// snapshot builds the pacer's view of the campaign.
func (w *Worker) snapshot(ctx context.Context, st *campaignState, load CampaignLoad, offered int, now time.Time) (pacing.Snapshot, error) {
	s := &st.info.Settings
	f := pacing.Floor{Ready: max(0, load.ReadyPersistent-offered), Talking: load.Busy, Wrapping: load.Wrapping, Waiting: load.Queued}
	// Ringing: the engine's count is the truth; elapsed times from our own
	// dials, most recent first (unknown ones count as just dialled).
	var ring []time.Duration
	for id, at := range st.inflight {
		if now.Sub(at) > time.Duration(s.RingSeconds)*time.Second+2*time.Minute {
			delete(st.inflight, id) // outcome lost
			continue
		}
		ring = append(ring, now.Sub(at))
	}
	slices.Sort(ring)
	for len(ring) < load.Dialing {
		ring = append([]time.Duration{0}, ring...)
	}
	f.Ringing = ring[:load.Dialing]
	var snap pacing.Snapshot
	f.Fill(&snap, now)
	snap.Cap = s.MaxAbandonRate
	if s.AMD.Enabled {
		snap.MachineFalse, snap.Grace = s.AMD.FalsePositiveShare, s.AMD.grace()
	}
	var err error
	snap.Windows, err = w.windows(ctx, st.id, s.AbandonWindow, now)
	return snap, err
}

// windows counts the campaign's answered, abandoned and machine-verdict
// attempts over the cap window, the last hour and the last 15 minutes (by
// outcome time, as the simulator's windows), from dialer_attempts: shared
// by every instance and kept over restarts.
func (w *Worker) windows(ctx context.Context, campaignID int64, span time.Duration, now time.Time) (pacing.Windows, error) {
	var c struct{ A, B, M, HA, HB, HM, SA, SB, SM int }
	err := w.db.WithContext(ctx).Raw(`SELECT
			count(*) FILTER (WHERE answered_at > @long AND outcome IN ('answered','abandoned')) AS a,
			count(*) FILTER (WHERE answered_at > @long AND outcome = 'abandoned') AS b,
			count(*) FILTER (WHERE answered_at > @long AND outcome IN ('machine','machine_message')) AS m,
			count(*) FILTER (WHERE answered_at > @hour AND outcome IN ('answered','abandoned')) AS ha,
			count(*) FILTER (WHERE answered_at > @hour AND outcome = 'abandoned') AS hb,
			count(*) FILTER (WHERE answered_at > @hour AND outcome IN ('machine','machine_message')) AS hm,
			count(*) FILTER (WHERE answered_at > @short AND outcome IN ('answered','abandoned')) AS sa,
			count(*) FILTER (WHERE answered_at > @short AND outcome = 'abandoned') AS sb,
			count(*) FILTER (WHERE answered_at > @short AND outcome IN ('machine','machine_message')) AS sm
		FROM dialer_attempts
		WHERE campaign_id = @c AND started_at > @from AND answered_at <= @now
			AND outcome IN ('answered','abandoned','machine','machine_message')`,
		map[string]any{"c": campaignID, "long": now.Add(-span), "hour": now.Add(-min(time.Hour, span)),
			"short": now.Add(-min(15*time.Minute, span)), "from": now.Add(-span - time.Hour), "now": now}).Scan(&c).Error
	return pacing.Windows{
		Day:   pacing.Tally{Answered: c.A, Abandoned: c.B, Machines: c.M},
		Hour:  pacing.Tally{Answered: c.HA, Abandoned: c.HB, Machines: c.HM},
		Short: pacing.Tally{Answered: c.SA, Abandoned: c.SB, Machines: c.SM},
	}, err
}

// warmUp feeds a new learning pacer the campaign's recent outcomes, so a
// restart does not send predictive dialling back to its cold start.
func (w *Worker) warmUp(ctx context.Context, st *campaignState) {
	l, ok := st.pacer.(pacing.Learner)
	now := w.clock.Now()
	st.learnTo = now.Add(-24 * time.Hour)
	if !ok {
		return
	}
	var rows []struct {
		Outcome    string
		StartedAt  time.Time
		AnsweredAt *time.Time
		EndedAt    *time.Time
	}
	w.db.WithContext(ctx).Raw(`SELECT * FROM (SELECT outcome, started_at, answered_at, ended_at FROM dialer_attempts
		WHERE campaign_id = ? AND outcome IN ('answered','abandoned','no_answer','busy','congestion','failed','machine','machine_message')
		AND ended_at IS NOT NULL AND started_at > ? ORDER BY started_at DESC LIMIT 500) x ORDER BY started_at`,
		st.id, now.Add(-24*time.Hour)).Scan(&rows)
	for _, r := range rows {
		switch {
		case r.AnsweredAt != nil && (r.Outcome == "answered" || r.Outcome == "abandoned"):
			l.Observe(pacing.Event{Kind: pacing.Answered, At: *r.AnsweredAt, Duration: r.AnsweredAt.Sub(r.StartedAt)})
			if r.Outcome == "abandoned" {
				l.Observe(pacing.Event{Kind: pacing.Abandoned, At: *r.AnsweredAt})
			}
		default:
			l.Observe(pacing.Event{Kind: pacing.Failed, At: *r.EndedAt, Duration: r.EndedAt.Sub(r.StartedAt)})
		}
	}
	w.learnHandles(ctx, st, now)
}

// learnHandles feeds the pacer talk and wrap times of the campaign's
// outbound interactions wrapped since the last look (at most every 30 s).
func (w *Worker) learnHandles(ctx context.Context, st *campaignState, now time.Time) {
	l, ok := st.pacer.(pacing.Learner)
	if !ok || now.Sub(st.learnTo) < 30*time.Second {
		return
	}
	var rows []struct {
		ConnectedAt, EndedAt, WrappedAt time.Time
	}
	err := w.db.WithContext(ctx).Raw(`SELECT connected_at, ended_at, wrapped_at FROM interactions
		WHERE campaign_id = ? AND direction = 'OUT' AND wrapped_at > ? AND wrapped_at <= ?
		AND connected_at IS NOT NULL AND ended_at IS NOT NULL ORDER BY wrapped_at`, st.id, st.learnTo, now).Scan(&rows).Error
	if err != nil {
		w.log.Warn("dialer: reading handle times", "campaign", st.id, "err", err)
		return
	}
	for _, r := range rows {
		l.Observe(pacing.Event{Kind: pacing.Talked, At: r.EndedAt, Duration: r.EndedAt.Sub(r.ConnectedAt)})
		l.Observe(pacing.Event{Kind: pacing.Wrapped, At: r.WrappedAt, Duration: r.WrappedAt.Sub(r.EndedAt)})
	}
	st.learnTo = now
}

// Minute is the minute job: due callbacks of campaigns that have no dialler
// tick (inbound or paused ones; outbound ones are served every tick too),
// stale claims, and the set of campaign jobs.
func (w *Worker) Minute(ctx context.Context) error {
	now := w.clock.Now()
	var errs []error
	if w.cron != nil {
		errs = append(errs, w.syncCampaigns(ctx))
	}
	errs = append(errs, w.Housekeeping(ctx, now))
	var ids []int64
	if err := w.db.WithContext(ctx).Raw(`SELECT DISTINCT campaign_id FROM dialer_callbacks
		WHERE status = 'pending' AND due_at <= ? ORDER BY campaign_id`, now).Scan(&ids).Error; err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, id := range ids {
		errs = append(errs, w.CallbacksTick(ctx, id))
	}
	return errors.Join(errs...)
}

// CallbacksTick offers the campaign's due callbacks to its free agents.
func (w *Worker) CallbacksTick(ctx context.Context, campaignID int64) error {
	st, err := w.state(ctx, campaignID, false)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	now := w.clock.Now()
	load, err := w.eng.CampaignLoad(ctx, campaignID)
	if err != nil {
		return fmt.Errorf("campaign %d load: %w", campaignID, err)
	}
	_, err = w.dispatchCallbacks(ctx, st, w.freeAgents(load.Ready, now), now)
	return err
}

// Housekeeping releases stale claims: leads "dialling" and callbacks
// "offered" for longer than StaleAfter without an outcome.
func (w *Worker) Housekeeping(ctx context.Context, now time.Time) error {
	cut := now.Add(-w.cfg.StaleAfter)
	// A preview call's outcome comes when the call ends, so a lead whose
	// number is on a call that has not ended is left alone.
	res := w.db.WithContext(ctx).Exec(`UPDATE dialer_leads l SET status = 'retry', next_attempt_at = ?, updated_at = ?
		WHERE status = 'dialling' AND updated_at < ? AND NOT EXISTS (SELECT 1 FROM interactions i
			WHERE i.ended_at IS NULL AND i.customer_number IN (l.phone1, l.phone2, l.phone3) AND i.customer_number <> '')`, now, now, cut)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected > 0 {
		w.log.Warn("dialer: released stale lead claims", "leads", res.RowsAffected)
	}
	res = w.db.WithContext(ctx).Exec(`UPDATE dialer_callbacks SET status = 'pending', offered_to = NULL, updated_at = ?
		WHERE status = 'offered' AND offered_at < ?`, now, cut)
	if res.RowsAffected > 0 {
		w.log.Warn("dialer: released stale callback offers", "callbacks", res.RowsAffected)
	}
	return res.Error
}

// phoneLabels name the lead columns phone1..phone3 as the import maps them
// (leads.Mapping: mobile, then phone/home, then work).
var phoneLabels = [3]string{"mobile", "home", "work"}

// claimedLead is a lead claimed for one dial or offer.
type claimedLead struct {
	ID, ListID int64
	Name       string
	Phones     []string          // non-empty phones, phone1..phone3 order
	Callable   []string          // those not on the do-not-call list
	Labels     map[string]string // number → mobile, home or work (phone1..phone3)
	TimeZone   string
	Data       map[string]string
	Attempts   int
	Index      int    // index in Phones of the number to dial
	Number     string // Phones[Index]
}

func (l *claimedLead) engineLead() Lead {
	return Lead{ID: l.ID, ListID: l.ListID, Name: l.Name, Phones: l.Callable, PhoneLabels: l.Labels, TimeZone: l.TimeZone, Data: l.Data}
}

type claimRow struct {
	ID, ListID             int64
	Name                   string
	Phone1, Phone2, Phone3 string
	TimeZone               string
	Data                   string
	Attempts               int
	NextPhone              int
}

// claimQuery picks due leads of a campaign inside its calling window (in
// each lead's zone, the campaign's when the lead's is unknown), locks them
// skipping rows another worker holds, and marks them dialling.
const claimQuery = `
WITH due AS (
	SELECT l.id FROM dialer_leads l
	JOIN dialer_lead_lists ll ON ll.id = l.list_id AND ll.active
	CROSS JOIN LATERAL (SELECT (CAST(@now AS timestamptz) AT TIME ZONE
		CASE WHEN l.time_zone = '' THEN @tz ELSE l.time_zone END) AS lt) w
	WHERE l.campaign_id = @c AND l.status IN ('new','retry')
		AND (l.time_zone = '' OR l.time_zone = ANY(CAST(@zones AS text[])))
		AND (l.next_attempt_at IS NULL OR l.next_attempt_at <= @now)
		AND l.attempts < @max
		AND (cardinality(CAST(@lists AS bigint[])) = 0 OR l.list_id = ANY(CAST(@lists AS bigint[])))
		AND EXTRACT(ISODOW FROM w.lt)::int = ANY(CAST(@days AS int[]))
		AND w.lt::time >= CAST(@wstart AS time) AND w.lt::time < CAST(@wend AS time)
	ORDER BY l.next_attempt_at NULLS LAST, l.id
	LIMIT @n
	FOR UPDATE OF l SKIP LOCKED
)
UPDATE dialer_leads d SET status = 'dialling', updated_at = @now FROM due WHERE d.id = due.id
RETURNING d.id, d.list_id, d.name, d.phone1, d.phone2, d.phone3, d.time_zone, d.data::text AS data, d.attempts, d.next_phone`

func intArray[T int | int64](xs []T) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatInt(int64(x), 10)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// claimLeads claims up to n due leads and picks each one's number: the
// first of its phones from the round's position on that is not on the
// do-not-call list. Leads whose every phone is listed become "dnc".
func (w *Worker) claimLeads(ctx context.Context, st *campaignState, n int, now time.Time) ([]claimedLead, error) {
	s := &st.info.Settings
	zones, err := w.leadZones(ctx, st)
	if err != nil {
		return nil, err
	}
	var out []claimedLead
	err = w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []claimRow
		if err := tx.Raw(claimQuery, map[string]any{
			"now": now, "tz": s.TimeZone, "zones": store.TextArray(zones), "c": st.id, "max": s.MaxAttempts, "lists": intArray(s.LeadLists),
			"days": intArray(s.CallingWindow.Days), "wstart": clock(s.CallingWindow.Start) + ":00",
			"wend": clock(s.CallingWindow.End) + ":00", "n": n,
		}).Scan(&rows).Error; err != nil {
			return fmt.Errorf("claiming leads: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		slices.SortFunc(rows, func(a, b claimRow) int { return int(a.ID - b.ID) })
		var nums []string
		for _, r := range rows {
			for _, p := range []string{r.Phone1, r.Phone2, r.Phone3} {
				if p != "" {
					nums = append(nums, p)
				}
			}
		}
		dnc, err := w.store.DNC(st.id).ContainsAny(ctx, nums)
		if err != nil {
			return err
		}
		for _, r := range rows {
			l := claimedLead{ID: r.ID, ListID: r.ListID, Name: r.Name, TimeZone: r.TimeZone, Attempts: r.Attempts, Index: -1}
			if r.Data != "" && r.Data != "{}" {
				_ = json.Unmarshal([]byte(r.Data), &l.Data)
			}
			for i, p := range []string{r.Phone1, r.Phone2, r.Phone3} {
				if p == "" {
					continue
				}
				if l.Labels == nil {
					l.Labels = map[string]string{}
				}
				if _, seen := l.Labels[p]; !seen {
					l.Labels[p] = phoneLabels[i]
				}
				l.Phones = append(l.Phones, p)
				if !dnc[p] {
					l.Callable = append(l.Callable, p)
				}
			}
			start := r.NextPhone
			if start >= len(l.Phones) {
				start = 0
			}
			for _, from := range []int{start, 0} {
				for i := from; i < len(l.Phones) && l.Index < 0; i++ {
					if !dnc[l.Phones[i]] {
						l.Index = i
					}
				}
			}
			if l.Index < 0 {
				if err := tx.Exec(`UPDATE dialer_leads SET status = 'dnc', updated_at = ? WHERE id = ?`, now, l.ID).Error; err != nil {
					return err
				}
				continue
			}
			l.Number = l.Phones[l.Index]
			if l.Index != r.NextPhone {
				if err := tx.Exec(`UPDATE dialer_leads SET next_phone = ? WHERE id = ?`, l.Index, l.ID).Error; err != nil {
					return err
				}
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return w.dailyCap(ctx, st, out, now)
}

// leadZones lists the valid IANA zones of the campaign's due leads, read
// at most once a minute (pg_timezone_names costs ~100 ms, too much for
// every tick). A lead whose zone is not in the list is not dialled: a new
// zone waits for the next read, and an invalid one (the importer rejects
// them) is logged, never guessed.
func (w *Worker) leadZones(ctx context.Context, st *campaignState) ([]string, error) {
	if st.zones != nil && time.Since(st.zonesAt) < time.Minute {
		return st.zones, nil
	}
	var names []string
	if err := w.db.WithContext(ctx).Raw(`SELECT DISTINCT time_zone FROM dialer_leads
		WHERE campaign_id = ? AND status IN ('new','retry') AND time_zone <> ''`, st.id).Scan(&names).Error; err != nil {
		return nil, err
	}
	zones := []string{}
	for _, n := range names {
		if _, err := time.LoadLocation(n); err != nil || n == "Local" {
			w.log.Warn("dialer: leads with an unknown time zone are not dialled", "campaign", st.id, "zone", n)
			continue
		}
		zones = append(zones, n)
	}
	st.zones, st.zonesAt = zones, time.Now()
	return zones, nil
}

// unclaim gives a claimed, undialled lead back.
func (w *Worker) unclaim(ctx context.Context, leadID int64, now time.Time) error {
	return w.db.WithContext(ctx).Exec(`UPDATE dialer_leads SET status = 'retry', next_attempt_at = ?, updated_at = ?
		WHERE id = ? AND status = 'dialling'`, now, now, leadID).Error
}

type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
