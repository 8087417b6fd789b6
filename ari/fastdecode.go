package ari

import (
	"math"
	"unicode/utf8"
)

// This file is a fast path for DecodeEvent covering the frequent event
// types (channel lifecycle, DTMF, variables, dial, bridges, playbacks).
//
// It copies the message into one string and takes every field as a
// substring of it, so an event costs a handful of allocations instead of one
// per string. It is deliberately conservative: on anything that is not plain
// Asterisk output (escapes in strings, null, duplicate keys, keys that are
// not lower-case ASCII, invalid UTF-8, numbers that are not integers where
// integers are expected, deep nesting, a type it does not cover) it gives up
// and DecodeEvent falls back to encoding/json, so both paths give identical
// results; TestFastDecodeMatchesStd and FuzzDecodeEvent check that.

// fastDecode returns the event and true, or nil and false to mean "use
// encoding/json".
func fastDecode(data []byte) (Event, bool) {
	l := lexer{s: string(data)}
	var h hotEvent
	l.event(&h)
	if l.bad {
		return nil, false
	}
	l.ws()
	if l.i != len(l.s) {
		return nil, false
	}
	return h.build()
}

// lexer reads JSON from s; any unexpected input sets bad, after which all
// methods return zero values and loops end.
type lexer struct {
	s     string
	i     int
	depth int
	bad   bool
}

const maxFastDepth = 32

func (l *lexer) fail() { l.bad = true }

