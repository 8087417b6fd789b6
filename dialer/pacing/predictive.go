package pacing

import (
	"math"
	"time"
)

// Predictive is ctid's predictive pacing.
//
// It learns, from the campaign's own outcomes, the live-answer probability,
// the ring time of answered and of unanswered calls, and the talk and wrap
// time distributions (empirical, 1-second bins, the last few hundred
// samples). Each tick it estimates, for every instant τ of the next
// answer window (the ring time of answered calls), the number of agents
// free by τ+2 s (ready agents plus each busy agent's chance of finishing,
// given how long they have already talked or wrapped) and the number of
// answered calls needing an agent by τ (waiting calls plus each ringing
// call's chance of being answered by then, given its elapsed ring time). A
// new call is placed while its marginal abandon probability — the chance
// that, if answered, it finds every agent taken — stays under a threshold
// λ; sums of Bernoulli variables are taken as normal.
//
// An abandon-budget controller sets λ: it tracks abandoned/answered in the
// short window (e.g. 15 min), the hour and the cap window (e.g. 24 h),
// raises λ while the predicted rate is under Target×cap and lowers it when
// over (the more of the short window's or the hour's budget is spent, the
// lower), and falls back to Progressive whenever two more abandons would
// put the hour or the cap window at the cap (or until enough outcomes have
// been seen to estimate anything). A burst guard bounds the calls in
// flight by the exact binomial tail of their answers against what is left
// of the budget.
type Predictive struct {
	// Target is the fraction of the cap the controller aims at in the
	// short window (default 0.5); the rest is margin for chance.
	Target float64
	// MinOutcomes is the number of call outcomes, and MinHandles of talk
	// and wrap samples, needed before predicting (default 200 and 50);
	// until then the pacer is progressive.
	MinOutcomes, MinHandles int
	// Samples is how many recent samples each distribution keeps
	// (default 500).
	Samples int
	// Refresh is how often the model tables are rebuilt (default 5 min).
	Refresh time.Duration
	// Gain is the controller's integral gain per minute (default 2).
	Gain float64
	// EWMA is the time constant of the predicted-rate average (default
	// 2 min).
	EWMA time.Duration
	// BiasWindow is how far back realized and predicted abandons are
	// compared (default 24 h, the cap window).
	BiasWindow time.Duration
	// Claim (0..1) is how much of a ringing call's chance of being answered
	// later in the window is counted against a new call answering
	// earlier: calls placed on later ticks will answer before it and take
	// the agents it counted on, so ringing calls are given that much
	// priority (default 1).
	Claim float64
	// MaxLines caps calls ringing (default unlimited).
	MaxLines int

	init                  bool
	restrained            bool
	machinesPerPerson     float64
	ans, fail, talk, wrap *hist
	outcomes              []bool
	outPos, outN          int
	p                     float64
	lambda                float64
	lastTick, lastBuild   time.Time
	dirty                 bool

	// model tables, rebuilt on Refresh
	fA, cA   []float64 // answer-delay pmf and cdf
	cU       []float64 // unanswered end-time cdf
	cT, cW   []float64 // talk and wrap cdf
	fW       []float64 // wrap pmf
	qT       [][]float64
	qH       int
	horizon  int // seconds: answer window
	fallback string

	ewA, ewN float64
	rateLog  []rateRec
	predLog  []predRec
	predHead int
	predSum  float64

	// scratch
	sMean, sVar, dMean, dVar []float64
	talkN, wrapN, ringN      buckets

	// Stats for reports.
	Stats PredictiveStats
}

// PredictiveStats reports what the pacer did.
type PredictiveStats struct {
	Ticks, ProgressiveTicks, AtRiskTicks int
	// RestrainedTicks: ticks with AMD off (Restrained).
	RestrainedTicks                     int
	Lambda                              float64
	PredictedAbandons, PredictedAnswers float64
}

// Name implements Pacer.
func (p *Predictive) Name() string { return "ctid-predictive" }

// Restrained implements Restrainer.
func (p *Predictive) Restrained() bool { return p.restrained }

// Lambda returns the controller's current marginal-abandon threshold.
func (p *Predictive) Lambda() float64 { return p.lambda }

