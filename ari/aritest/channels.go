package aritest

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Behavior scripts what the far end of an endpoint does when the double dials it
// (or, for Inbound calls, what the caller does). Zero value: answer at once.
type Behavior struct {
	// AnswerAfter is the time from the start of ringing to answer.
	AnswerAfter time.Duration
	// Busy, NoAnswer and Congestion make the call fail with dialstatus BUSY
	// (cause 17), NOANSWER (19) or CONGESTION (34) after RingFor. A NoAnswer
	// endpoint with RingFor 0 rings until the originate/dial timeout.
	Busy, NoAnswer, Congestion bool
	RingFor                    time.Duration
	// DTMF digits are keyed by the far end after answer: the first after
	// DTMFAfter, then one every DTMFBetween (default 250 ms).
	DTMF                   string
	DTMFAfter, DTMFBetween time.Duration
	// HangupAfter makes the far end hang up (cause 16) this long after answer.
	HangupAfter time.Duration
	// DialplanKnobs makes the channel variables DTMF_DIGITS and DTMF_DELAY
	// (seconds), set on the originate, override DTMF and DTMFAfter, as
	// asterisk-conf's test-dtmf context does.
	DialplanKnobs bool
}

// DialplanContext scripts what happens to a channel that enters a dialplan
// context: after `continue`, or when originated with context/extension.
// Without a script the channel sits in the dialplan until hung up.
type DialplanContext struct {
	// Stasis, if set, re-enters Stasis(Stasis, StasisArgs...) after Delay.
	Stasis     string
	StasisArgs []string
	Delay      time.Duration
	// HangupAfter (when Stasis is empty) hangs the channel up after this long.
	HangupAfter time.Duration
	// Answer answers the channel on entry (if not already up).
	Answer bool
}

// Script registers the behaviour of endpoints matching pattern, e.g.
// "PJSIP/1001", "Local/s@test-dtmf" or "PJSIP/+4420*@trunk" (path.Match glob).
// PJSIP endpoints scripted without glob characters are listed as online
// endpoints. Exact patterns win over globs; globs are tried in order.
func (s *Server) Script(endpointPattern string, b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.ContainsAny(endpointPattern, "*?[") {
		for i, e := range s.scriptGlob {
			if e.pattern == endpointPattern {
				s.scriptGlob[i].b = b
				return
			}
		}
		s.scriptGlob = append(s.scriptGlob, scriptEntry{endpointPattern, b})
	} else {
		s.scriptExact[endpointPattern] = b
	}
	tech, res := splitEndpoint(endpointPattern)
	if strings.EqualFold(tech, "PJSIP") {
		if i := strings.IndexByte(res, '@'); i >= 0 {
			res = res[i+1:]
		}
		if res != "" && !strings.ContainsAny(res, "*?[") {
			key := "PJSIP/" + res
			if s.endpoints[key] == nil {
				s.endpoints[key] = &endpointState{tech: "PJSIP", resource: res, state: "online"}
			}
		}
	}
}

// ScriptContext registers what happens when a channel enters a dialplan context.
func (s *Server) ScriptContext(context string, d DialplanContext) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contexts[context] = d
}

func (s *Server) lookupScript(endpoint string) (Behavior, bool) {
	if b, ok := s.scriptExact[endpoint]; ok {
		return b, true
	}
	for _, e := range s.scriptGlob {
		if ok, _ := path.Match(e.pattern, endpoint); ok {
			return e.b, true
		}
	}
	return Behavior{}, false
}

func splitEndpoint(ep string) (tech, res string) {
	i := strings.IndexByte(ep, '/')
	if i < 0 {
		return ep, ""
	}
	return ep[:i], ep[i+1:]
}

type channel struct {
	// dtmfUntil is when the digits already requested on this channel have
	// been sent: Asterisk streams one dtmf request after the other on the
	// channel's control queue, so a second request's digits follow the
	// first's, however close together they were asked for.
	dtmfUntil  time.Time
	hanging    bool // hangup in progress
	hupSent    bool // ChannelHangupRequest emitted
	id, name   string
	tech, res  string
	state      string
	callerName string
	callerNum  string
	connName   string
	connNum    string
	context    string
	exten      string
	priority   int
	appName    string
	appData    string
	created    time.Time
	vars       map[string]string
	report     []string
	subs       map[string]int

	app      string
	args     []string
	inStasis bool

	bridge     *bridge
	role       string
	absorb     bool
	bridgeMute bool

	muteIn, muteOut bool
	hold            bool
	moh             string
	silence         bool

	behavior   *Behavior
	localPeer  *channel
	local2     bool
	snoopOf    *channel
	snoops     []*channel
	snoopSpy   string
	dial       *dialState
	timers     []Stopper
	dead       bool
	delivered  []byte
	keyed      []byte
	cause      int
	originApp  string
	originArgs []string
	originCtx  *ctxTarget
	playQueue  []*playback
	recs       []*liveRecording
	originator string
}

