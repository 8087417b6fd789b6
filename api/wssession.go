package api

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
)

// A websocket lives no longer than the session (bearer token) whose ticket
// opened it. It is closed with closeSessionEnded, which the adaptor takes
// as "log in again" (it does not reconnect), when:
//   - the token is logged out (POST /auth/logout), here at once;
//   - an admin changes the user (password, disabled, role), here at once:
//     the user's sockets are checked against Postgres;
//   - the token expires, or is revoked through another ctid instance: each
//     socket checks its session at every heartbeat.
// Tickets are voided with their session too, so a ticket issued before a
// logout opens nothing.

// closeSessionEnded closes a websocket whose session ended.
const closeSessionEnded = 4001

// liveSocket is one open agent websocket.
type liveSocket struct {
	uid     int64
	token   string    // the session's token hash
	expires time.Time // the session's expiry
	end     chan string
	once    sync.Once
}

// stop asks the socket to close with reason (once).
func (l *liveSocket) stop(reason string) {
	l.once.Do(func() { l.end <- reason; close(l.end) })
}

// sockets tracks the open websockets by user.
type sockets struct {
	mu     sync.Mutex
	byUser map[int64]map[*liveSocket]struct{}
}

func newSockets() *sockets { return &sockets{byUser: map[int64]map[*liveSocket]struct{}{}} }

// add registers a socket unless the user already has limit open (limit
// <= 0: no limit).
func (s *sockets) add(l *liveSocket, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byUser[l.uid]
	if limit > 0 && len(m) >= limit {
		return false
	}
	if m == nil {
		m = map[*liveSocket]struct{}{}
		s.byUser[l.uid] = m
	}
	m[l] = struct{}{}
	return true
}

func (s *sockets) remove(l *liveSocket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.byUser[l.uid]; m != nil {
		delete(m, l)
		if len(m) == 0 {
			delete(s.byUser, l.uid)
		}
	}
}

// of lists a user's sockets (or, with uid 0, everyone's).
func (s *sockets) of(uid int64) []*liveSocket {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*liveSocket
	for u, m := range s.byUser {
		if uid != 0 && u != uid {
			continue
		}
		for l := range m {
			out = append(out, l)
		}
	}
	return out
}

func (s *sockets) count(uid int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byUser[uid])
}

// endToken closes the sockets opened under one session (logout).
func (s *Server) endToken(uid int64, tokenHash, reason string) {
	s.tickets.void(func(t ticket) bool { return t.token == tokenHash })
	for _, l := range s.sockets.of(uid) {
		if l.token == tokenHash {
			l.stop(reason)
		}
	}
}

// recheckUser checks a user's sockets against their sessions in Postgres
// (after an admin changed the user) and closes those whose session is no
// longer valid, or whose user may no longer use the agent websocket. The
// user's unused tickets are voided: the client asks for a new one.
func (s *Server) recheckUser(ctx context.Context, uid int64) {
	s.tickets.void(func(t ticket) bool { return t.user.ID == uid })
	for _, l := range s.sockets.of(uid) {
		if reason := s.sessionGone(ctx, l); reason != "" {
			l.stop(reason)
		}
	}
}

// sessionGone says why a socket's session is over, or "" while it lasts
// (or while Postgres cannot tell: a database outage does not log agents out).
func (s *Server) sessionGone(ctx context.Context, l *liveSocket) string {
	now := s.o.Now()
	if !now.Before(l.expires) {
		return "session expired; log in again"
	}
	acc, _, err := s.admin.SessionUser(ctx, l.token, now)
	switch {
	case cti.KindOf(err) == cti.KindNotFound:
		return "session ended (logged out, password changed or user disabled); log in again"
	case err != nil:
		return ""
	case acc.Disabled:
		return "user disabled"
	case acc.Role != cti.RoleAgent && acc.Role != cti.RoleSupervisor:
		return "this user no longer has the agent role; log in again"
	}
	return ""
}

// checkSocketsAfterUserChange runs after an admin request: a successful
// change to a user (PATCH or DELETE /admin/users/{id}) rechecks that
// user's sockets.
func (s *Server) checkSocketsAfterUserChange(c *fiber.Ctx) {
	if c.Method() == fiber.MethodGet || c.Response().StatusCode() >= 300 {
		return
	}
	rest, ok := strings.CutPrefix(c.Path(), "/api/v1/admin/users/")
	if !ok {
		return
	}
	uid, err := strconv.ParseInt(strings.TrimSuffix(rest, "/"), 10, 64)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
	defer cancel()
	s.recheckUser(ctx, uid)
}

// sweepSockets checks every open websocket's session against Postgres once
// per heartbeat, in one query for all of them, and closes those whose
// session ended through another ctid instance (or directly in Postgres).
func (s *Server) sweepSockets(ctx context.Context) {
	t := time.NewTicker(s.o.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		all := s.sockets.of(0)
		if len(all) == 0 {
			continue
		}
		seen := map[string]bool{}
		var hashes []string
		for _, l := range all {
			if !seen[l.token] {
				seen[l.token] = true
				hashes = append(hashes, l.token)
			}
		}
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		live, err := s.admin.LiveSessions(qctx, hashes, s.o.Now())
		cancel()
		if err != nil {
			continue // a database outage does not log agents out
		}
		for _, l := range all {
			if !live[l.token] {
				l.stop("session ended (logged out, password changed, user disabled or token expired); log in again")
			}
		}
	}
}
