// ctid's REST API (/api/v1) and the agent websocket, on the modules the
// adaptor uses too (../shared/api.js, ../shared/ws.js): a bearer token kept
// in sessionStorage 'ctid.token', a websocket ticket from POST
// /auth/ws-ticket, then /api/v1/ws?ticket=…, resuming with after=<seq>
// after a drop.
import {client} from '../shared/api.js';
import {Stream} from '../shared/ws.js';

const TK = 'ctid.token';

export const session = {token: sessionStorage.getItem(TK)};

export function setToken(t) {
  session.token = t;
  if (t) sessionStorage.setItem(TK, t); else sessionStorage.removeItem(TK);
}

// api resolves with the JSON reply ({} for 204) or rejects with an Error
// whose message is the server's problem detail and whose status is the
// HTTP status (0: unreachable). A 401 is the connector's to handle.
const call = client({token: () => session.token, unreachable: 'Cannot reach ctid; check the network.',
  message: (p, status) => p.detail || p.title || `ctid answered ${status}`});
export const api = async (method, path, body) => (await call(method, path, body)) ?? {};

// Events opens the agent websocket and hands every envelope (hello
// included, pings and events already seen not) to onEvent; onEnded runs
// when the session is over.
export class Events extends Stream {
  constructor(onEvent, onEnded) {
    super({api, token: () => session.token, after: () => this.seq, onEnded, onMessage: m => {
      if (m.type === 'ping') return;
      if (m.seq) { if (m.seq <= this.seq && m.type !== 'hello') return; this.seq = m.seq; }
      if (m.type === 'hello' && m.data?.seq) this.seq = m.data.seq;
      onEvent(m);
    }});
    this.seq = 0;
  }
}
