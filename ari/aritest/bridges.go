package aritest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

type bridge struct {
	id, name  string
	types     []string
	created   time.Time
	chans     []*channel
	subs      map[string]int
	vars      map[string]string
	moh       string
	dead      bool
	used      bool // a channel has been in it (its id is spent once destroyed)
	playQueue []*playback
	recs      []*liveRecording
}

func (b *bridge) holding() bool {
	for _, t := range b.types {
		if t == "holding" {
			return true
		}
	}
	return false
}

type bridgeJSON struct {
	ID           string            `json:"id"`
	Technology   string            `json:"technology"`
	BridgeType   string            `json:"bridge_type"`
	BridgeClass  string            `json:"bridge_class"`
	Creator      string            `json:"creator"`
	Name         string            `json:"name"`
	Channels     []string          `json:"channels"`
	Creationtime string            `json:"creationtime"`
	VideoMode    string            `json:"video_mode"`
	Bridgevars   map[string]string `json:"bridgevars,omitempty"`
}

func (s *Server) bridgeJSON(b *bridge) bridgeJSON {
	j := bridgeJSON{ID: b.id, BridgeClass: "stasis", Creator: "Stasis", Name: b.name,
		Channels: make([]string, 0, len(b.chans)), Creationtime: s.ts(b.created), VideoMode: "none"}
	for _, c := range b.chans {
		j.Channels = append(j.Channels, c.id)
	}
	if b.holding() {
		j.BridgeType, j.Technology = "holding", "holding_bridge"
	} else {
		j.BridgeType, j.Technology = "mixing", "simple_bridge"
		if len(b.chans) > 2 {
			j.Technology = "softmix"
		}
	}
	if len(b.vars) > 0 {
		j.Bridgevars = b.vars
	}
	return j
}

func (s *Server) bridgeEvent(typ string, b *bridge) event {
	ev := s.newEvent(typ)
	ev["bridge"] = s.bridgeJSON(b)
	return ev
}

// joinBridge adds c to b (c must not be in a bridge).
func (s *Server) joinBridge(c *channel, b *bridge, role string, absorb, mute bool) {
	c.bridge, c.role, c.absorb, c.bridgeMute = b, role, absorb, mute
	b.chans = append(b.chans, c)
	b.used = true
	if c.inStasis {
		s.subBridge(c.app, b, 1)
	}
	ev := s.bridgeEvent("ChannelEnteredBridge", b)
	ev["channel"] = s.chanJSON(c)
	s.deliver(ev, b.subs, c.subs)
	s.setBridgePeers(b)
	s.bridgeMembershipChanged(b)
}

// leaveBridge removes c from its bridge with ChannelLeftBridge.
func (s *Server) leaveBridge(c *channel) {
	b := c.bridge
	if b == nil {
		return
	}
	for i, x := range b.chans {
		if x == c {
			b.chans = append(b.chans[:i], b.chans[i+1:]...)
			break
		}
	}
	c.bridge, c.role, c.absorb, c.bridgeMute = nil, "", false, false
	if c.vars["BRIDGEPEER"] != "" {
		s.setVarEvent(c, "BRIDGEPEER", "")
	}
	ev := s.bridgeEvent("ChannelLeftBridge", b)
	ev["channel"] = s.chanJSON(c)
	s.deliver(ev, b.subs, c.subs)
	if c.inStasis {
		s.subBridge(c.app, b, -1)
	}
	s.setBridgePeers(b)
	s.bridgeMembershipChanged(b)
}

// setBridgePeers sets BRIDGEPEER (with ChannelVarset) on every channel of b
// when b has two or more: the other channel's name, or the others' names
// comma-separated (most recent first). With one channel left nothing
// changes, as in Asterisk (its value goes stale until it leaves).
func (s *Server) setBridgePeers(b *bridge) {
	if len(b.chans) < 2 {
		return
	}
	for _, c := range b.chans {
		var sb strings.Builder
		for i := len(b.chans) - 1; i >= 0; i-- {
			o := b.chans[i]
			if o == c {
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(o.name)
		}
		s.setVarEvent(c, "BRIDGEPEER", sb.String())
	}
}

func (s *Server) createBridge(p params, r *http.Request) (int, any, *apiError) {
	id := r.PathValue("id")
	if id == "" {
		id = p.get("bridgeId")
	}
	if id != "" && s.bridges[id] != nil {
		if r.PathValue("id") != "" {
			// POST /bridges/{id} on an existing bridge updates it (Asterisk
			// 22 answers with the bridge); only type changes are refused.
			return 200, s.bridgeJSON(s.bridges[id]), nil
		}
		return 0, nil, errf(409, "Bridge with id '%s' already exists", id)
	}
	if id != "" && s.spentBridges[id] {
		return 0, nil, errf(409, "Bridge with id '%s' already exists", id)
	}
	types := p.list("type")
	if len(types) == 0 {
		types = []string{"mixing"}
	}
	for _, t := range types {
		switch t {
		case "mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single", "sdp_label":
		default:
			return 0, nil, errf(500, "Unable to create bridge. Possible duplicate bridge id '%s'", id)
		}
	}
	if id == "" {
		id = newUUID()
	}
	b := &bridge{id: id, name: p.get("name"), types: types, created: s.clock.Now(), subs: map[string]int{}}
	s.bridges[id] = b
	s.deliver(s.bridgeEvent("BridgeCreated", b))
	// Asterisk 22.10.1 passes the whole JSON body to the variables parser
	// after creating the bridge: string members become bridge variables and
	// any object member without a string "value" fails with 400 (the bridge
	// has already been created by then).
	if len(p.body) > 0 {
		for k, raw := range p.body {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				if b.vars == nil {
					b.vars = map[string]string{}
				}
				b.vars[k] = str
				continue
			}
			var obj map[string]any
			if json.Unmarshal(raw, &obj) == nil {
				if v, ok := obj["value"].(string); ok {
					if b.vars == nil {
						b.vars = map[string]string{}
					}
					b.vars[k] = v
					continue
				}
				return 0, nil, errf(400, "Each object value in 'variables' must include string field 'value'")
			}
			return 0, nil, errf(400, "Each value in 'variables' must be a string or an object with 'value' and optional 'report_events'")
		}
	}
	return 200, s.bridgeJSON(b), nil
}

