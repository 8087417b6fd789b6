// The call panel: who and state, timer, the tabs (Call = notes, Info,
// Announcement, Services, Lead), hang up, and the in-call controls: hold /
// resume with a hold timer, mute, and a DTMF keypad for reaching an IVR.
// A call that came by transfer shows who sent it and the first agent's notes.
import {$, h, show, mmss, ask, replaceIfChanged} from './dom.js';
import {S, fresh, onRender, onTick, on, render, now, agentState} from './state.js';
import {act} from './api.js';
import {refresh} from './session.js';
import {keyButtons} from './dialer.js';

const STATE = {offering: 'ringing', dialing: 'dialling', connected: 'connected', ended: 'ended'};
let notesT = null, notesFor = null;
export const cancelNotesSave = () => { clearTimeout(notesT); notesT = null; };
export const notesValue = () => $('notes').value;

// ---------- events ----------
on('call', (d, type) => {
  const snap = S.snap;
  if (type === 'call.controls' || type === 'call.declined') return; // below
  if (type === 'call.notes') { if (snap.call?.interactionId === d.interactionId) snap.call.notes = d.notes; return; }
  if (snap.call?.interactionId !== d.interactionId) {
    const offer = S.ext.offer;
    S.ext = fresh(); S.ext.offer = offer; S.tab = d.campaignId == null ? 'info' : 'call';
    refresh(); // the call's recording, announcements and payment come with the snapshot
  }
  snap.call = {...d, transferredFrom: d.transferredFrom || snap.call?.transferredFrom || null};
  if (d.lead) S.ext.lead = d.lead;
});
// Hold time counts on from when the event arrived (holdSeconds is the total then).
on('call.controls', d => { if (!S.snap.call || d.interactionId === S.snap.call.interactionId) S.ext.controls = {...d, at: now()}; });
// A transfer or consult offered to me: who is sending which customer.
on('transfer.offered', d => { S.ext.offer = d; });

