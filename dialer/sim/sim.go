// Package sim is a discrete-event simulation of an outbound campaign that
// drives the real pacing code (dialer/pacing) over a synthetic day. Every
// policy sees the same day: the numbers are dialled in the same order and
// each number's fate (answered or not, ring time, talk and wrap time) is
// drawn from a seeded generator by its position in the list, so differences
// between policies come from pacing alone.
package sim

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ctid/ctid/dialer/pacing"
)

// Config describes the synthetic day.
type Config struct {
	Agents     int
	AnswerProb float64 // live answer probability per dial
	Day        time.Duration
	Seed       uint64
	Tick       time.Duration // how often the pacer is asked (1 s)

	// Answered calls answer after MinAnswer..MaxAnswer (uniform) of
	// ringing. Unanswered calls end busy/congested after 1–6 s with
	// probability BusyFrac, else the dialler gives up at RingTimeout
	// (never under 15 s).
	MinAnswer, MaxAnswer time.Duration
	RingTimeout          time.Duration
	BusyFrac             float64

	// Talk time is lognormal with mean TalkMean and log-sd TalkSigma; wrap
	// is normal(WrapMean, WrapSD) clipped to at least 5 s.
	TalkMean  time.Duration
	TalkSigma float64
	WrapMean  time.Duration
	WrapSD    time.Duration

	Cap         float64       // maximum abandon rate
	CapWindow   time.Duration // window of the cap (24 h)
	ShortWindow time.Duration // check window (15 min)
}

// Defaults fills unset fields with the benchmark's day.
func (c Config) Defaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Day, 8*time.Hour)
	def(&c.Tick, time.Second)
	def(&c.MinAnswer, 3*time.Second)
	def(&c.MaxAnswer, 20*time.Second)
	def(&c.RingTimeout, 25*time.Second)
	def(&c.TalkMean, 180*time.Second)
	def(&c.WrapMean, 30*time.Second)
	def(&c.WrapSD, 8*time.Second)
	def(&c.CapWindow, 24*time.Hour)
	def(&c.ShortWindow, 15*time.Minute)
	if c.RingTimeout < 15*time.Second {
		c.RingTimeout = 15 * time.Second
	}
	if c.BusyFrac == 0 {
		c.BusyFrac = 0.15
	}
	if c.TalkSigma == 0 {
		c.TalkSigma = 0.8
	}
	if c.Cap == 0 {
		c.Cap = pacing.DefaultCap
	}
	if c.Agents == 0 {
		c.Agents = 20
	}
	if c.AnswerProb == 0 {
		c.AnswerProb = 0.25
	}
	return c
}

// Lead is the predetermined fate of one number.
type Lead struct {
	Answers bool
	Ring    time.Duration // to answer, or to the unanswered end
	Talk    time.Duration
	Wrap    time.Duration
}

// Leads generates the day's numbers lazily, identically for every run with
// the same config.
type Leads struct {
	cfg  Config
	rng  *rand.Rand
	list []Lead
}

func newLeads(cfg Config) *Leads {
	return &Leads{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed))}
}

func (l *Leads) At(i int) Lead {
	for len(l.list) <= i {
		l.list = append(l.list, l.gen())
	}
	return l.list[i]
}

func (l *Leads) gen() Lead {
	c, r := l.cfg, l.rng
	var ld Lead
	// Always draw the same number of values so each lead's fate depends
	// only on its position.
	u1, u2, u3, n1, n2 := r.Float64(), r.Float64(), r.Float64(), r.NormFloat64(), r.NormFloat64()
	ld.Answers = u1 < c.AnswerProb
	if ld.Answers {
		ld.Ring = c.MinAnswer + time.Duration(u2*float64(c.MaxAnswer-c.MinAnswer))
	} else if u3 < c.BusyFrac {
		ld.Ring = time.Second + time.Duration(u2*float64(5*time.Second))
	} else {
		ld.Ring = c.RingTimeout
	}
	mu := math.Log(c.TalkMean.Seconds()) - c.TalkSigma*c.TalkSigma/2
	ld.Talk = time.Duration(math.Exp(mu+c.TalkSigma*n1) * float64(time.Second))
	ld.Talk = max(ld.Talk, 5*time.Second)
	ld.Wrap = max(c.WrapMean+time.Duration(n2*float64(c.WrapSD)), 5*time.Second)
	return ld
}

