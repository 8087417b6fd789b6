package ari

import (
	"context"
	"net/http"
)

// Bridges is the /bridges resource group.
type Bridges struct{ c *Client }

// Bridge type flags for BridgeRequest.Types.
const (
	BridgeMixing      = "mixing"
	BridgeHolding     = "holding"
	BridgeDTMFEvents  = "dtmf_events"
	BridgeProxyMedia  = "proxy_media"
	BridgeVideoSFU    = "video_sfu"
	BridgeVideoSingle = "video_single"
	BridgeSDPLabel    = "sdp_label"
)

// BridgeRequest is the input of Bridges.Create.
type BridgeRequest struct {
	ID    string   // client-chosen id (see NewID); empty lets Asterisk choose
	Types []string // e.g. {BridgeMixing, BridgeDTMFEvents}
	Name  string
}

// Create creates a bridge (POST /bridges). All fields go in the query
// string: a JSON body with "name" is rejected by Asterisk 22.10.1.
func (r Bridges) Create(ctx context.Context, req BridgeRequest) (*Bridge, error) {
	q := params{}.list("type", req.Types).str("bridgeId", req.ID).str("name", req.Name)
	var b Bridge
	if err := r.c.do(ctx, http.MethodPost, "Bridges.Create", "/bridges", q, nil, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// Get returns one bridge.
func (r Bridges) Get(ctx context.Context, id string) (*Bridge, error) {
	var b Bridge
	if err := r.c.do(ctx, http.MethodGet, "Bridges.Get", "/bridges/"+seg(id), nil, nil, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// List returns all bridges.
func (r Bridges) List(ctx context.Context) ([]Bridge, error) {
	var bs []Bridge
	if err := r.c.do(ctx, http.MethodGet, "Bridges.List", "/bridges", nil, nil, &bs); err != nil {
		return nil, err
	}
	return bs, nil
}

// Destroy destroys a bridge; its channels stay in Stasis.
func (r Bridges) Destroy(ctx context.Context, id string) error {
	return r.c.do(ctx, http.MethodDelete, "Bridges.Destroy", "/bridges/"+seg(id), nil, nil, nil)
}

// AddChannelRequest is the input of Bridges.AddChannel.
type AddChannelRequest struct {
	Channels []string
	Role     string // e.g. "announcer", "participant"; empty for none
	// AbsorbDTMF keeps the channel's DTMF from reaching the others
	// (ChannelDtmfReceived is still sent).
	AbsorbDTMF bool
	// Mute drops the channel's audio for the whole time it is bridged.
	Mute                        bool
	InhibitConnectedLineUpdates bool
}

// AddChannel adds channels to a bridge (moving them out of any other
// Stasis bridge).
func (r Bridges) AddChannel(ctx context.Context, bridgeID string, req AddChannelRequest) error {
	q := params{}.list("channel", req.Channels).str("role", req.Role).
		bool("absorbDTMF", req.AbsorbDTMF).bool("mute", req.Mute).
		bool("inhibitConnectedLineUpdates", req.InhibitConnectedLineUpdates)
	return r.c.do(ctx, http.MethodPost, "Bridges.AddChannel", "/bridges/"+seg(bridgeID)+"/addChannel", q, nil, nil)
}

// RemoveChannel removes channels from a bridge.
func (r Bridges) RemoveChannel(ctx context.Context, bridgeID string, channels ...string) error {
	return r.c.do(ctx, http.MethodPost, "Bridges.RemoveChannel", "/bridges/"+seg(bridgeID)+"/removeChannel",
		params{}.list("channel", channels), nil, nil)
}

// MOH plays music on hold to a bridge; class may be empty for the default.
func (r Bridges) MOH(ctx context.Context, bridgeID, class string) error {
	return r.c.do(ctx, http.MethodPost, "Bridges.MOH", "/bridges/"+seg(bridgeID)+"/moh", params{}.str("mohClass", class), nil, nil)
}

// StopMOH stops music on hold in a bridge.
func (r Bridges) StopMOH(ctx context.Context, bridgeID string) error {
	return r.c.do(ctx, http.MethodDelete, "Bridges.StopMOH", "/bridges/"+seg(bridgeID)+"/moh", nil, nil, nil)
}

// Play plays media to every channel of a bridge. playbackID is
// client-chosen or empty.
func (r Bridges) Play(ctx context.Context, bridgeID, playbackID string, media ...string) (*Playback, error) {
	q := params{}.list("media", media).str("playbackId", playbackID)
	var pb Playback
	if err := r.c.do(ctx, http.MethodPost, "Bridges.Play", "/bridges/"+seg(bridgeID)+"/play", q, nil, &pb); err != nil {
		return nil, err
	}
	return &pb, nil
}

// Record records a bridge's mix (it stops when the bridge has no audio; see
// ARI-NOTES: prefer a snoop on the customer channel).
func (r Bridges) Record(ctx context.Context, bridgeID string, req RecordRequest) (*LiveRecording, error) {
	var rec LiveRecording
	if err := r.c.do(ctx, http.MethodPost, "Bridges.Record", "/bridges/"+seg(bridgeID)+"/record", req.params(), nil, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}
