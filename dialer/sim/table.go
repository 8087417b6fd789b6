package sim

import (
	"fmt"
	"io"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
)

// Policies returns fresh instances of the compared pacers for cfg.
func Policies(cfg Config) []pacing.Pacer {
	cfg = cfg.Defaults()
	return []pacing.Pacer{
		pacing.Progressive{},
		pacing.FixedRatio{Ratio: 2},
		&pacing.VicidialAdaptive{Mode: pacing.AdaptHardLimit},
		&pacing.VicidialAdaptive{Mode: pacing.AdaptTapered, ShiftEnd: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).Add(cfg.Day)},
		&pacing.Predictive{},
		&pacing.Oracle{},
	}
}

// Scenario is one row group of the benchmark table.
type Scenario struct {
	Agents     int
	AnswerProb float64
}

// Scenarios are the benchmark's days.
var Scenarios = []Scenario{
	{20, 0.15}, {20, 0.25}, {20, 0.35},
	{100, 0.15}, {100, 0.25}, {100, 0.35},
}

// RunAll runs every policy over every scenario's day, plus the VICIdial
// hard-limit baseline re-run with its drop target set to the abandon rate
// ctid's predictive reached, to compare occupancy at the same abandon rate.
func RunAll(seed uint64, day time.Duration) map[Scenario][]Result {
	out := map[Scenario][]Result{}
	for _, sc := range Scenarios {
		cfg := Config{Agents: sc.Agents, AnswerProb: sc.AnswerProb, Seed: seed, Day: day}.Defaults()
		var ctid float64
		for _, p := range Policies(cfg) {
			r := Run(cfg, p)
			if _, ok := p.(*pacing.Predictive); ok {
				ctid = r.AbandonRate
			}
			out[sc] = append(out[sc], r)
		}
		v := &pacing.VicidialAdaptive{Mode: pacing.AdaptHardLimit, DropTarget: max(ctid, 0.001)}
		r := Run(cfg, v)
		r.Policy = fmt.Sprintf("vicidial-hard@%.2f%%", 100*v.DropTarget)
		out[sc] = append(out[sc], r)
	}
	return out
}

// WriteTable prints the results side by side.
func WriteTable(w io.Writer, res map[Scenario][]Result) {
	fmt.Fprintf(w, "%-6s %-5s %-18s %6s %7s %7s %7s %7s %8s %8s %7s\n",
		"agents", "p", "policy", "occ%", "aband%", "worst15", "worstH", "calls/h", "dials/h", "wait(s)", "prog%")
	for _, sc := range Scenarios {
		for _, r := range res[sc] {
			prog := ""
			if r.ProgressiveTicks > 0 {
				prog = fmt.Sprintf("%.0f", 100*float64(r.ProgressiveTicks)/float64(r.PacerTicks))
			}
			fmt.Fprintf(w, "%-6d %-5.2f %-18s %6.1f %7.2f %7.2f %7.2f %7.2f %8.1f %8.2f %7s\n",
				sc.Agents, sc.AnswerProb, r.Policy, 100*r.Occupancy, 100*r.AbandonRate, 100*r.WorstShort,
				100*r.WorstHour, r.CallsPerAgentHour, r.DialsPerAgentHour, r.MeanCustomerWait.Seconds(), prog)
		}
	}
}