type ctxTarget struct {
	context, exten string
	priority       int
}

type dialState struct {
	caller     *channel
	dialstring string
	timeout    Stopper
	onAnswer   func()
}

func (c *channel) addTimer(t Stopper) {
	if t != nil {
		c.timers = append(c.timers, t)
	}
}

func (c *channel) stopTimers() {
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
}

func (c *channel) setVar(k, v string) {
	if c.vars == nil {
		c.vars = map[string]string{}
	}
	c.vars[k] = v
}

type nameNum struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

type dialplanJSON struct {
	Context  string `json:"context"`
	Exten    string `json:"exten"`
	Priority int    `json:"priority"`
	AppName  string `json:"app_name"`
	AppData  string `json:"app_data"`
}

type channelJSON struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	ProtocolID   string            `json:"protocol_id"`
	Caller       nameNum           `json:"caller"`
	Connected    nameNum           `json:"connected"`
	Accountcode  string            `json:"accountcode"`
	Dialplan     dialplanJSON      `json:"dialplan"`
	Creationtime string            `json:"creationtime"`
	Language     string            `json:"language"`
	Channelvars  map[string]string `json:"channelvars,omitempty"`
}

func (s *Server) chanJSON(c *channel) channelJSON {
	j := channelJSON{
		ID: c.id, Name: c.name, State: c.state,
		Caller:       nameNum{c.callerName, c.callerNum},
		Connected:    nameNum{c.connName, c.connNum},
		Dialplan:     dialplanJSON{c.context, c.exten, c.priority, c.appName, c.appData},
		Creationtime: s.ts(c.created),
		Language:     "en",
	}
	if len(c.report) > 0 {
		j.Channelvars = make(map[string]string, len(c.report))
		for _, k := range c.report {
			j.Channelvars[k] = c.vars[k]
		}
	}
	return j
}

var causeText = map[int]string{
	0: "Unknown", 1: "Unallocated (unassigned) number", 16: "Normal Clearing", 17: "User busy",
	18: "No user responding", 19: "User alerting, no answer", 21: "Call Rejected",
	26: "Answered elsewhere", 28: "Invalid number format (incomplete number)",
	31: "Normal, unspecified", 34: "Circuit/channel congestion", 38: "Network out of order",
	58: "Bearer capability not available", 127: "Interworking, unspecified",
}

var reasonCause = map[string]int{
	"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "timeout": 18,
	"rejected": 21, "unallocated": 1, "normal_unspecified": 31, "number_incomplete": 28,
	"codec_mismatch": 58, "interworking": 127, "failure": 38, "answered_elsewhere": 26,
}

func (s *Server) newChannel(tech, res, id string) *channel {
	if id == "" {
		id = s.newUniqueID()
	}
	c := &channel{id: id, tech: tech, res: res, state: "Down", context: "default", exten: "s", priority: 1,
		created: s.clock.Now(), subs: map[string]int{}}
	n := s.nextSeq()
	switch {
	case strings.EqualFold(tech, "PJSIP"):
		ep := res
		if i := strings.IndexByte(ep, '@'); i >= 0 {
			ep = ep[i+1:]
		}
		c.name = fmt.Sprintf("PJSIP/%s-%08x", ep, n)
	default:
		c.name = fmt.Sprintf("%s/%s-%08x", tech, res, n)
	}
	s.channels[id] = c
	s.deliver(s.chanEvent("ChannelCreated", c))
	return c
}

func (s *Server) chanEvent(typ string, c *channel) event {
	ev := s.newEvent(typ)
	ev["channel"] = s.chanJSON(c)
	return ev
}

func (s *Server) setState(c *channel, state string) {
	if c.dead || c.state == state {
		return
	}
	c.state = state
	s.emitChan(c, "ChannelStateChange", nil)
}

func (s *Server) setVarEvent(c *channel, k, v string) {
	c.setVar(k, v)
	s.emitChan(c, "ChannelVarset", event{"variable": k, "value": v})
}

// enterStasis runs Stasis(app,args) on c; false if the app is not active.
func (s *Server) enterStasis(c *channel, app string, args []string) bool {
	a := s.apps[app]
	if a == nil || !a.active() {
		c.setVar("STASISSTATUS", "FAILED")
		return false
	}
	c.app, c.args, c.inStasis = app, args, true
	c.appName = "Stasis"
	c.appData = strings.Join(append([]string{app}, args...), ",")
	// res_stasis clears STASISSTATUS on entry; only apps already
	// subscribed (e.g. the originating app) see that ChannelVarset.
	s.setVarEvent(c, "STASISSTATUS", "")
	s.subChan(app, c, 1)
	if args == nil {
		args = []string{}
	}
	s.emitChan(c, "StasisStart", event{"args": args})
	return true
}

