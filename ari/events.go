package ari

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is anything delivered on Client.Events: an event decoded from the
// ARI websocket, or a ConnectionEvent synthesized by the client.
type Event interface {
	// GetType returns the ARI event type, e.g. "StasisStart".
	GetType() string
	// GetApplication returns the Stasis application the event was sent to.
	GetApplication() string
	// GetTimestamp returns the time Asterisk created the event (for
	// ConnectionEvent: the time the client observed the change).
	GetTimestamp() time.Time
}

// EventBase holds the fields every ARI event carries. It is embedded in all
// concrete event types.
type EventBase struct {
	Type        string `json:"type"`
	Application string `json:"application"`
	Timestamp   Time   `json:"timestamp"`
	AsteriskID  string `json:"asterisk_id,omitempty"`
}

// GetType implements Event.
func (e *EventBase) GetType() string { return e.Type }

// GetApplication implements Event.
func (e *EventBase) GetApplication() string { return e.Application }

// GetTimestamp implements Event.
func (e *EventBase) GetTimestamp() time.Time { return e.Timestamp.Time }

// Event type names as sent by Asterisk in the "type" field.
const (
	TypeStasisStart              = "StasisStart"
	TypeStasisEnd                = "StasisEnd"
	TypeChannelCreated           = "ChannelCreated"
	TypeChannelDestroyed         = "ChannelDestroyed"
	TypeChannelStateChange       = "ChannelStateChange"
	TypeChannelDtmfReceived      = "ChannelDtmfReceived"
	TypeChannelHangupRequest     = "ChannelHangupRequest"
	TypeChannelEnteredBridge     = "ChannelEnteredBridge"
	TypeChannelLeftBridge        = "ChannelLeftBridge"
	TypeChannelVarset            = "ChannelVarset"
	TypeChannelHold              = "ChannelHold"
	TypeChannelUnhold            = "ChannelUnhold"
	TypeChannelCallerID          = "ChannelCallerId"
	TypeChannelConnectedLine     = "ChannelConnectedLine"
	TypeChannelDialplan          = "ChannelDialplan"
	TypeChannelTalkingStarted    = "ChannelTalkingStarted"
	TypeChannelTalkingFinished   = "ChannelTalkingFinished"
	TypeChannelToneDetected      = "ChannelToneDetected"
	TypeChannelTransfer          = "ChannelTransfer"
	TypeChannelUserevent         = "ChannelUserevent"
	TypeDial                     = "Dial"
	TypePlaybackStarted          = "PlaybackStarted"
	TypePlaybackContinuing       = "PlaybackContinuing"
	TypePlaybackFinished         = "PlaybackFinished"
	TypeRecordingStarted         = "RecordingStarted"
	TypeRecordingFinished        = "RecordingFinished"
	TypeRecordingFailed          = "RecordingFailed"
	TypeBridgeCreated            = "BridgeCreated"
	TypeBridgeDestroyed          = "BridgeDestroyed"
	TypeBridgeMerged             = "BridgeMerged"
	TypeBridgeVideoSourceChanged = "BridgeVideoSourceChanged"
	TypeBridgeBlindTransfer      = "BridgeBlindTransfer"
	TypeBridgeAttendedTransfer   = "BridgeAttendedTransfer"
	TypeEndpointStateChange      = "EndpointStateChange"
	TypeDeviceStateChanged       = "DeviceStateChanged"
	TypeApplicationReplaced      = "ApplicationReplaced"
	TypeApplicationMoveFailed    = "ApplicationMoveFailed"
	TypePeerStatusChange         = "PeerStatusChange"
	TypeContactStatusChange      = "ContactStatusChange"
	TypeTextMessageReceived      = "TextMessageReceived"

	// TypeConnection is the type of ConnectionEvent, which the client
	// synthesizes; Asterisk never sends it.
	TypeConnection = "ConnectionEvent"
)

// StasisStart: a channel entered the Stasis application.
type StasisStart struct {
	EventBase
	Args           []string `json:"args"`
	Channel        Channel  `json:"channel"`
	ReplaceChannel *Channel `json:"replace_channel,omitempty"`
}

// StasisEnd: a channel left the Stasis application.
type StasisEnd struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelCreated: a channel was created.
type ChannelCreated struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelDestroyed: a channel was destroyed (hung up).
type ChannelDestroyed struct {
	EventBase
	Cause     int     `json:"cause"`
	CauseTxt  string  `json:"cause_txt"`
	TechCause int     `json:"tech_cause,omitempty"`
	Channel   Channel `json:"channel"`
}

