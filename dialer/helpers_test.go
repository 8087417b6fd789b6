package dialer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti/postgres/pgtest"
	"github.com/ctid/ctid/dialer/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

type previewCall struct {
	Agent, Campaign int64
	Lead            Lead
	AttemptID       string
	Timeout         time.Duration
}

// fakeEngine records offers and dials; loads are set by the test.
type fakeEngine struct {
	mu       sync.Mutex
	loads    map[int64]CampaignLoad
	previews []previewCall
	dials    []PredictiveCall
	offerErr error
	dialErr  error
}

func newFakeEngine() *fakeEngine { return &fakeEngine{loads: map[int64]CampaignLoad{}} }

func (f *fakeEngine) SetLoad(campaign int64, l CampaignLoad) {
	f.mu.Lock()
	f.loads[campaign] = l
	f.mu.Unlock()
}

func (f *fakeEngine) CampaignLoad(_ context.Context, id int64) (CampaignLoad, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.loads[id]
	l.Ready = append([]int64(nil), l.Ready...)
	return l, nil
}

func (f *fakeEngine) OfferPreview(_ context.Context, agent, campaign int64, lead Lead, attemptID string, timeout time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offerErr != nil {
		return f.offerErr
	}
	f.previews = append(f.previews, previewCall{agent, campaign, lead, attemptID, timeout})
	return nil
}

func (f *fakeEngine) DialPredictive(_ context.Context, req PredictiveCall) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dialErr != nil {
		return f.dialErr
	}
	f.dials = append(f.dials, req)
	return nil
}

// Take returns and forgets what was offered and dialled so far.
func (f *fakeEngine) Take() ([]previewCall, []PredictiveCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, d := f.previews, f.dials
	f.previews, f.dials = nil, nil
	return p, d
}

var errRefused = errors.New("agent not ready")

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newWorker(t testing.TB, db *gorm.DB, eng Engine, clk Clock, mod ...func(*Config)) *Worker {
	t.Helper()
	cfg := Config{DB: db, Engine: eng, Clock: clk, Logger: quietLogger()}
	for _, m := range mod {
		m(&cfg)
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func exec(t testing.TB, db *gorm.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func scalar[T any](t testing.TB, db *gorm.DB, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := db.Raw(sql, args...).Scan(&v).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// seedCampaign makes a campaign with dialler settings (JSON of the
// "dialer" key) and returns its id.
func seedCampaign(t testing.TB, db *gorm.DB, name, kind, dialer string) int64 {
	t.Helper()
	settings := "{}"
	if dialer != "" {
		settings = `{"dialer":` + dialer + `}`
	}
	return scalar[int64](t, db, `INSERT INTO campaigns (name, kind, platform_number, default_region, settings)
		VALUES (?, ?, '+441632960000', 'GB', ?::jsonb) RETURNING id`, name, kind, settings)
}

func seedAgent(t testing.TB, db *gorm.DB, name string, campaigns ...int64) int64 {
	t.Helper()
	id := scalar[int64](t, db, `INSERT INTO users (username, password_hash, display_name) VALUES (?, 'x', ?) RETURNING id`, name, name)
	for _, c := range campaigns {
		exec(t, db, `INSERT INTO campaign_agents (campaign_id, user_id) VALUES (?, ?)`, c, id)
	}
	return id
}

func seedList(t testing.TB, db *gorm.DB, campaign int64, name string) int64 {
	t.Helper()
	return scalar[int64](t, db, `INSERT INTO dialer_lead_lists (campaign_id, name) VALUES (?, ?) RETURNING id`, campaign, name)
}

// seedLead adds a lead; phones are E.164 (up to 3).
func seedLead(t testing.TB, db *gorm.DB, campaign, list int64, name, tz string, phones ...string) int64 {
	t.Helper()
	p := append(phones, "", "", "")
	return scalar[int64](t, db, `INSERT INTO dialer_leads (list_id, campaign_id, name, phone1, phone2, phone3, primary_phone, time_zone)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, list, campaign, name, p[0], p[1], p[2], phones[0], tz)
}

type leadRow struct {
	Status        string
	Attempts      int
	NextPhone     int
	NextAttemptAt *time.Time
	LastOutcome   string
}

func lead(t testing.TB, db *gorm.DB, id int64) leadRow {
	t.Helper()
	return scalar[leadRow](t, db, `SELECT status, attempts, next_phone, next_attempt_at, last_outcome FROM dialer_leads WHERE id = ?`, id)
}

// attempts is a lead's attempt history, oldest first.
func attempts(t testing.TB, db *gorm.DB, leadID int64) []store.Attempt {
	t.Helper()
	return scalar[[]store.Attempt](t, db, `SELECT id, lead_id, campaign_id, number, outcome, channel_id, interaction_id,
		agent_id, started_at, answered_at, ended_at FROM dialer_attempts WHERE lead_id = ? ORDER BY started_at, id`, leadID)
}

func ukNumber(i int) string { return fmt.Sprintf("+4479110%05d", i) }

func pgtestDB(t testing.TB) *gorm.DB { return pgtest.DB(t) }

func itoa(i int64) string { return fmt.Sprint(i) }
