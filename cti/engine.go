package cti

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/cti/payment"
)

// Options configure an Engine. Only Telephony and Store are required.
type Options struct {
	Telephony Telephony
	Store     Store
	Clock     Clock
	Feed      *Feed
	Logger    *slog.Logger
	App       string // Stasis application name (default "ctid")
	// AgentEndpoint maps an agent's connection number to a dial string.
	// Default: "PJSIP/<n>" for extensions, "PJSIP/<n>@trunk" for E.164.
	AgentEndpoint func(number string) string
	// TrunkEndpoint maps an E.164 customer number to a dial string.
	TrunkEndpoint func(e164 string) string
	DefaultRegion string // for numbers without a campaign region
	// Phones says which phone a user may connect (phones.go); nil: any.
	Phones PhoneDirectory
	// DefaultCallerID is what manual calls without a campaign present
	// (E.164); empty: the trunk's default (often anonymous).
	DefaultCallerID string
	OfferTimeout    time.Duration // how long a non-persistent agent's phone rings
	DialTimeout     time.Duration // how long an outbound customer leg rings
	// WriteQueue bounds the asynchronous record writer (default 65536).
	WriteQueue int
	// WriteShards is how many database writers run in parallel (default
	// 1; see writer).
	WriteShards int
	// RequestLanes is how many ARI requests may be in flight at once
	// (default 16; see pipeline).
	RequestLanes int
	// MediaBase is ctid's base URL as Asterisk reaches it, for uploaded
	// announcements (e.g. http://10.0.0.5:8080).
	MediaBase string
	// Outcome receives how each dialler attempt ended (package dialer).
	Outcome func(AttemptOutcome)
	// Gateway overrides how a campaign's payment gateway is built (tests);
	// by default it comes from the campaign's settings {"payment": {...}}.
	Gateway func(*Campaign) (payment.Gateway, string, error)
}

// Engine owns all agent and call state. Every change happens on its single
// loop goroutine, fed by ARI events, API commands and timers, so there are
// no locks around state and the transition tables are the only way in.
type Engine struct {
	o      Options
	tel    Telephony
	log    *slog.Logger
	clock  Clock
	feed   *Feed
	cmds   chan func()
	events chan ari.Event
	cfg    *Config

	agents  map[int64]*agent
	ready   map[int64]*agent         // agents in state Ready (allocation scans only these)
	members map[int64]map[int64]bool // campaign id → its agents
	// campaignsOf is members inverted; lines orders each campaign's Ready
	// agents by idle time (ready.go).
	campaignsOf map[int64][]int64
	lines       readyLines
	calls       map[string]*call   // by interaction id
	channels    map[string]chanRef // every channel the engine knows
	queues      map[int64][]*call  // campaign id → waiting callers, FIFO
	mohOn       map[string]bool    // queue holding bridges created (music restarts as callers join: onEnteredBridge)
	// predictive dialler calls by customer channel, until an agent takes them
	predictive map[string]*predictive
	// hangupCause remembers ChannelHangupRequest causes until the channel
	// leaves Stasis (whose event carries none).
	hangupCause map[string]string
	watch       directoryWatch // who gets directory.presence (desk.go)
	// recs are the recordings Asterisk has not finished, by name: one
	// outlives its call when the agent wraps before RecordingFinished.
	recs map[string]*recording

	writer  *writer
	pipe    *pipeline
	started atomic.Bool
	ctx     context.Context
	stop    context.CancelFunc
	done    chan struct{}
	seq     atomic.Uint64

	// Stats for metrics and tests; read with Stats().
	stats Stats
	// mon is the supervisors' monitors (monitor.go), made on first use.
	mon *monitorTable
}

// Stats are engine counters.
type Stats struct {
	CallsQueued, CallsConnected, CallsAbandoned, CallsEnded, Overflowed, AutoPaused int64
	Declined                                                                        int64 // offers declined by the agent (decline.go)
	Queued, Agents                                                                  int
}

type legRole int

