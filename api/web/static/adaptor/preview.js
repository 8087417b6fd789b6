// Preview dialling (and callbacks that are due, offered the same way): the
// lead, one button per number saying which it is (mobile, home, work), Skip
// with a reason ("Do not call" puts the number on the campaign's list),
// Pause (returns the lead), and the countdown to the automatic dial.
import {$, h, show, ask, mmss, replaceIfChanged} from './dom.js';
import {S, onRender, onTick, on, render, now} from './state.js';
import {act} from './api.js';
import {leadRows} from './call.js';
import {inPreview, pauseNow} from './statusbar.js';

on('preview', (d, type) => { S.ext.preview = type === 'preview.offered' ? d : null; });

// numbers: [{number, label}] (lead.phones as plain strings from older servers).
export function previewNumbers(pv) {
  if (pv.numbers?.length) return pv.numbers.map(n => typeof n === 'string' ? {number: n} : n);
  return (pv.lead?.phones || []).map(p => typeof p === 'string' ? {number: p} : p);
}
const LABELS = {mobile: 'mobile', home: 'home', work: 'work', other: 'other'};

async function callNumber(n) {
  const r = await act('POST', '/agent/preview/dial', {number: n});
  if (r?.interactionId) { S.ext.preview = null; if (!S.snap.call) S.snap.call = r; render(); }
}
$('pvSkip').addEventListener('click', async () => {
  const f = await ask('Skip this lead', [h('label', {for: 'pvReason'}, 'Reason'), h('select', {id: 'pvReason', name: 'reason'},
    ['Not now', 'Wrong number', 'Do not call', 'Other'].map(r => h('option', {value: r}, r))),
  h('p', {class: 'hint'}, '“Do not call” puts the number on the campaign’s do-not-call list.')], 'Skip');
  if (f && await act('POST', '/agent/preview/skip', {reason: f.get('reason')}) !== null) { S.ext.preview = null; render(); }
});
$('pvPause').addEventListener('click', pauseNow);

onRender(s => {
  const pv = inPreview() ? s.ext.preview : null;
  show('preview', !!pv);
  if (!pv) return;
  $('pvTitle').textContent = pv.kind === 'callback' ? 'Callback due' : 'Preview';
  replaceIfChanged($('pvLead'), JSON.stringify([pv.lead, pv.note]), () => [...leadRows(pv.lead, pv.campaignName),
    ...(pv.note ? [h('dt', {}, 'Note'), h('dd', {}, pv.note)] : [])]);
  replaceIfChanged($('pvNums'), JSON.stringify(previewNumbers(pv)), () => previewNumbers(pv).map(n => h('button', {type: 'button', class: 'call',
    onclick: () => callNumber(n.number)}, `Call ${LABELS[n.label] ? LABELS[n.label] + ' ' : ''}${n.number}`)));
});
onTick(s => {
  const dl = Date.parse(s.ext.preview?.deadline);
  $('pvCount').textContent = dl > 0 ? mmss(dl - now()) : '';
  $('pvCount').title = dl > 0 ? 'The first number is dialled automatically in ' + $('pvCount').textContent : '';
});
