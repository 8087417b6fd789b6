package aritest

import (
	"testing"
	"time"
)

func TestEndpointsDeviceStatesAndGlobals(t *testing.T) {
	c := newTC(t, Options{})
	c.srv.Script("PJSIP/1001", Behavior{})
	ev := c.events("cti", false)
	ep := c.must("GET", "/endpoints/PJSIP/1001", "", 200)
	if ep["state"] != "online" || ep["technology"] != "PJSIP" {
		t.Fatalf("endpoint %v", ep)
	}
	c.must("GET", "/endpoints/PJSIP/2002", "", 404)
	c.must("POST", "/applications/cti/subscription", "eventSource=deviceState:Stasis:agent-1001", 200)
	c.must("PUT", "/deviceStates/Stasis:agent-1001", "deviceState=INUSE", 204)
	m := ev.wait("DeviceStateChanged", "")
	if ds := m["device_state"].(map[string]any); ds["name"] != "Stasis:agent-1001" || ds["state"] != "INUSE" {
		t.Fatalf("device state %v", m)
	}
	c.must("PUT", "/deviceStates/PJSIP:1001", "deviceState=INUSE", 409)
	c.must("PUT", "/deviceStates/Stasis:x", "deviceState=BOGUS", 400)
	c.must("POST", "/asterisk/variable", "variable=G&value=1", 204)
	if v := c.must("GET", "/asterisk/variable", "variable=G", 200); v["value"] != "1" {
		t.Fatalf("global %v", v)
	}
	c.must("DELETE", "/applications/cti/subscription", "eventSource=channel:nope", 422)
	c.must("GET", "/applications/nope", "", 404)
}

func TestPlaybackQueueAndControl(t *testing.T) {
	clk := NewFakeClock(time.Time{})
	c := newTC(t, Options{Clock: clk})
	ev := c.events("cti", false)
	id := c.srv.Inbound("cti", nil, "1", "2", nil)
	c.must("POST", "/channels/"+id+"/answer", "", 204)
	c.must("POST", "/channels/"+id+"/play/p1", "media=sound:hello,sound:silence/3", 201)
	c.must("POST", "/channels/"+id+"/play/p2", "media=sound:beep", 201)
	if p := c.must("GET", "/playbacks/p2", "", 200); p["state"] != "queued" {
		t.Fatalf("p2 %v", p)
	}
	clk.Advance(time.Second)
	c.must("POST", "/playbacks/p1/control", "operation=pause", 204)
	c.must("POST", "/playbacks/p1/control", "operation=pause", 409)
	clk.Advance(10 * time.Second)
	c.must("POST", "/playbacks/p1/control", "operation=unpause", 204)
	clk.Advance(time.Second) // sound:hello done (2 s)
	clk.Advance(3 * time.Second)
	var seq []string
	for _, m := range ev.quiet(100 * time.Millisecond) {
		if pb, ok := m["playback"].(map[string]any); ok {
			seq = append(seq, m["type"].(string)+":"+pb["id"].(string))
		}
	}
	want := "PlaybackStarted:p1 PlaybackContinuing:p1 PlaybackFinished:p1 PlaybackStarted:p2"
	if got := join(seq); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	c.must("DELETE", "/playbacks/p2", "", 204)
	c.must("DELETE", "/playbacks/p2", "", 404)
}

func join(l []string) string {
	out := ""
	for i, s := range l {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}
