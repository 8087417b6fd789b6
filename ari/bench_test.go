package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// compactSamples returns the samples as Asterisk sends them (compact JSON).
func compactSamples(b testing.TB) map[string][]byte {
	s := loadSamples(b)
	for k, v := range s {
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			b.Fatal(err)
		}
		s[k] = buf.Bytes()
	}
	return s
}

// benchMix is a call-centre-like mix: per call a StasisStart, a few state
// changes, a burst of DTMF and some variable sets.
func benchMix(b *testing.B) [][]byte {
	s := compactSamples(b)
	var mix [][]byte
	add := func(name string, n int) {
		for range n {
			mix = append(mix, s[name])
		}
	}
	add("StasisStart", 1)
	add("ChannelStateChange", 2)
	add("ChannelDtmfReceived", 4)
	add("ChannelVarset", 3)
	return mix
}

func BenchmarkDecodeEvent(b *testing.B) { benchDecode(b, DecodeEvent) }

// BenchmarkDecodeEventStd is the same mix through encoding/json only, for
// comparison with the fast path.
func BenchmarkDecodeEventStd(b *testing.B) { benchDecode(b, decodeStd) }

func benchDecode(b *testing.B, decode func([]byte) (Event, error)) {
	mix := benchMix(b)
	var bytes int64
	for _, m := range mix {
		bytes += int64(len(m))
	}
	b.SetBytes(bytes / int64(len(mix)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, err := decode(mix[n%len(mix)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkDecodeEventByType reports each mix member separately.
func BenchmarkDecodeEventByType(b *testing.B) {
	s := compactSamples(b)
	for _, name := range []string{"StasisStart", "ChannelStateChange", "ChannelDtmfReceived", "ChannelVarset"} {
		b.Run(name, func(b *testing.B) {
			data := s[name]
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeEvent(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRESTRoundTrip measures a small POST (like answer or addChannel)
// against an in-process HTTP server over loopback with keep-alive.
func BenchmarkRESTRoundTrip(b *testing.B) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if strings.HasSuffix(r.URL.Path, "/addChannel") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"pb-1","media_uri":"sound:beep","target_uri":"channel:a1","state":"queued"}`))
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, Username: "u", Password: "p", App: "ctid"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := AddChannelRequest{Channels: []string{"1741947663.42"}, AbsorbDTMF: true}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		n := 0
		for b.Loop() {
			if err := c.Bridges.AddChannel(ctx, "agent-1001", req); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "req/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		var n atomic.Int64
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Channels.Play(ctx, "a1", "pb-1", "sound:beep"); err != nil {
					b.Fatal(err)
				}
				n.Add(1)
			}
		})
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "req/s")
	})
}

// BenchmarkEventStream measures events through the whole client: websocket
// frame → DecodeEvent → Events channel, with the server in-process.
func BenchmarkEventStream(b *testing.B) {
	f := newFakeARI(b)
	c := f.client()
	runClient(b, c)
	ws := f.waitConn()
	if ev := nextEvent(b, c); ev.GetType() != TypeConnection {
		b.Fatalf("got %T", ev)
	}
	mix := benchMix(b)
	prepared := make([]*websocket.PreparedMessage, len(mix))
	for i, m := range mix {
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, m)
		if err != nil {
			b.Fatal(err)
		}
		prepared[i] = pm
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() {
		for i := range b.N {
			if err := ws.WritePreparedMessage(prepared[i%len(prepared)]); err != nil {
				return
			}
		}
	}()
	for range b.N {
		if ev := <-c.Events(); ev == nil {
			b.Fatal("closed")
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
