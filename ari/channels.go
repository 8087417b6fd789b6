package ari

import (
	"context"
	"net/http"
)

// Channels is the /channels resource group.
type Channels struct{ c *Client }

// OriginateRequest is the input of Channels.Originate. Endpoint is required,
// and either App (with AppArgs) or Context/Extension/Priority/Label.
type OriginateRequest struct {
	Endpoint  string   // e.g. "PJSIP/1001", "Local/s@cust"
	App       string   // Stasis application to put the channel in
	AppArgs   []string // StasisStart args (sent comma-joined)
	Context   string
	Extension string
	Priority  int
	Label     string
	CallerID  string // e.g. `"Alice" <1001>`
	// Timeout in seconds to wait for answer; 0 means Asterisk's default (30),
	// -1 means no timeout.
	Timeout        int
	ChannelID      string // client-chosen id (see NewID)
	OtherChannelID string // id of the ;2 half of a Local channel
	Originator     string // id of the channel that causes this one (linkedid)
	Formats        []string
	Variables      map[string]string // sent in the JSON body
	// ReportedVariables are set like Variables but with report_events, so
	// they appear in the channelvars of later events and GET /channels
	// (Asterisk 22.10+; older versions reject the request).
	ReportedVariables map[string]string
}

// Originate creates a channel and dials it (POST /channels).
func (r Channels) Originate(ctx context.Context, req OriginateRequest) (*Channel, error) {
	q := params{}.
		str("endpoint", req.Endpoint).
		str("app", req.App).
		list("appArgs", req.AppArgs).
		str("context", req.Context).
		str("extension", req.Extension).
		int("priority", req.Priority).
		str("label", req.Label).
		str("callerId", req.CallerID).
		int("timeout", req.Timeout).
		str("channelId", req.ChannelID).
		str("otherChannelId", req.OtherChannelID).
		str("originator", req.Originator).
		list("formats", req.Formats)
	var ch Channel
	if err := r.c.do(ctx, http.MethodPost, "Channels.Originate", "/channels", q, varsBody(req.Variables, req.ReportedVariables), &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// CreateRequest is the input of Channels.Create.
type CreateRequest struct {
	Endpoint       string
	App            string
	AppArgs        []string
	ChannelID      string
	OtherChannelID string
	Originator     string
	Formats        []string
	Variables      map[string]string
	// ReportedVariables: see OriginateRequest.
	ReportedVariables map[string]string
}

// Create creates a channel without dialing it (POST /channels/create). It
// enters Stasis at once, in state Down; call Dial next.
func (r Channels) Create(ctx context.Context, req CreateRequest) (*Channel, error) {
	q := params{}.
		str("endpoint", req.Endpoint).
		str("app", req.App).
		list("appArgs", req.AppArgs).
		str("channelId", req.ChannelID).
		str("otherChannelId", req.OtherChannelID).
		str("originator", req.Originator).
		list("formats", req.Formats)
	var ch Channel
	if err := r.c.do(ctx, http.MethodPost, "Channels.Create", "/channels/create", q, varsBody(req.Variables, req.ReportedVariables), &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Dial dials a channel made by Create. caller is the channel id the dial is
// for (may be empty); timeout in seconds (0: Asterisk's default).
func (r Channels) Dial(ctx context.Context, id, caller string, timeout int) error {
	q := params{}.str("caller", caller).int("timeout", timeout)
	return r.c.do(ctx, http.MethodPost, "Channels.Dial", "/channels/"+seg(id)+"/dial", q, nil, nil)
}

// Get returns one channel.
func (r Channels) Get(ctx context.Context, id string) (*Channel, error) {
	var ch Channel
	if err := r.c.do(ctx, http.MethodGet, "Channels.Get", "/channels/"+seg(id), nil, nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// List returns all active channels.
func (r Channels) List(ctx context.Context) ([]Channel, error) {
	var chs []Channel
	if err := r.c.do(ctx, http.MethodGet, "Channels.List", "/channels", nil, nil, &chs); err != nil {
		return nil, err
	}
	return chs, nil
}

// Hangup hangs a channel up. reason is empty or one of normal, busy,
// congestion, no_answer, timeout, rejected, unallocated, normal_unspecified,
// number_incomplete, codec_mismatch, interworking, failure,
// answered_elsewhere.
func (r Channels) Hangup(ctx context.Context, id, reason string) error {
	return r.c.do(ctx, http.MethodDelete, "Channels.Hangup", "/channels/"+seg(id), params{}.str("reason", reason), nil, nil)
}

func (r Channels) simple(ctx context.Context, method, op, id, sub string, q params) error {
	return r.c.do(ctx, method, op, "/channels/"+seg(id)+sub, q, nil, nil)
}

// Answer answers a channel.
func (r Channels) Answer(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodPost, "Channels.Answer", id, "/answer", nil)
}

// Ring indicates ringing to a channel.
func (r Channels) Ring(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodPost, "Channels.Ring", id, "/ring", nil)
}

// RingStop stops ringing indication.
func (r Channels) RingStop(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodDelete, "Channels.RingStop", id, "/ring", nil)
}

// Progress indicates call progress (early media) to a channel.
func (r Channels) Progress(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodPost, "Channels.Progress", id, "/progress", nil)
}

// Hold indicates hold to a channel's peer.
func (r Channels) Hold(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodPost, "Channels.Hold", id, "/hold", nil)
}

// Unhold removes the hold indication.
func (r Channels) Unhold(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodDelete, "Channels.Unhold", id, "/hold", nil)
}

