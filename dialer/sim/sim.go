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
	Tick       time.Duration // how often the pacer is asked (2 s, the live worker's tick)

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

	// MachineShare is the share of answers that are answering machines
	// (0: every answer is a person). With AMD on, each answered call goes
	// through detection first; without it machines go to agents.
	MachineShare float64
	AMD          AMD

	// WarmUp is how many outcomes of "yesterday" (drawn from the same
	// distributions, another stream) learners are fed before the day
	// starts, as the live worker warms a restarted pacer up from the last
	// day's attempts (default 500; -1 for a cold start).
	WarmUp int

	Cap         float64       // maximum abandon rate
	CapWindow   time.Duration // window of the cap (24 h)
	ShortWindow time.Duration // check window (15 min)
}

// AMD models answering-machine detection (Asterisk's AMD() with amd.conf's
// defaults): a verdict some time after the answer, sometimes wrong.
type AMD struct {
	On bool
	// Time to a verdict after the answer, uniform: a person's "hello"
	// plus the 800 ms of silence after it; a machine's greeting running
	// past 1.5 s. NOTSURE comes at the 5 s analysis limit.
	HumanMin, HumanMax     time.Duration
	MachineMin, MachineMax time.Duration
	NotSureAt              time.Duration
	// FalsePositive: share of people called a machine (hung up on: an
	// abandoned call); FalseNegative: share of machines called human (an
	// agent gets them); NotSure: share of either the analysis gives up on
	// (treated as a person).
	FalsePositive, FalseNegative, NotSure float64
	// MachineTalk is how long an agent spends on a machine AMD passed
	// before hanging up (uniform 5 s .. MachineTalk).
	MachineTalk time.Duration
	// Grace: how long a contact AMD called human may wait for an agent
	// (the 2 s run from the end of the greeting; AMD has listened to
	// 800 ms of the silence after it).
	Grace time.Duration
}

// Defaults fills unset fields with the benchmark's day.
func (c Config) Defaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Day, 8*time.Hour)
	def(&c.Tick, 2*time.Second)
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
	if c.WarmUp == 0 {
		c.WarmUp = 500
	}
	if c.AMD.On {
		a := &c.AMD
		def(&a.HumanMin, 1200*time.Millisecond)
		def(&a.HumanMax, 2500*time.Millisecond)
		def(&a.MachineMin, 1600*time.Millisecond)
		def(&a.MachineMax, 3500*time.Millisecond)
		def(&a.NotSureAt, 5*time.Second)
		def(&a.MachineTalk, 15*time.Second)
		def(&a.Grace, pacing.AbandonGrace-800*time.Millisecond)
		if a.FalsePositive == 0 {
			a.FalsePositive = 0.01
		}
		if a.FalseNegative == 0 {
			a.FalseNegative = 0.10
		}
		if a.NotSure == 0 {
			a.NotSure = 0.05
		}
	}
	if c.AnswerProb == 0 {
		c.AnswerProb = 0.25
	}
	return c
}

// Verdict is what answering-machine detection says.
type Verdict uint8

// Verdicts.
const (
	Human Verdict = iota
	Machine
	NotSure
)

// Lead is the predetermined fate of one number.
type Lead struct {
	Answers bool
	Machine bool          // answered by a machine
	Ring    time.Duration // to answer, or to the unanswered end
	Verdict Verdict       // AMD's verdict (AMD on)
	AMD     time.Duration // AMD's time to the verdict
	Talk    time.Duration // agent time on the call (short for a machine)
	Wrap    time.Duration
}

// Agent reports whether the answered call goes to an agent: a person, or
// a machine AMD passed (or any answer without AMD).
func (l Lead) toAgent(amd bool) bool {
	return l.Answers && (!amd || l.Verdict != Machine)
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

// yesterday is another stream of the same distributions, for warm-up.
func yesterday(cfg Config) *Leads {
	return &Leads{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7e57e7da7))}
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
	u4, u5, u6 := r.Float64(), r.Float64(), r.Float64()
	ld.Answers = u1 < c.AnswerProb
	if ld.Answers {
		ld.Ring = c.MinAnswer + time.Duration(u2*float64(c.MaxAnswer-c.MinAnswer))
		ld.Machine = u4 < c.MachineShare
	} else if u3 < c.BusyFrac {
		ld.Ring = time.Second + time.Duration(u2*float64(5*time.Second))
	} else {
		ld.Ring = c.RingTimeout
	}
	mu := math.Log(c.TalkMean.Seconds()) - c.TalkSigma*c.TalkSigma/2
	ld.Talk = time.Duration(math.Exp(mu+c.TalkSigma*n1) * float64(time.Second))
	ld.Talk = max(ld.Talk, 5*time.Second)
	ld.Wrap = max(c.WrapMean+time.Duration(n2*float64(c.WrapSD)), 5*time.Second)
	if a := c.AMD; a.On && ld.Answers {
		wrong := a.FalsePositive
		ld.Verdict, ld.AMD = Human, a.HumanMin+time.Duration(u6*float64(a.HumanMax-a.HumanMin))
		if ld.Machine {
			wrong = a.FalseNegative
			ld.Verdict, ld.AMD = Machine, a.MachineMin+time.Duration(u6*float64(a.MachineMax-a.MachineMin))
		}
		switch {
		case u5 < a.NotSure:
			ld.Verdict, ld.AMD = NotSure, a.NotSureAt
		case u5 < a.NotSure+wrong:
			ld.Verdict = 1 - ld.Verdict // Human ↔ Machine
		}
	}
	if ld.Machine {
		ld.Talk = 5*time.Second + time.Duration(u3*float64(max(c.AMD.MachineTalk, 15*time.Second)-5*time.Second))
	}
	return ld
}

