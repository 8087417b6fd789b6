package aritest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ChannelState is a snapshot of a channel for test assertions.
type ChannelState struct {
	ID, Name       string
	State          string // Down, Ring, Ringing, Up
	CallerNumber   string
	CallerName     string
	App            string // Stasis app while in Stasis
	Args           []string
	InStasis       bool
	Bridge         string // bridge id, "" if none
	Role           string
	AbsorbDTMF     bool
	BridgeMute     bool
	MuteIn         bool
	MuteOut        bool
	Hold           bool
	MOH            string
	Silence        bool
	Context, Exten string
	Priority       int
	Vars           map[string]string
	LocalPeer      string // the other half of a Local pair
	SnoopOf        string
	Keyed          string // digits its far end keyed
	Delivered      string // digits written to it from its bridge peers or /dtmf
	Destroyed      bool
	Cause          int
	Subscribers    []string
}

// BridgeState is a snapshot of a bridge.
type BridgeState struct {
	ID, Name string
	Types    []string
	Channels []string
	MOH      string
}

// RecordingState describes a live or stored recording.
type RecordingState struct {
	Name, Format string
	Target       string // channel:ID / bridge:ID ("" for stored)
	State        string // recording, paused, done (stored)
	Duration     time.Duration
	Muted        bool
	Live         bool
}

func (s *Server) stateOf(c *channel) ChannelState {
	st := ChannelState{ID: c.id, Name: c.name, State: c.state, CallerNumber: c.callerNum, CallerName: c.callerName,
		App: c.app, Args: append([]string(nil), c.args...), InStasis: c.inStasis, Role: c.role,
		AbsorbDTMF: c.absorb, BridgeMute: c.bridgeMute, MuteIn: c.muteIn, MuteOut: c.muteOut, Hold: c.hold,
		MOH: c.moh, Silence: c.silence, Context: c.context, Exten: c.exten, Priority: c.priority,
		Vars: map[string]string{}, Keyed: string(c.keyed), Delivered: string(c.delivered),
		Destroyed: c.dead, Cause: c.cause}
	if c.bridge != nil {
		st.Bridge = c.bridge.id
	}
	if c.localPeer != nil {
		st.LocalPeer = c.localPeer.id
	}
	if c.snoopOf != nil {
		st.SnoopOf = c.snoopOf.id
	}
	for k, v := range c.vars {
		st.Vars[k] = v
	}
	for a := range c.subs {
		st.Subscribers = append(st.Subscribers, a)
	}
	sort.Strings(st.Subscribers)
	return st
}

// Channel returns a live channel's state; ok is false for unknown or destroyed channels.
func (s *Server) Channel(id string) (ChannelState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil {
		return ChannelState{}, false
	}
	return s.stateOf(c), true
}

// DestroyedChannel returns the final state of a channel destroyed since the
// last Restart (cause, keyed/delivered digits...).
func (s *Server) DestroyedChannel(id string) (ChannelState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.history[id]
	if !ok {
		return ChannelState{}, false
	}
	return *st, true
}

// Channels lists live channels sorted by id.
func (s *Server) Channels() []ChannelState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ChannelState, 0, len(s.channels))
	for _, c := range s.channels {
		out = append(out, s.stateOf(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) bridgeState(b *bridge) BridgeState {
	st := BridgeState{ID: b.id, Name: b.name, Types: append([]string(nil), b.types...), MOH: b.moh}
	for _, c := range b.chans {
		st.Channels = append(st.Channels, c.id)
	}
	return st
}

// Bridge returns a bridge's state.
func (s *Server) Bridge(id string) (BridgeState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridges[id]
	if b == nil {
		return BridgeState{}, false
	}
	return s.bridgeState(b), true
}

// Bridges lists bridges sorted by id.
func (s *Server) Bridges() []BridgeState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]BridgeState, 0, len(s.bridges))
	for _, b := range s.bridges {
		out = append(out, s.bridgeState(b))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// DTMFDelivered returns the digits that reached channel id (from its bridge
// peers, or sent with POST /channels/{id}/dtmf), i.e. what its far end heard.
// It also answers for channels destroyed since the last Restart.
func (s *Server) DTMFDelivered(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[id]; c != nil {
		return string(c.delivered)
	}
	if st := s.history[id]; st != nil {
		return st.Delivered
	}
	return ""
}

// Recordings lists live recordings then stored ones, each sorted by name.
func (s *Server) Recordings() []RecordingState {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var live, stored []RecordingState
	for _, r := range s.recordings {
		d := r.base + r.acc
		if r.running {
			d += now.Sub(r.since)
		}
		live = append(live, RecordingState{Name: r.name, Format: r.format, Target: r.target(), State: r.state,
			Duration: d, Muted: r.muted, Live: true})
	}
	for _, st := range s.stored {
		stored = append(stored, RecordingState{Name: st.name, Format: st.format, State: "done", Duration: st.dur})
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Name < live[j].Name })
	sort.Slice(stored, func(i, j int) bool { return stored[i].Name < stored[j].Name })
	return append(live, stored...)
}

