package aritest

import (
	"os"
	"testing"
	"time"
)

// Target is an ARI server a scenario runs against: the double or a real
// Asterisk. Run the same scenario on each with t.Run(target.Name, ...).
type Target struct {
	// Name is "double" or "asterisk".
	Name string
	// URL, Username and Password configure an ari.Client.
	URL, Username, Password string
	// Double is set for the double, Asterisk for the real one.
	Double   *Server
	Asterisk *Asterisk
}

// Real reports whether the target is a real Asterisk.
func (tg Target) Real() bool { return tg.Asterisk != nil }

// Restart restarts the target (all channels and bridges are lost; the
// startup time changes).
func (tg Target) Restart() {
	if tg.Asterisk != nil {
		tg.Asterisk.Restart()
		return
	}
	tg.Double.Restart()
}

// DropWebsockets cuts the event websockets as a network failure would.
func (tg Target) DropWebsockets() {
	if tg.Asterisk != nil {
		tg.Asterisk.DropWebsockets()
		return
	}
	tg.Double.DropWebsockets()
}

// Logs returns the real Asterisk's console output ("" for the double).
func (tg Target) Logs() string {
	if tg.Asterisk != nil {
		return tg.Asterisk.Logs()
	}
	return ""
}

// DoubleTarget starts a double, scripted like asterisk-conf's test contexts
// (see ScriptAsteriskConf), and closes it on cleanup.
func DoubleTarget(t testing.TB) Target {
	s := NewServer(Options{})
	t.Cleanup(s.Close)
	s.ScriptAsteriskConf()
	return Target{Name: "double", URL: s.URL(), Username: s.opts.Username, Password: s.opts.Password, Double: s}
}

// AsteriskTarget starts a real Asterisk (StartAsterisk: skipped when none is
// found, failed if CTID_REQUIRE_ASTERISK=1).
func AsteriskTarget(t testing.TB) Target {
	t.Helper()
	return TargetOf(StartAsterisk(t))
}

// TargetOf is the Target of a running Asterisk (one started with options).
func TargetOf(a *Asterisk) Target {
	return Target{Name: "asterisk", URL: a.URL(), Username: a.User, Password: a.Password, Asterisk: a}
}

// Targets returns the double, and a real Asterisk when one is found (or
// CTID_REQUIRE_ASTERISK=1, where a missing one fails the test). Top-level
// tests that must be selected by `go test -run Asterisk` should rather call
// AsteriskTarget from a test whose name contains "Asterisk".
func Targets(t testing.TB) []Target {
	t.Helper()
	ts := []Target{DoubleTarget(t)}
	if _, err := FindAsterisk(); err == nil || os.Getenv(EnvRequireAsterisk) == "1" {
		ts = append(ts, AsteriskTarget(t))
	}
	return ts
}

// ScriptAsteriskConf scripts the Local test contexts of asterisk-conf's
// extensions.conf with their default knobs:
//
//	test-answer    answers, stays up
//	test-dtmf      answers, after DTMF_DELAY (1 s) keys DTMF_DIGITS
//	               (4111111111111111#; SendDTMF 250 ms between, 120 ms
//	               duration) towards ;1
//	test-busy      busy after 0 s (cause 17)
//	test-noanswer  rings until the originate timeout
//	test-milliwatt answers (audio is not modelled)
func (s *Server) ScriptAsteriskConf() {
	s.Script("Local/*@test-answer", Behavior{})
	s.Script("Local/*@test-dtmf", Behavior{DTMF: "4111111111111111#", DTMFAfter: time.Second, DTMFBetween: 370 * time.Millisecond, DialplanKnobs: true})
	s.Script("Local/*@test-busy", Behavior{Busy: true})
	s.Script("Local/*@test-noanswer", Behavior{NoAnswer: true})
	s.Script("Local/*@test-milliwatt", Behavior{})
}
