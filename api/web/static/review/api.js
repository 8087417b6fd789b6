// REST calls for the review and floor pages: a bearer token kept for the
// tab, and problems turned into the server's sentence.
import {API, client} from '../shared/api.js';
const TK = 'ctid.staff.token';
export const session = {token: sessionStorage.getItem(TK), user: JSON.parse(sessionStorage.getItem(TK + '.user') || 'null')};
let onExpired = () => {};
export const whenExpired = f => { onExpired = f; };

export function setSession(token, user) {
  session.token = token; session.user = user;
  if (token) { sessionStorage.setItem(TK, token); sessionStorage.setItem(TK + '.user', JSON.stringify(user)); }
  else { sessionStorage.removeItem(TK); sessionStorage.removeItem(TK + '.user'); }
}

// The server's problem detail is shown as it is.
export const api = client({token: () => session.token, onExpired: () => onExpired()});

// fetchBlob downloads with the token (audio, CSV) and returns an object URL.
export async function fetchBlob(path) {
  const r = await fetch(path.startsWith('/api/') ? path : API + path, {headers: {Authorization: 'Bearer ' + session.token}});
  if (!r.ok) throw Object.assign(new Error(r.status === 404 ? 'The file is not available.' : `The server answered ${r.status}.`), {status: r.status});
  return URL.createObjectURL(await r.blob());
}

export async function login(username, password) {
  const r = await api('POST', '/auth/login', {username, password});
  setSession(r.token, r.user);
  return r.user;
}

export const $ = id => document.getElementById(id);
export function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && typeof v !== 'string') e[k] = v; else e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k != null) e.append(k instanceof Node ? k : String(k));
  return e;
}
let errT;
export function showErr(msg) {
  const e = $('err'); e.textContent = msg || ''; e.hidden = !msg;
  clearTimeout(errT); if (msg) errT = setTimeout(() => { e.hidden = true; }, 10000);
}
export const dur = ms => {
  if (ms == null) return '';
  const s = Math.round(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
};
export const when = t => t ? new Date(t).toLocaleString([], {dateStyle: 'medium', timeStyle: 'medium'}) : '';
