// The do-not-call page (search, add, remove, import) and the lead lists
// of a campaign (browse, pause / resume, delete).
import {h, api} from './admin.js';

const when = t => t ? new Date(t).toLocaleString() : '';
// dnc sends one number: {numbers:[n]} (the API's list form), or {number}
// for a server that takes only the single form.
async function dnc(method, number, rest) {
  try { return await api(method, '/admin/dnc', {numbers: [number], ...rest}); }
  catch (e) { if (e.status === 400 && /unknown field/i.test(e.problem?.detail || '')) return api(method, '/admin/dnc', {number, ...rest}); throw e; }
}

export async function dncPage() {
  let camps = [];
  try { camps = await api('GET', '/admin/campaigns') || []; } catch {}
  const campName = id => id == null || id === -1 || id === 0 ? 'Every campaign' : camps.find(c => c.id === id)?.name || '#' + id;
  const campSelect = (id, withAny) => h('select', {id}, withAny ? h('option', {value: ''}, 'Any list') : null,
    h('option', {value: '-1'}, 'Every campaign'), camps.map(c => h('option', {value: c.id}, c.name)));
  const q = h('input', {id: 'dncQ', type: 'search', placeholder: 'Number or part of it', autocomplete: 'off'});
  const qc = campSelect('dncCamp', true);
  const body = h('tbody', {id: 'dncRows'}), msg = h('div', {id: 'dncMsg', class: 'hint', role: 'status'}), err = h('div', {id: 'dncErr', class: 'ferr', role: 'alert'});
  const more = h('button', {type: 'button', id: 'dncMore', hidden: true}, 'More');
  let next = null;
  const search = async (append = false) => {
    err.textContent = '';
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (qc.value) p.set('campaignId', qc.value);
    if (append && next) p.set('cursor', next);
    try {
      const r = await api('GET', '/admin/dnc?' + p) || {};
      next = r.next || null; more.hidden = !next;
      const rows = (r.items || []).map(x => h('tr', {}, h('td', {}, x.number), h('td', {}, campName(x.campaignId)), h('td', {}, x.reason || ''),
        h('td', {}, x.addedBy || ''), h('td', {}, when(x.addedAt)),
        h('td', {}, h('button', {type: 'button', 'aria-label': 'Remove ' + x.number, onclick: () => remove(x)}, 'Remove'))));
      if (append) body.append(...rows); else body.replaceChildren(...rows);
      if (!body.children.length) body.append(h('tr', {}, h('td', {colspan: 6, class: 'hint'}, 'No numbers match.')));
    } catch (e) { err.textContent = e.message; }
  };
  const remove = async x => {
    if (!confirm(`Remove ${x.number} from the do-not-call list of ${campName(x.campaignId)}?`)) return;
    try { await dnc('DELETE', x.number, x.campaignId > 0 ? {campaignId: x.campaignId} : {}); msg.textContent = `${x.number} removed.`; search(); }
    catch (e) { err.textContent = e.message; }
  };
  const num = h('input', {id: 'dncNumber', inputmode: 'tel', autocomplete: 'off'}), reason = h('input', {id: 'dncReason', autocomplete: 'off'}), ac = campSelect('dncAddCamp');
  const numErr = h('div', {id: 'dncNumber-err', class: 'ferr'});
  const add = async ev => {
    ev.preventDefault(); numErr.textContent = ''; err.textContent = '';
    if (!num.value.trim()) { numErr.textContent = 'Enter the number to add.'; num.focus(); return; }
    try {
      await dnc('POST', num.value.trim(), {reason: reason.value.trim(), ...(ac.value !== '-1' ? {campaignId: Number(ac.value)} : {})});
      msg.textContent = `${num.value.trim()} added.`; num.value = ''; reason.value = ''; search();
    } catch (e) { (/^numbers?/.test(e.problem?.field || '') ? numErr : err).textContent = e.message; }
  };
  const file = h('input', {id: 'dncFile', type: 'file', accept: '.csv,text/csv'}), ic = campSelect('dncImpCamp');
  const imp = async () => {
    err.textContent = '';
    if (!file.files[0]) { err.textContent = 'Choose a CSV file: one number a row.'; return; }
    const fd = new FormData(); fd.append('file', file.files[0]);
    if (ic.value !== '-1') fd.append('campaignId', ic.value);
    fd.append('reason', 'imported');
    try {
      const d = await api('POST', '/admin/dnc/import', fd);
      msg.textContent = `Imported: ${d.added} added, ${d.skipped} already on the list` + (d.errors?.length ? `, ${d.errors.length} refused (` + d.errors.slice(0, 3).map(x => `row ${x.row}: ${x.error}`).join('; ') + (d.errors.length > 3 ? '…' : '') + ')' : '') + '.';
      file.value = ''; search();
    } catch (e) { err.textContent = e.message; }
  };
  more.addEventListener('click', () => search(true));
  q.addEventListener('input', () => { clearTimeout(q.t); q.t = setTimeout(() => search(), 300); });
  qc.addEventListener('change', () => search());
  search();
  return h('div', {class: 'dnc'}, h('h1', {}, 'Do not call'),
    h('p', {class: 'hint'}, 'Numbers on these lists are never dialled. “Every campaign” applies to all campaigns.'),
    h('div', {class: 'grid2'}, h('div', {}, h('label', {for: 'dncQ'}, 'Search'), q), h('div', {}, h('label', {for: 'dncCamp'}, 'List'), qc)),
    msg, err,
    h('div', {class: 'scroll'}, h('table', {}, h('thead', {}, h('tr', {}, ['Number', 'List', 'Reason', 'Added by', 'Added', ''].map(c => h('th', {scope: 'col'}, c)))), body)), more,
    h('form', {class: 'card', id: 'dncAdd', novalidate: true, onsubmit: add}, h('h2', {}, 'Add a number'),
      h('label', {for: 'dncNumber'}, 'Number'), num, numErr, h('label', {for: 'dncReason'}, 'Reason'), reason,
      h('label', {for: 'dncAddCamp'}, 'List'), ac, h('button', {class: 'primary', id: 'dncAddBtn'}, 'Add')),
    h('section', {class: 'card'}, h('h2', {}, 'Import'), h('label', {for: 'dncFile'}, 'CSV file (one number a row)'), file,
      h('label', {for: 'dncImpCamp'}, 'List'), ic, h('button', {type: 'button', id: 'dncImport', onclick: imp}, 'Import')));
}

