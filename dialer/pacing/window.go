package pacing

import "time"

// Window counts answered and abandoned calls over a sliding window, for
// the Snapshot's counters and for reports.
type Window struct {
	Span time.Duration

	ev                  []windowEvent
	head                int
	answered, abandoned int
}

type windowEvent struct {
	at        time.Time
	abandoned bool
}

// Add records a call answered by a live person at t, abandoned or not.
// Calls must be added in time order.
func (w *Window) Add(t time.Time, abandoned bool) {
	w.ev = append(w.ev, windowEvent{t, abandoned})
	w.answered++
	if abandoned {
		w.abandoned++
	}
}

// Counts returns the answered and abandoned calls in (now−Span, now].
func (w *Window) Counts(now time.Time) (answered, abandoned int) {
	cut := now.Add(-w.Span)
	for w.head < len(w.ev) && !w.ev[w.head].at.After(cut) {
		w.answered--
		if w.ev[w.head].abandoned {
			w.abandoned--
		}
		w.head++
	}
	if w.head > 1024 && w.head*2 > len(w.ev) {
		w.ev = append(w.ev[:0], w.ev[w.head:]...)
		w.head = 0
	}
	return w.answered, w.abandoned
}
