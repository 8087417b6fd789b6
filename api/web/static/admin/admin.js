// ctid admin pages: one schema-driven list + editor per resource, against
// /api/v1/admin/*. Admin role required (the server enforces it). The
// campaign editor has a dialler settings form (dialer.js), the do-not-call
// page and lead-list browsing live in lists.js, a supervisor's campaigns
// in supervisors.js.
import {sentence} from '../adaptor/text.js';
import {API, client} from '../shared/api.js';
import {dialerFields, collectDialer, dialerErrorField} from './dialer.js';
import {dncPage, leadListRow} from './lists.js';
import {supervisorCampaigns} from './supervisors.js';
import './phones.js'; // the Phones section (adds its own nav button)
export const $ = id => document.getElementById(id);
const TK = 'ctid.token';
let token = sessionStorage.getItem(TK), res = 'campaigns', rows = [], cur = null, users = [];

const R = {
  campaigns: {title: 'Campaigns', cols: ['name', 'kind', 'platformNumber'], update: 'PUT', fields: [
    ['name', 'Name', 'text', {required: true}], ['kind', 'Kind', 'select', {options: ['inbound', 'outbound']}],
    ['platformNumber', 'Platform number (caller id)', 'text'], ['defaultRegion', 'Default region (e.g. GB)', 'text'],
    ['dids', 'DIDs (one per line)', 'list'], ['wrapCodes', 'Wrap codes (CODE | Label per line)', 'codes'],
    ['defaultWrapCode', 'Default wrap code', 'text'], ['wrapLimitSeconds', 'Auto-wrap after (s, 0 = off)', 'number'],
    ['extendWrapSeconds', 'Extend wrap by (s, 0 = off)', 'number'], ['recording', 'Record calls', 'bool'],
    ['maxQueueSeconds', 'Max queue wait (s)', 'number'], ['overflowContext', 'Overflow context', 'text'],
    ['overflowExtension', 'Overflow extension', 'text'], ['paymentEnabled', 'Payments enabled', 'bool'],
    ['settings', 'Settings', 'settings'], ['agentIds', 'Agents', 'agents']]},
  users: {title: 'Agents & users', cols: ['username', 'displayName', 'role', 'disabled'], update: 'PATCH', del: 'Disable', fields: [
    ['username', 'Username', 'text', {required: true, createOnly: true}], ['password', 'Password (leave empty to keep)', 'password'],
    ['displayName', 'Display name', 'text'], ['role', 'Role', 'select', {options: ['agent', 'supervisor', 'admin']}],
    ['defaultPhone', 'Default phone', 'text'], ['manualCallWhenPaused', 'Manual calls while Paused', 'bool'],
    ['transferWhenPaused', 'Receive transfers while Paused', 'bool'], ['recordingControl', 'May pause/resume recording', 'bool'],
    ['disabled', 'Disabled', 'bool']]},
  'quick-connects': {title: 'Quick connects', cols: ['name', 'type', 'target'], update: 'PUT', fields: [
    ['name', 'Name', 'text', {required: true, help: 'What agents see in the transfer list, e.g. “Billing desk”.'}],
    ['type', 'Type', 'select', {options: ['agent', 'queue', 'workflow', 'number'], help: 'agent: a username; queue: a campaign id; workflow: a workflow name; number: a phone number.'}],
    ['target', 'Target', 'text', {required: true, help: 'The username, campaign id, workflow name or phone number (E.164 or national).'}]]},
  'pause-reasons': {title: 'Pause reasons', cols: ['name', 'system'], update: 'PUT', fields: [['name', 'Name', 'text', {required: true}]]},
  workflows: {title: 'Workflows', cols: ['name', 'context', 'extension', 'priority'], update: 'PUT', fields: [
    ['name', 'Name', 'text', {required: true}], ['context', 'Dialplan context', 'text', {required: true}],
    ['extension', 'Extension', 'text', {required: true}], ['priority', 'Priority', 'number']]},
};

