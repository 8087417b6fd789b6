package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
)

type metrics struct {
	httpDuration  *prometheus.HistogramVec
	wsClients     prometheus.Gauge
	wsDropped     prometheus.Counter
	loginFailures prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, eng *cti.Engine, db *gorm.DB) *metrics {
	m := &metrics{
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ctid_http_request_duration_seconds",
			Help:    "HTTP request durations by method, route and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route", "status"}),
		wsClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ctid_websocket_clients", Help: "Open agent event websockets."}),
		wsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ctid_websocket_dropped_total", Help: "Websockets closed because the client fell behind."}),
		loginFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ctid_login_failures_total", Help: "Failed login attempts."}),
	}
	reg.MustRegister(m.httpDuration, m.wsClients, m.wsDropped, m.loginFailures)
	if eng != nil {
		reg.MustRegister(&engineCollector{eng: eng}, &liveCollector{eng: eng, db: db, since: time.Now()})
	}
	return m
}

// engineCollector reads agent states and engine counters at scrape time.
type engineCollector struct{ eng *cti.Engine }

var (
	descAgents    = prometheus.NewDesc("ctid_agents", "Logged-in agents by state.", []string{"state"}, nil)
	descQueued    = prometheus.NewDesc("ctid_calls_queued", "Callers waiting in queues.", nil, nil)
	descCalls     = prometheus.NewDesc("ctid_calls_total", "Calls by outcome.", []string{"outcome"}, nil)
	descAutoPause = prometheus.NewDesc("ctid_auto_pauses_total", "Agents auto-paused for a missed call.", nil, nil)
	descDeclined  = prometheus.NewDesc("ctid_declined_offers_total", "Offered calls (and transfers) an agent declined.", nil, nil)
	descWriteLost = prometheus.NewDesc("ctid_record_writes_lost_total",
		"Record writes lost: refused by Postgres for their content (not retried), or failed after the retries.", []string{"reason"}, nil)
)

var allAgentStates = []cti.AgentState{cti.AgentLoggedIn, cti.AgentConnecting, cti.AgentPaused, cti.AgentReady,
	cti.AgentReserved, cti.AgentOnCall, cti.AgentOnWrap}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAgents
	ch <- descQueued
	ch <- descCalls
	ch <- descAutoPause
	ch <- descDeclined
	ch <- descWriteLost
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if states, err := c.eng.AgentStates(ctx); err == nil {
		for _, st := range allAgentStates {
			ch <- prometheus.MustNewConstMetric(descAgents, prometheus.GaugeValue, float64(states[st]), string(st))
		}
	}
	if st, err := c.eng.Stats(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(st.Queued))
		for outcome, v := range map[string]int64{"queued": st.CallsQueued, "connected": st.CallsConnected,
			"abandoned": st.CallsAbandoned, "ended": st.CallsEnded, "overflowed": st.Overflowed} {
			ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(v), outcome)
		}
		ch <- prometheus.MustNewConstMetric(descAutoPause, prometheus.CounterValue, float64(st.AutoPaused))
		ch <- prometheus.MustNewConstMetric(descDeclined, prometheus.CounterValue, float64(st.Declined))
	}
	lost := c.eng.WriteFailures()
	ch <- prometheus.MustNewConstMetric(descWriteLost, prometheus.CounterValue, float64(lost.Refused), "refused")
	ch <- prometheus.MustNewConstMetric(descWriteLost, prometheus.CounterValue, float64(lost.Failed), "failed")
}
