// ctid agent adaptor: one ES module, no build step, no framework.
// State comes from GET /api/v1/agent and the agent's websocket; every
// control is a REST call; render() redraws from that state.
const $ = id => document.getElementById(id);
const P = new URLSearchParams(location.search);
const API = '/api/v1';
const TK = 'ctid.token';
const LABEL = {logged_out: 'Logged out', logged_in: 'Logged in', connecting: 'Connecting', paused: 'Paused',
  ready: 'Ready', reserved: 'Ringing', on_call: 'On call', on_wrap: 'On wrap'};

let token = sessionStorage.getItem(TK);
let snap = null;      // AgentSnapshot, kept current by events
let seq = 0;          // last event sequence applied
let skew = 0;         // server clock minus ours, ms
let ext = fresh();    // later-issue features, filled by snapshot fields or events
let tab = 'call';
function fresh() { return {recording: null, transfer: null, conference: null, announcements: null, paymentEnabled: false, payment: null, preview: null, lead: null, playing: null}; }
// fromSnap takes the in-call panels from a snapshot (absent fields mean "none").
function fromSnap(s) {
  return {recording: s.recording || null, transfer: s.transfer || null, conference: s.conference?.parties?.length ? s.conference : null,
    announcements: s.announcements || null, paymentEnabled: !!s.paymentEnabled, payment: s.payment || null, preview: s.preview || null,
    lead: s.call?.lead || null, playing: ext.playing && s.call?.interactionId === snap?.call?.interactionId ? ext.playing : null};
}

