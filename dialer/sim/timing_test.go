package sim

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
)

func TestTimingDebug(t *testing.T) {
	if os.Getenv("SIM_TIMING") == "" {
		t.Skip()
	}
	for _, sc := range []Scenario{{10, 0.25, 0}, {200, 0.15, 0.3}, {200, 0.35, 0}} {
		cfg := sc.Config(1, 8*time.Hour)
		for _, p := range []pacing.Pacer{&pacing.Predictive{}, pacing.Progressive{}, &pacing.VicidialAdaptive{MaxLevel: 3}} {
			t0 := time.Now()
			r := Run(cfg, p)
			fmt.Printf("%s %s %.3fs occ %.3f ab %.4f wh %.4f bound %.3f\n", sc, p.Name(), time.Since(t0).Seconds(), r.Occupancy, r.AbandonRate, r.WorstHour, Ceiling(cfg))
		}
	}
}

func TestSweepDebug(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SIM_SWEEP"))
	if n == 0 {
		t.Skip()
	}
	sw := Sweep{Seeds: n, TuneSeeds: 3, NoVicidial: os.Getenv("SIM_NOVICI") != ""}
	for _, spec := range strings.Split(os.Getenv("SIM_ONLY"), ";") {
		var sc Scenario
		if n, _ := fmt.Sscanf(spec, "%d,%g,%g", &sc.Agents, &sc.AnswerProb, &sc.MachineShare); n == 3 {
			sw.Scenarios = append(sw.Scenarios, sc)
		}
	}
	if a, _ := strconv.Atoi(os.Getenv("SIM_AGENTS")); a > 0 {
		for _, sc := range Scenarios {
			if sc.Agents <= a {
				sw.Scenarios = append(sw.Scenarios, sc)
			}
		}
	}
	t0 := time.Now()
	res := sw.Run()
	WriteTable(os.Stdout, sw, res)
	for _, r := range res {
		fmt.Printf("%s: ctid worst hour %.4f%%, worst day %.4f%%\n", r.Scenario, 100*r.Ctid.WorstHour.Max, 100*r.Ctid.Abandon.Max)
	}
	fmt.Println(time.Since(t0))
}