// ---------- controls ----------
$('hangBtn').addEventListener('click', async () => {
  if (S.ext.conference) {
    const f = await ask('Leave the conference?', [h('p', {}, 'Leave lets the others carry on; Terminate ends the call for everyone.'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'how', value: 'leave', checked: true}), 'Leave'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'how', value: 'terminate'}), 'Terminate')], 'Hang up');
    if (f) act('POST', '/agent/conference/' + f.get('how'));
    return;
  }
  act('POST', '/agent/hangup');
});
// Decline the call ringing my phone (or a transfer offered to me): it goes
// to another agent and I am Paused "Declined a call".
const decline = () => act('POST', '/agent/decline');
$('declineBtn').addEventListener('click', decline);
$('offerDecline').addEventListener('click', decline);
on('call.declined', d => { if (S.snap.call?.interactionId === d.interactionId) S.snap.call = null; });
const setControls = v => { if (v && 'held' in v) S.ext.controls = v; render(); };
$('holdBtn').addEventListener('click', async () => {
  const held = !!S.ext.controls?.held, r = await act('POST', held ? '/agent/resume' : '/agent/hold');
  if (r) { S.ext.controls = {...(S.ext.controls || {}), ...r, held: 'held' in r ? r.held : !held, heldSince: 'held' in r ? r.heldSince : held ? null : new Date(now()).toISOString(), at: now()}; render(); }
});
$('muteBtn').addEventListener('click', async () => {
  const muted = !!S.ext.controls?.muted, r = await act('POST', muted ? '/agent/unmute' : '/agent/mute');
  if (r) { S.ext.controls = {...(S.ext.controls || {}), ...r, muted: 'muted' in r ? r.muted : !muted}; render(); }
});
$('dtmfBtn').addEventListener('click', () => {
  const on = $('dtmf').hidden; show('dtmf', on); $('dtmfBtn').setAttribute('aria-expanded', on);
  if (on) $('dtmf').querySelector('button')?.focus();
});
// Keys are sent one by one, as the customer's side would hear them.
let sending = Promise.resolve();
function sendDigit(k) {
  $('dtmfSent').textContent += k;
  sending = sending.then(() => act('POST', '/agent/dtmf', {digits: k}, $('dtmfErr')));
}
$('dtmfPad').append(...keyButtons(sendDigit, 'Send '));
$('dtmf').addEventListener('keydown', e => { if (/^[0-9*#]$/.test(e.key) && !e.target.closest('input')) { sendDigit(e.key); e.preventDefault(); } });

$('notes').addEventListener('input', () => { $('notesState').textContent = 'Editing…'; clearTimeout(notesT); notesT = setTimeout(saveNotes, 700); });
$('notes').addEventListener('blur', () => { if (notesT) { clearTimeout(notesT); saveNotes(); } });
async function saveNotes() {
  notesT = null;
  const c = S.snap?.call; if (!c) return;
  const notes = $('notes').value;
  if (notes === c.notes) { $('notesState').textContent = 'Saved'; return; }
  $('notesState').textContent = 'Saving…';
  const r = await act('PUT', `/agent/calls/${encodeURIComponent(c.interactionId)}/notes`, {notes}, $('notesState'));
  if (r) { c.notes = notes; $('notesState').textContent = 'Saved'; }
}

// ---------- tabs ----------
const tabsShown = () => [...$('tabs').querySelectorAll('[role=tab]:not([hidden])')];
$('tabs').addEventListener('click', e => { const t = e.target.closest('[role=tab]'); if (t) { S.tab = t.dataset.tab; render(); t.focus(); } });
$('tabs').addEventListener('keydown', e => {
  const ts = tabsShown(), i = ts.findIndex(t => t.dataset.tab === S.tab);
  const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
  if (d) { S.tab = ts[(i + d + ts.length) % ts.length].dataset.tab; render(); $('t-' + S.tab).focus(); }
});

export function leadRows(l, campaign) {
  if (!l) return [];
  const phones = (l.phones || []).map(p => typeof p === 'string' ? p : `${p.number}${p.label ? ' (' + p.label + ')' : ''}`);
  const rows = [['Campaign', campaign], ['Name', l.name], ['Phones', phones.join(', ')], ...Object.entries(l.data || {})];
  return rows.filter(([, v]) => v != null && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]);
}

function heldMs(c) {
  if (!c) return 0;
  const base = (c.holdSeconds || 0) * 1000, from = c.at || Date.parse(c.heldSince) || now();
  return c.held ? base + Math.max(0, now() - from) : base;
}

// ---------- render ----------
onRender(s => {
  const call = s.snap?.call, st = agentState(), x = s.ext;
  // An offered transfer before its call arrives.
  const offer = x.offer;
  show('offer', !!offer && st === 'reserved' && !call?.transferredFrom);
  if (offer) $('offerText').textContent = `${offer.fromName || offer.from || 'Another agent'} is transferring ${offer.customerNumber || 'a caller'} to you.`;
  show('call', !!call);
  if (!call) { show('dtmf', false); return; }
  $('clWho').textContent = call.customerNumber || '';
  $('clState').textContent = (call.direction === 'IN' ? 'Inbound · ' : 'Outbound · ') + (STATE[call.state] || call.state);
  const talking = call.state === 'connected' && st === 'on_call';
  show('hangBtn', ['dialing', 'connected'].includes(call.state) && st !== 'on_wrap');
  show('declineBtn', call.state === 'offering' && st === 'reserved');
  $('hangBtn').textContent = call.conferenceParty ? 'Leave the call' : 'Hang up';
  // In-call controls.
  const ctl = x.controls || {};
  // A conference party (I joined another agent's call) only talks and leaves.
  show('controls', talking && !call.conferenceParty);
  $('holdBtn').textContent = ctl.held ? 'Resume' : 'Hold';
  $('holdBtn').setAttribute('aria-pressed', !!ctl.held);
  $('muteBtn').textContent = ctl.muted ? 'Unmute' : 'Mute';
  $('muteBtn').setAttribute('aria-pressed', !!ctl.muted);
  show('ctlState', !!(ctl.held || ctl.muted));
  if (!talking) show('dtmf', false);
  // Transferred to me: who from, and what the first agent wrote.
  const tf = call.transferredFrom;
  show('xfFrom', !!tf);
  if (tf) replaceIfChanged($('xfFrom'), JSON.stringify(tf), () => [
    h('strong', {}, call.conferenceParty ? `You joined ${tf.agentName || 'another agent'}’s call` : `Transferred by ${tf.agentName || 'another agent'}`), ` · ${call.customerNumber || ''}`,
    tf.ivrText ? h('div', {class: 'hint'}, 'Caller chose: ' + tf.ivrText) : null,
    h('div', {class: 'hint'}, tf.notes ? 'Their notes:' : 'No notes from the first agent.'),
    tf.notes ? h('blockquote', {id: 'xfFromNotes'}, tf.notes) : null]);
  // Tabs.
  const hasCamp = call.campaignId != null;
  const tabs = {call: hasCamp, info: true, ann: !!x.announcements?.length && call.state === 'connected', svc: (x.paymentEnabled && call.state === 'connected') || !!x.payment, lead: !!x.lead};
  if (!tabs[s.tab]) s.tab = hasCamp ? 'call' : 'info';
  for (const [k, on] of Object.entries(tabs)) {
    const t = $('t-' + k); t.hidden = !on; t.setAttribute('aria-selected', s.tab === k); t.tabIndex = s.tab === k ? 0 : -1;
    $('p-' + k).hidden = s.tab !== k;
  }
  if (notesFor !== call.interactionId) { notesFor = call.interactionId; $('notes').value = call.notes || ''; $('notesState').textContent = ''; $('dtmfSent').textContent = ''; }
  else if (document.activeElement !== $('notes') && !notesT && $('notes').value !== (call.notes || '')) $('notes').value = call.notes || '';
  const info = [['Campaign', call.campaignName || '—'], ['Interaction', call.interactionId], ['Type', call.direction],
    ['Customer', call.customerNumber], ['Platform', call.platformNumber], ['IVR text', call.ivrText], ['IVR data', call.ivrData],
    ['Time in queue', call.direction === 'IN' ? mmss(call.timeInQueueMs || 0) : '—'],
    ...(tf ? [['Transferred by', tf.agentName], ['First interaction', tf.interactionId]] : []),
    ...(call.endReason ? [['Ended', call.endReason]] : [])];
  replaceIfChanged($('info'), JSON.stringify(info), () => info.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v || '—')]));
  if (x.lead) replaceIfChanged($('lead'), JSON.stringify(x.lead), () => leadRows(x.lead));
  if (x.announcements) $('annList').replaceChildren(...x.announcements.map(a => {
    const on = x.playing === a.id;
    return h('li', {}, h('span', {}, a.name + (on ? ' (playing)' : '')),
      h('button', {type: 'button', disabled: x.playing != null && !on, onclick: () => act('POST', on ? '/agent/announcements/stop' : `/agent/announcements/${encodeURIComponent(a.id)}/play`)}, on ? 'Stop' : 'Play'));
  }));
});
on('announcement', (d, type) => { S.ext.playing = type === 'announcement.started' ? d.id : null; });

onTick(s => {
  const c = s.snap.call;
  if (c) $('clTimer').textContent = c.connectedAt ? mmss((c.endedAt ? Date.parse(c.endedAt) : now()) - Date.parse(c.connectedAt)) : '';
  const ctl = s.ext.controls;
  if (ctl && (ctl.held || ctl.muted)) {
    $('ctlState').textContent = [ctl.held ? `On hold ${mmss(heldMs(ctl))}` : '', ctl.muted ? 'Muted: the customer cannot hear you' : ''].filter(Boolean).join(' · ');
  }
  $('holdTotal').textContent = ctl && (ctl.holdSeconds || ctl.held) ? 'Hold time this call: ' + mmss(heldMs(ctl)) : '';
});
