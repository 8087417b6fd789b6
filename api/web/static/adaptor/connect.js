// Screen 2: phone connection. "System calls my phone" dials the agent's
// number; "I call the system" shows the number to dial (from
// GET /agent/config agentCallsNumber) and waits for that call. While
// connecting the screen says what it is waiting for and offers Cancel.
import {$, show} from './dom.js';
import {S, onRender, screen, agentState} from './state.js';
import {act} from './api.js';
import {snapshot, refresh, loadConfig} from './session.js';

const mode = () => document.querySelector('input[name=mode]:checked').value;
const callsNumber = () => S.config?.agentCallsNumber || '';

$('connect').addEventListener('submit', async ev => {
  ev.preventDefault();
  const m = mode(), number = $('cnNum').value.trim();
  $('cnErr').textContent = '';
  if (m === 'system_calls' && !number) { $('cnErr').textContent = 'Enter the number ctid should call.'; $('cnNum').focus(); return; }
  $('cnBtn').disabled = true;
  if (agentState() === 'logged_out') {
    const s = await act('POST', '/agent/login', undefined, $('cnErr'));
    if (!s) { $('cnBtn').disabled = false; return; }
    snapshot(s);
  }
  // I call the system: the line I open stays up until I hang up, so it is
  // always kept; the checkbox says so rather than being ignored.
  const persistent = m === 'agent_calls' ? true : $('cnPersist').checked;
  const r = await act('POST', '/agent/connect', {mode: m, number, persistent}, $('cnErr'));
  $('cnBtn').disabled = false;
  if (r) { if (r.agentId) snapshot(r); else refresh(); }
});
$('connect').addEventListener('change', () => { if (!S.config) loadConfig(); draw(); });
$('cnCancel').addEventListener('click', async () => {
  // Back to Logged in: the engine drops the pending phone call.
  const r = await act('POST', '/agent/logout', {reason: ''}, $('cnErr'));
  if (r) { if (r.agentId) snapshot(r); else refresh(); }
});

function draw() {
  const sys = mode() === 'system_calls', st = agentState(), waiting = st === 'connecting', num = callsNumber();
  $('cnNumLabel').textContent = sys ? 'Connection number' : 'Your phone number (optional)';
  show('cnDial', !sys);
  $('cnDial').textContent = num ? `From your phone, call ${num}.` : 'From your phone, call the number your supervisor gave you.';
  $('cnPersist').disabled = !sys || waiting;
  if (!sys) $('cnPersist').checked = true;
  $('cnPersistHint').textContent = sys ? 'Off: your phone rings for each call instead.' : 'When you call the system, the line stays open until you hang up.';
  show('cnWait', waiting); show('cnCancel', waiting);
  const ph = S.snap?.phone || {};
  $('cnWait').textContent = !waiting ? '' : ph.mode === 'agent_calls'
    ? `Waiting for your call to ${num || 'the system'}${ph.number ? ' from ' + ph.number : ''}…`
    : `Calling your phone on ${ph.number || $('cnNum').value}… answer it when it rings.`;
  // While waiting, Cancel replaces Start (not a greyed-out Start).
  show('cnBtn', !waiting);
  for (const i of document.querySelectorAll('input[name=mode]')) i.disabled = waiting;
  $('cnNum').disabled = waiting;
}

onRender(s => {
  const on = screen() === 'connect';
  show('connect', on);
  // Filled from the snapshot once per visit: a render while the snapshot
  // reloads (screen '') must not undo what the agent has chosen.
  if (!on) { if (screen() !== '') delete $('connect').dataset.filled; return; }
  if (!s.config) loadConfig();
  const ph = s.snap.phone || {};
  if (!$('connect').dataset.filled) {
    $('cnNum').value = ph.number || ph.defaultNumber || '';
    if (ph.mode) document.querySelector(`input[name=mode][value=${ph.mode}]`).checked = true;
    $('cnPersist').checked = ph.mode ? !!ph.persistent : true;
    $('connect').dataset.filled = '1';
  }
  draw();
});
