package ari

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// loadSamples returns testdata/events/*.json keyed by file name without
// extension. A name's part before "_" is the expected Go type name
// ("Unknown" means *UnknownEvent).
func loadSamples(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	m := make(map[string][]byte, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[strings.TrimSuffix(filepath.Base(f), ".json")] = data
	}
	return m
}

func TestDecodeEventSamples(t *testing.T) {
	wantTS := time.Date(2025, 3, 14, 10, 21, 3, 512e6, time.UTC)
	for name, data := range loadSamples(t) {
		t.Run(name, func(t *testing.T) {
			ev, err := DecodeEvent(data)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			wantType, _, _ := strings.Cut(name, "_")
			gotType := reflect.TypeOf(ev).Elem().Name()
			if wantType == "Unknown" {
				wantType = "UnknownEvent"
			}
			if gotType != wantType {
				t.Fatalf("decoded as %s, want %s", gotType, wantType)
			}
			var probe typeProbe
			_ = json.Unmarshal(data, &probe)
			if ev.GetType() != probe.Type || ev.GetApplication() != "ctid" || !ev.GetTimestamp().Equal(wantTS) {
				t.Errorf("base = %q %q %v", ev.GetType(), ev.GetApplication(), ev.GetTimestamp())
			}
			if u, ok := ev.(*UnknownEvent); ok {
				if string(u.Raw) != string(data) || u.AsteriskID == "" {
					t.Errorf("unknown event lost data: %+v", u.EventBase)
				}
				return
			}
			// Every non-zero value of the sample must survive a decode and
			// re-encode: no field is silently dropped or misnamed.
			out, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var orig, got any
			_ = json.Unmarshal(data, &orig)
			_ = json.Unmarshal(out, &got)
			for _, p := range missing("", orig, got) {
				t.Errorf("lost %s", p)
			}
		})
	}
}

// missing lists the paths of non-zero leaves of want that differ in got.
func missing(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		var out []string
		for k, v := range w {
			out = append(out, missing(path+"."+k, v, g[k])...)
		}
		return out
	case []any:
		g, _ := got.([]any)
		var out []string
		for i, v := range w {
			var gv any
			if i < len(g) {
				gv = g[i]
			}
			out = append(out, missing(path+"["+string(rune('0'+i%10))+"]", v, gv)...)
		}
		return out
	case string:
		if w == "" {
			return nil
		}
	case float64:
		if w == 0 {
			return nil
		}
	case bool:
		if !w {
			return nil
		}
	case nil:
		return nil
	}
	if !reflect.DeepEqual(want, got) {
		return []string{path}
	}
	return nil
}

