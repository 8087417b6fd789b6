package dialer

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSettingsDefaults(t *testing.T) {
	for _, doc := range []string{``, `{}`, `{"payment":{"x":1}}`, `{"dialer":null}`, `{"dialer":{}}`} {
		s, err := ParseSettings([]byte(doc), "GB")
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if s.Mode != Preview || !s.Active || s.MaxAbandonRate != 0.03 || s.AbandonMessage != "sound:ss-noservice" ||
			s.RingSeconds != 25 || s.MaxAttempts != 3 || s.PreviewTimeout != 30*time.Second || s.AbandonWindow != 24*time.Hour ||
			s.CallbackGrace != 5*time.Minute || s.TimeZone != "Europe/London" || s.RetryDelays[RetryAbandoned] != 72*time.Hour {
			t.Errorf("%q: defaults %+v", doc, s)
		}
		if s.CallingWindow.String() != "09:00-20:00 days 1,2,3,4,5,6" {
			t.Errorf("window %s", s.CallingWindow)
		}
	}
	if s, _ := ParseSettings(nil, "US"); s.TimeZone != "America/New_York" {
		t.Errorf("US default zone %q", s.TimeZone)
	}
}

func TestParseSettingsFull(t *testing.T) {
	s, err := ParseSettings([]byte(`{"dialer":{"mode":"predictive","previewTimeoutSeconds":20,"maxAbandonRate":0.02,
		"abandonWindowMinutes":60,"abandonMessage":"sound:custom/sorry","maxAttempts":5,
		"retryDelays":{"no_answer":1800,"busy":300},"ringSeconds":30,
		"callingWindow":{"start":"08:30","end":"21:00","days":[7,1,2,2]},"timeZone":"America/Chicago",
		"leadLists":[4,2,4],"callbackGraceSeconds":120,"active":false}}`), "GB")
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != Predictive || s.Active || s.PreviewTimeout != 20*time.Second || s.MaxAbandonRate != 0.02 ||
		s.AbandonWindow != time.Hour || s.AbandonMessage != "sound:custom/sorry" || s.MaxAttempts != 5 ||
		s.RetryDelays[RetryNoAnswer] != 30*time.Minute || s.RetryDelays[RetryBusy] != 5*time.Minute ||
		s.RetryDelays[RetryFailed] != time.Hour || s.RingSeconds != 30 || s.TimeZone != "America/Chicago" ||
		len(s.LeadLists) != 2 || s.CallbackGrace != 2*time.Minute {
		t.Errorf("%+v", s)
	}
	if got := s.CallingWindow.String(); got != "08:30-21:00 days 1,2,7" {
		t.Errorf("window %s", got)
	}
}

func TestParseSettingsErrors(t *testing.T) {
	cases := map[string]string{
		`{"mode":"robot"}`:     "mode: must be preview, predictive or progressive",
		`{"ringSeconds":10}`:   "ringSeconds: must be between 15 and 120, not 10",
		`{"maxAbandonRate":3}`: "maxAbandonRate: must be above 0 and at most 0.2",
		`{"callingWindow":{"start":"20:00","end":"09:00"}}`:   "callingWindow: end 09:00 must be after start 20:00",
		`{"callingWindow":{"start":"9am"}}`:                   `callingWindow.start: "9am" is not a time of day HH:MM`,
		`{"callingWindow":{"days":[0,8]}}`:                    "callingWindow.days: 0 is not an ISO weekday",
		`{"callingWindow":{"days":[]}}`:                       "callingWindow.days: must name at least one day",
		`{"retryDelays":{"no_anwser":60}}`:                    "retryDelays.no_anwser: unknown outcome",
		`{"retryDelays":{"busy":5}}`:                          "retryDelays.busy: must be between 60",
		`{"ringSecs":20}`:                                     `unknown field "ringSecs"`,
		`{"ringSeconds":"25"}`:                                "ringSeconds: must be a number, not string",
		`{"timeZone":"Mars/Olympus"}`:                         `timeZone: "Mars/Olympus" is not an IANA time zone`,
		`{"abandonMessage":"ss-noservice"}`:                   "abandonMessage: must be Asterisk media",
		`{"leadLists":[0]}`:                                   "leadLists: 0 is not a list id",
		`{"maxAttempts":0,"previewTimeoutSeconds":1}`:         "maxAttempts: must be between 1 and 50",
		`{"abandonWindowMinutes":5}`:                          "abandonWindowMinutes: must be between 15",
		`{"callbackGraceSeconds":-1}`:                         "callbackGraceSeconds: must be between 0",
		`[1]`:                                                 "dialer settings: must be an object, not array",
		`{"callingWindow":{"start":"10:00","end":"24:00"}}`:   "",
		`{"callingWindow":{"start":"10:00","end":"24:01"}}`:   "callingWindow.end",
		`{"maxAttempts":0,"previewTimeoutSeconds":1} `:        "previewTimeoutSeconds: must be between 5 and 600, not 1",
		`{"mode":"preview","ringSeconds":15,"maxAttempts":1}`: "",
	}
	for in, want := range cases {
		_, err := ParseSettings([]byte(`{"dialer":`+in+`}`), "GB")
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
			continue
		}
		var es SettingsErrors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Errorf("%s: not SettingsErrors: %T", in, err)
		}
	}
	if _, err := ParseSettings([]byte(`not json`), "GB"); err == nil {
		t.Error("bad document accepted")
	}
}

