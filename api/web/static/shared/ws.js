// The agent's websocket as the adaptor and the Salesforce Voice connector
// share it: a ticket from POST /auth/ws-ticket, then <base>/ws?ticket=…,
// resuming with after=<seq> after a drop (the server then sends only the
// missed events), reconnects with backoff, and a watchdog closing a socket
// silent for 45 s (the server pings). What a message means (hello, seq
// order) is the page's. Hooks:
//   api                the page's api (shared/api.js client) for the ticket
//   token()            whether there is a session to reconnect for
//   after()            the last seq applied (0: a fresh stream with hello)
//   onMessage(m)       every envelope, parsed (pings included)
//   onEnded(err)       the session is over: the ticket was refused (err is
//                      the api's Error, status 401) or the server closed
//                      the socket with a session-ended code (err.message
//                      is ended, err.code the close code)
//   onStatus(s)        'connecting', 'reconnecting', 'online', 'retrying'
//   base, ended        '/api/v1', 'The ctid session has ended.'
import {API} from './api.js';

// Close codes meaning the session itself is over (logged out elsewhere, token
// revoked, user disabled): reconnecting cannot help.
export const SESSION_ENDED = new Set([1008, 4001, 4003, 4004, 4401, 4403]);

export class Stream {
  constructor({api, token, after = () => 0, onMessage, onEnded = () => {}, onStatus = () => {}, base = API,
    ended = 'The ctid session has ended.'}) {
    Object.assign(this, {api, token, after, onMessage, onEnded, onStatus, base, ended});
    this.ws = null; this.tries = 0; this.want = false; this.timer = null; this.last = 0;
    this.watch = setInterval(() => { if (this.ws && this.ws.readyState === 1 && Date.now() - this.last > 45000) this.ws.close(); }, 5000);
  }
  async open() {
    this.want = true; clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.onStatus(this.tries ? 'reconnecting' : 'connecting');
    let t;
    try { t = await this.api('POST', '/auth/ws-ticket'); } catch (e) {
      if (e.status === 401) { this.want = false; this.onEnded(e); } else this.retry();
      return;
    }
    if (!this.want) return;
    const u = new URL(this.base + '/ws', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('ticket', t.ticket);
    const seq = this.after();
    if (seq) u.searchParams.set('after', seq);
    const s = this.ws = new WebSocket(u);
    s.onopen = () => { this.last = Date.now(); this.onStatus('online'); };
    s.onmessage = e => {
      this.last = Date.now(); this.tries = 0;
      let m; try { m = JSON.parse(e.data); } catch { return; }
      this.onMessage(m);
    };
    s.onclose = e => {
      if (this.ws !== s) return;
      this.ws = null;
      if (SESSION_ENDED.has(e.code)) { this.want = false; this.onEnded(Object.assign(new Error(this.ended), {code: e.code})); return; }
      this.retry();
    };
    s.onerror = () => s.close();
  }
  retry() {
    if (!this.want || !this.token()) return;
    this.onStatus('retrying');
    const d = Math.min(15000, 500 * 2 ** this.tries++) * (0.6 + Math.random() * 0.4);
    this.timer = setTimeout(() => this.open(), d);
  }
  // wake reconnects at once (the browser is back online) if the socket is
  // wanted and not there.
  wake() { if (this.want && !this.ws) { this.tries = 0; this.open(); } }
  close() { this.want = false; clearTimeout(this.timer); if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; } }
}
