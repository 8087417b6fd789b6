package sim

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
)

// Scenario is one row of the benchmark table.
type Scenario struct {
	Agents       int
	AnswerProb   float64 // answered (by a person or a machine) per dial
	MachineShare float64 // share of answers that are machines; AMD is on when > 0
}

// Scenarios are the benchmark's days: 5 team sizes × 3 answer rates × no
// machines and 30% machines (with AMD).
var Scenarios = func() []Scenario {
	var out []Scenario
	for _, n := range []int{10, 20, 50, 100, 200} {
		for _, m := range []float64{0, 0.3} {
			for _, p := range []float64{0.15, 0.25, 0.35} {
				out = append(out, Scenario{n, p, m})
			}
		}
	}
	return out
}()

// Config is the scenario's day for a seed.
func (sc Scenario) Config(seed uint64, day time.Duration) Config {
	return Config{Agents: sc.Agents, AnswerProb: sc.AnswerProb, MachineShare: sc.MachineShare,
		AMD: AMD{On: sc.MachineShare > 0}, Seed: seed, Day: day}.Defaults()
}

func (sc Scenario) String() string {
	return fmt.Sprintf("%d agents p=%.2f machines %.0f%%", sc.Agents, sc.AnswerProb, 100*sc.MachineShare)
}

// Ceiling is an upper bound on any policy's occupancy for cfg: each call
// an agent takes costs its talk and then its wrap, so occupancy (talk to
// people over logged-in time) cannot exceed Σtalk / Σ(talk + wrap) over
// the calls that reach agents (a machine AMD passed costs the agent the
// time spent on it and its wrap, and counts no talk). It is taken over the first 50,000 of the day's numbers
// that reach an agent with AMD on (with AMD off more machines reach agents
// and the ceiling only falls), so it is the
// scenario's expectation; a day's realized talk/wrap mix differs from it by
// well under 0.5% (TestCapSweep checks every policy of the table against it).
func Ceiling(cfg Config) float64 {
	cfg = cfg.Defaults()
	l := newLeads(cfg)
	var talk, machine, wrap time.Duration
	for i, n := 0, 0; n < 50000; i++ {
		if ld := l.At(i); ld.toAgent(cfg.AMD.On) {
			if ld.Machine {
				machine += ld.Talk
			} else {
				talk += ld.Talk
			}
			wrap += ld.Wrap
			n++
		}
	}
	return talk.Seconds() / (talk + machine + wrap).Seconds()
}

// VicidialGrid is the sweep VICIdial-style pacing is tuned over: max dial
// level × intensity (ADAPT_HARD_LIMIT at the cap, warm-started).
var VicidialGrid = func() []pacing.VicidialAdaptive {
	var out []pacing.VicidialAdaptive
	for _, ml := range []float64{1.1, 1.25, 1.5, 2, 2.5, 3, 4} {
		for _, in := range []float64{-20, 0, 20} {
			out = append(out, pacing.VicidialAdaptive{Mode: pacing.AdaptHardLimit, MaxLevel: ml, Intensity: in})
		}
	}
	return out
}()

// Stat is a figure over seeds.
type Stat struct{ Mean, SD, Max float64 }

func stat(xs []float64) Stat {
	var s Stat
	if len(xs) == 0 {
		return s
	}
	s.Max = math.Inf(-1)
	for _, x := range xs {
		s.Mean += x
		s.Max = max(s.Max, x)
	}
	s.Mean /= float64(len(xs))
	for _, x := range xs {
		s.SD += (x - s.Mean) * (x - s.Mean)
	}
	if len(xs) > 1 {
		s.SD = math.Sqrt(s.SD / float64(len(xs)-1))
	}
	return s
}

// PolicyRow is one policy over a scenario's seeds.
type PolicyRow struct {
	Name                                   string
	Occupancy, Abandon, WorstHour, Worst15 Stat
	Results                                []Result
}

func row(name string, rs []Result) PolicyRow {
	var occ, ab, wh, ws []float64
	for _, r := range rs {
		occ = append(occ, r.Occupancy)
		ab = append(ab, r.AbandonRate)
		wh = append(wh, r.WorstHour)
		ws = append(ws, r.WorstShort)
	}
	return PolicyRow{Name: name, Occupancy: stat(occ), Abandon: stat(ab), WorstHour: stat(wh), Worst15: stat(ws), Results: rs}
}

