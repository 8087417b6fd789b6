package cti

import (
	"context"
	"time"

	"github.com/ctid/ctid/ari"
)

// recording is one call recording: a snoop channel on the customer leg
// (spy both) recorded by ARI. It rides on the customer channel, so it
// follows the caller through transfers and conferences and ends by itself
// when the caller hangs up (ARI-NOTES §2).
type recording struct {
	name      string
	snoop     string
	iid       string // the interaction that started it
	customer  string
	state     string // starting, recording, paused, stopped
	t0        time.Time
	pausedAt  time.Time
	pausedFor time.Duration
	pausedBy  string // "agent" or "payment": payment pauses are not the agent's to undo
}

// RecordingView is the recording icon: red (recording), white (paused or
// stopped), grey (no permission: then it says nothing about the status).
type RecordingView struct {
	InteractionID string `json:"interactionId"`
	State         string `json:"state"` // recording, paused, stopped, off; "" when not allowed
	Allowed       bool   `json:"allowed"`
	Icon          string `json:"icon"` // red (recording), white (paused), off (not recorded or stopped), grey (not shown)
	// Label is the state as text for the adaptor and screen readers.
	Label string `json:"label"`
}

func (e *Engine) startRecording(c *call) {
	if c.recording != nil || c.campaign == nil || !c.campaign.Recording || c.rec.CustomerChannel == "" {
		return
	}
	r := &recording{name: "rec-" + c.rec.ID, snoop: "sn-" + c.rec.ID, iid: c.rec.ID,
		customer: c.rec.CustomerChannel, state: "starting"}
	c.recording = r
	e.trackRecording(r)
	e.channels[r.snoop] = chanRef{role: roleSnoop, call: c}
	ctx, cancel := e.tctx()
	defer cancel()
	if err := e.tel.Snoop(ctx, c.rec.CustomerChannel, r.snoop, []string{"snoop", c.rec.ID}); err != nil {
		e.log.Error("start recording snoop", "interaction", c.rec.ID, "err", err)
		delete(e.channels, r.snoop)
		delete(e.recs, r.name)
		c.recording = nil
		return
	}
	rr := RecordingRecord{Name: r.name, InteractionID: r.iid, CustomerChannel: r.customer, State: "starting"}
	e.writer.add(rr.InteractionID, func(ctx context.Context, s Store) error { return s.SaveRecording(ctx, rr) })
}

// onSnoopUp: the snoop channel is in Stasis; record it.
func (e *Engine) onSnoopUp(ch ari.Channel) {
	ref, ok := e.channels[ch.ID]
	if !ok || ref.role != roleSnoop || ref.call.recording == nil {
		return
	}
	r := ref.call.recording
	ctx, cancel := e.tctx()
	defer cancel()
	if err := e.tel.Record(ctx, ch.ID, r.name); err != nil {
		e.log.Error("record snoop", "recording", r.name, "err", err)
		e.recordingNeverStarted(r) // no RecordingFinished will come
	}
}

// recordingNeverStarted ends a recording that never began (its snoop went,
// or Asterisk refused to record it, typically because the customer hung up
// first): the row says "failed" instead of "starting" for ever.
func (e *Engine) recordingNeverStarted(r *recording) {
	delete(e.recs, r.name)
	r.state = "failed"
	now := e.now()
	rr := RecordingRecord{Name: r.name, InteractionID: r.iid, CustomerChannel: r.customer, State: "failed", EndedAt: &now}
	e.writer.add(rr.InteractionID, func(ctx context.Context, s Store) error { return s.SaveRecording(ctx, rr) })
}

// snoopGone forgets a recording whose snoop ended before it recorded (no
// RecordingFinished will come for it).
func (e *Engine) snoopGone(id string) {
	for name, r := range e.recs {
		if r.snoop == id && r.state == "starting" {
			e.recordingNeverStarted(e.recs[name])
		}
	}
}

func (e *Engine) recordingByName(name string) (*call, *recording) {
	r := e.recs[name]
	if r == nil {
		return nil, nil
	}
	for _, c := range e.calls {
		if c.recording == r {
			return c, r
		}
	}
	return nil, r // the call was wrapped and is gone; the record still ends
}

