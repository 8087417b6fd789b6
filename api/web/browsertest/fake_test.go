package browsertest

// A small stand-in for the api package implementing the adaptor's contract
// (auth, agent actions, websocket with hello/resume/ping) on top of the cti
// view types, so the pages can be driven before and independently of the
// real stack.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ctid/ctid/api/web"
	"github.com/ctid/ctid/cti"
	"github.com/gorilla/websocket"
)

type fake struct {
	srv *httptest.Server

	mu      sync.Mutex
	snap    cti.AgentSnapshot
	log     []fakeEnv // every event, for resume
	subs    map[*websocket.Conn]bool
	tickets map[string]bool
	tokens  map[string]bool
	n       int
	calls   []string // "METHOD path body" of every API request
	wrapped []cti.WrapRequest
	desk    deskFake // desk_fake_test.go
}

type fakeEnv struct {
	Seq  uint64    `json:"seq"`
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	Data any       `json:"data"`
}

const fakeWrapSeconds = 30

func newFake() *fake {
	f := &fake{subs: map[*websocket.Conn]bool{}, tickets: map[string]bool{}, tokens: map[string]bool{}}
	f.snap = cti.AgentSnapshot{
		AgentID: 7, Username: "alice", DisplayName: "Alice Agent",
		State:        cti.StateView{State: cti.AgentLoggedOut, Since: time.Now()},
		Phone:        cti.PhoneView{DefaultNumber: "1001"},
		Campaigns:    []cti.CampaignRef{{ID: 1, Name: "Sales", Kind: "inbound"}, {ID: 2, Name: "Renewals", Kind: "outbound"}},
		PauseReasons: []string{"Break", "Lunch", "Training"},
		Permissions:  cti.Permissions{ManualCallWhenPaused: true},
	}
	mux := http.NewServeMux()
	mux.Handle("/", web.HandlerFor(testWWW()))
	mux.HandleFunc("/api/v1/", f.serveAPI)
	f.srv = httptest.NewServer(mux)
	f.desk.sfOrigin = f.srv.URL // the tests' Salesforce is this server (testdata/www)
	return f
}

func (f *fake) URL() string { return f.srv.URL }
func (f *fake) Close()      { f.srv.Close() }

func problem(w http.ResponseWriter, status int, title, detail, field string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail, "field": field})
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// publish appends an event and fans it out; call with f.mu held.
func (f *fake) publish(typ string, data any) {
	e := fakeEnv{Seq: uint64(len(f.log) + 1), Type: typ, Time: time.Now(), Data: data}
	f.log = append(f.log, e)
	f.snap.Seq = e.Seq
	for c := range f.subs {
		c.WriteJSON(e)
	}
}

func (f *fake) setState(s cti.AgentState, reason string) {
	f.snap.State = cti.StateView{State: s, PauseReason: reason, Since: time.Now()}
	if s != cti.AgentReserved && s != cti.AgentOnCall && s != cti.AgentOnWrap {
		f.snap.Call, f.snap.Wrap = nil, nil
	}
	f.publish("agent.state", f.snap.State)
}

