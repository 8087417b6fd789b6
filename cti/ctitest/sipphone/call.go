package sipphone

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
)

// Call is one SIP call of a Phone or the Carrier, in either direction: the
// person on it talks (Play, Silence, SendDigits, Hangup) and listens (Level,
// WaitHears, HearsNot, WaitSilence, WaitBroadband, WaitDigits).
type Call struct {
	// Incoming is true when Asterisk sent the INVITE.
	Incoming bool
	// Dialled is the request-URI user of the INVITE: the number dialled.
	Dialled string
	// From and FromName are the From header's URI user and display name;
	// PAI is the P-Asserted-Identity URI user ("" without that header).
	// Together they are the caller id presented.
	From, FromName, PAI string

	callID string

	t     testing.TB
	owner string // "phone 1001", "carrier"
	ast   *aritest.Asterisk

	mu        sync.Mutex
	tone      float64 // Hz; 0 is silence
	frames    []frame
	digits    []rune
	answered  chan struct{}
	ended     chan struct{}
	endReason string
	answerAt  time.Time
	hangup    func(ctx context.Context) error
	med       *diago.DialogMedia
	dtmf      *diago.DTMFWriter
	// RTP errors the media loops went on after (a packet diago could not
	// read, a write the socket refused): once, either loop stopped at the
	// first one, and a phone heard nothing for the rest of the call.
	readErrs, writeErrs int
	lastRead, lastWrite error
	// identities Asterisk sent within the call (see Identities).
	identities []string
}

func newCall(t testing.TB, ast *aritest.Asterisk, owner string, incoming bool, req *sip.Request, tone float64) *Call {
	c := &Call{t: t, ast: ast, owner: owner, Incoming: incoming, tone: tone,
		answered: make(chan struct{}), ended: make(chan struct{})}
	register(c)
	c.Dialled = req.Recipient.User
	if id := req.CallID(); id != nil {
		c.callID = string(*id)
	}
	if f := req.From(); f != nil {
		c.From, c.FromName = f.Address.User, f.DisplayName
	}
	_, c.PAI, _ = pai(req)
	return c
}

// pai is the display name and URI user of a request's
// P-Asserted-Identity (ok false without one).
func pai(req *sip.Request) (name, user string, ok bool) {
	h := req.GetHeader("P-Asserted-Identity")
	if h == nil {
		return "", "", false
	}
	var u sip.Uri
	name, err := sip.ParseAddressValue(h.Value(), &u, nil)
	if err != nil {
		return "", "", false
	}
	return name, u.User, true
}

// Identities are the parties Asterisk named within the call after its
// start: the P-Asserted-Identity of each re-INVITE or UPDATE it sent (a
// connected-line update: who the phone now shows on the other end), as
// "name <user>" or "user".
func (c *Call) Identities() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.identities...)
}

func (c *Call) noteIdentity(req *sip.Request) {
	name, user, ok := pai(req)
	if !ok {
		return
	}
	id := user
	if name != "" {
		id = name + " <" + user + ">"
	}
	c.mu.Lock()
	c.identities = append(c.identities, id)
	c.mu.Unlock()
}

func (c *Call) String() string {
	if c.Incoming {
		return fmt.Sprintf("%s call from %q (dialled %q, PAI %q)", c.owner, c.From, c.Dialled, c.PAI)
	}
	return fmt.Sprintf("%s call to %q", c.owner, c.Dialled)
}