// trackRecording indexes a recording until Asterisk finishes it.
func (e *Engine) trackRecording(r *recording) {
	if e.recs == nil {
		e.recs = map[string]*recording{}
	}
	e.recs[r.name] = r
}

func (e *Engine) onRecordingStarted(ev *ari.RecordingStarted) {
	c, r := e.recordingByName(ev.Recording.Name)
	if r == nil || r.state != "starting" {
		return // duplicate Started events happen (ARI-NOTES); keep the first
	}
	r.state = "recording"
	// t0 is our clock at the event: offsets are differences of our clock.
	r.t0 = e.now()
	t0 := r.t0
	rr := RecordingRecord{Name: r.name, InteractionID: r.iid, CustomerChannel: r.customer, State: "recording", StartedAt: &t0}
	e.writer.add(rr.InteractionID, func(ctx context.Context, s Store) error {
		if err := s.SaveRecording(ctx, rr); err != nil {
			return err
		}
		return s.AddRecordingEvent(ctx, rr.Name, rr.InteractionID, nil, "start", "", t0)
	})
	e.publishRecording(c)
	if c != nil && c.payment != nil {
		// Capture began before the recorder was up: start paused.
		e.setRecordingPaused(c, true, nil, "payment")
	}
}

func (e *Engine) onRecordingFinished(name string, durationSec int, failed bool) {
	c, r := e.recordingByName(name)
	if r == nil {
		return
	}
	delete(e.recs, name)
	r.state = "stopped"
	now := e.now()
	dur := int64(durationSec) * 1000
	if dur == 0 && !r.t0.IsZero() { // some versions report 0; derive from our clock
		dur = e.recOffset(r, now).Milliseconds()
	}
	state := "stopped"
	if failed {
		state = "failed"
	}
	rr := RecordingRecord{Name: r.name, InteractionID: r.iid, CustomerChannel: r.customer, State: state, EndedAt: &now, DurationMs: dur}
	e.writer.add(rr.InteractionID, func(ctx context.Context, s Store) error {
		if err := s.SaveRecording(ctx, rr); err != nil {
			return err
		}
		return s.AddRecordingEvent(ctx, rr.Name, rr.InteractionID, nil, "stop", state, now)
	})
	if c != nil {
		e.publishRecording(c)
	}
	if sr, ok := e.tel.(StoredRecordings); ok && !failed {
		// To the millisecond from the file (Asterisk said whole seconds).
		var d time.Duration
		e.request("rec:"+name, "recording length", func(ctx context.Context) error {
			var err error
			d, err = sr.StoredDuration(ctx, name)
			return err
		}, func(err error) {
			if err != nil || d <= 0 {
				if err != nil {
					e.log.Debug("recording length from the file", "recording", name, "err", err)
				}
				return
			}
			rr.DurationMs = d.Milliseconds()
			e.writer.add(rr.InteractionID, func(ctx context.Context, s Store) error { return s.SaveRecording(ctx, rr) })
		})
	}
}

// recOffset is the position in the recorded audio at time t: wall time since
// the start minus closed pauses minus the open pause (ARI-NOTES §2).
func (e *Engine) recOffset(r *recording, t time.Time) time.Duration {
	off := t.Sub(r.t0) - r.pausedFor
	if r.state == "paused" {
		off -= t.Sub(r.pausedAt)
	}
	return max(off, 0)
}

// PauseRecording pauses (pause=true) or resumes the agent's call recording.
func (e *Engine) PauseRecording(ctx context.Context, userID int64, pause bool) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		if !a.user.RecordingControl {
			return forbidden("Your profile does not allow pausing or resuming the recording.")
		}
		c := a.call
		if c == nil || a.state != AgentOnCall {
			return conflict(string(a.state), "You are not on a call.")
		}
		r := c.recording
		if r == nil || (r.state != "recording" && r.state != "paused") {
			return conflict(string(a.state), "This call is not being recorded.")
		}
		if r.pausedBy == "payment" {
			return conflict(string(a.state), "The recording is paused while the customer keys card details.")
		}
		return e.setRecordingPaused(c, pause, &a.user.ID, "agent")
	})
}

