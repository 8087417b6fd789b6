package api

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

// The live floor: GET /api/v1/supervisor/ws?ticket=<one-time>&after=<seq>.
//
// A hub samples the engine's supervisor view every floorTick and publishes
// what changed, one message per agent, queue or call, on its own feed with
// one sequence (cti.Feed under key 0), so a supervisor that reconnects with
// after=<last seq> gets what it missed, like the agent feed. A fresh
// connection gets a hello with the whole floor first. Supervisors receive
// only what concerns the campaigns assigned to them; admins everything.
//
// Messages: agent (a SupervisorAgent), agent.gone {id}, queue (floorQueue:
// waiting, oldest caller, service level today and over the last 15 min,
// abandoned, ASA), call (a SupervisorCall), call.gone {id}.

const (
	floorTick  = 100 * time.Millisecond // engine view sampled this often
	floorStats = 2 * time.Second        // service level recomputed this often
)

type floorHub struct {
	s    *Server
	feed *cti.Feed
	once sync.Once

	mu     sync.Mutex
	agents map[int64][]byte // last published JSON per agent
	calls  map[string][]byte
	queues map[int64][]byte
	view   floorView // the whole floor as last published (for hellos)
	stats  map[int64]queueStats
	// Today's figures up to the current 15-minute boundary, recomputed when
	// the boundary moves or a minute passes (late answers still land in
	// them); only the open interval is read every floorStats.
	closed   map[int64]queueStats
	closedTo time.Time
	closedAt time.Time

	scopeMu sync.Mutex
	scopes  map[int64][]int64 // supervisor → campaigns, cached for the feed
}

// floorView is the hello's data.
type floorView struct {
	Agents    []cti.SupervisorAgent `json:"agents"`
	Queues    []floorQueue          `json:"queues"`
	Calls     []cti.SupervisorCall  `json:"calls"`
	Campaigns []campaignRef         `json:"campaigns"`
	// ServiceLevelThresholdS is the "answered within" of the service level.
	ServiceLevelThresholdS int `json:"serviceLevelThresholdSeconds"`
}

type campaignRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// queueStats are a campaign's figures over a window (today, last 15 min).
type queueStats struct {
	queueMs      int64    // queue time of the answered, for ASA
	Answered     int64    `json:"answered"`
	InThreshold  int64    `json:"answeredInThreshold"`
	Abandoned    int64    `json:"abandoned"`
	ServiceLevel *float64 `json:"serviceLevel"` // 0..1, null before any call
	ASAMs        *int64   `json:"asaMs"`
}

type floorQueue struct {
	CampaignID   int64      `json:"campaignId"`
	CampaignName string     `json:"campaignName"`
	Waiting      int        `json:"waiting"`
	OldestSince  *time.Time `json:"oldestSince"` // the longest-waiting caller queued at
	Today        queueStats `json:"today"`
	Last15       queueStats `json:"last15m"`
}

type goneMsg struct {
	ID          string  `json:"id"`
	CampaignIDs []int64 `json:"campaignIds"`
}

// floors holds each server's hub (keyed by *Server), made on first use.
var floors sync.Map

func (s *Server) floorHub() *floorHub {
	if h, ok := floors.Load(s); ok {
		return h.(*floorHub)
	}
	h, _ := floors.LoadOrStore(s, &floorHub{s: s, feed: cti.NewFeed(4096, 4096), agents: map[int64][]byte{}, calls: map[string][]byte{},
		queues: map[int64][]byte{}, stats: map[int64]queueStats{}, scopes: map[int64][]int64{}})
	return h.(*floorHub)
}

// floorRoutes registers the floor feed's ticket and supervisor actions (the
// feed itself, authenticated by its ticket, is registered before the
// bearer-token group in routes).
func (s *Server) floorRoutes(v1, authed fiber.Router) {
	sup := authed.Group("/supervisor", requireRole(cti.RoleSupervisor, cti.RoleAdmin))
	sup.Post("/ws-ticket", s.floorTicket)
	sup.Get("/floor", s.floorSnapshot)
	for _, a := range []string{"pause", "ready", "logout", "hangup"} {
		sup.Post("/agents/:id/"+a, s.supervisorAction(a))
	}
	s.monitorRoutes(sup)
}

