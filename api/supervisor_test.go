package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// The supervisor snapshot lists every agent with its current interaction,
// each campaign's queue with the longest wait and today's service level,
// and /metrics carries calls by state and the queue-wait histogram.
func TestSupervisorSnapshotAgentsQueuesServiceLevel(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.Double.Script("PJSIP/1001", aritest.Behavior{})
	alice := e.login("alice")
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	e.must(200, "POST", "/api/v1/agent/connect", alice, `{"mode":"system_calls","number":"1001","persistent":true}`)
	e.waitState(alice, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/ready", alice, "{}")
	e.waitState(alice, cti.AgentReady)

	// One caller reaches alice, a second waits (bob is not logged in).
	e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900001", did, nil)
	snap := e.waitState(alice, cti.AgentOnCall)
	e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900002", did, nil)
	ctitest.Eventually(t, 5*time.Second, "second caller queued", func() bool {
		s, _ := e.Engine.Stats(context.Background())
		return s.Queued == 1
	})
	time.Sleep(30 * time.Millisecond)
	e.Engine.Flush(context.Background())

	var sv api.SupervisorSnapshot
	e.must(200, "GET", "/api/v1/supervisor/snapshot", e.login("sue"), "").json(t, &sv)
	if len(sv.Agents) != 1 || sv.Agents[0].ID != e.ids["alice"] || sv.Agents[0].State != cti.AgentOnCall ||
		sv.Agents[0].InteractionID != snap.Call.InteractionID || sv.Agents[0].Since.IsZero() {
		t.Fatalf("agents %+v", sv.Agents)
	}
	if sv.CallsByState["connected"] != 1 || sv.CallsByState["queued"] != 1 {
		t.Fatalf("calls by state %+v", sv.CallsByState)
	}
	if len(sv.Queues) != 1 {
		t.Fatalf("queues %+v", sv.Queues)
	}
	q := sv.Queues[0]
	if q.CampaignID != e.campaign || q.Waiting != 1 || q.LongestWaitMs < 20 || q.AnsweredToday != 1 ||
		q.AnsweredInThreshold != 1 || q.ServiceLevelPercent == nil || *q.ServiceLevelPercent != 100 || q.ServiceLevelThresholdS != 20 {
		t.Fatalf("queue %+v", q)
	}

	body := string(e.must(200, "GET", "/metrics", "", "").body)
	for _, want := range []string{`ctid_calls{state="connected"} 1`, `ctid_calls{state="queued"} 1`,
		`ctid_queue_waiting{campaign="`, `ctid_queue_wait_seconds_count 1`, `ctid_queue_wait_seconds_bucket{le="1"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s\n%s", want, grepLines(body, "ctid_"))
		}
	}
}

// TimedTelephony reports every ARI request the engine makes.
func TestTelemetryTimesARIRequests(t *testing.T) {
	tel := api.NewTelemetry()
	reg := prometheus.NewRegistry()
	reg.MustRegister(tel)
	count := func(name string) uint64 {
		mfs, _ := reg.Gather()
		var n uint64
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, m := range mf.GetMetric() {
					n += m.GetHistogram().GetSampleCount()
				}
			}
		}
		return n
	}
	st := ctitest.StartSeeded(t, ctitest.Options{Tune: func(o *cti.Options) {
		o.Telephony = cti.TimedTelephony{T: o.Telephony, Observe: tel.ObserveARI}
	}}, nil)
	st.Double.Inbound("ctid", []string{"inbound", "+440000000000", "", ""}, "+447700900001", "+440000000000", nil) // unknown DID: hung up
	ctitest.Eventually(t, 5*time.Second, "hang-up timed", func() bool { return count("ctid_ari_request_duration_seconds") > 0 })
	tel.ObserveEventLag("StasisStart", 3*time.Millisecond)
	if n := count("ctid_ari_event_lag_seconds"); n != 1 {
		t.Fatalf("event lag samples %d", n)
	}
}
