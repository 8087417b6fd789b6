// The agent list, virtualised: only the rows in view are in the page, so a
// floor of thousands of agents scrolls and updates smoothly. Filters by
// campaign and state, search by name; arrow keys move, Enter opens.
import {$, el} from '../review/api.js';
import {floor} from './feed.js';

const ROW = 48; // px, matches .vrow height (3rem)
const stateName = {logged_in: 'Logged in', connecting: 'Connecting', paused: 'Paused', ready: 'Ready', reserved: 'Ringing', on_call: 'On call', on_wrap: 'Wrap up', logged_out: 'Logged out'};
let shown = [], selected = null, onOpen = () => {};

export const since = t => {
  const s = Math.max(0, Math.round((Date.now() - new Date(t)) / 1000));
  return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
export const stateLabel = s => stateName[s] || s;

function filtered() {
  const q = $('fSearch').value.trim().toLowerCase(), camp = Number($('fCamp').value), st = $('fState').value;
  const out = [];
  for (const a of floor.agents.values()) {
    if (q && !(a.displayName || a.username).toLowerCase().includes(q) && !a.username.toLowerCase().includes(q)) continue;
    if (camp && !a.campaignIds.includes(camp)) continue;
    if (st && a.state !== st) continue;
    out.push(a);
  }
  return out.sort((x, y) => (x.displayName || x.username).localeCompare(y.displayName || y.username) || x.id - y.id);
}

function callText(a) {
  const c = a.interactionId && floor.calls.get(a.interactionId);
  if (!c) return a.interactionId ? 'wrapping a call' : '';
  return `${c.direction === 'IN' ? 'Inbound' : 'Outbound'} ${c.customerNumber || ''} · ${floor.campaigns.get(c.campaignId) || ''}${c.connectedAt ? ' · ' + since(c.connectedAt) : ''}`;
}

export function renderAgents() {
  shown = filtered();
  const box = $('agents');
  box.firstElementChild.style.height = (shown.length * ROW) + 'px';
  const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 5), last = Math.min(shown.length, first + Math.ceil(box.clientHeight / ROW) + 10);
  const rows = [box.firstElementChild];
  for (let i = first; i < last; i++) {
    const a = shown[i];
    rows.push(el('div', {class: 'vrow', role: 'option', id: 'agent-' + a.id, 'aria-selected': String(a.id === selected),
        'aria-setsize': String(shown.length), 'aria-posinset': String(i + 1), style: `top:${i * ROW}px`, onclick: () => open(a.id)},
      el('span', {}, a.displayName || a.username),
      el('span', {}, el('span', {class: 'st ' + a.state}, stateLabel(a.state)), a.pauseReason ? ` (${a.pauseReason})` : '', ' ', since(a.since)),
      el('span', {class: 'ph'}, a.phone ? 'phone ' + a.phone : 'no phone'),
      el('span', {class: 'sub'}, callText(a))));
  }
  box.replaceChildren(...rows);
  if (selected != null) box.setAttribute('aria-activedescendant', 'agent-' + selected); else box.removeAttribute('aria-activedescendant');
  $('aCount').textContent = `${shown.length} of ${floor.agents.size}`;
}

function open(id) { selected = id; renderAgents(); onOpen(id); }

function move(delta) {
  if (!shown.length) return;
  let i = shown.findIndex(a => a.id === selected);
  i = Math.max(0, Math.min(shown.length - 1, i < 0 ? 0 : i + delta));
  selected = shown[i].id;
  const box = $('agents');
  if (i * ROW < box.scrollTop) box.scrollTop = i * ROW;
  if ((i + 1) * ROW > box.scrollTop + box.clientHeight) box.scrollTop = (i + 1) * ROW - box.clientHeight;
  renderAgents();
}

export function initAgents(opened) {
  onOpen = opened;
  for (const [k, v] of Object.entries(stateName)) $('fState').append(el('option', {value: k}, v));
  $('agents').addEventListener('scroll', () => requestAnimationFrame(renderAgents));
  $('agents').addEventListener('keydown', ev => {
    const k = {ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10}[ev.key];
    if (k) { ev.preventDefault(); move(k); } else if (ev.key === 'Enter' && selected != null) { ev.preventDefault(); open(selected); }
  });
  for (const id of ['fSearch', 'fCamp', 'fState']) $(id).addEventListener('input', () => { $('agents').scrollTop = 0; renderAgents(); });
}
