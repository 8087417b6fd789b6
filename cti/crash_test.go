package cti_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// Item 10: after an Asterisk crash the interrupted call is recorded as
// "telephony lost"; persistent phones are re-dialled at once (the agent
// on the lost call gets theirs back while wrapping) and each agent returns
// to the state they would have had: the wrapping agent goes Ready when they
// wrap with "ready" (not Paused "Logged in"), a Paused agent is Paused with
// their own reason again.
func TestTelephonyCrashRecordsLostCallAndRedialsAtOnce(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	_, iid := f.inCall(t, w)
	f.loginPersistent(t, f.bob, "1002")
	if err := f.Engine.SetPaused(bg, f.bob, "Training"); err != nil {
		t.Fatal(err)
	}
	wb := f.WatchAgent(t, f.bob)

	f.Double.Restart()
	if n := decode[cti.Notice](t, w.Next("notice", 20*time.Second)); n.Kind != cti.NoticeTelephonyLost || n.Text == "" {
		t.Fatalf("notice %+v", n)
	}
	f.WaitState(t, f.alice, cti.AgentOnWrap, 10*time.Second)
	// alice's phone is back while she wraps.
	w.Next("phone.connected", 20*time.Second)
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.State.State != cti.AgentOnWrap || !s.Phone.Connected {
		t.Fatalf("alice after the crash: %+v %+v", s.State, s.Phone)
	}
	if err := f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "SALE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentReady, 10*time.Second)
	// bob: Paused, with his reason, phone connected.
	wb.Next("phone.connected", 20*time.Second)
	ctitest.Eventually(t, 10*time.Second, "bob paused with his reason", func() bool {
		s, _ := f.Engine.Snapshot(bg, f.bob)
		return s.State.State == cti.AgentPaused && s.State.PauseReason == "Training" && s.Phone.Connected
	})
	f.Engine.Sync(bg)
	f.Engine.Flush(bg)
	var reason string
	f.DB.Raw(`SELECT end_reason FROM interactions WHERE id = ?`, iid).Scan(&reason)
	if reason != cti.TelephonyLostReason {
		t.Fatalf("end reason %q, want %q", reason, cti.TelephonyLostReason)
	}
	// A new call reaches alice on her re-dialled leg.
	f.Double.Inbound("ctid", []string{"inbound", did}, "+447700900222", did, nil)
	w.Next("call.connected", 10*time.Second)
	if bad := f.Engine.CheckInvariants(bg); len(bad) > 0 {
		t.Fatalf("invariants: %v", bad)
	}
}

func TestWAVDurationToTheMillisecond(t *testing.T) {
	hdr := func(rate, data uint32, extra string) []byte {
		b := []byte("RIFF\x00\x00\x00\x00WAVE")
		b = append(b, extra...)
		fmtc := make([]byte, 24)
		copy(fmtc, "fmt ")
		binary.LittleEndian.PutUint32(fmtc[4:], 16)
		binary.LittleEndian.PutUint16(fmtc[8:], 1)
		binary.LittleEndian.PutUint16(fmtc[10:], 1)
		binary.LittleEndian.PutUint32(fmtc[12:], rate/2)
		binary.LittleEndian.PutUint32(fmtc[16:], rate)
		b = append(b, fmtc...)
		d := make([]byte, 8)
		copy(d, "data")
		binary.LittleEndian.PutUint32(d[4:], data)
		return append(b, d...)
	}
	// 5.96 s of 8 kHz 16-bit mono: 95,360 bytes at 16,000 bytes/s.
	d, err := cti.WAVDuration(bytes.NewReader(hdr(16000, 95360, "")))
	if err != nil || d.Milliseconds() != 5960 {
		t.Fatalf("duration %v, %v", d, err)
	}
	// A LIST chunk before fmt is skipped.
	d, err = cti.WAVDuration(bytes.NewReader(hdr(16000, 16000, "LIST\x04\x00\x00\x00abcd")))
	if err != nil || d != time.Second {
		t.Fatalf("with LIST: %v, %v", d, err)
	}
	for _, bad := range [][]byte{nil, []byte("RIFF\x00\x00\x00\x00WAVX"), []byte("not a wav file at all")} {
		if _, err := cti.WAVDuration(bytes.NewReader(bad)); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

// Item 11: an inbound DID the dialplan passes without its "+" still finds
// the campaign and the record keeps it in E.164; a manual call without a
// campaign presents the configured default caller id.
func TestPlatformNumberE164AndDefaultCallerID(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{Tune: func(o *cti.Options) { o.DefaultCallerID = "+442071234000" }})
	w := f.WatchAgent(t, f.alice)
	f.loginPersistent(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	cust := f.Double.Inbound("ctid", []string{"inbound", strings.TrimPrefix(did, "+")}, "+447700900200", strings.TrimPrefix(did, "+"), nil)
	info := decode[cti.CallInfo](t, w.Next("call.connected", 10*time.Second))
	if info.PlatformNumber != did || info.CampaignName != "Sales" {
		t.Fatalf("call info %+v", info)
	}
	f.Double.HangupChannel(cust, 16)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 10*time.Second)
	f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "SALE"})
	f.WaitState(t, f.alice, cti.AgentReady, 10*time.Second)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{RingFor: 5 * time.Second})
	out, err := f.Engine.Dial(bg, f.alice, cti.DialRequest{Number: "020 7946 0111"})
	if err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 10*time.Second, "customer dialled with the default caller id", func() bool {
		st, ok := f.Double.Channel("cu-" + out.InteractionID)
		return ok && st.CallerNumber == "+442071234000"
	})
}

// The agent wraps (choosing Ready) before the re-dialled phone answers:
// once it answers they are Ready, not left logged in with the leg up.
func TestTelephonyCrashWrapBeforeRedialAnswers(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	f.inCall(t, w)
	f.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 2 * time.Second})
	f.Double.Restart()
	w.Next("notice", 20*time.Second)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 10*time.Second)
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.Phone.Connected {
		t.Fatal("the re-dialled phone answered too early for this test")
	}
	if err := f.Engine.Wrap(bg, f.alice, cti.WrapRequest{Code: "SALE", Next: "ready"}); err != nil {
		t.Fatal(err)
	}
	w.Next("phone.connected", 20*time.Second)
	f.WaitState(t, f.alice, cti.AgentReady, 10*time.Second)
}
