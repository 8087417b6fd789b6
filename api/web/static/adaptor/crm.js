// CRM integration: Salesforce Open CTI and a postMessage bridge to the
// framing page. The Open CTI glue (static/opencti/callcenter.xml) points
// Salesforce at adaptor/index.html; this module is the adaptor's side of it.
//
// Interface (kept stable for the Salesforce work):
//   - The Salesforce origin comes from configuration (CTID_SALESFORCE_ORIGIN,
//     served as GET /api/v1/agent/config salesforceOrigin), never from the
//     page's query string. When set and the adaptor is framed, the adaptor
//     loads <origin>/support/api/63.0/lightning/opencti_min.js and calls
//     sforce.opencti: getCallCenterSettings (panel size), enable/
//     disableClickToDial (enabled only while the agent is idle),
//     onClickToDial (→ show the panel, dial the number), getAppViewInfo and
//     onNavigationChange (the record the agent is on), setSoftphoneItemLabel
//     and setSoftphoneItemIcon (state in the utility bar),
//     notifyInitializationComplete, setSoftphonePanelVisibility and
//     searchAndScreenPop on an inbound call (leader only), saveLog (a Task)
//     once the call is wrapped, then refreshView (leader only). The record
//     a Task is linked to: crmrecord.js.
//   - postMessage to window.parent, target origin = the Salesforce origin:
//     {source:'ctid', type, data, leader} with type ctid.leader,
//     ctid.agentState, ctid.call<Offered|Dialing|Connected|Ended>, ctid.wrapped.
//   - postMessage from window.parent (same origin check):
//     {type:'ctid.clickToDial', number[, recordId, objectType, recordName]}
//     dials like onClickToDial (number: string or number).
//   - One adaptor per agent and browser storage partition is the leader
//     (Web Lock "ctid-crm-<agentId>"); others hand their wraps to it over
//     BroadcastChannel, so a call is popped and logged once. The channel
//     also carries each call's Salesforce record (crmrecord.js) and the
//     sentences of Salesforce failures, shown in every tab.
//
// Open CTI shapes relied on (Salesforce Open CTI Developer Guide, Lightning
// Experience methods, developer.salesforce.com/docs/service/api-cti/guide):
//   - every method's callback gets {success, returnValue, errors}, errors an
//     array of messages when success is false;
//   - onClickToDial payload {number (typed number), recordId, recordName,
//     objectType, …} (sforce-api-cti-onclicktodial-lex);
//   - getAppViewInfo returnValue and onNavigationChange payload {url,
//     recordId, recordName, objectType} — only url on a list view
//     (sforce-api-cti-getappviewinfo-lex, -onnavigationchange-lex);
//   - refreshView({callback}) refreshes the active view and its related
//     lists, so a saved Task shows (sforce-api-cti-refreshview-lex);
//   - saveLog({value:{entityApiName:'Task', …}}); searchAndScreenPop's
//     returnValue maps record ids to {Id, Name, RecordType} ({} when nothing
//     matched);
//   - getCallCenterSettings returnValue maps "/section/item" to the value
//     from callcenter.xml; setSoftphonePanelHeight({heightPX}),
//     setSoftphonePanelWidth({widthPX}), setSoftphoneItemLabel({label}),
//     setSoftphoneItemIcon({key}) with an SLDS utility icon name.
import {h} from './dom.js';
import {S, on, now, onRender, idle, agentState, LABEL, render} from './state.js';
import {showErr} from './api.js';
import {loadConfig, onSnapshot} from './session.js';
import {clickToDial} from './dialer.js';
import {onWrapped} from './wrap.js';
import {link, setMatches, setView, setActive, setShare, recordFor, record} from './crmrecord.js';

const crm = {leader: false, sf: null, bc: null, popped: new Set(), logged: new Set(), origin: null, started: false,
  c2d: null, item: '', settings: {}};

function post(type, data) {
  if (crm.origin && window.parent !== window) window.parent.postMessage({source: 'ctid', type, data, leader: crm.leader}, crm.origin);
}
window.addEventListener('message', e => {
  if (!crm.origin || e.origin !== crm.origin || e.source !== window.parent) return;
  const d = e.data;
  if (d?.type === 'ctid.clickToDial' && ['string', 'number'].includes(typeof d.number)) dialFromCRM(d);
});

