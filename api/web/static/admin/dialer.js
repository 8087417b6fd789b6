// The campaign's settings as a form: the dialler ("dialer" key: mode,
// pacing limits, calling window…), the conference limit, and the rest as
// JSON for what has no form yet (payment gateway). Each field has help
// text; the server's problem for settings.dialer.<field> is shown next to it.
import {h} from './admin.js';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
// [key, label, type, help, extra]
const FIELDS = [
  ['mode', 'Dialling mode', 'select', 'Preview: the agent sees the lead and chooses the number. Progressive: one call per free agent. Predictive: dials ahead of agents becoming free (needs persistent phone connections).', {options: ['', 'preview', 'progressive', 'predictive']}],
  ['active', 'Dialling on', 'bool', 'Off pauses the dialling of this campaign; callbacks still run.'],
  ['previewTimeoutSeconds', 'Preview time (seconds)', 'number', 'How long a preview waits for the agent before the first number is dialled. 0: never dial on its own.'],
  ['maxAbandonRate', 'Most abandoned calls (%)', 'percent', 'The cap on abandoned calls as a share of answered ones (Ofcom: 3 %).'],
  ['abandonWindowMinutes', 'Abandon rate over (minutes)', 'number', 'The period the abandon rate is measured over (default 1440, one day).'],
  ['abandonMessage', 'Abandon message', 'text', 'What an answered contact hears when no agent is free, e.g. sound:ss-noservice.'],
  ['maxAttempts', 'Most attempts per lead', 'number', 'Dials of a lead, across all its numbers, before it is given up (default 3).'],
  ['ringSeconds', 'Ring time (seconds)', 'number', 'How long a number rings before giving up; at least 15 (default 25).'],
  ['callingWindow', 'Calling hours', 'window', 'When leads may be called, in each lead’s own time zone.'],
  ['timeZone', 'Time zone', 'text', 'For leads whose zone is unknown, e.g. Europe/London (default: the zone of the campaign’s region).'],
  ['callbackGraceSeconds', 'Callback grace (seconds)', 'number', 'How long a due callback waits for its agent before anyone on the campaign may take it (default 300).'],
];
const fid = k => 'f-dialer-' + k;
// dialerErrorField maps a problem's field (settings.dialer.callingWindow.start) to its error element id.
export function dialerErrorField(field) {
  const m = /^settings\.dialer\.([A-Za-z]+)/.exec(field || '');
  return m ? fid(m[1]) + '-err' : /^settings/.test(field || '') ? 'f-settings-err' : '';
}

