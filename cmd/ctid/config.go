package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ctid/ctid/api"
)

// config is read from CTID_* environment variables; flags override them.
type config struct {
	Listen         string
	DSN            string
	DataDir        string
	ARIURL         string
	ARIUser        string
	ARIPassword    string
	App            string
	Double         bool
	DefaultRegion  string
	Trunk          string
	OfferTimeout   time.Duration
	LogLevel       string
	LogFormat      string
	CORSOrigins    []string
	FrameAncestors []string
	TokenTTL       time.Duration
	MediaURL       string
	DialplanSecret string
	// SecretKey seals the secrets ctid stores (payment gateway API keys).
	SecretKey string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	MaxWebsockets  int // agent websockets per user
	// PaymentGateways are the gateway endpoints campaigns may use.
	PaymentGateways []string
	// The agent's desk (issue 15).
	DefaultCallerID  string
	AgentCallsNumber string
	SalesforceOrigin string
	SIPWebsocketURL  string
}

// configVars documents every variable; the README table is generated from
// the same names by hand, so keep them in step.
var configVars = []struct{ name, def, help string }{
	{"CTID_LISTEN", ":8080", "HTTP listen address (API, websocket, adaptor, admin, metrics); in demo mode (no CTID_ARI_URL) the default is 127.0.0.1:8080"},
	{"CTID_DSN", "", "PostgreSQL DSN; empty starts a throwaway local cluster under CTID_DATA_DIR"},
	{"CTID_DATA_DIR", "./tmp", "where the throwaway cluster lives"},
	{"CTID_ARI_URL", "", "Asterisk HTTP base, e.g. http://127.0.0.1:8088; empty runs the in-process Asterisk double (demo)"},
	{"CTID_ARI_USER", "ctid", "ARI user"},
	{"CTID_ARI_PASSWORD", "", "ARI password (required with CTID_ARI_URL)"},
	{"CTID_ARI_APP", "ctid", "Stasis application name"},
	{"CTID_DEFAULT_REGION", "GB", "region for national phone numbers (ISO 3166 alpha-2)"},
	{"CTID_TRUNK", "PJSIP/%s@trunk", "dial string for customer numbers (%s = E.164)"},
	{"CTID_OFFER_TIMEOUT", "20s", "how long a non-persistent agent's phone rings"},
	{"CTID_LOG_LEVEL", "info", "debug, info, warn, error"},
	{"CTID_LOG_FORMAT", "json", "json or text"},
	{"CTID_CORS_ORIGINS", "", "comma-separated origins allowed to call the API (CRM pages)"},
	{"CTID_FRAME_ANCESTORS", "'self'", "CSP frame-ancestors for the adaptor (e.g. https://*.lightning.force.com)"},
	{"CTID_TOKEN_TTL", "12h", "login token lifetime"},
	{"CTID_DIALPLAN_SECRET", "", "shared secret for the dialplan's HTTP requests (Request a callback); empty disables them"},
	{"CTID_SECRET_KEY", "", "at least 32 characters (e.g. from `ctid secret-key`) that seal the payment gateway keys campaigns store; keep it with your secrets, not the database. Empty with CTID_DSN: campaigns can use only the sandbox gateway; empty without: a key kept in CTID_DATA_DIR/secret.key"},
	{"CTID_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (login limiter); empty: none"},
	{"CTID_PAYMENT_GATEWAYS", "https://api.stripe.com", "comma-separated payment gateway base URLs a campaign's settings.payment may use (card data goes only there)"},
	{"CTID_WS_PER_USER", "8", "agent websockets one user may hold open at once (tabs, CRM panels)"},
	{"CTID_MEDIA_URL", "", "ctid's base URL as Asterisk reaches it, for uploaded announcements (e.g. http://10.0.0.5:8080)"},
	{"CTID_DEFAULT_CALLER_ID", "", "caller id (E.164) of manual calls made without a campaign; empty: the trunk's default"},
	{"CTID_AGENT_CALLS_NUMBER", "8000", "the number agents dial to connect their phone (\"I call the system\"), shown by the adaptor"},
	{"CTID_SIP_WS_URL", "", "where browser phones reach Asterisk's SIP-over-WebSocket, e.g. wss://pbx.example.com/ws (browsers need wss:// from other hosts); empty: ws://<the page's host>:8088/ws"},
	{"CTID_SALESFORCE_ORIGIN", "", "the Salesforce (Open CTI) origin the adaptor talks to when framed, e.g. https://acme.lightning.force.com"},
}

