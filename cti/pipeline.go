package cti

import (
	"context"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"
)

// pipeline sends telephony requests for the engine without holding up its
// loop. An ARI round trip takes 0.5–4 ms; at hundreds of calls a second a
// loop that waited for each one would spend its whole time waiting, its
// event buffer would fill and Asterisk would drop the websocket. Instead the
// loop queues a request and carries on; the request's outcome comes back to
// the loop as a closure, like any other event.
//
// Requests with the same key run one after another in the order the loop
// queued them: the key is the channel a request is about (a customer's
// answer, park, connect and hang-up stay in order). Requests that must
// follow one another across channels (create a call's bridge, then add both
// legs) are one request. Different keys run in parallel on a fixed set of
// lanes, so one slow channel holds up only the keys that share its lane.
type pipeline struct {
	lanes   []*lane
	pending atomic.Int64 // queued or running, including their follow-up
	ctx     context.Context
	post    func(func())
	timeout time.Duration
	wg      sync.WaitGroup
}

type lane struct {
	mu   sync.Mutex
	jobs []request
	wake chan struct{}
}

type request struct {
	op   func(context.Context) error
	then func(error) // runs on the loop; nil when only failures are logged
	fail func(error) // runs on the lane when then is nil and op failed
}

func newPipeline(lanes int) *pipeline {
	p := &pipeline{timeout: 5 * time.Second}
	for i := 0; i < max(lanes, 1); i++ {
		p.lanes = append(p.lanes, &lane{wake: make(chan struct{}, 1)})
	}
	return p
}

// start runs the lanes until ctx ends; post delivers follow-ups to the loop.
func (p *pipeline) start(ctx context.Context, post func(func())) {
	p.ctx, p.post = ctx, post
	for _, l := range p.lanes {
		p.wg.Add(1)
		go p.run(l)
	}
}

// wait returns when every lane has stopped (after start's ctx ended).
func (p *pipeline) wait() { p.wg.Wait() }

// add queues r behind earlier requests with the same key. It never blocks:
// the loop must not wait for a lane that may itself be waiting to post a
// follow-up to the loop.
func (p *pipeline) add(key string, r request) {
	h := fnv.New32a()
	h.Write([]byte(key))
	l := p.lanes[h.Sum32()%uint32(len(p.lanes))]
	p.pending.Add(1)
	l.mu.Lock()
	l.jobs = append(l.jobs, r)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (p *pipeline) run(l *lane) {
	defer p.wg.Done()
	for {
		l.mu.Lock()
		if len(l.jobs) == 0 {
			l.jobs = l.jobs[:0:0] // let a burst's backing array go
			l.mu.Unlock()
			select {
			case <-l.wake:
				continue
			case <-p.ctx.Done():
				return
			}
		}
		r := l.jobs[0]
		l.jobs[0] = request{}
		l.jobs = l.jobs[1:]
		l.mu.Unlock()
		p.do(r)
	}
}

func (p *pipeline) do(r request) {
	defer p.pending.Add(-1)
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	err := r.op(ctx)
	cancel()
	switch {
	case r.then != nil:
		p.post(func() { r.then(err) })
	case err != nil && r.fail != nil:
		r.fail(err)
	}
}

// idle reports whether nothing is queued or running. A follow-up already
// posted to the loop counts as done: the loop's own queue keeps its order.
func (p *pipeline) idle() bool { return p.pending.Load() == 0 }

// request queues op off the loop behind earlier requests with the same key;
// then, if not nil, runs on the loop with op's result. Without then, a
// failure is logged as what at debug level (the events that follow tell
// the engine what happened to the channel).
func (e *Engine) request(key, what string, op func(context.Context) error, then func(error)) {
	r := request{op: op, then: then}
	if then == nil {
		r.fail = func(err error) { e.log.Debug(what, "key", key, "err", err) }
	}
	e.pipe.add(key, r)
}
