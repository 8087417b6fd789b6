package cti

import (
	"encoding/json"
	"sync"
	"time"
)

// Envelope is one message on an agent's event stream. Seq increases by one
// per agent, so a client that reconnects asks for what came after its last.
type Envelope struct {
	Seq  uint64          `json:"seq"`
	Type string          `json:"type"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data"`
	// Sent is when the engine published it (not sent on the wire); the
	// benchmark measures ARI-event-to-socket latency from it.
	Sent time.Time `json:"-"`
}

// Feed fans agent events out to any number of subscribers (several browser
// tabs per agent) and keeps a short backlog for resume. A slow subscriber is
// cut off rather than allowed to slow the engine; it resumes by sequence.
type Feed struct {
	mu      sync.Mutex
	agents  map[int64]*agentFeed
	backlog int
	buf     int
}

type agentFeed struct {
	seq  uint64
	ring []Envelope // last `backlog` envelopes, oldest first
	subs map[*Subscription]struct{}
}

// Subscription receives envelopes on C until closed (by Close, or by the
// feed when the subscriber fell behind: then Dropped is true).
type Subscription struct {
	C       chan Envelope
	feed    *Feed
	agentID int64
	mu      sync.Mutex
	closed  bool
	Dropped bool
}

func NewFeed(backlog, buffer int) *Feed {
	if backlog <= 0 {
		backlog = 512
	}
	if buffer <= 0 {
		buffer = 256
	}
	return &Feed{agents: map[int64]*agentFeed{}, backlog: backlog, buf: buffer}
}

func (f *Feed) agent(id int64) *agentFeed {
	a := f.agents[id]
	if a == nil {
		a = &agentFeed{subs: map[*Subscription]struct{}{}}
		f.agents[id] = a
	}
	return a
}

// Publish appends an event for an agent and delivers it.
func (f *Feed) Publish(agentID int64, typ string, data any, now time.Time) uint64 {
	raw, err := json.Marshal(data)
	if err != nil {
		raw = []byte(`{}`)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agent(agentID)
	a.seq++
	env := Envelope{Seq: a.seq, Type: typ, Time: now, Data: raw, Sent: time.Now()}
	if len(a.ring) == f.backlog {
		copy(a.ring, a.ring[1:])
		a.ring = a.ring[:len(a.ring)-1]
	}
	a.ring = append(a.ring, env)
	for s := range a.subs {
		select {
		case s.C <- env:
		default:
			s.Dropped = true
			delete(a.subs, s)
			s.closeLocked()
		}
	}
	return a.seq
}

// Subscribe starts a subscription. If after > 0 and the backlog still holds
// every event after it, those are replayed first and resumed is true;
// otherwise the caller must send a fresh snapshot.
func (f *Feed) Subscribe(agentID int64, after uint64) (s *Subscription, resumed bool, last uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agent(agentID)
	s = &Subscription{C: make(chan Envelope, f.buf+len(a.ring)), feed: f, agentID: agentID}
	if after > 0 && after <= a.seq && (len(a.ring) > 0 && a.ring[0].Seq <= after+1 || after == a.seq) {
		for _, e := range a.ring {
			if e.Seq > after {
				s.C <- e
			}
		}
		resumed = true
	}
	a.subs[s] = struct{}{}
	return s, resumed, a.seq
}

// Seq is the last sequence number published for the agent.
func (f *Feed) Seq(agentID int64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.agent(agentID).seq
}

// Subscribers counts open subscriptions (for metrics).
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.agents {
		n += len(a.subs)
	}
	return n
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	delete(s.feed.agent(s.agentID).subs, s)
	s.closeLocked()
}

func (s *Subscription) closeLocked() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.C)
	}
}
