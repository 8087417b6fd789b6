package aritest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options configures a Server.
type Options struct {
	// Username and Password are the ARI credentials (default "ctid"/"ctid").
	Username, Password string
	// Clock drives every timer in the double. Nil means real time.
	Clock Clock
	// Logger receives debug logs (nil discards).
	Logger *slog.Logger
	// EntityID is the asterisk_id / system.entity_id (default "00:00:5e:00:53:01").
	EntityID string
	// EventQueue is the per-websocket outbound queue length (default 65536).
	// A connection whose queue overflows is closed, like a stuck consumer.
	EventQueue int
}

// Server is the Asterisk double.
type Server struct {
	opts     Options
	clock    Clock
	log      *slog.Logger
	entityID string
	ln       net.Listener
	hs       *http.Server
	url      string
	upgrader websocket.Upgrader

	mu       sync.Mutex
	closed   bool
	startup  time.Time
	reload   time.Time
	seq      uint64 // unique id / channel name counter
	channels map[string]*channel
	bridges  map[string]*bridge
	// spentBridges are ids of destroyed bridges that once held a channel:
	// Asterisk 22.10.1 keeps refusing to re-create them (409) long after
	// GET answers 404 (ARI-NOTES, observed 2026-12-02).
	spentBridges map[string]bool
	faults       []fault // FailNext: requests to refuse, in order
	apps         map[string]*application
	conns        map[*wsConn]struct{}
	playbacks    map[string]*playback
	played       map[string][]string // media played per channel/bridge id, for tests
	recordings   map[string]*liveRecording
	stored       map[string]*storedRecording
	devices      map[string]string
	globals      map[string]string
	endpoints    map[string]*endpointState // "PJSIP/1001"
	scriptExact  map[string]Behavior
	scriptGlob   []scriptEntry
	contexts     map[string]DialplanContext
	history      map[string]*ChannelState // destroyed channels (for inspection)
	historyIDs   []string                 // FIFO bounding history
}

// maxHistory bounds how many destroyed channels are kept for inspection.
const maxHistory = 50000

type scriptEntry struct {
	pattern string
	b       Behavior
}

// NewServer starts a double listening on 127.0.0.1 on a free port.
func NewServer(opts Options) *Server {
	if opts.Username == "" && opts.Password == "" {
		opts.Username, opts.Password = "ctid", "ctid"
	}
	if opts.EntityID == "" {
		opts.EntityID = "00:00:5e:00:53:01"
	}
	if opts.EventQueue <= 0 {
		opts.EventQueue = 65536
	}
	s := &Server{opts: opts, clock: opts.Clock, log: opts.Logger, entityID: opts.EntityID}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.upgrader = websocket.Upgrader{
		CheckOrigin:     func(*http.Request) bool { return true },
		ReadBufferSize:  4096,
		WriteBufferSize: 16384,
	}
	s.scriptExact = map[string]Behavior{}
	s.contexts = map[string]DialplanContext{}
	s.endpoints = map[string]*endpointState{}
	s.globals = map[string]string{}
	s.devices = map[string]string{}
	s.stored = map[string]*storedRecording{}
	s.resetLocked()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("aritest: listen: " + err.Error())
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.hs = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go s.hs.Serve(ln)
	return s
}

// resetLocked clears all call state as a fresh Asterisk start would.
func (s *Server) resetLocked() {
	now := s.clock.Now()
	if !s.startup.IsZero() && !now.After(s.startup) {
		now = s.startup.Add(time.Second)
	}
	s.startup = now
	s.reload = now
	s.channels = map[string]*channel{}
	s.bridges = map[string]*bridge{}
	s.spentBridges = map[string]bool{}
	s.apps = map[string]*application{}
	s.conns = map[*wsConn]struct{}{}
	s.playbacks = map[string]*playback{}
	s.recordings = map[string]*liveRecording{}
	s.history = map[string]*ChannelState{}
	s.historyIDs = nil
}

// URL returns the base URL, e.g. "http://127.0.0.1:PORT"; ARI lives under /ari.
func (s *Server) URL() string { return s.url }

// Close stops the server and drops every websocket.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := s.conns
	s.conns = map[*wsConn]struct{}{}
	for _, c := range s.channels {
		c.stopTimers()
	}
	s.mu.Unlock()
	for c := range conns {
		c.close()
	}
	s.hs.Close()
}