// leadListRow: one of a campaign's lead lists with its counts and actions.
export function leadListRow(l, reload) {
  const counts = Object.keys(l.byStatus || {}).length ? ' (' + Object.entries(l.byStatus).map(([k, v]) => `${k} ${v}`).join(', ') + ')' : '';
  const msg = h('span', {class: 'ferr', role: 'alert'});
  const act = async (method, path, done) => { try { await api(method, path); done?.(); reload(); } catch (e) { msg.textContent = e.message; } };
  return h('li', {'data-list': l.id}, h('span', {}, `${l.name}: ${l.total} leads${counts}`, l.active === false ? h('strong', {}, ' — paused') : null), ' ',
    h('button', {type: 'button', class: 'browse', onclick: () => browse(l)}, 'Browse'),
    h('button', {type: 'button', class: 'toggle', onclick: () => act('POST', `/admin/lead-lists/${l.id}/${l.active === false ? 'resume' : 'pause'}`)}, l.active === false ? 'Resume' : 'Pause'),
    h('button', {type: 'button', class: 'delete', onclick: () => { if (confirm(`Delete the lead list “${l.name}” and its ${l.total} leads?`)) act('DELETE', `/admin/lead-lists/${l.id}`); }}, 'Delete'), msg);
}

async function browse(l) {
  const box = document.getElementById('leadBrowse');
  const body = h('tbody', {}), more = h('button', {type: 'button', hidden: true}, 'More');
  let next = null;
  const page = async () => {
    const r = await api('GET', `/admin/lead-lists/${l.id}/leads` + (next ? '?cursor=' + next : '')).catch(e => ({error: e.message}));
    if (r.error) { body.append(h('tr', {}, h('td', {colspan: 4, class: 'ferr'}, r.error))); return; }
    body.append(...(r.items || []).map(x => h('tr', {}, h('td', {}, x.name || ''), h('td', {}, [x.phone1, x.phone2, x.phone3].filter(Boolean).join(', ')),
      h('td', {}, x.status), h('td', {}, String(x.attempts ?? '')))));
    next = r.next || null; more.hidden = !next;
    cap.textContent = `${l.name}: showing ${body.children.length} of ${r.total ?? l.total}`;
  };
  const cap = h('caption', {});
  more.addEventListener('click', page);
  box.replaceChildren(h('div', {class: 'scroll'}, h('table', {id: 'leadRows'}, cap, h('thead', {}, h('tr', {}, ['Name', 'Phones', 'Status', 'Attempts'].map(c => h('th', {scope: 'col'}, c)))), body)), more);
  await page();
}