// MOH starts music on hold on a channel; class may be empty for the default.
func (r Channels) MOH(ctx context.Context, id, class string) error {
	return r.simple(ctx, http.MethodPost, "Channels.MOH", id, "/moh", params{}.str("mohClass", class))
}

// StopMOH stops music on hold on a channel.
func (r Channels) StopMOH(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodDelete, "Channels.StopMOH", id, "/moh", nil)
}

// Silence plays silence to a channel.
func (r Channels) Silence(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodPost, "Channels.Silence", id, "/silence", nil)
}

// StopSilence stops playing silence.
func (r Channels) StopSilence(ctx context.Context, id string) error {
	return r.simple(ctx, http.MethodDelete, "Channels.StopSilence", id, "/silence", nil)
}

// Mute directions.
const (
	DirectionIn   = "in"
	DirectionOut  = "out"
	DirectionBoth = "both"
)

// Mute mutes a channel's audio; dir is in, out or both (empty: both).
// Muting "in" suppresses the caller's voice but not DTMF events.
func (r Channels) Mute(ctx context.Context, id, dir string) error {
	return r.simple(ctx, http.MethodPost, "Channels.Mute", id, "/mute", params{}.str("direction", dir))
}

// Unmute unmutes a channel; dir as for Mute.
func (r Channels) Unmute(ctx context.Context, id, dir string) error {
	return r.simple(ctx, http.MethodDelete, "Channels.Unmute", id, "/mute", params{}.str("direction", dir))
}

// DTMFOptions is the input of Channels.SendDTMF. Durations are in
// milliseconds; zero means Asterisk's default.
type DTMFOptions struct {
	Digits   string
	Before   int
	Between  int
	Duration int
	After    int
}

// SendDTMF sends DTMF digits to a channel.
func (r Channels) SendDTMF(ctx context.Context, id string, o DTMFOptions) error {
	q := params{}.str("dtmf", o.Digits).int("before", o.Before).int("between", o.Between).
		int("duration", o.Duration).int("after", o.After)
	return r.simple(ctx, http.MethodPost, "Channels.SendDTMF", id, "/dtmf", q)
}

// Play plays media URIs (e.g. "sound:beep", "recording:name", "tone:ring")
// to a channel, one after the other. playbackID is client-chosen (see
// NewID) or empty.
func (r Channels) Play(ctx context.Context, id, playbackID string, media ...string) (*Playback, error) {
	q := params{}.list("media", media).str("playbackId", playbackID)
	var pb Playback
	if err := r.c.do(ctx, http.MethodPost, "Channels.Play", "/channels/"+seg(id)+"/play", q, nil, &pb); err != nil {
		return nil, err
	}
	return &pb, nil
}