// leaveStasis takes c out of its bridge and emits StasisEnd.
func (s *Server) leaveStasis(c *channel) {
	if c.bridge != nil {
		s.leaveBridge(c)
	}
	if !c.inStasis {
		return
	}
	for _, p := range c.playQueue {
		s.finishPlayback(p, false)
	}
	s.emitChan(c, "StasisEnd", nil)
	app := c.app
	c.inStasis = false
	c.appName, c.appData = "", ""
	s.subChan(app, c, -1)
	c.app, c.args = "", nil
}

// hangup tears c down with cause; soft marks a REST-requested hang-up.
//
// Local pairs follow Asterisk 22's order. Hanging up ;1: its
// HangupRequest … STASISSTATUS, then ;2's HangupRequest and ChannelDestroyed,
// then ;1's ChannelDestroyed. The ;2 (far end) hanging up: HangupRequest on
// ;2 then on ;1, ChannelDestroyed ;2, then the rest of ;1's sequence.
func (s *Server) hangup(c *channel, cause int, soft bool) {
	if c.dead || c.hanging {
		return
	}
	c.hanging = true
	if c.snoopOf != nil {
		s.finishChannelRecordings(c)
	}
	if c.dial != nil {
		if soft {
			s.emitDial(c, "CANCEL")
		}
		if c.dial.timeout != nil {
			c.dial.timeout.Stop()
		}
		c.dial = nil
	}
	c.cause = cause
	hr := event{"cause": cause}
	if soft {
		hr["soft"] = true
	}
	if !c.hupSent {
		c.hupSent = true
		s.emitChan(c, "ChannelHangupRequest", hr)
	}
	if p := c.localPeer; p != nil && c.local2 && !p.dead && !p.hanging && !p.hupSent {
		p.hupSent = true
		s.emitChan(p, "ChannelHangupRequest", event{"cause": cause})
	}
	for len(c.playQueue) > 0 {
		s.finishPlayback(c.playQueue[0], false)
	}
	s.finishChannelRecordings(c)
	if c.bridge != nil {
		s.leaveBridge(c)
	}
	wasStasis := c.inStasis
	if c.inStasis {
		s.emitChan(c, "StasisEnd", nil)
		c.inStasis = false
		// The Stasis subscription ends with StasisEnd: an app that only
		// had the channel through Stasis() (dialplan entry, not its own
		// originate or an explicit subscription) sees no STASISSTATUS
		// varset and no ChannelDestroyed (Asterisk 22.10.1, contract
		// test DialplanStasis).
		s.subChan(c.app, c, -1)
	}
	if wasStasis {
		s.setVarEvent(c, "STASISSTATUS", "SUCCESS")
	}
	if p := c.localPeer; p != nil && !c.local2 && !p.dead {
		s.hangup(p, cause, false)
	}
	c.dead = true
	c.stopTimers()
	txt := causeText[cause]
	if txt == "" {
		txt = "Unknown"
	}
	s.emitChan(c, "ChannelDestroyed", event{"cause": cause, "cause_txt": txt})
	for app := range c.subs {
		if a := s.apps[app]; a != nil {
			delete(a.chans, c.id)
		}
	}
	delete(s.channels, c.id)
	st := s.stateOf(c)
	if _, dup := s.history[c.id]; !dup {
		s.historyIDs = append(s.historyIDs, c.id)
	}
	s.history[c.id] = &st
	if len(s.historyIDs) > maxHistory {
		old := s.historyIDs[0]
		s.historyIDs = s.historyIDs[1:]
		delete(s.history, old)
	}
	if p := c.localPeer; p != nil && !p.dead {
		s.hangup(p, cause, false)
	}
	for _, sn := range c.snoops {
		s.hangup(sn, 16, false)
	}
	if c.snoopOf != nil {
		c.snoopOf.snoops = removeChan(c.snoopOf.snoops, c)
	}
	if ep := s.endpointFor(c); ep != nil {
		delete(ep.channels, c.id)
	}
}

