package ari

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// Playbacks is the /playbacks resource group.
type Playbacks struct{ c *Client }

// Get returns a playback.
func (r Playbacks) Get(ctx context.Context, id string) (*Playback, error) {
	var pb Playback
	if err := r.c.do(ctx, http.MethodGet, "Playbacks.Get", "/playbacks/"+seg(id), nil, nil, &pb); err != nil {
		return nil, err
	}
	return &pb, nil
}

// Stop stops a playback.
func (r Playbacks) Stop(ctx context.Context, id string) error {
	return r.c.do(ctx, http.MethodDelete, "Playbacks.Stop", "/playbacks/"+seg(id), nil, nil, nil)
}

// Playback control operations.
const (
	PlaybackRestart = "restart"
	PlaybackPause   = "pause"
	PlaybackUnpause = "unpause"
	PlaybackReverse = "reverse"
	PlaybackForward = "forward"
)

// Control controls a playback; op is one of the Playback* operations.
func (r Playbacks) Control(ctx context.Context, id, op string) error {
	return r.c.do(ctx, http.MethodPost, "Playbacks.Control", "/playbacks/"+seg(id)+"/control",
		params{}.str("operation", op), nil, nil)
}

// Recordings is the /recordings resource group (live and stored).
type Recordings struct{ c *Client }

func (r Recordings) live(ctx context.Context, method, op, name, sub string) error {
	return r.c.do(ctx, method, op, "/recordings/live/"+seg(name)+sub, nil, nil, nil)
}

// GetLive returns a live recording.
func (r Recordings) GetLive(ctx context.Context, name string) (*LiveRecording, error) {
	var rec LiveRecording
	if err := r.c.do(ctx, http.MethodGet, "Recordings.GetLive", "/recordings/live/"+seg(name), nil, nil, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// Stop stops a live recording and keeps the file.
func (r Recordings) Stop(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodPost, "Recordings.Stop", name, "/stop")
}

// Cancel stops a live recording and discards the file.
func (r Recordings) Cancel(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodDelete, "Recordings.Cancel", name, "")
}

// Pause pauses a live recording (paused time is not in the file).
func (r Recordings) Pause(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodPost, "Recordings.Pause", name, "/pause")
}

// Unpause resumes a paused recording.
func (r Recordings) Unpause(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodDelete, "Recordings.Unpause", name, "/pause")
}

// Mute writes silence into a live recording until Unmute.
func (r Recordings) Mute(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodPost, "Recordings.Mute", name, "/mute")
}

// Unmute stops writing silence.
func (r Recordings) Unmute(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodDelete, "Recordings.Unmute", name, "/mute")
}

