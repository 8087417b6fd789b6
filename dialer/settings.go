package dialer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/ctid/ctid/dialer/leads"
	"github.com/ctid/ctid/dialer/pacing"
)

// Mode is how a campaign dials.
type Mode string

// Dialling modes.
const (
	// Preview offers each lead to a Ready agent, who clicks a number (or
	// skips); the first number is dialled when the offer times out.
	Preview Mode = "preview"
	// Predictive dials ahead of agents becoming free (dialer/pacing
	// Predictive), falling back to progressive when the abandon cap is at
	// risk. Needs agents with a persistent connection.
	Predictive Mode = "predictive"
	// Progressive dials one call per free persistent agent.
	Progressive Mode = "progressive"
)

// Outcome keys of RetryDelays.
const (
	RetryNoAnswer  = "no_answer"
	RetryBusy      = "busy"
	RetryFailed    = "failed"
	RetryAbandoned = "abandoned"
	RetrySkipped   = "skipped"
)

// Settings are a campaign's dialler settings, from campaigns.settings →
// "dialer".
type Settings struct {
	Mode Mode
	// Active false pauses the campaign's dialling (callbacks still run).
	Active bool
	// PreviewTimeout: how long a preview offer waits for the agent before
	// the first number is dialled.
	PreviewTimeout time.Duration
	// MaxAbandonRate is the cap on abandoned / answered over AbandonWindow.
	MaxAbandonRate float64
	AbandonWindow  time.Duration
	// AbandonMessage is the Asterisk media played to an answered contact
	// when no agent is free.
	AbandonMessage string
	// MaxAttempts limits the dials of a lead (any of its numbers).
	MaxAttempts int
	// RetryDelays by outcome (RetryNoAnswer, RetryBusy, RetryFailed,
	// RetryAbandoned, RetrySkipped).
	RetryDelays map[string]time.Duration
	// RingSeconds is how long a number rings before giving up (>= 15).
	RingSeconds int
	// CallingWindow is when leads may be called, in each lead's time zone.
	CallingWindow CallingWindow
	// TimeZone applies to leads (and callbacks) whose own zone is unknown;
	// by default the zone of the campaign's default region.
	TimeZone string
	// LeadLists restricts dialling to these lists of the campaign (empty:
	// every active list).
	LeadLists []int64
	// CallbackGrace is how long a due callback waits for its owning agent
	// before it goes to any Ready agent on the campaign.
	CallbackGrace time.Duration
	// AMD is answering-machine detection on predictive/progressive calls.
	AMD AMDSettings
	// MaxDailyAttemptsPerNumber caps the dials of one number per day (in
	// the campaign's zone), across its leads; 0: no cap.
	MaxDailyAttemptsPerNumber int
}

// What a campaign does with a call AMD says a machine answered.
const (
	OnMachineHangup  = "hangup"  // hang up at once
	OnMachineMessage = "message" // wait for the beep, leave Message, hang up
)

// AMDSettings configure answering-machine detection (Asterisk AMD() in the
// [dialer-amd] dialplan context; asterisk-conf/amd.conf).
type AMDSettings struct {
	Enabled   bool
	OnMachine string // OnMachineHangup or OnMachineMessage
	Message   string // "sound:NAME" left after the beep (OnMachineMessage)
	// FalsePositiveShare is the estimated share of machine verdicts that
	// were people (found by listening to a sample of them): Ofcom counts
	// them as abandoned calls, so the cap and the pacer count this share of
	// machine verdicts as answered and abandoned.
	FalsePositiveShare float64
}

// AMDAfterGreetingSilence is amd.conf's after_greeting_silence: AMD says
// HUMAN only after this much silence following the greeting, and the
// regulators' 2 s run from the end of the greeting, so an agent must be
// found within AbandonGrace − this once AMD answers.
const AMDAfterGreetingSilence = 800 * time.Millisecond

func (a AMDSettings) grace() time.Duration { return pacing.AbandonGrace - AMDAfterGreetingSilence }

// machineMessage is the sound name [dialer-amd-message] plays, "" to hang up.
func (a AMDSettings) machineMessage() string {
	if a.OnMachine != OnMachineMessage {
		return ""
	}
	return strings.TrimPrefix(a.Message, "sound:")
}

// DefaultAMDFalsePositiveShare applies until a campaign measures its own.
const DefaultAMDFalsePositiveShare = 0.05

// CallingWindow is a daily time range on some days of the week, local to
// the called person.
type CallingWindow struct {
	Start, End time.Duration // since local midnight; Start < End
	Days       []int         // ISO weekdays: 1 Monday … 7 Sunday
}

