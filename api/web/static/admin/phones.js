// The phones page (issue 12): SIP phones Asterisk reads from ctid's
// database. Admins create, edit, disable and delete them and reset their
// secret; a secret is shown once, with what a desk phone needs to register
// (server, port, user, secret) in a block to copy. The module adds its own
// "Phones" section button to the admin page's navigation (admin.js only
// imports it) and draws into the same list and editor panes.
import {h, api, showErr} from './admin.js';

const CODECS = [['ulaw', 'G.711 µ-law'], ['alaw', 'G.711 A-law'], ['g722', 'G.722 (wideband)'], ['gsm', 'GSM']];
const KINDS = {desk: 'Desk phone (SIP)', browser: 'Browser phone'};
const el = id => document.getElementById(id);
let phones = [], users = [], cur = null, shown = null; // shown: the secret answer being displayed

function userName(id) {
  if (id == null) return 'Nobody';
  const u = users.find(x => x.id === id);
  return u ? (u.displayName || u.username) : 'User #' + id;
}

async function open() {
  for (const b of document.querySelectorAll('nav button')) b.setAttribute('aria-current', b.id === 'navPhones' ? 'page' : 'false');
  showErr('');
  try {
    [phones, users] = await Promise.all([api('GET', '/admin/phones'), api('GET', '/admin/users').catch(() => [])]);
    phones ||= []; users ||= [];
  } catch (e) { phones = []; showErr(e.message); }
  drawList(); drawEdit();
}

function drawList() {
  const rows = phones.map(p => h('tr', {class: cur?.id === p.id ? 'sel' : null, tabindex: 0,
    onclick: () => pick(p), onkeydown: e => { if (e.key === 'Enter') pick(p); }},
  h('td', {}, p.extension), h('td', {}, KINDS[p.kind] || p.kind), h('td', {}, userName(p.userId)),
  h('td', {}, p.label), h('td', {}, p.disabled ? 'Disabled' : 'In use')));
  el('list').replaceChildren(h('h1', {}, 'Phones'),
    h('p', {class: 'hint'}, 'Each phone has its own secret. Asterisk reads phones from the database, so a change works at once.'),
    h('button', {class: 'primary', type: 'button', onclick: () => { cur = {}; shown = null; drawEdit(); el('ph-extension')?.focus(); }}, 'New phone'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Extension', 'Kind', 'Assigned to', 'Label', 'Status'].map(c => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', {colspan: 5, class: 'hint'}, 'No phones yet.')))));
}

function pick(p) { cur = p; shown = null; drawList(); drawEdit(); }

function field(id, label, input, help) {
  return h('div', {class: 'field'}, h('label', {for: id}, label), input, help ? h('div', {class: 'hint', id: id + '-help'}, help) : null,
    h('div', {class: 'ferr', id: id + '-err', role: 'alert'}));
}

function secretPanel(r) {
  const text = r.provisioning?.text || '';
  const box = h('textarea', {id: 'ph-prov', readonly: true, rows: 7, 'aria-label': 'Provisioning details'}, text);
  const msg = h('span', {class: 'hint', role: 'status', id: 'ph-copied'});
  return h('div', {class: 'secret', id: 'ph-secret', role: 'region', 'aria-label': 'New secret'},
    h('h2', {}, 'Secret for phone ' + r.extension),
    h('p', {}, 'This secret is shown only now. Copy it into the phone (or the browser phone settings); it cannot be shown again, only replaced.'),
    box,
    h('button', {type: 'button', onclick: async () => {
      try { await navigator.clipboard.writeText(text); msg.textContent = 'Copied.'; }
      catch { box.select(); msg.textContent = 'Select the text and copy it (Ctrl+C).'; }
    }}, 'Copy'), msg);
}

