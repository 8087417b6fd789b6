// Salesforce's side of Service Cloud Voice, as @salesforce/scv-connector-base
// 3.6.2 expects it: the connector page (?ctid=<origin>, /scv/) is framed,
// and on load gets SETUP_CONNECTOR with the contact center's connector
// configuration and a MessagePort; the connector answers on that port
// (CONNECTOR_READY, TELEPHONY_EVENT_DISPATCHED, LOG) and requests go the
// other way as {type: ACCEPT_CALL | HOLD | SET_AGENT_STATUS …, …}.
// This page must be served from an https *.lightning.force.com origin:
// the SDK ignores SETUP_CONNECTOR from anywhere else.
const q = new URLSearchParams(location.search);
const ctid = q.get('ctid');
const origin = new URL(ctid).origin;

window.scvMessages = []; // every message from the connector
window.scvEvents = [];   // the published telephony events: {type, payload}
window.sfStatus = null;  // the presence status id Salesforce shows

const config = {'/reqGeneralInfo/reqAdapterUrl': ctid + '/scv/', '/reqGeneralInfo/reqVendorInfoApiName': 'ctid'};
for (const [k, v] of q) if (k.startsWith('/reqCtid/')) config[k] = v;

let port = null;
const f = document.createElement('iframe');
f.title = 'ctid connector';
f.allow = 'microphone';
f.addEventListener('load', () => {
  const ch = new MessageChannel();
  port = ch.port1;
  port.onmessage = e => {
    const m = e.data;
    scvMessages.push(m);
    if (m.type === 'TELEPHONY_EVENT_DISPATCHED') {
      const ev = {type: m.payload.telephonyEventType, payload: m.payload.telephonyEventPayload};
      scvEvents.push(ev);
      if (ev.type === 'SET_AGENT_STATUS') sfStatus = ev.payload.statusId;
    }
    draw(m);
  };
  f.contentWindow.postMessage({type: 'SETUP_CONNECTOR', connectorConfig: config}, origin, [ch.port2]);
}, {once: true});
f.src = ctid + '/scv/';
document.getElementById('frame').append(f);

// sf.send is Salesforce asking the connector something: sf.send('HOLD', {call}).
window.sf = {
  send(type, data = {}) { port.postMessage({type, ...data}); },
  ready: () => scvMessages.some(m => m.type === 'CONNECTOR_READY'),
  events: type => scvEvents.filter(e => e.type === type),
  count: type => scvEvents.filter(e => e.type === type).length,
  last: type => scvEvents.filter(e => e.type === type).pop(),
  errors: () => scvEvents.filter(e => e.type === 'ERROR').map(e => JSON.stringify(e.payload)),
  // The call Salesforce knows: the last one started.
  call: () => (scvEvents.filter(e => e.type === 'CALL_STARTED' || e.type === 'CALL_CONNECTED').pop() || {}).payload,
};

function draw(m) {
  if (m.type === 'LOG') return;
  const line = m.type === 'TELEPHONY_EVENT_DISPATCHED' ? '→ ' + m.payload.telephonyEventType + ' ' + JSON.stringify(m.payload.telephonyEventPayload || {}).slice(0, 160)
    : '→ ' + m.type;
  document.getElementById('log').textContent += line + '\n';
  const c = sf.call();
  document.getElementById('sfState').textContent = `Salesforce: ${sf.ready() ? 'connector ready' : 'waiting'} · status ${sfStatus || '—'}` +
    (c ? ` · call ${c.phoneNumber || ''} ${c.state || ''}` : '');
}
