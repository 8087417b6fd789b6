package pacing

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func snap(ready, talking, wrapping, ringing, waiting int) *Snapshot {
	s := &Snapshot{Now: t0, Ready: ready, Waiting: waiting}
	for range talking {
		s.Busy = append(s.Busy, Agent{Elapsed: 30 * time.Second})
	}
	for range wrapping {
		s.Busy = append(s.Busy, Agent{InWrap: true, Elapsed: 5 * time.Second})
	}
	for range ringing {
		s.Ringing = append(s.Ringing, 5*time.Second)
	}
	return s
}

func TestProgressiveAndFixedRatio(t *testing.T) {
	if n := (Progressive{}).Decide(snap(5, 3, 1, 2, 1)); n != 2 {
		t.Errorf("progressive %d", n)
	}
	if n := (Progressive{}).Decide(snap(1, 3, 1, 4, 0)); n != 0 {
		t.Errorf("progressive never negative: %d", n)
	}
	// 2 × (5 ready + 3 talking) = 16 calls in the system; 3 talking + 2
	// ringing + 1 waiting already → 10.
	if n := (FixedRatio{Ratio: 2}).Decide(snap(5, 3, 1, 2, 1)); n != 10 {
		t.Errorf("fixed ratio %d", n)
	}
}

func TestVicidialAdaptive(t *testing.T) {
	v := &VicidialAdaptive{}
	s := snap(4, 16, 0, 0, 0)
	// Agents waiting: the level rises every 15 s (by 1 + 4/20).
	for i := range 16 {
		s.Now = t0.Add(time.Duration(i) * time.Second)
		v.Decide(s)
	}
	if l := v.Level(); l < 1.19 || l > 1.21 {
		t.Fatalf("level %.3f after one interval with 4 of 20 agents waiting", l)
	}
	for i := 16; i < 200; i++ {
		s.Now = t0.Add(time.Duration(i) * time.Second)
		v.Decide(s)
	}
	if v.Level() != 3 {
		t.Fatalf("level %.3f, want capped at 3", v.Level())
	}
	// Over the drop target with > 50 answered: hard limit back to 1.
	s.Day = Tally{Answered: 100, Abandoned: 5}
	for i := 200; i < 216; i++ {
		s.Now = t0.Add(time.Duration(i) * time.Second)
		v.Decide(s)
	}
	if v.Level() != 1 {
		t.Fatalf("hard limit: level %.3f", v.Level())
	}
	// Tapered: early in the shift the level is not cut.
	tp := &VicidialAdaptive{Mode: AdaptTapered, ShiftEnd: t0.Add(12 * time.Hour)}
	s = snap(4, 16, 0, 0, 0)
	s.Day = Tally{Answered: 100, Abandoned: 5}
	for i := range 16 {
		s.Now = t0.Add(time.Duration(i) * time.Second)
		tp.Decide(s)
	}
	if tp.Level() < 1.19 {
		t.Fatalf("tapered cut early: %.3f", tp.Level())
	}
}

func TestWindow(t *testing.T) {
	w := Window{Span: time.Minute}
	w.Add(t0, false)
	w.Add(t0.Add(10*time.Second), true)
	w.AddMachine(t0.Add(20 * time.Second))
	if c := w.Counts(t0.Add(65 * time.Second)); c != (Tally{Answered: 1, Abandoned: 1, Machines: 1}) {
		t.Errorf("%+v", c)
	}
	w.Add(t0.Add(70*time.Second), false)
	if c := w.Counts(t0.Add(81 * time.Second)); c != (Tally{Answered: 1}) {
		t.Errorf("%+v", c)
	}
}

func TestPredictiveColdStartIsProgressive(t *testing.T) {
	p := &Predictive{}
	s := snap(10, 5, 0, 3, 0)
	if n := p.Decide(s); n != 7 {
		t.Errorf("cold start dialled %d, want progressive 7", n)
	}
}

