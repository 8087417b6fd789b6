package aritest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (s *Server) routes() http.Handler {
	m := http.NewServeMux()
	h := func(pattern string, f handlerFunc) { m.HandleFunc(pattern, s.wrap(f)) }

	m.HandleFunc("GET /ari/events", func(w http.ResponseWriter, r *http.Request) {
		if !s.auth(r) {
			writeErr(w, 401, "Authentication required")
			return
		}
		s.mu.Lock()
		f := s.takeFault(r) // FailNext("GET", "/events", …) keeps a client out
		s.mu.Unlock()
		if f != nil {
			writeErr(w, f.status, f.msg)
			return
		}
		s.handleEvents(w, r)
	})

	// asterisk
	h("GET /ari/asterisk/info", s.asteriskInfo)
	h("GET /ari/asterisk/ping", s.asteriskPing)
	h("GET /ari/asterisk/variable", s.globalGet)
	h("POST /ari/asterisk/variable", s.globalSet)

	// channels
	h("GET /ari/channels", s.listChannels)
	h("POST /ari/channels", s.originate)
	h("POST /ari/channels/create", s.createChannel)
	h("GET /ari/channels/{id}", s.getChannel)
	h("POST /ari/channels/{id}", s.originate)
	h("DELETE /ari/channels/{id}", s.hangupChannel)
	h("POST /ari/channels/{id}/dial", s.dialChannel)
	h("POST /ari/channels/{id}/answer", s.answerChannel)
	h("POST /ari/channels/{id}/ring", s.simpleControl(func(c *channel, p params) *apiError { return nil }, true))
	h("DELETE /ari/channels/{id}/ring", s.simpleControl(func(c *channel, p params) *apiError { return nil }, true))
	h("POST /ari/channels/{id}/progress", s.simpleControl(func(c *channel, p params) *apiError { return nil }, true))
	h("POST /ari/channels/{id}/hold", s.simpleControl(func(c *channel, p params) *apiError {
		c.hold = true
		s.emitChan(c, "ChannelHold", nil)
		return nil
	}, true))
	h("DELETE /ari/channels/{id}/hold", s.simpleControl(func(c *channel, p params) *apiError {
		c.hold = false
		s.emitChan(c, "ChannelUnhold", nil)
		return nil
	}, true))
	h("POST /ari/channels/{id}/moh", s.simpleControl(func(c *channel, p params) *apiError {
		c.moh = p.get("mohClass")
		if c.moh == "" {
			c.moh = "default"
		}
		return nil
	}, true))
	h("DELETE /ari/channels/{id}/moh", s.simpleControl(func(c *channel, p params) *apiError { c.moh = ""; return nil }, true))
	h("POST /ari/channels/{id}/silence", s.simpleControl(func(c *channel, p params) *apiError { c.silence = true; return nil }, true))
	h("DELETE /ari/channels/{id}/silence", s.simpleControl(func(c *channel, p params) *apiError { c.silence = false; return nil }, true))
	h("POST /ari/channels/{id}/mute", s.simpleControl(func(c *channel, p params) *apiError {
		d, err := parseDirection(p, false)
		if err != nil {
			return err
		}
		c.muteIn = c.muteIn || d != "out"
		c.muteOut = c.muteOut || d != "in"
		return nil
	}, true))
	h("DELETE /ari/channels/{id}/mute", s.simpleControl(func(c *channel, p params) *apiError {
		d, err := parseDirection(p, false)
		if err != nil {
			return err
		}
		if d != "out" {
			c.muteIn = false
		}
		if d != "in" {
			c.muteOut = false
		}
		return nil
	}, true))
	h("POST /ari/channels/{id}/dtmf", s.sendDTMF)
	h("POST /ari/channels/{id}/play", s.playChannel)
	h("POST /ari/channels/{id}/play/{playbackId}", s.playChannel)
	h("POST /ari/channels/{id}/record", s.recordChannel)
	h("GET /ari/channels/{id}/variable", s.channelVarGet)
	h("POST /ari/channels/{id}/variable", s.channelVarSet)
	h("POST /ari/channels/{id}/snoop", s.snoopChannel)
	h("POST /ari/channels/{id}/snoop/{snoopId}", s.snoopChannel)
	h("POST /ari/channels/{id}/continue", s.continueChannel)
	h("POST /ari/channels/{id}/move", s.moveChannel)
	h("POST /ari/channels/{id}/redirect", func(p params, r *http.Request) (int, any, *apiError) {
		c, err := s.controlUp(r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		if p.get("endpoint") == "" {
			return 0, nil, errf(400, "Required parameter 'endpoint' not provided.")
		}
		// ast_transfer takes the call off Asterisk: model as a hang-up.
		s.hangup(c, 16, false)
		return 204, nil, nil
	})

	// bridges
	h("GET /ari/bridges", s.listBridges)
	h("POST /ari/bridges", s.createBridge)
	h("GET /ari/bridges/{id}", s.getBridge)
	h("POST /ari/bridges/{id}", s.createBridge)
	h("DELETE /ari/bridges/{id}", s.destroyBridge)
	h("POST /ari/bridges/{id}/addChannel", s.addChannel)
	h("POST /ari/bridges/{id}/removeChannel", s.removeChannel)
	h("POST /ari/bridges/{id}/moh", s.bridgeMOH(true))
	h("DELETE /ari/bridges/{id}/moh", s.bridgeMOH(false))
	h("POST /ari/bridges/{id}/play", s.playBridge)
	h("POST /ari/bridges/{id}/play/{playbackId}", s.playBridge)
	h("POST /ari/bridges/{id}/record", s.recordBridge)

	// playbacks
	h("GET /ari/playbacks/{id}", s.getPlayback)
	h("DELETE /ari/playbacks/{id}", s.stopPlayback)
	h("POST /ari/playbacks/{id}/control", s.controlPlayback)

	// recordings
	h("GET /ari/recordings/stored", s.listStored)
	h("GET /ari/recordings/stored/{name}", s.getStored)
	h("DELETE /ari/recordings/stored/{name}", s.deleteStored)
	h("GET /ari/recordings/stored/{name}/file", s.storedFile)
	h("POST /ari/recordings/stored/{name}/copy", s.copyStored)
	h("GET /ari/recordings/live/{name}", s.getLive)
	h("DELETE /ari/recordings/live/{name}", s.liveOp("cancel"))
	h("POST /ari/recordings/live/{name}/stop", s.liveOp("stop"))
	h("POST /ari/recordings/live/{name}/pause", s.liveOp("pause"))
	h("DELETE /ari/recordings/live/{name}/pause", s.liveOp("unpause"))
	h("POST /ari/recordings/live/{name}/mute", s.liveOp("mute"))
	h("DELETE /ari/recordings/live/{name}/mute", s.liveOp("unmute"))

	// endpoints
	h("GET /ari/endpoints", s.listEndpoints)
	h("GET /ari/endpoints/{tech}", s.listEndpoints)
	h("GET /ari/endpoints/{tech}/{resource}", s.getEndpoint)

	// device states
	h("GET /ari/deviceStates", s.listDevices)
	h("GET /ari/deviceStates/{name}", s.getDevice)
	h("PUT /ari/deviceStates/{name}", s.putDevice)
	h("DELETE /ari/deviceStates/{name}", s.deleteDevice)

	// applications
	h("GET /ari/applications", s.listApps)
	h("GET /ari/applications/{app}", s.getApp)
	h("POST /ari/applications/{app}/subscription", s.subscribe(true))
	h("DELETE /ari/applications/{app}/subscription", s.subscribe(false))

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !s.auth(r) {
			writeErr(w, 401, "Authentication required")
			return
		}
		writeErr(w, 404, "Resource not found")
	})
	return m
}