// start runs the media of an answered call: a writer paced by the RTP
// clock sends the current tone (or silence) in 20 ms µ-law frames, a
// reader decodes what arrives and collects RFC 4733 digits.
func (c *Call) start(ctx context.Context, med *diago.DialogMedia, hangup func(context.Context) error) error {
	w, err := med.AudioWriterDTMF()
	if err != nil {
		return err
	}
	r, err := med.AudioReaderDTMF()
	if err != nil {
		return err
	}
	audioPT := media.CodecAudioFromSession(med.MediaSession()).PayloadType
	c.mu.Lock()
	c.med, c.dtmf, c.hangup, c.answerAt = med, w, hangup, time.Now()
	c.mu.Unlock()
	close(c.answered)

	go func() {
		pcm := make([]byte, 2*blockLen)
		ulaw := make([]byte, blockLen)
		phase := 0.0
		for ctx.Err() == nil {
			c.mu.Lock()
			hz := c.tone
			c.mu.Unlock()
			for i := 0; i < blockLen; i++ {
				v := 0.0
				if hz > 0 {
					v = Amplitude * math.Sin(phase)
					phase += 2 * math.Pi * hz / sampleRate
				}
				binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(v)))
			}
			phase = math.Mod(phase, 2*math.Pi)
			audio.EncodeUlawTo(ulaw, pcm)
			if _, err := w.Write(ulaw); err != nil {
				if ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
					return
				}
				c.mu.Lock()
				c.writeErrs, c.lastWrite = c.writeErrs+1, err
				c.mu.Unlock()
				time.Sleep(blockLen * time.Second / sampleRate) // the frame's time, as a write would have taken
			}
		}
	}()
	r.OnDTMF(func(d rune) error {
		c.mu.Lock()
		c.digits = append(c.digits, d)
		c.mu.Unlock()
		return nil
	})
	go func() {
		buf := make([]byte, media.RTPBufSize)
		for run := 0; ; {
			n, err := r.Read(buf)
			if err != nil {
				// A packet diago cannot read is skipped; a closed session,
				// or a read that keeps failing, ends the loop.
				if run++; ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || run > 100 {
					return
				}
				c.mu.Lock()
				c.readErrs, c.lastRead = c.readErrs+1, err
				c.mu.Unlock()
				continue
			}
			run = 0
			if n == 0 || med.RTPPacketReader.PacketHeader.PayloadType != audioPT {
				continue
			}
			pcm := make([]byte, 2*n)
			if _, err := audio.DecodeUlawTo(pcm, buf[:n]); err != nil {
				continue
			}
			f := frame{at: time.Now(), pcm: make([]int16, n)}
			for i := range f.pcm {
				f.pcm[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
			}
			c.mu.Lock()
			c.frames = append(c.frames, f)
			c.mu.Unlock()
		}
	}()
	return nil
}

func (c *Call) end(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.ended:
	default:
		c.endReason = reason
		close(c.ended)
	}
}

// Play makes the person talk: a continuous sine tone at hz from now on
// (before the answer too: it starts with the media).
func (c *Call) Play(hz float64) {
	c.mu.Lock()
	c.tone = hz
	c.mu.Unlock()
}

// Silence stops the tone; the call goes on sending silent frames.
func (c *Call) Silence() { c.Play(0) }

