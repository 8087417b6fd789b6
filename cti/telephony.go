package cti

import (
	"context"

	"github.com/ctid/ctid/ari"
)

// PhoneMode is how an agent's phone is connected.
type PhoneMode string

const (
	// PhoneAgentCalls: the agent dials ctid's login number from their phone;
	// the leg stays up until they hang up.
	PhoneAgentCalls PhoneMode = "agent_calls"
	// PhoneSystemCalls: ctid calls the agent's connection number, once at
	// Start (persistent) or for every allocated call (not persistent).
	PhoneSystemCalls PhoneMode = "system_calls"
)

// Telephony is what the engine asks of Asterisk. It is deliberately small:
// the engine runs unchanged against the ARI double and real Asterisk, and
// tests may stub it.
type Telephony interface {
	Originate(ctx context.Context, req ari.OriginateRequest) error
	Hangup(ctx context.Context, channelID, reason string) error
	Answer(ctx context.Context, channelID string) error
	CreateBridge(ctx context.Context, id string, types ...string) error
	DestroyBridge(ctx context.Context, id string) error
	AddToBridge(ctx context.Context, bridgeID, channelID string, absorbDTMF bool) error
	BridgeMOH(ctx context.Context, bridgeID string) error
	Play(ctx context.Context, channelID, playbackID, media string) error
	Continue(ctx context.Context, channelID, dpContext, exten string) error
	Channels(ctx context.Context) ([]ari.Channel, error)

	// In-call control: transfers, holds, recording, announcements, payment.
	RemoveFromBridge(ctx context.Context, bridgeID, channelID string) error
	SetVar(ctx context.Context, channelID, name, value string) error
	Mute(ctx context.Context, channelID, direction string) error
	Unmute(ctx context.Context, channelID, direction string) error
	Snoop(ctx context.Context, channelID, snoopID string, appArgs []string) error
	Record(ctx context.Context, channelID, name string) error
	PauseRecording(ctx context.Context, name string, pause bool) error
	StopRecording(ctx context.Context, name string) error
	BridgePlay(ctx context.Context, bridgeID, playbackID, media string) error
	StopPlayback(ctx context.Context, playbackID string) error
	// SendDTMF writes keypad digits to a channel (the agent's keypad, to the
	// customer's side).
	SendDTMF(ctx context.Context, channelID string, o ari.DTMFOptions) error
}

// ARITelephony adapts the project's ARI client to Telephony.
type ARITelephony struct{ C *ari.Client }

func (t ARITelephony) Originate(ctx context.Context, req ari.OriginateRequest) error {
	_, err := t.C.Channels.Originate(ctx, req)
	return err
}
func (t ARITelephony) Hangup(ctx context.Context, id, reason string) error {
	return t.C.Channels.Hangup(ctx, id, reason)
}
func (t ARITelephony) Answer(ctx context.Context, id string) error {
	return t.C.Channels.Answer(ctx, id)
}
func (t ARITelephony) CreateBridge(ctx context.Context, id string, types ...string) error {
	_, err := t.C.Bridges.Create(ctx, ari.BridgeRequest{ID: id, Types: types, Name: id})
	return err
}
func (t ARITelephony) DestroyBridge(ctx context.Context, id string) error {
	return t.C.Bridges.Destroy(ctx, id)
}
func (t ARITelephony) AddToBridge(ctx context.Context, bridgeID, ch string, absorb bool) error {
	return t.C.Bridges.AddChannel(ctx, bridgeID, ari.AddChannelRequest{Channels: []string{ch}, AbsorbDTMF: absorb})
}
func (t ARITelephony) BridgeMOH(ctx context.Context, bridgeID string) error {
	return t.C.Bridges.MOH(ctx, bridgeID, "")
}
func (t ARITelephony) Play(ctx context.Context, ch, playbackID, media string) error {
	_, err := t.C.Channels.Play(ctx, ch, playbackID, media)
	return err
}
func (t ARITelephony) Continue(ctx context.Context, ch, dpContext, exten string) error {
	return t.C.Channels.Continue(ctx, ch, dpContext, exten, 1, "")
}
func (t ARITelephony) Channels(ctx context.Context) ([]ari.Channel, error) {
	return t.C.Channels.List(ctx)
}

func (t ARITelephony) RemoveFromBridge(ctx context.Context, bridgeID, ch string) error {
	return t.C.Bridges.RemoveChannel(ctx, bridgeID, ch)
}
func (t ARITelephony) SetVar(ctx context.Context, ch, name, value string) error {
	return t.C.Channels.SetVar(ctx, ch, name, value)
}
func (t ARITelephony) Mute(ctx context.Context, ch, dir string) error {
	return t.C.Channels.Mute(ctx, ch, dir)
}
func (t ARITelephony) Unmute(ctx context.Context, ch, dir string) error {
	return t.C.Channels.Unmute(ctx, ch, dir)
}

// Snoop spies on both directions of a channel; the snoop channel enters
// the application with appArgs, where it is recorded.
func (t ARITelephony) Snoop(ctx context.Context, ch, snoopID string, appArgs []string) error {
	_, err := t.C.Channels.Snoop(ctx, ch, ari.SnoopRequest{SnoopID: snoopID, Spy: "both", App: t.C.App(), AppArgs: appArgs})
	return err
}

// Record records a (snoop) channel as WAV with silence detection off, so the
// file's timeline is wall-clock minus pauses (bookmark offsets rely on it).
func (t ARITelephony) Record(ctx context.Context, ch, name string) error {
	_, err := t.C.Channels.Record(ctx, ch, ari.RecordRequest{Name: name, Format: "wav", IfExists: "overwrite"})
	return err
}
func (t ARITelephony) PauseRecording(ctx context.Context, name string, pause bool) error {
	if pause {
		return t.C.Recordings.Pause(ctx, name)
	}
	return t.C.Recordings.Unpause(ctx, name)
}
func (t ARITelephony) StopRecording(ctx context.Context, name string) error {
	return t.C.Recordings.Stop(ctx, name)
}
func (t ARITelephony) BridgePlay(ctx context.Context, bridgeID, playbackID, media string) error {
	_, err := t.C.Bridges.Play(ctx, bridgeID, playbackID, media)
	return err
}
func (t ARITelephony) StopPlayback(ctx context.Context, id string) error {
	return t.C.Playbacks.Stop(ctx, id)
}
func (t ARITelephony) SendDTMF(ctx context.Context, ch string, o ari.DTMFOptions) error {
	return t.C.Channels.SendDTMF(ctx, ch, o)
}
