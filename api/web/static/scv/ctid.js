// ctid's REST API (/api/v1) and the agent websocket, as the adaptor uses
// them (api.js, ws.js): a bearer token kept in sessionStorage 'ctid.token',
// a websocket ticket from POST /auth/ws-ticket, then /api/v1/ws?ticket=…,
// resuming with after=<seq> after a drop.
const API = '/api/v1';
const TK = 'ctid.token';

export const session = {token: sessionStorage.getItem(TK)};

export function setToken(t) {
  session.token = t;
  if (t) sessionStorage.setItem(TK, t); else sessionStorage.removeItem(TK);
}

// api resolves with the JSON reply ({} for 204) or rejects with an Error
// whose message is the server's problem detail and whose status is the
// HTTP status (0: unreachable).
export async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (session.token) headers.Authorization = 'Bearer ' + session.token;
  const opt = {method, headers};
  if (body !== undefined) { headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(API + path, opt); } catch {
    throw Object.assign(new Error('Cannot reach ctid; check the network.'), {status: 0, problem: {}});
  }
  const data = (r.headers.get('content-type') || '').includes('json') ? await r.json().catch(() => null) : null;
  if (!r.ok) {
    const p = data || {};
    throw Object.assign(new Error(p.detail || p.title || `ctid answered ${r.status}`), {status: r.status, problem: p});
  }
  return data ?? {};
}

// Close codes meaning the session is over: reconnecting cannot help.
const SESSION_ENDED = new Set([1008, 4001, 4003, 4004, 4401, 4403]);

// Events opens the agent websocket and hands every envelope (hello
// included) to onEvent; onEnded runs when the session is over.
export class Events {
  constructor(onEvent, onEnded) {
    this.onEvent = onEvent; this.onEnded = onEnded;
    this.ws = null; this.seq = 0; this.tries = 0; this.want = false; this.timer = null; this.last = 0;
    this.watch = setInterval(() => { if (this.ws && this.ws.readyState === 1 && Date.now() - this.last > 45000) this.ws.close(); }, 5000);
  }
  async open() {
    this.want = true; clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    let t;
    try { t = await api('POST', '/auth/ws-ticket'); } catch (e) {
      if (e.status === 401) { this.want = false; this.onEnded(e); } else this.retry();
      return;
    }
    if (!this.want) return;
    const u = new URL(API + '/ws', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('ticket', t.ticket);
    if (this.seq) u.searchParams.set('after', this.seq);
    const s = this.ws = new WebSocket(u);
    s.onopen = () => { this.last = Date.now(); };
    s.onmessage = e => {
      this.last = Date.now(); this.tries = 0;
      let m; try { m = JSON.parse(e.data); } catch { return; }
      if (m.type === 'ping') return;
      if (m.seq) { if (m.seq <= this.seq && m.type !== 'hello') return; this.seq = m.seq; }
      if (m.type === 'hello' && m.data?.seq) this.seq = m.data.seq;
      this.onEvent(m);
    };
    s.onclose = e => {
      if (this.ws !== s) return;
      this.ws = null;
      if (SESSION_ENDED.has(e.code)) { this.want = false; this.onEnded(new Error('The ctid session has ended.')); return; }
      this.retry();
    };
    s.onerror = () => s.close();
  }
  retry() {
    if (!this.want || !session.token) return;
    const d = Math.min(15000, 500 * 2 ** this.tries++) * (0.6 + Math.random() * 0.4);
    this.timer = setTimeout(() => this.open(), d);
  }
  close() { this.want = false; clearTimeout(this.timer); if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; } }
}
