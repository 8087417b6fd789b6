// One call: what happened, who handled it, transfers and parties, notes,
// wrap, the agent's state changes, payment outcomes and the recordings.
import {$, api, el, dur, when, showErr} from './api.js';
import {player} from './player.js';

const dir = d => d === 'IN' ? 'Inbound' : 'Outbound';
const facts = pairs => el('dl', {class: 'facts'}, pairs.filter(p => p[1] !== '' && p[1] != null).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
const list = (title, items, fmt) => items.length ? [el('h4', {}, title), el('ul', {}, items.map(i => el('li', {}, fmt(i))))] : [];
const money = p => `${(p.amountMinor / 100).toFixed(2)} ${p.currency}`;

export async function showDetail(id) {
  const box = $('detail');
  let d;
  try { d = await api('GET', '/history/interactions/' + encodeURIComponent(id)); } catch (e) { if (e.status !== 401) showErr(e.message); return; }
  box.replaceChildren(
    el('h2', {id: 'dTitle'}, `${dir(d.direction)} call with ${d.customerNumber || 'an unknown number'}`),
    facts([['When', when(d.createdAt)], ['Campaign', d.campaignName], ['Agent', d.agentName], ['Outcome', d.endReason || d.state],
      ['Waited', d.queuedAt ? dur(d.queueMs) : ''], ['Talk', d.connectedAt ? dur(d.talkMs) : ''], ['Hold', d.holdMs ? dur(d.holdMs) : ''],
      ['Wrap code', d.wrapCode], ['Notes', d.notes], ['IVR', d.ivrText], ['Call id', d.id]]),
    ...d.recordings.map(r => player(r)),
    ...list('Legs', d.legs, l => `${l.role} ${l.endpoint || ''}: ${when(l.startedAt)}${l.answeredAt ? ', answered' : ', not answered'}${l.endedAt ? ', ended ' + when(l.endedAt) : ''}`),
    ...list('Transfers and conference', d.transfers, t => `${t.mode.replace('_', ' ')} to ${t.target} (${t.targetType}): ${t.state}`),
    ...list('Later legs of this call', d.children, c => `${c.agentName || 'no agent'}: ${c.state}${c.connectedAt ? ', talk ' + dur(c.talkMs) : ''}`),
    ...list('Agent state', d.agentStates, s => `${when(s.at)}: ${s.from || '—'} → ${s.to}${s.reason ? ' (' + s.reason + ')' : ''}`),
    ...list('Payments', d.payments, p => `${money(p)} ${p.approved ? 'approved' : 'declined' + (p.declineReason ? ': ' + p.declineReason : '')}` +
      `${p.cardBrand ? ' · ' + p.cardBrand : ''}${p.cardLast4 ? ' ending ' + p.cardLast4 : ''}${p.reference ? ' · ref ' + p.reference : ''}`),
    ...list('Supervisor', d.monitoring, m => `${when(m.at)}: ${m.supervisorName} ${m.action.replace('_', ' ')}${m.reason ? ' (' + m.reason + ')' : ''}`),
    el('button', {type: 'button', class: 'secondary', onclick: () => { box.hidden = true; document.querySelector(`[data-id="${CSS.escape(id)}"]`)?.focus(); }}, 'Close'));
  box.hidden = false;
  box.focus();
}