// GetStored returns a stored recording.
func (r Recordings) GetStored(ctx context.Context, name string) (*StoredRecording, error) {
	var rec StoredRecording
	if err := r.c.do(ctx, http.MethodGet, "Recordings.GetStored", "/recordings/stored/"+seg(name), nil, nil, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// ListStored lists stored recordings.
func (r Recordings) ListStored(ctx context.Context) ([]StoredRecording, error) {
	var recs []StoredRecording
	if err := r.c.do(ctx, http.MethodGet, "Recordings.ListStored", "/recordings/stored", nil, nil, &recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// DeleteStored deletes a stored recording.
func (r Recordings) DeleteStored(ctx context.Context, name string) error {
	return r.c.do(ctx, http.MethodDelete, "Recordings.DeleteStored", "/recordings/stored/"+seg(name), nil, nil, nil)
}

// CopyStored copies a stored recording to dest.
func (r Recordings) CopyStored(ctx context.Context, name, dest string) (*StoredRecording, error) {
	var rec StoredRecording
	if err := r.c.do(ctx, http.MethodPost, "Recordings.CopyStored", "/recordings/stored/"+seg(name)+"/copy",
		params{}.str("destinationRecordingName", dest), nil, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// DownloadStored streams a stored recording's file. The caller must close
// the reader; ctx must stay alive while reading.
func (r Recordings) DownloadStored(ctx context.Context, name string) (io.ReadCloser, error) {
	resp, err := r.c.send(ctx, http.MethodGet, "Recordings.DownloadStored", "/recordings/stored/"+seg(name)+"/file", nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Endpoints is the /endpoints resource group.
type Endpoints struct{ c *Client }

// List returns all endpoints.
func (r Endpoints) List(ctx context.Context) ([]Endpoint, error) {
	var eps []Endpoint
	if err := r.c.do(ctx, http.MethodGet, "Endpoints.List", "/endpoints", nil, nil, &eps); err != nil {
		return nil, err
	}
	return eps, nil
}

// ListByTech returns the endpoints of one technology (e.g. "PJSIP").
func (r Endpoints) ListByTech(ctx context.Context, tech string) ([]Endpoint, error) {
	var eps []Endpoint
	if err := r.c.do(ctx, http.MethodGet, "Endpoints.ListByTech", "/endpoints/"+seg(tech), nil, nil, &eps); err != nil {
		return nil, err
	}
	return eps, nil
}

// Get returns one endpoint, e.g. Get(ctx, "PJSIP", "1001").
func (r Endpoints) Get(ctx context.Context, tech, resource string) (*Endpoint, error) {
	var ep Endpoint
	if err := r.c.do(ctx, http.MethodGet, "Endpoints.Get", "/endpoints/"+seg(tech)+"/"+seg(resource), nil, nil, &ep); err != nil {
		return nil, err
	}
	return &ep, nil
}

// DeviceStates is the /deviceStates resource group. Names are full device
// names; ARI can only change "Stasis:<name>" devices.
type DeviceStates struct{ c *Client }

// Device state values.
const (
	DeviceUnknown     = "UNKNOWN"
	DeviceNotInUse    = "NOT_INUSE"
	DeviceInUse       = "INUSE"
	DeviceBusy        = "BUSY"
	DeviceInvalid     = "INVALID"
	DeviceUnavailable = "UNAVAILABLE"
	DeviceRinging     = "RINGING"
	DeviceRingInUse   = "RINGINUSE"
	DeviceOnHold      = "ONHOLD"
)

// List returns all ARI-controlled device states.
func (r DeviceStates) List(ctx context.Context) ([]DeviceState, error) {
	var ds []DeviceState
	if err := r.c.do(ctx, http.MethodGet, "DeviceStates.List", "/deviceStates", nil, nil, &ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// Get returns a device state, e.g. Get(ctx, "Stasis:agent-1001").
func (r DeviceStates) Get(ctx context.Context, name string) (*DeviceState, error) {
	var ds DeviceState
	if err := r.c.do(ctx, http.MethodGet, "DeviceStates.Get", "/deviceStates/"+seg(name), nil, nil, &ds); err != nil {
		return nil, err
	}
	return &ds, nil
}

// Put sets a Stasis device state (one of the Device* values).
func (r DeviceStates) Put(ctx context.Context, name, state string) error {
	return r.c.do(ctx, http.MethodPut, "DeviceStates.Put", "/deviceStates/"+seg(name),
		params{}.str("deviceState", state), nil, nil)
}

// Delete destroys a Stasis device state.
func (r DeviceStates) Delete(ctx context.Context, name string) error {
	return r.c.do(ctx, http.MethodDelete, "DeviceStates.Delete", "/deviceStates/"+seg(name), nil, nil, nil)
}

// Asterisk is the /asterisk resource group.
type Asterisk struct{ c *Client }

// Info returns information about Asterisk; only restricts it to some of
// "build", "system", "config", "status" (empty: all).
func (r Asterisk) Info(ctx context.Context, only ...string) (*AsteriskInfo, error) {
	var info AsteriskInfo
	if err := r.c.do(ctx, http.MethodGet, "Asterisk.Info", "/asterisk/info", params{}.list("only", only), nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Ping checks that Asterisk answers REST requests.
func (r Asterisk) Ping(ctx context.Context) (*AsteriskPing, error) {
	var p AsteriskPing
	if err := r.c.do(ctx, http.MethodGet, "Asterisk.Ping", "/asterisk/ping", nil, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetVar returns a global variable or function value.
func (r Asterisk) GetVar(ctx context.Context, name string) (string, error) {
	var v Variable
	err := r.c.do(ctx, http.MethodGet, "Asterisk.GetVar", "/asterisk/variable", params{}.str("variable", name), nil, &v)
	return v.Value, err
}

// SetVar sets a global variable.
func (r Asterisk) SetVar(ctx context.Context, name, value string) error {
	return r.c.do(ctx, http.MethodPost, "Asterisk.SetVar", "/asterisk/variable",
		params{"variable", name}.str("value", value), nil, nil)
}

// Applications is the /applications resource group.
type Applications struct{ c *Client }

// List returns all Stasis applications.
func (r Applications) List(ctx context.Context) ([]Application, error) {
	var apps []Application
	if err := r.c.do(ctx, http.MethodGet, "Applications.List", "/applications", nil, nil, &apps); err != nil {
		return nil, err
	}
	return apps, nil
}

// Get returns an application and its subscriptions.
func (r Applications) Get(ctx context.Context, name string) (*Application, error) {
	var app Application
	if err := r.c.do(ctx, http.MethodGet, "Applications.Get", "/applications/"+seg(name), nil, nil, &app); err != nil {
		return nil, err
	}
	return &app, nil
}

// Subscribe subscribes an application to event sources: "channel:ID",
// "bridge:ID", "endpoint:TECH[/RES]", "deviceState:NAME".
func (r Applications) Subscribe(ctx context.Context, name string, sources ...string) (*Application, error) {
	var app Application
	if err := r.c.do(ctx, http.MethodPost, "Applications.Subscribe", "/applications/"+seg(name)+"/subscription",
		params{"eventSource", strings.Join(sources, ",")}, nil, &app); err != nil {
		return nil, err
	}
	return &app, nil
}

// Unsubscribe removes event sources from an application.
func (r Applications) Unsubscribe(ctx context.Context, name string, sources ...string) (*Application, error) {
	var app Application
	if err := r.c.do(ctx, http.MethodDelete, "Applications.Unsubscribe", "/applications/"+seg(name)+"/subscription",
		params{"eventSource", strings.Join(sources, ",")}, nil, &app); err != nil {
		return nil, err
	}
	return &app, nil
}
