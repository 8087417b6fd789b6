// Package ari is ctid's own client for the Asterisk REST Interface (ARI).
//
// It has three parts:
//
//   - wire types (this file and events.go) that mirror the swagger models of
//     Asterisk 22 (rest-api/api-docs/*.json) with the same JSON names;
//   - typed events decoded from the Stasis websocket (DecodeEvent);
//   - a Client with one resource group per ARI resource (Channels, Bridges,
//     Playbacks, Recordings, Endpoints, DeviceStates, Asterisk, Applications)
//     and a websocket loop (Run) that reconnects with backoff and reports
//     connection changes as ConnectionEvent on the same channel as Asterisk
//     events.
//
// The package holds no CTI logic and no global state.
package ari

import (
	"bytes"
	"fmt"
	"time"
)

// AsteriskTimeFormat is the layout Asterisk uses for timestamps in ARI
// (ast_json_timeval with millisecond precision and a numeric zone).
const AsteriskTimeFormat = "2006-01-02T15:04:05.000-0700"

// Time is a time.Time that (un)marshals in Asterisk's ARI format. Decoding
// also accepts RFC 3339 and the format without milliseconds. An empty or
// unparsable string, or null, gives the zero time rather than an error, so a
// malformed timestamp never costs the whole event; a non-string is an error.
type Time struct{ time.Time }

var timeLayouts = [...]string{
	AsteriskTimeFormat,
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999-0700",
}

// ParseTime parses a timestamp in any of the formats accepted by Time.
func ParseTime(s string) (time.Time, error) {
	var lastErr error
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, s)
		if err == nil {
			return t, nil
		}
		lastErr = err
	}
	return time.Time{}, lastErr
}

// lenientTime parses s as ParseTime does, giving the zero time on error.
func lenientTime(s string) time.Time {
	if t, ok := parseAsteriskTime(s); ok {
		return t
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil // null leaves the value unchanged, like encoding/json
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("ari: time must be a JSON string, got %.40q", b)
	}
	s := b[1 : len(b)-1]
	if len(s) == 0 {
		t.Time = time.Time{}
		return nil
	}
	// Fast path: the exact Asterisk layout, without allocating a string.
	if tt, ok := parseAsteriskTime(s); ok {
		t.Time = tt
		return nil
	}
	t.Time = lenientTime(string(s))
	return nil
}

// MarshalJSON implements json.Marshaler using AsteriskTimeFormat; the zero
// time marshals as "".
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	b := make([]byte, 0, len(AsteriskTimeFormat)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, AsteriskTimeFormat)
	return append(b, '"'), nil
}

// fixedZones holds a *time.Location for every quarter-hour offset so the
// fast time parser does not allocate one per event. It is filled once at
// package init and only read afterwards.
var fixedZones = func() map[int]*time.Location {
	m := make(map[int]*time.Location, 27*4)
	for off := -12 * 3600; off <= 14*3600; off += 15 * 60 {
		m[off] = time.FixedZone("", off)
	}
	m[0] = time.UTC
	return m
}()

// parseAsteriskTime parses "2006-01-02T15:04:05.000-0700" without
// allocations. ok is false if s is not exactly in that layout.
func parseAsteriskTime[T string | []byte](s T) (time.Time, bool) {
	if len(s) != len(AsteriskTimeFormat) {
		return time.Time{}, false
	}
	num := func(b T) (int, bool) {
		n := 0
		for i := 0; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' {
		return time.Time{}, false
	}
	year, ok1 := num(s[0:4])
	mon, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hh, ok4 := num(s[11:13])
	mm, ok5 := num(s[14:16])
	ss, ok6 := num(s[17:19])
	ms, ok7 := num(s[20:23])
	zh, ok8 := num(s[24:26])
	zm, ok9 := num(s[26:28])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9) {
		return time.Time{}, false
	}
	if mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59 {
		return time.Time{}, false
	}
	off := zh*3600 + zm*60
	switch s[23] {
	case '+':
	case '-':
		off = -off
	default:
		return time.Time{}, false
	}
	loc, found := fixedZones[off]
	if !found {
		loc = time.FixedZone("", off)
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, ss, ms*int(time.Millisecond), loc)
	if t.Day() != day { // e.g. Feb 30 normalised by time.Date
		return time.Time{}, false
	}
	return t, true
}

