package cti

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ctid/ctid/ari"
)

// Monitoring: a supervisor listens to, whispers to or barges into an
// agent's call on their own phone (ARI-NOTES §1: snoop, bridges).
//
//	listen   snoop on the agent's channel, spy=both whisper=none, in a
//	         monitor bridge with the supervisor's leg: the supervisor hears
//	         both sides; whatever they say goes into the snoop and nowhere.
//	whisper  the same snoop with whisper=out: what the supervisor says is
//	         written to the agent's channel towards the agent's phone only,
//	         so the customer (and the recording, a snoop on the customer's
//	         channel) never has it.
//	barge    the supervisor's leg joins the call's own bridge: a third party
//	         everyone hears, and so does the recording.
//
// Switching listen↔whisper makes a new snoop (whisper is fixed when a snoop
// is created) and hangs up the old one once the new one is in the bridge;
// barge and back moves the supervisor's leg between the two bridges. Each
// monitor is a row of the table below and changes only by monitorMoves.

// MonitorMode is what the supervisor does with the call.
type MonitorMode string

const (
	MonitorListen  MonitorMode = "listen"
	MonitorWhisper MonitorMode = "whisper"
	MonitorBarge   MonitorMode = "barge"
)

// monitorState is where one monitor is.
type monitorState string

const (
	monDialing monitorState = "dialing" // the supervisor's phone is ringing
	monActive  monitorState = "active"  // the supervisor hears the call in `mode`
	monEnded   monitorState = "ended"
)

type monitorAct string

const (
	monLegUp   monitorAct = "leg_up"  // the supervisor answered
	monSwitch  monitorAct = "switch"  // a new mode was asked for
	monStop    monitorAct = "stop"    // the supervisor stopped
	monGone    monitorAct = "gone"    // the supervisor's leg, the call or the agent's leg went
	monFailure monitorAct = "failure" // Asterisk refused a step
)

// monitorMoves is the monitor state machine; anything absent is refused.
var monitorMoves = map[monitorState]map[monitorAct]monitorState{
	monDialing: {monLegUp: monActive, monSwitch: monDialing, monStop: monEnded, monGone: monEnded, monFailure: monEnded},
	monActive:  {monSwitch: monActive, monStop: monEnded, monGone: monEnded, monFailure: monEnded},
}

// MonitorRequest asks to monitor a call (or switch mode on the one being
// monitored).
type MonitorRequest struct {
	SupervisorID  int64       `json:"-"`
	Supervisor    string      `json:"-"` // name shown to the agent when the campaign allows
	InteractionID string      `json:"interactionId"`
	Mode          MonitorMode `json:"mode"`
	// Phone is the supervisor's number; their default phone when empty.
	Phone string `json:"phone"`
}

// MonitorView is a monitor as the API shows it.
type MonitorView struct {
	InteractionID string      `json:"interactionId"`
	AgentID       int64       `json:"agentId"`
	Mode          MonitorMode `json:"mode"`
	State         string      `json:"state"`
	Phone         string      `json:"phone"`
}

type monitor struct {
	id         string
	supervisor int64
	name       string
	phone      string
	call       *call
	agent      *agent
	state      monitorState
	mode       MonitorMode // asked for
	applied    MonitorMode // in effect ("" before the leg is up)
	leg        string      // the supervisor's channel
	legUp      bool
	bridge     string // the monitor bridge (listen, whisper)
	snoop      string // the snoop in the monitor bridge
	oldSnoop   string // the snoop being replaced
}

// monitorTable holds every monitor, by supervisor and by channel.
type monitorTable struct {
	bySup  map[int64]*monitor
	byChan map[string]*monitor // supervisor legs and snoops
}

func (e *Engine) monitors() *monitorTable {
	if e.mon == nil {
		e.mon = &monitorTable{bySup: map[int64]*monitor{}, byChan: map[string]*monitor{}}
	}
	return e.mon
}

