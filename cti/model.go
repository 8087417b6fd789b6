package cti

import "time"

// Role of a user.
type Role string

const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
	// RoleReviewer searches call history and listens to recordings (quality
	// review); a reviewer takes no calls and changes nothing.
	RoleReviewer Role = "reviewer"
)

// User is a person who logs in: an agent, supervisor or admin.
type User struct {
	ID                   int64  `json:"id"`
	Username             string `json:"username"`
	DisplayName          string `json:"displayName"`
	Role                 Role   `json:"role"`
	DefaultPhone         string `json:"defaultPhone"`
	ManualCallWhenPaused bool   `json:"manualCallWhenPaused"`
	TransferWhenPaused   bool   `json:"transferWhenPaused"`
	RecordingControl     bool   `json:"recordingControl"`
	Disabled             bool   `json:"disabled"`
}

// Campaign groups calls: inbound (DIDs) or outbound (dialler); it carries
// the wrap, recording and queue settings.
type Campaign struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	Kind              string     `json:"kind"`
	PlatformNumber    string     `json:"platformNumber"`
	DefaultRegion     string     `json:"defaultRegion"`
	Recording         bool       `json:"recording"`
	WrapLimitSeconds  int        `json:"wrapLimitSeconds"`
	DefaultWrapCode   string     `json:"defaultWrapCode"`
	ExtendWrapSeconds int        `json:"extendWrapSeconds"`
	MaxQueueSeconds   int        `json:"maxQueueSeconds"`
	OverflowContext   string     `json:"overflowContext"`
	OverflowExtension string     `json:"overflowExtension"`
	PaymentEnabled    bool       `json:"paymentEnabled"`
	DIDs              []string   `json:"dids"`
	WrapCodes         []WrapCode `json:"wrapCodes"`
	AgentIDs          []int64    `json:"agentIds"`
	// Announcements the agent may play to the contact.
	Announcements []Announcement `json:"announcements"`
	// Settings is the campaign's free-form settings (dialler, payment
	// gateway) as stored.
	Settings []byte `json:"-"`
}

// Announcement is a sound an agent plays to the contact during a call.
type Announcement struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Media string `json:"-"` // Asterisk media URI
}

// Workflow is a dialplan destination for transfers (an IVR, survey, ...).
type Workflow struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Context   string `json:"context"`
	Extension string `json:"extension"`
	Priority  int    `json:"priority"`
}

// WrapCode is a disposition an agent picks after a call.
type WrapCode struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Config is the admin-edited configuration the engine works from. It is
// loaded whole and swapped atomically when an admin changes something.
type Config struct {
	Campaigns    map[int64]*Campaign
	ByDID        map[string]*Campaign
	PauseReasons []string // reasons an agent may choose
	Users        map[int64]*User
	Workflows    map[string]*Workflow // by name
	// MediaBase is how Asterisk reaches ctid's media URL for uploaded
	// announcements (e.g. http://ctid:8080); set by the server, not stored.
	MediaBase string
}

// Interaction is the business record of one customer call.
type Interaction struct {
	ID              string     `json:"interactionId"`
	CampaignID      *int64     `json:"campaignId,omitempty"`
	Direction       string     `json:"direction"` // IN or OUT
	CustomerNumber  string     `json:"customerNumber"`
	PlatformNumber  string     `json:"platformNumber"`
	IVRText         string     `json:"ivrText"`
	IVRData         string     `json:"ivrData"`
	AgentID         *int64     `json:"agentId,omitempty"`
	State           CallState  `json:"state"`
	QueuedAt        *time.Time `json:"queuedAt,omitempty"`
	OfferedAt       *time.Time `json:"offeredAt,omitempty"`
	ConnectedAt     *time.Time `json:"connectedAt,omitempty"`
	EndedAt         *time.Time `json:"endedAt,omitempty"`
	WrappedAt       *time.Time `json:"wrappedAt,omitempty"`
	QueueMs         int64      `json:"queueMs"`
	HoldMs          int64      `json:"holdMs"` // time the agent held the customer
	WrapCode        string     `json:"wrapCode"`
	Notes           string     `json:"notes"`
	EndReason       string     `json:"endReason"`
	CustomerChannel string     `json:"-"`
	ParentID        string     `json:"parentId,omitempty"` // the interaction this was transferred from
}

// Leg is one channel that took part in an interaction.
type Leg struct {
	InteractionID string
	ChannelID     string
	Role          string // customer, agent, third_party
	Endpoint      string
	AgentID       *int64
	StartedAt     time.Time
	AnsweredAt    *time.Time
	EndedAt       *time.Time
	Cause         string
}

// AgentSession is the persisted part of a logged-in agent, enough for a
// restarted ctid to restore them and re-adopt their phone leg.
type AgentSession struct {
	UserID        int64
	State         AgentState
	PauseReason   string
	PhoneMode     PhoneMode
	PhoneNumber   string
	Persistent    bool
	AgentChannel  string
	BridgeID      string
	InteractionID string
	StateSince    time.Time
}

// TransferRecord is a transfer or conference leg as stored.
type TransferRecord struct {
	ID, InteractionID string
	AgentID           *int64
	Mode, TargetType  string
	Target, State     string
	ChildID, Detail   string
}

// RecordingRecord is a call recording as stored.
type RecordingRecord struct {
	Name, InteractionID, CustomerChannel, State string
	StartedAt, EndedAt                          *time.Time
	DurationMs                                  int64
}

// Bookmark marks a moment in a recording (offset excludes paused time).
type Bookmark struct {
	RecordingName string    `json:"recordingName"`
	InteractionID string    `json:"interactionId"`
	OffsetMs      int64     `json:"offsetMs"`
	Note          string    `json:"note"`
	UserID        int64     `json:"userId"`
	At            time.Time `json:"at"`
}

// PaymentRecord is a payment outcome: never card number or CVV.
type PaymentRecord struct {
	ID, InteractionID         string
	AgentID                   int64
	Reference                 string
	AmountMinor               int64
	Currency                  string
	CardBrand, CardLast4      string
	Approved                  bool
	GatewayRef, DeclineReason string
}
