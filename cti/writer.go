package cti

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// writer applies record writes on its own goroutines, so a slow database
// never stalls call handling. Writes carry a key (an interaction id, or an
// agent) and run in order per key; with several shards, different keys run
// in parallel. One shard is the default: on a 2-core machine, parallel
// Postgres backends took the CPU the engine needed (BenchmarkLoad at 1,000
// agents / 100 calls/s: p99 3.6 ms with 1 shard, 114 ms with 8). More
// shards pay off when Postgres has its own cores.
//
// Under load the writer keeps up by doing less per record, not by running
// more connections: whatever has queued up while a write ran is applied in
// one transaction (one commit instead of dozens), and a full-state write
// (an agent's session, an interaction's row) that a newer one for the same
// record has overtaken in the queue is skipped. Writes are retried a few
// times; what still fails is logged and counted (WriteFailures). A write
// the database refuses for its content (SQLSTATE class 22, data exception,
// e.g. 22021 for a NUL byte; class 23, integrity) would fail the same way
// every time: it is not retried, so it costs one round trip and never
// holds up the writes queued behind it.
type writer struct {
	store  Store
	shards []chan write
	log    *slog.Logger
	wg     sync.WaitGroup
	once   sync.Once

	mu     sync.Mutex
	latest map[string]uint64 // slot → version of the newest queued write
	ver    uint64

	refused atomic.Int64 // writes the database refused for their content
	failed  atomic.Int64 // writes that still failed after the retries
}

// write is one queued write. A write with a slot is a full-state write:
// it is skipped when a newer one for the same slot was queued after it.
// A write with barrier only marks a point in the queue (flush).
type write struct {
	f       func(context.Context, Store) error
	key     string // for the log: an interaction id or an agent
	slot    string
	ver     uint64
	barrier func()
}

// Batcher is a Store that can apply several writes in one database
// transaction; the writer uses it when writes have queued up.
type Batcher interface {
	Batch(ctx context.Context, f func(Store) error) error
}

// maxBatch bounds one transaction: enough to turn a backlog into few
// commits, small enough that a failed batch is cheap to replay one by one.
const maxBatch = 256

func newWriter(s Store, n, shards int, log *slog.Logger) *writer {
	w := &writer{store: s, log: log, latest: map[string]uint64{}}
	for i := 0; i < max(shards, 1); i++ {
		w.shards = append(w.shards, make(chan write, max(n/max(shards, 1), 64)))
	}
	return w
}

func agentKey(id int64) string { return "agent:" + strconv.FormatInt(id, 10) }

func (w *writer) run() {
	for _, q := range w.shards {
		w.wg.Add(1)
		go w.drain(q)
	}
}

func (w *writer) drain(q chan write) {
	defer w.wg.Done()
	batch := make([]write, 0, maxBatch)
	for first := range q {
		batch = append(batch[:0], first)
	more:
		for len(batch) < maxBatch {
			select {
			case x, ok := <-q:
				if !ok {
					break more
				}
				batch = append(batch, x)
			default:
				break more
			}
		}
		w.apply(batch)
		clear(batch)
	}
}

// apply runs a batch: in one transaction when the store can, else (or when
// that transaction fails) one write at a time with retries. Barriers are
// released once the writes before them are done.
func (w *writer) apply(batch []write) {
	run := batch[:0:0]
	var barriers []func()
	for _, x := range batch {
		switch {
		case x.barrier != nil:
			barriers = append(barriers, x.barrier)
		case w.current(x):
			run = append(run, x)
		}
	}
	if b, ok := w.store.(Batcher); ok && len(run) > 1 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := b.Batch(ctx, func(s Store) error {
			for _, x := range run {
				if err := x.f(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		cancel()
		if err == nil {
			run = nil
		}
	}
	for _, x := range run {
		w.one(x)
	}
	for _, f := range barriers {
		f()
	}
}

// current reports whether x is still worth writing, and forgets its slot
// once its newest write runs (so the map holds only queued slots).
func (w *writer) current(x write) bool {
	if x.slot == "" {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.latest[x.slot] != x.ver {
		return false
	}
	delete(w.latest, x.slot)
	return true
}

func (w *writer) one(x write) {
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = x.f(ctx, w.store)
		cancel()
		if err == nil {
			return
		}
		if code, ok := refusedContent(err); ok {
			w.refused.Add(1)
			// The error's message and detail may quote the record's content
			// (notes, numbers): log only where and why.
			w.log.Error("record write refused by the database; the record is lost", "key", x.key, "sqlstate", code)
			return
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
	w.failed.Add(1)
	w.log.Error("record write failed", "key", x.key, "err", err)
}

// refusedContent reports whether err is the database refusing a write for
// what it holds (SQLSTATE class 22 or 23), with the code. Such a write
// fails the same way when retried.
func refusedContent(err error) (string, bool) {
	var se interface{ SQLState() string }
	if errors.As(err, &se) {
		code := se.SQLState()
		return code, strings.HasPrefix(code, "22") || strings.HasPrefix(code, "23")
	}
	return "", false
}

// WriterStats counts the record writes that were lost.
type WriterStats struct {
	Refused int64 // refused by the database for their content (not retried)
	Failed  int64 // failed after the retries (database unreachable)
}

// WriteFailures reports the record writes lost since the engine started.
func (e *Engine) WriteFailures() WriterStats {
	return WriterStats{Refused: e.writer.refused.Load(), Failed: e.writer.failed.Load()}
}

func (w *writer) shard(key string) chan write {
	h := fnv.New32a()
	h.Write([]byte(key))
	return w.shards[h.Sum32()%uint32(len(w.shards))]
}

// add queues f behind earlier writes with the same key. It blocks when that
// shard is full (backpressure rather than lost records).
func (w *writer) add(key string, f func(context.Context, Store) error) {
	w.shard(key) <- write{f: f, key: key}
}

// replace queues a full-state write for slot (one record): if a newer one
// for the same slot is queued before this one runs, this one is skipped.
// Every write for a slot must use the same key.
func (w *writer) replace(key, slot string, f func(context.Context, Store) error) {
	w.mu.Lock()
	w.ver++
	v := w.ver
	w.latest[slot] = v
	w.mu.Unlock()
	w.shard(key) <- write{f: f, key: key, slot: slot, ver: v}
}

// flush waits until every write queued so far, on every shard, is done.
func (w *writer) flush(ctx context.Context) error {
	var done sync.WaitGroup
	for _, q := range w.shards {
		done.Add(1)
		select {
		case q <- write{barrier: done.Done}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ch := make(chan struct{})
	go func() { done.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *writer) close() {
	w.once.Do(func() {
		for _, q := range w.shards {
			close(q)
		}
	})
	w.wg.Wait()
}
