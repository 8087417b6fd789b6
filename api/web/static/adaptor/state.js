// The adaptor's one shared state and its two registries: renderers (each
// screen redraws itself from S) and event handlers (each capability applies
// the websocket events it owns). Modules import S and register at load time.
export const LABEL = {logged_out: 'Logged out', logged_in: 'Logged in', connecting: 'Connecting', paused: 'Paused',
  ready: 'Ready', reserved: 'Ringing', on_call: 'On call', on_wrap: 'On wrap'};

export const S = {
  token: sessionStorage.getItem('ctid.token'),
  snap: null,    // AgentSnapshot, kept current by events
  seq: 0,        // last event sequence applied
  skew: 0,       // server clock minus ours, ms
  ext: fresh(),  // per-call panels: recording, transfer, conference, payment, preview, controls…
  tab: 'call',
  config: null,  // GET /agent/config: agentCallsNumber, salesforceOrigin, defaultCallerId
};

export function fresh() {
  return {recording: null, transfer: null, conference: null, announcements: null, paymentEnabled: false, payment: null,
    preview: null, lead: null, playing: null, controls: null, offer: null};
}

// fromSnap takes the in-call panels from a snapshot (absent fields mean "none").
export function fromSnap(s) {
  const same = s.call?.interactionId === S.snap?.call?.interactionId;
  return {recording: s.recording || null, transfer: s.transfer || null, conference: s.conference?.parties?.length ? s.conference : null,
    announcements: s.announcements || null, paymentEnabled: !!s.paymentEnabled, payment: s.payment || null, preview: s.preview || null,
    lead: s.call?.lead || null, playing: same ? S.ext.playing : null, controls: s.controls || (same ? S.ext.controls : null),
    offer: same ? S.ext.offer : null};
}

export const now = () => Date.now() + S.skew;
export const agentState = () => S.snap?.state?.state;
export const idle = () => ['ready', 'paused'].includes(agentState()) && !S.snap?.call;

const renderers = [], tickers = [], handlers = new Map();
export const onRender = fn => renderers.push(fn);
export const onTick = fn => tickers.push(fn);
export function render() { for (const f of renderers) f(S); tick(); }
export function tick() { if (S.snap) for (const f of tickers) f(S); }
setInterval(tick, 1000);

// on registers a handler for an event type ("call.connected") or a whole
// group ("call"); handlers run in registration order, then render().
export function on(type, fn) { if (!handlers.has(type)) handlers.set(type, []); handlers.get(type).push(fn); }
export function dispatch(type, data) {
  const [group] = type.split('.');
  for (const f of [...(handlers.get(group) || []), ...(handlers.get(type) || [])]) f(data, type);
}

// screen is which of the three screens shows: login, connect (phone
// connection) or main; '' while the first snapshot loads.
export function screen() {
  const st = agentState();
  return !S.token ? 'login' : !S.snap ? '' : ['logged_out', 'logged_in', 'connecting'].includes(st) ? 'connect' : 'main';
}
