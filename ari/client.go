package ari

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Config configures a Client. URL, Username, Password and App are required.
type Config struct {
	// URL is Asterisk's HTTP server, e.g. "http://127.0.0.1:8088". The
	// "/ari" prefix is added by the client (a URL already ending in /ari is
	// accepted too).
	URL string
	// Username and Password are an ari.conf user.
	Username, Password string
	// App is the Stasis application name the websocket registers.
	App string
	// HTTPClient is used for REST requests. Nil means a client with one
	// keep-alive transport tuned for many requests to one host.
	HTTPClient *http.Client
	// Logger receives connection diagnostics. Nil discards them.
	Logger *slog.Logger
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// websocket connection attempts (defaults 250ms and 10s).
	ReconnectMin, ReconnectMax time.Duration
	// PingInterval is how often a websocket ping is sent (default 5s); a
	// connection without any frame or pong for PingInterval+PongTimeout
	// (default 5s) is considered dropped.
	PingInterval, PongTimeout time.Duration
	// RequestTimeout bounds REST requests whose context has no deadline
	// (default 10s; negative means none).
	RequestTimeout time.Duration
	// EventBuffer is the capacity of the Events channel (default 1024).
	EventBuffer int
	// Subscriptions, if set, is called after every (re)connect and returns
	// the eventSources (e.g. "channel:ID", "bridge:ID",
	// "endpoint:PJSIP/1001", "deviceState:Stasis:agent-1") to subscribe the
	// application to again, before the Connected event is delivered. It is
	// called from Run's goroutine, concurrently with event consumers.
	Subscriptions func() []string
}

// Client is an ARI client. Create it with New, start the event websocket
// with Run, and use the resource groups for REST calls (they work whether or
// not the websocket is up). All methods are safe for concurrent use.
type Client struct {
	cfg     Config
	base    string // e.g. http://127.0.0.1:8088/ari
	wsURL   string // e.g. ws://127.0.0.1:8088/ari/events?app=...
	auth    string // Authorization header value
	http    *http.Client
	log     *slog.Logger
	events  chan Event
	running atomic.Bool
	conn    atomic.Bool

	Channels     Channels
	Bridges      Bridges
	Playbacks    Playbacks
	Recordings   Recordings
	Endpoints    Endpoints
	DeviceStates DeviceStates
	Asterisk     Asterisk
	Applications Applications
}

// NewTransport returns the http.Transport New uses by default: keep-alive,
// many idle connections to the one Asterisk host, short dial timeout.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// New validates cfg, applies defaults and returns a Client. It does not
// contact Asterisk.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" || cfg.App == "" {
		return nil, errors.New("ari: Config.URL and Config.App are required")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ari: bad Config.URL: %w", err)
	}
	var wsScheme string
	switch u.Scheme {
	case "http":
		wsScheme = "ws"
	case "https":
		wsScheme = "wss"
	default:
		return nil, fmt.Errorf("ari: Config.URL scheme must be http or https, got %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("ari: Config.URL has no host")
	}
	path := strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(path, "/ari") {
		path += "/ari"
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = path, "", "", ""
	base := u.String()
	u.Scheme = wsScheme
	ws := u.String() + "/events?app=" + url.QueryEscape(cfg.App) +
		"&api_key=" + url.QueryEscape(cfg.Username) + ":" + url.QueryEscape(cfg.Password)

	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = 250 * time.Millisecond
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = 10 * time.Second
	}
	if cfg.ReconnectMax < cfg.ReconnectMin {
		cfg.ReconnectMax = cfg.ReconnectMin
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 5 * time.Second
	}
	if cfg.PongTimeout <= 0 {
		cfg.PongTimeout = 5 * time.Second
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = 1024
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: NewTransport()}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		cfg:    cfg,
		base:   base,
		wsURL:  ws,
		http:   hc,
		log:    log,
		events: make(chan Event, cfg.EventBuffer),
	}
	if cfg.Username != "" || cfg.Password != "" {
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(cfg.Username, cfg.Password)
		c.auth = req.Header.Get("Authorization")
	}
	c.Channels = Channels{c}
	c.Bridges = Bridges{c}
	c.Playbacks = Playbacks{c}
	c.Recordings = Recordings{c}
	c.Endpoints = Endpoints{c}
	c.DeviceStates = DeviceStates{c}
	c.Asterisk = Asterisk{c}
	c.Applications = Applications{c}
	return c, nil
}

// App returns the Stasis application name.
func (c *Client) App() string { return c.cfg.App }

// Events returns the channel on which Run delivers ARI events and
// ConnectionEvents. It is closed when Run returns. Consumers must keep up:
// when the buffer is full, Run stops reading the websocket until there is
// room (Asterisk may then drop the connection).
func (c *Client) Events() <-chan Event { return c.events }

// Connected reports whether the event websocket is currently up.
func (c *Client) Connected() bool { return c.conn.Load() }

// Sentinel errors matched by errors.Is on errors returned by REST calls.
var (
	// ErrNotFound: 404, the resource does not exist.
	ErrNotFound = errors.New("ari: not found")
	// ErrConflict: 409, e.g. the channel is not in Stasis or the id exists.
	ErrConflict = errors.New("ari: conflict")
	// ErrBadRequest: 400 or 422, invalid parameters or unprocessable entity.
	ErrBadRequest = errors.New("ari: bad request")
	// ErrUnauthorized: 401 or 403.
	ErrUnauthorized = errors.New("ari: unauthorized")
	// ErrUnavailable: 503, or Asterisk could not be reached at all.
	ErrUnavailable = errors.New("ari: unavailable")
)

