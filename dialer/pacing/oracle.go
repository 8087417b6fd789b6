package pacing

import (
	"slices"
	"time"
)

// Fate is what will happen to a call if it is dialled.
type Fate struct {
	Answers bool
	Ring    time.Duration // until answered (Answers) or until it ends
}

// Foresight is what the Oracle knows that no real pacer can: the future.
// The simulator implements it.
type Foresight interface {
	// Next returns the fate of the i-th number not yet dialled (0 = next).
	Next(i int) Fate
	// AgentsFreeIn returns, for every logged-in agent, how long until the
	// agent is free (0 when ready now).
	AgentsFreeIn() []time.Duration
	// AnswersIn returns, for every call waiting for an agent (0) or ringing
	// and bound to be answered, how long until it needs an agent.
	AnswersIn() []time.Duration
}

// Oracle knows each call's outcome and every duration in advance. It dials
// unanswerable numbers at once (they cost no agent time) and an answering
// number as soon as an agent is certain to be free within AbandonGrace of
// its answer: the upper bound for occupancy at zero abandons.
type Oracle struct {
	F Foresight
	// Slack is how long before an agent frees up the contact may answer
	// (default 1.5 s, inside AbandonGrace).
	Slack time.Duration

	free, pend []time.Duration
}

// Name implements Pacer.
func (o *Oracle) Name() string { return "oracle" }

// Decide implements Pacer.
func (o *Oracle) Decide(s *Snapshot) int {
	if o.Slack == 0 {
		o.Slack = AbandonGrace * 3 / 4
	}
	o.free = append(o.free[:0], o.F.AgentsFreeIn()...)
	slices.Sort(o.free)
	o.pend = append(o.pend[:0], o.F.AnswersIn()...)
	slices.Sort(o.pend)
	k := 0
	for ; k < 10000; k++ {
		f := o.F.Next(k)
		if !f.Answers {
			continue
		}
		j, _ := slices.BinarySearch(o.pend, f.Ring)
		o.pend = slices.Insert(o.pend, j, f.Ring)
		if !o.feasible() {
			break
		}
	}
	return k
}

// feasible: matching answers to agents in time order (which is optimal),
// every contact gets an agent within Slack of answering.
func (o *Oracle) feasible() bool {
	if len(o.pend) > len(o.free) {
		return false
	}
	for i, a := range o.pend {
		if o.free[i] > a+o.Slack {
			return false
		}
	}
	return true
}
