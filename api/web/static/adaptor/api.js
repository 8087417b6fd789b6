// REST calls to /api/v1 and the sentences shown for their problems.
import {S} from './state.js';
import {sentence} from './text.js';
import {client} from '../shared/api.js';
export {sentence};

// The token is the session's (S.token); a 401 ends it (session.js sets the
// handler); problems read as sentences (text.js).
let onExpired = () => {};
export const setExpiredHandler = f => { onExpired = f; };
export const api = client({token: () => S.token,
  onExpired: () => onExpired('Your session has ended; please log in again.'),
  message: (p, status) => sentence(p.detail || p.title || `The server answered ${status}`)});

// act runs an agent action and shows its error in the banner (or `where`);
// it resolves with the reply ({} for 204) or null on error.
export async function act(method, path, body, where) {
  try { const d = await api(method, path, body); if (where) where.textContent = ''; return d ?? {}; }
  catch (e) { if (e.status !== 401) (where ? (where.textContent = e.message) : showErr(e.message)); return null; }
}

let errT;
export function showErr(msg) {
  const e = document.getElementById('err'); e.textContent = msg ? sentence(msg) : ''; e.hidden = !msg;
  clearTimeout(errT); if (msg) errT = setTimeout(() => { e.hidden = true; }, 10000);
}