// RecordRequest is the input of Channels.Record and Bridges.Record. Name and
// Format are required.
type RecordRequest struct {
	Name               string
	Format             string // e.g. "wav"
	MaxDurationSeconds int
	// MaxSilenceSeconds: 0 disables silence detection (recommended, since
	// silence trimming shortens the file).
	MaxSilenceSeconds int
	IfExists          string // fail (default), overwrite, append
	Beep              bool
	TerminateOn       string // none (default), any, *, #
}

func (rr RecordRequest) params() params {
	return params{}.str("name", rr.Name).str("format", rr.Format).
		int("maxDurationSeconds", rr.MaxDurationSeconds).
		int("maxSilenceSeconds", rr.MaxSilenceSeconds).
		str("ifExists", rr.IfExists).bool("beep", rr.Beep).
		str("terminateOn", rr.TerminateOn)
}

// Record starts recording a channel.
func (r Channels) Record(ctx context.Context, id string, req RecordRequest) (*LiveRecording, error) {
	var rec LiveRecording
	if err := r.c.do(ctx, http.MethodPost, "Channels.Record", "/channels/"+seg(id)+"/record", req.params(), nil, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// SnoopRequest is the input of Channels.Snoop. App is required; Spy and
// Whisper are none, in, out or both.
type SnoopRequest struct {
	SnoopID string
	Spy     string
	Whisper string
	App     string
	AppArgs []string
}

// Snoop creates a snoop channel on a channel; it enters App.
func (r Channels) Snoop(ctx context.Context, id string, req SnoopRequest) (*Channel, error) {
	q := params{}.str("spy", req.Spy).str("whisper", req.Whisper).str("app", req.App).
		list("appArgs", req.AppArgs).str("snoopId", req.SnoopID)
	var ch Channel
	if err := r.c.do(ctx, http.MethodPost, "Channels.Snoop", "/channels/"+seg(id)+"/snoop", q, nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Continue sends a channel back to the dialplan (it leaves Stasis). Empty
// values keep the channel's current context/extension; priority 0 means
// the next one.
func (r Channels) Continue(ctx context.Context, id, dpContext, ext string, priority int, label string) error {
	q := params{}.str("context", dpContext).str("extension", ext).int("priority", priority).str("label", label)
	return r.simple(ctx, http.MethodPost, "Channels.Continue", id, "/continue", q)
}

// Move moves a channel to another Stasis application.
func (r Channels) Move(ctx context.Context, id, app string, appArgs []string) error {
	q := params{}.str("app", app).list("appArgs", appArgs)
	return r.simple(ctx, http.MethodPost, "Channels.Move", id, "/move", q)
}

// Redirect asks the channel's technology to transfer it to endpoint (SIP
// 302/REFER: the call usually leaves Asterisk).
func (r Channels) Redirect(ctx context.Context, id, endpoint string) error {
	return r.simple(ctx, http.MethodPost, "Channels.Redirect", id, "/redirect", params{}.str("endpoint", endpoint))
}

// GetVar returns a channel variable or function value.
func (r Channels) GetVar(ctx context.Context, id, name string) (string, error) {
	var v Variable
	err := r.c.do(ctx, http.MethodGet, "Channels.GetVar", "/channels/"+seg(id)+"/variable",
		params{}.str("variable", name), nil, &v)
	return v.Value, err
}

// SetVar sets a channel variable. An empty value unsets it.
func (r Channels) SetVar(ctx context.Context, id, name, value string) error {
	q := params{"variable", name}.str("value", value)
	return r.simple(ctx, http.MethodPost, "Channels.SetVar", id, "/variable", q)
}

// SetReportedVar sets a channel variable with report_events=true, so it is
// included in the channelvars of later events (Asterisk 22.10+).
func (r Channels) SetReportedVar(ctx context.Context, id, name, value string) error {
	q := params{"variable", name}.str("value", value).bool("report_events", true)
	return r.simple(ctx, http.MethodPost, "Channels.SetReportedVar", id, "/variable", q)
}

// TransferProgress reports the progress of a ChannelTransfer (REFER) handled
// by the application; states is e.g. channel_progress, channel_answered,
// channel_unavailable, channel_declined.
func (r Channels) TransferProgress(ctx context.Context, id, states string) error {
	return r.simple(ctx, http.MethodPost, "Channels.TransferProgress", id, "/transfer_progress", params{}.str("states", states))
}
