// The campaigns a supervisor looks after, in the user editor (admin.js
// adds the section under a user's form). Supervisors see only these
// campaigns' agents, calls and reports. GET and PUT
// /api/v1/admin/supervisors/{id}/campaigns carry {campaignIds: [...]}; an
// empty list removes every campaign.
import {h, api} from './admin.js';

// names joins ["Sales", "Renewals", "Loans"] as "Sales, Renewals and Loans".
function names(list) {
  return list.length < 2 ? list.join('') : list.slice(0, -1).join(', ') + ' and ' + list[list.length - 1];
}

// supervisorCampaigns is the section for user u (as saved); role is the
// form's role select. The section shows for a saved supervisor; while the
// select says another role it hides, and for a user not yet saved as a
// supervisor it says to save the role first (the server assigns campaigns
// to supervisors only).
export function supervisorCampaigns(u, role) {
  const who = u.displayName || u.username || 'This user';
  const body = h('div', {id: 'sup-body'}, h('p', {class: 'hint'}, 'Loading campaigns…'));
  const msg = h('div', {class: 'hint ok', id: 'sup-msg', role: 'status'}), err = h('div', {class: 'ferr', id: 'sup-err', role: 'alert'});
  const btn = h('button', {type: 'submit', id: 'sup-save', disabled: true}, 'Save campaigns');
  const form = h('form', {novalidate: true, onsubmit: ev => { ev.preventDefault(); save(); }}, body, err, btn, msg);
  const sec = h('section', {class: 'card', id: 'sup-campaigns', 'aria-labelledby': 'sup-title'},
    h('h2', {id: 'sup-title'}, 'Campaigns this supervisor looks after'),
    h('p', {class: 'hint'}, 'A supervisor sees only these campaigns’ agents, calls and reports.'), form);
  const saved = u.role === 'supervisor';
  const later = h('p', {class: 'hint', id: 'sup-later'}, 'Save the role first; then choose the campaigns.');
  const show = () => {
    const sup = role?.value === 'supervisor';
    sec.hidden = !sup;
    form.hidden = !saved; later.hidden = saved;
  };
  sec.append(later);
  role?.addEventListener('change', show);
  show();
  if (!saved) return sec;

  let camps = [];
  const boxes = () => [...body.querySelectorAll('input[name=supCamp]')];
  const load = async () => {
    try {
      const [cs, mine] = await Promise.all([api('GET', '/admin/campaigns'), api('GET', `/admin/supervisors/${u.id}/campaigns`)]);
      camps = cs || [];
      const have = new Set(mine?.campaignIds || []);
      body.replaceChildren(camps.length
        ? h('fieldset', {id: 'sup-camps'}, h('legend', {}, 'Campaigns'), camps.map(c => h('label', {class: 'opt', for: 'sup-camp-' + c.id},
          h('input', {type: 'checkbox', name: 'supCamp', id: 'sup-camp-' + c.id, value: c.id, checked: have.has(c.id)}), c.name)))
        : h('p', {class: 'hint'}, 'There are no campaigns yet: create one under Campaigns.'));
      btn.disabled = !camps.length;
    } catch (e) { body.replaceChildren(); err.textContent = e.message; }
  };
  const save = async () => {
    err.textContent = ''; msg.textContent = '';
    const ids = boxes().filter(b => b.checked).map(b => Number(b.value));
    btn.disabled = true;
    try {
      const r = await api('PUT', `/admin/supervisors/${u.id}/campaigns`, {campaignIds: ids});
      const got = new Set(r?.campaignIds || []);
      for (const b of boxes()) b.checked = got.has(Number(b.value));
      const list = [...camps.filter(c => got.has(c.id)).map(c => c.name),
        ...[...got].filter(id => !camps.some(c => c.id === id)).map(id => 'campaign #' + id)];
      msg.textContent = list.length ? `Saved: ${who} looks after ${names(list)}.`
        : `Saved: ${who} looks after no campaigns, so sees no agents, calls or reports.`;
    } catch (e) { err.textContent = e.message; }
    btn.disabled = false;
  };
  // A change after a save makes the old sentence stale.
  body.addEventListener('change', () => { msg.textContent = ''; });
  load();
  return sec;
}
