package ari

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// checkSame fails if the fast path accepted data but encoding/json gives a
// different result (or an error).
func checkSame(t testing.TB, data []byte) (fast bool) {
	t.Helper()
	fev, ok := fastDecode(data)
	if !ok {
		return false
	}
	sev, err := decodeStd(data)
	if err != nil {
		t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, data)
	}
	if !reflect.DeepEqual(fev, sev) {
		t.Fatalf("fast and std differ for %q:\nfast %+v\nstd  %+v", data, fev, sev)
	}
	return true
}

func TestFastDecodeMatchesStd(t *testing.T) {
	for name, data := range loadSamples(t) {
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatal(err)
		}
		typ, _, _ := strings.Cut(name, "_")
		for _, in := range [][]byte{data, compact.Bytes()} {
			fast := checkSame(t, in)
			if fast != isHot(typ) {
				t.Errorf("%s: fast path used = %v, want %v", name, fast, isHot(typ))
			}
		}
	}
	for _, in := range trickyInputs {
		checkSame(t, []byte(in))
		// And DecodeEvent must agree with encoding/json on success/failure.
		ev, err := DecodeEvent([]byte(in))
		sev, serr := decodeStd([]byte(in))
		if (err == nil) != (serr == nil) || !reflect.DeepEqual(ev, sev) {
			t.Errorf("%s: DecodeEvent = %+v, %v; std = %+v, %v", in, ev, err, sev, serr)
		}
	}
}

// trickyInputs must be declined by the fast path or decoded exactly like
// encoding/json does.
var trickyInputs = []string{
	`{"type":"StasisEnd","channel":{"ID":"upper"}}`,
	`{"type":"StasisEnd","channel":{"id":"a","id":"b"}}`,
	`{"type":"StasisEnd","type":"StasisStart","args":[]}`,
	`{"type":"StasisEnd","channel":null}`,
	`{"type":"StasisEnd","channel":{"id":"a\"b"}}`,
	`{"type":"StasisEnd","channel":{"id":"\u00e9"}}`,
	"{\"type\":\"StasisEnd\",\"channel\":{\"id\":\"\xff\"}}",
	"{\"type\":\"StasisEnd\",\"channel\":{\"id\":\"é\"}}",
	`{"type":"ChannelDtmfReceived","duration_ms":1.5}`,
	`{"type":"ChannelDtmfReceived","duration_ms":1e3}`,
	`{"type":"ChannelDtmfReceived","duration_ms":-0}`,
	`{"type":"ChannelDtmfReceived","duration_ms":99999999999999999999}`,
	`{"type":"ChannelDtmfReceived","duration_ms":012}`,
	`{"type":"ChannelHangupRequest","soft":"true"}`,
	`{"type":"ChannelHangupRequest","soft":true,"x":[1,2.5e-3,{"a":[[]]},"s",false]}`,
	`{"type":"StasisStart","args":["a",1]}`,
	`{"type":"StasisStart","args":[]} x`,
	`{"type":"StasisStart","args":[],}`,
	`{"type":"StasisStart","channel":{"channelvars":{"A":"1","A":"2","b c":""}}}`,
	`{"type":"StasisStart","timestamp":"2025-03-14T10:21:03Z"}`,
	`{"type":"StasisStart","timestamp":"nope"}`,
	`{"type":"StasisStart","timestamp":""}`,
	`{"type":"ChannelVarset","variable":"X","value":""}`,
	`{"type":"ChannelEnteredBridge","bridge":{"channels":[]}}`,
	`{"type":"Dial","peer":{},"caller":{},"forwarded":{"id":"f"}}`,
	`{"type":"PlaybackStarted","playback":{"id":"p","state":"playing"}}`,
	`{"type":"PlaybackStarted","playback":{"id":"p"},"channel":7}`,
	`  {"type":"StasisEnd"}  `,
	`{"type":"StasisEnd","deep":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
}

func FuzzDecodeEvent(f *testing.F) {
	for _, data := range loadSamples(f) {
		f.Add(data)
		var c bytes.Buffer
		_ = json.Compact(&c, data)
		f.Add(c.Bytes())
	}
	for _, in := range trickyInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if (ev == nil) == (err == nil) {
			t.Fatalf("DecodeEvent(%q) = %v, %v", data, ev, err)
		}
		checkSame(t, data)
		if ev == nil {
			return
		}
		_, _, _ = ev.GetType(), ev.GetApplication(), ev.GetTimestamp()
		if ev.GetType() == "" {
			t.Fatalf("empty type from %q", data)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("re-encoding %T: %v", ev, err)
		}
	})
}
