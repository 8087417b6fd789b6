// Screen 2: phone connection. "System calls my phone" dials the agent's
// number; "I call the system" shows the number to dial (from
// GET /agent/config agentCallsNumber) and waits for that call; "Browser
// phone" registers this page as the agent's phone (browserphone.js) and
// then connects it as "system calls my phone". While connecting the
// screen says what it is waiting for and offers Cancel. After a reload a
// tab that used the browser phone brings it back by itself.
import {$, show} from './dom.js';
import {S, onRender, screen, agentState} from './state.js';
import {act, showErr} from './api.js';
import {snapshot, refresh, loadConfig} from './session.js';
import * as bp from './browserphone.js';

const mode = () => document.querySelector('input[name=mode]:checked').value;
const callsNumber = () => S.config?.agentCallsNumber || '';

$('connect').addEventListener('submit', ev => { ev.preventDefault(); start(); });

let starting = false; // the browser phone is registering

async function start() {
  resumed = true; // from now on only the agent connects it
  let m = mode(), number = $('cnNum').value.trim();
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
  if (m === 'browser') {
    starting = true; draw();
    try { number = await bp.start(); } catch (e) { $('cnErr').textContent = e.message; $('cnBtn').disabled = false; return; }
    finally { starting = false; draw(); }
    sessionStorage.setItem('ctid.browserPhoneKeep', persistent ? '1' : '0');
    if (persistent) bp.expectConnection();
    m = 'system_calls';
  } else if (bp.active() || bp.remembered()) {
    bp.stop(); // back to a desk phone: this page is no longer a phone
  }
  const r = await act('POST', '/agent/connect', {mode: m, number, persistent}, $('cnErr'));
  $('cnBtn').disabled = false;
  if (r) { if (r.agentId) snapshot(r); else refresh(); }
}
$('connect').addEventListener('change', () => { if (!S.config) loadConfig(); draw(); });
$('cnCancel').addEventListener('click', async () => {
  // Back to Logged in: the engine drops the pending phone call.
  const r = await act('POST', '/agent/logout', {reason: ''}, $('cnErr'));
  if (r) { if (r.agentId) snapshot(r); else refresh(); }
});

function draw() {
  const browser = mode() === 'browser', sys = mode() === 'system_calls' || browser, st = agentState(), waiting = st === 'connecting', num = callsNumber();
  $('cnNumLabel').textContent = sys ? 'Connection number' : 'Your phone number (optional)';
  show('cnNumLabel', !browser); show('cnNum', !browser);
  show('cnDial', !sys);
  $('cnDial').textContent = num ? `From your phone, call ${num}.` : 'From your phone, call the number your supervisor gave you.';
  $('cnPersist').disabled = !sys || waiting;
  if (!sys) $('cnPersist').checked = true;
  $('cnPersistHint').textContent = browser ? 'Off: this page rings for each call instead.'
    : sys ? 'Off: your phone rings for each call instead.' : 'When you call the system, the line stays open until you hang up.';
  show('cnCancel', waiting);
  const ph = S.snap?.phone || {};
  $('cnWait').textContent = starting ? 'Starting your browser phone… allow the microphone if the browser asks.'
    : !waiting ? '' : ph.mode === 'agent_calls'
    ? `Waiting for your call to ${num || 'the system'}${ph.number ? ' from ' + ph.number : ''}…`
    : bp.active() && ph.number === bp.extension() ? 'Connecting your browser phone…'
    : `Calling your phone on ${ph.number || $('cnNum').value}… answer it when it rings.`;
  show('cnWait', waiting || starting);
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
    const m = bp.remembered() || (bp.active() && ph.number === bp.extension()) ? 'browser' : ph.mode;
    if (m) document.querySelector(`input[name=mode][value=${m}]`).checked = true;
    $('cnPersist').checked = ph.mode ? !!ph.persistent : true;
    $('connect').dataset.filled = '1';
  }
  draw();
  // A reload of a tab that used the browser phone: start it again (once).
  if (bp.remembered() && !resumed && ['logged_in', 'logged_out'].includes(agentState())) {
    resumed = true;
    $('cnPersist').checked = sessionStorage.getItem('ctid.browserPhoneKeep') !== '0';
    start();
  }
});
// resumed: the once-per-page-load automatic connection has happened (or
// the agent connected by hand); a later logout does not reconnect by itself.
let resumed = false, reregistered = false;

// On the main screen after a reload (a connection without a kept line
// survives it, and a kept line is seen to drop a moment later): register
// the browser phone again so calls can ring here.
onRender(s => {
  if (screen() === 'main' && bp.remembered() && !bp.active() && !reregistered) {
    reregistered = true;
    bp.start().catch(e => showErr(e.message));
  }
});
