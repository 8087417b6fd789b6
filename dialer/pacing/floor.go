package pacing

import "time"

// Floor is a campaign's floor as its owner sees it: the CTI engine for the
// live dialler (dialer.Worker), the event queue for the simulator
// (dialer/sim). Both build the pacer's Snapshot from it with Fill, so a
// pacer sees the same kind of picture in the benchmark as in production:
// the same fields, the same units, nothing the live dialler cannot know.
type Floor struct {
	// Ready agents are idle and can take a call now.
	Ready int
	// Talking holds, for each agent on a call, the time since it
	// connected.
	Talking []time.Duration
	// Wrapping holds, for each agent in wrap, the time since wrap began.
	Wrapping []time.Duration
	// Ringing holds, for each call dialled and not yet resolved (ringing,
	// or answered and still in answering-machine detection), the time
	// since it was dialled.
	Ringing []time.Duration
	// Waiting counts calls a person answered that wait for an agent.
	Waiting int
}

// Tally is one window's counters, by outcome time.
type Tally struct {
	// Answered: calls answered by a live person as far as the dialler can
	// tell (AMD said human or was not sure), connected or abandoned.
	Answered int
	// Abandoned: of those, calls that found no agent within AbandonGrace.
	Abandoned int
	// Machines: AMD "machine" verdicts (hung up on, or left a message).
	// Some were people (AMD false positives): Ofcom counts those as
	// abandoned, so Rates adds an estimate of them to both counts.
	Machines int
}

// Rates returns the window's answered and abandoned calls for the cap,
// counting the share machineFalse of machine verdicts (the estimated AMD
// false positive share) as people answered and abandoned.
func (t Tally) Rates(machineFalse float64) (answered, abandoned float64) {
	fp := machineFalse * float64(t.Machines)
	return float64(t.Answered) + fp, float64(t.Abandoned) + fp
}

// Windows are the counters a Snapshot carries: the cap window (24 h),
// the hour, and the short check window (15 min).
type Windows struct{ Day, Hour, Short Tally }

// Fill makes s the snapshot of f at now, reusing s's slices; the counters,
// cap and AMD false-positive share are the caller's (Windows, Cap,
// MachineFalse).
func (f *Floor) Fill(s *Snapshot, now time.Time) {
	s.Now = now
	s.Ready = f.Ready
	s.Busy = s.Busy[:0]
	for _, d := range f.Talking {
		s.Busy = append(s.Busy, Agent{Elapsed: d})
	}
	for _, d := range f.Wrapping {
		s.Busy = append(s.Busy, Agent{InWrap: true, Elapsed: d})
	}
	s.Ringing = append(s.Ringing[:0], f.Ringing...)
	s.Waiting = f.Waiting
}