// Result is one policy's day.
type Result struct {
	Policy                       string
	Dials, Answered, Abandoned   int
	Connected                    int
	Talk                         time.Duration
	Occupancy                    float64 // talk time / logged-in time
	AbandonRate                  float64 // abandoned / answered
	WorstShort, WorstHour        float64 // worst abandon rate over any short window / hour
	CallsPerAgentHour            float64 // connected calls
	DialsPerAgentHour            float64
	MeanCustomerWait             time.Duration // answered → agent, connected calls
	MaxRinging                   int
	PacerTicks, ProgressiveTicks int
}

type evKind uint8

const (
	evAnswer evKind = iota
	evFail
	evAbandonCheck
	evTalkEnd
	evWrapEnd
)

type event struct {
	at   time.Duration
	seq  int
	kind evKind
	id   int // call or agent
}

type evHeap []event

func (h evHeap) Len() int { return len(h) }
func (h evHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h evHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *evHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type callState uint8

const (
	cRinging callState = iota
	cWaiting
	cConnected
	cDone
)

type call struct {
	lead     int
	dialed   time.Duration
	answerAt time.Duration
	state    callState
}

type agentState uint8

const (
	aReady agentState = iota
	aTalk
	aWrap
)

type agent struct {
	state agentState
	since time.Duration
	call  int
	until time.Duration // end of the current phase (the oracle's view)
}

// world is one run.
type world struct {
	cfg    Config
	leads  *Leads
	pacer  pacing.Pacer
	learn  pacing.Learner
	epoch  time.Time
	now    time.Duration
	events evHeap
	seq    int

	calls   []call
	ringing map[int]struct{}
	waiting []int // FIFO of call ids (may hold stale entries)
	nWait   int
	agents  []agent
	readyQ  []int // FIFO of ready agents (longest idle first)
	next    int   // next lead to dial

	capW, shortW pacing.Window
	answers      []answerRec
	res          Result
	waitSum      time.Duration
}

type answerRec struct {
	at        time.Duration
	abandoned bool
}

// Run simulates one day of cfg with pacer p. A pacer that needs foresight
// (the Oracle) is given the simulated world as its Foresight.
func Run(cfg Config, p pacing.Pacer) Result {
	cfg = cfg.Defaults()
	w := &world{
		cfg:     cfg,
		leads:   newLeads(cfg),
		pacer:   p,
		epoch:   time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC),
		ringing: map[int]struct{}{},
		agents:  make([]agent, cfg.Agents),
		capW:    pacing.Window{Span: cfg.CapWindow},
		shortW:  pacing.Window{Span: cfg.ShortWindow},
	}
	if l, ok := p.(pacing.Learner); ok {
		w.learn = l
	}
	if o, ok := p.(*pacing.Oracle); ok {
		o.F = w
	}
	for i := range w.agents {
		w.readyQ = append(w.readyQ, i)
	}
	w.res.Policy = p.Name()
	w.run()
	return w.res
}

func (w *world) at(d time.Duration) time.Time { return w.epoch.Add(d) }

func (w *world) push(at time.Duration, k evKind, id int) {
	w.seq++
	heap.Push(&w.events, event{at: at, seq: w.seq, kind: k, id: id})
}

func (w *world) observe(k pacing.EventKind, d time.Duration) {
	if w.learn != nil {
		w.learn.Observe(pacing.Event{Kind: k, At: w.at(w.now), Duration: d})
	}
}

