package api

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
)

// The agent event websocket: GET /api/v1/ws?ticket=<one-time>&after=<seq>.
//
// On connect the server replays what came after `after` when the feed still
// holds it; otherwise it sends a hello: {"seq":N,"type":"hello","time":…,
// "data":<AgentSnapshot>}. Then every envelope of the agent's feed follows as
// JSON, and {"type":"ping","time":…} every heartbeat. A client that falls
// behind is cut off with close code 4000 and a reason naming the last
// sequence it was sent; it reconnects with after=<that seq>.

const (
	closeResume      = 4000 // fell behind: reconnect with after=<last seq>
	closeUnknownUser = 4004
	wsWriteTimeout   = 10 * time.Second
)

const (
	localWSUser  = "ctid.ws.user"
	localWSAfter = "ctid.ws.after"
)

func (s *Server) wsUpgrade(c *fiber.Ctx) error {
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
		return badField("ticket", "a websocket ticket is required (POST /api/v1/auth/ws-ticket)")
	}
	t, ok := s.tickets.takeTicket(tk, s.o.Now())
	if !ok {
		return newProblem(401, "invalid or expired websocket ticket")
	}
	l := &liveSocket{uid: t.user.ID, token: t.token, expires: t.session, end: make(chan string, 1)}
	if t.session.IsZero() {
		l.expires = t.expires.Add(s.o.TokenTTL)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
	gone := s.sessionGone(ctx, l)
	cancel()
	if gone != "" {
		return newProblem(401, "the session of this websocket ticket has ended")
	}
	if !s.sockets.add(l, s.o.MaxWebsocketsPerUser) {
		p := newProblem(429, "too many open websockets for this user (at most "+strconv.Itoa(s.o.MaxWebsocketsPerUser)+"); close another tab")
		p.retryAfter = 5
		return p
	}
	c.Locals(localWSUser, l)
	c.Locals(localWSAfter, after)
	return c.Next()
}

type wireEnvelope struct {
	Seq  uint64          `json:"seq"`
	Type string          `json:"type"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data,omitempty"`
}

func (s *Server) wsHandler() fiber.Handler {
	return websocket.New(func(conn *websocket.Conn) {
		l, _ := conn.Locals(localWSUser).(*liveSocket)
		after, _ := conn.Locals(localWSAfter).(uint64)
		if l == nil {
			return
		}
		defer s.sockets.remove(l)
		s.metrics.wsClients.Inc()
		defer s.metrics.wsClients.Dec()
		s.serveFeed(conn, l, after)
	})
}

func (s *Server) serveFeed(conn *websocket.Conn, l *liveSocket, after uint64) {
	uid := l.uid
	write := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
		return conn.WriteMessage(websocket.TextMessage, b)
	}
	closeWith := func(code int, reason string) {
		if len(reason) > 120 {
			reason = reason[:120]
		}
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		conn.Close()
	}

	feed := s.eng.Feed()
	sub, resumed, _ := feed.Subscribe(uid, after)
	defer sub.Close()
	var sent uint64 = after
	if !resumed {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		snap, err := s.eng.Snapshot(ctx, uid)
		cancel()
		if err != nil {
			code := closeUnknownUser
			if cti.KindOf(err) != cti.KindNotFound {
				code = websocket.CloseTryAgainLater
			}
			closeWith(code, err.Error())
			return
		}
		raw, _ := json.Marshal(snap)
		// The snapshot was taken after subscribing, so it already reflects
		// every event up to its Seq: those are skipped below.
		sent = snap.Seq
		if err := write(wireEnvelope{Seq: snap.Seq, Type: "hello", Time: s.o.Now().UTC(), Data: raw}); err != nil {
			return
		}
	}

	// The reader notices the client going away (and absorbs its pongs).
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
				s.log.Info("websocket dropped: client fell behind", "user_id", uid, "seq", sent)
				closeWith(closeResume, "fell behind; resume with after="+strconv.FormatUint(sent, 10))
				<-gone
				return
			}
			if env.Seq <= sent {
				continue
			}
			if err := write(wireEnvelope{Seq: env.Seq, Type: env.Type, Time: env.Time, Data: env.Data}); err != nil {
				conn.Close()
				<-gone
				return
			}
			sent = env.Seq
		case reason := <-l.end:
			closeWith(closeSessionEnded, reason)
			<-gone
			return
		case <-hb.C:
			// Expiry is checked here; revocation elsewhere by sweepSockets.
			if !s.o.Now().Before(l.expires) {
				closeWith(closeSessionEnded, "session expired; log in again")
				<-gone
				return
			}
			if err := write(map[string]any{"type": "ping", "time": s.o.Now().UTC()}); err != nil {
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
