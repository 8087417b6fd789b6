package cti

import (
	"context"
	"time"

	"github.com/ctid/ctid/ari"
)

// TimedTelephony wraps a Telephony and reports how long each request took
// (the ARI round-trip as the engine sees it) to Observe, with the operation
// name ("originate", "hangup", …) and the error, if any. Observe runs on the
// engine loop: it must be cheap (a Prometheus histogram observation is).
type TimedTelephony struct {
	T       Telephony
	Observe func(op string, d time.Duration, err error)
}

func (t TimedTelephony) obs(op string, start time.Time, err error) error {
	if t.Observe != nil {
		t.Observe(op, time.Since(start), err)
	}
	return err
}

func (t TimedTelephony) Originate(ctx context.Context, req ari.OriginateRequest) error {
	s := time.Now()
	return t.obs("originate", s, t.T.Originate(ctx, req))
}
func (t TimedTelephony) Hangup(ctx context.Context, id, reason string) error {
	s := time.Now()
	return t.obs("hangup", s, t.T.Hangup(ctx, id, reason))
}
func (t TimedTelephony) Answer(ctx context.Context, id string) error {
	s := time.Now()
	return t.obs("answer", s, t.T.Answer(ctx, id))
}
func (t TimedTelephony) CreateBridge(ctx context.Context, id string, types ...string) error {
	s := time.Now()
	return t.obs("create_bridge", s, t.T.CreateBridge(ctx, id, types...))
}
func (t TimedTelephony) DestroyBridge(ctx context.Context, id string) error {
	s := time.Now()
	return t.obs("destroy_bridge", s, t.T.DestroyBridge(ctx, id))
}
func (t TimedTelephony) AddToBridge(ctx context.Context, bridgeID, ch string, absorb bool) error {
	s := time.Now()
	return t.obs("add_to_bridge", s, t.T.AddToBridge(ctx, bridgeID, ch, absorb))
}
func (t TimedTelephony) BridgeMOH(ctx context.Context, bridgeID string) error {
	s := time.Now()
	return t.obs("bridge_moh", s, t.T.BridgeMOH(ctx, bridgeID))
}
func (t TimedTelephony) Play(ctx context.Context, ch, playbackID, media string) error {
	s := time.Now()
	return t.obs("play", s, t.T.Play(ctx, ch, playbackID, media))
}
func (t TimedTelephony) Continue(ctx context.Context, ch, dpContext, exten string) error {
	s := time.Now()
	return t.obs("continue", s, t.T.Continue(ctx, ch, dpContext, exten))
}
func (t TimedTelephony) Channels(ctx context.Context) ([]ari.Channel, error) {
	s := time.Now()
	l, err := t.T.Channels(ctx)
	return l, t.obs("list_channels", s, err)
}
func (t TimedTelephony) RemoveFromBridge(ctx context.Context, bridgeID, ch string) error {
	s := time.Now()
	return t.obs("remove_from_bridge", s, t.T.RemoveFromBridge(ctx, bridgeID, ch))
}
func (t TimedTelephony) SetVar(ctx context.Context, ch, name, value string) error {
	s := time.Now()
	return t.obs("set_var", s, t.T.SetVar(ctx, ch, name, value))
}
func (t TimedTelephony) Mute(ctx context.Context, ch, dir string) error {
	s := time.Now()
	return t.obs("mute", s, t.T.Mute(ctx, ch, dir))
}
func (t TimedTelephony) Unmute(ctx context.Context, ch, dir string) error {
	s := time.Now()
	return t.obs("unmute", s, t.T.Unmute(ctx, ch, dir))
}
func (t TimedTelephony) Snoop(ctx context.Context, ch, snoopID string, appArgs []string) error {
	s := time.Now()
	return t.obs("snoop", s, t.T.Snoop(ctx, ch, snoopID, appArgs))
}
func (t TimedTelephony) Record(ctx context.Context, ch, name string) error {
	s := time.Now()
	return t.obs("record", s, t.T.Record(ctx, ch, name))
}
func (t TimedTelephony) PauseRecording(ctx context.Context, name string, pause bool) error {
	s := time.Now()
	return t.obs("pause_recording", s, t.T.PauseRecording(ctx, name, pause))
}
func (t TimedTelephony) StopRecording(ctx context.Context, name string) error {
	s := time.Now()
	return t.obs("stop_recording", s, t.T.StopRecording(ctx, name))
}
func (t TimedTelephony) BridgePlay(ctx context.Context, bridgeID, playbackID, media string) error {
	s := time.Now()
	return t.obs("bridge_play", s, t.T.BridgePlay(ctx, bridgeID, playbackID, media))
}
func (t TimedTelephony) StopPlayback(ctx context.Context, id string) error {
	s := time.Now()
	return t.obs("stop_playback", s, t.T.StopPlayback(ctx, id))
}
func (t TimedTelephony) SendDTMF(ctx context.Context, ch string, o ari.DTMFOptions) error {
	s := time.Now()
	return t.obs("send_dtmf", s, t.T.SendDTMF(ctx, ch, o))
}

// PumpObserved is Pump that also reports each event's lag: from the time
// Asterisk stamped it to the moment the engine loop starts handling it
// (transport, decoding and the engine's queue). Events go to the loop
// through its command queue, in order, so the measurement is taken on the
// loop itself. ConnectionEvents are stamped by the client, not Asterisk.
func (e *Engine) PumpObserved(ctx context.Context, ch <-chan ari.Event, lag func(typ string, d time.Duration)) {
	if lag == nil {
		e.Pump(ctx, ch)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			select {
			case e.cmds <- func() {
				if ts := ev.GetTimestamp(); !ts.IsZero() {
					lag(ev.GetType(), time.Since(ts))
				}
				e.handle(ev)
			}:
			case <-ctx.Done():
				return
			}
		}
	}
}