const (
	roleCustomer   legRole = iota + 1
	roleAgentCall          // non-persistent agent leg for one call
	roleAgentPhone         // an agent's persistent connection
	roleSnoop              // the recording snoop on a customer leg
	roleThirdParty         // a transfer destination or conference party
)

type chanRef struct {
	role  legRole
	call  *call
	agent *agent
	xfer  *transfer
}

type agent struct {
	user        *User
	state       AgentState
	since       time.Time
	idleSince   time.Time
	pauseReason string
	mode        PhoneMode
	number      string
	persistent  bool
	phoneChan   string // persistent leg channel id
	phoneUp     bool
	bridge      string // persistent bridge id
	// dyingBridge is the agent's previous bridge while its destroy request
	// is still queued: a phone re-attached meanwhile (a re-dial right after
	// an Asterisk restart) must not take that id, or the late destroy
	// removes the new bridge.
	dyingBridge string
	call        *call
	wrapTimer   Timer
	wrapUntil   time.Time
	offerTimer  Timer
	disabled    bool // user disabled mid-call: logged out after the wrap
	preview     *preview
	redial      bool                    // re-dial the persistent leg once free (after an Asterisk restart)
	restoreTo   *agentReturn            // where to put the agent when the re-dialled leg is up (crash.go)
	lineAt      map[int64]*list.Element // its place in each campaign's ready line
}

type call struct {
	rec        Interaction
	campaign   *Campaign
	agent      *agent
	agentLeg   string // non-persistent agent channel
	bridge     string // per-call bridge (non-persistent agents)
	timer      Timer  // overflow while queued, give-up while dialing
	number     string // outbound: E.164 to dial
	offerCount int
	// parked is the queue holding bridge the caller is in ("" once they
	// went to an agent). A caller whose offer to a ringing agent failed is
	// still there and must not be re-added: addChannel departs the bridge
	// first, which leaves the music announcer alone, and Asterisk then
	// hangs it up (AST_BRIDGE_CHANNEL_FLAG_LONELY, res_stasis.c
	// bridge_moh_create) while the caller's re-join asks for music
	// from the dying announcer: silence (TestAsteriskPhoneQueueMusic).
	parked string

	recording *recording  // shared with a child call after a transfer
	xfer      *transfer   // a blind/consult transfer in progress
	parties   []*transfer // conference parties besides customer and agent
	// holdBridge is the holding bridge the customer is parked in while the
	// agent consults ("" when not held). Each hold gets a fresh id: real
	// Asterisk refuses to re-create a bridge id that once held a channel
	// (ARI-NOTES "Observed 2026-12-02"), so a reused id left the customer in
	// the talk bridge, hearing the second consult.
	holdBridge string
	playback   string       // announcement playing, if any
	beep       string       // predictive: the agent's beep, before the customer joins
	payment    *paymentFlow // card capture in progress, if any
	lead       *leadCall    // dialler attempt this call belongs to

	ctl  controls         // hold, mute (controls.go)
	from *TransferredFrom // who handed this call over, when it came by transfer
	// partyOf is set on a conference party agent's own interaction: the
	// transfer that made them a party of another agent's call.
	partyOf *transfer
}

