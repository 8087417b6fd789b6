// The agent's websocket: a ticket from POST /auth/ws-ticket, hello (a
// snapshot) on a fresh stream, only the missed events when it resumes from
// `after`, and reconnects with backoff. Events go to the handlers the
// capability modules registered (state.js on/dispatch).
import {$} from './dom.js';
import {S, fresh, render, dispatch, on} from './state.js';
import {api, showErr} from './api.js';
import {snapshot, expire, onExpire} from './session.js';

const API = '/api/v1';
let ws = null, wsTry = 0, wsTimer = null, lastMsg = 0, wantWS = false;

// Close codes meaning the session itself is over (logged out elsewhere, token
// revoked, user disabled): reconnecting cannot help, so back to login.
const SESSION_ENDED = new Set([1008, 4001, 4003, 4004, 4401, 4403]);

function setConn(cls, text) { const c = $('conn'); c.className = 'conn ' + cls; c.textContent = text; }
export function closeWS() { wantWS = false; clearTimeout(wsTimer); if (ws) { ws.onclose = null; ws.close(); ws = null; } setConn('off', 'offline'); }
onExpire(closeWS);

export async function openWS() {
  wantWS = true; clearTimeout(wsTimer);
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
  setConn('wait', wsTry ? 'reconnecting' : 'connecting');
  let t;
  try { t = await api('POST', '/auth/ws-ticket'); } catch (e) { if (e.status !== 401) retryWS(); return; }
  if (!wantWS) return;
  const u = new URL(API + '/ws', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('ticket', t.ticket);
  if (S.seq) u.searchParams.set('after', S.seq);
  const s = ws = new WebSocket(u);
  s.onopen = () => { lastMsg = Date.now(); setConn('on', 'online'); };
  s.onmessage = e => { lastMsg = Date.now(); wsTry = 0; let m; try { m = JSON.parse(e.data); } catch { return; } onMessage(m); };
  s.onclose = e => {
    if (ws !== s) return;
    ws = null;
    if (SESSION_ENDED.has(e.code)) { expire('Your session has ended (you may have logged in somewhere else); please log in again.'); return; }
    retryWS();
  };
  s.onerror = () => s.close();
}
function retryWS() {
  if (!wantWS || !S.token) return;
  setConn('off', 'offline — retrying');
  const d = Math.min(15000, 500 * 2 ** wsTry++) * (0.6 + Math.random() * 0.4);
  wsTimer = setTimeout(openWS, d);
}
setInterval(() => { if (ws && ws.readyState === 1 && Date.now() - lastMsg > 45000) ws.close(); }, 5000);
window.addEventListener('online', () => { if (wantWS && !ws) { wsTry = 0; openWS(); } });

function onMessage(m) {
  if (m.time) { const t = Date.parse(m.time); if (t) S.skew = t - Date.now(); }
  if (m.type === 'ping') return;
  if (m.type === 'hello') { if (m.data?.state) snapshot(m.data); return; }
  if (m.seq) { if (m.seq <= S.seq) return; S.seq = m.seq; }
  if (!S.snap || typeof m.type !== 'string') return;
  dispatch(m.type, m.data || {});
  render();
}

const isSentence = s => typeof s === 'string' && /^[A-Z][^:]*[.!?]$/.test(s.trim());

// The session-level events: the agent's state and phone.
on('agent.state', d => {
  S.snap.state = d;
  if (!['reserved', 'on_call', 'on_wrap'].includes(d.state)) {
    S.snap.call = null; S.snap.wrap = null; S.ext = fresh();
  }
});
on('phone', (d, type) => {
  // A sentence from the server is shown; a raw telephony error is not.
  if (type === 'phone.failed') { $('cnErr').textContent = 'Your phone could not be connected.' + (isSentence(d.error) ? ' ' + d.error : ' Check the number and try again.'); showErr($('cnErr').textContent); }
  else if (d.mode !== undefined || d.connected !== undefined) S.snap.phone = {...S.snap.phone, ...d};
  if (type === 'phone.disconnected') showErr('Your phone connection dropped.');
});
