// Callbacks: schedule one for myself or the campaign's queue at a time in
// the customer's time zone; see mine and cancel them. A callback that is
// due is offered like a preview (preview.js, kind "callback").
import {$, h, show, ask} from './dom.js';
import {S, onRender, idle, screen, render} from './state.js';
import {api, act, showErr} from './api.js';
import {addMenuItem} from './statusbar.js';

let mine = null, loadedFor = null, unavailable = false; // unavailable: the server has no dialler (503)

// The UTC instant of a wall-clock time "YYYY-MM-DDTHH:MM" in zone tz.
export function zonedInstant(local, tz) {
  const [d, t] = local.split('T'), [y, mo, da] = d.split('-').map(Number), [hh, mm] = t.split(':').map(Number);
  const want = Date.UTC(y, mo - 1, da, hh, mm);
  const offset = at => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'}).formatToParts(at).map(x => [x.type, x.value]));
    return Date.UTC(+p.year, p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - at;
  };
  let at = want - offset(want);
  at = want - offset(at); // again across a DST change
  return new Date(at);
}
const rfc3339 = d => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const zones = () => { try { return Intl.supportedValuesOf('timeZone'); } catch { return []; } };
const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
function fmtIn(at, tz) {
  try { return new Intl.DateTimeFormat(undefined, {timeZone: tz, dateStyle: 'medium', timeStyle: 'short'}).format(new Date(at)) + ' ' + tz; }
  catch { return new Date(at).toLocaleString(); }
}

export async function loadCallbacks() {
  try { mine = await api('GET', '/agent/callbacks') || []; unavailable = false; }
  catch (e) { mine = mine || []; unavailable = e.status === 503; if (e.status && e.status !== 503) showErr(e.message); }
  render();
  draw();
}

export async function scheduleCallback() {
  const c = S.snap?.call, camps = S.snap?.campaigns || [];
  const soon = new Date(Date.now() + 3600e3), pad = n => String(n).padStart(2, '0');
  const dflt = `${soon.getFullYear()}-${pad(soon.getMonth() + 1)}-${pad(soon.getDate())}T${pad(soon.getHours())}:00`;
  const f = await ask('Schedule a callback', [
    h('label', {for: 'cbNumber'}, 'Number'), h('input', {id: 'cbNumber', name: 'number', inputmode: 'tel', value: c?.customerNumber || '', required: true}),
    h('label', {for: 'cbWhen'}, 'When (customer’s time)'), h('input', {id: 'cbWhen', name: 'when', type: 'datetime-local', value: dflt, required: true}),
    h('label', {for: 'cbZone'}, 'Customer’s time zone'), h('input', {id: 'cbZone', name: 'timeZone', list: 'cbZones', value: localZone(), autocomplete: 'off'}),
    h('datalist', {id: 'cbZones'}, zones().map(z => h('option', {value: z}))),
    h('fieldset', {}, h('legend', {}, 'Who calls back'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'owner', value: 'me', checked: true}), 'Me'),
      h('label', {class: 'opt'}, h('input', {type: 'radio', name: 'owner', value: 'queue'}), 'Anyone on the campaign')),
    h('label', {for: 'cbCamp'}, 'Campaign'), h('select', {id: 'cbCamp', name: 'campaignId'},
      camps.map(x => h('option', {value: x.id, selected: x.id === c?.campaignId}, x.name))),
    h('label', {for: 'cbNote'}, 'Note'), h('input', {id: 'cbNote', name: 'note', autocomplete: 'off'})],
  'Schedule', async fd => {
    const number = (fd.get('number') || '').trim(), when = fd.get('when'), tz = (fd.get('timeZone') || '').trim() || localZone();
    if (!number) return 'Enter the number to call back.';
    if (!when) return 'Choose when to call back.';
    let at;
    try { at = zonedInstant(when, tz); } catch { return `“${tz}” is not a time zone; pick one from the list, e.g. Europe/London.`; }
    if (at < Date.now()) return 'That time has already passed in the customer’s time zone.';
    const base = {number, campaignId: fd.get('campaignId') ? Number(fd.get('campaignId')) : undefined, note: fd.get('note') || ''};
    try { await api('POST', '/agent/callbacks', {...base, when: rfc3339(at), timeZone: tz, owner: fd.get('owner')}); }
    catch (e) {
      // A server from before the refined contract takes dueAt / forQueue.
      if (e.status !== 400 || !/unknown field/i.test(e.problem?.detail || '')) return e.message;
      try { await api('POST', '/agent/callbacks', {...base, dueAt: rfc3339(at), forQueue: fd.get('owner') === 'queue'}); } catch (e2) { return e2.message; }
    }
  });
  if (f) { $('cbMsg').textContent = 'Callback scheduled.'; loadCallbacks(); }
}

async function cancel(cb) {
  if (!await ask('Cancel this callback?', [h('p', {}, `${cb.name || cb.number}, ${fmtIn(cb.dueAt, cb.timeZone)}`)], 'Cancel callback')) return;
  if (await act('DELETE', '/agent/callbacks/' + cb.id) !== null) { $('cbMsg').textContent = 'Callback cancelled.'; loadCallbacks(); }
}

function draw() {
  const list = $('cbList');
  $('cbCount').textContent = mine ? `(${mine.length})` : '';
  if (!mine) return;
  list.replaceChildren(...mine.map(cb => h('li', {},
    h('span', {}, h('strong', {}, cb.name || cb.number), h('br'), h('small', {}, fmtIn(cb.dueAt, cb.timeZone) + (cb.agentId == null ? ' · queue' : '') + (cb.note ? ' · ' + cb.note : ''))),
    h('button', {type: 'button', 'aria-label': 'Cancel callback to ' + (cb.name || cb.number), onclick: () => cancel(cb)}, 'Cancel'))));
  if (!mine.length) list.append(h('li', {class: 'hint'}, 'No callbacks scheduled.'));
}

$('cbNew').addEventListener('click', scheduleCallback);
$('cbCall').addEventListener('click', scheduleCallback);
$('callbacks').addEventListener('toggle', () => { if ($('callbacks').open) loadCallbacks(); });
addMenuItem('Schedule a callback…', scheduleCallback, () => !!S.snap && !unavailable);

onRender(s => {
  const main = screen() === 'main';
  show('callbacks', main && idle() && !unavailable);
  show('cbCall', !unavailable && !!s.snap?.call && s.snap.call.state !== 'offering');
  if (main && loadedFor !== s.snap.agentId) { loadedFor = s.snap.agentId; loadCallbacks(); }
  if (!main) loadedFor = null;
});