// New builds an engine; call Run to start it.
func New(o Options) *Engine {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Feed == nil {
		o.Feed = NewFeed(0, 0)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.App == "" {
		o.App = "ctid"
	}
	if o.AgentEndpoint == nil {
		o.AgentEndpoint = DefaultAgentEndpoint
	}
	if o.TrunkEndpoint == nil {
		o.TrunkEndpoint = func(n string) string { return "PJSIP/" + n + "@trunk" }
	}
	if o.OfferTimeout == 0 {
		o.OfferTimeout = 20 * time.Second
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 45 * time.Second
	}
	if o.RequestLanes == 0 {
		o.RequestLanes = 16
	}
	if o.WriteQueue == 0 {
		o.WriteQueue = 1 << 16
	}
	return &Engine{
		o: o, tel: o.Telephony, log: o.Logger, clock: o.Clock, feed: o.Feed,
		cmds: make(chan func(), 1024), events: make(chan ari.Event, 4096),
		agents: map[int64]*agent{}, ready: map[int64]*agent{}, members: map[int64]map[int64]bool{},
		campaignsOf: map[int64][]int64{}, lines: readyLines{by: map[int64]*list.List{}},
		calls: map[string]*call{}, channels: map[string]chanRef{},
		queues: map[int64][]*call{}, mohOn: map[string]bool{}, predictive: map[string]*predictive{}, hangupCause: map[string]string{},
		cfg:    &Config{Campaigns: map[int64]*Campaign{}, ByDID: map[string]*Campaign{}, Users: map[int64]*User{}},
		writer: newWriter(o.Store, o.WriteQueue, o.WriteShards, o.Logger),
		pipe:   newPipeline(o.RequestLanes),
		done:   make(chan struct{}),
	}
}

// DefaultAgentEndpoint dials short numbers as PJSIP endpoints (desk phones
// registered to the bundled Asterisk) and anything else through the trunk.
func DefaultAgentEndpoint(n string) string {
	if strings.Contains(n, "/") {
		return n
	}
	if len(n) <= 6 && !strings.HasPrefix(n, "+") {
		return "PJSIP/" + n
	}
	return "PJSIP/" + n + "@trunk"
}

// Feed returns the engine's agent event feed.
func (e *Engine) Feed() *Feed { return e.feed }

// Run loads configuration, restores sessions and open calls from the store
// and Asterisk, and processes events until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	e.ctx, e.stop = context.WithCancel(ctx)
	defer close(e.done)
	go e.writer.run()
	defer e.writer.close()
	e.pipe.start(e.ctx, func(f func()) {
		select { // not e.post: after ctx ends nobody reads cmds, yet done is still open
		case e.cmds <- f:
		case <-e.ctx.Done():
		}
	})
	defer e.pipe.wait()
	if err := e.loadConfig(e.ctx); err != nil {
		return err
	}
	e.restore(e.ctx)
	e.started.Store(true)
	for {
		select {
		case <-e.ctx.Done():
			e.shutdownTimers()
			return nil
		case f := <-e.cmds:
			f()
		case ev := <-e.events:
			e.handle(ev)
		}
	}
}

// Events is where the ARI event pump delivers events.
func (e *Engine) Deliver(ev ari.Event) { e.events <- ev }

// Pump forwards a client's events to the engine until ch closes or ctx ends.
func (e *Engine) Pump(ctx context.Context, ch <-chan ari.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			e.Deliver(ev)
		}
	}
}