// ChannelStateChange: a channel's state changed (e.g. Ringing → Up).
type ChannelStateChange struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelDtmfReceived: a DTMF digit ended on a channel.
type ChannelDtmfReceived struct {
	EventBase
	Digit      string  `json:"digit"`
	DurationMs int     `json:"duration_ms"`
	Channel    Channel `json:"channel"`
}

// ChannelHangupRequest: a hang-up was requested on a channel.
type ChannelHangupRequest struct {
	EventBase
	Cause     int     `json:"cause,omitempty"`
	TechCause int     `json:"tech_cause,omitempty"`
	Soft      bool    `json:"soft,omitempty"`
	Channel   Channel `json:"channel"`
}

// ChannelEnteredBridge: a channel joined a bridge. Channel may be nil.
type ChannelEnteredBridge struct {
	EventBase
	Bridge  Bridge   `json:"bridge"`
	Channel *Channel `json:"channel,omitempty"`
}

// ChannelLeftBridge: a channel left a bridge.
type ChannelLeftBridge struct {
	EventBase
	Bridge  Bridge  `json:"bridge"`
	Channel Channel `json:"channel"`
}

// ChannelVarset: a variable changed. Channel is nil for global variables.
type ChannelVarset struct {
	EventBase
	Variable string   `json:"variable"`
	Value    string   `json:"value"`
	Channel  *Channel `json:"channel,omitempty"`
}

// ChannelHold: a channel put its peer on hold.
type ChannelHold struct {
	EventBase
	Channel    Channel `json:"channel"`
	Musicclass string  `json:"musicclass,omitempty"`
}

// ChannelUnhold: a channel took its peer off hold.
type ChannelUnhold struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelCallerId: a channel's caller id changed.
type ChannelCallerId struct { //nolint:revive // ARI spelling
	EventBase
	CallerPresentation    int     `json:"caller_presentation"`
	CallerPresentationTxt string  `json:"caller_presentation_txt"`
	Channel               Channel `json:"channel"`
}

// ChannelConnectedLine: a channel's connected line changed.
type ChannelConnectedLine struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelDialplan: a channel moved in the dialplan.
type ChannelDialplan struct {
	EventBase
	Channel         Channel `json:"channel"`
	DialplanApp     string  `json:"dialplan_app"`
	DialplanAppData string  `json:"dialplan_app_data"`
}

// ChannelTalkingStarted: talk detection (TALK_DETECT) saw speech start.
type ChannelTalkingStarted struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelTalkingFinished: talk detection saw speech stop; Duration in ms.
type ChannelTalkingFinished struct {
	EventBase
	Channel  Channel `json:"channel"`
	Duration int     `json:"duration"`
}

// ChannelToneDetected: tone detection (TONE_DETECT) fired.
type ChannelToneDetected struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelTransfer: a phone asked to transfer (SIP REFER) and
// PJSIP_TRANSFER_HANDLING is ari-only; answer with transfer_progress.
type ChannelTransfer struct {
	EventBase
	State      string     `json:"state,omitempty"`
	ReferTo    ReferTo    `json:"refer_to"`
	ReferredBy ReferredBy `json:"referred_by"`
}

// ReferTo is the target of a ChannelTransfer.
type ReferTo struct {
	RequestedDestination RequiredDestination `json:"requested_destination"`
	DestinationChannel   *Channel            `json:"destination_channel,omitempty"`
	ConnectedChannel     *Channel            `json:"connected_channel,omitempty"`
	Bridge               *Bridge             `json:"bridge,omitempty"`
}

// ReferredBy is the origin of a ChannelTransfer.
type ReferredBy struct {
	SourceChannel    Channel  `json:"source_channel"`
	ConnectedChannel *Channel `json:"connected_channel,omitempty"`
	Bridge           *Bridge  `json:"bridge,omitempty"`
}

// RequiredDestination is the destination requested by a transfer.
type RequiredDestination struct {
	ProtocolID               string            `json:"protocol_id,omitempty"`
	Destination              string            `json:"destination,omitempty"`
	AdditionalProtocolParams []AdditionalParam `json:"additional_protocol_params,omitempty"`
}