func (p *Predictive) setup() {
	if p.init {
		return
	}
	p.init = true
	if p.Target <= 0 {
		p.Target = 0.5
	}
	if p.MinOutcomes <= 0 {
		p.MinOutcomes = 200
	}
	if p.MinHandles <= 0 {
		p.MinHandles = 50
	}
	if p.Samples <= 0 {
		p.Samples = 500
	}
	if p.Refresh <= 0 {
		p.Refresh = 5 * time.Minute
	}
	if p.Gain <= 0 {
		p.Gain = 2
	}
	if p.Claim <= 0 {
		p.Claim = 1
	}
	if p.EWMA <= 0 {
		p.EWMA = 2 * time.Minute
	}
	if p.BiasWindow <= 0 {
		p.BiasWindow = 24 * time.Hour
	}
	p.ans, p.fail = newHist(p.Samples), newHist(p.Samples)
	p.talk, p.wrap = newHist(p.Samples), newHist(p.Samples)
	p.outcomes = make([]bool, 2*p.Samples)
	p.lambda = 0.02
}

// Observe implements Learner.
func (p *Predictive) Observe(e Event) {
	p.setup()
	switch e.Kind {
	case Answered:
		p.ans.add(e.Duration)
		p.outcome(true)
	case Failed:
		p.fail.add(e.Duration)
		p.outcome(false)
	case Talked:
		p.talk.add(e.Duration)
	case Wrapped:
		p.wrap.add(e.Duration)
	default:
		return
	}
	p.dirty = true
}

func (p *Predictive) outcome(answered bool) {
	p.outcomes[p.outPos] = answered
	p.outPos = (p.outPos + 1) % len(p.outcomes)
	p.outN = min(p.outN+1, len(p.outcomes))
}

func (p *Predictive) ready() bool {
	return p.outN >= p.MinOutcomes && p.ans.n >= 10 && p.talk.n >= p.MinHandles && p.wrap.n >= p.MinHandles
}

// build rebuilds the model tables from the samples.
func (p *Predictive) build() {
	a := 0
	for i := 0; i < p.outN; i++ {
		if p.outcomes[i] {
			a++
		}
	}
	p.p = float64(a) / float64(p.outN)
	p.fA, p.cA = p.ans.pmfCDF()
	_, p.cU = p.fail.pmfCDF()
	_, p.cT = p.talk.pmfCDF()
	fW, cW := p.wrap.pmfCDF()
	p.cW = cW
	p.horizon = len(p.cA) - 1
	for p.horizon > 1 && p.cA[p.horizon-1] >= 0.995 {
		p.horizon--
	}
	p.fW = fW
	// qT rows are computed when first needed (qRow).
	p.qH = p.horizon + int(AbandonGrace/time.Second) + 1
	p.qT = p.qT[:0]
	p.qT = append(p.qT, make([][]float64, len(p.cT))...)
	p.dirty = false
}

// qRow: P(talk ends and wrap ends within x | talked e so far)
// = Σ_w fW(w) · (FT(e+x−w) − FT(e)) / (1 − FT(e)), for x up to qH.
func (p *Predictive) qRow(e int) []float64 {
	row := make([]float64, p.qH+1)
	surv := 1 - p.cT[e]
	for x := 0; x <= p.qH; x++ {
		s := 0.0
		for w := 0; w <= x && w < len(p.fW); w++ {
			if p.fW[w] != 0 {
				s += p.fW[w] * (at(p.cT, e+x-w) - p.cT[e])
			}
		}
		row[x] = s / surv
	}
	return row
}

// at reads a CDF, 1 past its end.
func at(cdf []float64, i int) float64 {
	if i < 0 {
		return 0
	}
	if i >= len(cdf) {
		return 1
	}
	return cdf[i]
}

func secs(d time.Duration) int { return int(d / time.Second) }

// freeBy is the probability that a busy agent is free within x seconds.
func (p *Predictive) freeBy(a Agent, x int) float64 {
	e := secs(a.Elapsed)
	if a.InWrap {
		surv := 1 - at(p.cW, e)
		if surv < 1e-3 {
			return 1 - math.Exp(-float64(x)/10) // overdue: a short tail
		}
		return (at(p.cW, e+x) - at(p.cW, e)) / surv
	}
	if e >= len(p.qT) || 1-p.cT[e] <= 1e-3 {
		return 0 // longer than any call seen: no opinion, count nothing
	}
	if p.qT[e] == nil {
		p.qT[e] = p.qRow(e)
	}
	return p.qT[e][min(x, len(p.qT[e])-1)]
}

