// The state bar: connection badge, who, the status control (Ready / Paused
// with a reason; "Preview" while a lead is offered, where pausing returns
// the lead), time in state, and the agent menu (pause reasons, logout).
import {$, h, show, mmss, ask} from './dom.js';
import {S, LABEL, onRender, onTick, screen, agentState, idle, now, render} from './state.js';
import {api, act} from './api.js';
import {expire} from './session.js';

export const inPreview = () => !!S.ext.preview && !S.snap?.call;
export const statusLabel = () => inPreview() ? 'Preview' : LABEL[agentState()] || agentState() || '';

$('status').addEventListener('change', async () => {
  const v = $('status').value;
  if (v === 'ready') await act('POST', '/agent/ready');
  else if (v.startsWith('p:')) await act('POST', '/agent/pause', {reason: v.slice(2)});
  render();
});

export function reasonPicker(label) {
  return [h('label', {for: 'dlgReason'}, label), h('select', {id: 'dlgReason', name: 'reason', required: true},
    (S.snap?.pauseReasons || []).map(r => h('option', {value: r, selected: r === S.snap?.state?.pauseReason}, r)))];
}

// pauseNow asks for a reason and pauses (during a preview this returns the lead).
export async function pauseNow() {
  const f = await ask('Pause', reasonPicker('Pause reason'), 'Pause');
  if (f) await act('POST', '/agent/pause', {reason: f.get('reason')});
}

async function logout() {
  const f = await ask('Log out', reasonPicker('Pause reason'), 'Log out');
  if (!f) return;
  if (await act('POST', '/agent/logout', {reason: f.get('reason')}) === null) return;
  await api('POST', '/auth/logout').catch(() => {});
  expire();
}

const menuItems = [];
// addMenuItem lets a capability put an entry in the agent menu (callbacks).
export const addMenuItem = (label, fn, enabled = () => true) => menuItems.push({label, fn, enabled});

$('agentBtn').addEventListener('click', () => toggleMenu());
function toggleMenu(open = $('agentMenu').hidden) {
  const m = $('agentMenu');
  m.hidden = !open; $('agentBtn').setAttribute('aria-expanded', open);
  if (!open) return;
  const st = S.snap?.state, canPause = ['ready', 'paused'].includes(st?.state) || inPreview();
  m.replaceChildren(
    ...(S.snap?.pauseReasons || []).map(r => h('button', {role: 'menuitem', class: st?.state === 'paused' && st.pauseReason === r ? 'cur' : null,
      disabled: !canPause, onclick: () => { toggleMenu(false); act('POST', '/agent/pause', {reason: r}); }}, 'Pause: ' + r)),
    h('hr'),
    ...menuItems.map(i => h('button', {role: 'menuitem', disabled: !i.enabled(), onclick: () => { toggleMenu(false); i.fn(); }}, i.label)),
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

onRender(s => {
  const scr = screen(), st = agentState();
  show('agentBtn', !!s.snap && st !== 'logged_out');
  $('who').textContent = s.snap ? s.snap.displayName + (scr === 'main' && !s.snap.phone?.connected ? ' · phone off' : '') : '';
  document.body.className = s.snap ? 'st-' + st + (inPreview() ? ' st-preview' : '') : '';
  show('main', scr === 'main');
  if (scr !== 'main') return;
  const sel = $('status'), reasons = s.snap.pauseReasons || [], pv = inPreview(), free = idle();
  const pauses = reasons.map(r => ['p:' + r, 'Paused – ' + r]);
  const opts = free ? [['ready', 'Ready'], ...pauses] : pv ? [['preview', 'Preview'], ...pauses] : [[st, LABEL[st] || st]];
  if (free && st === 'paused' && !reasons.includes(s.snap.state.pauseReason)) opts.push(['p:' + s.snap.state.pauseReason, 'Paused – ' + (s.snap.state.pauseReason || '')]);
  const k = JSON.stringify(opts);
  if (sel.dataset.k !== k) { sel.replaceChildren(...opts.map(([v, l]) => h('option', {value: v}, l))); sel.dataset.k = k; }
  sel.value = pv ? 'preview' : st === 'paused' ? 'p:' + s.snap.state.pauseReason : st;
  sel.disabled = !free && !pv;
});
onTick(s => { const since = Date.parse(s.snap.state?.since); $('since').textContent = since ? mmss(now() - since) : ''; });
