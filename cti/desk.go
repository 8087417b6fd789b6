package cti

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The agent's desk around a transfer: who is calling and from whom
// (transferredFrom), conference parties that are agents, transfers to a
// campaign's queue, the agent directory with live presence, and notices.

// TransferredFrom tells the receiving or consulted agent who handed the
// call over, with the first agent's notes and the caller's IVR text.
type TransferredFrom struct {
	AgentID       int64  `json:"agentId"`
	AgentName     string `json:"agentName"`
	InteractionID string `json:"interactionId"`
	Notes         string `json:"notes"`
	IVRText       string `json:"ivrText"`
}

// TransferOffer is the "transfer.offered" event a target agent gets while
// their phone is called (or, persistent, at once).
type TransferOffer struct {
	From            string           `json:"from"` // username of the transferring agent
	CustomerNumber  string           `json:"customerNumber"`
	Mode            string           `json:"mode"` // blind, consult, add
	TransferredFrom *TransferredFrom `json:"transferredFrom"`
}

func (e *Engine) transferredFrom(t *transfer) *TransferredFrom {
	if t.from == nil {
		return nil
	}
	return &TransferredFrom{AgentID: t.from.user.ID, AgentName: personName(t.from.user), InteractionID: t.c.rec.ID,
		Notes: t.c.rec.Notes, IVRText: t.c.rec.IVRText}
}

// personName is how a person is named in sentences and lists.
func personName(u *User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// joinAsParty makes a consulted or added agent a conference party: they get
// their own interaction (parent: the call they joined), go On Call with it,
// and wrap it when they leave the conference or the call ends.
func (e *Engine) joinAsParty(t *transfer) {
	ta, c := t.tagent, t.c
	now := e.now()
	uid := ta.user.ID
	pc := &call{campaign: c.campaign, agent: ta, partyOf: t, from: e.transferredFrom(t), rec: Interaction{
		ID: e.newID("I"), ParentID: c.rec.ID, CampaignID: c.rec.CampaignID, Direction: c.rec.Direction,
		CustomerNumber: c.rec.CustomerNumber, PlatformNumber: c.rec.PlatformNumber, IVRText: c.rec.IVRText,
		IVRData: c.rec.IVRData, AgentID: &uid, QueuedAt: &now, ConnectedAt: &now,
	}}
	t.pcall = pc
	e.calls[pc.rec.ID] = pc
	ta.call = pc
	e.callTransition(pc, CallActTransferIn, "conference party on "+c.rec.ID)
	if ta.state == AgentReserved {
		e.transition(ta, ActAccept, "")
	}
	e.publish(ta, "call.connected", e.callView(pc))
}

// leaveAsParty: a party agent hangs up or leaves from their adaptor.
func (e *Engine) leaveAsParty(pc *call) {
	t := pc.partyOf
	if t.state == XferConferenced {
		e.endParty(t.c, t, "party agent left")
		return
	}
	// Already out of the conference: just end their part.
	t.pcall = nil
	e.endCall(pc, CallActHangup, "left the conference")
	e.agentToWrap(pc)
}

// queueTarget finds the campaign whose queue a transfer goes to.
func (e *Engine) queueTarget(target string) (*Campaign, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(target), 10, 64)
	if err == nil {
		if camp := e.cfg.Campaigns[id]; camp != nil {
			return camp, nil
		}
	}
	for _, camp := range e.cfg.Campaigns {
		if strings.EqualFold(camp.Name, target) {
			return camp, nil
		}
	}
	return nil, invalid("target", "There is no queue called '"+target+"'.")
}