func (w *world) run() {
	snap := &pacing.Snapshot{Cap: w.cfg.Cap}
	for t := time.Duration(0); t < w.cfg.Day; t += w.cfg.Tick {
		w.process(t)
		w.now = t
		w.snapshot(snap)
		n := w.pacer.Decide(snap)
		w.res.PacerTicks++
		for range n {
			w.dial()
		}
		w.res.MaxRinging = max(w.res.MaxRinging, len(w.ringing))
	}
	// Let the calls in flight finish so their answers and abandons count;
	// talk is clipped at the end of the day.
	w.process(w.cfg.Day + time.Hour)
	w.finish()
}

func (w *world) process(until time.Duration) {
	for len(w.events) > 0 && w.events[0].at <= until {
		e := heap.Pop(&w.events).(event)
		w.now = e.at
		switch e.kind {
		case evAnswer:
			w.answer(e.id)
		case evFail:
			c := &w.calls[e.id]
			delete(w.ringing, e.id)
			c.state = cDone
			w.observe(pacing.Failed, w.now-c.dialed)
		case evAbandonCheck:
			c := &w.calls[e.id]
			if c.state == cWaiting {
				c.state = cDone
				w.nWait--
				w.res.Abandoned++
				w.record(c.answerAt, true)
				w.observe(pacing.Abandoned, 0)
			}
		case evTalkEnd:
			a := &w.agents[e.id]
			ld := w.leads.At(w.calls[a.call].lead)
			w.calls[a.call].state = cDone
			w.observe(pacing.Talked, ld.Talk)
			a.state, a.since, a.until = aWrap, w.now, w.now+ld.Wrap
			w.push(a.until, evWrapEnd, e.id)
		case evWrapEnd:
			a := &w.agents[e.id]
			w.observe(pacing.Wrapped, w.now-a.since)
			a.state, a.since = aReady, w.now
			w.readyQ = append(w.readyQ, e.id)
			w.serveWaiting()
		}
	}
}

func (w *world) dial() {
	id := len(w.calls)
	ld := w.leads.At(w.next)
	w.calls = append(w.calls, call{lead: w.next, dialed: w.now, state: cRinging})
	w.next++
	w.res.Dials++
	w.ringing[id] = struct{}{}
	if ld.Answers {
		w.calls[id].answerAt = w.now + ld.Ring
		w.push(w.now+ld.Ring, evAnswer, id)
	} else {
		w.push(w.now+ld.Ring, evFail, id)
	}
}

func (w *world) answer(id int) {
	c := &w.calls[id]
	delete(w.ringing, id)
	w.res.Answered++
	w.observe(pacing.Answered, w.now-c.dialed)
	c.state = cWaiting
	w.nWait++
	w.waiting = append(w.waiting, id)
	w.serveWaiting()
	if c.state == cWaiting {
		w.push(w.now+pacing.AbandonGrace, evAbandonCheck, id)
	}
}

// serveWaiting connects waiting calls to ready agents, FIFO both sides.
func (w *world) serveWaiting() {
	for len(w.readyQ) > 0 && len(w.waiting) > 0 {
		id := w.waiting[0]
		w.waiting = w.waiting[1:]
		c := &w.calls[id]
		if c.state != cWaiting {
			continue
		}
		ai := w.readyQ[0]
		w.readyQ = w.readyQ[1:]
		w.nWait--
		c.state = cConnected
		w.res.Connected++
		w.waitSum += w.now - c.answerAt
		w.record(c.answerAt, false)
		ld := w.leads.At(c.lead)
		a := &w.agents[ai]
		a.state, a.since, a.call, a.until = aTalk, w.now, id, w.now+ld.Talk
		w.push(a.until, evTalkEnd, ai)
		end := min(w.now+ld.Talk, w.cfg.Day)
		if end > w.now {
			w.res.Talk += end - w.now
		}
	}
	// Drop stale heads so the slice does not grow.
	for len(w.waiting) > 0 && w.calls[w.waiting[0]].state != cWaiting {
		w.waiting = w.waiting[1:]
	}
}