func (e *Engine) setRecordingPaused(c *call, pause bool, uid *int64, by string) error {
	r := c.recording
	if r == nil || r.state == "stopped" || r.state == "starting" {
		return nil
	}
	if (r.state == "paused") == pause {
		return nil // already so: idempotent
	}
	ctx, cancel := e.tctx()
	defer cancel()
	if err := e.tel.PauseRecording(ctx, r.name, pause); err != nil {
		return &Error{Kind: KindUnavailable, Msg: "recording control failed: " + err.Error()}
	}
	now := e.now()
	action := "resume"
	if pause {
		r.state, r.pausedAt, r.pausedBy = "paused", now, by
		action = "pause"
	} else {
		r.pausedFor += now.Sub(r.pausedAt)
		r.state, r.pausedBy = "recording", ""
	}
	name, iid := r.name, c.rec.ID
	e.writer.add(iid, func(ctx context.Context, s Store) error {
		return s.AddRecordingEvent(ctx, name, iid, uid, action, by, now)
	})
	e.publishRecording(c)
	return nil
}

// AddBookmark marks the current moment of the agent's call recording.
func (e *Engine) AddBookmark(ctx context.Context, userID int64, note string) (Bookmark, error) {
	var b Bookmark
	if len(note) > 1000 {
		return b, invalid("note", "a bookmark note is limited to 1,000 characters")
	}
	err := e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c == nil || a.state != AgentOnCall {
			return conflict(string(a.state), "You can add a bookmark only during a call.")
		}
		r := c.recording
		if r == nil || (r.state != "recording" && r.state != "paused") {
			return conflict(string(a.state), "This call is not being recorded.")
		}
		now := e.now()
		b = Bookmark{RecordingName: r.name, InteractionID: c.rec.ID, OffsetMs: e.recOffset(r, now).Milliseconds(),
			Note: note, UserID: a.user.ID, At: now}
		bb := b
		e.writer.add(bb.InteractionID, func(ctx context.Context, s Store) error { return s.AddBookmark(ctx, bb) })
		e.publish(a, "recording.bookmark", bb)
		return nil
	})
	return b, err
}

func (e *Engine) recordingView(a *agent, c *call) RecordingView {
	v := RecordingView{InteractionID: c.rec.ID, Allowed: a.user.RecordingControl}
	if !v.Allowed {
		v.Icon, v.Label = "grey", "Recording status not shown"
		return v
	}
	v.State = "off"
	if c.recording != nil {
		v.State = c.recording.state
		if v.State == "starting" {
			v.State = "recording"
		}
	}
	// "Off" is not "paused": a call that is not recorded must not show
	// the paused (white) icon.
	switch v.State {
	case "recording":
		v.Icon, v.Label = "red", "Recording"
	case "paused":
		v.Icon, v.Label = "white", "Recording paused"
	case "stopped":
		v.Icon, v.Label = "off", "Recording stopped"
	default:
		v.Icon, v.Label = "off", "Not recording"
	}
	return v
}

func (e *Engine) publishRecording(c *call) {
	if a := c.agent; a != nil && a.call == c {
		e.publish(a, "recording.state", e.recordingView(a, c))
	}
}

// finishMissedRecordings ends the recordings that Asterisk finished while
// the websocket was down (the call ended in the gap: its RecordingFinished
// was dropped), so their rows do not stay "recording" for ever. The length
// comes from the stored file (onRecordingFinished asks for it).
func (e *Engine) finishMissedRecordings() {
	l, ok := e.tel.(LiveRecordings)
	if !ok {
		return
	}
	for name, r := range e.recs {
		if r.state == "starting" {
			continue // its snoop has not begun recording; nothing to finish
		}
		name := name
		var live bool
		e.request("rec:"+name, "recording still live", func(ctx context.Context) error {
			var err error
			live, err = l.RecordingLive(ctx, name)
			return err
		}, func(err error) {
			if err != nil {
				e.log.Warn("resync: is the recording still live", "recording", name, "err", err)
				return
			}
			if !live {
				e.log.Info("resync: recording finished during the gap", "recording", name)
				e.onRecordingFinished(name, 0, false)
			}
		})
	}
}
