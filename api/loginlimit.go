package api

import (
	"context"
	"math"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti/postgres"
)

// The login limiter counts failed logins in Postgres (table
// login_failures), so the counts survive a restart and every ctid instance
// on the database shares them. Two keys per attempt:
//
//   - the client address: perIP failures in the window refuse that address
//     (429) until they age out. Behind a reverse proxy the address is the
//     client's, from X-Forwarded-For, but only when the connection comes
//     from one of Options.TrustedProxies: otherwise everyone behind the
//     proxy would share one address, and anyone could forge the header.
//   - the username: past perUser failures, each further attempt must wait
//     a delay after the last failure (1 s, doubling, at most userMaxDelay).
//     It is a slow-down, never a lock-out: the right password is accepted
//     once the delay has passed, and attempts refused with 429 do not count
//     as failures, so an attacker cannot keep the owner out for good.

const userMaxDelay = 30 * time.Second

type limiter struct {
	admin   *postgres.Admin
	window  time.Duration
	perUser int
	perIP   int
}

func userKey(u string) string { return "u:" + strings.ToLower(u) }
func ipKey(ip string) string  { return "ip:" + ip }

// userDelay is how long after the last failure a username may try again.
func (l *limiter) userDelay(n int) time.Duration {
	if n < l.perUser {
		return 0
	}
	d := time.Second << min(n-l.perUser, 10)
	return min(d, userMaxDelay)
}

// wait returns how long until this login may be tried (0: now).
func (l *limiter) wait(ctx context.Context, user, ip string, now time.Time) (time.Duration, error) {
	counts, err := l.admin.LoginFailures(ctx, []string{userKey(user), ipKey(ip)}, now.Add(-l.window))
	if err != nil {
		return 0, err
	}
	var wait time.Duration
	if c := counts[ipKey(ip)]; l.perIP > 0 && c.Count >= l.perIP {
		wait = max(wait, c.Last.Add(l.window).Sub(now), time.Second)
	}
	if c := counts[userKey(user)]; l.perUser > 0 {
		if d := c.Last.Add(l.userDelay(c.Count)).Sub(now); d > 0 {
			wait = max(wait, d)
		}
	}
	return wait, nil
}

func (l *limiter) fail(ctx context.Context, user, ip string, now time.Time) error {
	return l.admin.AddLoginFailure(ctx, []string{userKey(user), ipKey(ip)}, now, now.Add(-l.window))
}

func (l *limiter) reset(ctx context.Context, user string) error {
	return l.admin.ClearLoginFailures(ctx, userKey(user))
}

// limited is the 429 for a login that must wait.
func limited(wait time.Duration) *Problem {
	p := newProblem(429, "too many failed logins; try again later")
	p.retryAfter = int(math.Ceil(wait.Seconds()))
	return p
}

// clientIP is the address the login limiter counts: the peer, or, when the
// peer is a trusted proxy, the nearest untrusted address in
// X-Forwarded-For (read from the right, as each proxy appends).
func (s *Server) clientIP(c *fiber.Ctx) string {
	if len(s.trusted) == 0 {
		return c.IP() // Options.TrustProxy (any peer) or no proxy at all
	}
	peer := c.Context().RemoteIP()
	if !s.isTrusted(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil {
			break
		}
		if !s.isTrusted(ip) {
			return ip.String()
		}
	}
	return peer.String()
}

func (s *Server) isTrusted(ip net.IP) bool {
	for _, n := range s.trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads CTID_TRUSTED_PROXIES: addresses or CIDR
// ranges, comma-separated.
func ParseTrustedProxies(list []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range list {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil {
				bits := 128
				if ip.To4() != nil {
					ip, bits = ip.To4(), 32
				}
				out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
				continue
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// The dialplan's shared secret (X-Ctid-Dialplan-Secret) is guessable only
// slowly: dialplanGuesses wrong secrets from one address in the window
// refuse that address (429) until they age out. The counts live with the
// login failures.
const (
	dialplanGuesses   = 10
	MinDialplanSecret = 12 // characters; a shorter CTID_DIALPLAN_SECRET is refused
)

func dialplanKey(ip string) string { return "dialplan:" + ip }

func (l *limiter) dialplanWait(ctx context.Context, ip string, now time.Time) (time.Duration, error) {
	counts, err := l.admin.LoginFailures(ctx, []string{dialplanKey(ip)}, now.Add(-l.window))
	if err != nil {
		return 0, err
	}
	if c := counts[dialplanKey(ip)]; c.Count >= dialplanGuesses {
		return max(c.Last.Add(l.window).Sub(now), time.Second), nil
	}
	return 0, nil
}

func (l *limiter) dialplanFail(ctx context.Context, ip string, now time.Time) error {
	return l.admin.AddLoginFailure(ctx, []string{dialplanKey(ip)}, now, now.Add(-l.window))
}