// AdditionalParam is a protocol parameter of a transfer destination.
type AdditionalParam struct {
	ParameterName  string `json:"parameter_name"`
	ParameterValue string `json:"parameter_value"`
}

// ChannelUserevent: a UserEvent from the dialplan or AMI. Userevent holds
// the user-defined fields.
type ChannelUserevent struct {
	EventBase
	Eventname string         `json:"eventname"`
	Channel   *Channel       `json:"channel,omitempty"`
	Bridge    *Bridge        `json:"bridge,omitempty"`
	Endpoint  *Endpoint      `json:"endpoint,omitempty"`
	Userevent map[string]any `json:"userevent,omitempty"`
}

// Dial: progress of a dial attempt (Dialstatus empty at start, then
// RINGING, ANSWER, BUSY, NOANSWER, CANCEL, CHANUNAVAIL, CONGESTION, ...).
type Dial struct {
	EventBase
	Caller     *Channel `json:"caller,omitempty"`
	Peer       Channel  `json:"peer"`
	Forward    string   `json:"forward,omitempty"`
	Forwarded  *Channel `json:"forwarded,omitempty"`
	Dialstring string   `json:"dialstring,omitempty"`
	Dialstatus string   `json:"dialstatus"`
}

// PlaybackStarted: a playback started.
type PlaybackStarted struct {
	EventBase
	Playback Playback `json:"playback"`
}

// PlaybackContinuing: a playback moved to the next media URI of a list.
type PlaybackContinuing struct {
	EventBase
	Playback Playback `json:"playback"`
}

// PlaybackFinished: a playback finished (or was stopped).
type PlaybackFinished struct {
	EventBase
	Playback Playback `json:"playback"`
}

// RecordingStarted: a live recording started.
type RecordingStarted struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// RecordingFinished: a live recording finished; Recording.Duration is the
// file length.
type RecordingFinished struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// RecordingFailed: a live recording failed; see Recording.Cause.
type RecordingFailed struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// BridgeCreated: a bridge was created.
type BridgeCreated struct {
	EventBase
	Bridge Bridge `json:"bridge"`
}

// BridgeDestroyed: a bridge was destroyed.
type BridgeDestroyed struct {
	EventBase
	Bridge Bridge `json:"bridge"`
}

// BridgeMerged: BridgeFrom was merged into Bridge.
type BridgeMerged struct {
	EventBase
	Bridge     Bridge `json:"bridge"`
	BridgeFrom Bridge `json:"bridge_from"`
}

// BridgeVideoSourceChanged: the video source of a single-video bridge changed.
type BridgeVideoSourceChanged struct {
	EventBase
	Bridge           Bridge `json:"bridge"`
	OldVideoSourceID string `json:"old_video_source_id,omitempty"`
}

// BridgeBlindTransfer: a blind transfer was performed by a phone in a bridge.
type BridgeBlindTransfer struct {
	EventBase
	Channel        Channel  `json:"channel"`
	ReplaceChannel *Channel `json:"replace_channel,omitempty"`
	Transferee     *Channel `json:"transferee,omitempty"`
	Exten          string   `json:"exten"`
	Context        string   `json:"context"`
	Result         string   `json:"result"`
	IsExternal     bool     `json:"is_external"`
	Bridge         *Bridge  `json:"bridge,omitempty"`
}

// BridgeAttendedTransfer: an attended transfer was performed by a phone.
// The main fields are typed; the destination details are kept raw.
type BridgeAttendedTransfer struct {
	EventBase
	TransfererFirstLeg        Channel  `json:"transferer_first_leg"`
	TransfererSecondLeg       Channel  `json:"transferer_second_leg"`
	ReplaceChannel            *Channel `json:"replace_channel,omitempty"`
	Transferee                *Channel `json:"transferee,omitempty"`
	TransferTarget            *Channel `json:"transfer_target,omitempty"`
	Result                    string   `json:"result"`
	IsExternal                bool     `json:"is_external"`
	TransfererFirstLegBridge  *Bridge  `json:"transferer_first_leg_bridge,omitempty"`
	TransfererSecondLegBridge *Bridge  `json:"transferer_second_leg_bridge,omitempty"`
	// DestinationType is bridge, application, link, threeway or fail.
	DestinationType            string          `json:"destination_type"`
	DestinationBridge          string          `json:"destination_bridge,omitempty"`
	DestinationApplication     string          `json:"destination_application,omitempty"`
	DestinationLinkFirstLeg    json.RawMessage `json:"destination_link_first_leg,omitempty"`
	DestinationLinkSecondLeg   json.RawMessage `json:"destination_link_second_leg,omitempty"`
	DestinationThreewayChannel json.RawMessage `json:"destination_threeway_channel,omitempty"`
	DestinationThreewayBridge  json.RawMessage `json:"destination_threeway_bridge,omitempty"`
}

