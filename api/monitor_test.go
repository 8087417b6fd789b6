package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// Listen, whisper, barge and stop on the double: the supervisor's leg and
// snoops sit where each mode needs them, every step is audited, and the
// agent is told only when the campaign says so.
func TestMonitorListenWhisperBargeStop(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["sue"]), root, fmt.Sprintf(`{"campaignIds":[%d]}`, e.campaign))
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/campaigns/%d", e.campaign), root, fmt.Sprintf(`{"name":"Sales","dids":[%q],"platformNumber":%q,
		"settings":{"supervision":{"showMonitoring":true}},
		"wrapCodes":[{"code":"SALE","label":"Sale"}],"agentIds":[%d,%d,%d]}`, did, did, e.ids["alice"], e.ids["bob"], e.ids["sue"]))
	e.Engine.Reload(ctx())
	alice := e.login("alice")
	ws, cust, iid := e.onCall(alice, "1001")
	e.Double.Script("PJSIP/1003", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	sue := e.login("sue")

	var agentCh, callBridge string
	if c, ok := e.Double.Channel(cust); ok {
		callBridge = c.Bridge
	}
	for _, c := range e.Double.Channels() {
		if c.Bridge == callBridge && c.ID != cust && strings.HasPrefix(c.Name, "PJSIP/1001") {
			agentCh = c.ID
		}
	}
	if agentCh == "" || callBridge == "" {
		t.Fatalf("no agent channel in the call's bridge %q: %+v", callBridge, e.Double.Channels())
	}
	// where reports the supervisor's leg's bridge and the monitor's snoop.
	where := func() (legBridge, snoop string) {
		for _, c := range e.Double.Channels() {
			if strings.HasPrefix(c.ID, "mon-") {
				legBridge = c.Bridge
			}
			if strings.HasPrefix(c.ID, "monsnoop-") {
				if c.SnoopOf != agentCh {
					t.Fatalf("snoop on %s, want the agent's channel %s", c.SnoopOf, agentCh)
				}
				snoop = c.ID
			}
		}
		return
	}
	until := func(what string, cond func(leg, snoop string) bool) {
		t.Helper()
		ctitest.Eventually(t, 15*time.Second, what, func() bool { l, s := where(); return cond(l, s) })
	}

	e.must(404, "POST", "/api/v1/supervisor/monitor", sue, `{"interactionId":"I-none","mode":"listen"}`)
	e.must(400, "POST", "/api/v1/supervisor/monitor", sue, `{"interactionId":"`+iid+`","mode":"shout"}`)
	var v cti.MonitorView
	e.must(200, "POST", "/api/v1/supervisor/monitor", sue, `{"interactionId":"`+iid+`","mode":"listen"}`).json(t, &v)
	if v.Phone != "1003" || v.Mode != cti.MonitorListen {
		t.Fatalf("monitor %+v", v)
	}
	until("listening: leg in the monitor bridge with a listen snoop", func(l, s string) bool {
		return strings.HasPrefix(l, "monbr-") && strings.HasSuffix(s, "-listen")
	})
	ws.nextWhere("monitor.state", 10*time.Second, func(d json.RawMessage) bool { return strings.Contains(string(d), `"mode":"listen"`) })
	e.must(200, "POST", "/api/v1/supervisor/monitor", sue, `{"interactionId":"`+iid+`","mode":"whisper"}`)
	until("whispering: a whisper snoop replaced the listen one", func(l, s string) bool {
		return strings.HasPrefix(l, "monbr-") && strings.HasSuffix(s, "-whisper")
	})
	e.must(200, "POST", "/api/v1/supervisor/monitor", sue, `{"interactionId":"`+iid+`","mode":"barge"}`)
	until("barged: leg in the call's bridge, no snoop", func(l, s string) bool { return l == callBridge && s == "" })
	e.must(200, "POST", "/api/v1/supervisor/monitor", sue, `{"interactionId":"`+iid+`","mode":"listen"}`)
	until("back to listening", func(l, s string) bool { return strings.HasPrefix(l, "monbr-") && strings.HasSuffix(s, "-listen") })
	if c, _ := e.Double.Channel(cust); c.Bridge != callBridge {
		t.Fatalf("customer left the call's bridge: %+v", c)
	}
	e.must(200, "GET", "/api/v1/supervisor/monitor", sue, "")
	e.must(200, "POST", "/api/v1/supervisor/monitor/stop", sue, "")
	until("stopped: no leg, no snoop", func(l, s string) bool { return l == "" && s == "" })
	ws.nextWhere("monitor.state", 10*time.Second, func(d json.RawMessage) bool { return strings.Contains(string(d), `"active":false`) })
	e.must(404, "GET", "/api/v1/supervisor/monitor", sue, "")
	e.must(404, "POST", "/api/v1/supervisor/monitor/stop", sue, "")

	// Monitoring ends with the call.
	e.must(200, "POST", "/api/v1/supervisor/monitor", sue, `{"interactionId":"`+iid+`","mode":"whisper"}`)
	until("whispering again", func(l, s string) bool { return strings.HasSuffix(s, "-whisper") })
	e.Double.HangupChannel(cust, 16)
	until("call over: monitor gone", func(l, s string) bool { return l == "" && s == "" })
	e.must(404, "GET", "/api/v1/supervisor/monitor", sue, "")

	var audit []string
	e.DB.Raw(`SELECT action FROM supervisor_actions WHERE interaction_id = ? ORDER BY id`, iid).Scan(&audit)
	want := "monitor_shout monitor_listen monitor_whisper monitor_barge monitor_listen monitor_stop monitor_whisper"
	if strings.Join(audit, " ") != want {
		t.Fatalf("audit %v, want %s", audit, want)
	}
	// Bob (an agent) cannot monitor.
	e.must(403, "POST", "/api/v1/supervisor/monitor", e.login("bob"), `{"interactionId":"`+iid+`","mode":"listen"}`)
}