// ---------------------------------------------------------------------------
// asterisk

func (s *Server) asteriskInfo(p params, r *http.Request) (int, any, *apiError) {
	all := map[string]any{
		"build": map[string]string{"os": "Linux", "kernel": "6.1.0", "machine": "x86_64",
			"options": "", "date": "2025-01-01 00:00:00 UTC", "user": "aritest"},
		"system": map[string]string{"version": "22.10.1", "entity_id": s.entityID},
		"config": map[string]any{"name": "", "default_language": "en",
			"setid": map[string]string{"user": "", "group": ""}},
		"status": map[string]string{"startup_time": s.ts(s.startup), "last_reload_time": s.ts(s.reload)},
	}
	only := p.list("only")
	if len(only) == 0 {
		return 200, all, nil
	}
	out := map[string]any{}
	for _, k := range only {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return 200, out, nil
}

func (s *Server) asteriskPing(p params, r *http.Request) (int, any, *apiError) {
	return 200, map[string]string{"asterisk_id": s.entityID, "ping": "pong", "timestamp": s.ts(s.clock.Now())}, nil
}

func (s *Server) globalGet(p params, r *http.Request) (int, any, *apiError) {
	name := p.get("variable")
	if name == "" {
		return 0, nil, errf(400, "Variable name is required")
	}
	v, ok := s.globals[name]
	if !ok {
		return 200, map[string]string{"value": ""}, nil
	}
	return 200, map[string]string{"value": v}, nil
}

func (s *Server) globalSet(p params, r *http.Request) (int, any, *apiError) {
	name := p.get("variable")
	if name == "" {
		return 0, nil, errf(400, "Variable name is required")
	}
	s.globals[name] = p.get("value")
	return 204, nil, nil
}

// ---------------------------------------------------------------------------
// endpoints

type endpointState struct {
	tech, resource, state string
	channels              map[string]struct{}
}

type endpointJSON struct {
	Technology string   `json:"technology"`
	Resource   string   `json:"resource"`
	State      string   `json:"state"`
	ChannelIDs []string `json:"channel_ids"`
}

func (s *Server) endpointFor(c *channel) *endpointState {
	if !strings.EqualFold(c.tech, "PJSIP") {
		return nil
	}
	res := c.res
	if i := strings.IndexByte(res, '@'); i >= 0 {
		res = res[i+1:]
	}
	ep := s.endpoints["PJSIP/"+res]
	if ep != nil && ep.channels == nil {
		ep.channels = map[string]struct{}{}
	}
	return ep
}

func (ep *endpointState) json() endpointJSON {
	j := endpointJSON{Technology: ep.tech, Resource: ep.resource, State: ep.state, ChannelIDs: []string{}}
	for id := range ep.channels {
		j.ChannelIDs = append(j.ChannelIDs, id)
	}
	sort.Strings(j.ChannelIDs)
	return j
}

func (s *Server) listEndpoints(p params, r *http.Request) (int, any, *apiError) {
	tech := r.PathValue("tech")
	out := []endpointJSON{}
	for _, ep := range s.endpoints {
		if tech == "" || strings.EqualFold(tech, ep.tech) {
			out = append(out, ep.json())
		}
	}
	if tech != "" && len(out) == 0 && !strings.EqualFold(tech, "PJSIP") {
		return 0, nil, errf(404, "No Endpoints found - invalid tech %s", tech)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return 200, out, nil
}

func (s *Server) getEndpoint(p params, r *http.Request) (int, any, *apiError) {
	ep := s.endpoints[strings.ToUpper(r.PathValue("tech"))+"/"+r.PathValue("resource")]
	if ep == nil {
		return 0, nil, errf(404, "Endpoint not found")
	}
	return 200, ep.json(), nil
}

// SetEndpointState marks a scripted PJSIP endpoint online or offline (e.g.
// "PJSIP/1001"), emitting EndpointStateChange to subscribers. Originating to
// an offline endpoint fails with 500 "Allocation failed".
func (s *Server) SetEndpointState(endpoint string, online bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tech, res := splitEndpoint(endpoint)
	key := strings.ToUpper(tech) + "/" + res
	ep := s.endpoints[key]
	if ep == nil {
		ep = &endpointState{tech: strings.ToUpper(tech), resource: res, channels: map[string]struct{}{}}
		s.endpoints[key] = ep
	}
	st := "offline"
	if online {
		st = "online"
	}
	if ep.state == st {
		return
	}
	ep.state = st
	ev := s.newEvent("EndpointStateChange")
	ev["endpoint"] = ep.json()
	subs := map[string]int{}
	for name, a := range s.apps {
		if _, ok := a.endpoints[key]; ok {
			subs[name] = 1
		} else if _, ok := a.endpoints[ep.tech]; ok {
			subs[name] = 1
		}
	}
	s.deliver(ev, subs)
}

// ---------------------------------------------------------------------------
// device states

var deviceStates = map[string]bool{"UNKNOWN": true, "NOT_INUSE": true, "INUSE": true, "BUSY": true,
	"INVALID": true, "UNAVAILABLE": true, "RINGING": true, "RINGINUSE": true, "ONHOLD": true}

type deviceJSON struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

func (s *Server) listDevices(p params, r *http.Request) (int, any, *apiError) {
	out := []deviceJSON{}
	for n, st := range s.devices {
		out = append(out, deviceJSON{n, st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return 200, out, nil
}

func (s *Server) getDevice(p params, r *http.Request) (int, any, *apiError) {
	n := r.PathValue("name")
	st, ok := s.devices[n]
	if !ok {
		if strings.HasPrefix(n, "Stasis:") {
			return 0, nil, errf(404, "Device state not found")
		}
		st = "UNKNOWN"
	}
	return 200, deviceJSON{n, st}, nil
}

func (s *Server) putDevice(p params, r *http.Request) (int, any, *apiError) {
	n := r.PathValue("name")
	if !strings.HasPrefix(n, "Stasis:") {
		return 0, nil, errf(409, "Uncontrolled device specified")
	}
	st := strings.ToUpper(p.get("deviceState"))
	if st == "" || !deviceStates[st] {
		return 0, nil, errf(400, "Invalid device state")
	}
	s.devices[n] = st
	s.deviceChanged(n, st)
	return 204, nil, nil
}

func (s *Server) deleteDevice(p params, r *http.Request) (int, any, *apiError) {
	n := r.PathValue("name")
	if !strings.HasPrefix(n, "Stasis:") {
		return 0, nil, errf(409, "Uncontrolled device specified")
	}
	if _, ok := s.devices[n]; !ok {
		return 0, nil, errf(404, "Device not found")
	}
	delete(s.devices, n)
	s.deviceChanged(n, "UNKNOWN")
	return 204, nil, nil
}

func (s *Server) deviceChanged(name, state string) {
	ev := s.newEvent("DeviceStateChanged")
	ev["device_state"] = deviceJSON{name, state}
	subs := map[string]int{}
	for an, a := range s.apps {
		if _, ok := a.devices[name]; ok {
			subs[an] = 1
		}
	}
	s.deliver(ev, subs)
}

// ---------------------------------------------------------------------------
// applications

type appJSON struct {
	Name             string   `json:"name"`
	ChannelIDs       []string `json:"channel_ids"`
	BridgeIDs        []string `json:"bridge_ids"`
	EndpointIDs      []string `json:"endpoint_ids"`
	DeviceNames      []string `json:"device_names"`
	EventsAllowed    []any    `json:"events_allowed"`
	EventsDisallowed []any    `json:"events_disallowed"`
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) appJSON(a *application) appJSON {
	return appJSON{Name: a.name, ChannelIDs: keys(a.chans), BridgeIDs: keys(a.bridges),
		EndpointIDs: keys(a.endpoints), DeviceNames: keys(a.devices),
		EventsAllowed: []any{}, EventsDisallowed: []any{}}
}

func (s *Server) listApps(p params, r *http.Request) (int, any, *apiError) {
	out := []appJSON{}
	for _, a := range s.apps {
		out = append(out, s.appJSON(a))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return 200, out, nil
}

func (s *Server) getApp(p params, r *http.Request) (int, any, *apiError) {
	a := s.apps[r.PathValue("app")]
	if a == nil {
		return 0, nil, errf(404, "Application not found")
	}
	return 200, s.appJSON(a), nil
}

func (s *Server) subscribe(on bool) handlerFunc {
	return func(p params, r *http.Request) (int, any, *apiError) {
		srcs := p.list("eventSource")
		if len(srcs) == 0 {
			return 0, nil, errf(400, "Missing parameter eventSource")
		}
		a := s.apps[r.PathValue("app")]
		if a == nil {
			return 0, nil, errf(404, "Application not found")
		}
		// validate first: nothing changes on error
		for _, src := range srcs {
			scheme, id, ok := strings.Cut(src, ":")
			if !ok {
				return 0, nil, errf(400, "Invalid event source URI scheme")
			}
			switch scheme {
			case "channel":
				if s.channels[id] == nil {
					return 0, nil, errf(422, "Event source does not exist")
				}
				if !on && !a.explicitCh[id] {
					return 0, nil, errf(422, "Event source was not subscribed to")
				}
			case "bridge":
				if s.bridges[id] == nil {
					return 0, nil, errf(422, "Event source does not exist")
				}
				if !on && !a.explicitBr[id] {
					return 0, nil, errf(422, "Event source was not subscribed to")
				}
			case "endpoint":
				if !on {
					if _, ok := a.endpoints[id]; !ok {
						return 0, nil, errf(422, "Event source was not subscribed to")
					}
				}
			case "deviceState":
				if !on {
					if _, ok := a.devices[id]; !ok {
						return 0, nil, errf(422, "Event source was not subscribed to")
					}
				}
			default:
				return 0, nil, errf(400, "Invalid event source URI scheme")
			}
		}
		for _, src := range srcs {
			scheme, id, _ := strings.Cut(src, ":")
			switch scheme {
			case "channel":
				if on && !a.explicitCh[id] {
					a.explicitCh[id] = true
					s.subChan(a.name, s.channels[id], 1)
				} else if !on {
					delete(a.explicitCh, id)
					s.subChan(a.name, s.channels[id], -1)
				}
			case "bridge":
				if on && !a.explicitBr[id] {
					a.explicitBr[id] = true
					s.subBridge(a.name, s.bridges[id], 1)
				} else if !on {
					delete(a.explicitBr, id)
					s.subBridge(a.name, s.bridges[id], -1)
				}
			case "endpoint":
				if on {
					a.endpoints[id] = struct{}{}
				} else {
					delete(a.endpoints, id)
				}
			case "deviceState":
				if on {
					a.devices[id] = struct{}{}
				} else {
					delete(a.devices, id)
				}
			}
		}
		return 200, s.appJSON(a), nil
	}
}
