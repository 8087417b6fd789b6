// Package sipphone is a person-level SIP test kit for a real Asterisk
// started by aritest.StartAsterisk: desk phones that register as the
// agent endpoints of asterisk-conf/pjsip.conf, and the carrier behind the
// "trunk" endpoint. Each is a diago user agent on 127.0.0.1 (its own UDP
// port; the carrier's is ast.TrunkPort), cleaned up with the test (calls
// hung up, phones unregistered, agents closed).
//
//	phone := sipphone.NewPhone(t, ast, "1001")            // REGISTERed, ARI sees it online
//	phone := sipphone.NewPhone(t, ast, "1002", sipphone.WithPolicy(sipphone.NeverAnswer))
//	call, err := phone.Dial(ctx, "8000")                  // INVITE with digest auth
//	in := phone.NextCall(10 * time.Second)                // an INVITE Asterisk sent
//	carrier := sipphone.NewCarrier(t, ast)
//	cust, err := carrier.Call(ctx, "5550100", "+447700900123") // inbound on a DID
//	out := carrier.NextCall(10 * time.Second)             // PJSIP/<num>@trunk: out.Dialled, out.From, out.PAI
//
// Incoming INVITEs follow the agent's answer policy (Answer, AnswerAfter,
// Busy, Decline, Refuse(code), NeverAnswer; SetPolicy changes it) and are
// counted (Invites). Every call, answered, is a person: Play(hz) talks a
// continuous tone in µ-law 20 ms frames (give each party its own: e.g.
// customer 600 Hz, agent 1000 Hz, third party 1400 Hz, supervisor
// 1800 Hz), Silence, SendDigits (RFC 4733), Hangup; and it reports what
// the person hears, second by second, from the decoded far-end audio:
// Level (RMS, Tone(hz) by Goertzel, Broadband for music or prompts,
// Silent), WaitHears, HearsNot, WaitSilence, WaitBroadband, WaitDigits.
// The thresholds (HearMin, AbsentMax, SilenceMax, SoundMin, ToneShareMin)
// are documented with the measurements behind them in ear.go.
package sipphone

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
)

// Policy is how a user agent treats an INVITE Asterisk sends it.
type Policy struct {
	refuse int           // SIP status to refuse with; 0 answers
	never  bool          // ring until cancelled
	delay  time.Duration // ring this long before answering
}

var (
	// Answer answers at once (after a 180 Ringing).
	Answer = Policy{}
	// NeverAnswer rings until the caller cancels.
	NeverAnswer = Policy{never: true}
	// Busy refuses with 486 Busy Here.
	Busy = Policy{refuse: 486}
	// Decline refuses with 603 Decline.
	Decline = Policy{refuse: 603}
)

// AnswerAfter rings for d, then answers (unless cancelled meanwhile).
func AnswerAfter(d time.Duration) Policy { return Policy{delay: d} }

// Refuse answers the INVITE with a final SIP status (4xx-6xx).
func Refuse(status int) Policy { return Policy{refuse: status} }

func (p Policy) String() string {
	switch {
	case p.never:
		return "never answer"
	case p.refuse != 0:
		return fmt.Sprintf("refuse %d", p.refuse)
	case p.delay > 0:
		return fmt.Sprintf("answer after %v", p.delay)
	}
	return "answer"
}

// Option configures a Phone or the Carrier.
type Option func(*config)

type config struct {
	user, password string
	policy         Policy
	tone           float64
}

// WithAuth sets the digest user and password (default: the endpoint name
// and ast.PhoneSecret of it, a test phone's own secret).
func WithAuth(user, password string) Option {
	return func(c *config) { c.user, c.password = user, password }
}

// WithPolicy sets the answer policy for incoming INVITEs (default Answer).
func WithPolicy(p Policy) Option { return func(c *config) { c.policy = p } }

// WithTone makes every call of this agent start talking the tone at hz.
func WithTone(hz float64) Option { return func(c *config) { c.tone = hz } }