// snoopWhisperer is the telephony that can make a snoop that whispers
// (ARITelephony; test stubs may lack it).
type snoopWhisperer interface {
	SnoopWhisper(ctx context.Context, channelID, snoopID, whisper string, appArgs []string) error
}

// SnoopWhisper spies on both directions of a channel and writes what the
// snoop channel receives in `whisper` direction ("none" or "out": towards
// the channel's own device).
func (t ARITelephony) SnoopWhisper(ctx context.Context, ch, snoopID, whisper string, appArgs []string) error {
	_, err := t.C.Channels.Snoop(ctx, ch, ari.SnoopRequest{SnoopID: snoopID, Spy: "both", Whisper: whisper, App: t.C.App(), AppArgs: appArgs})
	return err
}

// SnoopWhisper passes a whispering snoop through, timed like the rest.
func (t TimedTelephony) SnoopWhisper(ctx context.Context, ch, snoopID, whisper string, appArgs []string) error {
	sw, ok := t.T.(snoopWhisperer)
	if !ok {
		return &Error{Kind: KindUnavailable, Msg: "monitoring needs a telephony that can snoop"}
	}
	s := time.Now()
	return t.obs("snoop", s, sw.SnoopWhisper(ctx, ch, snoopID, whisper, appArgs))
}

func (m *monitor) move(act monitorAct) error {
	next, ok := monitorMoves[m.state][act]
	if !ok {
		return conflict(string(m.state), "the monitor cannot "+string(act)+" now")
	}
	m.state = next
	return nil
}

func (m *monitor) view() MonitorView {
	v := MonitorView{InteractionID: m.call.rec.ID, Mode: m.mode, State: string(m.state), Phone: m.phone}
	if m.agent != nil {
		v.AgentID = m.agent.user.ID
	}
	return v
}

// agentSide is the agent's channel and the bridge the call is in.
func (c *call) agentSide() (channel, bridge string) {
	a := c.agent
	if a == nil {
		return "", ""
	}
	if a.persistent {
		return a.phoneChan, a.bridge
	}
	return c.agentLeg, c.bridge
}

// Monitor starts monitoring a connected call on the supervisor's phone, or
// switches the mode of the supervisor's current monitor of that call.
func (e *Engine) Monitor(ctx context.Context, req MonitorRequest) (MonitorView, error) {
	var v MonitorView
	switch req.Mode {
	case MonitorListen, MonitorWhisper, MonitorBarge:
	default:
		return v, invalid("mode", "mode must be listen, whisper or barge")
	}
	if _, ok := e.tel.(snoopWhisperer); !ok {
		return v, &Error{Kind: KindUnavailable, Msg: "monitoring needs a telephony that can snoop"}
	}
	err := e.exec(ctx, func() error {
		t := e.monitors()
		c := e.calls[req.InteractionID]
		if c == nil || c.rec.State != CallConnected || c.agent == nil {
			return &Error{Kind: KindNotFound, Msg: "no such call in progress"}
		}
		if ch, _ := c.agentSide(); ch == "" {
			return conflict(string(c.rec.State), "the agent's phone is not on the call yet")
		}
		if m := t.bySup[req.SupervisorID]; m != nil {
			if m.call != c {
				return conflict(string(m.state), "you are monitoring another call: stop that first")
			}
			if err := m.move(monSwitch); err != nil {
				return err
			}
			m.mode = req.Mode
			if m.legUp {
				e.applyMonitor(m)
			}
			v = m.view()
			return nil
		}
		phone := req.Phone
		if phone == "" {
			if u := e.cfg.Users[req.SupervisorID]; u != nil {
				phone = u.DefaultPhone
			}
		}
		if phone == "" {
			return invalid("phone", "give the phone to monitor on (you have no default phone)")
		}
		m := &monitor{id: e.newID("M"), supervisor: req.SupervisorID, name: req.Supervisor, phone: phone, call: c, agent: c.agent,
			state: monDialing, mode: req.Mode}
		m.leg, m.bridge = "mon-"+m.id, "monbr-"+m.id
		t.bySup[m.supervisor] = m
		t.byChan[m.leg] = m
		o := ari.OriginateRequest{Endpoint: e.o.AgentEndpoint(phone), App: e.o.App, AppArgs: []string{"monitor", m.id},
			ChannelID: m.leg, CallerID: `"Monitor" <` + c.rec.CustomerNumber + `>`, Timeout: 30}
		e.request(m.id, "monitor bridge", func(ctx context.Context) error { return e.tel.CreateBridge(ctx, m.bridge, "mixing") }, nil)
		e.request(m.id, "monitor originate", func(ctx context.Context) error { return e.tel.Originate(ctx, o) }, func(err error) {
			if err != nil {
				e.log.Warn("monitor: the supervisor's phone", "phone", phone, "err", err)
				e.endMonitor(m, monFailure)
			}
		})
		v = m.view()
		return nil
	})
	return v, err
}