// floorSnapshot is the hello's floor as JSON (for scripts and the page's
// first paint before the socket is up).
func (s *Server) floorSnapshot(c *fiber.Ctx) error {
	h := s.floorHub()
	ctx, cancel := s.ctx(c)
	defer cancel()
	set, err := h.campaignsOf(ctx, *currentUser(c))
	if err != nil {
		return err
	}
	sub, _, last, v := h.subscribe(0)
	sub.Close()
	c.Set("X-Floor-Seq", strconv.FormatUint(last, 10))
	return c.JSON(v.filter(set))
}

// floorForget drops a supervisor's cached campaigns (after an admin change).
func (s *Server) floorForget(userID int64) {
	h := s.floorHub()
	h.scopeMu.Lock()
	delete(h.scopes, userID)
	h.scopeMu.Unlock()
}

// start runs the sampler, and the service-level reader beside it (a slow
// database must not hold up the floor), until the server shuts down.
func (h *floorHub) start() {
	h.once.Do(func() {
		h.readStats()
		h.sample()
		loop := func(every time.Duration, f func()) {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-h.s.closing:
					return
				case <-t.C:
					f()
				}
			}
		}
		go loop(floorTick, h.sample)
		go loop(floorStats, h.readStats)
	})
}

// readStats reads the service level for today and the last 15 minutes;
// the next sample publishes what changed.
func (h *floorHub) readStats() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := h.s.o.Now().UTC()
	stats, err := h.today(ctx, now)
	var stats15 map[int64]queueStats
	if err == nil {
		stats15, err = h.s.queueStats(ctx, now.Add(-15*time.Minute), time.Time{})
	}
	if err != nil {
		h.s.log.Warn("floor: service level", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.stats)
	for id, st := range stats {
		h.stats[id] = st
	}
	for id, st := range stats15 {
		h.stats[-id] = st // last 15 min under the negated id
	}
}

// sample takes the engine's view and publishes every difference.
func (h *floorHub) sample() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := h.s.eng.Supervisor(ctx)
	if err != nil {
		h.s.log.Warn("floor: engine view", "err", err)
		return
	}
	now := h.s.o.Now().UTC()
	h.mu.Lock()
	defer h.mu.Unlock()
	view := floorView{Agents: v.Agents, Calls: v.Calls, Campaigns: []campaignRef{},
		ServiceLevelThresholdS: int(ServiceLevelThreshold / time.Second)}
	seenA := map[int64]bool{}
	for _, a := range v.Agents {
		seenA[a.ID] = true
		b, _ := json.Marshal(a)
		if !bytes.Equal(h.agents[a.ID], b) {
			h.agents[a.ID] = b
			h.feed.Publish(0, "agent", json.RawMessage(b), now)
		}
	}
	for id, b := range h.agents {
		if !seenA[id] {
			var prev cti.SupervisorAgent
			json.Unmarshal(b, &prev)
			delete(h.agents, id)
			h.feed.Publish(0, "agent.gone", goneMsg{ID: strconv.FormatInt(id, 10), CampaignIDs: prev.CampaignIDs}, now)
		}
	}
	oldest := map[int64]*time.Time{}
	seenC := map[string]bool{}
	for _, c := range v.Calls {
		seenC[c.ID] = true
		if c.State == cti.CallQueued && c.CampaignID != nil && c.QueuedAt != nil {
			if o := oldest[*c.CampaignID]; o == nil || c.QueuedAt.Before(*o) {
				oldest[*c.CampaignID] = c.QueuedAt
			}
		}
		b, _ := json.Marshal(c)
		if !bytes.Equal(h.calls[c.ID], b) {
			h.calls[c.ID] = b
			h.feed.Publish(0, "call", json.RawMessage(b), now)
		}
	}
	for id, b := range h.calls {
		if !seenC[id] {
			var prev cti.SupervisorCall
			json.Unmarshal(b, &prev)
			delete(h.calls, id)
			g := goneMsg{ID: id, CampaignIDs: []int64{}}
			if prev.CampaignID != nil {
				g.CampaignIDs = []int64{*prev.CampaignID}
			}
			h.feed.Publish(0, "call.gone", g, now)
		}
	}
	for _, q := range v.Queues {
		fq := floorQueue{CampaignID: q.CampaignID, CampaignName: q.CampaignName, Waiting: q.Waiting,
			OldestSince: utc(oldest[q.CampaignID]), Today: h.stats[q.CampaignID], Last15: h.stats[-q.CampaignID]}
		fq.Today.finish()
		fq.Last15.finish()
		view.Queues = append(view.Queues, fq)
		view.Campaigns = append(view.Campaigns, campaignRef{ID: q.CampaignID, Name: q.CampaignName})
		b, _ := json.Marshal(fq)
		if !bytes.Equal(h.queues[q.CampaignID], b) {
			h.queues[q.CampaignID] = b
			h.feed.Publish(0, "queue", json.RawMessage(b), now)
		}
	}
	if view.Queues == nil {
		view.Queues = []floorQueue{}
	}
	h.view = view
}