// HangupChannel hangs channel id up as its far end would (cause as Q.850
// code, e.g. 16 normal). For a Local ;1 channel the dialplan half hangs up
// first. Unknown ids are ignored.
func (s *Server) HangupChannel(id string, cause int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[id]; c != nil {
		s.farHangup(c, cause)
	}
}

// KeyDTMF makes the far end of channel id key digits now, one every 250 ms
// (the first immediately): ChannelDtmfReceived on the channel, and delivery to
// its bridge peers unless it joined with absorbDTMF.
func (s *Server) KeyDTMF(id, digits string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil {
		return errors.New("aritest: no such channel " + id)
	}
	for i, d := range digits {
		digit := string(d)
		c.addTimer(s.after(time.Duration(i)*250*time.Millisecond, func() { s.keyDigit(c, digit) }))
	}
	return nil
}

// AnswerChannel answers a ringing channel as its far end would.
func (s *Server) AnswerChannel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[id]; c != nil && c.state != "Up" {
		s.answer(c)
	}
}

// Call describes an inbound call injected with InboundCall.
type Call struct {
	App  string
	Args []string
	// From is the caller number, To the dialled number (exten).
	From, To string
	// CallerName is the optional caller id name.
	CallerName string
	// Vars are channel variables set by the dialplan before Stasis().
	Vars map[string]string
	// ChannelID is optional (default: generated unique id).
	ChannelID string
	// Endpoint defaults to "trunk" (the channel is "PJSIP/trunk-0000000N").
	Endpoint string
	// Context defaults to "from-trunk".
	Context string
	// Behavior scripts the caller: DTMF and HangupAfter start on answer.
	Behavior *Behavior
	// Answered puts the channel Up before Stasis (dialplan Answer()).
	Answered bool
}

// ErrAppNotActive is returned when Stasis() fails because the application is
// not registered or has no websocket (STASISSTATUS=FAILED).
var ErrAppNotActive = errors.New("aritest: Stasis application not active (STASISSTATUS=FAILED)")

// Inbound injects a call as the dialplan would: a PJSIP channel in state Ring
// runs Stasis(app, args...) with vars set. If the app is not active the
// channel is hung up by the dialplan (STASISSTATUS=FAILED) and the id of the
// destroyed channel is still returned; see InboundCall for the error.
func (s *Server) Inbound(app string, args []string, from, to string, vars map[string]string) string {
	id, _ := s.InboundCall(Call{App: app, Args: args, From: from, To: to, Vars: vars})
	return id
}

// InboundCall injects an inbound call; see Call.
func (s *Server) InboundCall(call Call) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if call.ChannelID != "" && s.channels[call.ChannelID] != nil {
		return "", fmt.Errorf("aritest: channel %s already exists", call.ChannelID)
	}
	ep := call.Endpoint
	if ep == "" {
		ep = "trunk"
	}
	c := s.newChannel("PJSIP", ep, call.ChannelID)
	c.state = "Ring"
	c.callerNum, c.callerName = call.From, call.CallerName
	c.context = call.Context
	if c.context == "" {
		c.context = "from-trunk"
	}
	c.exten = call.To
	if c.exten == "" {
		c.exten = "s"
	}
	for k, v := range call.Vars {
		c.setVar(k, v)
	}
	if call.Behavior != nil {
		b := *call.Behavior
		c.behavior = &b
	}
	if e := s.endpointFor(c); e != nil {
		e.channels[c.id] = struct{}{}
	}
	if call.Answered {
		c.state = "Up"
	}
	if !s.enterStasis(c, call.App, call.Args) {
		s.hangup(c, 16, false)
		return c.id, ErrAppNotActive
	}
	if call.Answered {
		s.runFarEnd(c)
	}
	return c.id, nil
}

// AppActive reports whether app is registered with a connected websocket.
func (s *Server) AppActive(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	return a != nil && a.active()
}

// StartupTime returns the current simulated Asterisk start time.
func (s *Server) StartupTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startup
}

// StoredRecordingDuration returns a stored recording's duration.
func (s *Server) StoredRecordingDuration(name string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stored[strings.TrimSpace(name)]
	if st == nil {
		return 0, false
	}
	return st.dur, true
}
