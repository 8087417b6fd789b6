package api_test

import (
	"context"
	"fmt"
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
// and /metrics carries calls by state and the queue-wait histogram. The
// fake clock drives the engine and the double, so queue waits are exact:
// A is answered at once, B after 25 s (outside the 20 s threshold), C
// abandons after 5 s, D is answered after exactly 20 s (inside: the
// threshold is inclusive). Service level = 2 in threshold / (3 answered +
// 1 abandoned) = 50%.
func TestSupervisorSnapshotAgentsQueuesServiceLevel(t *testing.T) {
	// A minute ahead of real time: /metrics counts calls answered since the
	// API server started (by the real clock), which is after this line.
	fc := aritest.NewFakeClock(time.Now().Add(time.Minute))
	e := newEnv(t, envOptions{fakeClock: fc})
	e.Double.Script("PJSIP/1001", aritest.Behavior{}) // answers at once: no timer
	alice := e.login("alice")
	sue := e.login("sue")
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	e.must(200, "POST", "/api/v1/agent/connect", alice, `{"mode":"system_calls","number":"1001","persistent":true}`)
	e.waitState(alice, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/ready", alice, "{}")
	e.waitState(alice, cti.AgentReady)
	queued := func(n int) {
		t.Helper()
		ctitest.Eventually(t, 15*time.Second, fmt.Sprintf("%d caller(s) queued", n), func() bool {
			s, _ := e.Engine.Stats(context.Background())
			return s.Queued == n
		})
	}
	inbound := func(number string) string {
		return e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, number, did, nil)
	}
	// wrapAndTake hangs up the customer on alice's call and wraps to
	// Ready, so the head of the queue reaches her with the clock still.
	wrapAndTake := func(cust string) cti.AgentSnapshot {
		t.Helper()
		e.Double.HangupChannel(cust, 16)
		e.waitState(alice, cti.AgentOnWrap)
		e.must(200, "POST", "/api/v1/agent/wrap", alice, `{"code":"SALE","next":"ready"}`)
		return e.waitState(alice, cti.AgentOnCall)
	}

	a := inbound("+447700900001")
	snapA := e.waitState(alice, cti.AgentOnCall)
	b := inbound("+447700900002")
	queued(1)
	fc.Advance(25 * time.Second)
	e.Engine.Flush(context.Background())

	var sv api.SupervisorSnapshot
	e.must(200, "GET", "/api/v1/supervisor/snapshot", sue, "").json(t, &sv)
	if len(sv.Agents) != 1 || sv.Agents[0].ID != e.ids["alice"] || sv.Agents[0].State != cti.AgentOnCall ||
		sv.Agents[0].InteractionID != snapA.Call.InteractionID || sv.Agents[0].Since.IsZero() {
		t.Fatalf("agents %+v", sv.Agents)
	}
	if sv.CallsByState["connected"] != 1 || sv.CallsByState["queued"] != 1 {
		t.Fatalf("calls by state %+v", sv.CallsByState)
	}
	if len(sv.Queues) != 1 {
		t.Fatalf("queues %+v", sv.Queues)
	}
	q := sv.Queues[0]
	if q.CampaignID != e.campaign || q.Waiting != 1 || q.LongestWaitMs != 25000 || q.AnsweredToday != 1 ||
		q.AnsweredInThreshold != 1 || q.ServiceLevelPercent == nil || *q.ServiceLevelPercent != 100 || q.ServiceLevelThresholdS != 20 {
		t.Fatalf("queue with A answered at once and B waiting 25 s: %+v", q)
	}

	wrapAndTake(a) // B answered after 25 s
	c := inbound("+447700900003")
	queued(1)
	fc.Advance(5 * time.Second)
	e.Double.HangupChannel(c, 16) // C abandons
	queued(0)
	d := inbound("+447700900004")
	queued(1)
	fc.Advance(20 * time.Second)
	wrapAndTake(b) // D answered after exactly 20 s
	e.Engine.Flush(context.Background())

	e.must(200, "GET", "/api/v1/supervisor/snapshot", sue, "").json(t, &sv)
	q = sv.Queues[0]
	if q.Waiting != 0 || q.LongestWaitMs != 0 || q.AnsweredToday != 3 || q.AnsweredInThreshold != 2 || q.AbandonedToday != 1 ||
		q.ServiceLevelPercent == nil || *q.ServiceLevelPercent != 50 {
		sl := "null"
		if q.ServiceLevelPercent != nil {
			sl = fmt.Sprint(*q.ServiceLevelPercent)
		}
		t.Fatalf("queue after 4 calls: %+v (service level %s%%), want 3 answered, 2 within 20 s, 1 abandoned: 50%%", q, sl)
	}
	var waits []int64
	e.DB.Raw(`SELECT queue_ms FROM interactions WHERE connected_at IS NOT NULL ORDER BY customer_number`).Scan(&waits)
	if fmt.Sprint(waits) != "[0 25000 20000]" {
		t.Fatalf("queue_ms of A, B, D = %v, want [0 25000 20000]", waits)
	}

	body := string(e.must(200, "GET", "/metrics", "", "").body)
	for _, want := range []string{`ctid_calls{state="connected"} 1`, `ctid_calls{state="queued"} 0`,
		`ctid_queue_waiting{campaign="`, `ctid_queue_wait_seconds_count 3`, `ctid_queue_wait_seconds_bucket{le="1"} 1`,
		`ctid_queue_wait_seconds_bucket{le="20"} 2`, `ctid_queue_wait_seconds_bucket{le="30"} 3`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s\n%s", want, grepLines(body, "ctid_"))
		}
	}
	e.Double.HangupChannel(d, 16)
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
	// The engine measures each event's lag itself (PumpObserved, as
	// cmd/ctid runs it): one StasisStart, one lag sample for it.
	lagged := func(typ string) (n uint64, sum float64) {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "ctid_ari_event_lag_seconds" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "type" && l.GetValue() == typ {
						n += m.GetHistogram().GetSampleCount()
						sum += m.GetHistogram().GetSampleSum()
					}
				}
			}
		}
		return n, sum
	}
	st := ctitest.StartSeeded(t, ctitest.Options{EventLag: tel.ObserveEventLag, Tune: func(o *cti.Options) {
		o.Telephony = cti.TimedTelephony{T: o.Telephony, Observe: tel.ObserveARI}
	}}, nil)
	if n, _ := lagged("StasisStart"); n != 0 {
		t.Fatalf("%d StasisStart lag samples before any call", n)
	}
	ch := st.Double.Inbound("ctid", []string{"inbound", "+440000000000", "", ""}, "+447700900001", "+440000000000", nil) // unknown DID: hung up
	ctitest.Eventually(t, 15*time.Second, "hang-up timed", func() bool { return count("ctid_ari_request_duration_seconds") > 0 })
	ctitest.Eventually(t, 15*time.Second, "the channel gone", func() bool { _, ok := st.Double.Channel(ch); return !ok })
	ctitest.Eventually(t, 15*time.Second, "StasisEnd lag measured", func() bool { n, _ := lagged("StasisEnd"); return n == 1 })
	n, sum := lagged("StasisStart")
	if n != 1 || sum < 0 || sum > 15 {
		t.Fatalf("StasisStart lag: %d samples, %.3f s in all; want one, between 0 and 15 s", n, sum)
	}
}