// errText makes Open CTI's errors (an array of messages; objects with a
// description or message in some releases) one readable clause.
const errText = errs => (Array.isArray(errs) ? errs : errs ? [errs] : []).map(x => typeof x === 'string' ? x : x?.description || x?.message || '')
  .filter(Boolean).join('; ').replace(/[.\s]+$/, '');
// tell shows a Salesforce failure in this tab and the agent's other tabs.
function tell(msg) { showErr(msg); crm.bc?.postMessage({type: 'error', msg}); }
// cb is the callback for an Open CTI call whose failure the agent should
// hear about: "Salesforce could not <what>: <errors>."
const cb = (what, then) => r => {
  if (r && r.success === false) { const e = errText(r.errors); tell(`Salesforce could not ${what}${e ? ': ' + e : ''}.`); }
  else then?.(r?.returnValue);
};

// dialFromCRM: click-to-dial. Open CTI types the number as a number
// (onClickToDial payload); the API takes a string. The panel is shown first
// so a refusal ("you are on a call") is seen even in a minimised panel.
async function dialFromCRM(p) {
  crm.sf?.setSoftphonePanelVisibility({visible: true, callback: cb('open the phone panel')});
  const number = String(p.number ?? '').trim();
  const r = await clickToDial(number);
  if (r?.interactionId && p.recordId) link(r.interactionId, p);
}

function leaderElection(agentId) {
  if (crm.bc) return;
  const name = 'ctid-crm-' + agentId;
  crm.bc = new BroadcastChannel(name);
  setShare(m => crm.bc.postMessage(m));
  crm.bc.onmessage = e => {
    const m = e.data || {};
    if (m.type === 'wrapped' && crm.leader) logCall(m.call, m.code, m.notes, m.rec);
    else if (m.type === 'link') { link(m.id, m.rec, true); render(); }
    else if (m.type === 'matches') { setMatches(m.id, m.recs, true); render(); }
    else if (m.type === 'error' && typeof m.msg === 'string') showErr(m.msg);
  };
  const lead = () => { crm.leader = true; document.documentElement.dataset.crmLeader = 'true'; post('ctid.leader', {leader: true}); };
  if (navigator.locks) navigator.locks.request(name, () => { lead(); return new Promise(() => {}); });
  else lead();
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
  crm.sf?.setSoftphonePanelVisibility({visible: true, callback: cb('open the phone panel')});
  crm.sf?.searchAndScreenPop({searchParams: c.customerNumber, queryParams: '', defaultFieldValues: {Phone: c.customerNumber},
    callType: crm.sf.CALL_TYPE?.INBOUND || 'inbound', deferred: false, callback: cb('look up the caller', v => {
      const recs = v && typeof v === 'object' ? Object.values(v).filter(x => x && x.Id) : [];
      // One match: that record. None: the record the agent is on at wrap
      // (perhaps one they create now). Several: the agent picks.
      if (recs.length === 1) link(c.interactionId, recs[0]);
      else if (recs.length > 1) setMatches(c.interactionId, recs);
      render();
    })});
});
onWrapped((c, code, notes) => {
  const rec = recordFor(c.interactionId);
  if (crm.leader) logCall(c, code, notes, rec);
  else crm.bc?.postMessage({type: 'wrapped', call: c, code, notes, rec});
});

