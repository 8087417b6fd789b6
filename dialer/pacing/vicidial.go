package pacing

import "time"

// VicidialMode selects what VicidialAdaptive does when the day's drop rate
// is over its target, as VICIdial's ADAPT_* dial methods do.
type VicidialMode int

const (
	// AdaptHardLimit drops the dial level to 1.0 while the drop rate is
	// over the target (VICIdial ADAPT_HARD_LIMIT).
	AdaptHardLimit VicidialMode = iota
	// AdaptTapered lets the level run early in the day and scales it down
	// as the shift's end nears (VICIdial ADAPT_TAPERED).
	AdaptTapered
	// AdaptAverage halves the level while over target (ADAPT_AVERAGE).
	AdaptAverage
)

// VicidialAdaptive is a VICIdial-style adaptive dial level, written from the
// behaviour of VICIdial's AST_VDadapt and AST_VDauto_dial (no code reused):
//
//   - calls to have in the system = dial level × active (ready + talking)
//     agents; new calls = that minus calls ringing, waiting and connected;
//   - every Interval (15 s) the level is multiplied by 1 + differential /
//     agents, where differential = average ready agents − average waiting
//     calls over the interval's per-second samples (plus DiffTarget),
//     scaled by Intensity, and clamped to [1, MaxLevel];
//   - once more than 50 calls were answered in the cap window, a drop rate
//     over DropTarget applies the mode's rule.
type VicidialAdaptive struct {
	Mode       VicidialMode
	DropTarget float64       // default the snapshot's cap
	MaxLevel   float64       // default 3.0
	Intensity  float64       // -40..40 as in VICIdial; 0 = neutral
	DiffTarget float64       // VICIdial adaptive_dl_diff_target
	Interval   time.Duration // default 15 s
	// StartLevel is the level of the first tick (default 1): a warm start
	// from where yesterday's dialling settled, instead of climbing from 1
	// (and overshooting) every morning.
	StartLevel float64
	// ShiftEnd (AdaptTapered): time of day after which the level is 1.0
	// when over target; 10 h before it the taper starts.
	ShiftEnd time.Time

	level                     float64
	sumReady, sumWait, sumAct float64
	samples                   int
	lastSample, lastAdapt     time.Time
}

// Name implements Pacer.
func (v *VicidialAdaptive) Name() string {
	switch v.Mode {
	case AdaptTapered:
		return "vicidial-tapered"
	case AdaptAverage:
		return "vicidial-average"
	}
	return "vicidial-hard"
}

// Level returns the current dial level.
func (v *VicidialAdaptive) Level() float64 { return v.level }

// Decide implements Pacer.
func (v *VicidialAdaptive) Decide(s *Snapshot) int {
	if v.level == 0 {
		v.level = max(1, v.StartLevel)
		v.lastAdapt, v.lastSample = s.Now, s.Now.Add(-time.Second)
	}
	if v.MaxLevel == 0 {
		v.MaxLevel = 3
	}
	if v.Interval == 0 {
		v.Interval = 15 * time.Second
	}
	if s.Now.Sub(v.lastSample) >= time.Second {
		v.lastSample = s.Now
		v.sumReady += float64(s.Ready)
		v.sumWait += float64(s.Waiting)
		v.sumAct += float64(s.Ready + s.InCall())
		v.samples++
	}
	if s.Now.Sub(v.lastAdapt) >= v.Interval && v.samples > 0 {
		v.adapt(s)
	}
	return dialLevelCalls(v.level, s)
}

func (v *VicidialAdaptive) adapt(s *Snapshot) {
	n := float64(v.samples)
	diff := v.sumReady/n - v.sumWait/n + v.DiffTarget
	agents := v.sumAct / n
	v.sumReady, v.sumWait, v.sumAct, v.samples = 0, 0, 0, 0
	v.lastAdapt = s.Now
	mul := 0.0
	if diff != 0 && agents != 0 {
		mul = diff / agents
	}
	im := v.Intensity / 100
	if mul < 0 {
		mul *= abs(im - 1)
	} else {
		mul *= im + 1
	}
	level := v.level * (1 + mul)
	level = min(level, v.MaxLevel)
	target := v.DropTarget
	if target == 0 {
		target = s.cap()
	}
	if ans, ab := s.Rates(s.Day); ans > 50 && ab/ans > target {
		switch v.Mode {
		case AdaptHardLimit:
			level = 1
		case AdaptAverage:
			level /= 2
		case AdaptTapered:
			left := v.ShiftEnd.Sub(s.Now)
			switch {
			case left < 0:
				level = 1
			case left < 10*time.Hour:
				level *= float64(left) / float64(10*time.Hour)
			}
		}
	}
	v.level = max(level, 1)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