// Restart simulates an Asterisk restart: channels, bridges, applications,
// playbacks and live recordings vanish without events, websockets drop and
// startup_time changes. Stored recordings, scripts, globals and device states
// (astdb-backed) survive.
func (s *Server) Restart() {
	s.mu.Lock()
	for _, c := range s.channels {
		c.stopTimers()
		c.dead = true
	}
	for _, r := range s.recordings {
		r.stopTimers()
	}
	for _, p := range s.playbacks {
		p.stopTimer()
	}
	for _, b := range s.bridges {
		b.dead = true
	}
	conns := s.conns
	s.resetLocked()
	s.mu.Unlock()
	for c := range conns {
		c.close()
	}
}

// DropWebsockets closes every events websocket as a network cut would.
// Applications stay registered but inactive (events to them are dropped, new
// Stasis() entries fail); applications registered with subscribeAll=true are
// removed with all their subscriptions.
func (s *Server) DropWebsockets() {
	s.mu.Lock()
	conns := s.conns
	s.conns = map[*wsConn]struct{}{}
	for c := range conns {
		s.detachConnLocked(c)
	}
	s.mu.Unlock()
	for c := range conns {
		c.close()
	}
}

// ---------------------------------------------------------------------------
// websocket connections and applications

type wsConn struct {
	wsMu    sync.Mutex
	ws      *websocket.Conn // nil until the handshake is done
	out     chan []byte
	done    chan struct{}
	once    sync.Once
	apps    []string
	replay  bool
	dropped bool
}

// setWS attaches the upgraded connection; false (and ws closed) if c was
// closed meanwhile.
func (c *wsConn) setWS(ws *websocket.Conn) bool {
	c.wsMu.Lock()
	defer c.wsMu.Unlock()
	select {
	case <-c.done:
		ws.Close()
		return false
	default:
	}
	c.ws = ws
	return true
}

func (c *wsConn) close() {
	c.once.Do(func() {
		c.wsMu.Lock()
		close(c.done)
		if c.ws != nil {
			c.ws.Close()
		}
		c.wsMu.Unlock()
	})
}

// send queues msg without blocking; a full queue closes the connection.
func (c *wsConn) send(msg []byte) {
	select {
	case c.out <- msg:
	default:
		if !c.dropped {
			c.dropped = true
			go c.close()
		}
	}
}

func (c *wsConn) writer() {
	for {
		select {
		case <-c.done:
			return
		case m := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, m); err != nil {
				c.close()
				return
			}
		}
	}
}

type application struct {
	name         string
	conn         *wsConn
	subscribeAll bool
	chans        map[string]struct{}
	bridges      map[string]struct{}
	endpoints    map[string]struct{}
	devices      map[string]struct{}
	explicitCh   map[string]bool // explicit subscriptions (eventSource)
	explicitBr   map[string]bool
}

func newApp(name string) *application {
	return &application{name: name, chans: map[string]struct{}{}, bridges: map[string]struct{}{},
		endpoints: map[string]struct{}{}, devices: map[string]struct{}{},
		explicitCh: map[string]bool{}, explicitBr: map[string]bool{}}
}

func (a *application) active() bool { return a.conn != nil }

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appParam := q.Get("app")
	var names []string
	for _, v := range q["app"] {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if appParam == "" || len(names) == 0 {
		writeErr(w, 400, "Missing parameter app")
		return
	}
	subAll := parseBool(q.Get("subscribeAll"))
	// Register the applications before the upgrade completes, as Asterisk
	// does: once the client sees the handshake succeed, originating into
	// the app must work (events queue until the writer starts).
	c := &wsConn{out: make(chan []byte, s.opts.EventQueue), done: make(chan struct{}), apps: names}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeErr(w, 503, "shutting down")
		return
	}
	s.conns[c] = struct{}{}
	for _, n := range names {
		a := s.apps[n]
		if a == nil {
			a = newApp(n)
			s.apps[n] = a
		} else if a.conn != nil && a.conn != c {
			old := a.conn
			old.send(s.marshalFor(n, s.newEvent("ApplicationReplaced")))
			old.apps = removeString(old.apps, n)
		}
		a.conn = c
		if subAll {
			a.subscribeAll = true
		}
	}
	s.mu.Unlock()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.mu.Lock()
		if _, ok := s.conns[c]; ok {
			delete(s.conns, c)
			s.detachConnLocked(c)
		}
		s.mu.Unlock()
		c.close()
		return
	}
	if !c.setWS(ws) { // closed (dropped, restarted) during the handshake
		return
	}
	go c.writer()
	ws.SetReadLimit(1 << 16)
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	s.mu.Lock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.detachConnLocked(c)
	}
	s.mu.Unlock()
	c.close()
}