// CallerID is a caller or connected-line identification.
type CallerID struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// DialplanCEP is a dialplan location: context, extension, priority, and the
// application currently running there.
type DialplanCEP struct {
	Context  string `json:"context"`
	Exten    string `json:"exten"`
	Priority int64  `json:"priority"`
	AppName  string `json:"app_name,omitempty"`
	AppData  string `json:"app_data,omitempty"`
}

// Channel states as reported in Channel.State.
const (
	ChannelStateDown           = "Down"
	ChannelStateRsrvd          = "Rsrvd"
	ChannelStateOffHook        = "OffHook"
	ChannelStateDialing        = "Dialing"
	ChannelStateRing           = "Ring"
	ChannelStateRinging        = "Ringing"
	ChannelStateUp             = "Up"
	ChannelStateBusy           = "Busy"
	ChannelStateDialingOffhook = "Dialing Offhook"
	ChannelStatePreRing        = "Pre-ring"
	ChannelStateUnknown        = "Unknown"
)

// Channel is an ARI channel snapshot.
type Channel struct {
	ID           string            `json:"id"`
	ProtocolID   string            `json:"protocol_id,omitempty"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	Caller       CallerID          `json:"caller"`
	Connected    CallerID          `json:"connected"`
	Accountcode  string            `json:"accountcode"`
	Dialplan     DialplanCEP       `json:"dialplan"`
	Creationtime Time              `json:"creationtime"`
	Language     string            `json:"language"`
	ChannelVars  map[string]string `json:"channelvars,omitempty"`
	CallerRDNIS  string            `json:"caller_rdnis,omitempty"`
	TenantID     string            `json:"tenantid,omitempty"`
}

// Bridge is an ARI bridge snapshot.
type Bridge struct {
	ID            string            `json:"id"`
	Technology    string            `json:"technology"`
	BridgeType    string            `json:"bridge_type"`
	BridgeClass   string            `json:"bridge_class"`
	Creator       string            `json:"creator"`
	Name          string            `json:"name"`
	Channels      []string          `json:"channels"`
	VideoMode     string            `json:"video_mode,omitempty"`
	VideoSourceID string            `json:"video_source_id,omitempty"`
	CreationTime  Time              `json:"creationtime"`
	BridgeVars    map[string]string `json:"bridgevars,omitempty"`
}

// Playback is an ARI playback (media being played to a channel or bridge).
type Playback struct {
	ID           string `json:"id"`
	MediaURI     string `json:"media_uri"`
	NextMediaURI string `json:"next_media_uri,omitempty"`
	TargetURI    string `json:"target_uri"`
	Language     string `json:"language,omitempty"`
	// State is one of queued, playing, continuing, done, failed.
	State string `json:"state"`
}

// LiveRecording is a recording in progress (or just finished).
type LiveRecording struct {
	Name      string `json:"name"`
	Format    string `json:"format"`
	TargetURI string `json:"target_uri"`
	// State is one of queued, recording, paused, done, failed, canceled.
	State string `json:"state"`
	// Duration is the file length in seconds (set when finished).
	Duration        int    `json:"duration,omitempty"`
	TalkingDuration int    `json:"talking_duration,omitempty"`
	SilenceDuration int    `json:"silence_duration,omitempty"`
	Cause           string `json:"cause,omitempty"`
}

// StoredRecording is a finished recording on disk.
type StoredRecording struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

// Endpoint is an ARI endpoint (e.g. PJSIP/1001).
type Endpoint struct {
	Technology string   `json:"technology"`
	Resource   string   `json:"resource"`
	State      string   `json:"state,omitempty"` // unknown, offline, online
	ChannelIDs []string `json:"channel_ids"`
}

// BuildInfo describes how Asterisk was built.
type BuildInfo struct {
	OS      string `json:"os"`
	Kernel  string `json:"kernel"`
	Options string `json:"options"`
	Machine string `json:"machine"`
	Date    string `json:"date"`
	User    string `json:"user"`
}

// SystemInfo identifies the Asterisk instance.
type SystemInfo struct {
	Version  string `json:"version"`
	EntityID string `json:"entity_id"`
}

// SetID is the effective user/group of the Asterisk process.
type SetID struct {
	User  string `json:"user"`
	Group string `json:"group"`
}

// ConfigInfo is part of Asterisk's runtime configuration.
type ConfigInfo struct {
	Name            string  `json:"name"`
	DefaultLanguage string  `json:"default_language"`
	MaxChannels     int     `json:"max_channels,omitempty"`
	MaxOpenFiles    int     `json:"max_open_files,omitempty"`
	MaxLoad         float64 `json:"max_load,omitempty"`
	SetID           SetID   `json:"setid"`
}

// StatusInfo holds Asterisk's start and last-reload times.
type StatusInfo struct {
	StartupTime    Time `json:"startup_time"`
	LastReloadTime Time `json:"last_reload_time"`
}

// AsteriskInfo is the answer of GET /asterisk/info.
type AsteriskInfo struct {
	Build  *BuildInfo  `json:"build,omitempty"`
	System *SystemInfo `json:"system,omitempty"`
	Config *ConfigInfo `json:"config,omitempty"`
	Status *StatusInfo `json:"status,omitempty"`
}

// AsteriskPing is the answer of GET /asterisk/ping.
type AsteriskPing struct {
	AsteriskID string `json:"asterisk_id"`
	Ping       string `json:"ping"`
	Timestamp  string `json:"timestamp"`
}

// Application is a Stasis application and its subscriptions.
type Application struct {
	Name             string           `json:"name"`
	ChannelIDs       []string         `json:"channel_ids"`
	BridgeIDs        []string         `json:"bridge_ids"`
	EndpointIDs      []string         `json:"endpoint_ids"`
	DeviceNames      []string         `json:"device_names"`
	EventsAllowed    []map[string]any `json:"events_allowed,omitempty"`
	EventsDisallowed []map[string]any `json:"events_disallowed,omitempty"`
}

// DeviceState is the state of a device (Stasis:<name> for ARI-controlled ones).
type DeviceState struct {
	Name string `json:"name"`
	// State is one of UNKNOWN, NOT_INUSE, INUSE, BUSY, INVALID, UNAVAILABLE,
	// RINGING, RINGINUSE, ONHOLD.
	State string `json:"state"`
}

// Variable is the answer of a GET on a channel, bridge or global variable.
type Variable struct {
	Value string `json:"value"`
}

// Peer is the status of a SIP peer (PeerStatusChange).
type Peer struct {
	PeerStatus string `json:"peer_status"`
	Cause      string `json:"cause,omitempty"`
	Address    string `json:"address,omitempty"`
	Port       string `json:"port,omitempty"`
	Time       string `json:"time,omitempty"`
}

// ContactInfo is the status of a PJSIP contact (ContactStatusChange).
type ContactInfo struct {
	URI           string `json:"uri"`
	ContactStatus string `json:"contact_status"`
	AOR           string `json:"aor"`
	RoundtripUsec string `json:"roundtrip_usec,omitempty"`
}

// TextMessage is an out-of-call text message (TextMessageReceived).
type TextMessage struct {
	From      string            `json:"from"`
	To        string            `json:"to"`
	Body      string            `json:"body"`
	Variables map[string]string `json:"variables,omitempty"`
}
