// Browser phone: the agent's browser is their phone (a phone of kind
// "browser" assigned to them in the admin's Phones). SIP.js 0.21.2
// (vendor/sip.js: its released ES modules, unchanged, MIT licence beside
// them) registers it to Asterisk over SIP-over-WebSocket with credentials
// ctid hands out per start (POST /agent/browser-phone: a fresh secret each
// time); connect.js then connects that extension like a desk phone
// ("system calls my phone"). Calls ring in the page, and as a notification
// when the tab is hidden; the agent answers or declines, mutes the
// microphone, and sees the call's audio level. The connection call ctid
// places right after Start is answered at once: the agent just asked for it.
import {$, show} from './dom.js';
import {onRender, screen, agentState} from './state.js';
import {api} from './api.js';

const KEY = 'ctid.browserPhone';
let ua = null, reg = null, cred = null;
let ringing = null, call = null, autoAnswerUntil = 0, meterT = 0, muted = false;

export const active = () => !!ua;
export const extension = () => cred?.extension || '';
// remembered: this tab used the browser phone, so a reload brings it back.
export const remembered = () => sessionStorage.getItem(KEY) === '1';

// start asks for the microphone, fetches the credentials and registers;
// it resolves with the extension to connect, or throws an Error whose
// message is a sentence for the agent.
export async function start() {
  if (ua) return cred.extension;
  if (!window.RTCPeerConnection || !navigator.mediaDevices?.getUserMedia) {
    throw new Error('This browser cannot be used as a phone. Use a desk phone instead.');
  }
  try { (await navigator.mediaDevices.getUserMedia({audio: true})).getTracks().forEach(t => t.stop()); }
  catch { throw new Error('Allow this page to use your microphone, then press Start again.'); }
  cred = await api('POST', '/agent/browser-phone');
  const SIP = await import('./vendor/sip.js/index.js');
  const u = new SIP.UserAgent({
    uri: SIP.UserAgent.makeURI(cred.uri),
    authorizationUsername: cred.authorizationUser, authorizationPassword: cred.password,
    transportOptions: {server: cred.websocketUrl},
    logBuiltinEnabled: false,
    delegate: {onInvite: inv => offered(inv, SIP)},
  });
  try {
    await u.start();
    const r = new SIP.Registerer(u, {expires: 300});
    const ok = new Promise((res, rej) => {
      const to = setTimeout(() => rej(new Error('timeout')), 15000);
      r.stateChange.addListener(s => {
        if (s === SIP.RegistererState.Registered) { clearTimeout(to); res(); }
        if (s === SIP.RegistererState.Unregistered || s === SIP.RegistererState.Terminated) { clearTimeout(to); rej(new Error(s)); }
      });
    });
    await r.register({requestDelegate: {onReject: () => {}}});
    await ok;
    ua = u; reg = r;
  } catch {
    u.stop().catch(() => {});
    cred = null;
    throw new Error('Your browser phone could not reach the phone system. Check your network, or ask your administrator.');
  }
  sessionStorage.setItem(KEY, '1');
  if (window.Notification?.permission === 'default') Notification.requestPermission().catch(() => {});
  draw();
  return cred.extension;
}

// expectConnection: the next call within 30 s is ctid's connection call.
export function expectConnection() { autoAnswerUntil = Date.now() + 30000; }

// stop hangs up and unregisters (logout, or the agent leaving the page).
export function stop(forget = true) {
  if (forget) sessionStorage.removeItem(KEY);
  try { if (call) endSession(call); } catch {}
  try { if (ringing) ringing.reject(); } catch {}
  try { reg?.unregister(); } catch {}
  try { ua?.stop(); } catch {}
  ua = reg = cred = ringing = call = null;
  draw();
}
// Leaving or reloading the page ends the browser's call and registration
// cleanly, so ctid sees the connection drop at once (a reload reconnects).
addEventListener('pagehide', () => { if (ua) stop(false); });

function endSession(s) {
  if (s.state === 'Established') s.bye();
  else if (s.state === 'Establishing' || s.state === 'Initial') s.reject?.();
}