func removeChan(l []*channel, c *channel) []*channel {
	out := l[:0]
	for _, x := range l {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) emitDial(c *channel, status string) {
	if c.dial == nil {
		return
	}
	f := event{"peer": s.chanJSON(c), "dialstatus": status, "forward": "", "dialstring": c.dial.dialstring}
	ev := s.newEvent("Dial")
	for k, v := range f {
		ev[k] = v
	}
	if c.dial.caller != nil && !c.dial.caller.dead {
		ev["caller"] = s.chanJSON(c.dial.caller)
		s.deliver(ev, c.subs, c.dial.caller.subs)
		return
	}
	s.deliver(ev, c.subs)
}

// startDial simulates dialling c according to its behaviour.
func (s *Server) startDial(c *channel, caller *channel, timeout time.Duration, onAnswer func()) {
	d := &dialState{caller: caller, dialstring: c.res, onAnswer: onAnswer}
	c.dial = d
	s.emitDial(c, "")
	b := Behavior{}
	if c.behavior != nil {
		b = *c.behavior
	}
	fail := func(status string, cause int) {
		if c.dead || c.dial != d {
			return
		}
		s.emitDial(c, status)
		if d.timeout != nil {
			d.timeout.Stop()
		}
		c.dial = nil
		if p := c.localPeer; p != nil && !c.local2 && !p.dead && status == "BUSY" {
			// Asterisk 22: a Local pair whose dialplan is busy ends with
			// ChannelHangupRequest on ;2, ;1 destroyed with cause 0
			// ("Unknown"), then ;2 destroyed with the cause (17).
			c.hupSent, p.hupSent = true, true
			s.emitChan(p, "ChannelHangupRequest", event{"cause": cause})
			c.localPeer = nil
			s.hangup(c, 0, false)
			c.localPeer = p
			s.hangup(p, cause, false)
			return
		}
		s.hangup(c, cause, false)
	}
	if timeout > 0 {
		d.timeout = s.clock.AfterFunc(timeout, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if c.dead || c.dial != d {
				return
			}
			// Asterisk 22.10.1 sends no Dial event when the originate or
			// dial timeout expires: the channel just ends with cause 19.
			c.dial = nil
			s.hangup(c, 19, false)
		})
		c.addTimer(d.timeout)
	}
	ring := func() {
		s.setState(c, "Ringing")
		if c.localPeer != nil {
			s.setState(c.localPeer, "Ring")
		}
		s.emitDial(c, "RINGING")
	}
	switch {
	case b.Busy || b.Congestion:
		status, cause := "BUSY", 17
		if b.Congestion {
			status, cause = "CONGESTION", 34
		}
		if b.RingFor > 0 {
			ring()
			c.addTimer(s.after(b.RingFor, func() { fail(status, cause) }))
		} else {
			fail(status, cause)
		}
	case b.NoAnswer:
		ring()
		if b.RingFor > 0 {
			c.addTimer(s.after(b.RingFor, func() { fail("NOANSWER", 19) }))
		}
	default:
		// A Local channel whose dialplan answers at once never rings
		// (no RINGING Dial, no Ringing state; Asterisk 22 test-answer).
		if c.localPeer == nil || b.AnswerAfter > 0 {
			ring()
		}
		c.addTimer(s.after(b.AnswerAfter, func() {
			if c.dead || c.dial != d {
				return
			}
			s.answer(c)
		}))
	}
}

// answer puts c (and its Local peer) Up, completing any pending dial.
func (s *Server) answer(c *channel) {
	if c.dead {
		return
	}
	if c.localPeer != nil {
		s.setState(c.localPeer, "Up")
	}
	s.setState(c, "Up")
	if d := c.dial; d != nil {
		s.emitDial(c, "ANSWER")
		if d.timeout != nil {
			d.timeout.Stop()
		}
		c.dial = nil
		if d.onAnswer != nil {
			d.onAnswer()
		}
	}
	if c.dead {
		return
	}
	s.runFarEnd(c)
}

// runFarEnd starts the scripted far-end actions after answer.
func (s *Server) runFarEnd(c *channel) {
	b := c.behavior
	if b == nil {
		return
	}
	c.behavior = nil // run once
	if b.DialplanKnobs {
		bb := *b
		if v := c.vars["DTMF_DIGITS"]; v != "" {
			bb.DTMF = v
		}
		if v, err := strconv.ParseFloat(c.vars["DTMF_DELAY"], 64); err == nil && v >= 0 {
			bb.DTMFAfter = time.Duration(v * float64(time.Second))
		}
		b = &bb
	}
	if b.DTMF != "" {
		between := b.DTMFBetween
		if between <= 0 {
			between = 250 * time.Millisecond
		}
		digits := b.DTMF
		var keyNext func(i int)
		keyNext = func(i int) {
			if c.dead || i >= len(digits) {
				return
			}
			s.keyDigit(c, string(digits[i]))
			if i+1 < len(digits) {
				c.addTimer(s.after(between, func() { keyNext(i + 1) }))
			}
		}
		c.addTimer(s.after(b.DTMFAfter, func() { keyNext(0) }))
	}
	if b.HangupAfter > 0 {
		c.addTimer(s.after(b.HangupAfter, func() { s.farHangup(c, 16) }))
	}
}

// farHangup hangs up c as if its far end did; for a Local ;1 the ;2 (dialplan
// side) ends first, as a real Local pair would.
func (s *Server) farHangup(c *channel, cause int) {
	if c.dead {
		return
	}
	if p := c.localPeer; p != nil && !c.local2 && !p.dead {
		s.hangup(p, cause, false)
		return
	}
	s.hangup(c, cause, false)
}

