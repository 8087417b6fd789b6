package aritest

import (
	"strings"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	c := newTC(t, Options{})
	req := c.srv.URL() + "/ari/asterisk/ping"
	resp, err := httpGet(req)
	if err != nil || resp != 401 {
		t.Fatalf("unauthenticated ping = %d %v", resp, err)
	}
	code, m := c.call("GET", "/asterisk/ping", "", nil)
	if code != 200 || m["ping"] != "pong" {
		t.Fatalf("ping = %d %v", code, m)
	}
	resp, _ = httpGet(c.srv.URL() + "/ari/asterisk/ping?api_key=ctid:ctid")
	if resp != 200 {
		t.Fatalf("api_key ping = %d", resp)
	}
}

func TestOriginateIntoAppStasisStart(t *testing.T) {
	c := newTC(t, Options{})
	c.srv.Script("PJSIP/1001", Behavior{})
	ev := c.events("cti", false)
	m := c.must("POST", "/channels", "endpoint=PJSIP/1001&app=cti&appArgs=agent,42&channelId=a1&callerId=Bob%20%3C555%3E", 200)
	if m["id"] != "a1" || m["state"] != "Down" {
		t.Fatalf("originate response %v", m)
	}
	st := ev.wait("StasisStart", "a1")
	if st["application"] != "cti" || st["asterisk_id"] == nil || st["timestamp"] == nil {
		t.Fatalf("bad envelope %v", st)
	}
	args := st["args"].([]any)
	if len(args) != 2 || args[0] != "agent" || args[1] != "42" {
		t.Fatalf("args %v", args)
	}
	ch := st["channel"].(map[string]any)
	if ch["state"] != "Up" || !strings.HasPrefix(ch["name"].(string), "PJSIP/1001-") {
		t.Fatalf("channel %v", ch)
	}
	if cl := ch["caller"].(map[string]any); cl["number"] != "555" || cl["name"] != "Bob" {
		t.Fatalf("caller %v", cl)
	}
	if _, err := time.Parse(astTime, st["timestamp"].(string)); err != nil {
		t.Fatalf("timestamp: %v", err)
	}
	// unscripted PJSIP endpoint fails like chan_pjsip
	code, e := c.call("POST", "/channels", "endpoint=PJSIP/9999&app=cti", nil)
	if code != 500 || e["message"] != "Allocation failed" {
		t.Fatalf("unscripted = %d %v", code, e)
	}
	code, e = c.call("POST", "/channels", "app=cti", nil)
	if code != 400 || e["message"] != "Endpoint must be specified" {
		t.Fatalf("missing endpoint = %d %v", code, e)
	}
	code, e = c.call("POST", "/channels/nope/answer", "", nil)
	if code != 404 || e["message"] != "Channel not found" {
		t.Fatalf("answer unknown = %d %v", code, e)
	}
}

func TestBridgeAndHangupOrder(t *testing.T) {
	c := newTC(t, Options{})
	c.srv.Script("PJSIP/1001", Behavior{})
	ev := c.events("cti", false)
	cust := c.srv.Inbound("cti", []string{"inbound"}, "+441234", "100", map[string]string{"X": "1"})
	ev.wait("StasisStart", cust)
	c.must("POST", "/channels/"+cust+"/answer", "", 204)
	c.must("POST", "/channels", "endpoint=PJSIP/1001&app=cti&channelId=agent", 200)
	ev.wait("StasisStart", "agent")
	b := c.must("POST", "/bridges", "type=mixing,dtmf_events&bridgeId=b1&name=call1", 200)
	if b["id"] != "b1" || b["bridge_type"] != "mixing" || b["bridge_class"] != "stasis" {
		t.Fatalf("bridge %v", b)
	}
	c.must("POST", "/bridges/b1/addChannel", "channel="+cust+",agent", 204)
	ev.wait("ChannelEnteredBridge", cust)
	ev.wait("ChannelEnteredBridge", "agent")
	g := c.must("GET", "/bridges/b1", "", 200)
	if len(g["channels"].([]any)) != 2 {
		t.Fatalf("bridge channels %v", g)
	}
	app := c.must("GET", "/applications/cti", "", 200)
	if len(app["bridge_ids"].([]any)) != 1 || len(app["channel_ids"].([]any)) != 2 {
		t.Fatalf("app %v", app)
	}
	code, e := c.call("POST", "/bridges/b1/removeChannel", "channel=nope", nil)
	if code != 400 || e["message"] != "Channel not found" {
		t.Fatalf("remove unknown = %d %v", code, e)
	}
	c.must("DELETE", "/channels/"+cust, "reason=busy", 204)
	evs := ev.quiet(200 * time.Millisecond)
	for i, m := range evs {
		if m["type"] == "ChannelHangupRequest" {
			evs = evs[i:] // BRIDGEPEER varsets of the join come before
			break
		}
	}
	got := strings.Join(types(evs, cust), ",")
	// ChannelVarset BRIDGEPEER="" precedes ChannelLeftBridge (Asterisk 22).
	// The inbound channel is the app's only through Stasis(): that
	// subscription ends with StasisEnd, so no STASISSTATUS varset and no
	// ChannelDestroyed follow (Asterisk 22.10.1; contract DialplanStasis).
	want := "ChannelHangupRequest,ChannelVarset,ChannelLeftBridge,StasisEnd"
	if got != want {
		t.Fatalf("hangup order\n got %s\nwant %s", got, want)
	}
	for _, m := range evs {
		if m["type"] == "ChannelDestroyed" && (m["cause"] != 17.0 || m["cause_txt"] != "User busy") {
			t.Fatalf("destroyed %v", m)
		}
		if m["type"] == "ChannelVarset" && m["variable"] != "BRIDGEPEER" && (m["variable"] != "STASISSTATUS" || m["value"] != "SUCCESS") {
			t.Fatalf("varset %v", m)
		}
	}
	// bridges never dissolve
	g = c.must("GET", "/bridges/b1", "", 200)
	if len(g["channels"].([]any)) != 1 {
		t.Fatalf("bridge after hangup %v", g)
	}
	code, e = c.call("POST", "/bridges/b1/removeChannel", "channel="+cust, nil)
	if code != 400 {
		t.Fatalf("remove gone channel = %d %v", code, e)
	}
	// BridgeDestroyed reaches only apps subscribed to the bridge itself;
	// membership subscriptions end with ChannelLeftBridge.
	c.must("POST", "/applications/cti/subscription", "eventSource=bridge:b1", 200)
	c.must("DELETE", "/bridges/b1", "", 204)
	ev.wait("ChannelLeftBridge", "agent")
	ev.wait("BridgeDestroyed", "")
}