// StopMonitor ends the supervisor's monitor, if any.
func (e *Engine) StopMonitor(ctx context.Context, supervisorID int64) (MonitorView, error) {
	var v MonitorView
	err := e.exec(ctx, func() error {
		m := e.monitors().bySup[supervisorID]
		if m == nil {
			return &Error{Kind: KindNotFound, Msg: "you are not monitoring a call"}
		}
		e.endMonitor(m, monStop)
		v = m.view()
		return nil
	})
	return v, err
}

// Monitoring is the supervisor's current monitor.
func (e *Engine) Monitoring(ctx context.Context, supervisorID int64) (MonitorView, bool, error) {
	var v MonitorView
	var ok bool
	err := e.exec(ctx, func() error {
		if m := e.monitors().bySup[supervisorID]; m != nil {
			v, ok = m.view(), true
		}
		return nil
	})
	return v, ok, err
}

// onMonitorLegUp: the supervisor answered.
func (e *Engine) onMonitorLegUp(ch ari.Channel) {
	m := e.monitors().byChan[ch.ID]
	if m == nil || ch.ID != m.leg {
		e.hangup(ch.ID, "normal") // a monitor that already ended
		return
	}
	if m.move(monLegUp) != nil {
		return
	}
	m.legUp = true
	e.applyMonitor(m)
}

// onMonitorSnoopUp: a snoop joins the monitor bridge; the snoop it
// replaces goes once the new one is in.
func (e *Engine) onMonitorSnoopUp(ch ari.Channel) {
	m := e.monitors().byChan[ch.ID]
	if m == nil || m.state == monEnded || ch.ID != m.snoop {
		delete(e.monitors().byChan, ch.ID)
		e.hangup(ch.ID, "normal")
		return
	}
	old := m.oldSnoop
	m.oldSnoop = ""
	br := m.bridge
	e.request(m.id, "monitor snoop", func(ctx context.Context) error { return e.tel.AddToBridge(ctx, br, ch.ID, true) }, func(err error) {
		if err != nil {
			e.log.Warn("monitor: snoop into bridge", "err", err)
			e.endMonitor(m, monFailure)
			return
		}
		if old != "" {
			delete(e.monitors().byChan, old)
			e.hangup(old, "normal")
		}
	})
}