// answerBy is the probability that a call ringing for e seconds is answered
// within the next τ seconds.
func (p *Predictive) answerBy(e, tau int) float64 {
	stillA := p.p * (1 - at(p.cA, e))
	stillU := (1 - p.p) * (1 - at(p.cU, e))
	if stillA+stillU <= 1e-9 {
		return 0
	}
	return p.p * (at(p.cA, e+tau) - at(p.cA, e)) / (stillA + stillU)
}

// Decide implements Pacer.
func (p *Predictive) Decide(s *Snapshot) int {
	p.setup()
	p.Stats.Ticks++
	dt := 1.0
	if !p.lastTick.IsZero() {
		dt = s.Now.Sub(p.lastTick).Seconds()
	}
	p.lastTick = s.Now
	prog := Progressive{}.Decide(s)
	if !p.ready() {
		p.Stats.ProgressiveTicks++
		return prog
	}
	if p.dirty && s.Now.Sub(p.lastBuild) >= p.Refresh || p.qT == nil {
		p.build()
		p.lastBuild = s.Now
	}
	limit := s.cap()

	// At risk: one more abandon, on top of those expected from the calls
	// still ringing, would reach the cap in either window.
	dayAns, dayAb := s.Rates(s.Day)
	bias := (float64(s.Day.Abandoned) + 2) / (p.dayPredicted(s) + 2)
	bias = min(max(bias, 0.5), 4)
	pending := bias * p.recentPredicted(s.Now.Add(-time.Duration(p.horizon+1)*time.Second))
	shortAns, shortAb := s.Rates(s.Short)
	hourAns, hourAb := s.Rates(s.Hour)
	// A window that is not yet full (the start of a shift, after a lull)
	// holds few answers, yet the hour it will be judged by also holds the
	// answers still to come: judge the budget by the larger of what the
	// window holds and a low estimate of what the last minutes' answer
	// rate fills it with. Without this the first half hour of a shift ran
	// progressive, AMD off.
	rate := p.answerRate(s.Now, dayAns)
	hourAns = max(hourAns, rate*time.Hour.Seconds())
	shortAns = max(shortAns, rate*ShortWindow.Seconds())
	// Restrained: abandons (AMD false positives included) have spent
	// much of the hour's or the day's budget; the dialler stops AMD, whose
	// false positives a pacer cannot hold back, until they recover.
	p.restrained = hourAb >= 2 && hourAb >= 0.6*limit*hourAns || dayAb >= 2 && dayAb >= 0.8*limit*dayAns
	// Nor can a small team absorb AMD's false positives, which nobody
	// sees: a Poisson count of mean μ an hour (MachineFalse × machine
	// verdicts per person answered × people an hour) breaks an hour's cap
	// by chance unless the hour's budget exceeds μ + 3√μ + 1. Machine
	// verdicts per person are learnt while AMD runs.
	if s.MachineFalse > 0 {
		if p.machinesPerPerson == 0 {
			p.machinesPerPerson = 0.5 // a prior: a third of answers machines
		}
		if s.Day.Machines >= 50 && s.Day.Answered > 0 {
			// The highest seen: with AMD off machine verdicts stop and the
			// day's ratio only falls.
			p.machinesPerPerson = max(p.machinesPerPerson, float64(s.Day.Machines)/float64(s.Day.Answered))
		}
		people := max(float64(s.Hour.Answered), rate*time.Hour.Seconds()-s.MachineFalse*float64(s.Hour.Machines))
		mu := s.MachineFalse * p.machinesPerPerson * people
		if limit*people < mu+3*math.Sqrt(mu)+1 {
			p.restrained = true
		}
	}
	// The hour's false positives are counted at their expectation, but
	// nobody sees the real count, which runs Poisson around it: the hour
	// keeps 3.5 of its standard deviations in hand too (it is what broke
	// the hourly cap at 50 agents with machines; 3.5 because every sliding
	// hour of every seed must hold, a few hundred draws a scenario).
	fpSD := 0.0
	if s.MachineFalse > 0 {
		fpSD = 3.5 * math.Sqrt(s.MachineFalse*float64(s.Hour.Machines))
	}
	if p.restrained {
		p.Stats.RestrainedTicks++
	}
	// Abandons come in bursts (several contacts answering into a full
	// floor at once), so the hour and the day keep two abandons in hand.
	// The short window is not checked here: the cap is judged over hours
	// and days, and a 15-minute window holds too few answers for a small
	// team (10 agents answer about 30), so one abandon in it turned their
	// dialling progressive for a quarter of an hour (10 agents at p=0.15
	// reached 51.6% occupancy, 61.5% without it, every hour still under
	// the cap). It still steers λ below.
	if hourAb+2+pending+fpSD >= limit*hourAns ||
		(dayAns > 0 && dayAb+2+pending >= limit*dayAns) {
		p.Stats.AtRiskTicks++
		return prog
	}
	// AMD false positives spend the cap before any call is abandoned:
	// what is left is the budget.
	budget := limit
	if dayAns > 0 {
		budget -= (dayAb - float64(s.Day.Abandoned)) / dayAns
	}
	if s.MachineFalse > 0 && hourAns > 0 {
		// Nobody sees which verdicts were people: keep three standard
		// deviations of the hour's false-positive count in hand too.
		// This stays while AMD is off (Restrained), when no false
		// positive can happen: machines then reach agents and are counted
		// answered or abandoned as if people, and which were is unknown,
		// so the hour's count of people is as uncertain. Dropping it there
		// broke the hour at 10 agents with machines (3.08–3.67%, 20 seeds).
		mu := s.MachineFalse * p.machinesPerPerson * hourAns
		budget -= 3 * math.Sqrt(mu) / hourAns
	}
	if budget <= 0 {
		p.Stats.AtRiskTicks++
		return prog
	}
	// The controller steers λ so that the model's predicted abandon rate
	// of the calls it places (an EWMA over a couple of minutes) meets the
	// effective target: Target×cap, corrected by how far realized abandons
	// have run above or below predicted ones, and scaled down by the share
	// of the short window's budget already spent.
	target := p.Target * budget
	teff := target / bias
	spent := 0.0
	if shortAns > 0 {
		spent = shortAb / (limit * shortAns)
	}
	if hourAns > 0 {
		spent = max(spent, hourAb/(limit*hourAns))
	}
	teff *= max(0.05, 1-spent)
	decay := math.Exp(-dt / p.EWMA.Seconds())
	p.ewA *= decay
	p.ewN *= decay
	const n0 = 3.0
	pred := (p.ewA + teff*n0) / (p.ewN + n0)
	p.lambda *= math.Exp(p.Gain * dt / 60 * max(-2, min(2, (teff-pred)/teff)))
	p.lambda = min(max(p.lambda, 0.001), 0.3)
	p.Stats.Lambda = p.lambda

	H := p.horizon
	G := secs(s.grace())
	n := H + G + 1
	p.sMean, p.sVar = grow(p.sMean, n), grow(p.sVar, n)
	p.dMean, p.dVar = grow(p.dMean, n), grow(p.dVar, n)
	// Agents and ringing calls with the same elapsed second contribute
	// alike: count them once, weighted (calls placed on one tick share
	// it).
	for x := 0; x < n; x++ {
		p.sMean[x], p.sVar[x] = float64(s.Ready), 0
	}
	p.talkN.reset()
	p.wrapN.reset()
	for _, a := range s.Busy {
		if a.InWrap {
			p.wrapN.add(secs(a.Elapsed))
		} else {
			p.talkN.add(secs(a.Elapsed))
		}
	}
	for _, b := range []*buckets{&p.talkN, &p.wrapN} {
		wrap := b == &p.wrapN
		for _, e := range b.used {
			w := float64(b.n[e])
			a := Agent{InWrap: wrap, Elapsed: time.Duration(e) * time.Second}
			for x := 0; x < n; x++ {
				q := p.freeBy(a, x)
				p.sMean[x] += w * q
				p.sVar[x] += w * q * (1 - q)
			}
		}
	}
	for tau := 0; tau <= H; tau++ {
		p.dMean[tau], p.dVar[tau] = float64(s.Waiting), 0
	}
	p.ringN.reset()
	for _, r := range s.Ringing {
		p.ringN.add(secs(r))
	}
	for _, e := range p.ringN.used {
		w := float64(p.ringN.n[e])
		qH := p.answerBy(e, H)
		for tau := 0; tau <= H; tau++ {
			q := p.answerBy(e, tau)
			if p.Claim > 0 {
				q += p.Claim * (qH - q)
			}
			p.dMean[tau] += w * q
			p.dVar[tau] += w * q * (1 - q)
		}
	}
	maxNew := 4*(s.Ready+len(s.Busy)) + 4
	if p.MaxLines > 0 {
		maxNew = min(maxNew, p.MaxLines-len(s.Ringing))
	}
	// Burst guard: the answers of every call in flight beyond the agents
	// who take them — the Ready ones and those the model is sure (three
	// standard deviations low) will be free by the window's end — would
	// be abandoned. The chance that they exceed what is left of the hour's
	// and the day's budget must stay under BurstRisk, so one unlucky burst
	// cannot break the cap. The count is taken as exactly binomial: the
	// normal approximation (mean + 3 sd) understates the tail of a few
	// calls: 7 or more of 8 calls at p=0.25 answer with probability 4e-4,
	// the normal puts it at 1e-4, and it happened (against 4 Ready agents,
	// breaking an hour at 10 agents). Counting no agent free, as before,
	// held large floors back. This binds small teams (10 agents have ~4
	// abandons an hour to spend); large ones have room.
	room := limit*hourAns - hourAb - pending - fpSD
	if dayAns > 0 {
		room = min(room, limit*dayAns-dayAb-pending)
	}
	sure := max(0, math.Floor(p.sMean[n-1]-float64(s.Ready)-3*math.Sqrt(p.sVar[n-1])))
	takers := int(math.Floor(room + sure + float64(s.Ready-s.Waiting)))
	k := 0
	for ; k < maxNew; k++ {
		if binomTail(len(s.Ringing)+k+1, p.p, takers) > BurstRisk {
			break
		}
		// Marginal abandon probability of one more call, given k others
		// placed now.
		m := 0.0
		for tau := 0; tau <= H; tau++ {
			f := at(p.cA, tau) - at(p.cA, tau-1)
			if f == 0 {
				continue
			}
			q := p.p * at(p.cA, tau)
			mu := p.dMean[tau] + float64(k)*q - p.sMean[tau+G]
			va := p.dVar[tau] + float64(k)*q*(1-q) + p.sVar[tau+G]
			m += f * upper(mu, va)
		}
		if m > p.lambda {
			break
		}
		p.Stats.PredictedAbandons += p.p * m
		p.Stats.PredictedAnswers += p.p
		p.ewA += p.p * m
		p.ewN += p.p
		p.predLog = append(p.predLog, predRec{s.Now, p.p * m})
		p.predSum += p.p * m
	}
	// Never fewer than progressive would place.
	return max(k, prog)
}

