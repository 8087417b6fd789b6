// Notices an agent notices: a list under the state bar of what happened
// without them asking (Auto Pause after a missed call, the default wrap
// code applied, a missed transfer, a supervisor logging them out). Each
// stays until dismissed; the newest is announced politely to screen readers.
import {$, h, replaceIfChanged} from './dom.js';
import {S, onRender, on, render} from './state.js';
import {sentence} from './api.js';
import {onExpire} from './session.js';

let list = [], n = 0;
const FALLBACK = {auto_pause: 'You missed a call, so you were paused.', missed_transfer: 'You missed a transfer.',
  transfer_declined: 'The agent you were transferring to declined; the caller is back with you.',
  auto_wrap_applied: 'The wrap time ran out, so the default wrap code was applied.', supervisor_logout: 'A supervisor logged you out.'};

// notify adds a notice; one of the same kind within a few seconds replaces it.
export function notify(kind, text) {
  const t = Date.now();
  list = list.filter(x => !(x.kind === kind && t - x.at < 5000));
  list.push({id: ++n, kind, text: sentence(text || FALLBACK[kind] || kind), at: t});
  if (list.length > 5) list = list.slice(-5);
  render();
}
on('notice', d => notify(d.kind || 'info', d.text));
// A supervisor paused, readied or logged the agent out, or ended a call:
// the server says who and why in a sentence.
on('supervisor.notice', d => notify('supervisor_' + (d.action || 'action'), d.message));
// A supervisor is listening, whispering or has joined (only where the
// campaign lets agents see it); the notice goes when monitoring ends.
const MONITOR = {listen: 'is listening to this call', whisper: 'is listening and may speak to you (the caller cannot hear them)',
  barge: 'has joined this call'};
on('monitor.state', d => {
  list = list.filter(x => x.kind !== 'monitor');
  if (d.active && d.mode) notify('monitor', (d.by || 'A supervisor') + ' ' + (MONITOR[d.mode] || 'is monitoring this call') + '.');
  else render();
});
// Older servers only say it with the state: Paused with reason Auto Pause.
on('agent.state', d => {
  if (d.state === 'paused' && /auto.?pause/i.test(d.pauseReason || '') && !list.some(x => x.kind === 'auto_pause' && Date.now() - x.at < 5000))
    notify('auto_pause', 'You missed a call, so you were paused (Auto Pause). Choose Ready when you are back.');
});
onExpire(() => { list = []; });

onRender(() => {
  replaceIfChanged($('notices'), list.map(x => x.id).join(','), () => list.map(x => h('li', {class: 'notice n-' + x.kind, 'data-kind': x.kind},
    h('span', {}, x.text), h('button', {type: 'button', class: 'icon', 'aria-label': 'Dismiss', title: 'Dismiss',
      onclick: () => { list = list.filter(y => y.id !== x.id); render(); }}, '×'))));
  $('notices').hidden = !list.length || !S.snap;
});