export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k != null) e.append(k);
  return e;
}
export function showErr(m) { $('err').textContent = m ? sentence(m) : ''; $('err').hidden = !m; }
// The shared fetch wrapper (../shared/api.js) with the admin page's token,
// and a 401 logging the admin out (once: logout's own request, sent with
// no token, answers 401 too).
export const api = client({token: () => token, onExpired: () => { if (token) logout(); },
  message: (p, status) => sentence(p.detail || p.title || `The server answered ${status}`)});

$('login').addEventListener('submit', async e => {
  e.preventDefault();
  const u = $('lgUser').value.trim(), p = $('lgPass').value;
  if (!u || !p) { $('lgErr').textContent = !u ? 'Enter your username.' : 'Enter your password.'; return; }
  try {
    const r = await api('POST', '/auth/login', {username: u, password: p});
    if (r.user?.role !== 'admin') { $('lgErr').textContent = 'This account is not an administrator.'; return; }
    token = r.token; sessionStorage.setItem(TK, token); sessionStorage.setItem('ctid.admin', r.user.displayName || r.user.username);
    start();
  } catch (err) { $('lgErr').textContent = err.message; }
});
function logout() { api('POST', '/auth/logout').catch(() => {}); token = null; sessionStorage.removeItem(TK); $('app').hidden = true; $('login').hidden = false; $('out').hidden = true; }
$('out').addEventListener('click', logout);
document.querySelector('nav').addEventListener('click', e => { const b = e.target.closest('button'); if (b) { res = b.dataset.r; cur = null; load(); } });