// SendDigits keys digits as RFC 4733 events, with 200 ms of audio between
// them so each event has its own timestamp (Asterisk drops repeats).
func (c *Call) SendDigits(digits string) error {
	c.mu.Lock()
	w := c.dtmf
	c.mu.Unlock()
	if w == nil {
		return fmt.Errorf("%s: not answered", c)
	}
	for _, d := range digits {
		if err := w.WriteDTMF(d); err != nil {
			return fmt.Errorf("%s: digit %c: %w", c, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// Hangup ends the call (BYE). Ending an already ended call is no error.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	h := c.hangup
	c.mu.Unlock()
	select {
	case <-c.ended:
		return nil
	default:
	}
	if h == nil {
		return fmt.Errorf("%s: not answered", c)
	}
	err := h(ctx)
	c.end("hung up here")
	return err
}

// Answered is closed once the call is answered.
func (c *Call) Answered() <-chan struct{} { return c.answered }

// Ended is closed once the call is over (either side hung up, refused,
// cancelled).
func (c *Call) Ended() <-chan struct{} { return c.ended }

// EndReason says how the call ended ("" while it goes on).
func (c *Call) EndReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endReason
}

// WaitAnswered fails the test unless the call is answered within timeout.
func (c *Call) WaitAnswered(timeout time.Duration) {
	c.t.Helper()
	select {
	case <-c.answered:
	case <-c.ended:
		c.t.Fatalf("%s ended before the answer: %s", c, c.EndReason())
	case <-time.After(timeout):
		c.t.Fatalf("%s not answered within %v", c, timeout)
	}
}

// WaitEnded fails the test unless the call ends within timeout, and
// returns how it ended.
func (c *Call) WaitEnded(timeout time.Duration) string {
	c.t.Helper()
	select {
	case <-c.ended:
		return c.EndReason()
	case <-time.After(timeout):
		c.t.Fatalf("%s still up after %v", c, timeout)
		return ""
	}
}

// Window is what the person heard between from and to.
func (c *Call) Window(from, to time.Time) Level {
	c.mu.Lock()
	var fs []frame
	for _, f := range c.frames {
		if !f.at.Before(from) && f.at.Before(to) {
			fs = append(fs, f)
		}
	}
	c.mu.Unlock()
	return newLevel(from, to, fs)
}

// Level is what the person heard over the last second.
func (c *Call) Level() Level {
	now := time.Now()
	return c.Window(now.Add(-time.Second), now)
}

// WaitLevel waits until a one-second window that began after the call
// was made satisfies cond, and returns it; the test fails after timeout,
// showing the last window.
func (c *Call) WaitLevel(what string, timeout time.Duration, cond func(Level) bool) Level {
	c.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	var last Level
	var endSeen time.Time
	for {
		now := time.Now()
		if from := now.Add(-time.Second); !from.Before(start) {
			last = c.Window(from, now)
			if cond(last) {
				return last
			}
		}
		if now.After(deadline) {
			c.t.Fatalf("%s: %s not heard within %v; last second: %v%s", c, what, timeout, last, c.mediaReport(last))
		}
		select {
		case <-c.ended:
			// Nothing new arrives once a second has passed since the end.
			if endSeen.IsZero() {
				endSeen = now
			} else if now.Sub(endSeen) > 1500*time.Millisecond {
				c.t.Fatalf("%s ended (%s) while waiting for %s; last second: %v", c, c.EndReason(), what, last)
			}
		default:
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitHears waits until the person hears the tone at hz.
func (c *Call) WaitHears(hz float64, timeout time.Duration) Level {
	c.t.Helper()
	return c.WaitLevel(fmt.Sprintf("%.0f Hz", hz), timeout, func(l Level) bool { return l.Hears(hz) })
}

// WaitSilence waits until the person hears silence.
func (c *Call) WaitSilence(timeout time.Duration) Level {
	c.t.Helper()
	return c.WaitLevel("silence", timeout, Level.Silent)
}

// WaitBroadband waits until the person hears sound that is not a single
// tone (music on hold, a prompt) and none of the tones notHz: each holds
// less than ToneShareMax of the window's power (speech and music have
// some energy at any frequency, so the absolute AbsentMax does not apply).
func (c *Call) WaitBroadband(timeout time.Duration, notHz ...float64) Level {
	c.t.Helper()
	return c.WaitLevel("music or a prompt", timeout, func(l Level) bool {
		for _, hz := range notHz {
			if l.ToneShare(hz) >= ToneShareMax {
				return false
			}
		}
		return l.Broadband()
	})
}

// HearsOnlyMusic is what a held person must hear: it waits (up to wait)
// for music or a prompt without the voices notHz, then listens for d and
// fails the test unless every second of it was music (broadband) carrying
// none of notHz. Against music a voice counts as heard when its tone holds
// ToneShareMax of the power (music has some energy at every frequency, so
// the absolute AbsentMax does not apply) or Hears says so.
func (c *Call) HearsOnlyMusic(wait, d time.Duration, notHz ...float64) {
	c.t.Helper()
	c.t.Logf("%s on hold hears %v", c, c.WaitBroadband(wait, notHz...))
	bad := false
	for i, l := range c.Listen(d) {
		if !l.Broadband() {
			c.t.Errorf("%s on hold at +%ds: not music: %v", c, i, l)
			bad = true
		}
		for _, hz := range notHz {
			if l.ToneShare(hz) >= ToneShareMax || l.Hears(hz) {
				c.t.Errorf("%s on hold at +%ds hears %.0f Hz (%.0f%% of the power): %v", c, i, hz, 100*l.ToneShare(hz), l)
				bad = true
			}
		}
	}
	if bad {
		c.t.FailNow()
	}
}

// HearsNot listens for the duration over (at least one second) and fails
// the test if any second of it carried the tone at hz. It returns the
// seconds it looked at.
func (c *Call) HearsNot(hz float64, over time.Duration) []Level {
	c.t.Helper()
	ls := c.Listen(over)
	for i, l := range ls {
		if l.Tone(hz) >= AbsentMax {
			c.t.Fatalf("%s: heard %.0f Hz at +%ds: %v", c, hz, i, l)
		}
	}
	return ls
}

// Listen listens for the duration over (at least one second) and returns
// what the person heard in each whole second of it, for a test to judge
// every second (a conversation that must carry on, music that must not
// let a voice through).
func (c *Call) Listen(over time.Duration) []Level {
	over = max(over, time.Second)
	start := time.Now()
	time.Sleep(over) // listening is the point: the windows are the assertion
	var ls []Level
	for from := start; from.Add(time.Second).Sub(start) <= over; from = from.Add(time.Second) {
		ls = append(ls, c.Window(from, from.Add(time.Second)))
	}
	return ls
}

// Digits returns every RFC 4733 digit received so far.
func (c *Call) Digits() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.digits)
}

// WaitDigits waits until at least n digits were received and returns them.
func (c *Call) WaitDigits(n int, timeout time.Duration) string {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d := c.Digits()
		if len([]rune(d)) >= n {
			return d
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: %d digits wanted, got %q within %v", c, n, d, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mediaReport says, for a call that received no packets, where its RTP
// goes and what Asterisk counts on every channel (packets sent and
// received) and in every bridge, so that a test that hears nothing says
// which side stopped.
func (c *Call) mediaReport(last Level) string {
	if last.Packets > 0 || c.ast == nil {
		return ""
	}
	var b strings.Builder
	c.mu.Lock()
	if c.readErrs+c.writeErrs > 0 {
		fmt.Fprintf(&b, "\nRTP errors gone past: %d reading (last: %v), %d writing (last: %v)", c.readErrs, c.lastRead, c.writeErrs, c.lastWrite)
	}
	med := c.med
	c.mu.Unlock()
	if med != nil {
		if ms := med.MediaSession(); ms != nil {
			fmt.Fprintf(&b, "\nour RTP %s, Asterisk's %s", ms.Laddr.String(), ms.Raddr.String())
		}
	}
	for _, o := range callsOn(c.ast) {
		if o == c {
			continue
		}
		o.mu.Lock()
		state := "up"
		select {
		case <-o.ended:
			state = "ended: " + o.endReason
		default:
			select {
			case <-o.answered:
			default:
				state = "not answered"
			}
		}
		errs := fmt.Sprintf("%d read errors, %d write errors", o.readErrs, o.writeErrs)
		o.mu.Unlock()
		fmt.Fprintf(&b, "\n%s: %s; last second %v; %s", o, state, o.Level(), errs)
	}
	for _, cmd := range []string{"pjsip show channelstats", "core show channels concise", "bridge show all"} {
		out, err := c.ast.CLI(cmd)
		fmt.Fprintf(&b, "\nasterisk -rx %q (%v):\n%s", cmd, err, out)
	}
	return b.String()
}

// calls on each Asterisk, for mediaReport's view of the other side.
var (
	callsMu sync.Mutex
	calls   = map[*aritest.Asterisk][]*Call{}
)

func register(c *Call) {
	callsMu.Lock()
	defer callsMu.Unlock()
	if _, ok := calls[c.ast]; !ok {
		c.t.Cleanup(func() {
			callsMu.Lock()
			defer callsMu.Unlock()
			delete(calls, c.ast) // the Asterisk goes with the test
		})
	}
	calls[c.ast] = append(calls[c.ast], c)
}

func callsOn(a *aritest.Asterisk) []*Call {
	callsMu.Lock()
	defer callsMu.Unlock()
	return append([]*Call(nil), calls[a]...)
}
