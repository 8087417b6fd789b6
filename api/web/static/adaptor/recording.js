// The recording indicator: red while recording, white while paused, and a
// distinct crossed-out "off" when the call is not recorded; the state is
// always readable as text (next to the icon and in its label). An agent
// with recording control clicks it to pause / resume.
import {$, h, show, ask} from './dom.js';
import {S, onRender, on} from './state.js';
import {act} from './api.js';
import {snapshot} from './session.js';

on('recording.state', d => { S.ext.recording = d; });

const TEXT = {recording: 'Recording', paused: 'Recording paused', stopped: 'Recording stopped', off: 'Not recording', starting: 'Recording starting'};

$('recBtn').addEventListener('click', () => {
  const r = S.ext.recording; if (!r?.allowed || !['recording', 'paused'].includes(r.state)) return;
  act('POST', r.state === 'recording' ? '/agent/recording/pause' : '/agent/recording/resume').then(v => { if (v?.state) snapshot(v); });
});
$('bmBtn').addEventListener('click', async () => {
  const f = await ask('Bookmark', [h('label', {for: 'bmNote'}, 'Note (optional)'), h('input', {id: 'bmNote', name: 'note'})], 'Save');
  if (f) act('POST', '/agent/bookmarks', {note: f.get('note')});
});

onRender(s => {
  const call = s.snap?.call, r = call ? s.ext.recording : null;
  show('recBtn', !!r); show('recText', !!r);
  show('bmBtn', !!r && call?.state === 'connected');
  if (!r) return;
  const b = $('recBtn'), can = r.allowed && ['recording', 'paused'].includes(r.state);
  // Not allowed: the engine withholds the state; the icon is neutral grey.
  const kind = !r.allowed && !r.state ? 'grey' : r.state === 'recording' ? 'red' : r.state === 'paused' ? 'white' : r.state === 'starting' ? 'red' : 'off';
  const text = r.label || (kind === 'grey' ? 'Recording status not shown' : TEXT[r.state] || 'Not recording');
  b.className = 'rec ' + kind;
  b.dataset.state = kind === 'grey' ? 'unknown' : r.state || 'off';
  $('recText').textContent = text;
  b.title = b.ariaLabel = text + (can ? ` (press to ${r.state === 'recording' ? 'pause' : 'resume'})` : '');
  b.disabled = !can;
});
