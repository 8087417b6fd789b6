package sim

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
)

// TestDebugPredictive traces one predictive day (SIM_DEBUG=agents,p).
func TestDebugPredictive(t *testing.T) {
	spec := os.Getenv("SIM_DEBUG")
	if spec == "" {
		t.Skip("set SIM_DEBUG=agents,p")
	}
	var n int
	var p float64
	fmt.Sscanf(spec, "%d,%g", &n, &p)
	cfg := Config{Agents: n, AnswerProb: p, Seed: 1}.Defaults()
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
		fmt.Printf("%s ready=%d busy=%d ring=%d wait=%d short=%d/%d day=%d/%d lambda=%s prog=%d risk=%d\n",
			s.Now.Format("15:04"), s.Ready, len(s.Busy), len(s.Ringing), s.Waiting, s.ShortAbandoned, s.ShortAnswered,
			s.Abandoned, s.Answered, strconv.FormatFloat(t.pr.Lambda(), 'g', 3, 64), t.pr.Stats.ProgressiveTicks, t.pr.Stats.AtRiskTicks)
	}
	return k
}