// toQueue hands the customer to another campaign's queue: a child
// interaction waits there with music and goes to that campaign's next
// Ready agent; the transferring agent wraps their part.
func (e *Engine) toQueue(t *transfer, camp *Campaign) error {
	c := t.c
	now := e.now()
	id := camp.ID
	cust := c.rec.CustomerChannel
	cc := &call{campaign: camp, recording: c.recording, from: e.transferredFrom(t), rec: Interaction{
		ID: e.newID("I"), ParentID: c.rec.ID, CampaignID: &id, Direction: c.rec.Direction,
		CustomerNumber: c.rec.CustomerNumber, PlatformNumber: c.rec.PlatformNumber, IVRText: c.rec.IVRText,
		IVRData: c.rec.IVRData, CustomerChannel: cust, QueuedAt: &now,
	}}
	c.rec.CustomerChannel = ""
	e.calls[cc.rec.ID] = cc
	e.channels[cust] = chanRef{role: roleCustomer, call: cc}
	e.callTransition(cc, CallActQueue, "transferred from "+c.rec.ID)
	e.closeHold(c)
	hb := c.holdBridge
	c.holdBridge = ""
	e.park(cc)
	if hb != "" {
		e.request(cust, "destroy hold bridge", func(ctx context.Context) error { return e.tel.DestroyBridge(ctx, hb) }, nil)
	}
	t.state, t.detail = XferDone, "queued on "+camp.Name
	e.saveTransfer(t, cc.rec.ID)
	e.publish(t.from, "transfer.state", t.view())
	c.rec.EndReason = "transferred to queue " + camp.Name
	e.endCall(c, CallActHangup, "transferred")
	e.agentToWrap(c)
	e.queues[camp.ID] = append(e.queues[camp.ID], cc)
	if camp.MaxQueueSeconds > 0 && camp.OverflowContext != "" {
		cc.timer = e.after(time.Duration(camp.MaxQueueSeconds)*time.Second, func() { e.overflow(cc) })
	}
	e.allocate()
	return nil
}

// --- notices ----------------------------------------------------------------

// Notice kinds an agent's adaptor shows as a banner ("notice" events).
const (
	NoticeAutoPause      = "auto_pause"
	NoticeAutoWrap       = "auto_wrap_applied"
	NoticeMissedTransfer = "missed_transfer"
	NoticeTelephonyLost  = "telephony_lost"
)

// Notice is the "notice" event: a sentence for the agent.
type Notice struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

func (e *Engine) notify(a *agent, kind, text string) {
	e.publish(a, "notice", Notice{Kind: kind, Text: text})
}

// --- directory ----------------------------------------------------------------

// DirectoryAgent is one agent in the transfer directory.
type DirectoryAgent struct {
	ID           int64    `json:"id"`
	Username     string   `json:"username"`
	DisplayName  string   `json:"displayName"`
	State        string   `json:"state"` // Ready, Paused, On Call, On Wrap, Logged out
	Reason       string   `json:"reason"`
	SinceSeconds int64    `json:"sinceSeconds"`
	Campaigns    []string `json:"campaigns"`
}

// DirectoryQueue is a campaign's queue as a transfer target.
type DirectoryQueue struct {
	CampaignID int64  `json:"campaignId"`
	Name       string `json:"name"`
	Waiting    int    `json:"waiting"`
}

// Directory is what an agent can transfer to (quick connects come from
// the admin's list, added by the API).
type Directory struct {
	Agents []DirectoryAgent `json:"agents"`
	Queues []DirectoryQueue `json:"queues"`
}