func (q *queueStats) finish() {
	q.ServiceLevel = nil
	if n := q.Answered + q.Abandoned; n > 0 {
		sl := float64(q.InThreshold) / float64(n)
		q.ServiceLevel = &sl
	}
}

// today is each campaign's figures since midnight UTC: the closed
// 15-minute intervals from a cache plus the open one, so a busy day's
// millions of rows are not read every two seconds.
func (h *floorHub) today(ctx context.Context, now time.Time) (map[int64]queueStats, error) {
	day, boundary := now.Truncate(24*time.Hour), now.Truncate(15*time.Minute)
	if h.closed == nil || !h.closedTo.Equal(boundary) || time.Since(h.closedAt) > time.Minute {
		c, err := h.s.queueStats(ctx, day, boundary)
		if err != nil {
			return nil, err
		}
		h.closed, h.closedTo, h.closedAt = c, boundary, time.Now()
	}
	open, err := h.s.queueStats(ctx, boundary, time.Time{})
	if err != nil {
		return nil, err
	}
	out := map[int64]queueStats{}
	for _, m := range []map[int64]queueStats{h.closed, open} {
		for id, st := range m {
			o := out[id]
			o.queueMs += st.queueMs
			o.Answered += st.Answered
			o.InThreshold += st.InThreshold
			o.Abandoned += st.Abandoned
			out[id] = o
		}
	}
	for id, o := range out {
		if o.Answered > 0 {
			a := o.queueMs / o.Answered
			o.ASAMs = &a
		}
		out[id] = o
	}
	return out, nil
}