func env(name string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	for _, v := range configVars {
		if v.name == name {
			return v.def
		}
	}
	return ""
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func loadConfig(fs *flag.FlagSet, args []string) (config, error) {
	var c config
	fs.StringVar(&c.Listen, "listen", env("CTID_LISTEN"), "listen address")
	fs.StringVar(&c.DSN, "dsn", env("CTID_DSN"), "PostgreSQL DSN")
	fs.StringVar(&c.DataDir, "data-dir", env("CTID_DATA_DIR"), "data directory for the throwaway cluster")
	fs.StringVar(&c.ARIURL, "ari-url", env("CTID_ARI_URL"), "Asterisk ARI base URL (empty: in-process double)")
	fs.StringVar(&c.ARIUser, "ari-user", env("CTID_ARI_USER"), "ARI user")
	fs.StringVar(&c.ARIPassword, "ari-password", env("CTID_ARI_PASSWORD"), "ARI password")
	fs.StringVar(&c.App, "app", env("CTID_ARI_APP"), "Stasis application")
	fs.StringVar(&c.DefaultRegion, "region", env("CTID_DEFAULT_REGION"), "default phone region")
	fs.StringVar(&c.Trunk, "trunk", env("CTID_TRUNK"), "trunk dial string")
	fs.StringVar(&c.LogLevel, "log-level", env("CTID_LOG_LEVEL"), "log level")
	fs.StringVar(&c.LogFormat, "log-format", env("CTID_LOG_FORMAT"), "log format")
	fs.StringVar(&c.DialplanSecret, "dialplan-secret", env("CTID_DIALPLAN_SECRET"), "shared secret for dialplan HTTP requests")
	fs.StringVar(&c.SecretKey, "secret-key", env("CTID_SECRET_KEY"), "key that seals stored payment gateway keys")
	fs.StringVar(&c.MediaURL, "media-url", env("CTID_MEDIA_URL"), "base URL Asterisk uses to fetch uploaded announcements")
	fs.StringVar(&c.DefaultCallerID, "default-caller-id", env("CTID_DEFAULT_CALLER_ID"), "caller id of manual calls without a campaign")
	fs.StringVar(&c.AgentCallsNumber, "agent-calls-number", env("CTID_AGENT_CALLS_NUMBER"), "number agents dial to connect their phone")
	fs.StringVar(&c.SIPWebsocketURL, "sip-ws-url", env("CTID_SIP_WS_URL"), "browser phones' SIP-over-WebSocket URL")
	fs.StringVar(&c.SalesforceOrigin, "salesforce-origin", env("CTID_SALESFORCE_ORIGIN"), "Salesforce origin for the framed adaptor")
	offer := fs.String("offer-timeout", env("CTID_OFFER_TIMEOUT"), "agent ring time")
	ttl := fs.String("token-ttl", env("CTID_TOKEN_TTL"), "token lifetime")
	cors := fs.String("cors", env("CTID_CORS_ORIGINS"), "CORS origins")
	frames := fs.String("frame-ancestors", env("CTID_FRAME_ANCESTORS"), "CSP frame-ancestors")
	proxies := fs.String("trusted-proxies", env("CTID_TRUSTED_PROXIES"), "trusted reverse proxies (addresses or CIDR ranges)")
	wsPerUser := fs.String("ws-per-user", env("CTID_WS_PER_USER"), "agent websockets per user")
	gateways := fs.String("payment-gateways", env("CTID_PAYMENT_GATEWAYS"), "allowed payment gateway base URLs")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.OfferTimeout, err = time.ParseDuration(*offer); err != nil {
		return c, fmt.Errorf("CTID_OFFER_TIMEOUT: %w", err)
	}
	if c.TokenTTL, err = time.ParseDuration(*ttl); err != nil {
		return c, fmt.Errorf("CTID_TOKEN_TTL: %w", err)
	}
	if !strings.Contains(c.Trunk, "%s") {
		return c, fmt.Errorf("CTID_TRUNK %q must contain %%s for the number", c.Trunk)
	}
	c.CORSOrigins, c.FrameAncestors, c.PaymentGateways = list(*cors), list(*frames), list(*gateways)
	if c.TrustedProxies, err = api.ParseTrustedProxies(list(*proxies)); err != nil {
		return c, fmt.Errorf("CTID_TRUSTED_PROXIES: %w", err)
	}
	if c.SecretKey != "" && len(c.SecretKey) < api.MinSecretKey {
		return c, fmt.Errorf("CTID_SECRET_KEY must be at least %d characters (`ctid secret-key` prints one)", api.MinSecretKey)
	}
	if c.DialplanSecret != "" && len(c.DialplanSecret) < api.MinDialplanSecret {
		return c, fmt.Errorf("CTID_DIALPLAN_SECRET must be at least %d characters (or empty to disable the dialplan routes)", api.MinDialplanSecret)
	}
	if c.MaxWebsockets, err = strconv.Atoi(*wsPerUser); err != nil || c.MaxWebsockets < 1 {
		return c, fmt.Errorf("CTID_WS_PER_USER %q must be a positive number", *wsPerUser)
	}
	c.Double = c.ARIURL == ""
	if b, err := strconv.ParseBool(os.Getenv("CTID_DOUBLE")); err == nil && b {
		c.Double = true
	}
	if !c.Double && c.ARIPassword == "" {
		return c, errors.New("CTID_ARI_PASSWORD is required with CTID_ARI_URL (the ARI user's password in Asterisk's ari.conf)")
	}
	// Demo mode (the in-process double, built-in demo accounts) stays on
	// this machine unless an address is chosen explicitly.
	listenSet := os.Getenv("CTID_LISTEN") != ""
	fs.Visit(func(f *flag.Flag) { listenSet = listenSet || f.Name == "listen" })
	if c.Double && !listenSet {
		c.Listen = "127.0.0.1:8080"
	}
	return c, nil
}