// applyMonitor puts the asked-for mode into effect.
func (e *Engine) applyMonitor(m *monitor) {
	if m.mode == m.applied {
		return
	}
	agentCh, callBridge := m.call.agentSide()
	prev := m.applied
	m.applied = m.mode
	key, leg, br := m.id, m.leg, m.bridge
	switch m.mode {
	case MonitorBarge:
		// Out of the monitor bridge (and its snoop away), into the call.
		if m.snoop != "" {
			delete(e.monitors().byChan, m.snoop)
			e.hangup(m.snoop, "normal")
			m.snoop = ""
		}
		e.request(key, "barge", func(ctx context.Context) error {
			if prev != "" && prev != MonitorBarge {
				if err := e.tel.RemoveFromBridge(ctx, br, leg); err != nil && !errors.Is(err, ari.ErrNotFound) {
					return err
				}
			}
			return e.tel.AddToBridge(ctx, callBridge, leg, true)
		}, e.monitorStep(m))
	default:
		whisper := "none"
		if m.mode == MonitorWhisper {
			whisper = "out"
		}
		snoop := "monsnoop-" + m.id + "-" + string(m.mode)
		if m.snoop == snoop {
			snoop += "2"
		}
		m.oldSnoop, m.snoop = m.snoop, snoop
		e.monitors().byChan[snoop] = m
		sw := e.tel.(snoopWhisperer)
		id := m.id
		e.request(key, "monitor "+string(m.mode), func(ctx context.Context) error {
			if prev == MonitorBarge {
				if err := e.tel.RemoveFromBridge(ctx, callBridge, leg); err != nil && !errors.Is(err, ari.ErrNotFound) {
					return err
				}
			}
			if prev == "" || prev == MonitorBarge {
				if err := e.tel.AddToBridge(ctx, br, leg, true); err != nil {
					return err
				}
			}
			return sw.SnoopWhisper(ctx, agentCh, snoop, whisper, []string{"monsnoop", id})
		}, e.monitorStep(m))
	}
	e.tellAgent(m)
}

func (e *Engine) monitorStep(m *monitor) func(error) {
	return func(err error) {
		if err != nil && m.state != monEnded {
			e.log.Warn("monitor step", "monitor", m.id, "mode", m.mode, "err", err)
			e.endMonitor(m, monFailure)
		}
	}
}

// endMonitor hangs up the supervisor's leg and snoops and forgets the monitor.
func (e *Engine) endMonitor(m *monitor, act monitorAct) {
	if m.state == monEnded || m.move(act) != nil {
		return
	}
	t := e.monitors()
	if t.bySup[m.supervisor] == m {
		delete(t.bySup, m.supervisor)
	}
	for _, ch := range []string{m.snoop, m.oldSnoop, m.leg} {
		if ch != "" {
			delete(t.byChan, ch)
			e.hangup(ch, "normal")
		}
	}
	br := m.bridge
	e.request(m.id, "monitor bridge end", func(ctx context.Context) error { return e.tel.DestroyBridge(ctx, br) }, nil)
	e.tellAgent(m)
}

// monitorChannelGone ends monitors whose supervisor leg, snoop, call or
// agent leg went. It runs for every channel that leaves.
func (e *Engine) monitorChannelGone(id string) {
	if e.mon == nil || len(e.mon.bySup) == 0 {
		return
	}
	if m := e.mon.byChan[id]; m != nil {
		if id == m.leg || id == m.snoop {
			delete(e.mon.byChan, id)
			if id == m.leg {
				m.leg = ""
			} else {
				m.snoop = ""
			}
			e.endMonitor(m, monGone)
		} else {
			delete(e.mon.byChan, id) // a replaced snoop
		}
		return
	}
	for _, m := range e.mon.bySup {
		agentCh, _ := m.call.agentSide()
		if id == m.call.rec.CustomerChannel || id == agentCh || m.call.rec.State == CallEnded {
			e.endMonitor(m, monGone)
		}
	}
}

// tellAgent shows the agent that a supervisor is listening, when the
// campaign's settings say so ({"supervision":{"showMonitoring":true}}).
func (e *Engine) tellAgent(m *monitor) {
	if m.agent == nil || m.call.campaign == nil || !showMonitoring(m.call.campaign.Settings) {
		return
	}
	d := map[string]any{"active": m.state != monEnded, "mode": m.applied, "by": m.name, "interactionId": m.call.rec.ID}
	if m.state == monEnded {
		d["mode"] = ""
	}
	e.publish(m.agent, "monitor.state", d)
}

func showMonitoring(settings []byte) bool {
	var s struct {
		Supervision struct {
			ShowMonitoring bool `json:"showMonitoring"`
		} `json:"supervision"`
	}
	return len(settings) > 0 && json.Unmarshal(settings, &s) == nil && s.Supervision.ShowMonitoring
}
