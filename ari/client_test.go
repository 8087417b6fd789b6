package ari

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNewConfig(t *testing.T) {
	for _, cfg := range []Config{
		{App: "a"},
		{URL: "http://h:8088"},
		{URL: "ftp://h", App: "a"},
		{URL: "http://", App: "a"},
		{URL: "::", App: "a"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	for in, want := range map[string]string{
		"http://127.0.0.1:8088":      "http://127.0.0.1:8088/ari",
		"http://127.0.0.1:8088/":     "http://127.0.0.1:8088/ari",
		"https://pbx/ari":            "https://pbx/ari",
		"http://pbx/asterisk/ari/?x": "http://pbx/asterisk/ari",
	} {
		c, err := New(Config{URL: in, App: "ctid", Username: "u", Password: "p:x"})
		if err != nil {
			t.Fatal(err)
		}
		if c.base != want {
			t.Errorf("%s: base %s, want %s", in, c.base, want)
		}
		if !strings.HasSuffix(c.wsURL, "/ari/events?app=ctid&api_key=u:p%3Ax") || !strings.HasPrefix(c.wsURL, "ws") {
			t.Errorf("%s: ws %s", in, c.wsURL)
		}
	}
}

func TestRESTEncoding(t *testing.T) {
	f := newFakeARI(t)
	c := f.client()
	ctx := context.Background()
	type call struct {
		name                      string
		do                        func() error
		method, path, query, body string
	}
	ignore := func(_ any, err error) error { return err }
	calls := []call{
		{"originate app", func() error {
			return ignore(c.Channels.Originate(ctx, OriginateRequest{
				Endpoint: "PJSIP/1001", App: "ctid", AppArgs: []string{"agent", "call 7"},
				CallerID: `"Cust" <+4412>`, Timeout: -1, ChannelID: "ch-1", OtherChannelID: "ch-1b",
				Originator: "cust-1", Formats: []string{"ulaw", "alaw"}, Variables: map[string]string{"CTI_CALL_ID": "c7"},
			}))
		}, "POST", "/channels",
			"endpoint=PJSIP%2F1001&app=ctid&appArgs=agent%2Ccall%207&callerId=%22Cust%22%20%3C%2B4412%3E&timeout=-1&channelId=ch-1&otherChannelId=ch-1b&originator=cust-1&formats=ulaw%2Calaw",
			`{"variables":{"CTI_CALL_ID":"c7"}}`},
		{"originate dialplan", func() error {
			return ignore(c.Channels.Originate(ctx, OriginateRequest{Endpoint: "Local/s@cust", Context: "cust", Extension: "s", Priority: 1, Label: "go"}))
		}, "POST", "/channels", "endpoint=Local%2Fs%40cust&context=cust&extension=s&priority=1&label=go", ""},
		{"create", func() error {
			return ignore(c.Channels.Create(ctx, CreateRequest{Endpoint: "PJSIP/1001", App: "ctid", AppArgs: []string{"x"}, ChannelID: "a1", Originator: "o"}))
		}, "POST", "/channels/create", "endpoint=PJSIP%2F1001&app=ctid&appArgs=x&channelId=a1&originator=o", ""},
		{"dial", func() error { return c.Channels.Dial(ctx, "a1", "cust-1", 20) }, "POST", "/channels/a1/dial", "caller=cust-1&timeout=20", ""},
		{"get", func() error { return ignore(c.Channels.Get(ctx, "1741947663.42")) }, "GET", "/channels/1741947663.42", "", ""},
		{"get local", func() error { return ignore(c.Channels.Get(ctx, "x;2")) }, "GET", "/channels/x;2", "", ""},
		{"list", func() error { return ignore(c.Channels.List(ctx)) }, "GET", "/channels", "", ""},
		{"hangup", func() error { return c.Channels.Hangup(ctx, "a1", "busy") }, "DELETE", "/channels/a1", "reason=busy", ""},
		{"hangup plain", func() error { return c.Channels.Hangup(ctx, "a1", "") }, "DELETE", "/channels/a1", "", ""},
		{"answer", func() error { return c.Channels.Answer(ctx, "a1") }, "POST", "/channels/a1/answer", "", ""},
		{"ring", func() error { return c.Channels.Ring(ctx, "a1") }, "POST", "/channels/a1/ring", "", ""},
		{"ringstop", func() error { return c.Channels.RingStop(ctx, "a1") }, "DELETE", "/channels/a1/ring", "", ""},
		{"progress", func() error { return c.Channels.Progress(ctx, "a1") }, "POST", "/channels/a1/progress", "", ""},
		{"hold", func() error { return c.Channels.Hold(ctx, "a1") }, "POST", "/channels/a1/hold", "", ""},
		{"unhold", func() error { return c.Channels.Unhold(ctx, "a1") }, "DELETE", "/channels/a1/hold", "", ""},
		{"moh", func() error { return c.Channels.MOH(ctx, "a1", "jazz") }, "POST", "/channels/a1/moh", "mohClass=jazz", ""},
		{"stopmoh", func() error { return c.Channels.StopMOH(ctx, "a1") }, "DELETE", "/channels/a1/moh", "", ""},
		{"silence", func() error { return c.Channels.Silence(ctx, "a1") }, "POST", "/channels/a1/silence", "", ""},
		{"stopsilence", func() error { return c.Channels.StopSilence(ctx, "a1") }, "DELETE", "/channels/a1/silence", "", ""},
		{"mute", func() error { return c.Channels.Mute(ctx, "a1", DirectionIn) }, "POST", "/channels/a1/mute", "direction=in", ""},
		{"unmute", func() error { return c.Channels.Unmute(ctx, "a1", DirectionIn) }, "DELETE", "/channels/a1/mute", "direction=in", ""},
		{"dtmf", func() error {
			return c.Channels.SendDTMF(ctx, "a1", DTMFOptions{Digits: "12#", Between: 100, Duration: 120})
		}, "POST", "/channels/a1/dtmf", "dtmf=12%23&between=100&duration=120", ""},
		{"play", func() error { return ignore(c.Channels.Play(ctx, "a1", "pb-1", "sound:beep", "number:3")) },
			"POST", "/channels/a1/play", "media=sound%3Abeep%2Cnumber%3A3&playbackId=pb-1", ""},
		{"record", func() error {
			return ignore(c.Channels.Record(ctx, "snoop-1", RecordRequest{Name: "rec-1", Format: "wav", MaxDurationSeconds: 3600, IfExists: "overwrite", Beep: true, TerminateOn: "none"}))
		}, "POST", "/channels/snoop-1/record", "name=rec-1&format=wav&maxDurationSeconds=3600&ifExists=overwrite&beep=true&terminateOn=none", ""},
		{"snoop", func() error {
			return ignore(c.Channels.Snoop(ctx, "a1", SnoopRequest{SnoopID: "sn-1", Spy: "both", App: "ctid", AppArgs: []string{"snoop", "a1"}}))
		}, "POST", "/channels/a1/snoop", "spy=both&app=ctid&appArgs=snoop%2Ca1&snoopId=sn-1", ""},
		{"continue", func() error { return c.Channels.Continue(ctx, "a1", "wf", "s", 1, "") }, "POST", "/channels/a1/continue", "context=wf&extension=s&priority=1", ""},
		{"move", func() error { return c.Channels.Move(ctx, "a1", "other", []string{"x", "y"}) }, "POST", "/channels/a1/move", "app=other&appArgs=x%2Cy", ""},
		{"redirect", func() error { return c.Channels.Redirect(ctx, "a1", "PJSIP/2002") }, "POST", "/channels/a1/redirect", "endpoint=PJSIP%2F2002", ""},
		{"getvar", func() error { return ignore(c.Channels.GetVar(ctx, "a1", "CDR(src)")) }, "GET", "/channels/a1/variable", "variable=CDR%28src%29", ""},
		{"setvar", func() error { return c.Channels.SetVar(ctx, "a1", "CTI_CALL_ID", "c 7") }, "POST", "/channels/a1/variable", "variable=CTI_CALL_ID&value=c%207", ""},
		{"unsetvar", func() error { return c.Channels.SetVar(ctx, "a1", "X", "") }, "POST", "/channels/a1/variable", "variable=X", ""},
		{"setreportedvar", func() error { return c.Channels.SetReportedVar(ctx, "a1", "CTI_CALL_ID", "c7") }, "POST", "/channels/a1/variable", "variable=CTI_CALL_ID&value=c7&report_events=true", ""},
		{"create reported vars", func() error {
			return ignore(c.Channels.Create(ctx, CreateRequest{Endpoint: "PJSIP/1001", App: "ctid", ReportedVariables: map[string]string{"CTI_CALL_ID": "c7"}}))
		}, "POST", "/channels/create", "endpoint=PJSIP%2F1001&app=ctid", `{"variables":{"CTI_CALL_ID":{"value":"c7","report_events":true}}}`},
		{"transfer progress", func() error { return c.Channels.TransferProgress(ctx, "a1", "channel_answered") }, "POST", "/channels/a1/transfer_progress", "states=channel_answered", ""},

		{"bridge create", func() error {
			return ignore(c.Bridges.Create(ctx, BridgeRequest{ID: "agent-1001", Types: []string{BridgeMixing, BridgeDTMFEvents}, Name: "Agent 1001"}))
		}, "POST", "/bridges", "type=mixing%2Cdtmf_events&bridgeId=agent-1001&name=Agent%201001", ""},
		{"bridge get", func() error { return ignore(c.Bridges.Get(ctx, "b1")) }, "GET", "/bridges/b1", "", ""},
		{"bridge list", func() error { return ignore(c.Bridges.List(ctx)) }, "GET", "/bridges", "", ""},
		{"bridge destroy", func() error { return c.Bridges.Destroy(ctx, "b1") }, "DELETE", "/bridges/b1", "", ""},
		{"addChannel", func() error {
			return c.Bridges.AddChannel(ctx, "b1", AddChannelRequest{Channels: []string{"c1", "c2"}, Role: "participant", AbsorbDTMF: true, InhibitConnectedLineUpdates: true})
		}, "POST", "/bridges/b1/addChannel", "channel=c1%2Cc2&role=participant&absorbDTMF=true&inhibitConnectedLineUpdates=true", ""},
		{"removeChannel", func() error { return c.Bridges.RemoveChannel(ctx, "b1", "c1") }, "POST", "/bridges/b1/removeChannel", "channel=c1", ""},
		{"bridge moh", func() error { return c.Bridges.MOH(ctx, "b1", "") }, "POST", "/bridges/b1/moh", "", ""},
		{"bridge stopmoh", func() error { return c.Bridges.StopMOH(ctx, "b1") }, "DELETE", "/bridges/b1/moh", "", ""},
		{"bridge play", func() error { return ignore(c.Bridges.Play(ctx, "b1", "", "sound:beep")) }, "POST", "/bridges/b1/play", "media=sound%3Abeep", ""},
		{"bridge record", func() error { return ignore(c.Bridges.Record(ctx, "b1", RecordRequest{Name: "r", Format: "wav"})) }, "POST", "/bridges/b1/record", "name=r&format=wav", ""},

		{"playback get", func() error { return ignore(c.Playbacks.Get(ctx, "pb-1")) }, "GET", "/playbacks/pb-1", "", ""},
		{"playback stop", func() error { return c.Playbacks.Stop(ctx, "pb-1") }, "DELETE", "/playbacks/pb-1", "", ""},
		{"playback control", func() error { return c.Playbacks.Control(ctx, "pb-1", PlaybackPause) }, "POST", "/playbacks/pb-1/control", "operation=pause", ""},

		{"rec getlive", func() error { return ignore(c.Recordings.GetLive(ctx, "r1")) }, "GET", "/recordings/live/r1", "", ""},
		{"rec stop", func() error { return c.Recordings.Stop(ctx, "r1") }, "POST", "/recordings/live/r1/stop", "", ""},
		{"rec cancel", func() error { return c.Recordings.Cancel(ctx, "r1") }, "DELETE", "/recordings/live/r1", "", ""},
		{"rec pause", func() error { return c.Recordings.Pause(ctx, "r1") }, "POST", "/recordings/live/r1/pause", "", ""},
		{"rec unpause", func() error { return c.Recordings.Unpause(ctx, "r1") }, "DELETE", "/recordings/live/r1/pause", "", ""},
		{"rec mute", func() error { return c.Recordings.Mute(ctx, "r1") }, "POST", "/recordings/live/r1/mute", "", ""},
		{"rec unmute", func() error { return c.Recordings.Unmute(ctx, "r1") }, "DELETE", "/recordings/live/r1/mute", "", ""},
		{"rec getstored", func() error { return ignore(c.Recordings.GetStored(ctx, "r1")) }, "GET", "/recordings/stored/r1", "", ""},
		{"rec liststored", func() error { return ignore(c.Recordings.ListStored(ctx)) }, "GET", "/recordings/stored", "", ""},
		{"rec deletestored", func() error { return c.Recordings.DeleteStored(ctx, "r1") }, "DELETE", "/recordings/stored/r1", "", ""},
		{"rec copy", func() error { return ignore(c.Recordings.CopyStored(ctx, "r1", "r2")) }, "POST", "/recordings/stored/r1/copy", "destinationRecordingName=r2", ""},

		{"endpoints list", func() error { return ignore(c.Endpoints.List(ctx)) }, "GET", "/endpoints", "", ""},
		{"endpoints tech", func() error { return ignore(c.Endpoints.ListByTech(ctx, "PJSIP")) }, "GET", "/endpoints/PJSIP", "", ""},
		{"endpoint get", func() error { return ignore(c.Endpoints.Get(ctx, "PJSIP", "1001")) }, "GET", "/endpoints/PJSIP/1001", "", ""},
		{"devstate list", func() error { return ignore(c.DeviceStates.List(ctx)) }, "GET", "/deviceStates", "", ""},
		{"devstate get", func() error { return ignore(c.DeviceStates.Get(ctx, "Stasis:agent-1001")) }, "GET", "/deviceStates/Stasis:agent-1001", "", ""},
		{"devstate put", func() error { return c.DeviceStates.Put(ctx, "Stasis:agent-1001", DeviceInUse) }, "PUT", "/deviceStates/Stasis:agent-1001", "deviceState=INUSE", ""},
		{"devstate delete", func() error { return c.DeviceStates.Delete(ctx, "Stasis:agent-1001") }, "DELETE", "/deviceStates/Stasis:agent-1001", "", ""},
		{"info", func() error { return ignore(c.Asterisk.Info(ctx, "status", "system")) }, "GET", "/asterisk/info", "only=status%2Csystem", ""},
		{"ping", func() error { return ignore(c.Asterisk.Ping(ctx)) }, "GET", "/asterisk/ping", "", ""},
		{"global getvar", func() error { return ignore(c.Asterisk.GetVar(ctx, "MODE")) }, "GET", "/asterisk/variable", "variable=MODE", ""},
		{"global setvar", func() error { return c.Asterisk.SetVar(ctx, "MODE", "day") }, "POST", "/asterisk/variable", "variable=MODE&value=day", ""},
		{"apps list", func() error { return ignore(c.Applications.List(ctx)) }, "GET", "/applications", "", ""},
		{"app get", func() error { return ignore(c.Applications.Get(ctx, "ctid")) }, "GET", "/applications/ctid", "", ""},
		{"subscribe", func() error { return ignore(c.Applications.Subscribe(ctx, "ctid", "channel:a1", "bridge:b1")) },
			"POST", "/applications/ctid/subscription", "eventSource=channel%3Aa1%2Cbridge%3Ab1", ""},
		{"unsubscribe", func() error { return ignore(c.Applications.Unsubscribe(ctx, "ctid", "endpoint:PJSIP/1001")) },
			"DELETE", "/applications/ctid/subscription", "eventSource=endpoint%3APJSIP%2F1001", ""},
	}
	for _, tc := range calls {
		f.reset()
		if err := tc.do(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		reqs := f.requests()
		if len(reqs) != 1 {
			t.Errorf("%s: %d requests", tc.name, len(reqs))
			continue
		}
		got := reqs[0]
		want := recorded{tc.method, tc.path, tc.query, tc.body}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, want)
		}
		// The query must also be what ARI's own parser would read.
		if _, err := url.ParseQuery(got.Query); err != nil {
			t.Errorf("%s: bad query: %v", tc.name, err)
		}
	}
}

func TestRESTDecoding(t *testing.T) {
	f := newFakeARI(t)
	c := f.client()
	ctx := context.Background()
	f.reply("POST /channels", 200, `{"id":"ch-1","name":"PJSIP/1001-00000001","state":"Down","caller":{"name":"","number":""},"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context":"default","exten":"s","priority":1,"app_name":"","app_data":""},"creationtime":"2025-03-14T10:00:00.000+0000","language":"en"}`)
	ch, err := c.Channels.Originate(ctx, OriginateRequest{Endpoint: "PJSIP/1001", App: "ctid"})
	if err != nil || ch.ID != "ch-1" || ch.Creationtime.IsZero() {
		t.Fatalf("originate = %+v, %v", ch, err)
	}
	f.reply("GET /channels/a1/variable", 200, `{"value":"c7"}`)
	if v, err := c.Channels.GetVar(ctx, "a1", "CTI_CALL_ID"); v != "c7" || err != nil {
		t.Errorf("GetVar = %q, %v", v, err)
	}
	f.reply("GET /bridges", 200, `[{"id":"b1","bridge_class":"stasis","channels":["a","b"]},{"id":"b2","channels":[]}]`)
	if bs, err := c.Bridges.List(ctx); err != nil || len(bs) != 2 || bs[0].Channels[1] != "b" {
		t.Errorf("bridges = %+v, %v", bs, err)
	}
	f.reply("GET /recordings/stored/r1/file", 200, "RIFF....WAVE")
	rc, err := c.Recordings.DownloadStored(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "RIFF....WAVE" {
		t.Errorf("download = %q", data)
	}
	f.reply("GET /channels/bad", 200, `{"id":`)
	if _, err := c.Channels.Get(ctx, "bad"); err == nil {
		t.Error("truncated JSON accepted")
	}
}

func TestErrorMapping(t *testing.T) {
	f := newFakeARI(t)
	c := f.client()
	ctx := context.Background()
	cases := []struct {
		status int
		body   string
		is     error
		msg    string
	}{
		{404, `{"message":"Channel not found"}`, ErrNotFound, "Channel not found"},
		{409, `{"message":"Channel not in Stasis application"}`, ErrConflict, "Channel not in Stasis application"},
		{400, `{"message":"Invalid type"}`, ErrBadRequest, "Invalid type"},
		{422, `{"message":"Endpoint not found"}`, ErrBadRequest, "Endpoint not found"},
		{503, `{"error":"Service Unavailable"}`, ErrUnavailable, "Service Unavailable"},
		{401, `{"error":"Authentication required"}`, ErrUnauthorized, "Authentication required"},
		{500, `oops`, nil, "oops"},
	}
	all := []error{ErrNotFound, ErrConflict, ErrBadRequest, ErrUnavailable, ErrUnauthorized}
	for _, tc := range cases {
		f.reply("POST /channels/a1/answer", tc.status, tc.body)
		err := c.Channels.Answer(ctx, "a1")
		var ae *Error
		if !errors.As(err, &ae) || ae.Status != tc.status || ae.Message != tc.msg || ae.Op != "Channels.Answer" {
			t.Errorf("%d: %#v", tc.status, err)
			continue
		}
		for _, s := range all {
			if errors.Is(err, s) != (s == tc.is) {
				t.Errorf("%d: errors.Is(%v) = %v", tc.status, s, !(s == tc.is))
			}
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%d: message %q", tc.status, err)
		}
	}

	// Connection refused → ErrUnavailable.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	dead, _ := New(Config{URL: "http://" + addr, App: "ctid"})
	err := dead.Channels.Answer(ctx, "a1")
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("refused: %v", err)
	}
	// A cancelled context is a context error, not ErrUnavailable.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = c.Channels.Answer(cctx, "a1")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Errorf("canceled: %v", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	slow := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block })}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go slow.Serve(l)
	defer slow.Close()
	c, _ := New(Config{URL: "http://" + l.Addr().String(), App: "ctid", RequestTimeout: 50 * time.Millisecond})
	start := time.Now()
	err := c.Channels.Answer(context.Background(), "a1")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("timeout: %v after %v", err, time.Since(start))
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^br-[0-9a-hjkmnp-tv-z]{16}$`)
	seen := map[string]bool{}
	for range 10000 {
		id := NewID("br")
		if !re.MatchString(id) || url.PathEscape(id) != id {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate %q", id)
		}
		seen[id] = true
	}
	if id := NewID(""); len(id) != 16 {
		t.Errorf("NewID(\"\") = %q", id)
	}
}
