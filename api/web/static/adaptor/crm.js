// CRM integration: Salesforce Open CTI and a postMessage bridge to the
// framing page. The Open CTI glue (static/opencti/callcenter.xml) points
// Salesforce at adaptor/index.html; this module is the adaptor's side of it.
//
// Interface (kept stable for the Salesforce work):
//   - The Salesforce origin comes from configuration (CTID_SALESFORCE_ORIGIN,
//     served as GET /api/v1/agent/config salesforceOrigin), never from the
//     page's query string. When set and the adaptor is framed, the adaptor
//     loads <origin>/support/api/63.0/lightning/opencti_min.js and calls
//     sforce.opencti: enableClickToDial, onClickToDial (→ dial the number),
//     notifyInitializationComplete, setSoftphonePanelVisibility and
//     searchAndScreenPop on an inbound call (leader only), saveLog (a Task)
//     once the call is wrapped (leader only).
//   - postMessage to window.parent, target origin = the Salesforce origin:
//     {source:'ctid', type, data, leader} with type ctid.leader,
//     ctid.agentState, ctid.call<Offered|Dialing|Connected|Ended>, ctid.wrapped.
//   - postMessage from window.parent (same origin check):
//     {type:'ctid.clickToDial', number} dials like onClickToDial.
//   - One adaptor per agent and browser storage partition is the leader
//     (Web Lock "ctid-crm-<agentId>"); others hand their wraps to it over
//     BroadcastChannel, so a call is popped and logged once.
import {h} from './dom.js';
import {S, on, now} from './state.js';
import {showErr} from './api.js';
import {loadConfig, onSnapshot} from './session.js';
import {clickToDial} from './dialer.js';
import {onWrapped} from './wrap.js';

const crm = {leader: false, sf: null, bc: null, ctx: {}, popped: new Set(), logged: new Set(), origin: null, started: false};

function post(type, data) {
  if (crm.origin && window.parent !== window) window.parent.postMessage({source: 'ctid', type, data, leader: crm.leader}, crm.origin);
}
window.addEventListener('message', e => {
  if (!crm.origin || e.origin !== crm.origin || e.source !== window.parent) return;
  if (e.data?.type === 'ctid.clickToDial' && typeof e.data.number === 'string') dialFromCRM(e.data.number);
});
async function dialFromCRM(number, ctx) {
  const r = await clickToDial(number);
  if (r?.interactionId && ctx) crm.ctx[r.interactionId] = ctx;
}

function leaderElection(agentId) {
  if (crm.bc) return;
  const name = 'ctid-crm-' + agentId;
  crm.bc = new BroadcastChannel(name);
  crm.bc.onmessage = e => { if (crm.leader && e.data?.type === 'wrapped') logCall(e.data.call, e.data.code, e.data.notes); };
  if (navigator.locks) navigator.locks.request(name, () => { crm.leader = true; post('ctid.leader', {leader: true}); return new Promise(() => {}); });
  else crm.leader = true;
}

on('agent.state', d => post('ctid.agentState', d));
on('call', (c, type) => {
  const what = type.split('.')[1];
  if (what === 'notes' || what === 'controls') return;
  post('ctid.call' + what[0].toUpperCase() + what.slice(1), c);
  if (!crm.leader || c.direction !== 'IN' || !['offered', 'connected'].includes(what)) return;
  // A persistent connection may skip "offered": act on whichever comes first.
  if (crm.popped.has(c.interactionId)) return;
  crm.popped.add(c.interactionId);
  crm.sf?.setSoftphonePanelVisibility({visible: true, callback() {}});
  crm.sf?.searchAndScreenPop({searchParams: c.customerNumber, queryParams: '', defaultFieldValues: {Phone: c.customerNumber},
    callType: crm.sf.CALL_TYPE?.INBOUND || 'inbound', deferred: false, callback(r) {
      const recs = r?.success && r.returnValue ? Object.values(r.returnValue).filter(x => x && x.Id) : [];
      if (recs.length === 1) crm.ctx[c.interactionId] = {recordId: recs[0].Id, objectType: recs[0].RecordType};
    }});
});
onWrapped((c, code, notes) => {
  if (crm.leader) logCall(c, code, notes);
  else crm.bc?.postMessage({type: 'wrapped', call: c, code, notes});
});

function logCall(c, code, notes) {
  if (crm.logged.has(c.interactionId)) return;
  crm.logged.add(c.interactionId);
  const secs = c.connectedAt ? Math.max(0, Math.round(((c.endedAt ? Date.parse(c.endedAt) : now()) - Date.parse(c.connectedAt)) / 1000)) : 0;
  post('ctid.wrapped', {interactionId: c.interactionId, code, notes, durationSeconds: secs, call: c});
  if (!crm.sf) return;
  const x = crm.ctx[c.interactionId] || {}, inbound = c.direction === 'IN';
  const value = {entityApiName: 'Task', Subject: `${inbound ? 'Inbound' : 'Outbound'} call ${c.customerNumber}`, Status: 'Completed',
    CallType: inbound ? 'Inbound' : 'Outbound', CallObject: c.interactionId, CallDurationInSeconds: secs,
    CallDisposition: code, Description: notes || '', ActivityDate: new Date().toISOString().slice(0, 10)};
  if (x.recordId) value[/^(Contact|Lead)$/.test(x.objectType || '') ? 'WhoId' : 'WhatId'] = x.recordId;
  crm.sf.saveLog({value, callback(r) { if (r && !r.success) showErr('The call could not be logged in Salesforce.'); }});
}

async function initSalesforce() {
  const cfg = await loadConfig();
  let o; try { o = new URL(cfg.salesforceOrigin || ''); } catch { return; }
  crm.origin = o.origin;
  if (window.parent === window) return; // not framed by Salesforce
  const src = o.origin + '/support/api/63.0/lightning/opencti_min.js';
  await new Promise(res => document.head.append(h('script', {src, onload: res, onerror: res})));
  const oc = window.sforce?.opencti; if (!oc) { console.warn('ctid: Open CTI did not load from', o.origin); return; }
  crm.sf = oc;
  oc.enableClickToDial({callback() {}});
  oc.onClickToDial({listener: p => dialFromCRM(p.number, p.recordId ? {recordId: p.recordId, objectType: p.objectType} : undefined)});
  oc.notifyInitializationComplete();
}

// Once signed in (the configuration needs the session): elect a leader and
// start Open CTI.
onSnapshot(s => {
  leaderElection(s.agentId);
  if (!crm.started) { crm.started = true; initSalesforce(); }
});
