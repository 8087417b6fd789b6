package cti

import (
	"context"
	"fmt"
)

// CheckInvariants verifies, on the loop, the rules the simulation test
// hammers: one call per agent and one agent per call, states consistent
// with calls, and no Ready agent idle while a caller on their campaign waits.
func (e *Engine) CheckInvariants(ctx context.Context) []string {
	var bad []string
	e.exec(ctx, func() error {
		owner := map[*call]*agent{}
		for _, a := range e.agents {
			switch a.state {
			case AgentOnCall, AgentOnWrap, AgentReserved:
				if a.call == nil {
					bad = append(bad, fmt.Sprintf("agent %d %s without a call", a.user.ID, a.state))
				}
			case AgentReady, AgentPaused, AgentLoggedIn, AgentConnecting:
				if a.call != nil {
					bad = append(bad, fmt.Sprintf("agent %d %s holding call %s", a.user.ID, a.state, a.call.rec.ID))
				}
			}
			if a.call != nil {
				if o := owner[a.call]; o != nil {
					bad = append(bad, fmt.Sprintf("call %s on agents %d and %d", a.call.rec.ID, o.user.ID, a.user.ID))
				}
				owner[a.call] = a
				if a.call.agent != a {
					bad = append(bad, fmt.Sprintf("call %s does not point back to agent %d", a.call.rec.ID, a.user.ID))
				}
			}
		}
		// Ready lines: exactly the Ready members of each campaign, longest
		// idle first.
		for cid, l := range e.lines.by {
			seen := 0
			var prev *agent
			for el := l.Front(); el != nil; el = el.Next() {
				a := el.Value.(*agent)
				seen++
				if a.state != AgentReady || !e.members[cid][a.user.ID] || e.agents[a.user.ID] != a {
					bad = append(bad, fmt.Sprintf("agent %d (%s) in campaign %d's ready line", a.user.ID, a.state, cid))
				}
				if prev != nil && a.idleSince.Before(prev.idleSince) {
					bad = append(bad, fmt.Sprintf("campaign %d's ready line out of idle order at agent %d", cid, a.user.ID))
				}
				prev = a
			}
			want := 0
			for id := range e.ready {
				if e.members[cid][id] {
					want++
				}
			}
			if seen != want {
				bad = append(bad, fmt.Sprintf("campaign %d's ready line has %d agents, %d Ready members", cid, seen, want))
			}
		}
		for cid, q := range e.queues {
			for _, c := range q {
				if c.rec.State != CallQueued {
					bad = append(bad, fmt.Sprintf("call %s in queue while %s", c.rec.ID, c.rec.State))
				}
			}
			if len(q) > 0 {
				if a := e.pickAgent(e.cfg.Campaigns[cid]); a != nil {
					bad = append(bad, fmt.Sprintf("agent %d Ready while %d callers wait", a.user.ID, len(q)))
				}
			}
		}
		return nil
	})
	return bad
}

// QueuedChannels lists the customer channels of queued calls.
func (e *Engine) QueuedChannels(ctx context.Context) []string {
	var out []string
	e.exec(ctx, func() error {
		for _, q := range e.queues {
			for _, c := range q {
				_, known := e.channels[c.rec.CustomerChannel]
				out = append(out, fmt.Sprintf("%s(%s known=%v)", c.rec.CustomerChannel, c.rec.ID, known))
			}
		}
		return nil
	})
	return out
}

// WAVDuration exposes wavDuration to tests.
var WAVDuration = wavDuration