// ScenarioResult is one row group of the table.
type ScenarioResult struct {
	Scenario
	Bound                float64
	Ctid, Vicidial, Prog PolicyRow
	VicidialTuned        pacing.VicidialAdaptive // the grid point chosen
	VicidialCandidates   int                     // tuned points within the cap
	// VicidialHour is VICIdial at its best point that kept every hour of
	// the tuning seeds at or under the cap (no results when none did).
	VicidialHour      PolicyRow
	VicidialHourTuned pacing.VicidialAdaptive
}

// Sweep configures a benchmark run.
type Sweep struct {
	Seeds      int           // evaluation seeds 1..Seeds
	TuneSeeds  int           // of those, how many tune VICIdial (default all)
	Day        time.Duration // default 8 h
	Scenarios  []Scenario    // default Scenarios
	Workers    int           // default GOMAXPROCS
	NoVicidial bool
	// RefineSteps: steps of the search of VICIdial's max level around the
	// grid's best point (default 3).
	RefineSteps int
}

type job struct {
	f   func() Result
	out *Result
}

func runJobs(jobs []job, workers int) {
	ch := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				*j.out = j.f()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

// Run runs the sweep: ctid's predictive and progressive on every seed of
// every scenario; VICIdial tuned to its best, then run on every seed.
//
// Tuning: every point is warm-started at the mean level its setting
// reached on "yesterday" (seed 1000) and judged by its mean over the
// tuning seeds. The grid (max level × intensity) comes first; then, at the
// best point's intensity, RefineSteps steps search the max level between
// the best grid level's neighbours (from 1.0), so the chosen point is not a
// grid step away from VICIdial's best. The point with the highest mean
// occupancy whose mean abandon rate is at or under the cap is chosen.
func (sw Sweep) Run() []ScenarioResult {
	if sw.Day == 0 {
		sw.Day = 8 * time.Hour
	}
	if sw.Scenarios == nil {
		sw.Scenarios = Scenarios
	}
	if sw.Workers <= 0 {
		sw.Workers = runtime.GOMAXPROCS(0)
	}
	if sw.TuneSeeds <= 0 || sw.TuneSeeds > sw.Seeds {
		sw.TuneSeeds = sw.Seeds
	}
	if sw.RefineSteps == 0 {
		sw.RefineSteps = 3
	}
	out := make([]ScenarioResult, len(sw.Scenarios))
	ctid := make([][]Result, len(sw.Scenarios))
	prog := make([][]Result, len(sw.Scenarios))
	var jobs []job
	for i, sc := range sw.Scenarios {
		out[i].Scenario = sc
		out[i].Bound = Ceiling(sc.Config(1, sw.Day))
		ctid[i], prog[i] = make([]Result, sw.Seeds), make([]Result, sw.Seeds)
		for s := range sw.Seeds {
			cfg := sc.Config(uint64(s+1), sw.Day)
			jobs = append(jobs, job{func() Result { return Run(cfg, &pacing.Predictive{}) }, &ctid[i][s]},
				job{func() Result { return Run(cfg, pacing.Progressive{}) }, &prog[i][s]})
		}
	}
	runJobs(jobs, sw.Workers)
	for i := range sw.Scenarios {
		out[i].Ctid, out[i].Prog = row("ctid-predictive", ctid[i]), row("progressive", prog[i])
	}
	if sw.NoVicidial {
		return out
	}

	// tune evaluates points (a yesterday run for the warm start, then the
	// tuning seeds) for every scenario at once.
	type point struct {
		v    pacing.VicidialAdaptive
		yest Result
		runs []Result
	}
	tune := func(pts [][]*point) {
		var jobs []job
		for i, ps := range pts {
			for _, pt := range ps {
				cfg := sw.Scenarios[i].Config(1000, sw.Day)
				v := pt.v
				jobs = append(jobs, job{func() Result { return Run(cfg, &v) }, &pt.yest})
			}
		}
		runJobs(jobs, sw.Workers)
		jobs = jobs[:0]
		for i, ps := range pts {
			for _, pt := range ps {
				pt.v.StartLevel = pt.yest.MeanLevel
				pt.runs = make([]Result, sw.Seeds)
				for s := range sw.TuneSeeds {
					cfg := sw.Scenarios[i].Config(uint64(s+1), sw.Day)
					v := pt.v
					jobs = append(jobs, job{func() Result { return Run(cfg, &v) }, &pt.runs[s]})
				}
			}
		}
		runJobs(jobs, sw.Workers)
	}
	within := func(pt *point) bool { return row("", pt.runs[:sw.TuneSeeds]).Abandon.Mean <= pacing.DefaultCap }
	all := make([][]*point, len(sw.Scenarios))
	for i := range sw.Scenarios {
		for _, v := range VicidialGrid {
			all[i] = append(all[i], &point{v: v})
		}
	}
	tune(all)
	// Refine the max level around the best point: occupancy peaks in it
	// (too high a level drives the day's drop rate to the cap, where
	// ADAPT_HARD_LIMIT falls back to 1.0 for a while), so each step tries
	// the midpoints on either side of the best level and keeps the best
	// of the three, narrowing the bracket.
	type bracket struct {
		lo, mid, hi float64
		in          float64
	}
	bestOf := func(ps []*point, ok func(*point) bool) *point {
		var b *point
		occ := -1.0
		for _, pt := range ps {
			if ok(pt) {
				if o := row("", pt.runs[:sw.TuneSeeds]).Occupancy.Mean; o > occ {
					b, occ = pt, o
				}
			}
		}
		return b
	}
	brackets := make([]*bracket, len(sw.Scenarios))
	for i := range sw.Scenarios {
		b := bestOf(all[i], within)
		if b == nil {
			continue
		}
		br := &bracket{lo: 1, mid: b.v.MaxLevel, hi: b.v.MaxLevel, in: b.v.Intensity}
		for _, pt := range all[i] {
			if l := pt.v.MaxLevel; pt.v.Intensity == br.in {
				if l < br.mid {
					br.lo = max(br.lo, l)
				}
				if l > br.mid && (br.hi == br.mid || l < br.hi) {
					br.hi = l
				}
			}
		}
		brackets[i] = br
	}
	for range sw.RefineSteps {
		step := make([][]*point, len(sw.Scenarios))
		for i, br := range brackets {
			if br == nil {
				continue
			}
			for _, l := range []float64{(br.lo + br.mid) / 2, (br.mid + br.hi) / 2} {
				if l-br.lo >= 0.01 && br.hi-l >= 0.01 && l != br.mid {
					step[i] = append(step[i], &point{v: pacing.VicidialAdaptive{Mode: pacing.AdaptHardLimit, MaxLevel: l, Intensity: br.in}})
				}
			}
		}
		tune(step)
		for i, br := range brackets {
			if br == nil {
				continue
			}
			all[i] = append(all[i], step[i]...)
			b := bestOf(all[i], within)
			var left, right float64 = br.lo, br.hi
			for _, pt := range all[i] {
				if l := pt.v.MaxLevel; pt.v.Intensity == br.in && pt != b {
					if l < b.v.MaxLevel && l > left {
						left = l
					}
					if l > b.v.MaxLevel && l < right {
						right = l
					}
				}
			}
			if b.v.Intensity != br.in {
				brackets[i] = nil
				continue
			}
			br.lo, br.mid, br.hi = left, b.v.MaxLevel, max(right, b.v.MaxLevel)
		}
	}
	// Also the best point that kept every hour of every tuning seed at or
	// under the cap, as ctid's pacer must: at small teams VICIdial's best
	// by the day's mean breaks hours by far.
	hourly := func(pt *point) bool {
		if !within(pt) {
			return false
		}
		for _, r := range pt.runs[:sw.TuneSeeds] {
			if r.WorstHour > pacing.DefaultCap {
				return false
			}
		}
		return true
	}
	best := make([]*point, len(sw.Scenarios))
	bestHour := make([]*point, len(sw.Scenarios))
	jobs = jobs[:0]
	for i := range sw.Scenarios {
		for _, pt := range all[i] {
			if within(pt) {
				out[i].VicidialCandidates++
			}
		}
		if best[i] = bestOf(all[i], within); best[i] == nil {
			best[i] = all[i][0]
		}
		bestHour[i] = bestOf(all[i], hourly)
		for _, pt := range []*point{best[i], bestHour[i]} {
			if pt == nil || pt.runs[sw.Seeds-1].Policy != "" {
				continue // none, or the same point as best
			}
			for s := sw.TuneSeeds; s < sw.Seeds; s++ {
				cfg := sw.Scenarios[i].Config(uint64(s+1), sw.Day)
				v := pt.v
				jobs = append(jobs, job{func() Result { return Run(cfg, &v) }, &pt.runs[s]})
			}
			if sw.TuneSeeds < sw.Seeds {
				pt.runs[sw.Seeds-1].Policy = "queued"
			}
		}
	}
	runJobs(jobs, sw.Workers)
	name := func(v pacing.VicidialAdaptive) string {
		return fmt.Sprintf("vicidial ml %.2f int %+.0f", v.MaxLevel, v.Intensity)
	}
	for i := range sw.Scenarios {
		out[i].VicidialTuned = best[i].v
		out[i].Vicidial = row(name(best[i].v), best[i].runs)
		if pt := bestHour[i]; pt != nil {
			out[i].VicidialHourTuned = pt.v
			out[i].VicidialHour = row(name(pt.v), pt.runs)
		}
	}
	return out
}

// WriteTable prints the sweep: per scenario, the occupancy bound, then
// ctid's predictive, VICIdial tuned to its best, and progressive —
// occupancy mean ± sd over seeds, mean abandon rate, and the worst hour and
// worst day (whole-day rate) over every seed.
func WriteTable(w io.Writer, sw Sweep, res []ScenarioResult) {
	WriteHeader(w, sw)
	for _, r := range res {
		WriteRow(w, r)
	}
}

// WriteHeader prints the table's legend and column names.
func WriteHeader(w io.Writer, sw Sweep) {
	if sw.Day == 0 {
		sw.Day = 8 * time.Hour
	}
	fmt.Fprintf(w, "%d seeds per scenario, %s days, cap %.0f%%; occupancy = talk to people / logged-in time; bound = talk/(talk+wrap) ceiling;\n"+
		"ab%% = people abandoned / people answered, AMD false positives counted abandoned (mean over seeds); wHour, wDay = worst hour, worst day over all seeds;\n"+
		"vicidial = ADAPT_HARD_LIMIT tuned over max level × intensity, then max level refined, on %d seeds (best mean occupancy with mean ab%% ≤ cap), warm start level from a tuning day;\n"+
		"vici hourcap = the same, best point that kept every hour of the tuning seeds ≤ cap\n",
		sw.Seeds, sw.Day, 100*pacing.DefaultCap, sw.TuneSeeds)
	fmt.Fprintf(w, "%-6s %-5s %-5s %6s | %-22s %6s %6s %6s %6s | %-22s %6s %6s %6s %-16s | %-12s %6s %6s %-10s | %-12s %6s\n",
		"agents", "p", "mach", "bound", "ctid occ% mean±sd", "%bnd", "ab%", "wHour", "wDay",
		"vicidial occ% mean±sd", "ab%", "wHour", "wDay", "tuned",
		"vici hourcap", "ab%", "wHour", "tuned", "progressive", "wHour")
}

// WriteRow prints one scenario.
func WriteRow(w io.Writer, r ScenarioResult) {
	pct := func(s Stat) string { return fmt.Sprintf("%5.1f ± %.1f", 100*s.Mean, 100*s.SD) }
	vic, vab, vwh, vwd, tuned := "-", "-", "-", "-", "-"
	if r.Vicidial.Results != nil {
		vic, vab = pct(r.Vicidial.Occupancy), fmt.Sprintf("%.2f", 100*r.Vicidial.Abandon.Mean)
		vwh, vwd = fmt.Sprintf("%.2f", 100*r.Vicidial.WorstHour.Max), fmt.Sprintf("%.2f", 100*r.Vicidial.Abandon.Max)
		tuned = fmt.Sprintf("%.2f/%+.0f@%.2f", r.VicidialTuned.MaxLevel, r.VicidialTuned.Intensity, r.VicidialTuned.StartLevel)
	}
	hoc, hab, hwh, htu := "-", "-", "-", "-"
	if r.VicidialHour.Results != nil {
		hoc, hab = fmt.Sprintf("%5.1f ± %.1f", 100*r.VicidialHour.Occupancy.Mean, 100*r.VicidialHour.Occupancy.SD), fmt.Sprintf("%.2f", 100*r.VicidialHour.Abandon.Mean)
		hwh, htu = fmt.Sprintf("%.2f", 100*r.VicidialHour.WorstHour.Max), fmt.Sprintf("%.2f/%+.0f", r.VicidialHourTuned.MaxLevel, r.VicidialHourTuned.Intensity)
	}
	fmt.Fprintf(w, "%-6d %-5.2f %-5.0f %6.1f | %-22s %6.1f %6.2f %6.2f %6.2f | %-22s %6s %6s %6s %-16s | %-12s %6s %6s %-10s | %-12s %6.2f\n",
		r.Agents, r.AnswerProb, 100*r.MachineShare, 100*r.Bound,
		pct(r.Ctid.Occupancy), 100*r.Ctid.Occupancy.Mean/r.Bound, 100*r.Ctid.Abandon.Mean,
		100*r.Ctid.WorstHour.Max, 100*r.Ctid.Abandon.Max,
		vic, vab, vwh, vwd, tuned, hoc, hab, hwh, htu, pct(r.Prog.Occupancy), 100*r.Prog.WorstHour.Max)
}