// EndpointStateChange: an endpoint's state changed (online/offline).
type EndpointStateChange struct {
	EventBase
	Endpoint Endpoint `json:"endpoint"`
}

// DeviceStateChanged: a subscribed device state changed.
type DeviceStateChanged struct {
	EventBase
	DeviceState DeviceState `json:"device_state"`
}

// ApplicationReplaced: another websocket took over this application; this
// connection will receive no more events.
type ApplicationReplaced struct {
	EventBase
}

// ApplicationMoveFailed: POST /channels/{id}/move to Destination failed.
type ApplicationMoveFailed struct {
	EventBase
	Channel     Channel  `json:"channel"`
	Destination string   `json:"destination"`
	Args        []string `json:"args"`
}

// PeerStatusChange: a SIP peer's status changed.
type PeerStatusChange struct {
	EventBase
	Endpoint Endpoint `json:"endpoint"`
	Peer     Peer     `json:"peer"`
}

// ContactStatusChange: a PJSIP contact's status changed.
type ContactStatusChange struct {
	EventBase
	Endpoint    Endpoint    `json:"endpoint"`
	ContactInfo ContactInfo `json:"contact_info"`
}

// TextMessageReceived: an out-of-call text message arrived.
type TextMessageReceived struct {
	EventBase
	Message  TextMessage `json:"message"`
	Endpoint *Endpoint   `json:"endpoint,omitempty"`
}

// UnknownEvent is any well-formed event whose type this package does not
// model. Raw holds the complete JSON object.
type UnknownEvent struct {
	EventBase
	Raw json.RawMessage `json:"-"`
}

// ConnectionState is the state reported by a ConnectionEvent.
type ConnectionState int

const (
	// Disconnected: the event websocket is down (or could not be opened).
	Disconnected ConnectionState = iota
	// Connected: the websocket is up, /asterisk/info was read and the
	// subscriptions were re-issued.
	Connected
)

func (s ConnectionState) String() string {
	switch s {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	}
	return fmt.Sprintf("ConnectionState(%d)", int(s))
}

// ConnectionEvent is synthesized by the Client, never sent by Asterisk. It is
// delivered on the same channel as ARI events so consumers see it in order:
// events after a Connected event were received on the new connection.
type ConnectionEvent struct {
	EventBase
	State ConnectionState
	// Reconnect is true for a Connected event that is not the first one.
	Reconnect bool
	// AsteriskRestarted is true when Asterisk's startup time or entity id
	// differs from the previous connection's: every channel and bridge of
	// the previous connection is gone.
	AsteriskRestarted bool
	// Info is /asterisk/info as read on connect (nil when Disconnected).
	Info *AsteriskInfo
	// Err is why the connection dropped or could not be made.
	Err error
}

// typeProbe is decoded first to learn an event's type cheaply.
type typeProbe struct {
	Type string `json:"type"`
}

// ErrNoType is returned by DecodeEvent for a JSON object without a "type".
var ErrNoType = errors.New("ari: event has no type")

// DecodeEvent decodes one websocket message into its concrete event type
// (e.g. *StasisStart). A well-formed object of a type this package does not
// know gives *UnknownEvent; malformed JSON, a non-object or a missing type is
// an error. DecodeEvent never panics and does not retain data.
//
// Frequent event types are decoded by a hand-written fast path whose string
// fields share one copy of the message (so an event keeps its whole message,
// typically under 1 KiB, alive); anything unusual goes through
// encoding/json, with identical results.
func DecodeEvent(data []byte) (Event, error) {
	if ev, ok := fastDecode(data); ok {
		return ev, nil
	}
	return decodeStd(data)
}

