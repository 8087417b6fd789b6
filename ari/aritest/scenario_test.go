package aritest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func dtmfScenario(t *testing.T, absorb bool) (c *tc, ev *events, cust string) {
	clk := NewFakeClock(time.Time{})
	c = newTC(t, Options{Clock: clk})
	ev = c.events("cti", false)
	cust, err := c.srv.InboundCall(Call{App: "cti", From: "+4420", To: "100",
		Behavior: &Behavior{DTMF: "12#", DTMFAfter: time.Second, DTMFBetween: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	c.must("POST", "/channels", "endpoint=Local/s@agent&app=cti&channelId=ag&otherChannelId=ag2", 200)
	ev.wait("StasisStart", "ag")
	c.must("POST", "/bridges", "bridgeId=b&type=mixing,dtmf_events", 200)
	q := "channel=ag"
	c.must("POST", "/bridges/b/addChannel", q, 204)
	q = "channel=" + cust
	if absorb {
		q += "&absorbDTMF=true"
	}
	c.must("POST", "/bridges/b/addChannel", q, 204)
	c.must("POST", "/channels/"+cust+"/answer", "", 204)
	ev.quiet(50 * time.Millisecond)
	clk.Advance(3 * time.Second)
	return c, ev, cust
}

func TestDTMFDeliveredWithoutAbsorb(t *testing.T) {
	c, ev, cust := dtmfScenario(t, false)
	evs := ev.quiet(100 * time.Millisecond)
	var onCust, onAgentFar string
	for _, m := range evs {
		if m["type"] != "ChannelDtmfReceived" {
			continue
		}
		switch evChan(m) {
		case cust:
			onCust += m["digit"].(string)
		case "ag2":
			onAgentFar += m["digit"].(string)
		case "ag":
			t.Fatalf("digit event on the agent's ;1 (it would mean the agent keyed it): %v", m)
		}
	}
	if onCust != "12#" || onAgentFar != "12#" {
		t.Fatalf("events: cust %q agent far end %q", onCust, onAgentFar)
	}
	if got := c.srv.DTMFDelivered("ag"); got != "12#" {
		t.Fatalf("delivered to agent = %q", got)
	}
}

func TestDTMFAbsorbed(t *testing.T) {
	c, ev, cust := dtmfScenario(t, true)
	evs := ev.quiet(100 * time.Millisecond)
	var onCust string
	for _, m := range evs {
		if m["type"] == "ChannelDtmfReceived" {
			if evChan(m) != cust {
				t.Fatalf("digit leaked: %v", m)
			}
			onCust += m["digit"].(string)
		}
	}
	if onCust != "12#" {
		t.Fatalf("digits on customer = %q", onCust)
	}
	if got := c.srv.DTMFDelivered("ag"); got != "" {
		t.Fatalf("delivered to agent = %q", got)
	}
	// deliberate relay with /dtmf reaches the agent's far end
	c.must("POST", "/channels/ag/dtmf", "dtmf=4", 204)
	c.srv.clock.(*FakeClock).Advance(time.Second)
	m := ev.wait("ChannelDtmfReceived", "ag2")
	if m["digit"] != "4" || c.srv.DTMFDelivered("ag") != "4" {
		t.Fatalf("relay %v %q", m, c.srv.DTMFDelivered("ag"))
	}
}

func TestSnoopRecordingFollowsChannelAndPauseShortens(t *testing.T) {
	clk := NewFakeClock(time.Time{})
	c := newTC(t, Options{Clock: clk})
	ev := c.events("cti", false)
	cust := c.srv.Inbound("cti", nil, "+4420", "100", nil)
	c.must("POST", "/channels/"+cust+"/answer", "", 204)
	sn := c.must("POST", "/channels/"+cust+"/snoop", "spy=both&app=cti&appArgs=snoop,"+cust+"&snoopId=snp", 200)
	if sn["id"] != "snp" {
		t.Fatalf("snoop %v", sn)
	}
	st := ev.wait("StasisStart", "snp")
	if a := st["args"].([]any); len(a) != 2 || a[0] != "snoop" {
		t.Fatalf("snoop args %v", a)
	}
	rec := c.must("POST", "/channels/snp/record", "name=call1&format=wav&maxSilenceSeconds=0&ifExists=overwrite", 201)
	if rec["state"] != "queued" || rec["target_uri"] != "channel:snp" {
		t.Fatalf("record %v", rec)
	}
	ev.wait("RecordingStarted", "")
	for _, id := range []string{"b5", "b6"} {
		c.must("POST", "/bridges", "bridgeId="+id, 200)
	}
	c.must("POST", "/bridges", "bridgeId=hold&type=holding", 200)
	c.must("POST", "/bridges/b5/addChannel", "channel="+cust, 204)
	clk.Advance(2 * time.Second)
	c.must("POST", "/bridges/hold/addChannel", "channel="+cust, 204)
	clk.Advance(2 * time.Second)
	c.must("POST", "/bridges/b6/addChannel", "channel="+cust, 204)
	c.must("POST", "/recordings/live/call1/pause", "", 204)
	clk.Advance(4 * time.Second)
	c.must("DELETE", "/recordings/live/call1/pause", "", 204)
	c.must("POST", "/recordings/live/call1/mute", "", 204)
	clk.Advance(3 * time.Second)
	c.must("POST", "/channels/"+cust+"/continue", "context=wf&extension=s&priority=1", 204)
	clk.Advance(2 * time.Second)
	if r := c.must("GET", "/recordings/live/call1", "", 200); r["state"] != "recording" {
		t.Fatalf("live %v", r)
	}
	c.srv.HangupChannel(cust, 16)
	fin := ev.wait("RecordingFinished", "")
	r := fin["recording"].(map[string]any)
	if r["state"] != "done" || r["duration"] != 9.0 {
		t.Fatalf("finished %v (want 13 s wall - 4 s paused = 9)", r)
	}
	ev.wait("StasisEnd", "snp") // Stasis-only subscription: no ChannelDestroyed
	code, wav := c.raw("GET", "/recordings/stored/call1/file", "", nil)
	if code != 200 || len(wav) != 44+9*8000*2 || string(wav[:4]) != "RIFF" {
		t.Fatalf("file %d len %d", code, len(wav))
	}
	c.must("GET", "/recordings/live/call1", "", 404)
}

func TestBridgeRecordingStopsWhenEmpty(t *testing.T) {
	clk := NewFakeClock(time.Time{})
	c := newTC(t, Options{Clock: clk})
	ev := c.events("cti", false)
	cust := c.srv.Inbound("cti", nil, "+4420", "100", nil)
	c.must("POST", "/channels/"+cust+"/answer", "", 204)
	c.must("POST", "/bridges", "bridgeId=b5", 200)
	// the app's bridge subscription from its channel ends when the channel
	// leaves (res_stasis.c:1606); subscribe explicitly to hear the recording end
	c.must("POST", "/applications/cti/subscription", "eventSource=bridge:b5", 200)
	c.must("POST", "/bridges/b5/addChannel", "channel="+cust, 204)
	c.must("POST", "/bridges/b5/record", "name=br&format=wav", 201)
	clk.Advance(2200 * time.Millisecond)
	c.must("POST", "/bridges/b5/removeChannel", "channel="+cust, 204)
	clk.Advance(10 * time.Second)
	fin := ev.wait("RecordingFinished", "")
	if d := fin["recording"].(map[string]any)["duration"]; d != 2.0 {
		t.Fatalf("bridge recording duration %v", d)
	}
}

func TestWebsocketDropAndReconnect(t *testing.T) {
	c := newTC(t, Options{})
	ev := c.events("cti", false)
	cust := c.srv.Inbound("cti", nil, "+4420", "100", nil)
	ev.wait("StasisStart", cust)
	c.must("POST", "/bridges", "bridgeId=rb", 200)
	c.must("POST", "/bridges/rb/addChannel", "channel="+cust, 204)
	ev.wait("ChannelEnteredBridge", cust)
	c.srv.DropWebsockets()
	ev.quiet(100 * time.Millisecond) // drains until closed
	if c.srv.AppActive("cti") {
		t.Fatal("app still active")
	}
	// REST still works, app keeps its subscriptions
	c.must("POST", "/channels/"+cust+"/answer", "", 204)
	app := c.must("GET", "/applications/cti", "", 200)
	if len(app["channel_ids"].([]any)) != 1 || len(app["bridge_ids"].([]any)) != 1 {
		t.Fatalf("app during outage %v", app)
	}
	// new Stasis() entry fails
	if _, err := c.srv.InboundCall(Call{App: "cti", From: "1", To: "2"}); !errors.Is(err, ErrAppNotActive) {
		t.Fatalf("inbound during outage: %v", err)
	}
	c.must("POST", "/channels/"+cust+"/hold", "", 204) // event dropped
	ev2 := c.events("cti", false)
	c.must("DELETE", "/channels/"+cust+"/hold", "", 204)
	m := ev2.next()
	if m["type"] != "ChannelUnhold" {
		t.Fatalf("first event after reconnect = %v (no replay expected)", m["type"])
	}
	// subscribeAll apps vanish on drop
	evAll := c.events("mon", true)
	_ = evAll
	c.must("GET", "/applications/mon", "", 200)
	c.srv.DropWebsockets()
	c.must("GET", "/applications/mon", "", 404)
	c.must("GET", "/applications/cti", "", 200)
}

func TestApplicationReplaced(t *testing.T) {
	c := newTC(t, Options{})
	ev1 := c.events("cti", false)
	ev2 := c.events("cti", false)
	if m := ev1.next(); m["type"] != "ApplicationReplaced" || m["application"] != "cti" {
		t.Fatalf("old socket got %v", m)
	}
	id := c.srv.Inbound("cti", nil, "1", "2", nil)
	ev2.wait("StasisStart", id)
	if evs := ev1.quiet(50 * time.Millisecond); len(evs) != 0 {
		t.Fatalf("replaced socket still gets events: %v", types(evs, ""))
	}
}

func TestRestart(t *testing.T) {
	c := newTC(t, Options{})
	ev := c.events("cti", false)
	info := c.must("GET", "/asterisk/info", "", 200)
	t0 := info["status"].(map[string]any)["startup_time"]
	id := c.srv.Inbound("cti", nil, "1", "2", nil)
	c.must("POST", "/bridges", "bridgeId=x", 200)
	c.srv.Restart()
	ev.quiet(100 * time.Millisecond)
	select {
	case _, ok := <-ev.ch:
		if ok {
			t.Fatal("websocket still open")
		}
	default:
	}
	c.must("GET", "/channels/"+id, "", 404)
	c.must("GET", "/bridges/x", "", 404)
	c.must("GET", "/applications/cti", "", 404)
	info = c.must("GET", "/asterisk/info", "only=status", 200)
	if t1 := info["status"].(map[string]any)["startup_time"]; t1 == t0 {
		t.Fatalf("startup_time unchanged %v", t1)
	}
}

func TestOriginateFailuresAndDial(t *testing.T) {
	clk := NewFakeClock(time.Time{})
	c := newTC(t, Options{Clock: clk})
	ev := c.events("cti", false)
	c.srv.Script("PJSIP/busy", Behavior{Busy: true, RingFor: time.Second})
	c.srv.Script("PJSIP/+4420*@trunk", Behavior{AnswerAfter: 2 * time.Second})
	c.srv.Script("PJSIP/noans", Behavior{NoAnswer: true})
	c.must("POST", "/channels", "endpoint=PJSIP/busy&app=cti&channelId=bz", 200)
	clk.Advance(time.Second)
	d := ev.wait("ChannelDestroyed", "bz")
	if d["cause"] != 17.0 {
		t.Fatalf("busy %v", d)
	}
	// create + dial
	c.must("POST", "/channels/create", "endpoint=PJSIP/%2B44201234@trunk&app=cti&channelId=out", 200)
	st := ev.wait("StasisStart", "out")
	if st["channel"].(map[string]any)["state"] != "Down" {
		t.Fatalf("created state %v", st)
	}
	c.must("POST", "/channels/out/dial", "timeout=10", 204)
	var statuses []string
	clk.Advance(3 * time.Second)
	for _, m := range ev.quiet(100 * time.Millisecond) {
		if m["type"] == "Dial" {
			statuses = append(statuses, m["dialstatus"].(string))
		}
	}
	if strings.Join(statuses, ",") != ",RINGING,ANSWER" {
		t.Fatalf("dial statuses %q", statuses)
	}
	// originate timeout on a no-answer endpoint
	c.must("POST", "/channels", "endpoint=PJSIP/noans&app=cti&channelId=na&timeout=5", 200)
	clk.Advance(6 * time.Second)
	d = ev.wait("ChannelDestroyed", "na")
	if d["cause"] != 19.0 {
		t.Fatalf("no answer %v", d)
	}
	// hang-up of a ringing created+dialled channel gives CANCEL
	c.must("POST", "/channels/create", "endpoint=PJSIP/noans&app=cti&channelId=cx", 200)
	c.must("POST", "/channels/cx/dial", "", 204)
	c.must("DELETE", "/channels/cx", "", 204)
	m := ev.wait("Dial", "")
	for m["dialstatus"] != "CANCEL" {
		m = ev.wait("Dial", "")
	}
}

func TestPlaybackAndMove(t *testing.T) {
	clk := NewFakeClock(time.Time{})
	c := newTC(t, Options{Clock: clk})
	ev := c.events("cti,other", false)
	id := c.srv.Inbound("cti", nil, "1", "2", nil)
	c.must("POST", "/channels/"+id+"/answer", "", 204)
	pb := c.must("POST", "/channels/"+id+"/play/pb1", "media=sound:beep", 201)
	if pb["id"] != "pb1" || pb["target_uri"] != "channel:"+id {
		t.Fatalf("play %v", pb)
	}
	ev.wait("PlaybackStarted", "")
	c.must("GET", "/playbacks/pb1", "", 200)
	clk.Advance(500 * time.Millisecond)
	if f := ev.wait("PlaybackFinished", ""); f["playback"].(map[string]any)["state"] != "done" {
		t.Fatalf("finished %v", f)
	}
	c.must("GET", "/playbacks/pb1", "", 404)
	c.must("POST", "/channels/"+id+"/move", "app=other&appArgs=x", 204)
	end := ev.wait("StasisEnd", id)
	start := ev.wait("StasisStart", id)
	if end["application"] != "cti" || start["application"] != "other" {
		t.Fatalf("move end %v start %v", end["application"], start["application"])
	}
	// variables
	c.must("POST", "/channels/"+id+"/variable", "variable=CTI_CALL_ID&value=42", 204)
	if v := c.must("GET", "/channels/"+id+"/variable", "variable=CTI_CALL_ID", 200); v["value"] != "42" {
		t.Fatalf("var %v", v)
	}
	// bridge create with JSON body name+variables object -> 400 like 22.10.1
	code, _ := c.call("POST", "/bridges", "", map[string]any{"name": "x", "variables": map[string]string{"A": "b"}})
	if code != 400 {
		t.Fatalf("bridge body = %d", code)
	}
}