func TestDecodeEventFields(t *testing.T) {
	s := loadSamples(t)
	dec := func(name string) Event {
		ev, err := DecodeEvent(s[name])
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ss := dec("StasisStart").(*StasisStart)
	if !reflect.DeepEqual(ss.Args, []string{"inbound", "campaign-7"}) || ss.Channel.ID != "1741947663.42" ||
		ss.Channel.Dialplan.Priority != 3 || ss.Channel.ChannelVars["CTI_CALL_ID"] != "call-7f3k" ||
		ss.Channel.Creationtime.IsZero() || ss.ReplaceChannel != nil || ss.AsteriskID != "02:42:ac:11:00:02" {
		t.Errorf("StasisStart = %+v", ss)
	}
	if r := dec("StasisStart_replace").(*StasisStart); r.ReplaceChannel == nil || r.ReplaceChannel.ID != "1741947663.42" {
		t.Errorf("replace_channel = %+v", r.ReplaceChannel)
	}
	if d := dec("ChannelDtmfReceived").(*ChannelDtmfReceived); d.Digit != "4" || d.DurationMs != 120 {
		t.Errorf("dtmf = %+v", d)
	}
	if d := dec("ChannelDestroyed").(*ChannelDestroyed); d.Cause != 16 || d.CauseTxt != "Normal Clearing" || d.TechCause != 200 {
		t.Errorf("destroyed = %+v", d)
	}
	if v := dec("ChannelVarset_global").(*ChannelVarset); v.Channel != nil || v.Value != "night" {
		t.Errorf("global varset = %+v", v)
	}
	if d := dec("Dial").(*Dial); d.Caller == nil || d.Peer.ID != "agent-1001-leg" || d.Dialstatus != "ANSWER" {
		t.Errorf("dial = %+v", d)
	}
	if r := dec("RecordingFinished").(*RecordingFinished); r.Recording.Duration != 9 || r.Recording.State != "done" {
		t.Errorf("recording = %+v", r)
	}
	if a := dec("BridgeAttendedTransfer").(*BridgeAttendedTransfer); a.DestinationType != "bridge" || a.TransferTarget == nil {
		t.Errorf("attended = %+v", a)
	}
	if c := dec("ChannelTransfer").(*ChannelTransfer); c.ReferTo.RequestedDestination.Destination != "2002" ||
		c.ReferredBy.SourceChannel.ID != "agent-1001-leg" {
		t.Errorf("transfer = %+v", c)
	}
}

func TestDecodeEventErrors(t *testing.T) {
	for _, in := range []string{``, `{`, `[]`, `null`, `"x"`, `{}`, `{"type":""}`, `{"type":7}`,
		`{"type":"StasisStart","channel":[]}`, `{"type":"ChannelDtmfReceived","duration_ms":"x"}`,
		`{"type":"StasisStart","timestamp":12}`} {
		ev, err := DecodeEvent([]byte(in))
		if err == nil || ev != nil {
			t.Errorf("DecodeEvent(%q) = %v, %v; want error", in, ev, err)
		}
	}
	if _, err := DecodeEvent([]byte(`{}`)); !errors.Is(err, ErrNoType) {
		t.Errorf("missing type: %v", err)
	}
	// A bad timestamp string does not cost the event.
	ev, err := DecodeEvent([]byte(`{"type":"StasisEnd","timestamp":"yesterday","channel":{"id":"a"}}`))
	if err != nil || !ev.GetTimestamp().IsZero() || ev.(*StasisEnd).Channel.ID != "a" {
		t.Errorf("bad timestamp: %v %v", ev, err)
	}
}

func TestTime(t *testing.T) {
	cases := map[string]time.Time{
		`"2025-03-14T10:21:03.512+0000"`: time.Date(2025, 3, 14, 10, 21, 3, 512e6, time.UTC),
		`"2025-03-14T10:21:03.512-0500"`: time.Date(2025, 3, 14, 15, 21, 3, 512e6, time.UTC),
		`"2025-03-14T10:21:03+0130"`:     time.Date(2025, 3, 14, 8, 51, 3, 0, time.UTC),
		`"2025-03-14T10:21:03.5Z"`:       time.Date(2025, 3, 14, 10, 21, 3, 5e8, time.UTC),
		`"2025-03-14T10:21:03+02:00"`:    time.Date(2025, 3, 14, 8, 21, 3, 0, time.UTC),
		`""`:                             {},
		`null`:                           {},
		`"2025-02-30T10:21:03.512+0000"`: {}, // invalid date: zero, no error
	}
	for in, want := range cases {
		var tm Time
		if err := json.Unmarshal([]byte(in), &tm); err != nil || !tm.Equal(want) {
			t.Errorf("%s: got %v, %v; want %v", in, tm.Time, err, want)
		}
	}
	b, _ := json.Marshal(Time{time.Date(2025, 3, 14, 10, 21, 3, 512e6, time.FixedZone("", -5*3600))})
	if string(b) != `"2025-03-14T10:21:03.512-0500"` {
		t.Errorf("marshal = %s", b)
	}
	var tm Time
	if err := json.Unmarshal([]byte(`5`), &tm); err == nil {
		t.Error("number accepted as time")
	}
}

func TestChannelIDToleratesEventsWithoutChannel(t *testing.T) {
	for raw, want := range map[string]string{
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b"}}`:                    "",
		`{"type":"ChannelVarset","variable":"X","value":"1"}`:                    "",
		`{"type":"StasisStart","args":[],"channel":{"id":"c1"}}`:                 "c1",
		`{"type":"ChannelLeftBridge","bridge":{"id":"b"},"channel":{"id":"c2"}}`: "c2",
		`{"type":"BridgeDestroyed","bridge":{"id":"b"}}`:                         "",
	} {
		ev, err := DecodeEvent([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if got := ChannelID(ev); got != want {
			t.Errorf("%s: ChannelID = %q, want %q", raw, got, want)
		}
	}
}
