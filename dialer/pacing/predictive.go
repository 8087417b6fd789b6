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
// short window (e.g. 15 min) and in the cap window (e.g. 24 h), raises λ
// while the short-window rate is under Target×cap and lowers it when over,
// and falls back to Progressive whenever one more abandon would put either
// window at the cap (or until enough outcomes have been seen to estimate
// anything).
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
	qT       [][]float64
	horizon  int // seconds: answer window
	fallback string

	ewA, ewN float64
	predLog  []predRec
	predHead int
	predSum  float64

	// scratch
	sMean, sVar, dMean, dVar []float64

	// Stats for reports.
	Stats PredictiveStats
}

// PredictiveStats reports what the pacer did.
type PredictiveStats struct {
	Ticks, ProgressiveTicks, AtRiskTicks int
	Lambda                               float64
	PredictedAbandons, PredictedAnswers  float64
}

// Name implements Pacer.
func (p *Predictive) Name() string { return "ctid-predictive" }

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
	H := p.horizon + int(AbandonGrace/time.Second) + 1
	// qT[e][x]: P(talk ends and wrap ends within x | talked e so far)
	//         = Σ_w fW(w) · (FT(e+x−w) − FT(e)) / (1 − FT(e)).
	p.qT = make([][]float64, len(p.cT))
	for e := range p.cT {
		row := make([]float64, H+1)
		surv := 1 - p.cT[e]
		if surv > 1e-3 {
			for x := 0; x <= H; x++ {
				s := 0.0
				for w := 0; w <= x && w < len(fW); w++ {
					if fW[w] == 0 {
						continue
					}
					s += fW[w] * (at(p.cT, e+x-w) - p.cT[e])
				}
				row[x] = s / surv
			}
		}
		p.qT[e] = row
	}
	p.dirty = false
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
	if e >= len(p.qT) || p.qT[e] == nil || 1-p.cT[e] <= 1e-3 {
		return 0 // longer than any call seen: no opinion, count nothing
	}
	return p.qT[e][x]
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
	bias := (float64(s.Abandoned) + 2) / (p.dayPredicted(s) + 2)
	bias = min(max(bias, 0.5), 4)
	pending := bias * p.recentPredicted(s.Now.Add(-time.Duration(p.horizon+1)*time.Second))
	if float64(s.ShortAbandoned+1)+pending >= limit*float64(s.ShortAnswered) ||
		(s.Answered > 0 && float64(s.Abandoned+1) >= limit*float64(s.Answered)) {
		p.Stats.AtRiskTicks++
		return prog
	}
	// The controller steers λ so that the model's predicted abandon rate
	// of the calls it places (an EWMA over a couple of minutes) meets the
	// effective target: Target×cap, corrected by how far realized abandons
	// have run above or below predicted ones, and scaled down by the share
	// of the short window's budget already spent.
	target := p.Target * limit
	teff := target / bias
	if s.ShortAnswered > 0 {
		spent := float64(s.ShortAbandoned) / (limit * float64(s.ShortAnswered))
		teff *= max(0.05, 1-spent)
	}
	decay := math.Exp(-dt / p.EWMA.Seconds())
	p.ewA *= decay
	p.ewN *= decay
	const n0 = 3.0
	pred := (p.ewA + teff*n0) / (p.ewN + n0)
	p.lambda *= math.Exp(p.Gain * dt / 60 * max(-2, min(2, (teff-pred)/teff)))
	p.lambda = min(max(p.lambda, 0.001), 0.3)
	p.Stats.Lambda = p.lambda

	H := p.horizon
	G := int(AbandonGrace / time.Second)
	n := H + G + 1
	p.sMean, p.sVar = grow(p.sMean, n), grow(p.sVar, n)
	p.dMean, p.dVar = grow(p.dMean, n), grow(p.dVar, n)
	for x := 0; x < n; x++ {
		m, v := float64(s.Ready), 0.0
		for _, a := range s.Busy {
			q := p.freeBy(a, x)
			m += q
			v += q * (1 - q)
		}
		p.sMean[x], p.sVar[x] = m, v
	}
	for tau := 0; tau <= H; tau++ {
		m, v := float64(s.Waiting), 0.0
		for _, r := range s.Ringing {
			e := secs(r)
			q := p.answerBy(e, tau)
			if p.Claim > 0 {
				q += p.Claim * (p.answerBy(e, H) - q)
			}
			m += q
			v += q * (1 - q)
		}
		p.dMean[tau], p.dVar[tau] = m, v
	}
	maxNew := 4*(s.Ready+len(s.Busy)) + 4
	if p.MaxLines > 0 {
		maxNew = min(maxNew, p.MaxLines-len(s.Ringing))
	}
	k := 0
	for ; k < maxNew; k++ {
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
	}
	// Never fewer than progressive would place.
	return max(k, prog)
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
	sum := 0.0
	for p.predHead < len(p.predLog) && p.predLog[p.predHead].at.Before(cut) {
		p.predHead++
	}
	if p.predHead > 4096 && p.predHead*2 > len(p.predLog) {
		p.predLog = append(p.predLog[:0], p.predLog[p.predHead:]...)
		p.predHead = 0
	}
	for _, r := range p.predLog[p.predHead:] {
		sum += r.a
	}
	return sum
}