func TestCallingWindowContains(t *testing.T) {
	w := CallingWindow{Start: 9 * time.Hour, End: 20 * time.Hour, Days: []int{1, 2, 3, 4, 5, 6}}
	ny, _ := time.LoadLocation("America/New_York")
	// Tue 2026-03-10 13:30 UTC = 09:30 EDT.
	at := time.Date(2026, 3, 10, 13, 30, 0, 0, time.UTC)
	if !w.Contains(at, ny) || w.Contains(at.Add(-time.Hour), ny) || !w.Contains(at, time.UTC) {
		t.Error("time of day")
	}
	if w.Contains(time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC), time.UTC) { // Sunday
		t.Error("Sunday")
	}
	if w.Contains(time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC), time.UTC) { // end exclusive
		t.Error("end")
	}
}

func TestParseSettingsAMDAndDailyCap(t *testing.T) {
	s, err := ParseSettings([]byte(`{"dialer":{"amd":{"enabled":true,"onMachine":"message","message":"sound:custom/missed-you",
		"falsePositiveShare":0.02},"maxDailyAttemptsPerNumber":3}}`), "GB")
	if err != nil {
		t.Fatal(err)
	}
	if !s.AMD.Enabled || s.AMD.OnMachine != OnMachineMessage || s.AMD.machineMessage() != "custom/missed-you" ||
		s.AMD.FalsePositiveShare != 0.02 || s.MaxDailyAttemptsPerNumber != 3 || s.AMD.grace() != 1200*time.Millisecond {
		t.Errorf("parsed %+v", s)
	}
	if d := DefaultSettings(); d.AMD.Enabled || d.AMD.OnMachine != OnMachineHangup || d.AMD.FalsePositiveShare != DefaultAMDFalsePositiveShare ||
		d.AMD.machineMessage() != "" || d.MaxDailyAttemptsPerNumber != 0 {
		t.Errorf("defaults %+v", d)
	}
	_, err = ParseSettings([]byte(`{"dialer":{"amd":{"onMachine":"voicemail","message":"tone:1","falsePositiveShare":0.9},
		"maxDailyAttemptsPerNumber":-1}}`), "GB")
	var es SettingsErrors
	if !errors.As(err, &es) {
		t.Fatalf("err %v", err)
	}
	fields := map[string]bool{}
	for _, e := range es {
		fields[e.Field] = true
	}
	for _, f := range []string{"amd.onMachine", "amd.message", "amd.falsePositiveShare", "maxDailyAttemptsPerNumber"} {
		if !fields[f] {
			t.Errorf("no error on %s: %v", f, err)
		}
	}
	if _, err := ParseSettings([]byte(`{"dialer":{"amd":{"enabled":true,"onMachine":"message"}}}`), "GB"); err == nil ||
		!strings.Contains(err.Error(), "amd.message") {
		t.Errorf("message mode without a message: %v", err)
	}
}