// queueStats computes each campaign's answered, in-threshold, abandoned and
// ASA for inbound calls that arrived in [since, until) (until zero: up to
// now), by the same rules as the campaign report.
func (s *Server) queueStats(ctx context.Context, since, until time.Time) (map[int64]queueStats, error) {
	if until.IsZero() {
		until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var rows []struct {
		CampaignID                                int64
		Answered, InThreshold, Abandoned, QueueMs int64
	}
	err := s.o.DB.WithContext(ctx).Raw(`SELECT campaign_id,
			count(*) FILTER (WHERE connected_at IS NOT NULL) AS answered,
			count(*) FILTER (WHERE connected_at IS NOT NULL AND queue_ms <= ?) AS in_threshold,
			count(*) FILTER (WHERE connected_at IS NULL AND ended_at IS NOT NULL) AS abandoned,
			COALESCE(sum(queue_ms) FILTER (WHERE connected_at IS NOT NULL), 0)::bigint AS queue_ms
		FROM interactions
		WHERE direction = 'IN' AND campaign_id IS NOT NULL AND parent_id IS NULL AND created_at >= ? AND created_at < ?
		GROUP BY campaign_id`, ServiceLevelThreshold.Milliseconds(), since, until).Scan(&rows).Error
	out := map[int64]queueStats{}
	for _, r := range rows {
		st := queueStats{queueMs: r.QueueMs, Answered: r.Answered, InThreshold: r.InThreshold, Abandoned: r.Abandoned}
		if r.Answered > 0 {
			a := r.QueueMs / r.Answered
			st.ASAMs = &a
		}
		out[r.CampaignID] = st
	}
	return out, err
}

// subscribe returns a subscription and, for a fresh connection, the hello.
func (h *floorHub) subscribe(after uint64) (*cti.Subscription, bool, uint64, floorView) {
	h.start()
	h.mu.Lock()
	defer h.mu.Unlock()
	sub, resumed, last := h.feed.Subscribe(0, after)
	v := h.view
	v.Agents = slices.Clone(v.Agents)
	v.Calls = slices.Clone(v.Calls)
	v.Queues = slices.Clone(v.Queues)
	return sub, resumed, last, v
}

// campaignsOf is the supervisor's campaign set (nil for admins: all).
func (h *floorHub) campaignsOf(ctx context.Context, u postgres.Account) (map[int64]bool, error) {
	if u.Role == cti.RoleAdmin {
		return nil, nil
	}
	h.scopeMu.Lock()
	ids, ok := h.scopes[u.ID]
	h.scopeMu.Unlock()
	if !ok {
		var err error
		if ids, err = postgres.SupervisedCampaigns(ctx, h.s.o.DB, u.ID); err != nil {
			return nil, err
		}
		h.scopeMu.Lock()
		h.scopes[u.ID] = ids
		h.scopeMu.Unlock()
	}
	set := map[int64]bool{}
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}

func anyIn(set map[int64]bool, ids []int64) bool {
	for _, id := range ids {
		if set[id] {
			return true
		}
	}
	return false
}

func (v floorView) filter(set map[int64]bool) floorView {
	if set == nil {
		return v
	}
	out := floorView{Agents: []cti.SupervisorAgent{}, Calls: []cti.SupervisorCall{}, Queues: []floorQueue{}, Campaigns: []campaignRef{},
		ServiceLevelThresholdS: v.ServiceLevelThresholdS}
	for _, a := range v.Agents {
		if anyIn(set, a.CampaignIDs) {
			out.Agents = append(out.Agents, a)
		}
	}
	for _, c := range v.Calls {
		if c.CampaignID != nil && set[*c.CampaignID] {
			out.Calls = append(out.Calls, c)
		}
	}
	for _, q := range v.Queues {
		if set[q.CampaignID] {
			out.Queues = append(out.Queues, q)
		}
	}
	for _, c := range v.Campaigns {
		if set[c.ID] {
			out.Campaigns = append(out.Campaigns, c)
		}
	}
	return out
}

// visible reports whether a published message concerns the campaign set.
func visible(set map[int64]bool, env cti.Envelope) bool {
	if set == nil {
		return true
	}
	var m struct {
		CampaignID  *int64  `json:"campaignId"`
		CampaignIDs []int64 `json:"campaignIds"`
	}
	if json.Unmarshal(env.Data, &m) != nil {
		return false
	}
	if m.CampaignID != nil && set[*m.CampaignID] {
		return true
	}
	return anyIn(set, m.CampaignIDs)
}

const localFloorUser = "ctid.floor.user"

func (s *Server) floorTicket(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	tok, exp := s.tickets.issue(*currentUser(c), s.o.Now(), s.o.TicketTTL)
	return c.JSON(ticketResponse{Ticket: tok, ExpiresAt: exp, URL: "/api/v1/supervisor/ws?ticket=" + tok})
}

func (s *Server) floorUpgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return newProblem(426, "connect with a websocket client")
	}
	var after uint64
	if a := c.Query("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return badField("after", "after must be a sequence number")
		}
		after = n
	}
	tk := c.Query("ticket")
	if tk == "" {
		return badField("ticket", "a websocket ticket is required (POST /api/v1/supervisor/ws-ticket)")
	}
	u, ok := s.tickets.take(tk, s.o.Now())
	if !ok {
		return newProblem(401, "invalid or expired websocket ticket")
	}
	if u.Role != cti.RoleSupervisor && u.Role != cti.RoleAdmin {
		return newProblem(403, "the floor needs the supervisor or admin role")
	}
	c.Locals(localFloorUser, u)
	c.Locals(localWSAfter, after)
	return c.Next()
}

func (s *Server) floorHandler() fiber.Handler {
	return websocket.New(func(conn *websocket.Conn) {
		u, _ := conn.Locals(localFloorUser).(postgres.Account)
		after, _ := conn.Locals(localWSAfter).(uint64)
		s.metrics.wsClients.Inc()
		defer s.metrics.wsClients.Dec()
		s.serveFloor(conn, u, after)
	})
}

func (s *Server) serveFloor(conn *websocket.Conn, u postgres.Account, after uint64) {
	write := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
		return conn.WriteMessage(websocket.TextMessage, b)
	}
	closeWith := func(code int, reason string) {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		conn.Close()
	}
	h := s.floorHub()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	set, err := h.campaignsOf(ctx, u)
	cancel()
	if err != nil {
		closeWith(websocket.CloseTryAgainLater, "try again")
		return
	}
	sub, resumed, last, view := h.subscribe(after)
	defer sub.Close()
	sent := after
	if !resumed {
		raw, _ := json.Marshal(view.filter(set))
		sent = last
		if err := write(wireEnvelope{Seq: last, Type: "hello", Time: s.o.Now().UTC(), Data: raw}); err != nil {
			return
		}
	}
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		conn.SetReadLimit(4096)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	hb := time.NewTicker(s.o.Heartbeat)
	defer hb.Stop()
	for {
		select {
		case env, ok := <-sub.C:
			if !ok {
				s.metrics.wsDropped.Inc()
				closeWith(closeResume, "fell behind; resume with after="+strconv.FormatUint(sent, 10))
				<-gone
				return
			}
			if env.Seq <= sent {
				continue
			}
			sent = env.Seq
			if !visible(set, env) {
				continue
			}
			if err := write(wireEnvelope{Seq: env.Seq, Type: env.Type, Time: env.Time, Data: env.Data}); err != nil {
				conn.Close()
				<-gone
				return
			}
		case <-hb.C:
			if err := write(map[string]any{"type": "ping", "time": s.o.Now().UTC(), "seq": sent}); err != nil {
				conn.Close()
				<-gone
				return
			}
		case <-gone:
			return
		case <-s.closing:
			closeWith(websocket.CloseServiceRestart, "server shutting down; resume with after="+strconv.FormatUint(sent, 10))
			<-gone
			return
		}
	}
}

