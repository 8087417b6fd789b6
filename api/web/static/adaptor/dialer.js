// Manual calls on an idle adaptor: number field, keypad, and the campaign
// the call belongs to. The campaign is chosen deliberately: the list starts
// at "Choose a campaign…" (no silent pre-selection of an inbound campaign);
// the agent's own choice is remembered for the session. Digits typed
// anywhere on the idle adaptor go to the number field.
import {$, h, show} from './dom.js';
import {S, onRender, idle, render, LABEL} from './state.js';
import {act, showErr} from './api.js';
import {inPreview} from './statusbar.js';

export const KEYS = [['1', ''], ['2', 'ABC'], ['3', 'DEF'], ['4', 'GHI'], ['5', 'JKL'], ['6', 'MNO'], ['7', 'PQRS'], ['8', 'TUV'], ['9', 'WXYZ'], ['*', ''], ['0', '+'], ['#', '']];
export const keyButtons = (onKey, prefix = '') => KEYS.map(([k, l]) => h('button', {type: 'button', 'data-key': k, 'aria-label': prefix + k, onclick: () => onKey(k)}, k, h('small', {}, l || '\u00a0')));

const CAMP = 'ctid.camp', SKIP = 'skip';
$('keypad').append(...keyButtons(k => { const i = $('dialNum'); i.value += k; i.focus(); }));
$('dialBack').addEventListener('click', () => { const i = $('dialNum'); i.value = i.value.slice(0, -1); i.focus(); });
$('dialNum').addEventListener('keydown', e => { if (e.key === 'Enter') dial(); });
$('dialBtn').addEventListener('click', () => dial());
$('dialCamp').addEventListener('change', () => { sessionStorage.setItem(CAMP, $('dialCamp').value); $('dialErr').textContent = ''; });

// Typing digits with the focus anywhere but a field: into the number field.
document.addEventListener('keydown', e => {
  if (e.ctrlKey || e.metaKey || e.altKey || !/^[0-9*#+]$/.test(e.key)) return;
  if (e.target.closest?.('input,textarea,select,dialog,[contenteditable]') || $('dialer').hidden || !idle()) return;
  // Focus moves during keydown, so the key's character lands in the field.
  const i = $('dialNum'); i.focus(); i.setSelectionRange(i.value.length, i.value.length);
});

export async function dial(number = $('dialNum').value.trim(), crmCtx) {
  const c = $('dialCamp').value;
  if (!number) { $('dialErr').textContent = 'Enter a number to call.'; $('dialNum').focus(); return null; }
  if (!c) { $('dialErr').textContent = 'Choose the campaign this call is for.'; $('dialCamp').focus(); return null; }
  $('dialBtn').disabled = true;
  const r = await act('POST', '/agent/calls', {number, campaignId: c === SKIP ? null : Number(c)}, $('dialErr'));
  $('dialBtn').disabled = false;
  if (r) { $('dialNum').value = ''; if (r.interactionId && !S.snap.call) S.snap.call = r; render(); }
  return r;
}

// clickToDial is how a CRM starts a call (Open CTI onClickToDial, or a
// ctid.clickToDial postMessage): fill the number and dial when allowed.
export async function clickToDial(number) {
  if (!S.snap || !idle()) { showErr(`You can't dial now: you are ${(LABEL[S.snap?.state.state] || 'not logged in').toLowerCase()}.`); return null; }
  $('dialNum').value = number;
  return dial(number);
}

onRender(s => {
  if (!s.snap) return;
  show('dialer', idle() && !inPreview());
  const camps = s.snap.campaigns || [], dc = $('dialCamp'), ck = JSON.stringify(camps);
  if (dc.dataset.k !== ck) {
    const keep = dc.value || sessionStorage.getItem(CAMP) || '';
    dc.replaceChildren(h('option', {value: '', disabled: true}, 'Choose a campaign…'),
      ...camps.map(c => h('option', {value: c.id}, c.name + (c.kind === 'inbound' ? ' (inbound)' : ''))), h('option', {value: SKIP}, 'No campaign'));
    dc.value = [...dc.options].some(o => o.value === keep) ? keep : '';
    dc.dataset.k = ck;
  }
});