function offered(inv, SIP) {
  if (call || ringing) { inv.reject({statusCode: 486}); return; }
  inv.stateChange.addListener(s => {
    if (s === SIP.SessionState.Established) { ringing = null; call = inv; muted = false; attachAudio(inv); }
    if (s === SIP.SessionState.Terminated) {
      if (ringing === inv) ringing = null;
      if (call === inv) { call = null; stopMeter(); }
      notification?.close();
      draw();
    }
  });
  if (Date.now() < autoAnswerUntil) { autoAnswerUntil = 0; answer(inv); return; }
  ringing = inv;
  if (document.hidden && window.Notification?.permission === 'granted') {
    notification = new Notification('Incoming call', {body: 'Your browser phone is ringing. Open the adaptor to answer.', tag: 'ctid-ring'});
    notification.onclick = () => { focus(); notification.close(); };
  }
  draw();
  $('bpAnswer').focus();
}
let notification = null;

function answer(inv) {
  inv.accept({sessionDescriptionHandlerOptions: {constraints: {audio: true, video: false}}}).catch(() => {
    $('bpMsg').textContent = 'The call could not be answered: allow the microphone and try again.';
  });
}

function attachAudio(inv) {
  const pc = inv.sessionDescriptionHandler?.peerConnection;
  if (!pc) return;
  const ms = new MediaStream();
  for (const r of pc.getReceivers()) if (r.track) ms.addTrack(r.track);
  const el = $('bpAudio');
  el.srcObject = ms;
  el.play().catch(() => {});
  startMeter(pc);
  draw();
}

// The level meter reads the WebRTC statistics of the call (what the agent
// hears), twice a second. window.ctidBrowserPhone exposes the same figures
// to tests and to support staff (no secrets in it).
function startMeter(pc) {
  stopMeter();
  meterT = setInterval(async () => {
    let level = 0, energy = 0, packets = 0, sent = 0, pair = '';
    const stats = await pc.getStats().catch(() => null);
    stats?.forEach(r => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') { level = r.audioLevel || 0; energy = r.totalAudioEnergy || 0; packets = r.packetsReceived || 0; }
      if (r.type === 'outbound-rtp' && r.kind === 'audio') sent = r.packetsSent || 0;
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
        const l = stats.get(r.localCandidateId), m = stats.get(r.remoteCandidateId);
        pair = `${l?.address || '?'}>${m?.address || '?'}`;
      }
    });
    window.ctidBrowserPhone = {level, energy, packets, sent, pair, muted};
    const bar = $('bpLevel');
    bar.value = Math.round(Math.min(1, level * 3) * 100);
    bar.setAttribute('aria-valuetext', level > 0.01 ? 'sound' : 'silence');
  }, 500);
}
function stopMeter() { clearInterval(meterT); meterT = 0; window.ctidBrowserPhone = null; }

function setMuted(on) {
  const pc = call?.sessionDescriptionHandler?.peerConnection;
  if (!pc) return;
  for (const s of pc.getSenders()) if (s.track) s.track.enabled = !on;
  muted = on;
  draw();
}

$('bpAnswer').addEventListener('click', () => { if (ringing) answer(ringing); });
// Declining a call ctid is offering me goes through ctid (the caller goes to
// another agent at once and I am Paused "Declined a call"; ctid cancels the
// ringing); anything else ringing is refused here.
$('bpDecline').addEventListener('click', async () => {
  const inv = ringing;
  if (inv && agentState() === 'reserved') { try { await api('POST', '/agent/decline'); return; } catch {} }
  try { inv?.reject(); } catch {}
  if (ringing === inv) ringing = null;
  draw();
});
$('bpMute').addEventListener('click', () => setMuted(!muted));

function draw() {
  const on = !!ua && screen() !== 'login';
  show('bphone', on);
  if (!on) return;
  $('bpState').textContent = ringing ? 'Your browser phone is ringing.'
    : call && agentState() === 'on_call' ? (muted ? 'On the call; your microphone is off.' : 'On the call.')
    : call ? 'Your browser phone is connected: calls come straight to this page.'
    : `Browser phone ${cred.extension} is ready.`;
  show('bpAnswer', !!ringing); show('bpDecline', !!ringing);
  show('bpMute', !!call); show('bpLevelRow', !!call);
  $('bpMute').textContent = muted ? 'Turn microphone on' : 'Turn microphone off';
  $('bpMute').setAttribute('aria-pressed', muted ? 'true' : 'false');
  $('bphone').classList.toggle('ring', !!ringing);
}
onRender(() => { if (screen() === 'login' && ua) stop(); else draw(); });
