package api

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
)

// csp builds the Content-Security-Policy: frame-ancestors 'self' and the
// configured CRM origins (each once); on the web pages also script-src
// 'self' (plus those CRM origins and the Salesforce origin, from which
// the adaptor loads the Open CTI library when framed), no plugins, no
// <base> rewriting.
func (s *Server) csp(page bool) string {
	fa := []string{"'self'"}
	for _, a := range s.o.FrameAncestors {
		if a != "" && !strings.ContainsAny(a, "; ,\r\n") && !slices.Contains(fa, a) {
			fa = append(fa, a)
		}
	}
	policy := "frame-ancestors " + strings.Join(fa, " ")
	if page {
		src := fa
		if o := s.o.Desk.SalesforceOrigin; o != "" && !strings.ContainsAny(o, "; ,'\r\n") && !slices.Contains(src, o) {
			src = append(slices.Clone(src), o) // where the adaptor loads Open CTI from
		}
		policy = "script-src " + strings.Join(src, " ") + "; object-src 'none'; base-uri 'self'; " + policy
	}
	return policy
}

// isPage reports whether a path is served by the embedded web pages.
func isPage(path string) bool {
	for _, p := range []string{"/api/", "/media/", "/livez", "/readyz", "/metrics"} {
		if strings.HasPrefix(path, p) {
			return false
		}
	}
	return true
}

// methodNotAllowed answers a request for an API path that exists with
// another method: 405 with Allow, not 404.
func (s *Server) methodNotAllowed(c *fiber.Ctx) error {
	s.routeOnce.Do(func() {
		param := regexp.MustCompile(`:[^/]+|\*`)
		for _, r := range s.app.GetRoutes(true) {
			if r.Method == fiber.MethodHead || r.Method == "USE" || !strings.HasPrefix(r.Path, "/api/") {
				continue
			}
			re := "^" + param.ReplaceAllStringFunc(regexp.QuoteMeta(r.Path), func(string) string { return `[^/]+` }) + "/?$"
			s.routePaths = append(s.routePaths, routePath{re: regexp.MustCompile(re), method: r.Method})
		}
	})
	var allow []string
	for _, r := range s.routePaths {
		if r.re.MatchString(c.Path()) && !slices.Contains(allow, r.method) {
			allow = append(allow, r.method)
		}
	}
	if len(allow) == 0 {
		return newProblem(404, "no such endpoint")
	}
	slices.Sort(allow)
	c.Set(fiber.HeaderAllow, strings.Join(allow, ", "))
	return newProblem(405, "use "+strings.Join(allow, " or ")+" on this path")
}

type routePath struct {
	re     *regexp.Regexp
	method string
}

// transferTargetError gives every "that agent cannot take it" outcome of a
// transfer to an agent one sentence, so an agent cannot tell from the
// answers which user ids or names exist, who is logged in or in which
// state (the engine's messages name the person and their state).
func transferTargetError(typ string, err error) error {
	var ce *cti.Error
	if typ != "agent" || !errors.As(err, &ce) {
		return err
	}
	m := ce.Msg
	if strings.HasPrefix(m, "There is no agent called") || strings.HasSuffix(m, " is not logged in.") ||
		strings.Contains(m, " cannot take a call now (") {
		p := newProblem(400, "That agent cannot take the call now: check the name, or choose someone who is available.")
		p.Field = "target"
		return p
	}
	return err
}
