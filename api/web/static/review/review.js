// The review page: sign-in, then call search and detail (#calls) or reports (#reports).
import {$, api, login, session, setSession, showErr, whenExpired} from './api.js';
import {initSearch} from './search.js';
import {initReports} from './reports.js';

function route() {
  const tab = location.hash === '#reports' ? 'reports' : 'calls';
  $('calls').hidden = tab !== 'calls' || !session.token;
  $('reports').hidden = tab !== 'reports' || !session.token;
  $('navCalls').toggleAttribute('aria-current', tab === 'calls');
  $('navReports').toggleAttribute('aria-current', tab === 'reports');
}

function signedIn() {
  $('login').hidden = true; $('logout').hidden = false;
  const u = session.user || {};
  $('who').textContent = (u.displayName || u.username || '') + (u.role ? ` (${u.role})` : '');
  $('navReports').hidden = u.role === 'agent';
  $('navFloor').hidden = u.role !== 'supervisor' && u.role !== 'admin';
  route();
}

function signedOut(msg) {
  setSession(null, null);
  $('login').hidden = false; $('logout').hidden = true; $('calls').hidden = true; $('reports').hidden = true;
  $('who').textContent = ''; if (msg) showErr(msg);
  $('lgUser').focus();
}

$('login').addEventListener('submit', async ev => {
  ev.preventDefault();
  $('lgErr').textContent = '';
  try { await login($('lgUser').value.trim(), $('lgPass').value); $('lgPass').value = ''; signedIn(); initSearch(true); }
  catch (e) { $('lgErr').textContent = e.message; }
});
$('logout').addEventListener('click', () => { api('POST', '/auth/logout').catch(() => {}); signedOut(); });
whenExpired(() => signedOut('Your session has ended; please sign in again.'));
addEventListener('hashchange', route);
initReports();
if (session.token) { signedIn(); initSearch(true); } else signedOut();