// learned is a Predictive fed 400 outcomes: a quarter answered after
// 3–19 s, the rest failing at 25 s; talk 60–299 s, wrap 25–34 s.
func learned() *Predictive {
	p := &Predictive{}
	for i := range 400 {
		at := t0.Add(time.Duration(i) * time.Second)
		if i%4 == 0 {
			p.Observe(Event{Kind: Answered, At: at, Duration: time.Duration(3+i%17) * time.Second})
		} else {
			p.Observe(Event{Kind: Failed, At: at, Duration: 25 * time.Second})
		}
		p.Observe(Event{Kind: Talked, Duration: time.Duration(60+i%240) * time.Second})
		p.Observe(Event{Kind: Wrapped, Duration: time.Duration(25+i%10) * time.Second})
	}
	return p
}

func TestPredictiveLearnsAndOverdials(t *testing.T) {
	p := learned()
	// 10 ready agents, nothing ringing, a clean window: with p = 0.25 it
	// dials well beyond one per agent.
	s := snap(10, 40, 0, 0, 0)
	s.Day.Answered, s.Hour.Answered, s.Short.Answered = 400, 300, 200
	n := p.Decide(s)
	if n <= 10 || n > 80 {
		t.Errorf("dialled %d for 10 ready agents at p=0.25", n)
	}
	// The short window at the cap alone does not stop it (the cap is
	// judged over hours and days), though it dials less.
	s.Short.Abandoned = 6
	if m := p.Decide(s); m <= 10 || m > n {
		t.Errorf("short window at the cap: dialled %d, want between 11 and %d", m, n)
	}
	// The hour two abandons from the cap: back to progressive.
	s.Short.Abandoned, s.Hour.Abandoned = 0, 7
	if n := p.Decide(s); n != 10 {
		t.Errorf("at risk dialled %d, want progressive 10", n)
	}
}

func TestBinomTail(t *testing.T) {
	for _, c := range []struct {
		n    int
		p    float64
		m    int
		want float64
	}{
		{8, 0.25, 6, 8*math.Pow(0.25, 7)*0.75 + math.Pow(0.25, 8)}, // 7 or 8 of 8
		{10, 0.15, 5, 0.001383},
		{1, 0.5, 0, 0.5},
		{5, 0.3, -1, 1},
		{5, 0.3, 5, 0},
		{5000, 0.2, 1000, 0.49154}, // past the mode of a large floor: no underflow
		{5000, 0.2, 1200, 0},
	} {
		if got := binomTail(c.n, c.p, c.m); math.Abs(got-c.want) > 1e-4*max(1, c.want) && math.Abs(got-c.want) > 1e-6 {
			t.Errorf("binomTail(%d, %g, %d) = %g, want %g", c.n, c.p, c.m, got, c.want)
		}
	}
}

// TestBurstGuard: a small team near its hour's budget places no more calls
// than keep P(answers beyond the agents and the budget) under BurstRisk,
// and with room to spare it does place more.
func TestBurstGuard(t *testing.T) {
	p := learned()
	// 10 agents, 4 Ready, 6 just started talking (none will be free within
	// the answer window), 5 calls ringing; the hour holds 139 answers and
	// 2 abandons: about 2 abandons left to spend.
	s := snap(4, 6, 0, 5, 0)
	s.Day = Tally{Answered: 400, Abandoned: 2}
	s.Hour = Tally{Answered: 139, Abandoned: 2}
	n := p.Decide(s)
	flight := len(s.Ringing) + n
	room := 0.03*139 - 2
	takers := int(math.Floor(room + 4))
	if binomTail(flight, 0.25, takers) > BurstRisk && n > 0 {
		t.Errorf("dialled %d: %d in flight, P(more than %d answer) = %.2g over %g", n, flight, takers, binomTail(flight, 0.25, takers), BurstRisk)
	}
	// The same floor with a clean, fuller hour dials more.
	s.Hour = Tally{Answered: 400}
	if m := p.Decide(s); m <= n {
		t.Errorf("with room to spare dialled %d, not more than %d", m, n)
	}
	t.Logf("near the budget: %d calls (%d in flight); with room: more", n, flight)
}
