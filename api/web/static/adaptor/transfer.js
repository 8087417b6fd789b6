// Transfers: the dialog to pick a target — the agent directory (search by
// name, live state from directory.presence), the admin's quick connects, a
// campaign's queue, or a typed number / workflow — blind or consult first;
// then the consult panel (Transfer, Conference, Cancel).
import {$, h, show, mmss, ask} from './dom.js';
import {S, onRender, on, render, agentState} from './state.js';
import {api, act, showErr} from './api.js';

const STATE_CLASS = {'Ready': 'ready', 'Paused': 'paused', 'On Call': 'busy', 'On Wrap': 'busy', 'Logged out': 'off'};
let dir = null, dirErr = '', query = '', searchT = null;

export async function loadDirectory(q = query) {
  try { dir = await api('GET', '/agent/directory' + (q ? '?q=' + encodeURIComponent(q) : '')) || {}; dirErr = ''; }
  catch (e) { dirErr = e.status === 404 ? 'The agent directory is not available on this server.' : e.message; dir = dir || {}; }
  drawDirectory();
}
// Another agent's state changed: keep an open directory live.
on('directory.presence', d => {
  const a = dir?.agents?.find(x => x.id === d.id);
  if (a) { a.state = d.state; a.reason = d.reason; a.sinceSeconds = 0; a.since = Date.now(); drawDirectory(); }
});

const matches = a => !query || (a.displayName + ' ' + a.username).toLowerCase().includes(query.toLowerCase());
function pick(value, label, ...extra) {
  return h('li', {}, h('label', {class: 'opt pick'}, h('input', {type: 'radio', name: 'pick', value}), h('span', {class: 'pname'}, label), ...extra));
}
function drawDirectory() {
  const box = $('xfAgents'); if (!box) return;
  const keep = document.querySelector('input[name=pick]:checked')?.value;
  const agents = (dir?.agents || []).filter(matches);
  box.replaceChildren(...agents.map(a => {
    const secs = a.since ? Math.round((Date.now() - a.since) / 1000) : a.sinceSeconds;
    return pick('agent:' + a.id, a.displayName || a.username,
      h('span', {class: 'badge st ' + (STATE_CLASS[a.state] || ''), 'data-agent': a.id}, a.state + (a.reason ? ' – ' + a.reason : '')),
      secs != null ? h('small', {class: 'since'}, mmss(secs * 1000)) : null);
  }));
  if (!agents.length) box.append(h('li', {class: 'hint'}, dirErr || (dir ? (query ? `No agent matches “${query}”.` : 'No other agents on your campaigns.') : 'Loading…')));
  const qc = dir?.quickConnects || [], qs = dir?.queues || [];
  $('xfQuick').replaceChildren(...qc.map(q => pick(`${q.type}:${q.target}`, q.name, h('small', {class: 'hint'}, q.targetLabel || q.target))));
  show('xfQuickBox', qc.length > 0);
  $('xfQueues').replaceChildren(...qs.map(q => pick('queue:' + q.campaignId, q.name + ' queue', h('small', {class: 'hint'}, `${q.waiting || 0} waiting`))));
  show('xfQueuesBox', qs.length > 0);
  const again = keep && document.querySelector(`input[name=pick][value="${CSS.escape(keep)}"]`);
  if (again) again.checked = true;
}