// detachConnLocked deactivates (or, for subscribeAll, removes) c's apps.
func (s *Server) detachConnLocked(c *wsConn) {
	for _, n := range c.apps {
		a := s.apps[n]
		if a == nil || a.conn != c {
			continue
		}
		a.conn = nil
		if a.subscribeAll {
			s.removeAppLocked(a)
		}
	}
}

func (s *Server) removeAppLocked(a *application) {
	for id := range a.chans {
		if ch := s.channels[id]; ch != nil {
			delete(ch.subs, a.name)
		}
	}
	for id := range a.bridges {
		if b := s.bridges[id]; b != nil {
			delete(b.subs, a.name)
		}
	}
	delete(s.apps, a.name)
}

func removeString(l []string, v string) []string {
	out := l[:0]
	for _, x := range l {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// subscription bookkeeping (refcounted on the object side)

func (s *Server) subChan(app string, ch *channel, delta int) {
	a := s.apps[app]
	if a == nil || ch == nil {
		return
	}
	n := ch.subs[app] + delta
	if n <= 0 {
		delete(ch.subs, app)
		delete(a.chans, ch.id)
		return
	}
	ch.subs[app] = n
	a.chans[ch.id] = struct{}{}
}

func (s *Server) subBridge(app string, b *bridge, delta int) {
	a := s.apps[app]
	if a == nil || b == nil {
		return
	}
	n := b.subs[app] + delta
	if n <= 0 {
		delete(b.subs, app)
		delete(a.bridges, b.id)
		return
	}
	b.subs[app] = n
	a.bridges[b.id] = struct{}{}
}

// ---------------------------------------------------------------------------
// events

type event map[string]any

func (s *Server) newEvent(typ string) event {
	return event{"type": typ, "timestamp": s.ts(s.clock.Now()), "asterisk_id": s.entityID}
}

const astTime = "2006-01-02T15:04:05.000-0700"

func (s *Server) ts(t time.Time) string { return t.Format(astTime) }

func (s *Server) marshalFor(app string, ev event) []byte {
	body, _ := json.Marshal(ev)
	return spliceApp(app, body)
}

func spliceApp(app string, body []byte) []byte {
	name, _ := json.Marshal(app)
	out := make([]byte, 0, len(body)+len(name)+16)
	out = append(out, `{"application":`...)
	out = append(out, name...)
	if len(body) > 2 {
		out = append(out, ',')
	}
	out = append(out, body[1:]...)
	return out
}

// deliver sends ev to every active app in the recipient set plus subscribeAll apps.
func (s *Server) deliver(ev event, sets ...map[string]int) {
	var body []byte
	seen := 0
	send := func(name string) {
		a := s.apps[name]
		if a == nil || a.conn == nil {
			return
		}
		if body == nil {
			body, _ = json.Marshal(ev)
		}
		a.conn.send(spliceApp(name, body))
	}
	var dedup map[string]struct{}
	if len(sets) > 1 {
		dedup = map[string]struct{}{}
	}
	for _, set := range sets {
		for name := range set {
			if dedup != nil {
				if _, ok := dedup[name]; ok {
					continue
				}
				dedup[name] = struct{}{}
			}
			seen++
			send(name)
		}
	}
	for name, a := range s.apps {
		if !a.subscribeAll {
			continue
		}
		if dedup != nil {
			if _, ok := dedup[name]; ok {
				continue
			}
		} else if len(sets) == 1 {
			if _, ok := sets[0][name]; ok {
				continue
			}
		}
		send(name)
	}
}

func (s *Server) emitChan(ch *channel, typ string, fields event) {
	ev := s.newEvent(typ)
	ev["channel"] = s.chanJSON(ch)
	for k, v := range fields {
		ev[k] = v
	}
	s.deliver(ev, ch.subs)
}

// ---------------------------------------------------------------------------
// HTTP plumbing

type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func errf(code int, format string, a ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, a...)}
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// params merges query parameters and top-level JSON body fields, as
// Asterisk's generated *_parse_body functions do.
type params struct {
	q    map[string][]string
	body map[string]json.RawMessage
}

func (p params) get(k string) string {
	if v, ok := p.q[k]; ok && len(v) > 0 {
		return strings.Join(v, ",")
	}
	if raw, ok := p.body[k]; ok {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			return str
		}
		var arr []any
		if json.Unmarshal(raw, &arr) == nil {
			parts := make([]string, 0, len(arr))
			for _, x := range arr {
				parts = append(parts, fmt.Sprint(x))
			}
			return strings.Join(parts, ",")
		}
		return strings.Trim(string(raw), `"`)
	}
	return ""
}

