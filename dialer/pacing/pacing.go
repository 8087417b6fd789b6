// Package pacing decides how many outbound calls a campaign places now.
//
// A Pacer is asked once per tick (2 s in the live worker and the
// simulator) with a Snapshot of the campaign, built by Floor.Fill from the
// same floor view in both: agents ready, talking and wrapping (with their
// elapsed times), calls ringing or in answering-machine detection, answered
// calls waiting, and the abandon counters of the day, the hour and the
// last 15 minutes (AMD machine verdicts counted apart). It answers with
// the number of new calls to dial. Policies: Progressive, FixedRatio,
// VicidialAdaptive (the VICIdial-style adaptive dial level), Predictive
// (ctid's) and Oracle (a foresight pacer for experiments; it is not an
// upper bound: dialler/sim's Ceiling is). Pacers that learn from outcomes
// implement Learner; the live dialler and the simulator feed them the same
// events. A pacer that can tell the cap is at risk implements Restrainer,
// and the dialler then places calls without AMD.
package pacing

import (
	"time"
)

// DefaultCap is the default maximum abandon rate (abandoned / answered by a
// live person): the US FCC/TSR and UK Ofcom figure.
const DefaultCap = 0.03

// AbandonGrace is how long an answered contact may wait for an agent before
// the call counts as abandoned.
const AbandonGrace = 2 * time.Second

// ShortWindow is the span of the Windows' short check window.
const ShortWindow = 15 * time.Minute

// Agent is a logged-in, non-paused agent who is not ready: on a call or in
// wrap.
type Agent struct {
	InWrap  bool          // false: talking
	Elapsed time.Duration // time in the current phase (talk or wrap)
}

// Snapshot is the campaign state a pacer decides on. Floor.Fill builds
// its floor fields (the live dialler and the simulator both use it).
type Snapshot struct {
	Now time.Time
	// Ready agents are idle and can take a call now.
	Ready int
	// Busy agents are talking or wrapping (paused agents are left out).
	Busy []Agent
	// Ringing holds the elapsed time of every call dialled and not yet
	// resolved (ringing, or in answering-machine detection).
	Ringing []time.Duration
	// Waiting counts answered calls not yet connected to an agent (still
	// within the grace).
	Waiting int
	// Windows holds the counters of the cap window (Day, e.g. 24 h), the
	// last hour and the short check window (e.g. 15 min).
	Windows
	// MachineFalse is the estimated share of AMD machine verdicts that
	// were people (counted as abandoned, Ofcom); 0 without AMD.
	MachineFalse float64
	// Cap is the maximum abandon rate; 0 means DefaultCap.
	Cap float64
	// Grace is how long an answered contact may wait for an agent once the
	// dialler knows a person answered; 0 means AbandonGrace. With AMD it
	// is shorter: the regulators' 2 s run from the end of the greeting and
	// AMD spends some of them listening to the silence after it.
	Grace time.Duration
}

func (s *Snapshot) cap() float64 {
	if s.Cap <= 0 {
		return DefaultCap
	}
	return s.Cap
}

func (s *Snapshot) grace() time.Duration {
	if s.Grace <= 0 {
		return AbandonGrace
	}
	return s.Grace
}

// Rates returns a window's answered and abandoned calls as the cap counts
// them (AMD false positives estimated in).
func (s *Snapshot) Rates(t Tally) (answered, abandoned float64) { return t.Rates(s.MachineFalse) }

// InCall counts busy agents who are talking.
func (s *Snapshot) InCall() int {
	n := 0
	for _, a := range s.Busy {
		if !a.InWrap {
			n++
		}
	}
	return n
}

// Pacer decides how many calls to place now.
type Pacer interface {
	Name() string
	Decide(s *Snapshot) int
}

// EventKind says what an Event reports.
type EventKind int

const (
	// Answered: a call was answered by a live person after Duration of
	// ringing.
	Answered EventKind = iota
	// Failed: a call ended unanswered (no answer, busy, congestion) after
	// Duration.
	Failed
	// Talked: an agent finished a call of Duration.
	Talked
	// Wrapped: an agent finished wrap of Duration.
	Wrapped
	// Abandoned: an answered call found no agent within AbandonGrace.
	Abandoned
)

// Event is an outcome a Learner learns from.
type Event struct {
	Kind     EventKind
	At       time.Time
	Duration time.Duration
}

// Learner is implemented by pacers that learn from outcomes.
type Learner interface {
	Observe(e Event)
}

// Restrainer is implemented by pacers that can tell the abandon cap is at
// risk over the hour or the day. The dialler then places calls without
// answering-machine detection: its false positives (people hung up on)
// count as abandoned, and only not detecting stops them; machines go to
// agents meanwhile.
type Restrainer interface{ Restrained() bool }

// Progressive places one call per free agent: ready agents not already
// covered by a call ringing or waiting. It never abandons a call.
type Progressive struct{}

// Name implements Pacer.
func (Progressive) Name() string { return "progressive" }

// Decide implements Pacer.
func (Progressive) Decide(s *Snapshot) int {
	return max(0, s.Ready-len(s.Ringing)-s.Waiting)
}

// FixedRatio keeps Ratio calls in the system per active (ready or talking)
// agent, counting calls ringing, waiting and connected: a static dial level.
type FixedRatio struct{ Ratio float64 }

// Name implements Pacer.
func (f FixedRatio) Name() string { return "fixed-ratio" }

// Decide implements Pacer.
func (f FixedRatio) Decide(s *Snapshot) int {
	return dialLevelCalls(f.Ratio, s)
}

// dialLevelCalls is VICIdial's goal: level × active agents, minus calls
// already in the system (ringing, waiting, connected).
func dialLevelCalls(level float64, s *Snapshot) int {
	inCall := s.InCall()
	active := s.Ready + inCall
	goal := int(level*float64(active) + 0.5)
	return max(0, goal-len(s.Ringing)-s.Waiting-inCall)
}