// decodeStd is DecodeEvent with encoding/json only.
func decodeStd(data []byte) (Event, error) {
	var probe typeProbe
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("ari: decode event: %w", err)
	}
	if probe.Type == "" {
		return nil, ErrNoType
	}
	ev := newEvent(probe.Type)
	if ev == nil {
		u := &UnknownEvent{Raw: append(json.RawMessage(nil), data...)}
		if err := json.Unmarshal(data, &u.EventBase); err != nil {
			return nil, fmt.Errorf("ari: decode %s: %w", probe.Type, err)
		}
		return u, nil
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("ari: decode %s: %w", probe.Type, err)
	}
	return ev, nil
}

// newEvent returns a pointer to a zero event of the given type, or nil.
func newEvent(typ string) Event {
	switch typ {
	case TypeStasisStart:
		return &StasisStart{}
	case TypeStasisEnd:
		return &StasisEnd{}
	case TypeChannelCreated:
		return &ChannelCreated{}
	case TypeChannelDestroyed:
		return &ChannelDestroyed{}
	case TypeChannelStateChange:
		return &ChannelStateChange{}
	case TypeChannelDtmfReceived:
		return &ChannelDtmfReceived{}
	case TypeChannelHangupRequest:
		return &ChannelHangupRequest{}
	case TypeChannelEnteredBridge:
		return &ChannelEnteredBridge{}
	case TypeChannelLeftBridge:
		return &ChannelLeftBridge{}
	case TypeChannelVarset:
		return &ChannelVarset{}
	case TypeChannelHold:
		return &ChannelHold{}
	case TypeChannelUnhold:
		return &ChannelUnhold{}
	case TypeChannelCallerID:
		return &ChannelCallerId{}
	case TypeChannelConnectedLine:
		return &ChannelConnectedLine{}
	case TypeChannelDialplan:
		return &ChannelDialplan{}
	case TypeChannelTalkingStarted:
		return &ChannelTalkingStarted{}
	case TypeChannelTalkingFinished:
		return &ChannelTalkingFinished{}
	case TypeChannelToneDetected:
		return &ChannelToneDetected{}
	case TypeChannelTransfer:
		return &ChannelTransfer{}
	case TypeChannelUserevent:
		return &ChannelUserevent{}
	case TypeDial:
		return &Dial{}
	case TypePlaybackStarted:
		return &PlaybackStarted{}
	case TypePlaybackContinuing:
		return &PlaybackContinuing{}
	case TypePlaybackFinished:
		return &PlaybackFinished{}
	case TypeRecordingStarted:
		return &RecordingStarted{}
	case TypeRecordingFinished:
		return &RecordingFinished{}
	case TypeRecordingFailed:
		return &RecordingFailed{}
	case TypeBridgeCreated:
		return &BridgeCreated{}
	case TypeBridgeDestroyed:
		return &BridgeDestroyed{}
	case TypeBridgeMerged:
		return &BridgeMerged{}
	case TypeBridgeVideoSourceChanged:
		return &BridgeVideoSourceChanged{}
	case TypeBridgeBlindTransfer:
		return &BridgeBlindTransfer{}
	case TypeBridgeAttendedTransfer:
		return &BridgeAttendedTransfer{}
	case TypeEndpointStateChange:
		return &EndpointStateChange{}
	case TypeDeviceStateChanged:
		return &DeviceStateChanged{}
	case TypeApplicationReplaced:
		return &ApplicationReplaced{}
	case TypeApplicationMoveFailed:
		return &ApplicationMoveFailed{}
	case TypePeerStatusChange:
		return &PeerStatusChange{}
	case TypeContactStatusChange:
		return &ContactStatusChange{}
	case TypeTextMessageReceived:
		return &TextMessageReceived{}
	}
	return nil
}

// ChannelID names the channel an event is about, or "" for events that
// concern no single channel (or carry none, when malformed).
func ChannelID(ev Event) string {
	switch x := ev.(type) {
	case *StasisStart:
		return x.Channel.ID
	case *StasisEnd:
		return x.Channel.ID
	case *ChannelDestroyed:
		return x.Channel.ID
	case *ChannelStateChange:
		return x.Channel.ID
	case *ChannelDtmfReceived:
		return x.Channel.ID
	case *ChannelHangupRequest:
		return x.Channel.ID
	case *ChannelDialplan:
		return x.Channel.ID
	case *ChannelEnteredBridge:
		if x.Channel != nil {
			return x.Channel.ID
		}
	case *ChannelLeftBridge:
		return x.Channel.ID
	case *ChannelVarset:
		if x.Channel != nil {
			return x.Channel.ID
		}
	}
	return ""
}