func (s *Server) listBridges(p params, r *http.Request) (int, any, *apiError) {
	out := make([]bridgeJSON, 0, len(s.bridges))
	for _, b := range s.bridges {
		out = append(out, s.bridgeJSON(b))
	}
	return 200, out, nil
}

func (s *Server) findBridge(id string) (*bridge, *apiError) {
	b := s.bridges[id]
	if b == nil {
		return nil, errf(404, "Bridge not found")
	}
	return b, nil
}

func (s *Server) getBridge(p params, r *http.Request) (int, any, *apiError) {
	b, err := s.findBridge(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return 200, s.bridgeJSON(b), nil
}

func (s *Server) destroyBridge(p params, r *http.Request) (int, any, *apiError) {
	b, err := s.findBridge(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	s.destroyBridgeLocked(b)
	return 204, nil, nil
}

func (s *Server) destroyBridgeLocked(b *bridge) {
	for len(b.playQueue) > 0 {
		s.finishPlayback(b.playQueue[0], false)
	}
	for len(b.chans) > 0 {
		s.leaveBridge(b.chans[0])
	}
	for len(b.recs) > 0 {
		s.finishRecording(b.recs[0], "done")
	}
	// Only apps still subscribed once the channels have left (explicit
	// bridge: subscriptions) hear it: membership subscriptions end with
	// ChannelLeftBridge, as in Asterisk 22 (contract test Bridge).
	s.deliver(s.bridgeEvent("BridgeDestroyed", b), b.subs)
	b.dead = true
	if b.used {
		s.spentBridges[b.id] = true
	}
	for app := range b.subs {
		if a := s.apps[app]; a != nil {
			delete(a.bridges, b.id)
		}
	}
	delete(s.bridges, b.id)
}

func (s *Server) bridgeChannels(p params) ([]*channel, *apiError) {
	ids := p.list("channel")
	if len(ids) == 0 {
		return nil, errf(400, "Missing parameter channel")
	}
	out := make([]*channel, 0, len(ids))
	for _, id := range ids {
		c := s.channels[id]
		if c == nil {
			return nil, errf(400, "Channel not found")
		}
		if !c.inStasis {
			return nil, errf(422, "Channel not in Stasis application")
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Server) addChannel(p params, r *http.Request) (int, any, *apiError) {
	b, err := s.findBridge(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	chans, err := s.bridgeChannels(p)
	if err != nil {
		return 0, nil, err
	}
	role := p.get("role")
	absorb, mute := p.bool("absorbDTMF"), p.bool("mute")
	for _, c := range chans {
		if c.bridge == b {
			c.role, c.absorb, c.bridgeMute = role, absorb, mute
			continue
		}
		if c.bridge != nil {
			s.leaveBridge(c)
		}
		s.joinBridge(c, b, role, absorb, mute)
	}
	return 204, nil, nil
}

func (s *Server) removeChannel(p params, r *http.Request) (int, any, *apiError) {
	b, err := s.findBridge(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	chans, err := s.bridgeChannels(p)
	if err != nil {
		return 0, nil, err
	}
	for _, c := range chans {
		if c.bridge != b {
			return 0, nil, errf(422, "Channel not in this bridge")
		}
	}
	for _, c := range chans {
		s.leaveBridge(c)
	}
	return 204, nil, nil
}

func (s *Server) bridgeMOH(start bool) handlerFunc {
	return func(p params, r *http.Request) (int, any, *apiError) {
		b, err := s.findBridge(r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		if start {
			b.moh = p.get("mohClass")
			if b.moh == "" {
				b.moh = "default"
			}
		} else {
			if b.moh == "" {
				return 0, nil, errf(409, "Bridge isn't playing music on hold")
			}
			b.moh = ""
		}
		return 204, nil, nil
	}
}
