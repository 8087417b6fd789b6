package sim

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
)

// TestCapInvariant runs short seeded days and checks the pacing rules that
// must always hold: predictive stays under the cap overall and in every
// hour (and, with 100 agents, in every 15-minute window); progressive and
// the oracle never abandon; nobody beats the oracle's occupancy by more
// than noise.
func TestCapInvariant(t *testing.T) {
	for _, sc := range []Scenario{{20, 0.25}, {100, 0.25}} {
		for _, seed := range []uint64{7, 8} {
			cfg := Config{Agents: sc.Agents, AnswerProb: sc.AnswerProb, Seed: seed, Day: 2 * time.Hour}.Defaults()
			pr := Run(cfg, &pacing.Predictive{})
			prog := Run(cfg, pacing.Progressive{})
			or := Run(cfg, &pacing.Oracle{})
			name := fmt.Sprintf("%d agents p=%.2f seed %d", sc.Agents, sc.AnswerProb, seed)
			if pr.AbandonRate > cfg.Cap || pr.WorstHour > cfg.Cap {
				t.Errorf("%s: predictive abandon %.2f%%, worst hour %.2f%% over the cap", name, 100*pr.AbandonRate, 100*pr.WorstHour)
			}
			if sc.Agents >= 100 && pr.WorstShort > cfg.Cap {
				t.Errorf("%s: predictive worst 15-min window %.2f%%", name, 100*pr.WorstShort)
			}
			if prog.Abandoned != 0 || or.Abandoned != 0 {
				t.Errorf("%s: progressive %d, oracle %d abandons", name, prog.Abandoned, or.Abandoned)
			}
			if !(prog.Occupancy < pr.Occupancy && pr.Occupancy < or.Occupancy) {
				t.Errorf("%s: occupancy progressive %.3f, predictive %.3f, oracle %.3f", name, prog.Occupancy, pr.Occupancy, or.Occupancy)
			}
			for _, r := range []Result{pr, prog, or} {
				if r.Connected+r.Abandoned != r.Answered {
					t.Errorf("%s %s: %d connected + %d abandoned != %d answered", name, r.Policy, r.Connected, r.Abandoned, r.Answered)
				}
			}
		}
	}
}

// TestSameDay checks that every policy sees the same numbers in the same
// order with the same fates.
func TestSameDay(t *testing.T) {
	cfg := Config{Agents: 5, AnswerProb: 0.3, Seed: 3}.Defaults()
	a, b := newLeads(cfg), newLeads(cfg)
	b.At(500) // generating further ahead must not change earlier leads
	for i := range 500 {
		if a.At(i) != b.At(i) {
			t.Fatalf("lead %d differs", i)
		}
	}
	// Unanswered calls either end busy/congested after 1-6 s (BusyFrac of
	// them) or ring out at RingTimeout; nothing else.
	ans, busy, ringOut := 0, 0, 0
	minBusy, maxBusy := time.Duration(1<<62), time.Duration(0)
	for i := range 20000 {
		l := a.At(i)
		switch {
		case l.Answers:
			ans++
			if l.Ring < cfg.MinAnswer || l.Ring > cfg.MaxAnswer {
				t.Fatalf("lead %d: answer after %v, want %v..%v", i, l.Ring, cfg.MinAnswer, cfg.MaxAnswer)
			}
		case l.Ring == cfg.RingTimeout:
			ringOut++
		default:
			busy++
			minBusy, maxBusy = min(minBusy, l.Ring), max(maxBusy, l.Ring)
			if l.Ring < time.Second || l.Ring >= 6*time.Second {
				t.Fatalf("lead %d: unanswered call ended after %v, want 1-6 s or the %v ring timeout", i, l.Ring, cfg.RingTimeout)
			}
		}
	}
	if p := float64(ans) / 20000; p < 0.28 || p > 0.32 {
		t.Errorf("answer rate %.3f", p)
	}
	// ~14,000 unanswered, 15% busy: ~2,100 busy calls spread over 1-6 s.
	if f := float64(busy) / float64(busy+ringOut); f < 0.13 || f > 0.17 {
		t.Errorf("busy fraction of unanswered %.3f (%d busy, %d rang out), want about %.2f", f, busy, ringOut, cfg.BusyFrac)
	}
	if minBusy > 1100*time.Millisecond || maxBusy < 5900*time.Millisecond {
		t.Errorf("busy ring times span %v..%v, want about 1 s..6 s", minBusy, maxBusy)
	}
}

// BenchmarkPacing runs the whole comparison (6 days × 7 policies) and
// prints the table once. go test -run XXX -bench Pacing ./dialer/sim
func BenchmarkPacing(b *testing.B) {
	var res map[Scenario][]Result
	for b.Loop() {
		res = RunAll(1, 8*time.Hour)
	}
	fmt.Fprintf(os.Stdout, "\npacing comparison: 8-hour day, seed 1, cap 3%%, 15-min check window (%s/%s, %d CPUs)\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	WriteTable(os.Stdout, res)
	for _, sc := range []Scenario{{20, 0.25}, {100, 0.25}} {
		for _, r := range res[sc] {
			if r.Policy == "ctid-predictive" {
				b.ReportMetric(100*r.Occupancy, fmt.Sprintf("occ%%-%d", sc.Agents))
			}
		}
	}
}