// --- supervisor actions -----------------------------------------------------------

type supervisorActionRequest struct {
	Reason string `json:"reason"`
}

// canSupervise reports whether the current user may act on an agent:
// admins on anyone, supervisors on agents of a campaign assigned to them.
func (s *Server) canSupervise(ctx context.Context, u *postgres.Account, agentID int64) (bool, error) {
	if u.Role == cti.RoleAdmin {
		var n int64
		err := s.o.DB.WithContext(ctx).Raw(`SELECT count(*) FROM users WHERE id = ?`, agentID).Scan(&n).Error
		return n > 0, err
	}
	var n int64
	err := s.o.DB.WithContext(ctx).Raw(`SELECT count(*) FROM campaign_agents ca JOIN supervisor_campaigns sc
		ON sc.campaign_id = ca.campaign_id WHERE ca.user_id = ? AND sc.user_id = ?`, agentID, u.ID).Scan(&n).Error
	return n > 0, err
}

// supervisorAction handles POST /supervisor/agents/:id/{pause,ready,logout,hangup}.
func (s *Server) supervisorAction(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		var in supervisorActionRequest
		if err := decode(c, &in, true); err != nil {
			return err
		}
		if len(in.Reason) > 200 {
			return badField("reason", "reason is too long")
		}
		if (action == "pause" || action == "logout") && in.Reason == "" {
			return badField("reason", "a pause reason is required; the agent is shown it")
		}
		u := currentUser(c)
		ctx, cancel := s.ctx(c)
		defer cancel()
		ok, err := s.canSupervise(ctx, u, id)
		if err != nil {
			return err
		}
		if !ok {
			return newProblem(404, "no such agent among the campaigns you supervise")
		}
		var iid string
		if snap, err := s.eng.Supervisor(ctx); err == nil {
			for _, a := range snap.Agents {
				if a.ID == id {
					iid = a.InteractionID
				}
			}
		}
		switch action {
		case "pause":
			err = s.eng.SetPaused(ctx, id, in.Reason)
		case "ready":
			err = s.eng.SetReady(ctx, id)
		case "logout":
			err = s.eng.Logout(ctx, id, in.Reason)
		case "hangup":
			err = s.eng.Hangup(ctx, id)
		}
		outcome := "ok"
		if err != nil {
			outcome = "refused: " + err.Error()
		}
		who := u.DisplayName
		if who == "" {
			who = u.Username
		}
		if aerr := postgres.RecordSupervisorAction(ctx, s.o.DB, postgres.SupervisorAction{At: s.o.Now().UTC(), SupervisorID: u.ID,
			AgentID: &id, InteractionID: iid, Action: "agent_" + action, Reason: in.Reason, Outcome: outcome}); aerr != nil {
			s.log.Error("audit supervisor action", "err", aerr)
			if err == nil {
				return aerr
			}
		}
		if err != nil {
			return err
		}
		// Tell the agent, in words, who did what.
		s.eng.Feed().Publish(id, "supervisor.notice", map[string]string{"action": action, "by": who, "reason": in.Reason,
			"message": supervisorNotice(action, who, in.Reason)}, s.o.Now().UTC())
		return c.JSON(fiber.Map{"status": "ok"})
	}
}

func supervisorNotice(action, who, reason string) string {
	switch action {
	case "pause":
		return who + " paused you (" + reason + ")."
	case "ready":
		return who + " made you ready for calls."
	case "logout":
		return who + " logged you out (" + reason + ")."
	case "hangup":
		return who + " ended your call."
	}
	return who + " changed your state."
}