// agent is what a Phone and the Carrier share: a diago UA serving INVITEs.
type agent struct {
	t     testing.TB
	ast   *aritest.Asterisk // for what Asterisk says of a call that hears nothing
	name  string            // for messages
	host  string            // Asterisk's SIP address
	sip   int               // Asterisk's SIP port
	port  int               // our UDP port
	dg    *diago.Diago
	ua    *sipgo.UserAgent
	ctx   context.Context
	stop  context.CancelFunc
	cfg   config
	calls chan *Call

	invites  atomic.Int32
	settling settling // requests within dialogs of INVITEs not yet returned
	mu       sync.Mutex
	policy   Policy
	all      []*Call
}

func logger() *slog.Logger {
	if os.Getenv("CTID_TEST_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newAgent(t testing.TB, name, uaName string, ast *aritest.Asterisk, port int, cfg config) *agent {
	t.Helper()
	if port == 0 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(uaName))
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, ast: ast, name: name, host: "127.0.0.1", sip: ast.SIPPort, port: port, ua: ua, cfg: cfg,
		policy: cfg.policy, calls: make(chan *Call, 64)}
	a.dg = diago.NewDiago(ua, diago.WithLogger(logger()), diago.WithServerRequestMiddleware(func(next sipgo.RequestHandler) sipgo.RequestHandler {
		return a.settling.middleware(a.noteIdentities(next))
	}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: port}),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioUlaw, media.CodecTelephoneEvent8000}}))
	a.ctx, a.stop = context.WithCancel(context.Background())
	if err := a.dg.ServeBackground(a.ctx, a.serve); err != nil {
		a.stop()
		ua.Close()
		t.Fatalf("%s: listen on 127.0.0.1:%d: %v", name, port, err)
	}
	return a
}

// close hangs up every call and closes the user agent.
func (a *agent) close() {
	a.hangupAll()
	a.stop()
	a.ua.Close()
}

func (a *agent) track(c *Call) {
	a.mu.Lock()
	a.all = append(a.all, c)
	a.mu.Unlock()
}

// tracked is every call of this agent so far.
func (a *agent) tracked() []*Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*Call(nil), a.all...)
}

// serve handles one INVITE from Asterisk for the dialog's lifetime (diago
// ends the dialog when it returns).
func (a *agent) serve(d *diago.DialogServerSession) {
	a.invites.Add(1)
	c := newCall(a.t, a.ast, a.name, true, d.InviteRequest, a.cfg.tone)
	a.track(c)
	select {
	case a.calls <- c:
	default:
	}
	a.mu.Lock()
	p := a.policy
	a.mu.Unlock()
	ctx := d.Context()
	if p.refuse != 0 {
		d.Respond(p.refuse, reason(p.refuse), nil)
		c.end(fmt.Sprintf("refused %d", p.refuse))
		return
	}
	d.Ringing()
	if p.never {
		<-ctx.Done()
		c.end("cancelled while ringing")
		return
	}
	if p.delay > 0 {
		select {
		case <-ctx.Done():
			c.end("cancelled while ringing")
			return
		case <-time.After(p.delay):
		}
	}
	med, err := d.Answer(diago.AnswerOptions{})
	if err != nil {
		c.end("answer failed: " + err.Error())
		return
	}
	if err := c.start(ctx, med, d.Hangup); err != nil {
		c.end("media: " + err.Error())
		return
	}
	<-ctx.Done()
	c.end("ended")
}

func reason(status int) string {
	switch status {
	case 486:
		return "Busy Here"
	case 603:
		return "Decline"
	case 480:
		return "Temporarily Unavailable"
	}
	return "Refused"
}