// keyDigit: the far end of c pressed digit; ChannelDtmfReceived fires on c and
// the digit passes into c's bridge unless absorbed.
func (s *Server) keyDigit(c *channel, digit string) {
	if c.dead {
		return
	}
	c.keyed = append(c.keyed, digit...)
	s.emitChan(c, "ChannelDtmfReceived", event{"digit": digit, "duration_ms": 100})
	s.recordingsSawDigit(c, digit)
	b := c.bridge
	if b == nil || c.absorb {
		return
	}
	if b.holding() && c.role != "announcer" {
		return
	}
	for _, p := range b.chans {
		if p != c {
			s.deliverDigit(p, digit)
		}
	}
}

// deliverDigit: digit is written to c (sent to its far end).
func (s *Server) deliverDigit(c *channel, digit string) {
	if c.dead {
		return
	}
	c.delivered = append(c.delivered, digit...)
	if p := c.localPeer; p != nil && !c.local2 && !p.dead {
		// the dialplan half of a Local pair reads what is written to ;1
		p.delivered = append(p.delivered, digit...)
		s.emitChan(p, "ChannelDtmfReceived", event{"digit": digit, "duration_ms": 100})
	}
}

// enterContext puts c in the dialplan at ctx and applies any context script.
func (s *Server) enterContext(c *channel, ctx, exten string, prio int) {
	c.context, c.exten, c.priority = ctx, exten, prio
	c.appName, c.appData = "", ""
	d, ok := s.contexts[ctx]
	if !ok {
		return
	}
	if d.Answer && c.state != "Up" {
		s.answer(c)
	}
	switch {
	case d.Stasis != "":
		c.addTimer(s.after(d.Delay, func() {
			if c.dead || c.inStasis {
				return
			}
			if !s.enterStasis(c, d.Stasis, d.StasisArgs) {
				s.hangup(c, 16, false)
			}
		}))
	case d.HangupAfter > 0:
		c.addTimer(s.after(d.HangupAfter, func() { s.hangup(c, 16, false) }))
	}
}

// ---------------------------------------------------------------------------
// REST: channels

func (s *Server) control(id string) (*channel, *apiError) {
	c := s.channels[id]
	if c == nil {
		return nil, errf(404, "Channel not found")
	}
	if !c.inStasis {
		return nil, errf(409, "Channel not in Stasis application")
	}
	return c, nil
}

func stateInvalid(c *channel) *apiError {
	switch c.state {
	case "Down", "Rsrvd", "Ringing":
		return errf(412, "Channel in invalid state")
	}
	return nil
}

func (s *Server) controlUp(id string) (*channel, *apiError) {
	c, err := s.control(id)
	if err != nil {
		return nil, err
	}
	if err := stateInvalid(c); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Server) listChannels(p params, r *http.Request) (int, any, *apiError) {
	out := make([]channelJSON, 0, len(s.channels))
	for _, c := range s.channels {
		out = append(out, s.chanJSON(c))
	}
	return 200, out, nil
}

func (s *Server) getChannel(p params, r *http.Request) (int, any, *apiError) {
	c := s.channels[r.PathValue("id")]
	if c == nil {
		return 0, nil, errf(404, "Channel not found")
	}
	return 200, s.chanJSON(c), nil
}

func parseVariables(p params) (vars map[string]string, report []string, err *apiError) {
	raw, ok := p.body["variables"]
	if !ok {
		return nil, nil, nil
	}
	var m map[string]any
	if e := jsonUnmarshal(raw, &m); e != nil {
		return nil, nil, errf(400, "The 'variables' field must be a JSON object")
	}
	vars = map[string]string{}
	for k, v := range m {
		if k == "" {
			continue
		}
		switch x := v.(type) {
		case string:
			vars[k] = x
		case map[string]any:
			val, ok := x["value"].(string)
			if !ok {
				return nil, nil, errf(400, "Each object value in 'variables' must include string field 'value'")
			}
			vars[k] = val
			if re, ok := x["report_events"]; ok {
				b, isb := re.(bool)
				if !isb {
					return nil, nil, errf(400, "Field 'report_events' in 'variables' entries must be boolean")
				}
				if b {
					report = append(report, k)
				}
			}
		default:
			return nil, nil, errf(400, "Each value in 'variables' must be a string or an object with 'value' and optional 'report_events'")
		}
	}
	return vars, report, nil
}

func parseCallerID(cid string) (name, num string) {
	cid = strings.TrimSpace(cid)
	if i := strings.IndexByte(cid, '<'); i >= 0 {
		if j := strings.IndexByte(cid[i:], '>'); j > 0 {
			num = cid[i+1 : i+j]
			name = strings.Trim(strings.TrimSpace(cid[:i]), `"`)
			return
		}
	}
	if cid != "" && strings.Trim(cid, "+0123456789*#-() ") == "" {
		return "", cid
	}
	return cid, ""
}

