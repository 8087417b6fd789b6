// Wrap: the code, Ready or Paused next, extend, and the auto-wrap
// countdown with a visible label; when the time runs out the engine
// applies the default code and a notice says so.
import {$, h, show, mmss} from './dom.js';
import {S, onRender, onTick, on, now, agentState} from './state.js';
import {act} from './api.js';
import {ask} from './dom.js';
import {reasonPicker} from './statusbar.js';
import {cancelNotesSave, notesValue} from './call.js';
import {notify} from './notices.js';

const wrapped = [];
// onWrapped(fn(call, code, notes)): the CRM logs the call once it is wrapped.
export const onWrapped = f => wrapped.push(f);
const tellWrapped = (c, code, notes) => { if (c) for (const f of wrapped) f(c, code, notes); };

on('wrap', (d, type) => {
  if (type === 'wrap.auto') {
    const codes = S.snap.wrap?.codes || [], label = codes.find(c => c.code === d.code)?.label || d.code;
    tellWrapped(S.snap.call, d.code, S.snap.call?.notes || '');
    S.snap.wrap = null;
    notify('auto_wrap_applied', label ? `The wrap time ran out, so the call was wrapped with the default code “${label}”.` : '');
  } else S.snap.wrap = d;
});

async function wrap(next) {
  const c = S.snap?.call, w = S.snap?.wrap; if (!w) return;
  let reason = '';
  if (next === 'paused') { const f = await ask('Pause after wrap', reasonPicker('Pause reason'), 'Pause'); if (!f) return; reason = f.get('reason'); }
  cancelNotesSave();
  const code = $('wrCode').value, notes = c ? notesValue() : '';
  const r = await act('POST', '/agent/wrap', {code, next, reason, notes}, $('wrErr'));
  if (r) tellWrapped(c, code, notes);
}
$('wrReady').addEventListener('click', () => wrap('ready'));
$('wrPaused').addEventListener('click', () => wrap('paused'));
$('wrExtend').addEventListener('click', () => act('POST', '/agent/wrap/extend', undefined, $('wrErr')));

onRender(s => {
  const w = agentState() === 'on_wrap' ? s.snap?.wrap : null;
  show('wrap', !!w);
  if (!w) return;
  const wc = $('wrCode'), k = JSON.stringify(w.codes);
  if (wc.dataset.k !== k || wc.dataset.i !== w.interactionId) {
    wc.replaceChildren(...(w.codes || []).map(c => h('option', {value: c.code, selected: c.code === w.defaultCode}, c.label || c.code)));
    if (!w.codes?.length) wc.append(h('option', {value: ''}, '(no wrap codes)'));
    wc.dataset.k = k; wc.dataset.i = w.interactionId;
  }
  $('wrExtend').hidden = !(w.extendSeconds > 0 && w.deadline);
  $('wrExtend').textContent = `+${w.extendSeconds} s`;
  $('wrExtend').setAttribute('aria-label', `Extend wrap by ${w.extendSeconds} seconds`);
});
onTick(s => {
  const w = agentState() === 'on_wrap' && s.snap.wrap, dl = w && w.deadline ? Date.parse(w.deadline) : 0;
  $('wrCount').textContent = dl ? mmss(dl - now()) : '';
  show('wrAuto', !!dl);
  if (dl) {
    const def = w.codes?.find(c => c.code === w.defaultCode);
    $('wrAutoText').textContent = `Auto-wrap in ${mmss(dl - now())}` + (def || w.defaultCode ? ` with “${def?.label || w.defaultCode}”` : '');
  }
});
