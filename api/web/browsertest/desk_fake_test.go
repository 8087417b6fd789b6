package browsertest

// The fake's side of the agent-desk contract (/work/notes/desk-contract.md,
// issue 15): in-call controls, the directory, consult and conference
// parties, callbacks, preview, payment and notices, plus helpers a test
// calls to make the "server" do something unasked (a notice, a presence
// change, a transfer in). Shapes follow api/openapi.json.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ctid/ctid/cti"
)

type deskFake struct {
	sfOrigin  string
	held      bool
	holdSecs  int64
	heldSince *time.Time
	muted     bool
	dtmf      string
	agents    []map[string]any
	transfer  map[string]any
	parties   []map[string]any
	callbacks []map[string]any
	nextID    int
	preview   map[string]any
	payment   map[string]any
	recording map[string]any
	lastXfer  map[string]any
}

var dtmfDigits = regexp.MustCompile(`^[0-9*#A-D]{1,32}$`)

func (f *fake) controls() map[string]any {
	d := &f.desk
	secs := d.holdSecs
	if d.held && d.heldSince != nil {
		secs += int64(time.Since(*d.heldSince).Seconds())
	}
	iid := ""
	if f.snap.Call != nil {
		iid = f.snap.Call.InteractionID
	}
	return map[string]any{"interactionId": iid, "held": d.held, "holdSeconds": secs, "heldSince": d.heldSince, "muted": d.muted}
}

