package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

// Authentication: a login returns an opaque bearer token (32 random bytes,
// base64url). Only its SHA-256 is stored, in auth_sessions, with an expiry;
// logout revokes it. Tokens travel in the Authorization header only: no
// cookies (third-party iframes block them) and never in URLs, except that a
// websocket is opened with a one-time ticket valid for 30 seconds.

const (
	localUser      = "ctid.user"
	localToken     = "ctid.token"
	localExpires   = "ctid.token.expires"
	localRequestID = "ctid.reqid"
)

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// UserRef is the user part of a login response.
type UserRef struct {
	ID          int64    `json:"id"`
	Username    string   `json:"username"`
	DisplayName string   `json:"displayName"`
	Role        cti.Role `json:"role"`
}

type loginRequest struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	User      UserRef   `json:"user"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	if req.Username == nil || strings.TrimSpace(*req.Username) == "" {
		return badField("username", "username is required")
	}
	if req.Password == nil || *req.Password == "" {
		return badField("password", "password is required")
	}
	user := strings.TrimSpace(*req.Username)
	if len(user) > 200 || len(*req.Password) > 1000 {
		return s.badLogin(c, user)
	}
	now := s.o.Now()
	wait, err := s.limiter.wait(c.UserContext(), user, s.clientIP(c), now)
	if err != nil {
		return err
	}
	if wait > 0 {
		return limited(wait)
	}
	acc, err := s.admin.Authenticate(c.UserContext(), user, *req.Password)
	if postgres.IsBadLogin(err) {
		return s.badLogin(c, user)
	}
	if err != nil {
		return err
	}
	if err := s.limiter.reset(c.UserContext(), user); err != nil {
		return err
	}
	tok := newToken()
	exp := now.Add(s.o.TokenTTL).UTC().Truncate(time.Second)
	if err := s.admin.CreateSession(c.UserContext(), hashToken(tok), acc.ID, exp); err != nil {
		return err
	}
	s.log.Info("login", "user", acc.Username, "user_id", acc.ID, "request_id", c.Locals(localRequestID))
	return c.JSON(loginResponse{Token: tok, ExpiresAt: exp, User: UserRef{acc.ID, acc.Username, acc.DisplayName, acc.Role}})
}

func (s *Server) badLogin(c *fiber.Ctx, user string) error {
	if err := s.limiter.fail(c.UserContext(), user, s.clientIP(c), s.o.Now()); err != nil {
		return err
	}
	s.metrics.loginFailures.Inc()
	s.log.Warn("login failed", "user", user, "ip", s.clientIP(c), "request_id", c.Locals(localRequestID))
	return newProblem(401, "invalid username or password")
}

func (s *Server) logout(c *fiber.Ctx) error {
	th := c.Locals(localToken).(string)
	s.sessions.drop(th)
	if err := s.admin.RevokeSession(c.UserContext(), th); err != nil {
		return err
	}
	s.sessions.drop(th) // a request that raced the revocation may have cached it again
	s.endToken(currentUser(c).ID, th, "logged out")
	return c.SendStatus(fiber.StatusNoContent)
}

// authenticate requires a live bearer token.
func (s *Server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return newProblem(401, "send Authorization: Bearer <token>")
	}
	if len(tok) > 100 {
		return newProblem(401, "invalid or expired token")
	}
	th := hashToken(tok)
	now := s.o.Now()
	acc, expires, ok := s.sessions.get(th, now)
	if !ok {
		var err error
		acc, expires, err = s.admin.SessionUser(c.UserContext(), th, now)
		if cti.KindOf(err) == cti.KindNotFound {
			return newProblem(401, "invalid or expired token")
		}
		if err != nil {
			return err
		}
		s.sessions.put(th, acc, expires, now)
	}
	c.Locals(localUser, &acc)
	c.Locals(localToken, th)
	c.Locals(localExpires, expires)
	return c.Next()
}

// forgetSessionsOnChange empties the session cache after an admin request
// that may change users (disable, role, permissions, campaigns), so the
// change applies to their next request.
func (s *Server) forgetSessionsOnChange(c *fiber.Ctx) error {
	err := c.Next()
	if c.Method() != fiber.MethodGet {
		s.sessions.clear()
		if err == nil {
			s.checkSocketsAfterUserChange(c)
		}
	}
	return err
}

// requireRole lets only the given roles through (after authenticate).
func requireRole(roles ...cti.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := currentUser(c)
		if u == nil || !slices.Contains(roles, u.Role) {
			names := make([]string, len(roles))
			for i, r := range roles {
				names[i] = string(r)
			}
			return newProblem(403, "this needs the "+strings.Join(names, " or ")+" role")
		}
		return c.Next()
	}
}

func currentUser(c *fiber.Ctx) *postgres.Account {
	u, _ := c.Locals(localUser).(*postgres.Account)
	return u
}

// --- websocket tickets -------------------------------------------------------

type ticket struct {
	user    postgres.Account
	expires time.Time
	token   string    // hash of the bearer token it was issued under
	session time.Time // that session's expiry
}

type tickets struct {
	mu sync.Mutex
	m  map[string]ticket
}

func (t *tickets) issue(u postgres.Account, now time.Time, ttl time.Duration) (string, time.Time) {
	return t.issueFor(u, "", time.Time{}, now, ttl)
}

// issueFor issues a ticket bound to the session (token hash and expiry) it
// was asked under, so it is voided with that session.
func (t *tickets) issueFor(u postgres.Account, tokenHash string, session, now time.Time, ttl time.Duration) (string, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.m {
		if now.After(v.expires) {
			delete(t.m, k)
		}
	}
	tok := newToken()
	exp := now.Add(ttl)
	t.m[hashToken(tok)] = ticket{user: u, expires: exp, token: tokenHash, session: session}
	return tok, exp
}

// void drops the unused tickets that match (their session ended).
func (t *tickets) void(match func(ticket) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.m {
		if match(v) {
			delete(t.m, k)
		}
	}
}

// take consumes a ticket: it works once, within its lifetime.
func (t *tickets) take(tok string, now time.Time) (postgres.Account, bool) {
	v, ok := t.takeTicket(tok, now)
	return v.user, ok
}

// takeTicket consumes a ticket, returning it with its session.
func (t *tickets) takeTicket(tok string, now time.Time) (ticket, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := hashToken(tok)
	v, ok := t.m[k]
	delete(t.m, k)
	if !ok || now.After(v.expires) {
		return ticket{}, false
	}
	return v, true
}

type ticketResponse struct {
	Ticket    string    `json:"ticket"`
	ExpiresAt time.Time `json:"expiresAt"`
	URL       string    `json:"url"`
}

func (s *Server) wsTicket(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	session, _ := c.Locals(localExpires).(time.Time)
	tok, exp := s.tickets.issueFor(*currentUser(c), c.Locals(localToken).(string), session, s.o.Now(), s.o.TicketTTL)
	return c.JSON(ticketResponse{Ticket: tok, ExpiresAt: exp, URL: "/api/v1/ws?ticket=" + tok})
}

// purgeSessions deletes long-dead sessions now and then.
func (s *Server) purgeSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.admin.PurgeSessions(ctx, s.o.Now().Add(-7*24*time.Hour)); err != nil {
				s.log.Warn("purge sessions", "err", err)
			} else if n > 0 {
				s.log.Info("purged auth sessions", "count", n)
			}
		}
	}
}
