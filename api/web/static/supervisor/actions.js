// What a supervisor does to an agent (pause with a reason, ready, log out,
// end the call) and to their call (listen, whisper, barge, stop). Every one
// is audited by the server; refusals come back as sentences.
import {$, api} from '../review/api.js';
import {floor} from './feed.js';
import {stateLabel, since} from './agents.js';

let agentId = null;

async function act(path, body) {
  $('pMsg').textContent = '';
  try { await api('POST', path, body); $('pMsg').textContent = 'Done.'; return true; }
  catch (e) { if (e.status !== 401) $('pMsg').textContent = e.message; return false; }
}

export function renderPanel() {
  if (agentId == null || $('panel').hidden) return;
  const a = floor.agents.get(agentId);
  if (!a) { $('pInfo').textContent = 'This agent has logged out.'; return; }
  $('pTitle').textContent = a.displayName || a.username;
  const c = a.interactionId && floor.calls.get(a.interactionId);
  $('pInfo').textContent = `${stateLabel(a.state)}${a.pauseReason ? ' (' + a.pauseReason + ')' : ''} for ${since(a.since)}` +
    (c ? `; on a call with ${c.customerNumber || 'an unknown number'}` : '') + (a.phone ? `; phone ${a.phone}` : '');
  $('monBox').hidden = !(c && c.state === 'connected');
  $('aHangup').disabled = !c;
}

export function openPanel(id) {
  agentId = id;
  $('panel').hidden = false; $('pMsg').textContent = '';
  renderPanel();
  $('panel').focus();
}

export async function initActions() {
  try {
    const reasons = await api('GET', '/pause-reasons');
    for (const r of reasons) if (!r.system) $('pReason').append(new Option(r.name, r.name));
  } catch { /* the select stays empty; the server will say a reason is needed */ }
  const base = () => `/supervisor/agents/${agentId}`;
  $('aPause').addEventListener('click', () => act(base() + '/pause', {reason: $('pReason').value}));
  $('aReady').addEventListener('click', () => act(base() + '/ready'));
  $('aLogout').addEventListener('click', () => act(base() + '/logout', {reason: $('pReason').value}));
  $('aHangup').addEventListener('click', () => { if (confirm('End this agent\'s call? The customer will be disconnected.')) act(base() + '/hangup'); });
  for (const b of $('monBox').querySelectorAll('[data-mode]')) {
    b.addEventListener('click', () => {
      const a = floor.agents.get(agentId);
      if (a && a.interactionId) act('/supervisor/monitor', {interactionId: a.interactionId, mode: b.dataset.mode, phone: $('mPhone').value.trim()});
    });
  }
  $('mStop').addEventListener('click', () => act('/supervisor/monitor/stop'));
  $('pClose').addEventListener('click', () => { $('panel').hidden = true; $('agents').focus(); });
  $('panel').addEventListener('keydown', ev => { if (ev.key === 'Escape') $('pClose').click(); });
}