// Presence is the "directory.presence" event.
type Presence struct {
	ID     int64  `json:"id"`
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// directoryWatch is who has the directory open: they get presence events
// for agents on their campaigns until the watch lapses (each directory
// request renews it), so state changes do not fan out to every agent.
type directoryWatch struct {
	until map[int64]time.Time
}

// directoryWatchFor is how long one directory request keeps presence
// events coming.
const directoryWatchFor = 10 * time.Minute

// presenceLabel is the state an agent's colleagues see.
func presenceLabel(a *agent) string {
	if a == nil {
		return "Logged out"
	}
	switch a.state {
	case AgentReady:
		return "Ready"
	case AgentPaused:
		return "Paused"
	case AgentReserved, AgentOnCall:
		return "On Call"
	case AgentOnWrap:
		return "On Wrap"
	default:
		return "Logged out"
	}
}

func presenceReason(a *agent) string {
	if a == nil {
		return ""
	}
	switch a.state {
	case AgentPaused:
		return a.pauseReason
	case AgentLoggedIn, AgentConnecting:
		return "Logged in, phone not connected"
	case AgentReserved:
		return "Phone ringing"
	}
	return ""
}

// AgentDirectory lists the other agents (filtered by q on name) with their
// live state, and the campaigns' queues.
func (e *Engine) AgentDirectory(ctx context.Context, userID int64, q string) (Directory, error) {
	d := Directory{Agents: []DirectoryAgent{}, Queues: []DirectoryQueue{}}
	q = strings.ToLower(strings.TrimSpace(q))
	err := e.exec(ctx, func() error {
		if e.cfg.Users[userID] == nil {
			return notFound("There is no such agent.")
		}
		if e.watch.until == nil {
			e.watch.until = map[int64]time.Time{}
		}
		now := e.now()
		e.watch.until[userID] = now.Add(directoryWatchFor)
		for _, u := range e.cfg.Users {
			if u.ID == userID || u.Disabled || u.Role == RoleAdmin {
				continue
			}
			if q != "" && !strings.Contains(strings.ToLower(u.Username), q) && !strings.Contains(strings.ToLower(u.DisplayName), q) {
				continue
			}
			a := e.agents[u.ID]
			da := DirectoryAgent{ID: u.ID, Username: u.Username, DisplayName: personName(u), State: presenceLabel(a),
				Reason: presenceReason(a), Campaigns: []string{}}
			if a != nil {
				da.SinceSeconds = int64(now.Sub(a.since) / time.Second)
			}
			for _, cid := range e.campaignsOf[u.ID] {
				if c := e.cfg.Campaigns[cid]; c != nil {
					da.Campaigns = append(da.Campaigns, c.Name)
				}
			}
			slices.Sort(da.Campaigns)
			d.Agents = append(d.Agents, da)
		}
		rank := map[string]int{"Ready": 0, "Paused": 1, "On Wrap": 2, "On Call": 3, "Logged out": 4}
		slices.SortFunc(d.Agents, func(x, y DirectoryAgent) int {
			if r := cmp.Compare(rank[x.State], rank[y.State]); r != 0 {
				return r
			}
			return cmp.Compare(strings.ToLower(x.DisplayName), strings.ToLower(y.DisplayName))
		})
		for _, c := range e.cfg.Campaigns {
			d.Queues = append(d.Queues, DirectoryQueue{CampaignID: c.ID, Name: c.Name, Waiting: len(e.queues[c.ID])})
		}
		slices.SortFunc(d.Queues, func(x, y DirectoryQueue) int { return cmp.Compare(x.Name, y.Name) })
		return nil
	})
	return d, err
}

// presenceChanged tells agents who have the directory open, and share a
// campaign with a, that a's state changed.
func (e *Engine) presenceChanged(a *agent) {
	if len(e.watch.until) == 0 {
		return
	}
	now := e.now()
	p := Presence{ID: a.user.ID, State: presenceLabel(a), Reason: presenceReason(a)}
	if a.state == AgentLoggedOut {
		p.State, p.Reason = "Logged out", ""
	}
	for uid, until := range e.watch.until {
		if now.After(until) {
			delete(e.watch.until, uid)
			continue
		}
		w := e.agents[uid]
		if uid == a.user.ID || w == nil || !e.shareCampaign(uid, a.user.ID) {
			continue
		}
		e.publish(w, "directory.presence", p)
	}
}

func (e *Engine) shareCampaign(x, y int64) bool {
	for _, cid := range e.campaignsOf[x] {
		if e.members[cid][y] {
			return true
		}
	}
	return false
}

// wrapLabel names a wrap code as the agent saw it.
func wrapLabel(c *Campaign, code string) string {
	if c != nil {
		for _, w := range c.WrapCodes {
			if w.Code == code && w.Label != "" {
				return "\u201c" + w.Label + "\u201d"
			}
		}
	}
	return "\u201c" + code + "\u201d"
}