func (s *Server) originate(p params, r *http.Request) (int, any, *apiError) {
	id := r.PathValue("id")
	if id == "" {
		id = p.get("channelId")
	}
	otherID := p.get("otherChannelId")
	endpoint := p.get("endpoint")
	if endpoint == "" {
		return 0, nil, errf(400, "Endpoint must be specified")
	}
	if p.get("originator") != "" && p.get("formats") != "" {
		return 0, nil, errf(400, "Originator and formats can't both be specified")
	}
	tech, res := splitEndpoint(endpoint)
	if tech == "" || res == "" {
		return 0, nil, errf(400, "Invalid endpoint specified")
	}
	app, ext := p.get("app"), p.get("extension")
	var target *ctxTarget
	if app == "" {
		if ext == "" {
			return 0, nil, errf(400, "Application or extension must be specified")
		}
		ctx := p.get("context")
		if ctx == "" {
			ctx = "default"
		}
		prio, err := p.int("priority", 1)
		if err != nil {
			return 0, nil, err
		}
		if prio == 0 {
			prio = 1
		}
		target = &ctxTarget{ctx, ext, prio}
	}
	timeout, err := p.int("timeout", 30)
	if err != nil {
		return 0, nil, err
	}
	vars, report, verr := parseVariables(p)
	if verr != nil {
		return 0, nil, verr
	}
	var originator *channel
	if o := p.get("originator"); o != "" {
		if originator = s.channels[o]; originator == nil {
			return 0, nil, errf(400, "Provided originator channel was not found")
		}
	}
	c, aerr := s.allocate(tech, res, id, otherID)
	if aerr != nil {
		return 0, nil, aerr
	}
	if cid := p.get("callerId"); cid != "" {
		c.callerName, c.callerNum = parseCallerID(cid)
		c.connName, c.connNum = c.callerName, c.callerNum
	}
	for k, v := range vars {
		c.setVar(k, v)
	}
	c.report = report
	if app != "" {
		c.originApp = app
		c.originArgs = p.list("appArgs")
		if a := p.get("appArgs"); a != "" {
			c.originArgs = strings.Split(a, ",")
		}
		s.subChan(app, c, 1)
		if c.localPeer != nil {
			s.subChan(app, c.localPeer, 1)
		}
	} else {
		c.originCtx = target
	}
	if originator != nil {
		c.originator = originator.id
	}
	resp := s.chanJSON(c)
	var to time.Duration
	switch {
	case timeout > 0:
		to = time.Duration(timeout) * time.Second
	case timeout == -1:
		to = 0
	default:
		to = 30 * time.Second
	}
	s.startDial(c, nil, to, func() {
		if c.originApp != "" {
			app, args := c.originApp, c.originArgs
			if !s.enterStasis(c, app, args) {
				s.hangup(c, 16, false)
			}
			return
		}
		t := c.originCtx
		s.enterContext(c, t.context, t.exten, t.priority)
	})
	return 200, resp, nil
}

// allocate requests a channel on tech/res as ast_request would.
func (s *Server) allocate(tech, res, id, otherID string) (*channel, *apiError) {
	if id != "" && len(id) > 127 || otherID != "" && len(otherID) > 127 {
		return nil, errf(400, "Uniqueid length exceeds maximum of %d", 127)
	}
	if id != "" && s.channels[id] != nil || otherID != "" && s.channels[otherID] != nil {
		return nil, errf(409, "Channel with given unique ID already exists")
	}
	endpoint := tech + "/" + res
	b, scripted := s.lookupScript(endpoint)
	switch {
	case strings.EqualFold(tech, "Local"):
		dest := res
		if i := strings.IndexByte(dest, '/'); i >= 0 {
			dest = dest[:i] // strip /n etc.
		}
		if !strings.Contains(dest, "@") {
			dest += "@default"
		}
		if !scripted {
			b, scripted = s.lookupScript("Local/" + dest)
		}
		c1 := s.newChannel("Local", dest, id)
		c1.name = strings.TrimSuffix(c1.name, "") + ";1"
		c2 := s.newChannel("Local", dest, otherID)
		c2.name = c1.name[:len(c1.name)-2] + ";2"
		c2.local2 = true
		c1.localPeer, c2.localPeer = c2, c1
		at := strings.IndexByte(dest, '@')
		c2.exten, c2.context = dest[:at], dest[at+1:]
		if scripted {
			bb := b
			c1.behavior = &bb
		}
		return c1, nil
	case strings.EqualFold(tech, "PJSIP"):
		if !scripted {
			return nil, errf(500, "Allocation failed")
		}
		ep := s.endpointFor(&channel{tech: tech, res: res})
		if ep != nil && ep.state == "offline" {
			return nil, errf(500, "Allocation failed")
		}
		c := s.newChannel(tech, res, id)
		bb := b
		c.behavior = &bb
		if ep != nil {
			ep.channels[c.id] = struct{}{}
		}
		return c, nil
	default:
		if !scripted {
			return nil, errf(500, "Allocation failed")
		}
		c := s.newChannel(tech, res, id)
		bb := b
		c.behavior = &bb
		return c, nil
	}
}