// ---------- helpers ----------
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k != null) e.append(k);
  return e;
}
const show = (el, on) => { (typeof el === 'string' ? $(el) : el).hidden = !on; };
const now = () => Date.now() + skew;
function mmss(ms) {
  const s = Math.max(0, Math.round(ms / 1000)), m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${m}:${String(s % 60).padStart(2, '0')}`;
}
let errT;
function showErr(msg) {
  const e = $('err'); e.textContent = msg; e.hidden = !msg;
  clearTimeout(errT); if (msg) errT = setTimeout(() => { e.hidden = true; }, 8000);
}

async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (token) headers.Authorization = 'Bearer ' + token;
  const opt = {method, headers};
  if (body !== undefined) { headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(API + path, opt); } catch {
    throw Object.assign(new Error('Cannot reach the server'), {status: 0, problem: {}});
  }
  const data = (r.headers.get('content-type') || '').includes('json') ? await r.json().catch(() => null) : null;
  if (!r.ok) {
    const p = data || {};
    const e = Object.assign(new Error(p.detail || p.title || `Request failed (${r.status})`), {status: r.status, problem: p});
    if (r.status === 401 && path !== '/auth/login') expire('Your session has ended; please log in again.');
    throw e;
  }
  return data;
}
// act runs an agent action and shows its error in the banner (or `where`).
async function act(method, path, body, where) {
  try { const d = await api(method, path, body); if (where) where.textContent = ''; return d ?? {}; }
  catch (e) { if (e.status !== 401) (where ? (where.textContent = e.message) : showErr(e.message)); return null; }
}

// ---------- auth ----------
$('login').addEventListener('submit', async ev => {
  ev.preventDefault();
  const u = $('lgUser').value.trim(), p = $('lgPass').value;
  $('lgUserErr').textContent = u ? '' : 'Enter your username.';
  $('lgPassErr').textContent = p ? '' : 'Enter your password.';
  $('lgErr').textContent = '';
  $('lgUser').setAttribute('aria-invalid', !u); $('lgPass').setAttribute('aria-invalid', !p);
  if (!u || !p) { (u ? $('lgPass') : $('lgUser')).focus(); return; }
  $('lgBtn').disabled = true;
  try {
    const r = await api('POST', '/auth/login', {username: u, password: p});
    token = r.token; sessionStorage.setItem(TK, token);
    $('lgPass').value = '';
    snapshot(await api('POST', '/agent/login').catch(e => { if (e.status === 409) return api('GET', '/agent'); throw e; }));
    openWS();
  } catch (e) {
    const f = e.problem?.field;
    (f === 'username' ? $('lgUserErr') : f === 'password' ? $('lgPassErr') : $('lgErr')).textContent = e.message;
  } finally { $('lgBtn').disabled = false; render(); }
});

function expire(msg) {
  token = null; snap = null; seq = 0; ext = fresh();
  sessionStorage.removeItem(TK);
  closeWS();
  render();
  if (msg) $('lgErr').textContent = msg;
}

// ---------- phone connection ----------
$('connect').addEventListener('submit', async ev => {
  ev.preventDefault();
  const mode = document.querySelector('input[name=mode]:checked').value, number = $('cnNum').value.trim();
  $('cnErr').textContent = '';
  if (mode === 'system_calls' && !number) { $('cnErr').textContent = 'Enter the number ctid should call.'; $('cnNum').focus(); return; }
  $('cnBtn').disabled = true;
  if (snap.state.state === 'logged_out') { const s = await act('POST', '/agent/login', undefined, $('cnErr')); if (!s) { $('cnBtn').disabled = false; return; } snapshot(s); }
  const r = await act('POST', '/agent/connect', {mode, number, persistent: $('cnPersist').checked}, $('cnErr'));
  $('cnBtn').disabled = false;
  if (r) { if (r.agentId) snapshot(r); else refresh(); }
});
$('connect').addEventListener('change', () => {
  const sys = document.querySelector('input[name=mode]:checked').value === 'system_calls';
  document.querySelector('label[for=cnNum]').textContent = sys ? 'Connection number' : 'Your phone number (optional)';
});

// ---------- status and agent menu ----------
$('status').addEventListener('change', async () => {
  const v = $('status').value;
  if (v === 'ready') await act('POST', '/agent/ready');
  else if (v.startsWith('p:')) await act('POST', '/agent/pause', {reason: v.slice(2)});
  render();
});
$('agentBtn').addEventListener('click', () => toggleMenu());
function toggleMenu(open = $('agentMenu').hidden) {
  const m = $('agentMenu');
  m.hidden = !open; $('agentBtn').setAttribute('aria-expanded', open);
  if (!open) return;
  const st = snap?.state;
  m.replaceChildren(
    ...(snap?.pauseReasons || []).map(r => h('button', {role: 'menuitem', class: st?.state === 'paused' && st.pauseReason === r ? 'cur' : null,
      disabled: !['ready', 'paused'].includes(st?.state), onclick: () => { toggleMenu(false); act('POST', '/agent/pause', {reason: r}); }}, 'Pause: ' + r)),
    h('hr'),
    h('button', {role: 'menuitem', onclick: () => { toggleMenu(false); logout(); }}, 'Logout'));
  m.querySelector('button:not(:disabled)')?.focus();
}
document.addEventListener('keydown', e => { if (e.key === 'Escape' && !$('agentMenu').hidden) { toggleMenu(false); $('agentBtn').focus(); } });
document.addEventListener('click', e => { if (!$('agentMenu').hidden && !e.target.closest('#agentMenu,#agentBtn')) toggleMenu(false); });
$('agentMenu').addEventListener('keydown', e => {
  const b = [...$('agentMenu').querySelectorAll('button:not(:disabled)')], i = b.indexOf(document.activeElement);
  if (e.key === 'ArrowDown') { b[(i + 1) % b.length]?.focus(); e.preventDefault(); }
  if (e.key === 'ArrowUp') { b[(i - 1 + b.length) % b.length]?.focus(); e.preventDefault(); }
});

function reasonPicker(label) {
  return [h('label', {for: 'dlgReason'}, label), h('select', {id: 'dlgReason', name: 'reason', required: true},
    (snap?.pauseReasons || []).map(r => h('option', {value: r, selected: r === snap?.state?.pauseReason}, r)))];
}
async function logout() {
  const f = await ask('Log out', reasonPicker('Pause reason'), 'Log out');
  if (!f) return;
  if (await act('POST', '/agent/logout', {reason: f.get('reason')}) === null) return;
  await api('POST', '/auth/logout').catch(() => {});
  expire();
}

// ask shows the modal dialog and resolves with its FormData, or null.
function ask(title, body, ok = 'OK', check) {
  const d = $('dlg');
  $('dlgTitle').textContent = title; $('dlgBody').replaceChildren(...body); $('dlgOk').textContent = ok; $('dlgErr').textContent = '';
  d.showModal();
  return new Promise(res => {
    const f = $('dlgForm');
    f.onsubmit = async ev => {
      if (ev.submitter?.value !== 'ok') return;
      ev.preventDefault();
      const fd = new FormData(f);
      if (check) { const m = await check(fd); if (m) { $('dlgErr').textContent = m; return; } }
      d.close('ok'); res(fd);
    };
    d.onclose = () => { if (d.returnValue !== 'ok') res(null); d.returnValue = ''; };
  });
}

// ---------- manual call ----------
const KEYS = [['1', ''], ['2', 'ABC'], ['3', 'DEF'], ['4', 'GHI'], ['5', 'JKL'], ['6', 'MNO'], ['7', 'PQRS'], ['8', 'TUV'], ['9', 'WXYZ'], ['*', ''], ['0', '+'], ['#', '']];
$('keypad').append(...KEYS.map(([k, l]) => h('button', {type: 'button', 'data-key': k, 'aria-label': k, onclick: () => key(k)}, k, h('small', {}, l || '\u00a0'))));
function key(k) { const i = $('dialNum'); i.value += k; i.focus(); }
$('dialBack').addEventListener('click', () => { const i = $('dialNum'); i.value = i.value.slice(0, -1); i.focus(); });
$('dialNum').addEventListener('keydown', e => { if (e.key === 'Enter') dial(); });
$('dialBtn').addEventListener('click', () => dial());
$('dialCamp').addEventListener('change', () => sessionStorage.setItem('ctid.camp', $('dialCamp').value));
async function dial(number = $('dialNum').value.trim(), crmCtx) {
  if (!number) { $('dialErr').textContent = 'Enter a number to call.'; $('dialNum').focus(); return; }
  const c = $('dialCamp').value;
  $('dialBtn').disabled = true;
  const r = await act('POST', '/agent/calls', {number, campaignId: c ? Number(c) : null}, $('dialErr'));
  $('dialBtn').disabled = false;
  if (r) { $('dialNum').value = ''; if (r.interactionId) { if (crmCtx) crm.ctx[r.interactionId] = crmCtx; if (!snap.call) snap.call = r; } render(); }
}

// ---------- call ----------
$('hangBtn').addEventListener('click', async () => {
  if (ext.conference) {
    const f = await ask('Leave the conference?', [h('p', {}, 'Leave lets the others carry on; Terminate ends the call for everyone.'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'how', value: 'leave', checked: true}), 'Leave'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'how', value: 'terminate'}), 'Terminate')], 'Hang up');
    if (f) act('POST', '/agent/conference/' + f.get('how'));
    return;
  }
  act('POST', '/agent/hangup');
});
let notesT, notesFor;
$('notes').addEventListener('input', () => { $('notesState').textContent = 'Editing…'; clearTimeout(notesT); notesT = setTimeout(saveNotes, 700); });
$('notes').addEventListener('blur', () => { if (notesT) { clearTimeout(notesT); saveNotes(); } });
async function saveNotes() {
  notesT = null;
  const c = snap?.call; if (!c) return;
  const notes = $('notes').value;
  if (notes === c.notes) { $('notesState').textContent = 'Saved'; return; }
  $('notesState').textContent = 'Saving…';
  const r = await act('PUT', `/agent/calls/${encodeURIComponent(c.interactionId)}/notes`, {notes}, $('notesState'));
  if (r) { c.notes = notes; $('notesState').textContent = 'Saved'; }
}
$('tabs').addEventListener('click', e => { const t = e.target.closest('[role=tab]'); if (t) { tab = t.dataset.tab; render(); t.focus(); } });
$('tabs').addEventListener('keydown', e => {
  const ts = [...$('tabs').querySelectorAll('[role=tab]:not([hidden])')], i = ts.findIndex(t => t.dataset.tab === tab);
  const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
  if (d) { tab = ts[(i + d + ts.length) % ts.length].dataset.tab; render(); $('t-' + tab).focus(); }
});

// transfer, recording, bookmarks (later issues: hidden until the server says they apply)
$('xfOpen').addEventListener('click', async () => {
  const conf = !!ext.conference, wfs = snap?.workflows || [];
  const f = await ask(conf ? 'Add to the conference' : 'Transfer', [
    h('label', {for: 'xfType'}, conf ? 'Add' : 'Transfer to'),
    h('select', {id: 'xfType', name: 'type', onchange: e => { $('xfTarget').setAttribute('list', e.target.value === 'workflow' ? 'xfWfs' : ''); $('xfTarget').inputMode = e.target.value === 'number' ? 'tel' : 'text'; }},
      h('option', {value: 'agent'}, 'Agent'), wfs.length ? h('option', {value: 'workflow'}, 'Workflow') : null, h('option', {value: 'number'}, 'Phone number')),
    h('label', {for: 'xfTarget'}, 'Agent, workflow or number'), h('input', {id: 'xfTarget', name: 'target', required: true, autocomplete: 'off'}),
    h('datalist', {id: 'xfWfs'}, wfs.map(w => h('option', {value: w}))),
    conf ? null : h('fieldset', {}, h('legend', {}, 'How'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'mode', value: 'blind', checked: true}), 'Transfer now'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'mode', value: 'consult'}), 'Consult first'))],
  conf ? 'Add' : 'Transfer', async fd => {
    const target = (fd.get('target') || '').trim();
    if (!target) return 'Enter who to transfer to.';
    try { const v = await api('POST', '/agent/transfer', {type: fd.get('type'), target, mode: fd.get('mode') || 'blind'}); if (v?.state && v.state !== 'conferenced') ext.transfer = v; }
    catch (e) { return e.message; }
  });
  if (f) render();
});
const xfAct = async a => { const v = await act('POST', '/agent/transfer/' + a); if (v) { ext.transfer = ['ringing', 'consulting'].includes(v.state) ? v : null; render(); } };
$('xfComplete').addEventListener('click', () => xfAct('complete'));
$('xfMerge').addEventListener('click', () => xfAct('merge'));
$('xfCancel').addEventListener('click', () => xfAct('cancel'));
$('recBtn').addEventListener('click', () => {
  const r = ext.recording; if (!r?.allowed || !['recording', 'paused'].includes(r.state)) return;
  act('POST', r.state === 'recording' ? '/agent/recording/pause' : '/agent/recording/resume').then(s => { if (s?.state) snapshot(s); });
});
$('bmBtn').addEventListener('click', async () => {
  const f = await ask('Bookmark', [h('label', {for: 'bmNote'}, 'Note (optional)'), h('input', {id: 'bmNote', name: 'note'})], 'Save');
  if (f) act('POST', '/agent/bookmarks', {note: f.get('note')});
});

// payment (later issue): card and CVV arrive as DTMF on the customer's leg;
// the screen only ever sees counts, last four and brand.
$('payOpen').addEventListener('click', async () => {
  const v = await act('POST', '/agent/payment/start');
  if (v?.progress) { ext.payment = v; $('payErr').textContent = ''; $('payResult').textContent = ''; render(); $('payRef').focus(); }
});
const payReset = async what => { const v = await act('POST', '/agent/payment/reset-' + what, undefined, $('payErr')); if (v?.progress) { ext.payment = v; render(); } };
$('payResetCard').addEventListener('click', () => payReset('card'));
$('payResetCvv').addEventListener('click', () => payReset('cvv'));
$('pay').addEventListener('submit', async ev => {
  ev.preventDefault();
  const miss = ['payRef', 'payExp', 'payName', 'payAmt'].find(i => !$(i).value.trim());
  if (miss) { $('payErr').textContent = 'Fill in ' + document.querySelector(`label[for=${miss}]`).textContent + '.'; $(miss).focus(); return; }
  if (!/^(0[1-9]|1[0-2])\/\d\d$/.test($('payExp').value.trim())) { $('payErr').textContent = 'Expiry must be MM/YY.'; $('payExp').focus(); return; }
  $('payGo').disabled = true;
  if (ext.payment) ext.payment.result = null;
  const r = await act('POST', '/agent/payment/submit', {reference: $('payRef').value.trim(), expiry: $('payExp').value.trim(),
    cardholderName: $('payName').value.trim(), amount: $('payAmt').value.trim()}, $('payErr'));
  $('payGo').disabled = false;
  // payment.result may have come over the websocket before this reply.
  if (r?.progress && ext.payment && !ext.payment.result) { ext.payment = {...ext.payment, ...r}; render(); }
});
$('payExit').addEventListener('click', async () => {
  const p = ext.payment;
  if (p && !p.result && (p.progress?.card_digits || p.progress?.cvv_digits) && !await ask('Leave the payment screen?', [h('p', {}, 'The card details keyed so far will be discarded.')], 'Leave')) return;
  if (await act('POST', '/agent/payment/exit', undefined, $('payErr')) !== null) { ext.payment = null; ['payRef', 'payExp', 'payName', 'payAmt'].forEach(i => { $(i).value = ''; }); render(); }
});
$('pvSkip').addEventListener('click', async () => {
  const f = await ask('Skip this lead', [h('label', {for: 'pvReason'}, 'Reason'), h('select', {id: 'pvReason', name: 'reason'},
    ['Not now', 'Wrong number', 'Do not call', 'Other'].map(r => h('option', {value: r}, r)))], 'Skip');
  if (f && await act('POST', '/agent/preview/skip', {reason: f.get('reason')}) !== null) { ext.preview = null; render(); }
});

// ---------- wrap ----------
async function wrap(next) {
  const c = snap?.call, w = snap?.wrap; if (!w) return;
  let reason = '';
  if (next === 'paused') { const f = await ask('Pause after wrap', reasonPicker('Pause reason'), 'Pause'); if (!f) return; reason = f.get('reason'); }
  clearTimeout(notesT);
  const code = $('wrCode').value, notes = c ? $('notes').value : '';
  const r = await act('POST', '/agent/wrap', {code, next, reason, notes}, $('wrErr'));
  if (r) crmWrapped(c, code, notes);
}
$('wrReady').addEventListener('click', () => wrap('ready'));
$('wrPaused').addEventListener('click', () => wrap('paused'));
$('wrExtend').addEventListener('click', () => act('POST', '/agent/wrap/extend', undefined, $('wrErr')));

// ---------- websocket ----------
let ws = null, wsTry = 0, wsTimer = null, lastMsg = 0, wantWS = false;
function setConn(cls, text) { const c = $('conn'); c.className = 'conn ' + cls; c.textContent = text; }
function closeWS() { wantWS = false; clearTimeout(wsTimer); if (ws) { ws.onclose = null; ws.close(); ws = null; } setConn('off', 'offline'); }
async function openWS() {
  wantWS = true; clearTimeout(wsTimer);
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
  setConn('wait', wsTry ? 'reconnecting' : 'connecting');
  let t;
  try { t = await api('POST', '/auth/ws-ticket'); } catch (e) { if (e.status !== 401) retryWS(); return; }
  if (!wantWS) return;
  const u = new URL(API + '/ws', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('ticket', t.ticket);
  if (seq) u.searchParams.set('after', seq);
  const s = ws = new WebSocket(u);
  // The server sends hello (a snapshot) on a fresh stream and nothing but the
  // missed events when it can resume from `after`.
  s.onopen = () => { lastMsg = Date.now(); setConn('on', 'online'); };
  s.onmessage = e => { lastMsg = Date.now(); wsTry = 0; let m; try { m = JSON.parse(e.data); } catch { return; } onMessage(m); };
  s.onclose = () => { if (ws === s) { ws = null; retryWS(); } };
  s.onerror = () => s.close();
}
function retryWS() {
  if (!wantWS || !token) return;
  setConn('off', 'offline — retrying');
  const d = Math.min(15000, 500 * 2 ** wsTry++) * (0.6 + Math.random() * 0.4);
  wsTimer = setTimeout(openWS, d);
}
setInterval(() => { if (ws && ws.readyState === 1 && Date.now() - lastMsg > 45000) ws.close(); }, 5000);
window.addEventListener('online', () => { if (wantWS && !ws) { wsTry = 0; openWS(); } });

function snapshot(s) {
  if (!s || !s.state) return;
  if (snap && s.seq < seq) return; // older than what we already applied
  ext = fromSnap(s);
  snap = s; seq = s.seq || seq;
  render();
}
async function refresh() { try { snapshot(await api('GET', '/agent')); } catch {} }

function onMessage(m) {
  if (m.time) { const t = Date.parse(m.time); if (t) skew = t - Date.now(); }
  if (m.type === 'ping') return;
  if (m.type === 'hello') {
    if (m.data?.state) snapshot(m.data);
    return;
  }
  if (m.seq) { if (m.seq <= seq) return; seq = m.seq; }
  if (!snap) return;
  const d = m.data || {}, [group, what] = m.type.split('.');
  switch (group) {
    case 'agent':
      if (what === 'state') {
        snap.state = d;
        if (!['reserved', 'on_call', 'on_wrap'].includes(d.state)) { snap.call = null; snap.wrap = null; ext = fresh(); }
        post('ctid.agentState', d);
      }
      break;
    case 'phone':
      if (what === 'failed') { $('cnErr').textContent = d.error || 'The phone connection failed.'; showErr('Phone: ' + (d.error || 'connection failed')); }
      else if (d.mode !== undefined || d.connected !== undefined) snap.phone = {...snap.phone, ...d};
      if (what === 'disconnected') showErr('Your phone connection dropped.');
      break;
    case 'call':
      if (what === 'notes') { if (snap.call?.interactionId === d.interactionId) snap.call.notes = d.notes; break; }
      if (snap.call?.interactionId !== d.interactionId) {
        ext = {...fresh(), preview: null}; tab = d.campaignId == null ? 'info' : 'call';
        refresh(); // the call's recording, announcements and payment come with the snapshot
      }
      snap.call = d;
      if (d.lead) ext.lead = d.lead;
      crmCall(what, d);
      break;
    case 'wrap':
      if (what === 'auto') { crmWrapped(snap.call, d.code, snap.call?.notes || ''); snap.wrap = null; }
      else snap.wrap = d;
      break;
    case 'transfer':
      if (what === 'state') {
        ext.transfer = ['ringing', 'consulting'].includes(d.state) ? d : null;
        if (d.state === 'failed') showErr('Transfer failed' + (d.detail ? ': ' + d.detail : '') + '; you are back with the customer.');
      }
      break;
    case 'conference': ext.conference = d.parties?.length ? d : null; break;
    case 'recording': if (what === 'state') ext.recording = d; break;
    case 'announcement': ext.playing = what === 'started' ? d.id : null; break;
    case 'payment':
      if (what === 'ended') ext.payment = null;
      else ext.payment = {...ext.payment, ...d};
      break;
    case 'preview': ext.preview = what === 'offered' ? d : null; break;
  }
  render();
}

// ---------- CRM integration ----------
// Only the leader (one adaptor instance per agent and browser storage
// partition, chosen with a Web Lock) pops screens and writes logs; other
// instances hand their wrap results to it over a BroadcastChannel.
const crm = {leader: false, sf: null, bc: null, ctx: {}, popped: new Set(), logged: new Set(), origin: null};
try { const o = P.get('crmOrigin'); if (o) crm.origin = new URL(o).origin; } catch {}
function post(type, data) {
  if (crm.origin && window.parent !== window) window.parent.postMessage({source: 'ctid', type, data, leader: crm.leader}, crm.origin);
}
window.addEventListener('message', e => {
  if (!crm.origin || e.origin !== crm.origin || e.source !== window.parent) return;
  if (e.data?.type === 'ctid.clickToDial' && typeof e.data.number === 'string') clickToDial(e.data.number);
});
function leaderElection(agentId) {
  if (crm.bc) return;
  const name = 'ctid-crm-' + agentId;
  crm.bc = new BroadcastChannel(name);
  crm.bc.onmessage = e => { if (crm.leader && e.data?.type === 'wrapped') logCall(e.data.call, e.data.code, e.data.notes); };
  if (navigator.locks) navigator.locks.request(name, () => { crm.leader = true; post('ctid.leader', {leader: true}); return new Promise(() => {}); });
  else crm.leader = true;
}
function clickToDial(number, ctx) {
  if (!snap || !['ready', 'paused'].includes(snap.state.state) || snap.call) { showErr('Cannot dial now: ' + (LABEL[snap?.state.state] || 'not logged in')); return; }
  $('dialNum').value = number;
  dial(number, ctx);
}
function crmCall(what, c) {
  post('ctid.call' + what[0].toUpperCase() + what.slice(1), c);
  if (!crm.leader || c.direction !== 'IN' || !['offered', 'connected'].includes(what)) return;
  // A persistent connection may skip "offered": act on whichever comes first.
  if (crm.popped.has(c.interactionId)) return;
  crm.popped.add(c.interactionId);
  crm.sf?.setSoftphonePanelVisibility({visible: true, callback() {}});
  crm.sf?.searchAndScreenPop({searchParams: c.customerNumber, queryParams: '', defaultFieldValues: {Phone: c.customerNumber},
    callType: crm.sf.CALL_TYPE?.INBOUND || 'inbound', deferred: false, callback(r) {
      const recs = r?.success && r.returnValue ? Object.values(r.returnValue).filter(x => x && x.Id) : [];
      if (recs.length === 1) crm.ctx[c.interactionId] = {recordId: recs[0].Id, objectType: recs[0].RecordType};
    }});
}
function crmWrapped(c, code, notes) {
  if (!c) return;
  if (crm.leader) logCall(c, code, notes);
  else crm.bc?.postMessage({type: 'wrapped', call: c, code, notes});
}
function logCall(c, code, notes) {
  if (crm.logged.has(c.interactionId)) return;
  crm.logged.add(c.interactionId);
  const secs = c.connectedAt ? Math.max(0, Math.round(((c.endedAt ? Date.parse(c.endedAt) : now()) - Date.parse(c.connectedAt)) / 1000)) : 0;
  post('ctid.wrapped', {interactionId: c.interactionId, code, notes, durationSeconds: secs, call: c});
  if (!crm.sf) return;
  const x = crm.ctx[c.interactionId] || {}, inbound = c.direction === 'IN';
  const value = {entityApiName: 'Task', Subject: `${inbound ? 'Inbound' : 'Outbound'} call ${c.customerNumber}`, Status: 'Completed',
    CallType: inbound ? 'Inbound' : 'Outbound', CallObject: c.interactionId, CallDurationInSeconds: secs,
    CallDisposition: code, Description: notes || '', ActivityDate: new Date().toISOString().slice(0, 10)};
  if (x.recordId) value[/^(Contact|Lead)$/.test(x.objectType || '') ? 'WhoId' : 'WhatId'] = x.recordId;
  crm.sf.saveLog({value, callback(r) { if (r && !r.success) showErr('Salesforce log failed'); }});
}
async function initSalesforce() {
  let o; try { o = new URL(P.get('sfdcOrigin') || P.get('sfdcIframeOrigin') || ''); } catch { return; }
  // Only Salesforce domains (or this server: the test harness) may supply the script.
  const same = o.origin === location.origin;
  if (!same && !(o.protocol === 'https:' && /\.(force|salesforce|visualforce|salesforce-setup)\.com$/.test(o.hostname))) { console.warn('ctid: untrusted sfdcOrigin', o.origin); return; }
  const src = same ? new URL('../test/opencti_min.js', location.href).href : o.origin + '/support/api/63.0/lightning/opencti_min.js';
  await new Promise(res => document.head.append(h('script', {src, onload: res, onerror: res})));
  const oc = window.sforce?.opencti; if (!oc) return;
  crm.sf = oc;
  oc.enableClickToDial({callback() {}});
  oc.onClickToDial({listener: p => clickToDial(p.number, p.recordId ? {recordId: p.recordId, objectType: p.objectType} : undefined)});
  oc.notifyInitializationComplete();
}

// ---------- render ----------
function render() {
  const st = snap?.state?.state;
  const scr = !token ? 'login' : !snap ? '' : ['logged_out', 'logged_in', 'connecting'].includes(st) ? 'connect' : 'main';
  show('login', scr === 'login'); show('connect', scr === 'connect'); show('main', scr === 'main');
  show('agentBtn', !!snap && st !== 'logged_out');
  $('who').textContent = snap ? snap.displayName + (scr === 'main' && !snap.phone?.connected ? ' · phone off' : '') : '';
  if (!snap) return;
  leaderElection(snap.agentId);
  document.body.className = 'st-' + st;
  if (scr === 'connect') return renderConnect(st);
  const call = snap.call, w = st === 'on_wrap' ? snap.wrap : null;
  const idle = ['ready', 'paused'].includes(st) && !call;
  // status control
  const s = $('status'), reasons = snap.pauseReasons || [];
  const opts = idle ? [['ready', 'Ready'], ...reasons.map(r => ['p:' + r, 'Paused – ' + r])] : [[st, LABEL[st] || st]];
  if (idle && st === 'paused' && !reasons.includes(snap.state.pauseReason)) opts.push(['p:' + snap.state.pauseReason, 'Paused – ' + (snap.state.pauseReason || '')]);
  const cur = st === 'paused' ? 'p:' + snap.state.pauseReason : st;
  if (s.dataset.k !== JSON.stringify(opts)) { s.replaceChildren(...opts.map(([v, l]) => h('option', {value: v}, l))); s.dataset.k = JSON.stringify(opts); }
  s.value = cur; s.disabled = !idle;
  // preview
  const pv = call ? null : ext.preview;
  show('preview', !!pv);
  if (pv) {
    $('pvLead').replaceChildren(...leadRows(pv.lead, pv.campaignName));
    $('pvNums').replaceChildren(...(pv.lead?.phones || []).map(n => h('button', {type: 'button', class: 'call',
      onclick: async () => { const r = await act('POST', '/agent/preview/dial', {number: n}); if (r?.interactionId) { ext.preview = null; if (!snap.call) snap.call = r; render(); } }}, 'Call ' + n)));
  }
  // dialer
  show('dialer', idle && !pv);
  const camps = snap.campaigns || [], dc = $('dialCamp');
  const ck = JSON.stringify(camps);
  if (dc.dataset.k !== ck) {
    const keep = dc.value || sessionStorage.getItem('ctid.camp');
    dc.replaceChildren(...camps.map(c => h('option', {value: c.id}, c.name)), h('option', {value: ''}, 'Skip campaign'));
    if (keep != null && [...dc.options].some(o => o.value === keep)) dc.value = keep;
    dc.dataset.k = ck;
  }
  // call
  show('call', !!call);
  if (call) {
    $('clWho').textContent = call.customerNumber || '';
    $('clState').textContent = (call.direction === 'IN' ? 'In · ' : 'Out · ') + call.state;
    const talking = call.state === 'connected';
    show('hangBtn', ['dialing', 'connected'].includes(call.state) && st !== 'on_wrap');
    show('xfOpen', talking && st === 'on_call' && !ext.transfer && !ext.payment && (!ext.conference || ext.conference.parties.length < ext.conference.max));
    $('xfOpen').textContent = ext.conference ? 'Add party…' : 'Transfer…';
    const hasCamp = call.campaignId != null;
    const tabs = {call: hasCamp, info: true, ann: !!ext.announcements?.length && talking, svc: (ext.paymentEnabled && talking) || !!ext.payment, lead: !!ext.lead};
    if (!tabs[tab]) tab = hasCamp ? 'call' : 'info';
    for (const [k, on] of Object.entries(tabs)) {
      const t = $('t-' + k); t.hidden = !on; t.setAttribute('aria-selected', tab === k); t.tabIndex = tab === k ? 0 : -1;
      $('p-' + k).hidden = tab !== k;
    }
    if (notesFor !== call.interactionId) { notesFor = call.interactionId; $('notes').value = call.notes || ''; $('notesState').textContent = ''; }
    else if (document.activeElement !== $('notes') && !notesT && $('notes').value !== (call.notes || '')) $('notes').value = call.notes || '';
    const info = [['Campaign', call.campaignName || '—'], ['Interaction', call.interactionId], ['Type', call.direction],
      ['Customer', call.customerNumber], ['Platform', call.platformNumber], ['IVR text', call.ivrText], ['IVR data', call.ivrData],
      ['Time in queue', call.direction === 'IN' ? mmss(call.timeInQueueMs || 0) : '—']];
    $('info').replaceChildren(...info.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v || '—')]));
    if (ext.lead) $('lead').replaceChildren(...leadRows(ext.lead));
    if (ext.announcements) $('annList').replaceChildren(...ext.announcements.map(a => { const on = ext.playing === a.id; return h('li', {}, h('span', {}, a.name + (on ? ' (playing)' : '')),
      h('button', {type: 'button', disabled: ext.playing != null && !on, onclick: () => act('POST', on ? '/agent/announcements/stop' : `/agent/announcements/${encodeURIComponent(a.id)}/play`)}, on ? 'Stop' : 'Play')); }));
    const r = ext.recording;
    show('recBtn', !!r);
    if (r) {
      // grey: no permission, and then nothing about the actual status.
      const b = $('recBtn'), can = r.allowed && ['recording', 'paused'].includes(r.state);
      b.className = 'rec ' + (r.icon || 'grey');
      b.title = b.ariaLabel = r.allowed ? 'Recording: ' + (r.state || 'off') + (can ? ' (click to ' + (r.state === 'recording' ? 'pause' : 'resume') + ')' : '') : 'Recording control not permitted';
      b.disabled = !can;
    }
    show('bmBtn', !!r && talking);
    const x = ext.transfer, cf = ext.conference;
    show('xfer', !!x || !!cf);
    if (x) $('xfState').textContent = (x.state === 'ringing' ? 'Calling ' : 'Consulting ') + (x.target || '') + (x.mode === 'blind' ? ' (blind)' : '');
    else if (cf) $('xfState').textContent = `Conference: you, the customer and ${cf.parties.map(q => q.target).join(', ')} (${cf.parties.length} of ${cf.max})`;
    show('xfComplete', !!x && x.mode === 'consult'); show('xfMerge', !!x && x.mode === 'consult' && x.state === 'consulting'); show('xfCancel', !!x && x.mode !== 'blind');
    const p = ext.payment, g = p?.progress || {};
    show('payOpen', !p); show('pay', !!p);
    if (p) {
      // Only counts, brand, validity and the last four ever reach the page.
      $('payCard').textContent = g.card_digits ? `${g.card_last4 ? '•'.repeat(Math.max(0, g.card_digits - 4)) + g.card_last4 : '•'.repeat(g.card_digits)} (${g.card_digits} digits${g.card_brand ? ', ' + g.card_brand : ''}${g.card_valid ? ', valid' : ''})` : '–';
      $('payCvv').textContent = g.cvv_digits ? '•'.repeat(g.cvv_digits) + (g.cvv_valid ? ' (valid)' : g.cvv_length ? ` (${g.cvv_digits} of ${g.cvv_length})` : '') : '–';
      const res = p.result;
      $('payResult').textContent = p.charging ? 'Processing…' : res ? (res.approved ? `Approved — receipt ${res.receipt || res.reference || ''}` : `Declined: ${res.decline_reason || 'no reason given'}`) : p.error || g.error || '';
      $('payResult').className = 'hint' + (res ? (res.approved ? ' ok' : ' bad') : '');
      $('payGo').disabled = !!p.charging || !!res?.approved;
    }
  }
  // wrap
  show('wrap', !!w);
  if (w) {
    const wc = $('wrCode'), k = JSON.stringify(w.codes);
    if (wc.dataset.k !== k || wc.dataset.i !== w.interactionId) {
      wc.replaceChildren(...(w.codes || []).map(c => h('option', {value: c.code, selected: c.code === w.defaultCode}, c.label || c.code)));
      if (!w.codes?.length) wc.append(h('option', {value: ''}, '(no wrap codes)'));
      wc.dataset.k = k; wc.dataset.i = w.interactionId;
    }
    $('wrExtend').hidden = !(w.extendSeconds > 0 && w.deadline);
    $('wrExtend').textContent = `+${w.extendSeconds} s`;
  }
  tick();
}
function leadRows(l, campaign) {
  if (!l) return [];
  const rows = [['Campaign', campaign], ['Name', l.name], ['Phones', (l.phones || []).join(', ')], ...Object.entries(l.data || {})];
  return rows.filter(([, v]) => v != null && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]);
}
function renderConnect(st) {
  const ph = snap.phone || {};
  if (!$('connect').dataset.filled) {
    $('cnNum').value = ph.number || ph.defaultNumber || '';
    if (ph.mode) document.querySelector(`input[name=mode][value=${ph.mode}]`).checked = true;
    $('cnPersist').checked = ph.mode ? !!ph.persistent : true;
    $('connect').dataset.filled = '1';
  }
  show('cnWait', st === 'connecting');
  $('cnBtn').disabled = st === 'connecting';
}
function tick() {
  if (!snap) return;
  const since = Date.parse(snap.state?.since);
  $('since').textContent = since ? mmss(now() - since) : '';
  const c = snap.call;
  if (c) $('clTimer').textContent = c.connectedAt ? mmss((c.endedAt ? Date.parse(c.endedAt) : now()) - Date.parse(c.connectedAt)) : '';
  const w = snap.state?.state === 'on_wrap' && snap.wrap;
  $('wrCount').textContent = w && w.deadline ? mmss(Date.parse(w.deadline) - now()) : '';
  $('wrCount').setAttribute('aria-label', 'Auto-wrap in ' + $('wrCount').textContent);
  const dl = Date.parse(ext.preview?.deadline); $('pvCount').textContent = dl > 0 ? mmss(dl - now()) : '';
}
setInterval(tick, 1000);

// ---------- start ----------
render();
initSalesforce();
if (token) refresh().then(() => { if (token) openWS(); });
else $('lgUser').focus();