func (w *world) record(answeredAt time.Duration, abandoned bool) {
	w.answers = append(w.answers, answerRec{answeredAt, abandoned})
	// The pacer's windows count by outcome time (when it is known).
	w.capW.Add(w.at(w.now), abandoned)
	w.shortW.Add(w.at(w.now), abandoned)
}

func (w *world) snapshot(s *pacing.Snapshot) {
	s.Now = w.at(w.now)
	s.Ready = len(w.readyQ)
	s.Busy = s.Busy[:0]
	for i := range w.agents {
		a := &w.agents[i]
		if a.state != aReady {
			s.Busy = append(s.Busy, pacing.Agent{InWrap: a.state == aWrap, Elapsed: w.now - a.since})
		}
	}
	s.Ringing = s.Ringing[:0]
	for id := range w.ringing {
		s.Ringing = append(s.Ringing, w.now-w.calls[id].dialed)
	}
	s.Waiting = w.nWait
	s.Answered, s.Abandoned = w.capW.Counts(s.Now)
	s.ShortAnswered, s.ShortAbandoned = w.shortW.Counts(s.Now)
}

// Next implements pacing.Foresight.
func (w *world) Next(i int) pacing.Fate {
	ld := w.leads.At(w.next + i)
	return pacing.Fate{Answers: ld.Answers, Ring: ld.Ring}
}

// AgentsFreeIn implements pacing.Foresight.
func (w *world) AgentsFreeIn() []time.Duration {
	out := make([]time.Duration, len(w.agents))
	for i, a := range w.agents {
		switch a.state {
		case aTalk:
			out[i] = a.until - w.now + w.leads.At(w.calls[a.call].lead).Wrap
		case aWrap:
			out[i] = a.until - w.now
		}
	}
	return out
}

// AnswersIn implements pacing.Foresight.
func (w *world) AnswersIn() []time.Duration {
	var out []time.Duration
	for _, id := range w.waiting {
		if w.calls[id].state == cWaiting {
			out = append(out, 0)
		}
	}
	for id := range w.ringing {
		if c := w.calls[id]; w.leads.At(c.lead).Answers {
			out = append(out, c.answerAt-w.now)
		}
	}
	return out
}

func (w *world) finish() {
	r := &w.res
	hours := w.cfg.Day.Hours() * float64(w.cfg.Agents)
	r.Occupancy = r.Talk.Seconds() / (w.cfg.Day.Seconds() * float64(w.cfg.Agents))
	if r.Answered > 0 {
		r.AbandonRate = float64(r.Abandoned) / float64(r.Answered)
	}
	r.CallsPerAgentHour = float64(r.Connected) / hours
	r.DialsPerAgentHour = float64(r.Dials) / hours
	if r.Connected > 0 {
		r.MeanCustomerWait = w.waitSum / time.Duration(r.Connected)
	}
	r.WorstShort = worst(w.answers, w.cfg.ShortWindow, w.cfg.Day)
	r.WorstHour = worst(w.answers, time.Hour, w.cfg.Day)
	if p, ok := w.pacer.(*pacing.Predictive); ok {
		r.ProgressiveTicks = p.Stats.ProgressiveTicks + p.Stats.AtRiskTicks
	}
}

// worst is the highest abandon rate over any window of length span lying
// within the day, by answer time.
func worst(ans []answerRec, span, day time.Duration) float64 {
	// ans is in outcome order; sort by answer time.
	a := make([]answerRec, len(ans))
	copy(a, ans)
	slices.SortStableFunc(a, func(x, y answerRec) int { return int(x.at - y.at) })
	best := 0.0
	lo, n, ab := 0, 0, 0
	// Windows ending at each answer (and starting ≥ 0).
	for hi := range a {
		n++
		if a[hi].abandoned {
			ab++
		}
		for a[lo].at <= a[hi].at-span {
			n--
			if a[lo].abandoned {
				ab--
			}
			lo++
		}
		if a[hi].at >= span && a[hi].at <= day && n > 0 {
			best = max(best, float64(ab)/float64(n))
		}
	}
	return best
}