func (s *Server) createChannel(p params, r *http.Request) (int, any, *apiError) {
	endpoint := p.get("endpoint")
	if endpoint == "" {
		return 0, nil, errf(400, "Endpoint must be specified")
	}
	app := p.get("app")
	if app == "" {
		return 0, nil, errf(400, "Application name is required")
	}
	tech, res := splitEndpoint(endpoint)
	if tech == "" || res == "" {
		return 0, nil, errf(400, "Invalid endpoint specified")
	}
	vars, report, verr := parseVariables(p)
	if verr != nil {
		return 0, nil, verr
	}
	var originator *channel
	if o := p.get("originator"); o != "" {
		originator = s.channels[o]
	}
	a := s.apps[app]
	if a == nil || !a.active() {
		return 0, nil, errf(500, "Allocation failed")
	}
	c, err := s.allocate(tech, res, p.get("channelId"), p.get("otherChannelId"))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range vars {
		c.setVar(k, v)
	}
	c.report = report
	var args []string
	if v := p.get("appArgs"); v != "" {
		args = strings.Split(v, ",")
	}
	// Like originate, create subscribes the app to the channel (and a
	// Local ;2) beyond Stasis: it hears ChannelDestroyed (Asterisk 22).
	s.subChan(app, c, 1)
	if c.localPeer != nil {
		s.subChan(app, c.localPeer, 1)
	}
	if originator != nil {
		s.subChan(app, originator, 1)
	}
	s.enterStasis(c, app, args)
	return 200, s.chanJSON(c), nil
}