function drawEdit() {
  const e = el('edit');
  if (!cur) { e.replaceChildren(h('p', {class: 'hint'}, 'Pick a phone or press New phone.')); return; }
  const isNew = cur.id == null;
  const ext = h('input', {id: 'ph-extension', inputmode: 'numeric', autocomplete: 'off', value: cur.extension || '', disabled: !isNew,
    'aria-describedby': 'ph-extension-help'});
  const kind = h('select', {id: 'ph-kind'}, Object.entries(KINDS).map(([k, v]) => h('option', {value: k, selected: (cur.kind || 'desk') === k}, v)));
  const user = h('select', {id: 'ph-user'}, h('option', {value: ''}, 'Nobody'),
    users.filter(u => !u.disabled || u.id === cur.userId).map(u => h('option', {value: u.id, selected: u.id === cur.userId}, (u.displayName || u.username) + ' (' + u.username + ')')));
  const label = h('input', {id: 'ph-label', maxlength: 80, value: cur.label || ''});
  const have = new Set(cur.codecs || ['ulaw', 'alaw']);
  const codecs = h('fieldset', {id: 'ph-codecs'}, h('legend', {}, 'Codecs'),
    CODECS.map(([k, v]) => h('label', {class: 'opt'}, h('input', {type: 'checkbox', name: 'codec', value: k, checked: have.has(k)}), v)),
    h('div', {class: 'ferr', id: 'ph-codecs-err', role: 'alert'}));
  const disabled = h('input', {type: 'checkbox', id: 'ph-disabled', checked: !!cur.disabled});
  const form = h('form', {novalidate: true, onsubmit: ev => { ev.preventDefault(); save(); }},
    h('h2', {}, isNew ? 'New phone' : 'Phone ' + cur.extension),
    field('ph-extension', 'Extension', ext, isNew ? '2 to 20 digits: what the phone registers as and what it is called on.' : 'The extension cannot change; delete the phone and create another.'),
    field('ph-kind', 'Kind', kind),
    field('ph-user', 'Assigned to', user, 'Only this person can connect the phone.'),
    field('ph-label', 'Label', label),
    codecs,
    h('label', {class: 'opt'}, disabled, 'Disabled (cannot register or take calls)'),
    h('div', {class: 'actions'},
      h('button', {class: 'primary', type: 'submit'}, isNew ? 'Create phone' : 'Save'),
      isNew ? null : h('button', {type: 'button', onclick: reset}, 'New secret'),
      isNew ? null : h('button', {type: 'button', class: 'danger', onclick: remove}, 'Delete')));
  e.replaceChildren(...[shown ? secretPanel(shown) : null, form].filter(Boolean));

  function clearErrs() { for (const x of e.querySelectorAll('.ferr')) x.textContent = ''; }
  function fail(err) {
    const f = err.problem?.field || err.problem?.errors?.[0]?.field;
    const target = f && el(f === 'userId' ? 'ph-user-err' : 'ph-' + f + '-err');
    if (target) { target.textContent = err.message; el(target.id.replace(/-err$/, ''))?.focus?.(); } else showErr(err.message);
  }
  async function save() {
    clearErrs(); showErr('');
    const cs = [...codecs.querySelectorAll('input:checked')].map(x => x.value);
    if (!cs.length) { el('ph-codecs-err').textContent = 'Choose at least one codec.'; return; }
    if (isNew && !/^[0-9]{2,20}$/.test(ext.value.trim())) { el('ph-extension-err').textContent = 'The extension must be 2 to 20 digits.'; ext.focus(); return; }
    const body = {kind: kind.value, userId: user.value ? Number(user.value) : null, label: label.value.trim(), codecs: cs, disabled: disabled.checked};
    try {
      if (isNew) {
        shown = await api('POST', '/admin/phones', {extension: ext.value.trim(), ...body});
        cur = shown;
      } else {
        cur = await api('PATCH', '/admin/phones/' + cur.id, body); shown = null;
      }
      phones = await api('GET', '/admin/phones') || phones;
      drawList(); drawEdit();
      el(shown ? 'ph-prov' : 'ph-extension')?.focus();
    } catch (err) { fail(err); }
  }
  async function reset() {
    if (!confirm(`Give phone ${cur.extension} a new secret? It stops working until the new secret is entered in it.`)) return;
    try { shown = await api('POST', `/admin/phones/${cur.id}/secret`); cur = shown; drawEdit(); el('ph-prov')?.focus(); }
    catch (err) { fail(err); }
  }
  async function remove() {
    if (!confirm(`Delete phone ${cur.extension}? A call on it now carries on; after that it cannot register.`)) return;
    try { await api('DELETE', '/admin/phones/' + cur.id); cur = null; shown = null; await open(); }
    catch (err) { fail(err); }
  }
}

// Register the section: a button in the admin page's navigation. Its click
// is handled here (and kept from admin.js's own section handler).
const nav = document.querySelector('nav[aria-label="Sections"]') || document.querySelector('nav');
if (nav && !document.getElementById('navPhones')) {
  const b = h('button', {id: 'navPhones', type: 'button'}, 'Phones');
  b.addEventListener('click', ev => { ev.stopPropagation(); cur = null; shown = null; open(); });
  nav.append(b);
}