// Contains reports whether t, in zone loc, is inside the window.
func (w CallingWindow) Contains(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	wd := int(lt.Weekday())
	if wd == 0 {
		wd = 7
	}
	if !slices.Contains(w.Days, wd) {
		return false
	}
	since := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	return since >= w.Start && since < w.End
}

// String renders the window as in the settings ("09:00-20:00 days 1,2,3").
func (w CallingWindow) String() string {
	d := make([]string, len(w.Days))
	for i, x := range w.Days {
		d[i] = strconv.Itoa(x)
	}
	return fmt.Sprintf("%s-%s days %s", clock(w.Start), clock(w.End), strings.Join(d, ","))
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// Defaults.
const (
	DefaultPreviewTimeout = 30 * time.Second
	DefaultAbandonWindow  = 24 * time.Hour
	DefaultAbandonMessage = "sound:ss-noservice"
	DefaultMaxAttempts    = 3
	DefaultRingSeconds    = 25
	MinRingSeconds        = 15
	DefaultCallbackGrace  = 5 * time.Minute
)

// DefaultRetryDelays apply to outcomes the settings leave out. An abandoned
// contact is not called again for 72 hours (Ofcom: a repeat call within 72 h
// needs a guaranteed live agent).
var DefaultRetryDelays = map[string]time.Duration{
	RetryNoAnswer:  time.Hour,
	RetryBusy:      15 * time.Minute,
	RetryFailed:    time.Hour,
	RetryAbandoned: 72 * time.Hour,
	RetrySkipped:   time.Hour,
}

// DefaultSettings are the settings of a campaign without a "dialer" key.
func DefaultSettings() Settings {
	s, _ := parseDialer(nil, "GB")
	return s
}

// SettingsError is one problem with a campaign's dialler settings.
type SettingsError struct {
	Field   string // JSON path under "dialer", e.g. "callingWindow.start"
	Problem string
}

func (e *SettingsError) Error() string {
	if e.Field == "" {
		return "dialer settings: " + e.Problem
	}
	return fmt.Sprintf("dialer settings: %s: %s", e.Field, e.Problem)
}

// SettingsErrors lists every problem found; it is the error ParseSettings
// returns (use errors.As to get at the fields).
type SettingsErrors []*SettingsError

func (es SettingsErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

type rawWindow struct {
	Start *string `json:"start"`
	End   *string `json:"end"`
	Days  []int   `json:"days"`
}

type rawSettings struct {
	Mode                  *string        `json:"mode"`
	Active                *bool          `json:"active"`
	PreviewTimeoutSeconds *int           `json:"previewTimeoutSeconds"`
	MaxAbandonRate        *float64       `json:"maxAbandonRate"`
	AbandonWindowMinutes  *int           `json:"abandonWindowMinutes"`
	AbandonMessage        *string        `json:"abandonMessage"`
	MaxAttempts           *int           `json:"maxAttempts"`
	RetryDelays           map[string]int `json:"retryDelays"`
	RingSeconds           *int           `json:"ringSeconds"`
	CallingWindow         *rawWindow     `json:"callingWindow"`
	TimeZone              *string        `json:"timeZone"`
	LeadLists             []int64        `json:"leadLists"`
	CallbackGraceSeconds  *int           `json:"callbackGraceSeconds"`
	AMD                   *rawAMD        `json:"amd"`
	MaxDailyAttempts      *int           `json:"maxDailyAttemptsPerNumber"`
}

type rawAMD struct {
	Enabled            *bool    `json:"enabled"`
	OnMachine          *string  `json:"onMachine"`
	Message            *string  `json:"message"`
	FalsePositiveShare *float64 `json:"falsePositiveShare"`
}

// ParseSettings reads the "dialer" key of a campaign's settings document
// (the whole campaigns.settings jsonb). A missing key gives the defaults;
// region is the campaign's default_region, used for the default time zone.
// Unknown fields and out-of-range values are errors (SettingsErrors).
func ParseSettings(settings []byte, region string) (Settings, error) {
	var doc map[string]json.RawMessage
	if len(bytes.TrimSpace(settings)) > 0 {
		if err := json.Unmarshal(settings, &doc); err != nil {
			return Settings{}, SettingsErrors{{Field: "", Problem: "settings are not a JSON object: " + err.Error()}}
		}
	}
	return parseDialer(doc["dialer"], region)
}

func parseDialer(raw json.RawMessage, region string) (Settings, error) {
	var r rawSettings
	var errs SettingsErrors
	bad := func(field, format string, a ...any) {
		errs = append(errs, &SettingsError{Field: field, Problem: fmt.Sprintf(format, a...)})
	}
	if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				bad(te.Field, "must be %s, not %s", jsonKind(te.Type.String()), te.Value)
			} else {
				bad("", "%s", strings.TrimPrefix(err.Error(), "json: "))
			}
			return Settings{}, errs
		}
	}
	s := Settings{
		Mode:           Preview,
		Active:         true,
		PreviewTimeout: DefaultPreviewTimeout,
		MaxAbandonRate: pacing.DefaultCap,
		AbandonWindow:  DefaultAbandonWindow,
		AbandonMessage: DefaultAbandonMessage,
		MaxAttempts:    DefaultMaxAttempts,
		RetryDelays:    map[string]time.Duration{},
		RingSeconds:    DefaultRingSeconds,
		CallingWindow:  CallingWindow{Start: 9 * time.Hour, End: 20 * time.Hour, Days: []int{1, 2, 3, 4, 5, 6}},
		CallbackGrace:  DefaultCallbackGrace,
	}
	if r.Mode != nil {
		switch m := Mode(*r.Mode); m {
		case Preview, Predictive, Progressive:
			s.Mode = m
		default:
			bad("mode", "must be preview, predictive or progressive, not %q", *r.Mode)
		}
	}
	if r.Active != nil {
		s.Active = *r.Active
	}
	if v := r.PreviewTimeoutSeconds; v != nil {
		if *v < 5 || *v > 600 {
			bad("previewTimeoutSeconds", "must be between 5 and 600, not %d", *v)
		}
		s.PreviewTimeout = time.Duration(*v) * time.Second
	}
	if v := r.MaxAbandonRate; v != nil {
		if *v <= 0 || *v > 0.2 {
			bad("maxAbandonRate", "must be above 0 and at most 0.2 (a fraction: 0.03 is 3%%), not %g", *v)
		}
		s.MaxAbandonRate = *v
	}
	if v := r.AbandonWindowMinutes; v != nil {
		if *v < 15 || *v > 60*24*31 {
			bad("abandonWindowMinutes", "must be between 15 and 44640 (31 days), not %d", *v)
		}
		s.AbandonWindow = time.Duration(*v) * time.Minute
	}
	if v := r.AbandonMessage; v != nil {
		m := strings.TrimSpace(*v)
		if !validMedia(m) {
			bad("abandonMessage", "must be Asterisk media such as \"sound:ss-noservice\" (sound:, recording:, tone:, digits:, number:), not %q", *v)
		}
		s.AbandonMessage = m
	}
	if v := r.MaxAttempts; v != nil {
		if *v < 1 || *v > 50 {
			bad("maxAttempts", "must be between 1 and 50, not %d", *v)
		}
		s.MaxAttempts = *v
	}
	for k, d := range DefaultRetryDelays {
		s.RetryDelays[k] = d
	}
	for k, v := range r.RetryDelays {
		if _, ok := DefaultRetryDelays[k]; !ok {
			bad("retryDelays."+k, "unknown outcome (use no_answer, busy, failed, abandoned, skipped)")
			continue
		}
		if v < 60 || v > 90*24*3600 {
			bad("retryDelays."+k, "must be between 60 and 7776000 seconds (90 days), not %d", v)
		}
		s.RetryDelays[k] = time.Duration(v) * time.Second
	}
	if v := r.RingSeconds; v != nil {
		if *v < MinRingSeconds || *v > 120 {
			bad("ringSeconds", "must be between %d and 120, not %d", MinRingSeconds, *v)
		}
		s.RingSeconds = *v
	}
	if w := r.CallingWindow; w != nil {
		if w.Start != nil {
			d, err := parseClock(*w.Start)
			if err != nil {
				bad("callingWindow.start", "%v", err)
			}
			s.CallingWindow.Start = d
		}
		if w.End != nil {
			d, err := parseClock(*w.End)
			if err != nil {
				bad("callingWindow.end", "%v", err)
			}
			s.CallingWindow.End = d
		}
		if s.CallingWindow.End <= s.CallingWindow.Start {
			bad("callingWindow", "end %s must be after start %s (windows cannot span midnight)",
				clock(s.CallingWindow.End), clock(s.CallingWindow.Start))
		}
		if w.Days != nil {
			if len(w.Days) == 0 {
				bad("callingWindow.days", "must name at least one day (1 Monday … 7 Sunday)")
			}
			seen := map[int]bool{}
			for _, d := range w.Days {
				if d < 1 || d > 7 {
					bad("callingWindow.days", "%d is not an ISO weekday (1 Monday … 7 Sunday)", d)
				}
				seen[d] = true
			}
			s.CallingWindow.Days = s.CallingWindow.Days[:0:0]
			for d := 1; d <= 7; d++ {
				if seen[d] {
					s.CallingWindow.Days = append(s.CallingWindow.Days, d)
				}
			}
		}
	}
	if v := r.TimeZone; v != nil && *v != "" {
		if _, err := time.LoadLocation(*v); err != nil || !strings.Contains(*v, "/") && *v != "UTC" {
			bad("timeZone", "%q is not an IANA time zone (e.g. Europe/London)", *v)
		}
		s.TimeZone = *v
	}
	if s.TimeZone == "" {
		s.TimeZone = RegionZone(region)
	}
	seenList := map[int64]bool{}
	for _, id := range r.LeadLists {
		if id <= 0 {
			bad("leadLists", "%d is not a list id", id)
		} else if !seenList[id] {
			seenList[id] = true
			s.LeadLists = append(s.LeadLists, id)
		}
	}
	if v := r.CallbackGraceSeconds; v != nil {
		if *v < 0 || *v > 24*3600 {
			bad("callbackGraceSeconds", "must be between 0 and 86400, not %d", *v)
		}
		s.CallbackGrace = time.Duration(*v) * time.Second
	}
	s.AMD = AMDSettings{OnMachine: OnMachineHangup, FalsePositiveShare: DefaultAMDFalsePositiveShare}
	if a := r.AMD; a != nil {
		if a.Enabled != nil {
			s.AMD.Enabled = *a.Enabled
		}
		if a.OnMachine != nil {
			switch *a.OnMachine {
			case OnMachineHangup, OnMachineMessage:
				s.AMD.OnMachine = *a.OnMachine
			default:
				bad("amd.onMachine", "must be %q or %q, not %q", OnMachineHangup, OnMachineMessage, *a.OnMachine)
			}
		}
		if a.Message != nil {
			m := strings.TrimSpace(*a.Message)
			if !validMedia(m) || !strings.HasPrefix(m, "sound:") {
				bad("amd.message", "must be a sound such as \"sound:custom/sorry-we-missed-you\" (the dialplan plays it with Playback), not %q", *a.Message)
			}
			s.AMD.Message = m
		}
		if v := a.FalsePositiveShare; v != nil {
			if *v < 0 || *v > 0.5 {
				bad("amd.falsePositiveShare", "must be between 0 and 0.5 (a fraction of machine verdicts), not %g", *v)
			}
			s.AMD.FalsePositiveShare = *v
		}
		if s.AMD.OnMachine == OnMachineMessage && s.AMD.Message == "" {
			bad("amd.message", "is needed when onMachine is %q", OnMachineMessage)
		}
	}
	if v := r.MaxDailyAttempts; v != nil {
		if *v < 0 || *v > 50 {
			bad("maxDailyAttemptsPerNumber", "must be between 0 (no cap) and 50, not %d", *v)
		}
		s.MaxDailyAttemptsPerNumber = *v
	}
	if len(errs) > 0 {
		return Settings{}, errs
	}
	return s, nil
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map"), strings.Contains(goType, "raw"):
		return "an object"
	}
	return goType
}

func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("%q is not a time of day HH:MM (00:00 to 24:00)", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func validMedia(m string) bool {
	for _, p := range []string{"sound:", "recording:", "tone:", "digits:", "number:", "characters:"} {
		if rest, ok := strings.CutPrefix(m, p); ok && rest != "" && !strings.ContainsAny(rest, " \t\r\n") {
			return true
		}
	}
	return false
}

// RegionZone is the main IANA zone of a region (ISO 3166 code) by its
// example number, or "UTC" when unknown.
func RegionZone(region string) string {
	n := phonenumbers.GetExampleNumber(strings.ToUpper(region))
	if n == nil {
		return "UTC"
	}
	if tz := leads.ZoneForNumber(phonenumbers.Format(n, phonenumbers.E164)); tz != "" {
		return tz
	}
	return "UTC"
}

// zoneOf is the zone a lead or callback is called in: its own when valid,
// else the zone of its number, else the campaign's.
func zoneOf(own, number string, s *Settings) *time.Location {
	for _, name := range []string{own, leads.ZoneForNumber(number), s.TimeZone} {
		if name == "" {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.UTC
}
