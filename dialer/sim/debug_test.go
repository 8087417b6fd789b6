package sim

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
)

// TestDebugPredictive traces one predictive day (SIM_DEBUG=agents,p,machines,seed).
func TestDebugPredictive(t *testing.T) {
	spec := os.Getenv("SIM_DEBUG")
	if spec == "" {
		t.Skip("set SIM_DEBUG=agents,p,machines,seed")
	}
	var n, seed int
	var p, m float64
	fmt.Sscanf(spec, "%d,%g,%g,%d", &n, &p, &m, &seed)
	cfg := Scenario{n, p, m}.Config(uint64(max(seed, 1)), 8*time.Hour)
	pr := &pacing.Predictive{}
	tr := &tracer{Pacer: pr, pr: pr}
	r := Run(cfg, tr)
	fmt.Printf("%+v\n%+v\n", r, pr.Stats)
	fmt.Printf("predicted abandon rate %.4f\n", pr.Stats.PredictedAbandons/pr.Stats.PredictedAnswers)
}

type tracer struct {
	pacing.Pacer
	pr   *pacing.Predictive
	last time.Time
	n    int
}

func (t *tracer) Observe(e pacing.Event) { t.pr.Observe(e) }
func (t *tracer) Decide(s *pacing.Snapshot) int {
	k := t.Pacer.Decide(s)
	if s.Now.Sub(t.last) >= 5*time.Minute {
		t.last = s.Now
		fmt.Printf("%s ready=%d busy=%d ring=%d wait=%d short=%d/%d hour=%d/%d day=%d/%d lambda=%s prog=%d risk=%d\n",
			s.Now.Format("15:04"), s.Ready, len(s.Busy), len(s.Ringing), s.Waiting, s.Short.Abandoned, s.Short.Answered,
			s.Hour.Abandoned, s.Hour.Answered, s.Day.Abandoned, s.Day.Answered, strconv.FormatFloat(t.pr.Lambda(), 'g', 3, 64), t.pr.Stats.ProgressiveTicks, t.pr.Stats.AtRiskTicks)
	}
	return k
}