// localDate is the agent's calendar date (ActivityDate is a date, not an
// instant: a call at 00:30 in London is logged on that day, not the UTC one).
function localDate(d = new Date()) {
  const p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function logCall(c, code, notes, rec) {
  if (!c || crm.logged.has(c.interactionId)) return;
  crm.logged.add(c.interactionId);
  const secs = c.connectedAt ? Math.max(0, Math.round(((c.endedAt ? Date.parse(c.endedAt) : now()) - Date.parse(c.connectedAt)) / 1000)) : 0;
  post('ctid.wrapped', {interactionId: c.interactionId, code, notes, durationSeconds: secs, call: c});
  if (!crm.sf || crm.settings['/reqCtid/reqLogCalls'] === 'false') return;
  const x = record(rec) || recordFor(c.interactionId) || {}, inbound = c.direction === 'IN';
  const value = {entityApiName: 'Task', Subject: `${inbound ? 'Inbound' : 'Outbound'} call ${c.customerNumber}`, Status: 'Completed',
    Type: 'Call', TaskSubtype: 'Call',
    CallType: inbound ? 'Inbound' : 'Outbound', CallObject: c.interactionId, CallDurationInSeconds: secs,
    CallDisposition: code, Description: notes || '', ActivityDate: localDate()};
  // Contacts and Leads are "who"; anything else (Account, Case, …) "what".
  if (x.recordId) value[/^(Contact|Lead)$/.test(x.objectType || '') ? 'WhoId' : 'WhatId'] = x.recordId;
  crm.sf.saveLog({value, callback: cb(`log the call with ${c.customerNumber}`, () => crm.sf.refreshView?.({callback: cb('refresh the page')}))});
}

// The utility bar shows the agent's state; click-to-dial is on only while
// the agent could dial (logged in, Ready or Paused, no call).
const ICON = {ready: 'call', paused: 'away', reserved: 'call', on_call: 'call', on_wrap: 'clock'};
onRender(() => {
  const sf = crm.sf; if (!sf) return;
  const can = !!S.snap && idle();
  if (can !== crm.c2d) { crm.c2d = can; (can ? sf.enableClickToDial : sf.disableClickToDial)({callback: cb(can ? 'turn on click-to-dial' : 'turn off click-to-dial')}); }
  const st = S.snap ? agentState() : 'logged_out', label = 'Phone: ' + (LABEL[st] || 'Logged out');
  if (label !== crm.item) {
    crm.item = label;
    sf.setSoftphoneItemLabel?.({label, callback() {}});
    sf.setSoftphoneItemIcon?.({key: ICON[st] || 'offline', callback() {}});
  }
});

// Panel size from the call centre definition (getCallCenterSettings), not
// the page's query string. Salesforce takes heights of 240–2,560 px and
// widths of 200–1,920 px (sforce-api-cti-setsoftphonepanelheight-lex,
// -setsoftphonepanelwidth-lex); other values leave Salesforce's size.
function applySettings(v) {
  crm.settings = v || {};
  const px = (k, lo, hi) => { const n = Number(crm.settings[k]); return Number.isInteger(n) && n >= lo && n <= hi ? n : 0; };
  const hgt = px('/reqGeneralInfo/reqSoftphoneHeight', 240, 2560), wid = px('/reqGeneralInfo/reqSoftphoneWidth', 200, 1920);
  if (hgt) crm.sf.setSoftphonePanelHeight?.({heightPX: hgt, callback: cb('size the phone panel')});
  if (wid) crm.sf.setSoftphonePanelWidth?.({widthPX: wid, callback: cb('size the phone panel')});
}

async function initSalesforce() {
  const cfg = await loadConfig();
  let o; try { o = new URL(cfg.salesforceOrigin || ''); } catch { return; }
  crm.origin = o.origin;
  if (window.parent === window) return; // not framed by Salesforce
  const src = o.origin + '/support/api/63.0/lightning/opencti_min.js';
  await new Promise(res => document.head.append(h('script', {src, onload: res, onerror: res})));
  const oc = window.sforce?.opencti; if (!oc) { console.warn('ctid: Open CTI did not load from', o.origin); return; }
  crm.sf = oc; setActive(true);
  oc.getCallCenterSettings?.({callback: cb('read the call centre settings', applySettings)});
  oc.onClickToDial({listener: p => dialFromCRM(p || {})});
  oc.getAppViewInfo?.({callback: r => { if (r?.success) setView(r.returnValue); }});
  oc.onNavigationChange?.({listener: p => { setView(p); render(); }});
  render(); // click-to-dial and the utility bar item for the current state
  oc.notifyInitializationComplete();
}

// Once signed in (the configuration needs the session): elect a leader and
// start Open CTI.
onSnapshot(s => {
  leaderElection(s.agentId);
  if (!crm.started) { crm.started = true; initSalesforce(); }
});