func (f *fake) serveAPI(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	var body map[string]any
	if r.Method != http.MethodGet && r.Body != nil {
		json.NewDecoder(r.Body).Decode(&body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(body)
	f.calls = append(f.calls, r.Method+" "+path+" "+string(b))
	str := func(k string) string { s, _ := body[k].(string); return s }

	if path == "/auth/login" {
		switch {
		case str("username") == "":
			problem(w, 400, "Invalid request", "username is required", "username")
		case str("password") == "":
			problem(w, 400, "Invalid request", "password is required", "password")
		case str("username") != "alice" || str("password") != agentPassword:
			problem(w, 401, "Unauthorized", "Wrong username or password", "")
		default:
			f.n++
			tok := fmt.Sprintf("tok%d", f.n)
			f.tokens[tok] = true
			reply(w, map[string]any{"token": tok, "expiresAt": time.Now().Add(8 * time.Hour),
				"user": map[string]any{"id": 7, "username": "alice", "displayName": "Alice Agent", "role": "agent"}})
		}
		return
	}
	if path == "/ws" {
		f.mu.Unlock()
		f.serveWS(w, r)
		f.mu.Lock()
		return
	}
	if !f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		problem(w, 401, "Unauthorized", "missing or expired token", "")
		return
	}
	if f.serveDesk(w, r, path, body) {
		return
	}
	st := f.snap.State.State
	conflict := func() {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(409)
		json.NewEncoder(w).Encode(map[string]any{"title": "Conflict", "status": 409, "detail": "not allowed in state " + string(st), "state": st})
	}
	switch {
	case path == "/auth/logout":
		delete(f.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		w.WriteHeader(204)
	case path == "/auth/ws-ticket":
		f.n++
		t := fmt.Sprintf("ticket%d", f.n)
		f.tickets[t] = true
		reply(w, map[string]string{"ticket": t})
	case path == "/agent" && r.Method == "GET":
		reply(w, f.snap)
	case path == "/pause-reasons":
		reply(w, f.snap.PauseReasons)
	case path == "/agent/login":
		if st == cti.AgentLoggedOut {
			f.setState(cti.AgentLoggedIn, "")
		}
		reply(w, f.snap)
	case path == "/agent/connect":
		if st != cti.AgentLoggedIn {
			conflict()
			return
		}
		f.snap.Phone.Mode = cti.PhoneMode(str("mode"))
		f.snap.Phone.Number = str("number")
		f.snap.Phone.Persistent, _ = body["persistent"].(bool)
		f.setState(cti.AgentConnecting, "")
		w.WriteHeader(204)
		time.AfterFunc(300*time.Millisecond, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.snap.Phone.Connected = true
			f.publish("phone.connected", f.snap.Phone)
			f.setState(cti.AgentPaused, "Break")
		})
	case path == "/agent/ready":
		if st != cti.AgentPaused && st != cti.AgentReady {
			conflict()
			return
		}
		f.setState(cti.AgentReady, "")
		w.WriteHeader(204)
	case path == "/agent/pause":
		if st != cti.AgentPaused && st != cti.AgentReady {
			conflict()
			return
		}
		f.setState(cti.AgentPaused, str("reason"))
		w.WriteHeader(204)
	case path == "/agent/logout":
		f.snap.Phone.Connected = false
		f.setState(cti.AgentLoggedOut, "")
		w.WriteHeader(204)
	case path == "/agent/calls" && r.Method == "POST":
		if st != cti.AgentPaused && st != cti.AgentReady {
			conflict()
			return
		}
		num := str("number")
		if strings.Trim(num, "+0123456789 ") != "" || len(num) < 3 {
			problem(w, 400, "Invalid number", "not a phone number: "+num, "number")
			return
		}
		c := &cti.CallInfo{InteractionID: fmt.Sprintf("int-out-%d", len(f.log)), Direction: "OUT", CustomerNumber: num,
			PlatformNumber: "+441632960999", State: cti.CallDialing}
		if id, ok := body["campaignId"].(float64); ok {
			i := int64(id)
			c.CampaignID = &i
			c.CampaignName = f.campaign(i)
		}
		f.setState(cti.AgentOnCall, "")
		f.snap.Call = c
		f.publish("call.dialing", *c)
		reply(w, *c)
		time.AfterFunc(300*time.Millisecond, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.snap.Call == nil || f.snap.Call.InteractionID != c.InteractionID || c.State != cti.CallDialing {
				return
			}
			now := time.Now()
			c.State, c.ConnectedAt = cti.CallConnected, &now
			f.publish("call.connected", *c)
		})
	case path == "/agent/hangup":
		if f.snap.Call == nil {
			conflict()
			return
		}
		f.endCall("agent")
		w.WriteHeader(204)
	case strings.HasPrefix(path, "/agent/calls/") && strings.HasSuffix(path, "/notes"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/agent/calls/"), "/notes")
		if f.snap.Call == nil || f.snap.Call.InteractionID != id {
			problem(w, 404, "Not found", "no such call", "")
			return
		}
		f.snap.Call.Notes = str("notes")
		f.publish("call.notes", map[string]string{"interactionId": id, "notes": f.snap.Call.Notes})
		w.WriteHeader(204)
	case path == "/agent/wrap":
		if st != cti.AgentOnWrap {
			conflict()
			return
		}
		req := cti.WrapRequest{Code: str("code"), Next: str("next"), Reason: str("reason")}
		if n, ok := body["notes"].(string); ok {
			req.Notes = &n
		}
		f.wrapped = append(f.wrapped, req)
		if req.Next == "paused" {
			f.setState(cti.AgentPaused, req.Reason)
		} else {
			f.setState(cti.AgentReady, "")
		}
		w.WriteHeader(204)
	case path == "/agent/wrap/extend":
		if f.snap.Wrap == nil || f.snap.Wrap.Deadline == nil {
			conflict()
			return
		}
		d := f.snap.Wrap.Deadline.Add(time.Duration(f.snap.Wrap.ExtendSeconds) * time.Second)
		f.snap.Wrap.Deadline = &d
		f.publish("wrap.extended", *f.snap.Wrap)
		w.WriteHeader(204)
	default:
		problem(w, 404, "Not found", "the fake has no "+r.Method+" "+path, "")
	}
}

func (f *fake) campaign(id int64) string {
	for _, c := range f.snap.Campaigns {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}

// endCall: customer or agent hung up → call.ended, on_wrap, wrap.started.
func (f *fake) endCall(reason string) {
	c := f.snap.Call
	now := time.Now()
	f.desk.held, f.desk.heldSince, f.desk.holdSecs, f.desk.muted, f.desk.transfer, f.desk.parties, f.desk.payment = false, nil, 0, false, nil, nil, nil
	c.State, c.EndedAt, c.EndReason = cti.CallEnded, &now, reason
	f.publish("call.ended", *c)
	f.snap.State = cti.StateView{State: cti.AgentOnWrap, Since: now}
	f.publish("agent.state", f.snap.State)
	dl := now.Add(fakeWrapSeconds * time.Second)
	f.snap.Wrap = &cti.WrapView{InteractionID: c.InteractionID, DefaultCode: "SALE",
		Codes:    []cti.WrapCode{{Code: "SALE", Label: "Sale"}, {Code: "NOSALE", Label: "No sale"}, {Code: "CB", Label: "Callback"}},
		Deadline: &dl, ExtendSeconds: 15}
	f.publish("wrap.started", *f.snap.Wrap)
}

// Inbound rings the agent with a queued call and connects it shortly after.
func (f *fake) Inbound(customer string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("int-in-%d", len(f.log))
	camp := int64(1)
	c := &cti.CallInfo{InteractionID: id, CampaignID: &camp, CampaignName: "Sales", Direction: "IN", CustomerNumber: customer,
		PlatformNumber: "+441632960100", IVRText: "Sales line", IVRData: "option=2", TimeInQueueMs: 83_000, State: cti.CallOffering}
	f.setState(cti.AgentReserved, "")
	f.snap.Call = c
	f.publish("call.offered", *c)
	time.AfterFunc(300*time.Millisecond, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		now := time.Now()
		c.State, c.ConnectedAt = cti.CallConnected, &now
		f.snap.State = cti.StateView{State: cti.AgentOnCall, Since: now}
		f.publish("agent.state", f.snap.State)
		f.publish("call.connected", *c)
	})
	return id
}

// CustomerHangup ends the current call from the customer's side.
func (f *fake) CustomerHangup() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snap.Call != nil {
		f.endCall("customer")
	}
}

