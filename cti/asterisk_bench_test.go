package cti_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// BenchmarkAsteriskCapacity (issue 7) ramps concurrent inbound calls on a
// real Asterisk: every caller (a Local pair through [test-customer]) is
// answered by a non-persistent agent whose phone ctid originates
// (Local/…@test-answer). For each level it prints how long the level took
// to connect, ctid's added latency from the caller's channel creation
// (≈ StasisStart) to the agent leg's creation (ctid's originate), both on
// Asterisk's clock, and the CPU used by Asterisk and by this process. It
// stops at the first level that does not fully connect.
// Run: ASTERISK_BIN=… go test -run '^$' -bench AsteriskCapacity -benchtime 1x ./cti/
func BenchmarkAsteriskCapacity(b *testing.B) {
	tg := aritest.AsteriskTarget(b)
	levels := []int{25, 50, 100, 200, 300}
	if s := os.Getenv("CTID_CAPACITY_LEVELS"); s != "" {
		levels = nil
		for _, f := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(f)
			levels = append(levels, n)
		}
	}
	maxAgents := slices.Max(levels)
	var agents []int64
	st := ctitest.StartSeeded(b, ctitest.Options{Target: &tg, Logger: quietLogger(), OfferTimeout: 20 * time.Second,
		Tune: func(o *cti.Options) { o.AgentEndpoint = func(n string) string { return "Local/" + n + "@test-answer" } },
	}, func(db *gorm.DB) {
		for i := 0; i < maxAgents; i++ {
			agents = append(agents, ctitest.Agent(b, db, fmt.Sprintf("cap%d", i), strconv.Itoa(100000+i)))
		}
		ctitest.Campaign(b, db, ctitest.CampaignSpec{Name: "Cap", DID: "5550100", Agents: agents, Codes: []string{"DONE"}})
	})
	ctx := context.Background()
	for _, id := range agents {
		st.Engine.Login(ctx, id)
		st.Engine.Connect(ctx, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: fmt.Sprint(100000 + int(id) - int(agents[0]))})
		st.Engine.SetReady(ctx, id)
	}
	pid := tg.Asterisk.PID()
	fmt.Printf("\nreal Asterisk 22 capacity, nproc=%d; non-persistent agents (ctid originates a leg per call)\n", nprocs())
	fmt.Printf("%8s %10s %12s %12s %12s %12s %10s\n", "calls", "channels", "connect_all", "added_p50", "added_p99", "ast_cpu%", "ctid_cpu%")
	b.ResetTimer()
	for li, n := range levels {
		astCPU0, self0, t0 := procCPU(pid), procCPU(os.Getpid()), time.Now()
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("cap%d-%d", li, i)
			if _, err := st.ARI.Channels.Originate(ctx, ari.OriginateRequest{Endpoint: "Local/5550100@test-customer",
				Context: "test-answer", Extension: "s", Priority: 1, CallerID: fmt.Sprintf("+4477009%05d", li*1000+i), ChannelID: ids[i]}); err != nil {
				// Asterisk saturated: it no longer answers ARI in time.
				fmt.Printf("%8d  Asterisk stopped answering ARI (%d calls placed): %v\n", n, i, err)
				return
			}
			time.Sleep(10 * time.Millisecond) // 100 calls/s arrival
		}
		ok := waitAgentsOnCall(ctx, st, agents, n, 60*time.Second)
		connectAll := time.Since(t0)
		astCPU, selfCPU := procCPU(pid)-astCPU0, procCPU(os.Getpid())-self0
		chans, _ := st.ARI.Channels.List(ctx)
		lat := addedLatencies(chans)
		fmt.Printf("%8d %10d %12v %12v %12v %12.0f %10.0f\n", n, len(chans), connectAll.Round(time.Millisecond),
			pct(lat, 50), pct(lat, 99), 100*astCPU.Seconds()/connectAll.Seconds(), 100*selfCPU.Seconds()/connectAll.Seconds())
		for _, id := range ids {
			st.ARI.Channels.Hangup(ctx, id, "normal")
		}
		for _, id := range agents {
			ctitest.Eventually(b, 60*time.Second, "wrap", func() bool {
				s, _ := st.Engine.Snapshot(ctx, id)
				return s.State.State != cti.AgentOnCall
			})
			st.Engine.Wrap(ctx, id, cti.WrapRequest{Code: "DONE", Next: "ready"})
		}
		if !ok {
			fmt.Printf("level %d did not fully connect within 60 s: stopping the ramp\n", n)
			break
		}
	}
}

func waitAgentsOnCall(ctx context.Context, st *ctitest.Stack, agents []int64, n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		on := 0
		for _, id := range agents {
			if s, _ := st.Engine.Snapshot(ctx, id); s.State.State == cti.AgentOnCall && s.Call != nil && s.Call.State == cti.CallConnected {
				on++
			}
		}
		if on >= n {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// addedLatencies pairs each agent leg (Stasis agentcall,<iid>; its caller
// id is the customer's number, unique per call here) with the caller's ;2
// channel, and returns agent-leg creation minus caller creation, both on
// Asterisk's clock.
func addedLatencies(chans []ari.Channel) []time.Duration {
	callers := map[string]time.Time{}
	for _, c := range chans {
		if strings.HasSuffix(c.ID, ";2") && strings.HasPrefix(c.ID, "cap") {
			callers[c.Caller.Number] = c.Creationtime.Time
		}
	}
	var out []time.Duration
	for _, c := range chans {
		if strings.HasPrefix(c.Dialplan.AppData, "ctid,agentcall,") {
			if t0, ok := callers[c.Caller.Number]; ok {
				out = append(out, c.Creationtime.Sub(t0))
			}
		}
	}
	slices.Sort(out)
	return out
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[(len(d)-1)*p/100].Round(10 * time.Microsecond)
}

// procCPU is a process's user+system CPU time from /proc (0 if unreadable).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+stt) * 10 * time.Millisecond // USER_HZ = 100
}

func nprocs() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