export async function openTransfer() {
  const conf = !!S.ext.conference, wfs = S.snap?.workflows || [];
  query = '';
  const manual = () => { const m = document.querySelector('input[name=pick][value=manual]'); if (m) m.checked = true; };
  const f = await ask(conf ? 'Add to the conference' : 'Transfer', [
    conf ? null : h('fieldset', {}, h('legend', {}, 'How'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'mode', value: 'blind', checked: true}), 'Transfer now'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'mode', value: 'consult'}), 'Consult first')),
    h('label', {for: 'xfSearch'}, 'Agents'),
    h('input', {id: 'xfSearch', type: 'search', placeholder: 'Search by name', autocomplete: 'off', oninput: e => {
      query = e.target.value.trim(); drawDirectory(); clearTimeout(searchT); searchT = setTimeout(() => loadDirectory(query), 300); }}),
    h('ul', {id: 'xfAgents', class: 'list picks', 'aria-label': 'Agents'}),
    h('div', {id: 'xfQuickBox', hidden: true}, h('h3', {}, 'Quick connects'), h('ul', {id: 'xfQuick', class: 'list picks'})),
    h('div', {id: 'xfQueuesBox', hidden: true}, h('h3', {}, 'Queues'), h('ul', {id: 'xfQueues', class: 'list picks'})),
    h('h3', {}, 'Other'),
    h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'pick', value: 'manual', checked: true}), 'Type a number, workflow or username'),
    h('label', {for: 'xfType', class: 'sr'}, 'Kind'),
    h('select', {id: 'xfType', name: 'type', onchange: e => { manual(); $('xfTarget').setAttribute('list', e.target.value === 'workflow' ? 'xfWfs' : ''); $('xfTarget').inputMode = e.target.value === 'number' ? 'tel' : 'text'; }},
      h('option', {value: 'number'}, 'Phone number'), wfs.length ? h('option', {value: 'workflow'}, 'Workflow') : null, h('option', {value: 'agent'}, 'Agent username')),
    h('label', {for: 'xfTarget', class: 'sr'}, 'Number, workflow or username'),
    h('input', {id: 'xfTarget', name: 'target', autocomplete: 'off', oninput: manual, onfocus: manual}),
    h('datalist', {id: 'xfWfs'}, wfs.map(w => h('option', {value: w})))],
  conf ? 'Add' : 'Transfer', async fd => {
    const p = fd.get('pick') || 'manual';
    let type, target;
    if (p === 'manual') { type = fd.get('type'); target = (fd.get('target') || '').trim(); if (!target) return 'Choose who to transfer to, or type a number.'; }
    else { const i = p.indexOf(':'); type = p.slice(0, i); target = p.slice(i + 1); }
    try {
      const v = await api('POST', '/agent/transfer', {type, target: type === 'agent' && /^\d+$/.test(target) ? Number(target) : target, mode: fd.get('mode') || 'blind'});
      if (v?.state && v.state !== 'conferenced') S.ext.transfer = v;
    } catch (e) { return e.message; }
  });
  if (f) render();
}
$('xfOpen').addEventListener('click', () => { dir = null; openTransfer(); drawDirectory(); loadDirectory(''); });

const xfAct = async a => { const v = await act('POST', '/agent/transfer/' + a); if (v) { S.ext.transfer = ['ringing', 'consulting'].includes(v.state) ? v : null; render(); } };
$('xfComplete').addEventListener('click', () => xfAct('complete'));
$('xfMerge').addEventListener('click', () => xfAct('merge'));
$('xfCancel').addEventListener('click', () => xfAct('cancel'));

on('transfer.state', d => {
  S.ext.transfer = ['ringing', 'consulting'].includes(d.state) ? d : null;
  if (d.state === 'failed') showErr('The transfer did not go through; you are back with the customer.' + (/^[A-Z][^:]*[.!?]$/.test(d.detail || '') ? ' ' + d.detail : ''));
});

onRender(s => {
  const call = s.snap?.call; if (!call) return;
  const x = s.ext.transfer, cf = s.ext.conference, talking = call.state === 'connected' && agentState() === 'on_call';
  show('xfOpen', talking && !call.conferenceParty && !x && !s.ext.payment && (!cf || cf.parties.length < cf.max));
  $('xfOpen').textContent = cf ? 'Add party…' : 'Transfer…';
  show('xfer', !!x || !!cf);
  if (x) $('xfState').textContent = (x.state === 'ringing' ? 'Calling ' : 'Consulting ') + (x.targetLabel || x.target || '') + (x.mode === 'blind' ? ' (transferring now)' : '') + (x.state === 'consulting' ? ' — the customer hears music.' : '');
  else if (cf) $('xfState').textContent = `Conference: you, the customer and ${cf.parties.length} more (${cf.parties.length} of ${cf.max})`;
  show('xfComplete', !!x && x.mode === 'consult'); show('xfMerge', !!x && x.mode === 'consult' && x.state === 'consulting'); show('xfCancel', !!x && x.mode !== 'blind');
});
