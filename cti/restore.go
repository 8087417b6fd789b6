package cti

import (
	"context"
	"time"
)

// restore rebuilds state after a ctid restart: agents' sessions come from
// Postgres, live channels from Asterisk. A call whose customer channel is
// still up is re-adopted; one whose channel is gone is closed with a reason,
// so no interaction is left open. Asterisk stays the truth about media.
func (e *Engine) restore(ctx context.Context) {
	sessions, err := e.o.Store.AgentSessions(ctx)
	if err != nil {
		e.log.Error("restore: agent sessions", "err", err)
		return
	}
	open, err := e.o.Store.OpenInteractions(ctx)
	if err != nil {
		e.log.Error("restore: open interactions", "err", err)
		return
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	chans, err := e.tel.Channels(tctx)
	if err != nil {
		// Without Asterisk we cannot tell what survived; treat all as gone.
		e.log.Warn("restore: cannot list channels; calls treated as ended", "err", err)
	}
	live := map[string]bool{}
	for _, c := range chans {
		live[c.ID] = true
	}
	byID := map[string]*call{}
	for _, rec := range open {
		c := &call{rec: rec}
		if rec.CampaignID != nil {
			c.campaign = e.cfg.Campaigns[*rec.CampaignID]
		}
		byID[rec.ID] = c
	}
	for _, s := range sessions {
		u := e.cfg.Users[s.UserID]
		if u == nil {
			continue
		}
		a := &agent{user: u, state: s.State, since: s.StateSince, idleSince: s.StateSince,
			pauseReason: s.PauseReason, mode: s.PhoneMode, number: s.PhoneNumber, persistent: s.Persistent,
			bridge: s.BridgeID}
		e.agents[u.ID] = a
		if s.AgentChannel != "" && live[s.AgentChannel] {
			a.phoneChan, a.phoneUp = s.AgentChannel, true
			e.channels[s.AgentChannel] = chanRef{role: roleAgentPhone, agent: a}
		} else if a.persistent && a.state != AgentOnCall && a.state != AgentOnWrap {
			a.state, a.pauseReason = AgentLoggedIn, ""
		}
		if c := byID[s.InteractionID]; c != nil && s.InteractionID != "" {
			c.agent, a.call = a, c
		}
		if a.state == AgentReserved {
			a.state = AgentReady // the offer is re-made below if the caller is still there
			if a.call != nil {
				a.call.agent, a.call = nil, nil
			}
		}
	}
	for _, a := range e.agents {
		if a.state == AgentReady {
			e.markReady(a, true)
		}
	}
	for _, c := range byID {
		e.calls[c.rec.ID] = c
		up := c.rec.CustomerChannel != "" && live[c.rec.CustomerChannel]
		switch {
		case c.rec.State == CallEnded:
			// Ended before the restart; the agent is still wrapping.
			if c.agent != nil && c.agent.state == AgentOnWrap {
				e.startWrap(c.agent)
			} else {
				delete(e.calls, c.rec.ID)
			}
		case !up:
			c.rec.EndReason = "ended while ctid was down"
			e.endCall(c, endAction(c.rec.State), "lost")
			if c.agent != nil && c.agent.state == AgentOnCall {
				e.agentToWrap(c)
			} else if c.agent == nil {
				delete(e.calls, c.rec.ID)
			}
		case c.rec.State == CallQueued || c.rec.State == CallOffering:
			c.rec.State = CallQueued
			c.agent, c.rec.AgentID = nil, nil
			e.channels[c.rec.CustomerChannel] = chanRef{role: roleCustomer, call: c}
			if c.campaign != nil {
				e.queues[c.campaign.ID] = append(e.queues[c.campaign.ID], c)
			}
		default: // connected or dialing with the customer still there: re-adopt
			e.channels[c.rec.CustomerChannel] = chanRef{role: roleCustomer, call: c}
			if c.agent != nil && !c.agent.persistent {
				c.bridge = "call-" + c.rec.ID
			}
			e.readoptRecording(c, live)
		}
	}
	e.adoptCallers(chans) // callers ctid had not yet recorded when it stopped
	e.log.Info("restored state after restart", "agents", len(e.agents), "calls", len(e.calls))
	e.allocate()
}

// readoptRecording takes back the recording a re-adopted call started:
// its snoop is still recording in Asterisk, and without it the recording's
// RecordingFinished would find no recording and its row would stay
// "recording" for ever. The pauses before the restart are not known here
// (they are in recording_events), so bookmarks from now on count from the
// connect, when the recording started.
func (e *Engine) readoptRecording(c *call, live map[string]bool) {
	snoop := "sn-" + c.rec.ID
	if !live[snoop] || c.campaign == nil || !c.campaign.Recording || c.rec.ConnectedAt == nil {
		return
	}
	c.recording = &recording{name: "rec-" + c.rec.ID, snoop: snoop, iid: c.rec.ID, customer: c.rec.CustomerChannel,
		state: "recording", t0: *c.rec.ConnectedAt}
	e.trackRecording(c.recording)
	e.channels[snoop] = chanRef{role: roleSnoop, call: c}
}

func endAction(s CallState) CallAction {
	if s == CallDialing {
		return CallActFail
	}
	return CallActHangup
}