// exec runs f on the loop and waits for its result.
func (e *Engine) exec(ctx context.Context, f func() error) error {
	res := make(chan error, 1)
	select {
	case e.cmds <- func() { res <- f() }:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.done:
		return &Error{Kind: KindUnavailable, Msg: "engine stopped"}
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// post runs f on the loop without waiting (timers use it).
func (e *Engine) post(f func()) {
	select {
	case e.cmds <- f:
	case <-e.done:
	}
}

// after schedules f on the loop.
func (e *Engine) after(d time.Duration, f func()) Timer {
	return e.clock.AfterFunc(d, func() { e.post(f) })
}

// Flush waits until every record queued so far is written.
func (e *Engine) Flush(ctx context.Context) error { return e.writer.flush(ctx) }

// Sync waits until the loop has processed everything posted before it and
// the telephony requests it queued, with their follow-ups, are done.
func (e *Engine) Sync(ctx context.Context) error {
	for quiet := 0; quiet < 3; { // a few quiet rounds let chained posts settle
		if err := e.exec(ctx, func() error { return nil }); err != nil {
			return err
		}
		if e.pipe.idle() {
			quiet++
			continue
		}
		quiet = 0
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// Reload re-reads the admin configuration (campaigns, users, reasons).
func (e *Engine) Reload(ctx context.Context) error {
	cfg, err := e.o.Store.LoadConfig(ctx)
	if err != nil {
		return err
	}
	return e.exec(ctx, func() error {
		e.applyConfig(cfg)
		e.allocate()
		return nil
	})
}

func (e *Engine) loadConfig(ctx context.Context) error {
	cfg, err := e.o.Store.LoadConfig(ctx)
	if err != nil {
		return fmt.Errorf("load config: %w", err)
	}
	e.applyConfig(cfg)
	return nil
}

func (e *Engine) applyConfig(cfg *Config) {
	if cfg.MediaBase == "" {
		cfg.MediaBase = e.o.MediaBase
	}
	e.cfg = cfg
	e.members = make(map[int64]map[int64]bool, len(cfg.Campaigns))
	for id, c := range cfg.Campaigns {
		m := make(map[int64]bool, len(c.AgentIDs))
		for _, a := range c.AgentIDs {
			m[a] = true
		}
		e.members[id] = m
	}
	e.rebuildLines()
	for id, a := range e.agents {
		if u := cfg.Users[id]; u != nil {
			a.user = u
			continue
		}
		// Disabled or deleted: out of the CTI now. A call in progress goes
		// on (the customer is not cut off) but no new call is offered.
		if a.call == nil {
			e.forceLogout(a, "user disabled")
		} else {
			a.disabled = true
		}
	}
}

func (e *Engine) now() time.Time { return e.clock.Now() }

func (e *Engine) newID(prefix string) string {
	return prefix + strconv.FormatUint(e.seq.Add(1), 36) + "-" + ari.NewID("")
}

// tctx bounds one telephony request.
func (e *Engine) tctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(e.ctx, 5*time.Second)
}

func (e *Engine) shutdownTimers() {
	for _, a := range e.agents {
		stopTimer(&a.wrapTimer)
		stopTimer(&a.offerTimer)
	}
	for _, c := range e.calls {
		stopTimer(&c.timer)
	}
}

func stopTimer(t *Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// --- ARI events -----------------------------------------------------------

func (e *Engine) handle(ev ari.Event) {
	if e.log.Enabled(e.ctx, slog.LevelDebug) {
		e.log.Debug("ari event", "type", ev.GetType(), "channel", ari.ChannelID(ev))
	}
	switch v := ev.(type) {
	case *ari.StasisStart:
		e.onStasisStart(v)
	case *ari.ChannelDestroyed:
		e.onChannelGone(v.Channel.ID, hangupCause(v.Cause))
		delete(e.hangupCause, v.Channel.ID)
	case *ari.ChannelHangupRequest:
		if _, ours := e.channels[v.Channel.ID]; ours && v.Cause != 0 {
			e.hangupCause[v.Channel.ID] = hangupCause(v.Cause)
		}
	case *ari.StasisEnd:
		// A channel that entered Stasis from the dialplan is unsubscribed
		// when it leaves: its ChannelDestroyed never reaches us, so leaving
		// Stasis is its end. Channels we send to the dialplan on purpose
		// (overflow, workflow) are forgotten before, so this ignores them.
		cause := e.hangupCause[v.Channel.ID]
		if cause == "" {
			cause = "normal"
		}
		e.onChannelGone(v.Channel.ID, cause)
	case *ari.RecordingStarted:
		e.onRecordingStarted(v)
	case *ari.RecordingFinished:
		e.onRecordingFinished(v.Recording.Name, v.Recording.Duration, false)
	case *ari.RecordingFailed:
		e.onRecordingFinished(v.Recording.Name, v.Recording.Duration, true)
	case *ari.PlaybackFinished:
		e.onPlaybackFinished(v.Playback.ID)
	case *ari.ChannelDtmfReceived:
		e.onDTMF(v.Channel.ID, v.Digit)
	case *ari.ChannelEnteredBridge:
		e.onEnteredBridge(v)
	case *ari.ConnectionEvent:
		e.onConnection(v)
	}
}

func hangupCause(code int) string {
	switch code {
	case 16:
		return "normal"
	case 17:
		return "busy"
	case 18, 19:
		return "no_answer"
	case 21:
		return "rejected"
	case 34, 38, 42:
		return "congestion"
	case 1, 3, 28:
		return "invalid_number"
	default:
		return "cause_" + strconv.Itoa(code)
	}
}

func (e *Engine) onStasisStart(ev *ari.StasisStart) {
	ch := ev.Channel
	if len(ev.Args) == 0 {
		e.log.Warn("StasisStart without arguments; ignoring", "channel", ch.ID)
		return
	}
	switch ev.Args[0] {
	case "inbound":
		e.onInbound(ch, ev.Args[1:])
	case "agentleg": // persistent system-calls-agent phone answered
		e.onAgentPhoneUp(ch, ev.Args[1:])
	case "agentlogin": // agent called ctid from their phone
		e.onAgentDialIn(ch, ev.Args[1:])
	case "agentcall": // non-persistent agent answered an allocated/manual call
		e.onAgentCallUp(ch, ev.Args[1:])
	case "outbound": // customer answered a manual call
		e.onCustomerAnswered(ch, ev.Args[1:])
	case "xfer": // a transfer destination or conference party answered
		e.onXferLegUp(ch)
	case "dialer": // a predictive/progressive contact answered
		e.onPredictiveAnswered(ch, ev.Args[1:])
	case "snoop": // the recording snoop is ready to record
		e.onSnoopUp(ch)
	case "monitor": // a supervisor's phone answered to monitor a call
		e.onMonitorLegUp(ch)
	case "monsnoop": // a monitor's snoop on the agent's channel
		e.onMonitorSnoopUp(ch)
	default:
		e.log.Debug("StasisStart for another part of ctid", "args", ev.Args, "channel", ch.ID)
	}
}

func (e *Engine) onChannelGone(id, cause string) {
	delete(e.hangupCause, id)
	e.monitorChannelGone(id)
	if _, ok := e.predictive[id]; ok {
		e.predictiveGone(id, cause)
		return
	}
	ref, ok := e.channels[id]
	if !ok {
		return
	}
	delete(e.channels, id)
	switch ref.role {
	case roleCustomer:
		e.customerGone(ref.call, cause)
	case roleAgentCall:
		e.agentCallLegGone(ref.call, ref.agent, id, cause)
	case roleAgentPhone:
		e.agentPhoneGone(ref.agent, id)
	case roleThirdParty:
		e.xferLegGone(ref.xfer, cause)
	case roleSnoop:
		e.snoopGone(id)
	}
}

func (e *Engine) onConnection(ev *ari.ConnectionEvent) {
	if ev.State != ari.Connected {
		e.log.Warn("ARI disconnected; calls keep running in Asterisk", "err", ev.Err)
		return
	}
	if ev.AsteriskRestarted {
		e.log.Warn("Asterisk restarted: ending every call it held")
		e.asteriskRestarted()
		return
	}
	if ev.Reconnect {
		e.resync()
	}
}

// resync compares our channels with Asterisk's after a websocket gap:
// events during the gap were dropped, so a channel that vanished is treated
// as hung up now.
func (e *Engine) resync() {
	ctx, cancel := e.tctx()
	defer cancel()
	list, err := e.tel.Channels(ctx)
	if err != nil {
		e.log.Error("resync: list channels", "err", err)
		return
	}
	live := make(map[string]bool, len(list))
	for _, c := range list {
		live[c.ID] = true
	}
	for id := range e.channels {
		if !live[id] {
			e.onChannelGone(id, "lost")
		}
	}
	e.adoptCallers(list)
	e.finishMissedRecordings()
}

// adoptCallers takes on inbound callers waiting in Stasis that the engine
// does not know: their StasisStart was lost in a websocket gap, or ctid
// restarted before writing their record. They are handled as if the event
// had arrived now.
func (e *Engine) adoptCallers(list []ari.Channel) {
	prefix := e.o.App + ",inbound"
	for _, c := range list {
		if _, known := e.channels[c.ID]; known || c.Dialplan.AppName != "Stasis" ||
			!strings.HasPrefix(c.Dialplan.AppData, prefix) {
			continue
		}
		args := strings.Split(c.Dialplan.AppData, ",")[1:]
		e.log.Info("resync: adopting a caller whose StasisStart was lost", "channel", c.ID)
		e.onStasisStart(&ari.StasisStart{Args: args, Channel: c})
	}
}

// asteriskRestarted: every channel and bridge is gone (crash.go).
func (e *Engine) asteriskRestarted() { e.telephonyLost() }
