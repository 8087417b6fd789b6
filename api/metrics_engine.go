package api

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
)

// Telemetry holds the histograms measured inside the engine's I/O: the ARI
// round-trip of every request the engine makes (wire it with
// cti.TimedTelephony{T: …, Observe: t.ObserveARI}) and the lag from an
// ARI event's Asterisk timestamp to the engine loop handling it (wire it
// with engine.PumpObserved(ctx, client.Events(), t.ObserveEventLag)).
// Register it on the server's registry (Options.Registry) or pass it to
// RegisterTelemetry.
type Telemetry struct {
	ari      *prometheus.HistogramVec
	ariErr   *prometheus.CounterVec
	eventLag *prometheus.HistogramVec
}

var fastBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// NewTelemetry builds the histograms.
func NewTelemetry() *Telemetry {
	return &Telemetry{
		ari: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ctid_ari_request_duration_seconds", Help: "ARI request round-trip as the engine sees it, by operation.",
			Buckets: fastBuckets}, []string{"op"}),
		ariErr: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ctid_ari_request_errors_total", Help: "ARI requests that failed, by operation."}, []string{"op"}),
		eventLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ctid_ari_event_lag_seconds", Help: "From an ARI event's Asterisk timestamp to the engine loop handling it, by event type.",
			Buckets: fastBuckets}, []string{"type"}),
	}
}

// ObserveARI records one ARI request (cti.TimedTelephony.Observe).
func (t *Telemetry) ObserveARI(op string, d time.Duration, err error) {
	t.ari.WithLabelValues(op).Observe(d.Seconds())
	if err != nil {
		t.ariErr.WithLabelValues(op).Inc()
	}
}

// ObserveEventLag records one event's lag (Engine.PumpObserved).
func (t *Telemetry) ObserveEventLag(typ string, d time.Duration) {
	t.eventLag.WithLabelValues(typ).Observe(max(d, 0).Seconds())
}

func (t *Telemetry) Describe(ch chan<- *prometheus.Desc) {
	t.ari.Describe(ch)
	t.ariErr.Describe(ch)
	t.eventLag.Describe(ch)
}

func (t *Telemetry) Collect(ch chan<- prometheus.Metric) {
	t.ari.Collect(ch)
	t.ariErr.Collect(ch)
	t.eventLag.Collect(ch)
}

// liveCollector reads calls by state and queues from the engine, and the
// queue-wait histogram from the interactions answered since this process
// started, at scrape time.
type liveCollector struct {
	eng   *cti.Engine
	db    *gorm.DB
	since time.Time
}

var (
	descCallsByState = prometheus.NewDesc("ctid_calls", "Calls in progress by state.", []string{"state"}, nil)
	descQueueWaiting = prometheus.NewDesc("ctid_queue_waiting", "Callers waiting, by campaign.", []string{"campaign"}, nil)
	descQueueLongest = prometheus.NewDesc("ctid_queue_longest_wait_seconds", "Wait of the caller at the head of the queue, by campaign.", []string{"campaign"}, nil)
	descQueueWait    = prometheus.NewDesc("ctid_queue_wait_seconds", "Time in queue of inbound calls answered by an agent since ctid started (from the interaction records).", nil, nil)
	queueWaitBuckets = []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600}
)

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCallsByState
	ch <- descQueueWaiting
	ch <- descQueueLongest
	ch <- descQueueWait
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if v, err := c.eng.Supervisor(ctx); err == nil {
		for st, n := range map[string]int{"queued": v.Queued, "offering": v.Offering, "dialing": v.Dialing, "connected": v.Connected} {
			ch <- prometheus.MustNewConstMetric(descCallsByState, prometheus.GaugeValue, float64(n), st)
		}
		for _, q := range v.Queues {
			id := strconv.FormatInt(q.CampaignID, 10)
			ch <- prometheus.MustNewConstMetric(descQueueWaiting, prometheus.GaugeValue, float64(q.Waiting), id)
			ch <- prometheus.MustNewConstMetric(descQueueLongest, prometheus.GaugeValue, float64(q.LongestWaitMs)/1000, id)
		}
	}
	if c.db == nil {
		return
	}
	// One pass: count, sum and a cumulative count per bucket.
	q := `SELECT count(*) AS n, coalesce(sum(queue_ms), 0) / 1000.0 AS sum`
	args := []any{}
	for i, b := range queueWaitBuckets {
		q += `, count(*) FILTER (WHERE queue_ms <= ?) AS b` + strconv.Itoa(i)
		args = append(args, int64(b*1000))
	}
	q += ` FROM interactions WHERE direction = 'IN' AND connected_at >= ?`
	args = append(args, c.since)
	res := map[string]any{}
	if err := c.db.WithContext(ctx).Raw(q, args...).Scan(&res).Error; err != nil {
		return
	}
	buckets := map[float64]uint64{}
	for i, b := range queueWaitBuckets {
		buckets[b] = toUint(res["b"+strconv.Itoa(i)])
	}
	sum, _ := res["sum"].(float64)
	if s, ok := res["sum"].(string); ok {
		sum, _ = strconv.ParseFloat(s, 64)
	}
	ch <- prometheus.MustNewConstHistogram(descQueueWait, toUint(res["n"]), sum, buckets)
}

func toUint(v any) uint64 {
	switch x := v.(type) {
	case int64:
		return uint64(x)
	case int32:
		return uint64(x)
	case int:
		return uint64(x)
	case float64:
		return uint64(x)
	}
	return 0
}