func (p params) has(k string) bool {
	if _, ok := p.q[k]; ok {
		return true
	}
	_, ok := p.body[k]
	return ok
}

func (p params) list(k string) []string {
	v := p.get(k)
	if v == "" {
		return nil
	}
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (p params) int(k string, def int) (int, *apiError) {
	v := p.get(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errf(400, "Invalid value for %s", k)
	}
	return n, nil
}

func (p params) bool(k string) bool { return parseBool(p.get(k)) }

func parseBool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "1", "on":
		return true
	}
	return false
}

func readParams(r *http.Request) (params, *apiError) {
	p := params{q: r.URL.Query()}
	if r.Body != nil && r.ContentLength != 0 {
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return p, errf(400, "Failed to read body")
		}
		trimmed := strings.TrimSpace(string(data))
		if trimmed != "" {
			if !strings.HasPrefix(trimmed, "{") {
				return p, errf(400, "Request body must be a JSON object")
			}
			if err := json.Unmarshal(data, &p.body); err != nil {
				return p, errf(400, "Error parsing request body")
			}
		}
	}
	return p, nil
}

type handlerFunc func(p params, r *http.Request) (int, any, *apiError)

func (s *Server) auth(r *http.Request) bool {
	if u, pw, ok := r.BasicAuth(); ok {
		return u == s.opts.Username && pw == s.opts.Password
	}
	if k := r.URL.Query().Get("api_key"); k != "" {
		return k == s.opts.Username+":"+s.opts.Password
	}
	return false
}

func (s *Server) wrap(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.auth(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Asterisk REST Interface"`)
			writeErr(w, 401, "Authentication required")
			return
		}
		p, perr := readParams(r)
		if perr != nil {
			writeErr(w, perr.code, perr.msg)
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			writeErr(w, 503, "Service Unavailable")
			return
		}
		if f := s.takeFault(r); f != nil {
			s.mu.Unlock()
			writeErr(w, f.status, f.msg)
			return
		}
		code, v, err := h(p, r)
		s.mu.Unlock()
		if err != nil {
			writeErr(w, err.code, err.msg)
			return
		}
		switch body := v.(type) {
		case nil:
			w.WriteHeader(code)
		case rawBody:
			w.Header().Set("Content-Type", body.ctype)
			w.WriteHeader(code)
			w.Write(body.data)
		default:
			writeJSON(w, code, v)
		}
	}
}

type rawBody struct {
	ctype string
	data  []byte
}

// after runs f after d on the server's clock with the server lock held.
// d <= 0 runs f immediately (the caller already holds the lock).
func (s *Server) after(d time.Duration, f func()) Stopper {
	if d <= 0 {
		f()
		return nil
	}
	return s.clock.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		f()
	})
}

func (s *Server) nextSeq() uint64 {
	s.seq++
	return s.seq
}

func (s *Server) newUniqueID() string {
	return fmt.Sprintf("%d.%d", s.startup.Unix(), s.nextSeq())
}

// fault is one request FailNext makes the double refuse.
type fault struct {
	method, part string
	status       int
	msg          string
}

// FailNext makes the next REST request whose method is method and whose
// path (after /ari) contains part fail with status, as a real Asterisk that
// refuses a request would (tests of ctid's error paths).
func (s *Server) FailNext(method, part string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{method: method, part: part, status: status,
		msg: fmt.Sprintf("injected failure (%d)", status)})
}

// takeFault removes and returns the first fault matching r (s.mu held).
func (s *Server) takeFault(r *http.Request) *fault {
	path := strings.TrimPrefix(r.URL.Path, "/ari")
	for i, f := range s.faults {
		if f.method == r.Method && strings.Contains(path, f.part) {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return &f
		}
	}
	return nil
}