export function dialerFields(settings) {
  const d = settings.dialer || {}, rest = {...settings};
  delete rest.dialer; delete rest.maxConferenceParties;
  const rows = FIELDS.map(([k, label, type, help, x = {}]) => {
    const id = fid(k), v = d[k], desc = {'aria-describedby': id + '-help'};
    let inp;
    if (type === 'bool') {
      return h('div', {}, h('label', {class: 'opt'}, h('input', {type: 'checkbox', id, checked: v !== false, ...desc}), label),
        h('div', {class: 'hint', id: id + '-help'}, help), h('div', {class: 'ferr', id: id + '-err'}));
    }
    if (type === 'select') inp = h('select', {id, ...desc}, x.options.map(o => h('option', {value: o, selected: (v || '') === o}, o || '(not a dialler campaign)')));
    else if (type === 'window') {
      const w = v || {};
      inp = h('div', {class: 'grid2'},
        h('label', {for: id + '-start'}, 'From'), h('label', {for: id + '-end'}, 'Until'),
        h('input', {id: id + '-start', type: 'time', value: w.start || '', ...desc}), h('input', {id: id + '-end', type: 'time', value: w.end || '', ...desc}),
        h('fieldset', {class: 'days'}, h('legend', {}, 'Days'), DAYS.map((n, i) =>
          h('label', {class: 'opt'}, h('input', {type: 'checkbox', name: 'dialer-day', value: i + 1, checked: (w.days || [1, 2, 3, 4, 5, 6, 7]).includes(i + 1)}), n))));
    } else {
      const val = type === 'percent' ? (v != null ? Math.round(v * 10000) / 100 : '') : v ?? '';
      inp = h('input', {id, type: type === 'text' ? 'text' : 'number', step: type === 'percent' ? '0.1' : '1', min: 0, value: val, autocomplete: 'off', ...desc});
    }
    return h('div', {}, h('label', {for: type === 'window' ? id + '-start' : id}, label), inp,
      h('div', {class: 'hint', id: id + '-help'}, help), h('div', {class: 'ferr', id: id + '-err'}));
  });
  const conf = h('input', {id: 'f-maxConferenceParties', type: 'number', min: 1, max: 10, value: settings.maxConferenceParties ?? '', placeholder: '3', 'aria-describedby': 'f-maxConferenceParties-help'});
  const json = h('textarea', {id: 'f-settings', rows: 3, 'aria-describedby': 'f-settings-help'});
  json.value = Object.keys(rest).length ? JSON.stringify(rest, null, 1) : '';
  return [h('fieldset', {class: 'dialer'}, h('legend', {}, 'Dialler'), ...rows),
    h('label', {for: 'f-maxConferenceParties'}, 'Most extra conference parties'), conf,
    h('div', {class: 'hint', id: 'f-maxConferenceParties-help'}, 'How many people an agent may add to a call besides the customer and themself (default 3).'),
    h('div', {class: 'ferr', id: 'f-maxConferenceParties-err'}),
    h('label', {for: 'f-settings'}, 'Other settings (JSON)'), json,
    h('div', {class: 'hint', id: 'f-settings-help'}, 'For settings without a form yet, e.g. {"payment":{"kind":"sandbox","currency":"GBP"}}.'),
    h('div', {class: 'ferr', id: 'f-settings-err'})];
}

// collectDialer reads the form back into campaign settings; a malformed
// value throws an Error whose field names the element to show it at.
export function collectDialer(form, old) {
  const q = id => form.querySelector('#' + id), bad = (k, m) => Object.assign(new Error(m), {field: fid(k) + '-err'});
  let out = {};
  const raw = q('f-settings').value.trim();
  if (raw) {
    try { out = JSON.parse(raw); } catch { throw Object.assign(new Error('This is not valid JSON; check the quotes and braces.'), {field: 'f-settings-err'}); }
    if (typeof out !== 'object' || Array.isArray(out) || !out) throw Object.assign(new Error('Write an object in braces, e.g. {"payment":{…}}.'), {field: 'f-settings-err'});
  }
  const d = {...(old.dialer || {})};
  for (const [k, , type] of FIELDS) {
    if (type === 'bool') { d[k] = q(fid(k)).checked; continue; }
    if (type === 'window') {
      const start = q(fid(k) + '-start').value, end = q(fid(k) + '-end').value, days = [...form.querySelectorAll('input[name=dialer-day]:checked')].map(i => Number(i.value));
      if (!start && !end) { delete d[k]; continue; }
      if (!start || !end) throw bad(k, 'Give both the start and the end of the calling hours.');
      if (start >= end) throw bad(k, 'The calling hours must end after they start.');
      if (!days.length) throw bad(k, 'Choose at least one day.');
      d[k] = {start, end, days};
      continue;
    }
    const v = q(fid(k)).value.trim();
    if (v === '') { delete d[k]; continue; }
    if (type === 'text' || type === 'select') { d[k] = v; continue; }
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw bad(k, 'Enter a number, 0 or more.');
    d[k] = type === 'percent' ? n / 100 : Math.round(n);
  }
  if (!d.mode) { for (const k of Object.keys(d)) if (k !== 'active') delete d[k]; }
  if (d.mode) out.dialer = d;
  const mc = q('f-maxConferenceParties').value.trim();
  if (mc !== '') {
    const n = Number(mc);
    if (!Number.isInteger(n) || n < 1) throw Object.assign(new Error('Enter a whole number, 1 or more.'), {field: 'f-maxConferenceParties-err'});
    out.maxConferenceParties = n;
  }
  return out;
}
