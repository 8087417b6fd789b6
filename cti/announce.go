package cti

import (
	"context"
	"strings"
)

// PlayAnnouncement plays one of the campaign's announcements into the call:
// played to the bridge, so both the contact and the agent hear it.
func (e *Engine) PlayAnnouncement(ctx context.Context, userID, announcementID int64) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c == nil || a.state != AgentOnCall || c.rec.State != CallConnected {
			return conflict(string(a.state), "You can play an announcement only during a connected call.")
		}
		if c.campaign == nil {
			return notFound("This call has no campaign announcements.")
		}
		var ann *Announcement
		for i := range c.campaign.Announcements {
			if c.campaign.Announcements[i].ID == announcementID {
				ann = &c.campaign.Announcements[i]
			}
		}
		if ann == nil {
			return notFound("That announcement is not one of this campaign's.")
		}
		if c.playback != "" {
			return conflict(string(a.state), "An announcement is already playing.")
		}
		if c.holdBridge != "" {
			return conflict(string(a.state), "The customer is on hold and would not hear it: resume the call first.")
		}
		media := ann.Media
		if tok, ok := strings.CutPrefix(media, "media:"); ok {
			if e.cfg.MediaBase == "" {
				return &Error{Kind: KindUnavailable, Msg: "uploaded announcements need CTID_MEDIA_URL"}
			}
			media = "sound:" + strings.TrimSuffix(e.cfg.MediaBase, "/") + "/media/" + tok + ".wav"
		}
		id := e.newID("pb-")
		tctx, cancel := e.tctx()
		defer cancel()
		if err := e.tel.BridgePlay(tctx, e.talkBridge(c), id, media); err != nil {
			return &Error{Kind: KindUnavailable, Msg: "could not play the announcement: " + err.Error()}
		}
		c.playback = id
		e.publish(a, "announcement.started", map[string]any{"interactionId": c.rec.ID, "id": ann.ID, "name": ann.Name})
		return nil
	})
}

// StopAnnouncement stops the announcement playing in the agent's call.
func (e *Engine) StopAnnouncement(ctx context.Context, userID int64) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c == nil || c.playback == "" {
			return conflict(string(a.state), "No announcement is playing.")
		}
		tctx, cancel := e.tctx()
		defer cancel()
		if err := e.tel.StopPlayback(tctx, c.playback); err != nil {
			e.log.Debug("stop playback", "err", err) // it may have just finished
		}
		return nil
	})
}

func (e *Engine) onPlaybackFinished(id string) {
	for _, c := range e.calls {
		if c.beep == id && c.agent != nil {
			e.joinPredictive(c, c.agent)
			return
		}
		if c.playback == id {
			c.playback = ""
			if c.agent != nil && c.agent.call == c {
				e.publish(c.agent, "announcement.finished", map[string]string{"interactionId": c.rec.ID})
			}
			return
		}
	}
}