// DropSockets closes every websocket (a network blip).
func (f *fake) DropSockets() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.subs {
		c.Close()
		delete(f.subs, c)
	}
}

func (f *fake) requests(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (f *fake) serveWS(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ok := f.tickets[r.URL.Query().Get("ticket")]
	delete(f.tickets, r.URL.Query().Get("ticket"))
	f.mu.Unlock()
	if !ok {
		problem(w, 401, "Unauthorized", "bad ticket", "")
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	f.mu.Lock()
	if after > 0 && after <= uint64(len(f.log)) {
		c.WriteJSON(fakeEnv{Type: "hello", Time: time.Now(), Data: map[string]any{"resumed": true}})
		for _, e := range f.log[after:] {
			c.WriteJSON(e)
		}
	} else {
		c.WriteJSON(fakeEnv{Type: "hello", Time: time.Now(), Data: f.snap})
	}
	f.subs[c] = true
	f.mu.Unlock()
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			f.mu.Lock()
			delete(f.subs, c)
			f.mu.Unlock()
			return
		}
	}
}

func (f *fake) LastWrap() (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.wrapped) == 0 {
		return "", ""
	}
	w := f.wrapped[len(f.wrapped)-1]
	n := ""
	if w.Notes != nil {
		n = *w.Notes
	}
	return w.Code, n
}

func (f *fake) LastDial() (string, int64) {
	rs := f.requests("POST /agent/calls ")
	if len(rs) == 0 {
		return "", 0
	}
	var b struct {
		Number     string
		CampaignID *int64
	}
	json.Unmarshal([]byte(strings.TrimPrefix(rs[len(rs)-1], "POST /agent/calls ")), &b)
	if b.CampaignID == nil {
		return b.Number, -1
	}
	return b.Number, *b.CampaignID
}

func (f *fake) CampaignID(name string) int64 {
	for _, c := range f.snap.Campaigns {
		if c.Name == name {
			return c.ID
		}
	}
	return 0
}
