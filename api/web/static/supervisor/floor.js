// The live floor: queues, agents and calls as the feed pushes them; the
// page redraws at most once per animation frame and ticks times each second.
import {$, api, el, login, session, setSession, showErr, whenExpired} from '../review/api.js';
import {floor, startFeed, stopFeed} from './feed.js';
import {initAgents, renderAgents, since} from './agents.js';
import {initActions, openPanel, renderPanel} from './actions.js';

const pct = s => s == null ? '—' : (100 * s).toFixed(0) + '%';
const ms = v => v == null ? '—' : (v / 1000).toFixed(1) + ' s';

function renderQueues() {
  const rows = [...floor.queues.values()].sort((a, b) => a.campaignName.localeCompare(b.campaignName)).map(q => el('tr', {},
    el('td', {}, q.campaignName), el('td', {}, String(q.waiting)), el('td', {}, q.oldestSince ? since(q.oldestSince) : '—'),
    el('td', {}, pct(q.today.serviceLevel)), el('td', {}, pct(q.last15m.serviceLevel)), el('td', {}, String(q.today.abandoned)),
    el('td', {}, ms(q.today.asaMs))));
  $('queues').tBodies[0].replaceChildren(...rows);
  const sel = $('fCamp'), keep = sel.value;
  sel.replaceChildren(new Option('All campaigns', ''), ...[...floor.campaigns].map(([id, name]) => new Option(name, id)));
  sel.value = keep;
}

function renderCalls() {
  const calls = [...floor.calls.values()].sort((a, b) => (a.queuedAt || a.connectedAt || '').localeCompare(b.queuedAt || b.connectedAt || ''));
  const name = id => { const a = floor.agents.get(id); return a ? (a.displayName || a.username) : ''; };
  const state = {queued: 'waiting', offering: 'ringing an agent', dialing: 'dialling', connected: 'connected'};
  $('calls').replaceChildren(...calls.slice(0, 200).map(c => el('li', {},
    `${c.direction === 'IN' ? 'Inbound' : 'Outbound'} ${c.customerNumber || 'unknown'} · ${floor.campaigns.get(c.campaignId) || 'no campaign'} · ` +
    `${state[c.state] || c.state}${c.agentId ? ' with ' + name(c.agentId) : ''} · ${since(c.connectedAt || c.queuedAt || Date.now())}`)));
  $('cCount').textContent = calls.length > 200 ? `(${calls.length}, first 200 shown)` : `(${calls.length})`;
}

let queued = false;
function redraw() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => { queued = false; renderQueues(); renderAgents(); renderCalls(); renderPanel(); });
}

function signedIn() {
  $('login').hidden = true; $('floor').hidden = false; $('logout').hidden = false;
  const u = session.user || {};
  $('who').textContent = u.displayName || u.username || '';
  startFeed(redraw, (on, why) => {
    $('conn').textContent = on ? 'live' : 'offline'; $('conn').classList.toggle('on', !!on);
    if (why) showErr(why);
  });
  initActions();
}

function signedOut(msg) {
  stopFeed(); setSession(null, null);
  $('login').hidden = false; $('floor').hidden = true; $('logout').hidden = true;
  if (msg) showErr(msg);
  $('lgUser').focus();
}

$('login').addEventListener('submit', async ev => {
  ev.preventDefault();
  $('lgErr').textContent = '';
  try { await login($('lgUser').value.trim(), $('lgPass').value); $('lgPass').value = ''; signedIn(); }
  catch (e) { $('lgErr').textContent = e.message; }
});
$('logout').addEventListener('click', () => { api('POST', '/auth/logout').catch(() => {}); signedOut(); });
whenExpired(() => signedOut('Your session has ended; please sign in again.'));
initAgents(openPanel);
setInterval(redraw, 1000); // times in state and waits tick
if (session.token) signedIn(); else signedOut();
