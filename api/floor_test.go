package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
)

// dialFloor opens the supervisor floor websocket.
func (e *env) dialFloor(tok string, after uint64) *wsClient {
	e.t.Helper()
	var tr struct{ Ticket, URL string }
	e.must(200, "POST", "/api/v1/supervisor/ws-ticket", tok, "").json(e.t, &tr)
	u := "ws" + strings.TrimPrefix(e.base, "http") + tr.URL
	if after > 0 {
		u += fmt.Sprintf("&after=%d", after)
	}
	conn, res, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		e.t.Fatalf("floor websocket: %v (%v)", err, res)
	}
	c := &wsClient{t: e.t, conn: conn, msgs: make(chan wsMsg, 10000), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				c.err = err
				close(c.msgs)
				return
			}
			var m wsMsg
			json.Unmarshal(b, &m)
			c.msgs <- m
		}
	}()
	e.t.Cleanup(func() { conn.Close(); <-c.done })
	return c
}

// nextWhere returns the next message of type typ whose data satisfies ok.
func (c *wsClient) nextWhere(typ string, within time.Duration, ok func(json.RawMessage) bool) wsMsg {
	c.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, open := <-c.msgs:
			if !open {
				c.t.Fatalf("websocket closed waiting for %s (%v)", typ, c.err)
			}
			if m.Type == typ && ok(m.Data) {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no matching %s within %s", typ, within)
		}
	}
}

func TestFloorFeedUpdatesResumesAndFilters(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["sue"]), root, fmt.Sprintf(`{"campaignIds":[%d]}`, e.campaign))
	sue := e.login("sue")
	floor := e.dialFloor(sue, 0)
	hello := floor.next("hello")
	var v struct {
		Agents, Calls []map[string]any
		Queues        []struct {
			CampaignID int64
			Waiting    int
		}
	}
	json.Unmarshal(hello.Data, &v)
	if len(v.Queues) != 1 || v.Queues[0].CampaignID != e.campaign {
		t.Fatalf("hello queues %+v", v.Queues)
	}
	// An agent logs in: the floor shows her within a second (allowing for
	// a loaded machine the bound is generous; the figure is logged).
	alice := e.login("alice")
	start := time.Now()
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	m := floor.nextWhere("agent", 10*time.Second, func(d json.RawMessage) bool {
		var a cti.SupervisorAgent
		json.Unmarshal(d, &a)
		return a.ID == e.ids["alice"] && a.State == cti.AgentLoggedIn
	})
	t.Logf("agent login → floor: %s", time.Since(start))
	// A caller waits (nobody is Ready): the call and the queue show.
	start = time.Now()
	e.Double.Inbound("ctid", []string{"inbound", did}, "+447700900123", did, nil)
	floor.nextWhere("call", 10*time.Second, func(d json.RawMessage) bool {
		var c cti.SupervisorCall
		json.Unmarshal(d, &c)
		return c.State == cti.CallQueued && c.CustomerNumber == "+447700900123"
	})
	floor.nextWhere("queue", 10*time.Second, func(d json.RawMessage) bool {
		var q struct {
			Waiting     int
			OldestSince *time.Time
		}
		json.Unmarshal(d, &q)
		return q.Waiting == 1 && q.OldestSince != nil
	})
	t.Logf("queued call → floor: %s", time.Since(start))

	// Resume after the agent message: what followed comes again, no hello.
	again := e.dialFloor(sue, m.Seq)
	first := again.nextWhere("call", 10*time.Second, func(json.RawMessage) bool { return true })
	if first.Seq <= m.Seq {
		t.Fatalf("resumed at %d after %d", first.Seq, m.Seq)
	}
	// A supervisor of no campaign sees an empty floor; agents get no ticket.
	acc := e.addSupervisor("sam")
	_ = acc
	var other struct{ Agents, Calls []any }
	e.must(200, "GET", "/api/v1/supervisor/floor", e.login("sam"), "").json(t, &other)
	if len(other.Agents) != 0 || len(other.Calls) != 0 {
		t.Fatalf("sam's floor %+v", other)
	}
	e.must(403, "POST", "/api/v1/supervisor/ws-ticket", alice, "")
}

func (e *env) addSupervisor(name string) int64 {
	e.t.Helper()
	e.must(201, "POST", "/api/v1/admin/users", e.login("root"), fmt.Sprintf(`{"username":%q,"password":%q,"role":"supervisor","displayName":%q}`, name, password, name))
	var id int64
	e.DB.Raw(`SELECT id FROM users WHERE username = ?`, name).Scan(&id)
	e.ids[name] = id
	return id
}

func TestSupervisorActionsAreAuditedAndShownToTheAgent(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["sue"]), root, fmt.Sprintf(`{"campaignIds":[%d]}`, e.campaign))
	sue := e.login("sue")
	alice := e.login("alice")
	e.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	e.must(200, "POST", "/api/v1/agent/login", alice, "")
	ws := e.dialWS(alice, 0)
	ws.next("hello")
	e.must(200, "POST", "/api/v1/agent/connect", alice, `{"mode":"system_calls","number":"1001","persistent":true}`)
	e.waitState(alice, cti.AgentPaused)
	aid := e.ids["alice"]
	path := func(a string) string { return fmt.Sprintf("/api/v1/supervisor/agents/%d/%s", aid, a) }
	e.must(200, "POST", path("ready"), sue, "")
	e.waitState(alice, cti.AgentReady)
	e.must(400, "POST", path("pause"), sue, "").problem(t)
	e.must(400, "POST", path("pause"), sue, `{"reason":"Nap"}`).problem(t) // not a pause reason: refused, audited
	e.must(200, "POST", path("pause"), sue, `{"reason":"Training"}`)
	s := e.waitState(alice, cti.AgentPaused)
	if s.State.PauseReason != "Training" {
		t.Fatalf("alice paused with %q", s.State.PauseReason)
	}
	ws.nextWhere("supervisor.notice", 10*time.Second, func(d json.RawMessage) bool {
		return strings.Contains(string(d), "Sue paused you (Training).")
	})
	e.must(409, "POST", path("hangup"), sue, "")
	// Sam supervises nothing of alice's: as if she did not exist.
	e.addSupervisor("sam")
	e.must(404, "POST", path("ready"), e.login("sam"), "")
	e.must(404, "POST", "/api/v1/supervisor/agents/999999/ready", root, "")
	e.must(200, "POST", path("logout"), sue, `{"reason":"Lunch"}`)
	e.waitState(alice, cti.AgentLoggedOut)
	var audit []struct{ Action, Reason, Outcome string }
	e.DB.Raw(`SELECT action, reason, outcome FROM supervisor_actions WHERE agent_id = ? ORDER BY id`, aid).Scan(&audit)
	var got []string
	for _, a := range audit {
		o := a.Outcome
		if strings.HasPrefix(o, "refused") {
			o = "refused"
		}
		got = append(got, a.Action+":"+a.Reason+":"+o)
	}
	want := "agent_ready::ok agent_pause:Nap:refused agent_pause:Training:ok agent_hangup::refused agent_logout:Lunch:ok"
	if strings.Join(got, " ") != want {
		t.Fatalf("audit\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
