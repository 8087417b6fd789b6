package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

// Fault tests (issue 7): after each fault every interaction has exactly one
// complete record, no agent is stuck, no channel is orphaned in Asterisk.

// readyAgent logs user in through the API with a persistent system-calls
// phone, opens a websocket and goes Ready.
func (e *env) readyAgent(user, number string) (string, *wsClient) {
	e.t.Helper()
	e.Double.Script("PJSIP/"+number, aritest.Behavior{})
	tok := e.login(user)
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	ws := e.dialWS(tok, 0)
	ws.next("hello")
	e.must(200, "POST", "/api/v1/agent/connect", tok, fmt.Sprintf(`{"mode":"system_calls","number":%q,"persistent":true}`, number))
	ws.next("phone.connected")
	e.waitState(tok, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/ready", tok, "{}")
	e.waitState(tok, cti.AgentReady)
	return tok, ws
}

func callInfo(t testing.TB, m wsMsg) cti.CallInfo {
	t.Helper()
	var ci cti.CallInfo
	if err := json.Unmarshal(m.Data, &ci); err != nil {
		t.Fatal(err)
	}
	return ci
}

// checkRecords: one record per customer number, none open, all wrapped.
func checkRecords(t testing.TB, db *gorm.DB, numbers ...string) {
	t.Helper()
	for _, n := range numbers {
		var rows []struct {
			ID       string
			State    string
			EndedAt  *time.Time
			WrapCode string
		}
		db.Raw(`SELECT id, state, ended_at, wrap_code FROM interactions WHERE customer_number = ?`, n).Scan(&rows)
		if len(rows) != 1 || rows[0].EndedAt == nil || rows[0].State != string(cti.CallWrapped) {
			t.Errorf("records for %s: %+v, want one wrapped and ended", n, rows)
		}
	}
	var open int64
	db.Raw(`SELECT count(*) FROM interactions WHERE ended_at IS NULL`).Scan(&open)
	if open != 0 {
		t.Errorf("%d interactions left open", open)
	}
}

// checkUnansweredRecord: a caller who never reached an agent has exactly
// one record, ended (not wrapped: there was nobody to wrap), with an end
// reason, no wrap code and no connect time.
func checkUnansweredRecord(t testing.TB, db *gorm.DB, number string) {
	t.Helper()
	var rows []struct {
		State       string
		EndedAt     *time.Time
		ConnectedAt *time.Time
		EndReason   string
		WrapCode    string
	}
	db.Raw(`SELECT state, ended_at, connected_at, end_reason, wrap_code FROM interactions WHERE customer_number = ?`, number).Scan(&rows)
	if len(rows) != 1 {
		t.Errorf("records for unanswered %s: %+v, want exactly one", number, rows)
		return
	}
	r := rows[0]
	if r.State != string(cti.CallEnded) || r.EndedAt == nil || r.ConnectedAt != nil || r.EndReason == "" || r.WrapCode != "" {
		t.Errorf("record for unanswered %s: %+v, want state ended with ended_at and an end reason, no connect and no wrap code", number, r)
	}
}

// checkChannels: the double holds exactly the given channels (agent legs).
func checkChannels(t testing.TB, d *aritest.Server, want ...string) {
	t.Helper()
	got := map[string]bool{}
	for _, c := range d.Channels() {
		got[c.Name] = true
	}
	for _, w := range want {
		found := false
		for name := range got {
			if strings.HasPrefix(name, w+"-") {
				found = true
				delete(got, name)
				break
			}
		}
		if !found {
			t.Errorf("no channel %s in Asterisk", w)
		}
	}
	if len(got) != 0 {
		t.Errorf("orphaned channels in Asterisk: %v", got)
	}
}

func waitARI(t testing.TB, st *ctitest.Stack) {
	t.Helper()
	ctitest.Eventually(t, 5*time.Second, "ARI websocket back", func() bool {
		return st.ARI.Connected() && st.Double.AppActive("ctid")
	})
	if err := st.Engine.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// ARI websocket cut mid-call: the connected call survives, a hang-up
// during the gap is found by the resync and ends the call with a record.
func TestFaultARIWebsocketCutMidCall(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice, wsA := e.readyAgent("alice", "1001")
	bob, wsB := e.readyAgent("bob", "1002")

	c1 := e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900101", did, nil)
	// Which agent got the first call is the allocator's choice: ask the
	// server rather than racing the two websockets.
	first, other := wsA, wsB
	ctitest.Eventually(t, 5*time.Second, "first call connected", func() bool {
		return e.snapshot(alice).State.State == cti.AgentOnCall || e.snapshot(bob).State.State == cti.AgentOnCall
	})
	if e.snapshot(bob).State.State == cti.AgentOnCall {
		first, other = wsB, wsA
	}
	first.next("call.connected")
	c2 := e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900102", did, nil)
	other.next("call.connected")

	e.Double.DropWebsockets()
	e.Double.HangupChannel(c2, 16) // lost: nobody is listening
	waitARI(t, e.Stack)

	other.next("call.ended")
	other.next("wrap.started")
	if _, ok := e.Double.Channel(c1); !ok {
		t.Fatal("the connected call did not survive the cut")
	}
	tokFirst, tokOther := alice, bob
	if first == wsB {
		tokFirst, tokOther = bob, alice
	}
	if s := e.snapshot(tokFirst); s.State.State != cti.AgentOnCall || s.Call == nil {
		t.Fatalf("agent on the surviving call: %+v", s.State)
	}
	e.must(200, "POST", "/api/v1/agent/wrap", tokOther, `{"code":"SALE","next":"ready"}`)
	e.Double.HangupChannel(c1, 16)
	first.next("call.ended")
	e.must(200, "POST", "/api/v1/agent/wrap", tokFirst, `{"code":"SALE","next":"ready"}`)
	e.waitState(alice, cti.AgentReady)
	e.waitState(bob, cti.AgentReady)
	e.Engine.Flush(ctx())
	checkRecords(t, e.DB, "+447700900101", "+447700900102")
	checkChannels(t, e.Double, "PJSIP/1001", "PJSIP/1002")
}

// Asterisk restart (the double's Restart: every channel and bridge gone,
// websocket cut): every call ends with a record, agents are told, and
// the persistent phone leg of an agent who was not on a call is dialled
// again once Asterisk is back. An agent who was on a call wraps and then
// reconnects (agentPhoneGone: "the agent wraps and then has to reconnect").
func TestFaultDoubleRestartMidCall(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice, ws := e.readyAgent("alice", "1001")
	e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900201", did, nil)
	ws.next("call.connected")
	bob, wsB := e.readyAgent("bob", "1002")
	e.must(200, "POST", "/api/v1/agent/pause", bob, `{"reason":"Break"}`)
	// A second caller waits in the queue (bob is paused).
	e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900202", did, nil)
	ctitest.Eventually(t, 5*time.Second, "second caller queued", func() bool {
		s, _ := e.Engine.Stats(ctx())
		return s.Queued == 1
	})

	e.Double.Restart()
	waitARI(t, e.Stack)
	m := ws.next("call.ended")
	if ci := callInfo(t, m); ci.CustomerNumber != "+447700900201" {
		t.Fatalf("ended %+v", ci)
	}
	ws.next("wrap.started")
	wsB.next("phone.disconnected")
	wsB.next("phone.connected") // bob's persistent leg is back by itself
	e.waitState(bob, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/wrap", alice, `{"code":"SALE","next":"paused","reason":"Break"}`)
	// Alice was on a call when Asterisk went: her persistent leg is
	// re-dialled as soon as her wrap ends.
	ws.next("phone.connected")
	e.waitState(alice, cti.AgentPaused)
	if snap := e.snapshot(alice); !snap.Phone.Connected {
		t.Fatalf("alice's phone after wrap: %+v", snap.Phone)
	}
	e.must(200, "POST", "/api/v1/agent/ready", alice, "{}")
	e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900203", did, nil)
	ws.next("call.connected")
	e.must(200, "POST", "/api/v1/agent/hangup", alice, "")
	e.must(200, "POST", "/api/v1/agent/wrap", alice, `{"code":"SALE","next":"ready"}`)
	e.waitState(alice, cti.AgentReady)
	e.Engine.Flush(ctx())
	// The queued caller never reached an agent: its record ends as ctid
	// left it, ended (nothing to wrap), with a reason and no wrap code.
	checkUnansweredRecord(t, e.DB, "+447700900202")
	checkRecords(t, e.DB, "+447700900201", "+447700900203")
	checkChannels(t, e.Double, "PJSIP/1001", "PJSIP/1002")
}

// dropStore emulates SIGKILL for the record writer: after kill, writes
// that were still queued are lost instead of flushed on the way out.
type dropStore struct {
	cti.Store
	killed func() bool
}

func (s dropStore) skip() bool { return s.killed() }
func (s dropStore) CreateInteraction(ctx context.Context, in cti.Interaction) error {
	if s.skip() {
		return nil
	}
	return s.Store.CreateInteraction(ctx, in)
}
func (s dropStore) UpdateInteraction(ctx context.Context, in cti.Interaction) error {
	if s.skip() {
		return nil
	}
	return s.Store.UpdateInteraction(ctx, in)
}
func (s dropStore) AddInteractionEvent(ctx context.Context, id string, at time.Time, from, to cti.CallState, d string) error {
	if s.skip() {
		return nil
	}
	return s.Store.AddInteractionEvent(ctx, id, at, from, to, d)
}
func (s dropStore) UpsertLeg(ctx context.Context, l cti.Leg) error {
	if s.skip() {
		return nil
	}
	return s.Store.UpsertLeg(ctx, l)
}
func (s dropStore) AddAgentState(ctx context.Context, u int64, at time.Time, from, to cti.AgentState, r, i string) error {
	if s.skip() {
		return nil
	}
	return s.Store.AddAgentState(ctx, u, at, from, to, r, i)
}
func (s dropStore) SaveAgentSession(ctx context.Context, a cti.AgentSession) error {
	if s.skip() {
		return nil
	}
	return s.Store.SaveAgentSession(ctx, a)
}
func (s dropStore) DeleteAgentSession(ctx context.Context, u int64) error {
	if s.skip() {
		return nil
	}
	return s.Store.DeleteAgentSession(ctx, u)
}

// engineOn starts an ARI client and an engine against an existing double
// and database; stop cancels both without flushing anything.
func engineOn(t *testing.T, d *aritest.Server, store cti.Store) (eng *cti.Engine, client *ari.Client, stop func()) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	client, err := ari.New(ari.Config{URL: d.URL(), Username: "ctid", Password: "secret", App: "ctid", Logger: log,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	eng = cti.New(cti.Options{Telephony: cti.ARITelephony{C: client}, Store: store, Logger: log, DefaultRegion: "GB"})
	done := make(chan struct{})
	go client.Run(c)
	go eng.Pump(c, client.Events())
	go func() { eng.Run(c); close(done) }()
	ctitest.Eventually(t, 5*time.Second, "ARI connected", func() bool { return client.Connected() && d.AppActive("ctid") })
	if err := eng.Sync(c); err != nil {
		t.Fatal(err)
	}
	var once bool
	stop = func() {
		if !once {
			once = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return eng, client, stop
}

// ctid killed mid-call and restarted: engine A dies without flushing its
// last writes, engine B starts on the same database and Asterisk, re-adopts
// the connected call and the waiting caller, restores agents, and every
// record is completed; no channel is orphaned.
func TestFaultCtidKilledMidCallAndRestarted(t *testing.T) {
	db := pgtest.DB(t)
	alice := ctitest.Agent(t, db, "alice", "1001")
	bob := ctitest.Agent(t, db, "bob", "1002")
	ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Sales", DID: did, Platform: did, Codes: []string{"SALE"}, Agents: []int64{alice, bob}})
	d := aritest.NewServer(aritest.Options{Username: "ctid", Password: "secret"})
	t.Cleanup(d.Close)
	d.Script("PJSIP/1001", aritest.Behavior{})
	d.Script("PJSIP/1002", aritest.Behavior{})
	store := postgres.NewStore(db)

	killed := false
	a, _, stopA := engineOn(t, d, dropStore{Store: store, killed: func() bool { return killed }})
	bg := context.Background()
	for _, id := range []int64{alice, bob} {
		if _, err := a.Login(bg, id); err != nil {
			t.Fatal(err)
		}
		n := map[int64]string{alice: "1001", bob: "1002"}[id]
		if err := a.Connect(bg, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: n, Persistent: true}); err != nil {
			t.Fatal(err)
		}
	}
	waitAgent := func(e *cti.Engine, id int64, st cti.AgentState) cti.AgentSnapshot {
		t.Helper()
		var s cti.AgentSnapshot
		ctitest.Eventually(t, 5*time.Second, fmt.Sprintf("agent %d %s", id, st), func() bool {
			s, _ = e.Snapshot(bg, id)
			return s.State.State == st
		})
		return s
	}
	waitAgent(a, alice, cti.AgentPaused)
	waitAgent(a, bob, cti.AgentPaused)
	a.SetReady(bg, alice)
	a.SetReady(bg, bob)
	c1 := d.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900301", did, nil)
	ctitest.Eventually(t, 5*time.Second, "first call connected", func() bool {
		s, _ := a.Stats(bg)
		return s.CallsConnected == 1
	})
	c2 := d.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900302", did, nil)
	ctitest.Eventually(t, 5*time.Second, "second call connected", func() bool {
		s, _ := a.Stats(bg)
		return s.CallsConnected == 2
	})
	a.Flush(bg)
	// SIGKILL: from here engine A's queued writes are lost. A third caller
	// arrives in that window: A handles their StasisStart but their record
	// never reaches Postgres.
	killed = true
	c3 := d.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900303", did, nil)
	a.Sync(bg)
	stopA()
	d.HangupChannel(c2, 16) // a caller hangs up while ctid is down

	b, _, _ := engineOn(t, d, store)
	sa, sb := waitAgent(b, alice, cti.AgentOnCall), cti.AgentSnapshot{}
	_ = sa
	// One agent keeps the surviving call; the other wraps the call that
	// ended while ctid was down.
	onCall := alice
	sb, _ = b.Snapshot(bg, bob)
	if sb.State.State == cti.AgentOnCall {
		onCall = bob
	}
	var wrapping int64 = alice + bob - onCall
	s := waitAgent(b, wrapping, cti.AgentOnWrap)
	if s.Call == nil || s.Call.CustomerNumber != "+447700900302" {
		t.Fatalf("wrapping %+v", s.Call)
	}
	if err := b.Wrap(bg, wrapping, cti.WrapRequest{Code: "SALE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	// The caller whose record was lost with A's writer is still in Stasis:
	// B's restore adopts them from GET /channels, and the agent who just
	// wrapped (Ready again) is offered them.
	s3 := waitAgent(b, wrapping, cti.AgentOnCall)
	if s3.Call == nil || s3.Call.CustomerNumber != "+447700900303" {
		t.Fatalf("adopted caller: %+v", s3.Call)
	}
	d.HangupChannel(c3, 16)
	waitAgent(b, wrapping, cti.AgentOnWrap)
	if err := b.Wrap(bg, wrapping, cti.WrapRequest{Code: "SALE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	d.HangupChannel(c1, 16)
	waitAgent(b, onCall, cti.AgentOnWrap)
	if err := b.Wrap(bg, onCall, cti.WrapRequest{Code: "SALE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	b.Sync(bg)
	for _, id := range []int64{alice, bob} {
		st := waitAgent(b, id, cti.AgentReady)
		if !st.Phone.Connected {
			t.Errorf("agent %d phone not connected after restart: %+v", id, st.Phone)
		}
	}
	b.Flush(bg)
	checkRecords(t, db, "+447700900301", "+447700900302", "+447700900303")
	var open int64
	db.Raw(`SELECT count(*) FROM interactions WHERE ended_at IS NULL`).Scan(&open)
	if open != 0 {
		t.Errorf("%d interactions open", open)
	}
	checkChannels(t, d, "PJSIP/1001", "PJSIP/1002")
}

// Postgres connections killed during calls: the record writer retries and
// every record is complete.
func TestFaultPostgresConnectionsKilledDuringCalls(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice, ws := e.readyAgent("alice", "1001")
	e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900401", did, nil)
	ws.next("call.connected")
	e.Engine.Flush(ctx())

	// A separate connection terminates every other backend of this database
	// (the engine writer's and the API's pooled connections).
	killer, err := gorm.Open(e.DB.Dialector, &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sqlKiller, _ := killer.DB()
	defer sqlKiller.Close()
	var n int
	if err := killer.Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("terminated %d backends", n)
	// The API's pooled connections are dead too; the session lookup every
	// request makes retries on another connection, so clients see no error.
	var statuses []int
	for i := 0; i < 4; i++ {
		req, _ := http.NewRequest("GET", e.base+"/api/v1/agent", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
	}
	t.Logf("GET /api/v1/agent right after the kill: %v", statuses)
	for _, st := range statuses {
		if st != 200 {
			t.Fatalf("API answered %v right after Postgres dropped its connections", statuses)
		}
	}

	e.must(204, "PUT", "/api/v1/agent/calls/"+e.snapshot(alice).Call.InteractionID+"/notes", alice, `{"notes":"after the cut"}`)
	e.must(200, "POST", "/api/v1/agent/hangup", alice, "")
	ws.next("wrap.started")
	e.must(200, "POST", "/api/v1/agent/wrap", alice, `{"code":"SALE","next":"ready"}`)
	e.waitState(alice, cti.AgentReady)
	e.Double.Inbound("ctid", []string{"inbound", did, "", ""}, "+447700900402", did, nil)
	ws.next("call.connected")
	e.must(200, "POST", "/api/v1/agent/hangup", alice, "")
	e.must(200, "POST", "/api/v1/agent/wrap", alice, `{"code":"SALE","next":"ready"}`)
	if err := e.Engine.Flush(ctx()); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, e.DB, "+447700900401", "+447700900402")
	var notes string
	e.DB.Raw(`SELECT notes FROM interactions WHERE customer_number = '+447700900401'`).Scan(&notes)
	if notes != "after the cut" {
		t.Errorf("notes %q", notes)
	}
	checkChannels(t, e.Double, "PJSIP/1001")
}