// BurstRisk is the chance the burst guard accepts that the calls in
// flight answer beyond the agents and the budget left. 1e-5: with the
// exact tail at 1.35e-3 (what mean + 3 sd means) or 1e-4, some hour of the
// seed sweep broke the cap at 10 agents (3.05–3.82%, measured before the
// sure agents were counted); at 1e-5 none did.
const BurstRisk = 1e-5

// binomTail is P(X > m) for X ~ Binomial(n, p), summed from m+1 upwards
// in log space (a large floor's hundreds of calls in flight underflow a
// product of powers).
func binomTail(n int, p float64, m int) float64 {
	switch {
	case m < 0 || p >= 1:
		return 1
	case m >= n || p <= 0:
		return 0
	}
	lf := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	i := m + 1
	term := math.Exp(lf(n) - lf(i) - lf(n-i) + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	sum := 0.0
	for ; i <= n; i++ {
		sum += term
		if term <= sum*1e-12 && float64(i) > float64(n)*p {
			break // past the mode, the rest is negligible
		}
		term *= float64(n-i) / float64(i+1) * p / (1 - p)
	}
	return min(sum, 1)
}

// upper is P(X ≥ 0) for an integer-valued X ≈ Normal(mu, va), with
// continuity correction.
func upper(mu, va float64) float64 {
	if va < 1e-9 {
		if mu > -0.5 {
			return 1
		}
		return 0
	}
	z := (-0.5 - mu) / math.Sqrt(va)
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// buckets counts items by elapsed second (0..maxBin).
type buckets struct {
	n    []int32
	used []int
}

func (b *buckets) reset() {
	for _, e := range b.used {
		b.n[e] = 0
	}
	b.used = b.used[:0]
}

func (b *buckets) add(e int) {
	if b.n == nil {
		b.n = make([]int32, maxBin+1)
	}
	e = min(max(e, 0), maxBin)
	if b.n[e] == 0 {
		b.used = append(b.used, e)
	}
	b.n[e]++
}

// hist keeps the last n samples of a duration in 1-second bins.
type hist struct {
	ring []int32
	pos  int
	n    int
	max  int
}

func newHist(n int) *hist { return &hist{ring: make([]int32, n)} }

const maxBin = 3600

func (h *hist) add(d time.Duration) {
	s := int(d / time.Second)
	s = min(max(s, 0), maxBin)
	h.ring[h.pos] = int32(s)
	h.pos = (h.pos + 1) % len(h.ring)
	h.n = min(h.n+1, len(h.ring))
}

func (h *hist) pmfCDF() (pmf, cdf []float64) {
	mx := 0
	for i := 0; i < h.n; i++ {
		mx = max(mx, int(h.ring[i]))
	}
	pmf = make([]float64, mx+1)
	if h.n == 0 {
		return pmf, []float64{1}
	}
	for i := 0; i < h.n; i++ {
		pmf[h.ring[i]]++
	}
	cdf = make([]float64, mx+1)
	c := 0.0
	for i := range pmf {
		pmf[i] /= float64(h.n)
		c += pmf[i]
		cdf[i] = c
	}
	cdf[mx] = 1
	return pmf, cdf
}

type rateRec struct {
	at  time.Time
	ans float64
}

// rateSpan is how far back the answer rate is measured.
const rateSpan = 5 * time.Minute

// answerRate is a low estimate of the answers (as the cap counts them) per
// second over the last rateSpan (at least a minute of it), given the cap
// window's count dayAns now; it keeps the samples it needs.
func (p *Predictive) answerRate(now time.Time, dayAns float64) float64 {
	if n := len(p.rateLog); n == 0 || now.After(p.rateLog[n-1].at) {
		p.rateLog = append(p.rateLog, rateRec{now, dayAns})
	}
	for len(p.rateLog) > 1 && now.Sub(p.rateLog[1].at) >= rateSpan {
		p.rateLog = p.rateLog[1:]
	}
	base := p.rateLog[0]
	el := now.Sub(base.at)
	if el < time.Minute || dayAns <= base.ans {
		return 0
	}
	// A low estimate (two standard deviations of a Poisson count under
	// what was seen): a small team's few answers say little about its rate.
	n := dayAns - base.ans
	return max(0, n-2*math.Sqrt(n)) / el.Seconds()
}

type predRec struct {
	at time.Time
	a  float64
}

// recentPredicted sums the abandons predicted for calls placed since t.
func (p *Predictive) recentPredicted(t time.Time) float64 {
	sum := 0.0
	for i := len(p.predLog) - 1; i >= p.predHead && p.predLog[i].at.After(t); i-- {
		sum += p.predLog[i].a
	}
	return sum
}

// dayPredicted sums the abandons predicted for calls placed within the
// bias window.
func (p *Predictive) dayPredicted(s *Snapshot) float64 {
	cut := s.Now.Add(-p.BiasWindow)
	for p.predHead < len(p.predLog) && p.predLog[p.predHead].at.Before(cut) {
		p.predSum -= p.predLog[p.predHead].a
		p.predHead++
	}
	if p.predHead > 4096 && p.predHead*2 > len(p.predLog) {
		p.predLog = append(p.predLog[:0], p.predLog[p.predHead:]...)
		p.predHead = 0
	}
	if p.predHead == len(p.predLog) {
		p.predSum = 0 // no drift when empty
	}
	return max(p.predSum, 0)
}
