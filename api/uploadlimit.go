package api

import (
	"context"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ctid/ctid/cti"
)

// uploaderIsAdmin decides, from the request headers alone (before any of
// the body is read), whether a large upload may be received: only for a
// live admin session. Anyone else's 50 MB body is refused with 413 before
// it is buffered, so unauthenticated uploads cannot take the server's
// memory. The lookup goes through the session cache, like authenticate.
func (s *Server) uploaderIsAdmin(h *fasthttp.RequestHeader) bool {
	scheme, tok, ok := strings.Cut(string(h.Peek(fasthttp.HeaderAuthorization)), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 100 {
		return false
	}
	th := hashToken(tok)
	now := s.o.Now()
	acc, _, ok := s.sessions.get(th, now)
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var expires time.Time
		var err error
		if acc, expires, err = s.admin.SessionUser(ctx, th, now); err != nil {
			return false
		}
		s.sessions.put(th, acc, expires, now)
	}
	return acc.Role == cti.RoleAdmin
}