// Error is the error returned by REST calls. Status is the HTTP status, or 0
// when no response was received (Err then holds the transport error).
type Error struct {
	Op      string // e.g. "POST /channels/{id}/answer"
	Status  int
	Message string // Asterisk's "message"/"error" text, if any
	Err     error  // transport or decoding error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ari: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel errors by status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrUnavailable:
		if e.Status == http.StatusServiceUnavailable {
			return true
		}
		return e.Status == 0 && e.Err != nil &&
			!errors.Is(e.Err, context.Canceled) && !errors.Is(e.Err, context.DeadlineExceeded)
	}
	return false
}

// params builds ARI query strings. Zero values are omitted.
type params []string // key, value pairs

func (p params) str(k, v string) params {
	if v == "" {
		return p
	}
	return append(p, k, v)
}

func (p params) list(k string, v []string) params {
	if len(v) == 0 {
		return p
	}
	return append(p, k, strings.Join(v, ","))
}

func (p params) int(k string, v int) params {
	if v == 0 {
		return p
	}
	return append(p, k, fmt.Sprint(v))
}

func (p params) bool(k string, v bool) params {
	if !v {
		return p
	}
	return append(p, k, "true")
}

// encode percent-encodes p; spaces become %20 (not '+') because Asterisk's
// query parser does not treat '+' as a space everywhere.
func (p params) encode(b *strings.Builder) {
	for i := 0; i+1 < len(p); i += 2 {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(queryEscape(p[i]))
		b.WriteByte('=')
		b.WriteString(queryEscape(p[i+1]))
	}
}

func queryEscape(s string) string {
	e := url.QueryEscape(s)
	if strings.IndexByte(e, '+') >= 0 {
		e = strings.ReplaceAll(e, "+", "%20")
	}
	return e
}

// seg escapes one path segment (an id or name).
func seg(s string) string { return url.PathEscape(s) }

// variablesBody is the JSON body carrying channel/bridge variables.
type variablesBody struct {
	Variables map[string]any `json:"variables"`
}

// reportedVar is the Asterisk 22.10+ form of a variable whose changes are
// reported in channel events.
type reportedVar struct {
	Value        string `json:"value"`
	ReportEvents bool   `json:"report_events"`
}

// varsBody builds {"variables":{...}} from plain and reported variables;
// nil when there are none.
func varsBody(plain, reported map[string]string) any {
	if len(plain) == 0 && len(reported) == 0 {
		return nil
	}
	m := make(map[string]any, len(plain)+len(reported))
	for k, v := range plain {
		m[k] = v
	}
	for k, v := range reported {
		m[k] = reportedVar{Value: v, ReportEvents: true}
	}
	return variablesBody{Variables: m}
}

// do performs one REST request. op names the operation for errors; path is
// relative to /ari and already escaped; body (if non-nil) is sent as JSON;
// out (if non-nil) receives the decoded JSON answer.
func (c *Client) do(ctx context.Context, method, op, path string, q params, body, out any) error {
	resp, err := c.send(ctx, method, op, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Err: err}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("decode response: %w", err)}
	}
	return nil
}

// send performs a request and returns a 2xx response whose body the caller
// must close; other statuses are turned into *Error.
func (c *Client) send(ctx context.Context, method, op, path string, q params, body any) (*http.Response, error) {
	var b strings.Builder
	b.Grow(len(c.base) + len(path) + 16*len(q))
	b.WriteString(c.base)
	b.WriteString(path)
	q.encode(&b)

	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, &Error{Op: op, Err: err}
		}
		rd = bytes.NewReader(data)
	}
	var cancel context.CancelFunc
	if c.cfg.RequestTimeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		}
	}
	req, err := c.newRequest(ctx, method, b.String(), rd, body != nil)
	if err == nil {
		var resp *http.Response
		resp, err = c.roundTrip(req, op)
		if err == nil {
			if cancel != nil {
				// The body is read after we return: cancel when it is closed.
				resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
			}
			return resp, nil
		}
	} else {
		err = &Error{Op: op, Err: err}
	}
	if cancel != nil {
		cancel()
	}
	return nil, err
}

func (c *Client) newRequest(ctx context.Context, method, u string, body io.Reader, isJSON bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.auth != "" {
		req.Header["Authorization"] = []string{c.auth}
	}
	if isJSON {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	req.Header["Accept"] = []string{"application/json"}
	return req, nil
}

func (c *Client) roundTrip(req *http.Request, op string) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil, &Error{Op: op, Status: resp.StatusCode, Message: errorMessage(data)}
}

// errorMessage extracts Asterisk's {"message": ...} or {"error": ...}.
func errorMessage(data []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(data, &m) == nil {
		if m.Message != "" {
			return m.Message
		}
		if m.Error != "" {
			return m.Error
		}
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// idAlphabet is Crockford's base32 in lower case: URL-safe and unambiguous.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a new client-chosen id for a channel, bridge, playback,
// snoop or recording: prefix, a dash, and 16 random base32 characters (80
// bits), e.g. NewID("br") = "br-0k3q9x7m2c4v8t1a". It is URL-safe and valid
// as an Asterisk id and recording file name. An empty prefix gives the
// random part alone.
func NewID(prefix string) string {
	var r [10]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	buf := make([]byte, 0, len(prefix)+17)
	if prefix != "" {
		buf = append(buf, prefix...)
		buf = append(buf, '-')
	}
	// 10 bytes = 80 bits = 16 groups of 5 bits.
	var acc uint64
	bits := 0
	for _, x := range r {
		acc = acc<<8 | uint64(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			buf = append(buf, idAlphabet[(acc>>bits)&31])
		}
	}
	return string(buf)
}