// serveDesk answers the desk routes; false: not one of them.
func (f *fake) serveDesk(w http.ResponseWriter, r *http.Request, path string, body map[string]any) bool {
	d := &f.desk
	st := f.snap.State.State
	str := func(k string) string { s, _ := body[k].(string); return s }
	onCall := func() bool {
		if st != cti.AgentOnCall || f.snap.Call == nil {
			problem(w, 409, "Conflict", "You are not on a call.", "")
			return false
		}
		return true
	}
	switch {
	case path == "/agent/config" && r.Method == "GET":
		reply(w, map[string]any{"agentCallsNumber": "8000", "salesforceOrigin": d.sfOrigin, "defaultCallerId": "+441632960000"})
	case path == "/agent/connect" && str("mode") == "agent_calls":
		if st != cti.AgentLoggedIn {
			problem(w, 409, "Conflict", "You are already connected.", "")
			return true
		}
		f.snap.Phone.Mode, f.snap.Phone.Number, f.snap.Phone.Persistent = cti.PhoneAgentCalls, str("number"), true
		f.setState(cti.AgentConnecting, "")
		w.WriteHeader(204) // waits for the agent's call: AgentCallsIn
	case path == "/agent/logout" && st == cti.AgentConnecting:
		f.setState(cti.AgentLoggedIn, "") // cancel the pending connection
		reply(w, f.snap)
	case path == "/agent/hold" || path == "/agent/resume":
		if !onCall() {
			return true
		}
		now := time.Now()
		if path == "/agent/hold" && !d.held {
			d.held, d.heldSince = true, &now
		} else if path == "/agent/resume" && d.held {
			d.holdSecs += int64(now.Sub(*d.heldSince).Seconds())
			d.held, d.heldSince = false, nil
		}
		f.publish("call.controls", f.controls())
		w.WriteHeader(204)
	case path == "/agent/mute" || path == "/agent/unmute":
		if !onCall() {
			return true
		}
		d.muted = path == "/agent/mute"
		f.publish("call.controls", f.controls())
		w.WriteHeader(204)
	case path == "/agent/dtmf":
		if !onCall() {
			return true
		}
		if !dtmfDigits.MatchString(str("digits")) {
			problem(w, 400, "Invalid request", "Digits may be 0-9, *, # and A-D, at most 32.", "digits")
			return true
		}
		d.dtmf += str("digits")
		w.WriteHeader(204)
	case path == "/agent/directory" && r.Method == "GET":
		q := strings.ToLower(r.URL.Query().Get("q"))
		agents := []map[string]any{}
		for _, a := range d.agents {
			if q == "" || strings.Contains(strings.ToLower(a["displayName"].(string)), q) {
				agents = append(agents, a)
			}
		}
		reply(w, map[string]any{"agents": agents,
			"quickConnects": []map[string]any{{"id": 1, "name": "Billing desk", "type": "number", "target": "+442079460500", "targetLabel": "+44 20 7946 0500"}},
			"queues":        []map[string]any{{"campaignId": 2, "name": "Renewals", "waiting": 3}}})
	case path == "/agent/transfer" && r.Method == "POST":
		if !onCall() {
			return true
		}
		d.lastXfer = body
		target := fmt.Sprint(body["target"])
		label := target
		for _, a := range d.agents {
			if fmt.Sprint(a["id"]) == target {
				label = a["displayName"].(string)
			}
		}
		if str("mode") == "consult" {
			d.transfer = map[string]any{"id": "xf1", "mode": "consult", "type": str("type"), "target": label, "state": "consulting"}
			f.publish("transfer.state", d.transfer)
			reply(w, d.transfer)
			return true
		}
		if len(d.parties) > 0 { // add to the conference
			d.parties = append(d.parties, map[string]any{"id": fmt.Sprintf("xf%d", len(d.parties)+1), "type": str("type"), "target": label, "state": "conferenced"})
			f.publish("conference.state", map[string]any{"interactionId": f.snap.Call.InteractionID, "parties": d.parties, "max": 3})
			reply(w, map[string]any{"state": "conferenced"})
			return true
		}
		reply(w, map[string]any{"id": "xf0", "mode": "blind", "type": str("type"), "target": label, "state": "completed"})
		f.endCall("transferred")
	case path == "/agent/transfer/merge":
		t := d.transfer
		d.transfer = nil
		t["state"] = "conferenced"
		d.parties = append(d.parties, t)
		f.publish("transfer.state", t)
		f.publish("conference.state", map[string]any{"interactionId": f.snap.Call.InteractionID, "parties": d.parties, "max": 3})
		reply(w, t)
	case path == "/agent/transfer/cancel":
		t := d.transfer
		d.transfer = nil
		t["state"] = "cancelled"
		f.publish("transfer.state", t)
		reply(w, t)
	case strings.HasPrefix(path, "/agent/conference/parties/") && strings.HasSuffix(path, "/drop"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/agent/conference/parties/"), "/drop")
		var keep []map[string]any
		for _, p := range d.parties {
			if p["id"] != id {
				keep = append(keep, p)
			}
		}
		if len(keep) == len(d.parties) {
			problem(w, 404, "Not found", "That party is no longer in the conference.", "")
			return true
		}
		d.parties = keep
		f.publish("conference.state", map[string]any{"interactionId": f.snap.Call.InteractionID, "parties": d.parties, "max": 3})
		w.WriteHeader(204)
	case path == "/agent/callbacks" && r.Method == "GET":
		out := []map[string]any{}
		out = append(out, d.callbacks...)
		reply(w, out)
	case path == "/agent/callbacks" && r.Method == "POST":
		when, err := time.Parse(time.RFC3339, str("when"))
		if err != nil || str("timeZone") == "" {
			problem(w, 400, "Invalid request", "Give the time as a date and time, with the customer's time zone.", "when")
			return true
		}
		d.nextID++
		cb := map[string]any{"id": d.nextID, "campaignId": body["campaignId"], "number": str("number"), "name": "", "timeZone": str("timeZone"),
			"dueAt": when, "note": str("note"), "status": "pending"}
		if str("owner") == "me" {
			cb["agentId"] = 7
		}
		d.callbacks = append(d.callbacks, cb)
		reply(w, cb)
	case strings.HasPrefix(path, "/agent/callbacks/") && r.Method == "DELETE":
		id, _ := strconv.Atoi(strings.TrimPrefix(path, "/agent/callbacks/"))
		for i, cb := range d.callbacks {
			if cb["id"] == id {
				d.callbacks = append(d.callbacks[:i], d.callbacks[i+1:]...)
				w.WriteHeader(204)
				return true
			}
		}
		problem(w, 404, "Not found", "That callback no longer exists.", "")
	case path == "/agent/pause" && d.preview != nil:
		d.preview = nil
		f.publish("preview.withdrawn", map[string]any{"reason": "paused"})
		f.setState(cti.AgentPaused, str("reason"))
		w.WriteHeader(204)
	case path == "/agent/preview/dial":
		if d.preview == nil {
			problem(w, 409, "Conflict", "No lead is offered to you.", "")
			return true
		}
		d.preview = nil
		c := &cti.CallInfo{InteractionID: fmt.Sprintf("int-pv-%d", len(f.log)), Direction: "OUT", CustomerNumber: str("number"), State: cti.CallDialing, CampaignName: "Renewals"}
		camp := int64(2)
		c.CampaignID = &camp
		f.setState(cti.AgentOnCall, "")
		f.snap.Call = c
		f.publish("call.dialing", *c)
		reply(w, *c)
	case path == "/agent/preview/skip":
		d.preview = nil
		f.setState(cti.AgentReady, "")
		f.publish("preview.skipped", map[string]any{"reason": str("reason")})
		w.WriteHeader(204)
	case path == "/agent/payment/start":
		if !onCall() {
			return true
		}
		d.payment = map[string]any{"interactionId": f.snap.Call.InteractionID, "progress": map[string]any{"phase": "card", "card_digits": 0, "cvv_digits": 0}, "charging": false}
		f.publish("payment.started", d.payment)
		reply(w, d.payment)
	case path == "/agent/payment/submit":
		if d.payment == nil {
			problem(w, 409, "Conflict", "No payment is in progress.", "")
			return true
		}
		res := map[string]any{"approved": true, "receipt": "SBX-1"}
		if str("amount") == "99.99" {
			res = map[string]any{"approved": false, "decline_reason": "insufficient funds"}
		}
		d.payment["result"] = res
		f.publish("payment.result", d.payment)
		reply(w, d.payment)
	case path == "/agent/payment/exit":
		d.payment = nil
		f.publish("payment.ended", map[string]any{})
		w.WriteHeader(204)
	default:
		return false
	}
	return true
}

// --- what the "server" does unasked ------------------------------------------

func (f *fake) do(fn func()) { f.mu.Lock(); defer f.mu.Unlock(); fn() }

// AgentCallsIn: the agent's call to the system arrives.
func (f *fake) AgentCallsIn() {
	f.do(func() {
		f.snap.Phone.Connected = true
		f.publish("phone.connected", f.snap.Phone)
		f.setState(cti.AgentPaused, "Break")
	})
}

// Publish sends the agent any event, as the server's feed would.
func (f *fake) Publish(typ string, payload any) {
	f.do(func() { f.publish(typ, payload) })
}

func (f *fake) Notice(kind, text string) {
	f.do(func() { f.publish("notice", map[string]string{"kind": kind, "text": text}) })
}

func (f *fake) Presence(id int64, state, reason string) {
	f.do(func() {
		for _, a := range f.desk.agents {
			if a["id"] == id {
				a["state"], a["reason"] = state, reason
			}
		}
		f.publish("directory.presence", map[string]any{"id": id, "state": state, "reason": reason})
	})
}

// OfferPreview offers a lead (or a due callback) to a Ready agent.
func (f *fake) OfferPreview(kind string) {
	f.do(func() {
		f.setState(cti.AgentReserved, "")
		dl := time.Now().Add(60 * time.Second)
		f.desk.preview = map[string]any{"campaignId": 2, "campaignName": "Renewals", "kind": kind, "deadline": dl,
			"lead":    map[string]any{"id": 5, "name": "Pat Lead", "phones": []string{"+447700900111", "+441632960222"}, "data": map[string]any{"Policy": "R-100"}},
			"numbers": []map[string]any{{"number": "+447700900111", "label": "mobile"}, {"number": "+441632960222", "label": "home"}}}
		f.publish("preview.offered", f.desk.preview)
	})
}

// TransferIn: another agent transfers a caller to this (Ready) agent.
func (f *fake) TransferIn(customer, from, notes string) { f.transferIn(customer, from, notes, false) }

// JoinAsParty: this agent is added to another agent's call as a conference party.
func (f *fake) JoinAsParty(customer, from string) { f.transferIn(customer, from, "", true) }

func (f *fake) transferIn(customer, from, notes string, party bool) {
	f.do(func() {
		tf := map[string]any{"agentId": 9, "agentName": from, "interactionId": "int-first", "notes": notes, "ivrText": "Billing"}
		f.setState(cti.AgentReserved, "")
		f.publish("transfer.offered", map[string]any{"from": "bob", "customerNumber": customer, "mode": "blind", "transferredFrom": tf})
		camp := int64(1)
		now := time.Now()
		c := &cti.CallInfo{InteractionID: fmt.Sprintf("int-xf-%d", len(f.log)), CampaignID: &camp, CampaignName: "Sales", Direction: "IN",
			CustomerNumber: customer, State: cti.CallConnected, ConnectedAt: &now}
		f.snap.Call = c
		f.snap.State = cti.StateView{State: cti.AgentOnCall, Since: now}
		f.publish("agent.state", f.snap.State)
		raw, _ := json.Marshal(*c)
		var ev map[string]any
		json.Unmarshal(raw, &ev)
		ev["transferredFrom"] = tf
		if party {
			ev["conferenceParty"] = true
		}
		f.publish("call.connected", ev)
	})
}

func (f *fake) Recording(state, icon string, allowed bool) {
	f.do(func() {
		if f.snap.Call == nil {
			return
		}
		f.publish("recording.state", map[string]any{"interactionId": f.snap.Call.InteractionID, "state": state, "icon": icon, "allowed": allowed})
	})
}

func (f *fake) PaymentProgress(p map[string]any) {
	f.do(func() {
		if f.desk.payment != nil {
			f.desk.payment["progress"] = p
			f.publish("payment.progress", f.desk.payment)
		}
	})
}

// AutoWrap: the wrap time ran out and the default code was applied.
func (f *fake) AutoWrap() {
	f.do(func() {
		f.publish("wrap.auto", map[string]string{"interactionId": f.snap.Wrap.InteractionID, "code": f.snap.Wrap.DefaultCode})
		f.publish("notice", map[string]string{"kind": "auto_wrap_applied", "text": "The wrap time ran out, so the call was wrapped as Sale."})
		f.setState(cti.AgentReady, "")
	})
}

// EndSession closes the agent's websockets as the server does when the
// session ended elsewhere (close code 4001).
func (f *fake) EndSession() {
	f.do(func() {
		for c := range f.subs {
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "session ended"), time.Now().Add(time.Second))
			c.Close()
			delete(f.subs, c)
		}
	})
}
