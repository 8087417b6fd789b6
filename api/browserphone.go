package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti/postgres"
)

// The browser softphone (issue 12): the adaptor registers the agent's
// browser phone (a phone of kind browser assigned to them) to Asterisk over
// SIP-over-WebSocket, then connects it like a desk phone ("system calls
// my phone" to that extension).
//
// POST /api/v1/agent/browser-phone hands the page the credentials. The
// phone's secret is stored only as md5_cred, so it cannot be read back:
// each request sets a fresh secret and returns it to the phone's own user.
// That drops an older registration of the same phone (another tab, the page
// before a reload) and leaves a copied secret useless after the next login.
// The answer is marked no-store; nothing here is logged.

// BrowserPhone is the answer: what SIP.js needs to register.
type BrowserPhone struct {
	Extension    string `json:"extension"`
	WebsocketURL string `json:"websocketUrl"`
	URI          string `json:"uri"` // sip:<extension>@<domain>
	AuthUser     string `json:"authorizationUser"`
	Password     string `json:"password"`
	Realm        string `json:"realm"`
}

func (s *Server) browserPhone(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	u := currentUser(c)
	p, err := s.admin.BrowserPhoneOf(ctx, u.ID)
	if err != nil {
		return err
	}
	p, secret, err := s.admin.ResetPhoneSecret(ctx, p.ID)
	if err != nil {
		return err
	}
	ws := s.o.Desk.SIPWebsocketURL
	if ws == "" {
		// Asterisk beside ctid: its HTTP server on the default port.
		scheme := "ws"
		if c.Protocol() == "https" {
			scheme = "wss"
		}
		ws = scheme + "://" + hostOnly(c.Hostname()) + ":8088/ws"
	}
	domain := hostOnly(strings.TrimPrefix(strings.TrimPrefix(ws, "wss://"), "ws://"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(BrowserPhone{Extension: p.Extension, WebsocketURL: ws, URI: "sip:" + p.Extension + "@" + domain,
		AuthUser: p.Extension, Password: secret, Realm: postgres.PhoneRealm})
}

// hostOnly is the host of "host", "host:port" or "host:port/path".
func hostOnly(h string) string {
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[:i+1]
		}
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[:i], ":") {
		return h[:i]
	}
	return h
}