// invite places a call to user@Asterisk. diago v0.42.1 reports its listener
// ready before the transport layer holds the socket; a request sent in that
// gap tries to bind the same port itself ("address already in use"), so
// that case is retried.
func (a *agent) invite(ctx context.Context, user string, opts func() diago.InviteOptions) (*Call, error) {
	var (
		d   *diago.DialogClientSession
		med *diago.DialogMedia
		err error
	)
	for try := 0; ; try++ {
		o := opts()
		callID, settled := a.settling.begin()
		o.Headers = append(o.Headers, &callID)
		d, med, err = a.dg.Invite(ctx, sip.Uri{User: user, Host: a.host, Port: a.sip}, o)
		if err == nil {
			// Asterisk's requests within the call wait until it is
			// tracked and its media runs, so each finds its Call
			// (noteIdentities).
			defer settled()
			break
		}
		settled()
		if try == 20 || !strings.Contains(err.Error(), "address already in use") {
			return nil, fmt.Errorf("%s: INVITE %s: %w", a.name, user, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := newCall(a.t, a.ast, a.name, false, d.InviteRequest, a.cfg.tone)
	a.track(c)
	dctx := d.Context()
	if err := c.start(dctx, med, d.Hangup); err != nil {
		d.Close()
		return nil, err
	}
	go func() {
		<-dctx.Done()
		c.end("ended")
		d.Close()
	}()
	return c, nil
}

// noteIdentities gives each call the identities Asterisk sends within it
// (re-INVITEs and UPDATEs; Call.Identities).
func (a *agent) noteIdentities(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if req.Method == sip.INVITE || req.Method == sip.UPDATE {
			if to := req.To(); to != nil && to.Params.Has("tag") {
				if cid := req.CallID(); cid != nil {
					for _, c := range a.tracked() {
						if c.callID == string(*cid) {
							c.noteIdentity(req)
						}
					}
				}
			}
		}
		next(req, tx)
	}
}

// SetPolicy changes the answer policy for INVITEs from now on.
func (a *agent) SetPolicy(p Policy) {
	a.mu.Lock()
	a.policy = p
	a.mu.Unlock()
}

// Invites is the number of INVITEs (new calls, not re-INVITEs) received.
func (a *agent) Invites() int { return int(a.invites.Load()) }

// NextCall returns the next call Asterisk placed to this agent (as the
// INVITE arrives, before the policy answers it) or fails the test.
func (a *agent) NextCall(timeout time.Duration) *Call {
	a.t.Helper()
	select {
	case c := <-a.calls:
		return c
	case <-time.After(timeout):
		a.t.Fatalf("%s: no INVITE within %v", a.name, timeout)
		return nil
	}
}

// Phone is an agent's desk phone registered to Asterisk.
type Phone struct {
	*agent
	// Ext is the endpoint the phone registers as.
	Ext string

	ari  *ari.Client
	ast  *aritest.Asterisk
	reg  *diago.RegisterTransaction
	regc context.CancelFunc
	regd chan struct{}
}

// NewPhone starts a phone on its own 127.0.0.1 port, REGISTERs it to
// Asterisk as endpoint ext with digest auth and waits until ARI shows the
// endpoint online. Cleanup hangs up its calls, unregisters and closes it.
func NewPhone(t testing.TB, ast *aritest.Asterisk, ext string, opts ...Option) *Phone {
	t.Helper()
	cfg := config{user: ext, password: ast.PhoneSecret(ext)}
	for _, o := range opts {
		o(&cfg)
	}
	// The UA name is the From user: Asterisk identifies phones by it.
	p := &Phone{agent: newAgent(t, "phone "+ext, cfg.user, ast, 0, cfg), Ext: ext, ast: ast}
	var err error
	p.ari, err = ari.New(ari.Config{URL: ast.URL(), Username: ast.User, Password: ast.Password, App: "sipphone"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.hangupAll()
		if err := p.Unregister(ctx); err != nil {
			t.Log(err)
		}
		p.close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Register(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// Register REGISTERs the phone (digest auth) and waits until ARI reports
// the endpoint online. A background loop refreshes the registration.
func (p *Phone) Register(ctx context.Context) error {
	uri := sip.Uri{User: p.cfg.user, Host: p.host, Port: p.sip}
	var err error
	for try := 0; ; try++ {
		var rt *diago.RegisterTransaction
		rt, err = p.dg.RegisterTransaction(ctx, uri, diago.RegisterOptions{Username: p.cfg.user, Password: p.cfg.password, Expiry: 300 * time.Second})
		if err == nil {
			if err = rt.Register(ctx); err == nil {
				p.reg = rt
				break
			}
		}
		if try == 20 || !strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("%s: REGISTER: %w", p.name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rctx, cancel := context.WithCancel(p.ctx)
	p.regc, p.regd = cancel, make(chan struct{})
	go func(rt *diago.RegisterTransaction, done chan struct{}) {
		defer close(done)
		rt.QualifyLoop(rctx)
	}(p.reg, p.regd)
	for {
		ep, err := p.ari.Endpoints.Get(ctx, "PJSIP", p.Ext)
		if err == nil && ep.State == "online" {
			return nil
		}
		select {
		case <-ctx.Done():
			st := "?"
			if ep != nil {
				st = ep.State
			}
			return fmt.Errorf("%s: registered, yet ARI shows endpoint PJSIP/%s %s (%v)", p.name, p.Ext, st, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Unregister removes the registration (Expires: 0) and waits until ARI
// shows the endpoint offline.
func (p *Phone) Unregister(ctx context.Context) error {
	if p.reg == nil {
		return nil
	}
	p.regc()
	<-p.regd
	rt := p.reg
	p.reg = nil
	if err := rt.Unregister(ctx); err != nil {
		return fmt.Errorf("%s: unregister: %w", p.name, err)
	}
	for {
		ep, err := p.ari.Endpoints.Get(ctx, "PJSIP", p.Ext)
		if err == nil && ep.State != "online" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: unregistered, yet ARI shows the endpoint online", p.name)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Dial calls number (an extension such as 8000, or any number) through
// Asterisk with digest auth and returns the call once answered.
func (p *Phone) Dial(ctx context.Context, number string) (*Call, error) {
	return p.invite(ctx, number, func() diago.InviteOptions {
		return diago.InviteOptions{Username: p.cfg.user, Password: p.cfg.password}
	})
}

// Carrier is the far side of the "trunk" endpoint: it listens on
// 127.0.0.1:ast.TrunkPort for the calls Asterisk places to customers, and
// places inbound calls to DIDs.
type Carrier struct {
	*agent
}

// NewCarrier starts the carrier on ast.TrunkPort (cleaned up with the test).
//
// The carrier stands for the public network, which must never learn who
// inside the contact centre a customer is talking to. A test fails if
// Asterisk named anyone to the carrier within a call (a connected-line
// re-INVITE or UPDATE: the agent who answered, a consulted number, a
// conference): the trunk sends none (asterisk-conf/pjsip.conf,
// send_connected_line = no).
func NewCarrier(t testing.TB, ast *aritest.Asterisk, opts ...Option) *Carrier {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	c := &Carrier{newAgent(t, "carrier", "carrier", ast, ast.TrunkPort, cfg)}
	t.Cleanup(func() {
		for _, call := range c.tracked() {
			if ids := call.Identities(); len(ids) > 0 {
				t.Errorf("%v: Asterisk told the carrier who is on the call: %q", call, ids)
			}
		}
		c.agent.close()
	})
	return c
}

// Call places an inbound call to did presenting callerID (the From user;
// it must not be an endpoint name, so Asterisk identifies the trunk by IP)
// and returns it once Asterisk answers.
func (c *Carrier) Call(ctx context.Context, did, callerID string) (*Call, error) {
	return c.invite(ctx, did, func() diago.InviteOptions {
		return diago.InviteOptions{Headers: []sip.Header{&sip.FromHeader{
			Address: sip.Uri{Scheme: "sip", User: callerID, Host: c.host}, Params: sip.NewParams()}}}
	})
}

// hangupAll hangs up every call, leaving the user agent open (a phone
// still has to unregister through it).
func (a *agent) hangupAll() {
	for _, c := range a.tracked() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		c.Hangup(ctx)
		cancel()
	}
}
