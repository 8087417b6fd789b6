package pacing

import "time"

// Window counts answered and abandoned calls over a sliding window, for
// the Snapshot's counters and for reports.
type Window struct {
	Span time.Duration

	ev   []windowEvent
	head int
	t    Tally
}

type windowEvent struct {
	at   time.Time
	kind uint8 // windowAnswered, windowAbandoned, windowMachine
}

const (
	windowAnswered uint8 = iota
	windowAbandoned
	windowMachine
)

// Add records a call answered by a live person at t, abandoned or not.
// Calls must be added in time order.
func (w *Window) Add(t time.Time, abandoned bool) {
	k := windowAnswered
	w.t.Answered++
	if abandoned {
		k = windowAbandoned
		w.t.Abandoned++
	}
	w.ev = append(w.ev, windowEvent{t, k})
}

// AddMachine records an AMD machine verdict at t.
func (w *Window) AddMachine(t time.Time) {
	w.t.Machines++
	w.ev = append(w.ev, windowEvent{t, windowMachine})
}

// Counts returns the window's counters over (now−Span, now].
func (w *Window) Counts(now time.Time) Tally {
	cut := now.Add(-w.Span)
	for w.head < len(w.ev) && !w.ev[w.head].at.After(cut) {
		switch w.ev[w.head].kind {
		case windowMachine:
			w.t.Machines--
		case windowAbandoned:
			w.t.Abandoned--
			w.t.Answered--
		default:
			w.t.Answered--
		}
		w.head++
	}
	if w.head > 1024 && w.head*2 > len(w.ev) {
		w.ev = append(w.ev[:0], w.ev[w.head:]...)
		w.head = 0
	}
	return w.t
}
