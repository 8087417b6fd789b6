package cti

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sqlStateErr is an error carrying a SQLSTATE, as pgconn.PgError does.
type sqlStateErr struct{ code string }

func (e sqlStateErr) Error() string    { return "ERROR: refused (SQLSTATE " + e.code + ")" }
func (e sqlStateErr) SQLState() string { return e.code }

// batchingStore runs a batch's writes against itself and fails the whole
// batch when one write fails, as a Postgres pipeline does.
type batchingStore struct{ Store }

func (b batchingStore) Batch(ctx context.Context, f func(Store) error) error { return f(b) }

// A write Postgres refuses for its content (a NUL byte: 22021) is tried
// once, counted and logged without the content, and the writes queued
// behind it, for other records, still land at once.
func TestWriterRefusedWriteIsNotRetriedAndDoesNotBlock(t *testing.T) {
	for _, store := range []Store{nil, batchingStore{}} {
		var logged strings.Builder
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logged.Write(p)
		}), nil))
		w := newWriter(store, 1024, 1, log)
		w.run()
		var badTries atomic.Int64
		for i := 0; i < 20; i++ {
			w.add("agent:1", func(context.Context, Store) error {
				badTries.Add(1)
				return errors.Join(errors.New("bookmark note \x00 secret"), sqlStateErr{"22021"})
			})
		}
		landed := make(chan time.Time, 1)
		start := time.Now()
		w.add("agent:2", func(context.Context, Store) error { landed <- time.Now(); return nil })
		select {
		case at := <-landed:
			if d := at.Sub(start); d > time.Second {
				t.Fatalf("another agent's record landed after %v behind 20 refused writes", d)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("another agent's record never landed")
		}
		if err := w.flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		w.close()
		if n := badTries.Load(); n < 20 || n > 40 { // once each, and at most once more in a batch before its replay
			t.Fatalf("refused writes were tried %d times", n)
		}
		e := &Engine{writer: w}
		if st := e.WriteFailures(); st.Refused != 20 || st.Failed != 0 {
			t.Fatalf("stats %+v", st)
		}
		mu.Lock()
		out := logged.String()
		mu.Unlock()
		if !strings.Contains(out, "22021") || strings.Contains(out, "secret") {
			t.Fatalf("log must name the SQLSTATE and never the content:\n%s", out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)