func (s *Server) dialChannel(p params, r *http.Request) (int, any, *apiError) {
	c, err := s.control(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	var caller *channel
	if id := p.get("caller"); id != "" {
		if caller = s.channels[id]; caller == nil {
			return 0, nil, errf(404, "Caller not found")
		}
	}
	if c.state != "Down" || c.dial != nil {
		return 0, nil, errf(409, "Channel is not in the 'Down' state")
	}
	timeout, terr := p.int("timeout", 0)
	if terr != nil {
		return 0, nil, terr
	}
	if caller != nil {
		c.connName, c.connNum = caller.callerName, caller.callerNum
	}
	var to time.Duration
	if timeout > 0 {
		to = time.Duration(timeout) * time.Second
	}
	s.startDial(c, caller, to, nil)
	return 204, nil, nil
}

func (s *Server) hangupChannel(p params, r *http.Request) (int, any, *apiError) {
	c := s.channels[r.PathValue("id")]
	if c == nil {
		return 0, nil, errf(404, "Channel not found")
	}
	reason, code := p.get("reason"), p.get("reason_code")
	if reason != "" && code != "" {
		return 0, nil, errf(400, "The reason and reason_code can't both be specified")
	}
	cause := 16
	if code != "" {
		n, e := strconv.Atoi(code)
		if e != nil {
			return 0, nil, errf(400, "Invalid reason for hangup reason code provided")
		}
		cause = n
	} else if reason != "" {
		n, ok := reasonCause[reason]
		if !ok {
			return 0, nil, errf(400, "Invalid reason for hangup reason provided")
		}
		cause = n
	}
	if c.local2 && c.localPeer != nil {
		// hanging up the dialplan half: it goes first, then ;1 follows.
		s.hangup(c, cause, true)
		return 204, nil, nil
	}
	s.hangup(c, cause, true)
	return 204, nil, nil
}

func (s *Server) answerChannel(p params, r *http.Request) (int, any, *apiError) {
	c, err := s.controlUp(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	if c.state != "Up" {
		s.answer(c)
	}
	return 204, nil, nil
}

func (s *Server) simpleControl(f func(c *channel, p params) *apiError, needUp bool) handlerFunc {
	return func(p params, r *http.Request) (int, any, *apiError) {
		var c *channel
		var err *apiError
		if needUp {
			c, err = s.controlUp(r.PathValue("id"))
		} else {
			c, err = s.control(r.PathValue("id"))
		}
		if err != nil {
			return 0, nil, err
		}
		if e := f(c, p); e != nil {
			return 0, nil, e
		}
		return 204, nil, nil
	}
}

func parseDirection(p params, required bool) (string, *apiError) {
	d := p.get("direction")
	if d == "" {
		if required {
			return "", errf(400, "Direction is required")
		}
		d = "both"
	}
	switch d {
	case "in", "out", "both":
		return d, nil
	}
	return "", errf(400, "Invalid direction specified")
}

func (s *Server) channelVarGet(p params, r *http.Request) (int, any, *apiError) {
	c := s.channels[r.PathValue("id")]
	if c == nil {
		return 0, nil, errf(404, "Channel not found")
	}
	name := p.get("variable")
	if name == "" {
		return 0, nil, errf(400, "Variable name is required")
	}
	switch name {
	case "CALLERID(num)":
		return 200, map[string]string{"value": c.callerNum}, nil
	case "CALLERID(name)":
		return 200, map[string]string{"value": c.callerName}, nil
	case "CHANNEL(name)":
		return 200, map[string]string{"value": c.name}, nil
	case "UNIQUEID":
		return 200, map[string]string{"value": c.id}, nil
	}
	v, ok := c.vars[name]
	if !ok {
		return 0, nil, errf(404, "Provided variable was not found")
	}
	return 200, map[string]string{"value": v}, nil
}

func (s *Server) channelVarSet(p params, r *http.Request) (int, any, *apiError) {
	c := s.channels[r.PathValue("id")]
	if c == nil {
		return 0, nil, errf(404, "Channel not found")
	}
	name := p.get("variable")
	if name == "" {
		return 0, nil, errf(400, "Variable name is required")
	}
	val := p.get("value")
	switch name {
	case "CALLERID(num)":
		c.callerNum = val
	case "CALLERID(name)":
		c.callerName = val
	}
	s.setVarEvent(c, name, val)
	return 204, nil, nil
}

func (s *Server) continueChannel(p params, r *http.Request) (int, any, *apiError) {
	c, err := s.controlUp(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	ctx, ext := p.get("context"), p.get("extension")
	prio, perr := p.int("priority", 0)
	if perr != nil {
		return 0, nil, perr
	}
	if ctx == "" {
		ctx = c.context
	}
	if ext == "" {
		ext = c.exten
	}
	if prio <= 0 {
		if p.get("context") == "" && p.get("extension") == "" {
			prio = c.priority + 1
		} else {
			prio = 1
		}
	}
	s.leaveStasis(c)
	s.enterContext(c, ctx, ext, prio)
	return 204, nil, nil
}

func (s *Server) moveChannel(p params, r *http.Request) (int, any, *apiError) {
	c, err := s.control(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	app := p.get("app")
	if app == "" {
		return 0, nil, errf(400, "Application name is required")
	}
	var args []string
	if v := p.get("appArgs"); v != "" {
		args = strings.Split(v, ",")
	}
	s.leaveStasis(c)
	if !s.enterStasis(c, app, args) {
		s.enterContext(c, c.context, c.exten, c.priority+1)
	}
	return 204, nil, nil
}

func (s *Server) snoopChannel(p params, r *http.Request) (int, any, *apiError) {
	c, err := s.control(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	spy, whisper := p.get("spy"), p.get("whisper")
	if spy == "" {
		spy = "none"
	}
	if whisper == "" {
		whisper = "none"
	}
	for _, d := range []string{spy, whisper} {
		switch d {
		case "none", "in", "out", "both":
		default:
			return 0, nil, errf(400, "Invalid direction specified")
		}
	}
	if spy == "none" && whisper == "none" {
		return 0, nil, errf(400, "Sanity check failed")
	}
	app := p.get("app")
	if app == "" {
		return 0, nil, errf(400, "app cannot be empty")
	}
	id := r.PathValue("snoopId")
	if id == "" {
		id = p.get("snoopId")
	}
	if id != "" && s.channels[id] != nil {
		return 0, nil, errf(409, "Channel with given unique ID already exists")
	}
	if id == "" {
		id = s.newUniqueID()
	}
	sn := &channel{id: id, tech: "Snoop", res: c.id, state: "Up", context: "default", exten: "s", priority: 1,
		created: s.clock.Now(), subs: map[string]int{}, snoopOf: c, snoopSpy: spy}
	sn.name = fmt.Sprintf("Snoop/%s-%08x", c.id, s.nextSeq())
	s.channels[id] = sn
	c.snoops = append(c.snoops, sn)
	s.deliver(s.chanEvent("ChannelCreated", sn))
	var args []string
	if v := p.get("appArgs"); v != "" {
		args = strings.Split(v, ",")
	}
	resp := s.chanJSON(sn)
	if !s.enterStasis(sn, app, args) {
		s.hangup(sn, 16, false)
	}
	return 200, resp, nil
}

func (s *Server) sendDTMF(p params, r *http.Request) (int, any, *apiError) {
	c, err := s.controlUp(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	digits := p.get("dtmf")
	if digits == "" {
		return 0, nil, errf(400, "DTMF is required")
	}
	before, _ := p.int("before", 0)
	between, _ := p.int("between", 100)
	duration, _ := p.int("duration", 100)
	if between <= 0 {
		between = 100
	}
	if duration <= 0 {
		duration = 100
	}
	now := s.clock.Now()
	at := time.Duration(before) * time.Millisecond
	if c.dtmfUntil.After(now) {
		at += c.dtmfUntil.Sub(now)
	}
	for _, d := range digits {
		digit := string(d)
		if d == ',' { // pause of 500ms, as ast_dtmf_stream
			at += 500 * time.Millisecond
			continue
		}
		at += time.Duration(duration) * time.Millisecond
		when := at
		c.addTimer(s.after(when, func() { s.deliverDigit(c, digit) }))
		at += time.Duration(between) * time.Millisecond
	}
	c.dtmfUntil = now.Add(at)
	return 204, nil, nil
}
