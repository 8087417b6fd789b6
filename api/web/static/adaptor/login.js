// Screen 1: sign in. Both fields are required; the server's problem goes
// next to the field it names.
import {$} from './dom.js';
import {render, onRender, screen} from './state.js';
import {api} from './api.js';
import {setToken, snapshot, loadConfig} from './session.js';
import {openWS} from './ws.js';

$('login').addEventListener('submit', async ev => {
  ev.preventDefault();
  const u = $('lgUser').value.trim(), p = $('lgPass').value;
  $('lgUserErr').textContent = u ? '' : 'Enter your username.';
  $('lgPassErr').textContent = p ? '' : 'Enter your password.';
  $('lgErr').textContent = '';
  $('lgUser').setAttribute('aria-invalid', !u); $('lgPass').setAttribute('aria-invalid', !p);
  if (!u || !p) { (u ? $('lgPass') : $('lgUser')).focus(); return; }
  $('lgBtn').disabled = true;
  try {
    const r = await api('POST', '/auth/login', {username: u, password: p});
    setToken(r.token);
    $('lgPass').value = '';
    loadConfig();
    snapshot(await api('POST', '/agent/login').catch(e => { if (e.status === 409) return api('GET', '/agent'); throw e; }));
    openWS();
  } catch (e) {
    const f = e.problem?.field;
    (f === 'username' ? $('lgUserErr') : f === 'password' ? $('lgPassErr') : $('lgErr')).textContent = e.message;
  } finally { $('lgBtn').disabled = false; render(); }
});

onRender(() => { show("login", screen() === "login"); });
function show(id, on) { $(id).hidden = !on; }