async function start() {
  $('login').hidden = true; $('app').hidden = false; $('out').hidden = false; $('who').textContent = sessionStorage.getItem('ctid.admin') || '';
  load();
}
async function load() {
  const want = res;
  showErr('');
  for (const b of document.querySelectorAll('nav button')) b.setAttribute('aria-current', b.dataset.r === res ? 'page' : 'false');
  if (res === 'dnc') { $('edit').replaceChildren(); $('list').replaceChildren(await dncPage()); return; }
  try {
    rows = await api('GET', '/admin/' + res) || [];
    if (res === 'campaigns') users = await api('GET', '/admin/users').catch(() => []) || [];
  } catch (e) { rows = []; showErr(e.message); }
  // The admin may have gone to another screen (Phones, another list) while
  // this one loaded: do not draw over it.
  const now = document.querySelector('nav button[aria-current="page"]');
  if (!now || now.dataset.r !== want) return;
  drawList(); drawEdit();
}
function drawList() {
  const d = R[res];
  $('list').replaceChildren(h('h1', {}, d.title), h('button', {class: 'primary', type: 'button', onclick: () => { cur = {}; drawEdit(); $('edit').querySelector('input,select,textarea')?.focus(); }}, 'New'),
    h('table', {}, h('thead', {}, h('tr', {}, d.cols.map(c => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, rows.map(r => h('tr', {class: cur?.id === r.id ? 'sel' : null, tabindex: 0,
        onclick: () => pick(r), onkeydown: e => { if (e.key === 'Enter') pick(r); }},
      d.cols.map(c => h('td', {}, fmt(r[c]))))))));
}
function fmt(v) { return v === true ? 'yes' : v === false ? '' : Array.isArray(v) ? v.join(', ') : String(v ?? ''); }
async function pick(r) {
  cur = r;
  if (res === 'campaigns' || res === 'users' || res === 'workflows') cur = await api('GET', `/admin/${res}/${r.id}`).catch(() => r) || r;
  drawList(); drawEdit();
}

function drawEdit() {
  const d = R[res], e = $('edit');
  if (!cur) { e.replaceChildren(h('p', {class: 'hint'}, 'Pick a row or press New.')); return; }
  const isNew = cur.id == null, ro = res === 'pause-reasons' && cur.system;
  const form = h('form', {novalidate: true});
  for (const [k, label, type, o = {}] of d.fields) {
    const id = 'f-' + k, v = cur[k];
    let inp;
    if (type === 'bool') { form.append(h('label', {class: 'opt'}, inp = h('input', {type: 'checkbox', id, name: k, checked: !!v}), label)); continue; }
    if (type === 'agents') {
      const ids = new Set(v || []);
      form.append(h('fieldset', {}, h('legend', {}, label), users.filter(u => u.role !== 'admin' || ids.has(u.id)).map(u =>
        h('label', {class: 'opt'}, h('input', {type: 'checkbox', name: k, value: u.id, checked: ids.has(u.id)}), u.displayName || u.username))));
      continue;
    }
    if (type === 'settings') { form.append(...dialerFields(v || {})); continue; }
    if (type === 'select') inp = h('select', {id, name: k, 'aria-describedby': o.help ? id + '-help' : null}, o.options.map(x => h('option', {value: x, selected: x === v}, x)));
    else if (type === 'list' || type === 'codes' || type === 'json') {
      inp = h('textarea', {id, name: k, rows: type === 'json' ? 4 : 3});
      inp.value = type === 'list' ? (v || []).join('\n') : type === 'codes' ? (v || []).map(c => c.code + ' | ' + c.label).join('\n') : v ? JSON.stringify(v, null, 1) : '';
    } else {
      inp = h('input', {id, name: k, type: type === 'number' ? 'number' : type === 'password' ? 'password' : 'text', autocomplete: type === 'password' ? 'new-password' : 'off',
        required: o.required || (type === 'password' && isNew), readonly: (o.createOnly && !isNew) || ro, 'aria-describedby': o.help ? id + '-help' : null});
      inp.value = type === 'password' ? '' : v ?? '';
    }
    form.append(h('label', {for: id}, type === 'password' && isNew ? 'Password' : label), inp,
      ...(o.help ? [h('div', {class: 'hint', id: id + '-help'}, o.help)] : []), h('div', {class: 'ferr', id: id + '-err'}));
  }
  form.append(h('div', {class: 'ferr', id: 'f-err', role: 'alert'}), h('div', {class: 'btns'},
    h('button', {class: 'primary', disabled: ro}, isNew ? 'Create' : 'Save'),
    isNew ? null : h('button', {type: 'button', disabled: ro, onclick: del}, d.del || 'Delete')));
  form.addEventListener('submit', save);
  const parts = [h('h2', {}, (isNew ? 'New ' : 'Edit ') + d.title.toLowerCase()), form];
  if (res === 'campaigns' && !isNew) parts.push(announcements());
  if (res === 'campaigns' && !isNew && cur.kind === 'outbound') parts.push(leadUpload());
  if (res === 'users' && !isNew) parts.push(supervisorCampaigns(cur, form.elements.role));
  e.replaceChildren(...parts);
}

function collect(form) {
  const out = {}, d = R[res];
  for (const [k, , type, o = {}] of d.fields) {
    const el = form.elements[k];
    if (type === 'bool') out[k] = el.checked;
    else if (type === 'agents') out[k] = [...form.querySelectorAll(`input[name=${k}]:checked`)].map(i => Number(i.value));
    else if (type === 'number') out[k] = el.value === '' ? 0 : Number(el.value);
    else if (type === 'list') out[k] = el.value.split(/[\n,]/).map(s => s.trim()).filter(Boolean);
    else if (type === 'codes') out[k] = el.value.split('\n').map(s => s.trim()).filter(Boolean).map(s => { const [c, ...l] = s.split('|'); return {code: c.trim(), label: (l.join('|') || c).trim()}; });
    else if (type === 'json') { if (el.value.trim()) out[k] = JSON.parse(el.value); }
    else if (type === 'settings') out[k] = collectDialer(form, cur.settings || {});
    else if (type === 'password') { if (el.value) out[k] = el.value; }
    else if (!(o.createOnly && cur.id != null)) out[k] = el.value.trim();
  }
  // A new user is enabled unless the box says otherwise; older servers refused the field.
  if (res === 'users' && cur.id == null && !out.disabled) delete out.disabled;
  return out;
}
async function save(ev) {
  ev.preventDefault();
  const f = ev.target;
  f.querySelectorAll('.ferr').forEach(x => { x.textContent = ''; });
  const miss = [...f.querySelectorAll('[required]')].find(i => !i.value.trim());
  if (miss) { $(miss.id + '-err').textContent = 'Required.'; miss.focus(); return; }
  let body;
  try { body = collect(f); } catch (e) { ($(e.field || 'f-settings-err') || $('f-err')).textContent = e.message; return; }
  try {
    const isNew = cur.id == null;
    const r = await api(isNew ? 'POST' : R[res].update, `/admin/${res}` + (isNew ? '' : '/' + cur.id), body);
    cur = r && r.id != null ? r : {...cur, ...body};
    $('f-err').textContent = '';
    await load();
    showErr(''); $('edit').querySelector('h2')?.append(h('span', {class: 'hint', role: 'status'}, ' — saved'));
  } catch (e) {
    const fe = e.problem?.field && ($('f-' + e.problem.field + '-err') || $(dialerErrorField(e.problem.field)));
    // A field's error sits next to it, without the field's path in front.
    let m = e.message;
    if (fe) {
      // Without its JSON path, a terse "must be …" gets the field's label in front.
      m = m.replace(/^[\w.\[\]]+: /, '');
      const lab = fe.parentElement?.querySelector('label')?.textContent || fe.previousElementSibling?.textContent || '';
      if (/^[a-z]/.test(m) && lab) m = lab.replace(/\s*\(.*\)$/, '') + ' ' + m;
    }
    (fe || $('f-err')).textContent = m;
    (fe || $('f-err')).closest('fieldset')?.scrollIntoView({block: 'nearest'});
  }
}
async function del() {
  if (!confirm(`${R[res].del || 'Delete'} ${cur.name || cur.username || cur.id}?`)) return;
  try { await api('DELETE', `/admin/${res}/${cur.id}`); cur = null; load(); } catch (e) { $('f-err').textContent = e.message; }
}

// Announcements: an Asterisk sound by name, or an uploaded WAV (PCM 16-bit
// mono, 8 or 16 kHz, at most 5 MB) that ctid serves to Asterisk.
function announcements() {
  const base = `/admin/campaigns/${cur.id}/announcements`, list = h('ul', {class: 'list', id: 'annList'}), msg = h('div', {class: 'ferr', role: 'alert', id: 'annErr'});
  const name = h('input', {id: 'annName', autocomplete: 'off'}), sound = h('input', {id: 'annSound', placeholder: 'sound:tt-monkeys', autocomplete: 'off'});
  const file = h('input', {type: 'file', id: 'annFile', accept: '.wav,audio/wav'});
  const draw = async () => {
    let l = [];
    try { l = await api('GET', base); } catch (e) { msg.textContent = e.message; }
    list.replaceChildren(...l.map(a => h('li', {}, h('span', {}, a.name + ' — ' + (a.uploaded ? `uploaded WAV, ${Math.round(a.size / 1024)} KB` : a.media)),
      h('button', {type: 'button', onclick: async () => { if (!confirm(`Delete announcement ${a.name}?`)) return;
        try { await api('DELETE', `${base}/${a.id}`); draw(); } catch (e) { msg.textContent = e.message; } }}, 'Delete'))));
    if (!l.length) list.append(h('li', {class: 'hint'}, 'No announcements: the adaptor hides its Announcement tab.'));
  };
  const add = async () => {
    msg.textContent = '';
    if (!name.value.trim()) { msg.textContent = 'Enter a name.'; name.focus(); return; }
    try {
      if (file.files[0]) {
        const fd = new FormData(); fd.append('name', name.value.trim()); fd.append('file', file.files[0]);
        await api('POST', base, fd);
      } else {
        if (!sound.value.trim()) { msg.textContent = 'Enter an Asterisk sound (sound:…) or choose a WAV file.'; return; }
        await api('POST', base, {name: name.value.trim(), media: sound.value.trim()});
      }
      name.value = ''; sound.value = ''; file.value = ''; draw();
    } catch (e) { msg.textContent = e.message; }
  };
  draw();
  return h('section', {class: 'card', 'aria-label': 'Announcements'}, h('h2', {}, 'Announcements'), list,
    h('label', {for: 'annName'}, 'Name'), name, h('label', {for: 'annSound'}, 'Asterisk sound'), sound,
    h('label', {for: 'annFile'}, 'or WAV file (PCM 16-bit mono, 8/16 kHz, ≤ 5 MB)'), file, msg,
    h('button', {type: 'button', id: 'annAdd', onclick: add}, 'Add announcement'));
}

// Lead-list upload (dialler issue): multipart with upload progress via XHR,
// then import progress polled from GET /admin/lead-imports/{importId}.
function leadUpload() {
  const file = h('input', {type: 'file', id: 'leadFile', accept: '.csv,.xlsx,text/csv'}), bar = h('progress', {id: 'leadBar', max: 100, value: 0, hidden: true}), msg = h('div', {id: 'leadMsg', class: 'hint', role: 'status'});
  const listName = h('input', {id: 'leadListName', placeholder: 'default: file name and time'});
  const lists = h('ul', {id: 'leadLists', class: 'lead-lists'});
  const loadLists = async () => {
    try {
      lists.replaceChildren(...(await api('GET', `/admin/campaigns/${cur.id}/lead-lists`)).map(l => leadListRow(l, loadLists)));
    } catch {}
  };
  const go = (force = false) => {
    if (!file.files[0]) { msg.textContent = 'Choose a CSV or XLSX file.'; return; }
    const importId = 'imp-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
    const fd = new FormData(); fd.append('file', file.files[0]); fd.append('importId', importId);
    if (listName.value.trim()) fd.append('listName', listName.value.trim());
    const x = new XMLHttpRequest();
    x.open('POST', `${API}/admin/campaigns/${cur.id}/leads` + (force === true ? '?force=true' : ''));
    // XHR, not the wrapper: fetch reports no upload progress.
    x.setRequestHeader('Authorization', 'Bearer ' + token);
    bar.hidden = false; bar.value = 0;
    let polling = null;
    const poll = async () => {
      try {
        const p = await api('GET', `/admin/lead-imports/${importId}`);
        if (polling) {
          if (p.state === 'importing') {
            if (p.bytesTotal > 0) bar.value = Math.round(100 * p.bytesRead / p.bytesTotal);
            msg.textContent = `Importing… ${p.rowsRead} rows read, ${p.accepted} accepted, ${p.rejected} rejected`;
          }
        }
      } catch {}
      if (polling) polling = setTimeout(poll, 500);
    };
    x.upload.onprogress = e => { if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); msg.textContent = `Uploading… ${bar.value}%`; } };
    x.upload.onload = () => { bar.value = 0; msg.textContent = 'Importing…'; polling = setTimeout(poll, 200); };
    x.onloadend = () => { clearTimeout(polling); polling = null; };
    x.onload = () => {
      let d = {}; try { d = JSON.parse(x.responseText); } catch {}
      if (x.status < 300) {
        bar.value = 100;
        const parts = [`Imported ${d.imported ?? '?'} leads into “${d.listName ?? ''}”`];
        if (d.rejected) parts.push(`${d.rejected} rejected (${d.duplicates} duplicates, ${d.dnc} do-not-call)`);
        msg.textContent = parts.join(', ') + (d.errors && d.errors.length ? ': ' + d.errors.slice(0, 5).map(e => `row ${e.row}: ${e.reason}`).join('; ') + (d.errors.length > 5 ? '…' : '') : '');
        loadLists();
      } else if (x.status === 409) {
        // The same file went to this campaign before: say so, and let the admin insist.
        bar.hidden = true;
        // The API's own hint (force=true) is for API users; the page has a button.
        const why = sentence(d.detail || 'This file was uploaded to this campaign before.').replace(/\s*[^.]*force=true[^.]*\./, '');
        msg.replaceChildren(h('span', {id: 'leadDup'}, why + ' '),
          h('button', {type: 'button', id: 'leadForce', onclick: () => go(true)}, 'Upload anyway'));
      } else msg.textContent = sentence(d.detail || d.title || 'The upload failed (' + x.status + ')');
    };
    x.onerror = () => { msg.textContent = 'Upload failed: network error'; };
    x.send(fd);
  };
  loadLists();
  return h('section', {class: 'card'}, h('h2', {}, 'Lead list'), lists, h('label', {for: 'leadFile'}, 'File'), file,
    h('label', {for: 'leadListName'}, 'List name'), listName, bar, msg,
    h('button', {type: 'button', id: 'leadUpload', onclick: () => go()}, 'Upload'), h('div', {id: 'leadBrowse'}));
}

if (token) start(); else $('login').hidden = false;