// Result is one policy's day. Answered and Abandoned are the truth a
// regulator asks for: people who answered (AMD false positives included,
// hung up on: abandoned), not machines.
type Result struct {
	Policy                     string
	Dials, Answered, Abandoned int
	Connected                  int // people connected to an agent
	FalsePositives             int // people AMD called a machine
	Machines                   int // machine verdicts (true and false)
	MachinesToAgents           int // machines AMD passed to an agent
	Talk                       time.Duration
	Occupancy                  float64 // agent time talking to people / logged-in time
	AbandonRate                float64 // abandoned / answered (people)
	// Dialler-visible rate: what the dialler's own counters say, with the
	// AMD false positives estimated in (as the pacer sees it).
	RecordedRate          float64
	WorstShort, WorstHour float64 // worst abandon rate over any short window / hour
	CallsPerAgentHour     float64 // connected calls
	DialsPerAgentHour     float64
	MeanCustomerWait      time.Duration // answered → agent, connected calls
	MaxRinging            int
	PacerTicks            int
	ProgressiveTicks      int
	MeanLevel             float64 // VICIdial: mean dial level over the day
}

type evKind uint8

const (
	evAnswer evKind = iota
	evVerdict
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
	amd      bool // placed with AMD
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

	capW, hourW, shortW pacing.Window
	machineFalse        float64
	floor               pacing.Floor
	answers             []answerRec
	res                 Result
	waitSum             time.Duration
	recAns, recAb       float64
	levelSum            float64
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
		hourW:   pacing.Window{Span: time.Hour},
		shortW:  pacing.Window{Span: cfg.ShortWindow},
	}
	w.machineFalse = cfg.MachineFalse()
	if l, ok := p.(pacing.Learner); ok {
		w.learn = l
		warmUp(cfg, l, w.epoch)
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

// MachineFalse is the share of AMD machine verdicts that are people, as
// an operator measures it by listening to a sample; the pacer is told it.
func (c Config) MachineFalse() float64 {
	a := c.AMD
	if !a.On {
		return 0
	}
	people := (1 - c.MachineShare) * a.FalsePositive
	machines := c.MachineShare * (1 - a.NotSure - a.FalseNegative)
	if people+machines == 0 {
		return 0
	}
	return people / (people + machines)
}

// warmUp feeds a learner yesterday's last outcomes, as the live worker
// does for a restarted pacer (its last 500 attempts and the handle times
// of the day).
func warmUp(cfg Config, l pacing.Learner, epoch time.Time) {
	if cfg.WarmUp <= 0 {
		return
	}
	y := yesterday(cfg)
	at := epoch.Add(-time.Hour)
	for i := range cfg.WarmUp {
		ld := y.At(i)
		at = at.Add(time.Second)
		switch {
		case ld.toAgent(cfg.AMD.On):
			d := ld.Ring
			if cfg.AMD.On {
				d += ld.AMD
			}
			l.Observe(pacing.Event{Kind: pacing.Answered, At: at, Duration: d})
			l.Observe(pacing.Event{Kind: pacing.Talked, At: at, Duration: ld.Talk})
			l.Observe(pacing.Event{Kind: pacing.Wrapped, At: at, Duration: ld.Wrap})
		case ld.Answers: // a machine verdict: resolved without an agent
			l.Observe(pacing.Event{Kind: pacing.Failed, At: at, Duration: ld.Ring + ld.AMD})
		default:
			l.Observe(pacing.Event{Kind: pacing.Failed, At: at, Duration: ld.Ring})
		}
	}
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
	snap := &pacing.Snapshot{Cap: w.cfg.Cap, MachineFalse: w.machineFalse}
	if w.cfg.AMD.On {
		snap.Grace = w.cfg.AMD.Grace
	}
	vd, _ := w.pacer.(*pacing.VicidialAdaptive)
	rs, _ := w.pacer.(pacing.Restrainer)
	for t := time.Duration(0); t < w.cfg.Day; t += w.cfg.Tick {
		w.process(t)
		w.now = t
		w.snapshot(snap)
		n := w.pacer.Decide(snap)
		w.res.PacerTicks++
		if vd != nil {
			w.levelSum += vd.Level()
		}
		amd := w.cfg.AMD.On && (rs == nil || !rs.Restrained())
		for range n {
			w.dial(amd)
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
			if w.calls[e.id].amd {
				// Answered: AMD listens first; to the pacer the call is
				// still unresolved.
				w.push(w.now+w.leads.At(w.calls[e.id].lead).AMD, evVerdict, e.id)
				continue
			}
			w.answer(e.id)
		case evVerdict:
			c := &w.calls[e.id]
			ld := w.leads.At(c.lead)
			if ld.Verdict != Machine {
				w.answer(e.id)
				continue
			}
			delete(w.ringing, e.id)
			c.state = cDone
			w.res.Machines++
			w.capW.AddMachine(w.at(w.now))
			w.hourW.AddMachine(w.at(w.now))
			w.shortW.AddMachine(w.at(w.now))
			w.recAns += w.machineFalse
			w.recAb += w.machineFalse
			w.observe(pacing.Failed, w.now-c.dialed)
			if !ld.Machine { // a person hung up on: abandoned
				w.res.FalsePositives++
				w.res.Answered++
				w.res.Abandoned++
				w.answers = append(w.answers, answerRec{c.answerAt, true})
			}
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
				w.record(c, true)
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

func (w *world) dial(amd bool) {
	id := len(w.calls)
	ld := w.leads.At(w.next)
	w.calls = append(w.calls, call{amd: amd, lead: w.next, dialed: w.now, state: cRinging})
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
	w.observe(pacing.Answered, w.now-c.dialed)
	c.state = cWaiting
	w.nWait++
	w.waiting = append(w.waiting, id)
	w.serveWaiting()
	if c.state == cWaiting {
		grace := pacing.AbandonGrace
		if c.amd {
			grace = w.cfg.AMD.Grace
		}
		w.push(w.now+grace, evAbandonCheck, id)
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
		w.record(c, false)
		ld := w.leads.At(c.lead)
		a := &w.agents[ai]
		a.state, a.since, a.call, a.until = aTalk, w.now, id, w.now+ld.Talk
		w.push(a.until, evTalkEnd, ai)
		end := min(w.now+ld.Talk, w.cfg.Day)
		if end > w.now && !ld.Machine { // time with a machine is not occupancy
			w.res.Talk += end - w.now
		}
	}
	// Drop stale heads so the slice does not grow.
	for len(w.waiting) > 0 && w.calls[w.waiting[0]].state != cWaiting {
		w.waiting = w.waiting[1:]
	}
}

// record counts a call the dialler took for a person, connected or
// abandoned: in the pacer's windows as the dialler sees it, in the truth
// only when it was a person (a machine AMD passed is not).
func (w *world) record(c *call, abandoned bool) {
	// The pacer's windows count by outcome time (when it is known).
	w.capW.Add(w.at(w.now), abandoned)
	w.hourW.Add(w.at(w.now), abandoned)
	w.shortW.Add(w.at(w.now), abandoned)
	w.recAns++
	if abandoned {
		w.recAb++
	}
	if w.leads.At(c.lead).Machine {
		if !abandoned {
			w.res.MachinesToAgents++
		}
		return
	}
	w.answers = append(w.answers, answerRec{c.answerAt, abandoned})
	w.res.Answered++
	if abandoned {
		w.res.Abandoned++
	} else {
		w.res.Connected++
		w.waitSum += w.now - c.answerAt
	}
}

// snapshot builds the pacer's view through pacing.Floor, as the live
// worker does from the engine's CampaignLoad.
func (w *world) snapshot(s *pacing.Snapshot) {
	f := &w.floor
	f.Ready = len(w.readyQ)
	f.Talking, f.Wrapping, f.Ringing = f.Talking[:0], f.Wrapping[:0], f.Ringing[:0]
	for i := range w.agents {
		switch a := &w.agents[i]; a.state {
		case aTalk:
			f.Talking = append(f.Talking, w.now-a.since)
		case aWrap:
			f.Wrapping = append(f.Wrapping, w.now-a.since)
		}
	}
	for id := range w.ringing {
		f.Ringing = append(f.Ringing, w.now-w.calls[id].dialed)
	}
	f.Waiting = w.nWait
	f.Fill(s, w.at(w.now))
	s.Day = w.capW.Counts(s.Now)
	s.Hour = w.hourW.Counts(s.Now)
	s.Short = w.shortW.Counts(s.Now)
}

// Next implements pacing.Foresight.
func (w *world) Next(i int) pacing.Fate {
	ld := w.leads.At(w.next + i)
	if w.cfg.AMD.On {
		return pacing.Fate{Answers: ld.toAgent(true), Ring: ld.Ring + ld.AMD}
	}
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
		if c := w.calls[id]; w.leads.At(c.lead).toAgent(w.cfg.AMD.On) {
			at := c.answerAt
			if w.cfg.AMD.On {
				at += w.leads.At(c.lead).AMD
			}
			out = append(out, at-w.now)
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
	if w.recAns > 0 {
		r.RecordedRate = w.recAb / w.recAns
	}
	if r.PacerTicks > 0 {
		r.MeanLevel = w.levelSum / float64(r.PacerTicks)
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