func (l *lexer) ws() {
	for l.i < len(l.s) {
		switch l.s[l.i] {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (l *lexer) peek() byte {
	l.ws()
	if l.i < len(l.s) {
		return l.s[l.i]
	}
	return 0
}

func (l *lexer) expect(c byte) {
	if l.bad || l.peek() != c {
		l.fail()
		return
	}
	l.i++
}

// str reads a string without escapes and returns it as a substring.
func (l *lexer) str() string {
	if l.bad || l.peek() != '"' {
		l.fail()
		return ""
	}
	start := l.i + 1
	high := false
	for j := start; j < len(l.s); j++ {
		c := l.s[j]
		switch {
		case c == '"':
			l.i = j + 1
			v := l.s[start:j]
			if high && !utf8.ValidString(v) {
				l.fail()
				return ""
			}
			return v
		case c == '\\' || c < 0x20:
			l.fail()
			return ""
		case c >= 0x80:
			high = true
		}
	}
	l.fail()
	return ""
}

// key reads an object key. For struct fields (strict) it must be
// lower-case ASCII, digits or '_', so that exact matching equals
// encoding/json's case-insensitive matching; map keys may be anything.
func (l *lexer) key(strict bool) string {
	k := l.str()
	for j := 0; strict && j < len(k); j++ {
		c := k[j]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			l.fail()
			return ""
		}
	}
	l.expect(':')
	return k
}

// firstKey starts an object; more is false for an empty object.
func (l *lexer) firstKey() (k string, more bool) { return l.first(true) }

// nextKey continues an object after a member's value.
func (l *lexer) nextKey() (k string, more bool) { return l.next(true) }

func (l *lexer) first(strict bool) (k string, more bool) {
	l.expect('{')
	if l.bad {
		return "", false
	}
	l.depth++
	if l.depth > maxFastDepth {
		l.fail()
		return "", false
	}
	if l.peek() == '}' {
		l.i++
		l.depth--
		return "", false
	}
	k = l.key(strict)
	return k, !l.bad
}

func (l *lexer) next(strict bool) (k string, more bool) {
	if l.bad {
		return "", false
	}
	switch l.peek() {
	case ',':
		l.i++
		k = l.key(strict)
		return k, !l.bad
	case '}':
		l.i++
		l.depth--
		return "", false
	}
	l.fail()
	return "", false
}

// once sets bit n of seen, failing on a duplicate key.
func (l *lexer) once(seen *uint64, n uint) {
	if *seen&(1<<n) != 0 {
		l.fail()
	}
	*seen |= 1 << n
}

// integer reads a JSON integer that fits an int.
func (l *lexer) integer() int {
	if l.bad {
		return 0
	}
	l.ws()
	j := l.i
	neg := false
	if j < len(l.s) && l.s[j] == '-' {
		neg = true
		j++
	}
	start := j
	var n uint64
	for j < len(l.s) && l.s[j] >= '0' && l.s[j] <= '9' {
		if n > (math.MaxUint64-9)/10 {
			l.fail()
			return 0
		}
		n = n*10 + uint64(l.s[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || (digits > 1 && l.s[start] == '0') {
		l.fail()
		return 0
	}
	if j < len(l.s) {
		switch l.s[j] {
		case '.', 'e', 'E':
			l.fail() // valid JSON, but not for an int field
			return 0
		}
	}
	l.i = j
	if neg {
		if n > uint64(math.MaxInt)+1 {
			l.fail()
			return 0
		}
		return int(-n)
	}
	if n > math.MaxInt {
		l.fail()
		return 0
	}
	return int(n)
}

func (l *lexer) boolean() bool {
	if l.bad {
		return false
	}
	l.ws()
	rest := l.s[l.i:]
	switch {
	case len(rest) >= 4 && rest[:4] == "true":
		l.i += 4
		return true
	case len(rest) >= 5 && rest[:5] == "false":
		l.i += 5
		return false
	}
	l.fail()
	return false
}

// time reads a timestamp string as Time.UnmarshalJSON does.
func (l *lexer) time() Time {
	s := l.str()
	if l.bad || s == "" {
		return Time{}
	}
	return Time{lenientTime(s)}
}

// strings reads an array of strings; [] gives an empty, non-nil slice.
func (l *lexer) strings() []string {
	l.expect('[')
	if l.bad {
		return nil
	}
	out := []string{}
	if l.peek() == ']' {
		l.i++
		return out
	}
	for !l.bad {
		out = append(out, l.str())
		switch l.peek() {
		case ',':
			l.i++
		case ']':
			l.i++
			return out
		default:
			l.fail()
		}
	}
	return nil
}

// strMap reads an object of strings (a repeated key: the last one wins, as
// with encoding/json).
func (l *lexer) strMap() map[string]string {
	m := map[string]string{}
	for k, more := l.first(false); more; k, more = l.next(false) {
		m[k] = l.str()
	}
	return m
}

// skip validates and skips any JSON value except null.
func (l *lexer) skip() {
	switch l.peek() {
	case '"':
		l.str()
	case '{':
		for _, more := l.first(false); more; _, more = l.next(false) {
			l.skip()
		}
	case '[':
		l.i++
		l.depth++
		if l.depth > maxFastDepth {
			l.fail()
			return
		}
		if l.peek() == ']' {
			l.i++
			l.depth--
			return
		}
		for !l.bad {
			l.skip()
			switch l.peek() {
			case ',':
				l.i++
			case ']':
				l.i++
				l.depth--
				return
			default:
				l.fail()
			}
		}
	case 't', 'f':
		l.boolean()
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		l.number()
	default:
		l.fail()
	}
}

// number skips a JSON number.
func (l *lexer) number() {
	j := l.i
	digits := func() int {
		k := j
		for j < len(l.s) && l.s[j] >= '0' && l.s[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(l.s) && l.s[j] == '-' {
		j++
	}
	start := j
	if n := digits(); n == 0 || (n > 1 && l.s[start] == '0') {
		l.fail()
		return
	}
	if j < len(l.s) && l.s[j] == '.' {
		j++
		if digits() == 0 {
			l.fail()
			return
		}
	}
	if j < len(l.s) && (l.s[j] == 'e' || l.s[j] == 'E') {
		j++
		if j < len(l.s) && (l.s[j] == '+' || l.s[j] == '-') {
			j++
		}
		if digits() == 0 {
			l.fail()
			return
		}
	}
	l.i = j
}

func (l *lexer) callerID(c *CallerID) {
	var seen uint64
	for k, more := l.firstKey(); more; k, more = l.nextKey() {
		switch k {
		case "name":
			l.once(&seen, 0)
			c.Name = l.str()
		case "number":
			l.once(&seen, 1)
			c.Number = l.str()
		default:
			l.skip()
		}
	}
}

func (l *lexer) dialplan(d *DialplanCEP) {
	var seen uint64
	for k, more := l.firstKey(); more; k, more = l.nextKey() {
		switch k {
		case "context":
			l.once(&seen, 0)
			d.Context = l.str()
		case "exten":
			l.once(&seen, 1)
			d.Exten = l.str()
		case "priority":
			l.once(&seen, 2)
			d.Priority = int64(l.integer())
		case "app_name":
			l.once(&seen, 3)
			d.AppName = l.str()
		case "app_data":
			l.once(&seen, 4)
			d.AppData = l.str()
		default:
			l.skip()
		}
	}
}

func (l *lexer) channel(c *Channel) {
	var seen uint64
	for k, more := l.firstKey(); more; k, more = l.nextKey() {
		switch k {
		case "id":
			l.once(&seen, 0)
			c.ID = l.str()
		case "protocol_id":
			l.once(&seen, 1)
			c.ProtocolID = l.str()
		case "name":
			l.once(&seen, 2)
			c.Name = l.str()
		case "state":
			l.once(&seen, 3)
			c.State = l.str()
		case "caller":
			l.once(&seen, 4)
			l.callerID(&c.Caller)
		case "connected":
			l.once(&seen, 5)
			l.callerID(&c.Connected)
		case "accountcode":
			l.once(&seen, 6)
			c.Accountcode = l.str()
		case "dialplan":
			l.once(&seen, 7)
			l.dialplan(&c.Dialplan)
		case "creationtime":
			l.once(&seen, 8)
			c.Creationtime = l.time()
		case "language":
			l.once(&seen, 9)
			c.Language = l.str()
		case "channelvars":
			l.once(&seen, 10)
			c.ChannelVars = l.strMap()
		case "caller_rdnis":
			l.once(&seen, 11)
			c.CallerRDNIS = l.str()
		case "tenantid":
			l.once(&seen, 12)
			c.TenantID = l.str()
		default:
			l.skip()
		}
	}
}

func (l *lexer) channelPtr() *Channel {
	c := new(Channel)
	l.channel(c)
	return c
}

func (l *lexer) bridge(b *Bridge) {
	var seen uint64
	for k, more := l.firstKey(); more; k, more = l.nextKey() {
		switch k {
		case "id":
			l.once(&seen, 0)
			b.ID = l.str()
		case "technology":
			l.once(&seen, 1)
			b.Technology = l.str()
		case "bridge_type":
			l.once(&seen, 2)
			b.BridgeType = l.str()
		case "bridge_class":
			l.once(&seen, 3)
			b.BridgeClass = l.str()
		case "creator":
			l.once(&seen, 4)
			b.Creator = l.str()
		case "name":
			l.once(&seen, 5)
			b.Name = l.str()
		case "channels":
			l.once(&seen, 6)
			b.Channels = l.strings()
		case "video_mode":
			l.once(&seen, 7)
			b.VideoMode = l.str()
		case "video_source_id":
			l.once(&seen, 8)
			b.VideoSourceID = l.str()
		case "creationtime":
			l.once(&seen, 9)
			b.CreationTime = l.time()
		case "bridgevars":
			l.once(&seen, 10)
			b.BridgeVars = l.strMap()
		default:
			l.skip()
		}
	}
}

func (l *lexer) playback(p *Playback) {
	var seen uint64
	for k, more := l.firstKey(); more; k, more = l.nextKey() {
		switch k {
		case "id":
			l.once(&seen, 0)
			p.ID = l.str()
		case "media_uri":
			l.once(&seen, 1)
			p.MediaURI = l.str()
		case "next_media_uri":
			l.once(&seen, 2)
			p.NextMediaURI = l.str()
		case "target_uri":
			l.once(&seen, 3)
			p.TargetURI = l.str()
		case "language":
			l.once(&seen, 4)
			p.Language = l.str()
		case "state":
			l.once(&seen, 5)
			p.State = l.str()
		default:
			l.skip()
		}
	}
}

// hotEvent is the union of the fields of the fast-path event types.
type hotEvent struct {
	base                  EventBase
	args                  []string
	channel               Channel
	replaceChannel        *Channel
	caller                *Channel
	peer                  Channel
	forwarded             *Channel
	bridge                Bridge
	playback              Playback
	digit                 string
	causeTxt              string
	variable, value       string
	musicclass            string
	dialplanApp           string
	dialplanAppData       string
	forward               string
	dialstring            string
	dialstatus            string
	callerPresentationTxt string
	durationMs            int
	cause, techCause      int
	duration              int
	callerPresentation    int
	soft                  bool
	seen                  uint64
}

// Bits of hotEvent.seen, which also tell build which fields were present.
const (
	hType uint = iota
	hApplication
	hTimestamp
	hAsteriskID
	hArgs
	hChannel
	hReplaceChannel
	hCaller
	hPeer
	hForwarded
	hBridge
	hPlayback
	hDigit
	hDurationMs
	hCause
	hCauseTxt
	hTechCause
	hSoft
	hVariable
	hValue
	hMusicclass
	hDialplanApp
	hDialplanAppData
	hForward
	hDialstring
	hDialstatus
	hDuration
	hCallerPresentation
	hCallerPresentationTxt
)

// isHot reports whether build handles typ.
func isHot(typ string) bool {
	switch typ {
	case TypeStasisStart, TypeStasisEnd, TypeChannelCreated, TypeChannelDestroyed,
		TypeChannelStateChange, TypeChannelDtmfReceived, TypeChannelHangupRequest,
		TypeChannelEnteredBridge, TypeChannelLeftBridge, TypeChannelVarset,
		TypeChannelHold, TypeChannelUnhold, TypeChannelCallerID, TypeChannelConnectedLine,
		TypeChannelDialplan, TypeChannelTalkingStarted, TypeChannelTalkingFinished,
		TypeChannelToneDetected, TypeDial, TypePlaybackStarted, TypePlaybackContinuing,
		TypePlaybackFinished, TypeBridgeCreated, TypeBridgeDestroyed:
		return true
	}
	return false
}

func (l *lexer) event(h *hotEvent) {
	for k, more := l.firstKey(); more; k, more = l.nextKey() {
		switch k {
		case "type":
			l.once(&h.seen, hType)
			h.base.Type = l.str()
			if !isHot(h.base.Type) {
				l.fail()
			}
		case "application":
			l.once(&h.seen, hApplication)
			h.base.Application = l.str()
		case "timestamp":
			l.once(&h.seen, hTimestamp)
			h.base.Timestamp = l.time()
		case "asterisk_id":
			l.once(&h.seen, hAsteriskID)
			h.base.AsteriskID = l.str()
		case "args":
			l.once(&h.seen, hArgs)
			h.args = l.strings()
		case "channel":
			l.once(&h.seen, hChannel)
			l.channel(&h.channel)
		case "replace_channel":
			l.once(&h.seen, hReplaceChannel)
			h.replaceChannel = l.channelPtr()
		case "caller":
			l.once(&h.seen, hCaller)
			h.caller = l.channelPtr()
		case "peer":
			l.once(&h.seen, hPeer)
			l.channel(&h.peer)
		case "forwarded":
			l.once(&h.seen, hForwarded)
			h.forwarded = l.channelPtr()
		case "bridge":
			l.once(&h.seen, hBridge)
			l.bridge(&h.bridge)
		case "playback":
			l.once(&h.seen, hPlayback)
			l.playback(&h.playback)
		case "digit":
			l.once(&h.seen, hDigit)
			h.digit = l.str()
		case "duration_ms":
			l.once(&h.seen, hDurationMs)
			h.durationMs = l.integer()
		case "cause":
			l.once(&h.seen, hCause)
			h.cause = l.integer()
		case "cause_txt":
			l.once(&h.seen, hCauseTxt)
			h.causeTxt = l.str()
		case "tech_cause":
			l.once(&h.seen, hTechCause)
			h.techCause = l.integer()
		case "soft":
			l.once(&h.seen, hSoft)
			h.soft = l.boolean()
		case "variable":
			l.once(&h.seen, hVariable)
			h.variable = l.str()
		case "value":
			l.once(&h.seen, hValue)
			h.value = l.str()
		case "musicclass":
			l.once(&h.seen, hMusicclass)
			h.musicclass = l.str()
		case "dialplan_app":
			l.once(&h.seen, hDialplanApp)
			h.dialplanApp = l.str()
		case "dialplan_app_data":
			l.once(&h.seen, hDialplanAppData)
			h.dialplanAppData = l.str()
		case "forward":
			l.once(&h.seen, hForward)
			h.forward = l.str()
		case "dialstring":
			l.once(&h.seen, hDialstring)
			h.dialstring = l.str()
		case "dialstatus":
			l.once(&h.seen, hDialstatus)
			h.dialstatus = l.str()
		case "duration":
			l.once(&h.seen, hDuration)
			h.duration = l.integer()
		case "caller_presentation":
			l.once(&h.seen, hCallerPresentation)
			h.callerPresentation = l.integer()
		case "caller_presentation_txt":
			l.once(&h.seen, hCallerPresentationTxt)
			h.callerPresentationTxt = l.str()
		default:
			l.skip()
		}
	}
}

func (h *hotEvent) has(bit uint) bool { return h.seen&(1<<bit) != 0 }

// build makes the concrete event. A field of the union that the type does
// not have is ignored, as encoding/json ignores unknown fields.
func (h *hotEvent) build() (Event, bool) {
	b := h.base
	switch b.Type {
	case TypeStasisStart:
		return &StasisStart{EventBase: b, Args: h.args, Channel: h.channel, ReplaceChannel: h.replaceChannel}, true
	case TypeStasisEnd:
		return &StasisEnd{EventBase: b, Channel: h.channel}, true
	case TypeChannelCreated:
		return &ChannelCreated{EventBase: b, Channel: h.channel}, true
	case TypeChannelDestroyed:
		return &ChannelDestroyed{EventBase: b, Cause: h.cause, CauseTxt: h.causeTxt, TechCause: h.techCause, Channel: h.channel}, true
	case TypeChannelStateChange:
		return &ChannelStateChange{EventBase: b, Channel: h.channel}, true
	case TypeChannelDtmfReceived:
		return &ChannelDtmfReceived{EventBase: b, Digit: h.digit, DurationMs: h.durationMs, Channel: h.channel}, true
	case TypeChannelHangupRequest:
		return &ChannelHangupRequest{EventBase: b, Cause: h.cause, TechCause: h.techCause, Soft: h.soft, Channel: h.channel}, true
	case TypeChannelEnteredBridge:
		e := &ChannelEnteredBridge{EventBase: b, Bridge: h.bridge}
		if h.has(hChannel) {
			ch := h.channel
			e.Channel = &ch
		}
		return e, true
	case TypeChannelLeftBridge:
		return &ChannelLeftBridge{EventBase: b, Bridge: h.bridge, Channel: h.channel}, true
	case TypeChannelVarset:
		e := &ChannelVarset{EventBase: b, Variable: h.variable, Value: h.value}
		if h.has(hChannel) {
			ch := h.channel
			e.Channel = &ch
		}
		return e, true
	case TypeChannelHold:
		return &ChannelHold{EventBase: b, Channel: h.channel, Musicclass: h.musicclass}, true
	case TypeChannelUnhold:
		return &ChannelUnhold{EventBase: b, Channel: h.channel}, true
	case TypeChannelCallerID:
		return &ChannelCallerId{EventBase: b, CallerPresentation: h.callerPresentation,
			CallerPresentationTxt: h.callerPresentationTxt, Channel: h.channel}, true
	case TypeChannelConnectedLine:
		return &ChannelConnectedLine{EventBase: b, Channel: h.channel}, true
	case TypeChannelDialplan:
		return &ChannelDialplan{EventBase: b, Channel: h.channel, DialplanApp: h.dialplanApp, DialplanAppData: h.dialplanAppData}, true
	case TypeChannelTalkingStarted:
		return &ChannelTalkingStarted{EventBase: b, Channel: h.channel}, true
	case TypeChannelTalkingFinished:
		return &ChannelTalkingFinished{EventBase: b, Channel: h.channel, Duration: h.duration}, true
	case TypeChannelToneDetected:
		return &ChannelToneDetected{EventBase: b, Channel: h.channel}, true
	case TypeDial:
		return &Dial{EventBase: b, Caller: h.caller, Peer: h.peer, Forward: h.forward, Forwarded: h.forwarded,
			Dialstring: h.dialstring, Dialstatus: h.dialstatus}, true
	case TypePlaybackStarted:
		return &PlaybackStarted{EventBase: b, Playback: h.playback}, true
	case TypePlaybackContinuing:
		return &PlaybackContinuing{EventBase: b, Playback: h.playback}, true
	case TypePlaybackFinished:
		return &PlaybackFinished{EventBase: b, Playback: h.playback}, true
	case TypeBridgeCreated:
		return &BridgeCreated{EventBase: b, Bridge: h.bridge}, true
	case TypeBridgeDestroyed:
		return &BridgeDestroyed{EventBase: b, Bridge: h.bridge}, true
	}
	return nil, false
}
