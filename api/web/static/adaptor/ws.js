// The agent's websocket: a ticket from POST /auth/ws-ticket, hello (a
// snapshot) on a fresh stream, only the missed events when it resumes from
// `after`, and reconnects with backoff. Events go to the handlers the
// capability modules registered (state.js on/dispatch).
import {$} from './dom.js';
import {S, fresh, render, dispatch, on} from './state.js';
import {api, showErr} from './api.js';
import {snapshot, expire, onExpire} from './session.js';
import {Stream} from '../shared/ws.js';

const CONN = {connecting: ['wait', 'connecting'], reconnecting: ['wait', 'reconnecting'], online: ['on', 'online'],
  retrying: ['off', 'offline — retrying']};
function setConn(cls, text) { const c = $('conn'); c.className = 'conn ' + cls; c.textContent = text; }

// The stream resumes from S.seq (the snapshot's, then each event's). Its
// session ending — logged out elsewhere, token revoked, user disabled — is
// back to login; a refused ticket (401) has already expired the session
// (api.js).
const stream = new Stream({api, token: () => S.token, after: () => S.seq, onMessage,
  onStatus: s => setConn(...CONN[s]),
  onEnded: e => { if (e.status !== 401) expire('Your session has ended (you may have logged in somewhere else); please log in again.'); }});

export function closeWS() { stream.close(); setConn('off', 'offline'); }
onExpire(closeWS);
export function openWS() { return stream.open(); }
window.addEventListener('online', () => stream.wake());

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
