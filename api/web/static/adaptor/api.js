// REST calls to /api/v1 and the sentences shown for their problems.
import {S} from './state.js';
import {sentence} from './text.js';
export {sentence};

const API = '/api/v1';
let onExpired = () => {};
export const setExpiredHandler = f => { onExpired = f; };

export async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (S.token) headers.Authorization = 'Bearer ' + S.token;
  const opt = {method, headers};
  if (body !== undefined) { headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(API + path, opt); } catch {
    throw Object.assign(new Error('Cannot reach the server; check your network.'), {status: 0, problem: {}});
  }
  const data = (r.headers.get('content-type') || '').includes('json') ? await r.json().catch(() => null) : null;
  if (!r.ok) {
    const p = data || {};
    const e = Object.assign(new Error(sentence(p.detail || p.title || `The server answered ${r.status}`)), {status: r.status, problem: p});
    if (r.status === 401 && path !== '/auth/login') onExpired('Your session has ended; please log in again.');
    throw e;
  }
  return data;
}

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
