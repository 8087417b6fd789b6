// The agent's session: token, snapshot, desk configuration and expiry.
import {S, fresh, fromSnap, render} from './state.js';
import {api, setExpiredHandler} from './api.js';
import {$} from './dom.js';

const TK = 'ctid.token';
const hooks = {expired: [], snapshot: []};
export const onExpire = f => hooks.expired.push(f);
export const onSnapshot = f => hooks.snapshot.push(f);

export function setToken(t) { S.token = t; if (t) sessionStorage.setItem(TK, t); else sessionStorage.removeItem(TK); }

// snapshot replaces the state with a fresh AgentSnapshot (unless older
// than the events already applied).
export function snapshot(s) {
  if (!s || !s.state) return;
  if (S.snap && s.seq < S.seq) return;
  // Who sent a transferred call came with its event; an older server's snapshot may lack it.
  const old = S.snap?.call;
  if (s.call && old?.interactionId === s.call.interactionId) {
    if (!s.call.transferredFrom && old.transferredFrom) s.call.transferredFrom = old.transferredFrom;
    if (s.call.conferenceParty == null && old.conferenceParty) s.call.conferenceParty = true;
  }
  S.ext = fromSnap(s);
  S.snap = s; S.seq = s.seq || S.seq;
  for (const f of hooks.snapshot) f(s);
  render();
}
export async function refresh() { try { snapshot(await api('GET', '/agent')); } catch {} }

// loadConfig fetches what the desk shows about the installation (the
// number agents call, the Salesforce origin); a server without the route
// leaves it empty.
let configP = null;
export function loadConfig() {
  configP ||= api('GET', '/agent/config').then(c => { S.config = c || {}; render(); return S.config; })
    .catch(() => { configP = null; S.config = S.config || {}; return S.config; });
  return configP;
}

// expire ends the session locally (logout, 401, or the server closing the
// websocket because the session ended) and returns to the login screen
// with msg as a sentence.
export function expire(msg) {
  setToken(null); S.snap = null; S.seq = 0; S.ext = fresh(); configP = null;
  for (const f of hooks.expired) f();
  render();
  if (msg) $('lgErr').textContent = msg;
}
setExpiredHandler(expire);
