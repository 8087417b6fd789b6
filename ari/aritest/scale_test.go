package aritest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dispatcher routes events by channel id to waiters.
type dispatcher struct {
	mu      sync.Mutex
	waiters map[string]chan string
	count   atomic.Int64
}

func newDispatcher(t testing.TB, srv *Server, app string) *dispatcher {
	u := strings.Replace(srv.URL(), "http://", "ws://", 1) + "/ari/events?api_key=ctid:ctid&app=" + app
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &dispatcher{waiters: map[string]chan string{}}
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			d.count.Add(1)
			// cheap extraction: "type":"X" and the first "id":"Y" after "channel"
			s := string(b)
			typ := between(s, `"type":"`, `"`)
			if typ != "StasisStart" && typ != "ChannelDestroyed" {
				continue
			}
			i := strings.Index(s, `"channel":{`)
			if i < 0 {
				continue
			}
			id := between(s[i:], `"id":"`, `"`)
			d.mu.Lock()
			ch := d.waiters[id]
			d.mu.Unlock()
			if ch != nil {
				ch <- typ
			}
		}
	}()
	t.Cleanup(func() { ws.Close() })
	for !srv.AppActive(app) {
		time.Sleep(time.Millisecond)
	}
	return d
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func (d *dispatcher) watch(id string) chan string {
	ch := make(chan string, 8)
	d.mu.Lock()
	d.waiters[id] = ch
	d.mu.Unlock()
	return ch
}

func (d *dispatcher) unwatch(id string) {
	d.mu.Lock()
	delete(d.waiters, id)
	d.mu.Unlock()
}

func awaitType(tb testing.TB, ch chan string, typ string) {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == typ {
				return
			}
		case <-timeout:
			tb.Fatalf("timeout waiting for %s", typ)
		}
	}
}

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func post(tb testing.TB, srv *Server, method, path string) int {
	req, _ := http.NewRequest(method, srv.URL()+"/ari"+path, nil)
	req.SetBasicAuth("ctid", "ctid")
	resp, err := benchClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func BenchmarkOriginateHangup(b *testing.B) {
	srv := NewServer(Options{})
	defer srv.Close()
	d := newDispatcher(b, srv, "bench")
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("c%d", n.Add(1))
			w := d.watch(id)
			if code := post(b, srv, "POST", "/channels?endpoint=Local/s@bench&app=bench&channelId="+id); code != 200 {
				b.Fatalf("originate %d", code)
			}
			awaitType(b, w, "StasisStart")
			if code := post(b, srv, "DELETE", "/channels/"+id); code != 204 {
				b.Fatalf("hangup %d", code)
			}
			awaitType(b, w, "ChannelDestroyed")
			d.unwatch(id)
		}
	})
	b.ReportMetric(float64(d.count.Load())/b.Elapsed().Seconds(), "events/s")
}

// Test2000ChannelsBridgedInPairs drives 2,000 concurrent channels (1,000
// inbound customers + 1,000 originated agents) into 1,000 bridges, then hangs
// every customer up.
func Test2000ChannelsBridgedInPairs(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	srv := NewServer(Options{})
	defer srv.Close()
	d := newDispatcher(t, srv, "cti")
	const pairs = 1000
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, pairs)
	sem := make(chan struct{}, 32)
	for i := 0; i < pairs; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			agent := fmt.Sprintf("agent-%d", i)
			w := d.watch(agent)
			defer d.unwatch(agent)
			cust, err := srv.InboundCall(Call{App: "cti", From: fmt.Sprint(1000 + i), To: "100", Answered: true})
			if err != nil {
				errs <- err
				return
			}
			br := fmt.Sprintf("b-%d", i)
			for _, step := range []struct{ m, p string }{
				{"POST", "/channels?endpoint=Local/s@agents&app=cti&channelId=" + agent},
				{"POST", "/bridges?type=mixing,dtmf_events&bridgeId=" + br},
			} {
				if code := post(t, srv, step.m, step.p); code != 200 {
					errs <- fmt.Errorf("%s %s: %d", step.m, step.p, code)
					return
				}
			}
			awaitType(t, w, "StasisStart")
			if code := post(t, srv, "POST", "/bridges/"+br+"/addChannel?channel="+cust+","+agent); code != 204 {
				errs <- fmt.Errorf("addChannel %d", code)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	setup := time.Since(start)
	bs := srv.Bridges()
	if len(bs) != pairs {
		t.Fatalf("%d bridges", len(bs))
	}
	for _, b := range bs {
		if len(b.Channels) != 2 {
			t.Fatalf("bridge %s has %v", b.ID, b.Channels)
		}
	}
	// Local pairs: 1,000 customers + 1,000 agents (;1) + 1,000 ;2 halves
	if n := len(srv.Channels()); n != 3*pairs {
		t.Fatalf("%d channels", n)
	}
	for _, c := range srv.Channels() {
		if strings.HasPrefix(c.Name, "PJSIP/") {
			srv.HangupChannel(c.ID, 16)
		}
	}
	for _, b := range srv.Bridges() {
		if len(b.Channels) != 1 {
			t.Fatalf("after customer hang-up bridge %s has %v", b.ID, b.Channels)
		}
	}
	t.Logf("setup of %d bridged pairs: %v; events received so far: %d", pairs, setup, d.count.Load())
}
