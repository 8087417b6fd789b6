// Which Salesforce record a call is logged against (the Task's WhoId or
// WhatId), and the agent's pick when a screen pop matched several records.
//
// The link is kept in the browser, keyed by interaction id: POST
// /agent/calls has no field for CRM context, and ctid has no business
// storing Salesforce ids. Every adaptor of the agent in this browser storage
// partition shares it over the CRM BroadcastChannel (crm.js) the moment it
// is known (click-to-dial, a single match, the agent's pick), and the tab
// that wraps sends its choice with the wrap, so the leader that logs the call
// has it even when another tab placed or wrapped it. Links are also kept in
// localStorage (the last 50), so a tab opened or reloaded during the call
// still knows them.
//
// Precedence: the record the call was linked to (the clicked record, the
// one screen-pop match, or the agent's pick) — otherwise the record the
// agent is on in Salesforce (getAppViewInfo / onNavigationChange) when the
// call is wrapped: manual, preview and dialler calls, and inbound calls
// with no match or several.
import {$, h, show} from './dom.js';
import {S, onRender} from './state.js';

const LS = 'ctid.crm.links', KEEP = 50;
const links = new Map(load()); // interactionId → {recordId, objectType, recordName}
function load() { try { const a = JSON.parse(localStorage.getItem(LS) || '[]'); return Array.isArray(a) ? a : []; } catch { return []; } }
function save() { try { localStorage.setItem(LS, JSON.stringify([...links].slice(-KEEP))); } catch {} }
const matches = new Map(); // interactionId → [{recordId, objectType, recordName}]
let view = null;           // the record the agent is on, or null
let active = false;        // Open CTI is running in this adaptor
let share = () => {};

// record normalises an Open CTI record ({Id, Name, RecordType} from a
// screen pop, {recordId, recordName, objectType} from navigation and
// click-to-dial) to {recordId, objectType, recordName}.
export function record(r) {
  const id = r?.recordId || r?.Id;
  return id ? {recordId: String(id), objectType: String(r.objectType || r.RecordType || ''), recordName: String(r.recordName || r.Name || '')} : null;
}

export const setActive = on => { active = on; };
export const setShare = f => { share = f; };
export const setView = v => { view = record(v); };
export const viewRecord = () => view;

// link ties a call to a record; local=true when it came from another tab.
export function link(id, rec, local) {
  rec = record(rec); if (!id || !rec) return;
  links.delete(id); links.set(id, rec); // newest last, for the cap
  save();
  if (!local) share({type: 'link', id, rec});
}
export function setMatches(id, recs, local) {
  recs = (recs || []).map(record).filter(Boolean);
  if (!id || recs.length < 2) return;
  matches.set(id, recs);
  if (!local) share({type: 'matches', id, recs});
}
// recordFor is what the call would be logged against now.
export const recordFor = id => links.get(id) || (local(id) && links.get(id)) || view;
// local reloads from localStorage a link another tab saved before this one
// listened (true when found).
function local(id) { const a = load().find(x => x[0] === id); if (a) links.set(id, record(a[1])); return !!a; }

// The picker: shown while a call that matched several records is on the
// adaptor (call or wrap), so the agent chooses before the Task is saved.
const sel = h('select', {id: 'crmPick', 'aria-describedby': 'crmPickHelp'});
const box = h('section', {id: 'crmLink', class: 'card', 'aria-label': 'Salesforce record', hidden: true},
  h('label', {for: 'crmPick'}, 'Log this call against'), sel,
  h('p', {id: 'crmPickHelp', class: 'hint'}, 'Several Salesforce records have this number: choose the one the call was about.'));
sel.addEventListener('change', () => {
  const id = sel.dataset.i, recs = matches.get(id) || [], r = recs.find(x => x.recordId === sel.value) || (view?.recordId === sel.value ? view : null);
  if (r) link(id, r);
});
$('main')?.insertBefore(box, $('wrap'));

const label = r => `${r.recordName || r.recordId}${r.objectType ? ` (${r.objectType})` : ''}`;
onRender(s => {
  const id = s.snap?.call?.interactionId, recs = (active && id && matches.get(id)) || [];
  show(box, recs.length > 1);
  if (recs.length < 2) return;
  const opts = [...recs]; if (view && !opts.some(r => r.recordId === view.recordId)) opts.push({...view, recordName: `The record you are on: ${label(view)}`, objectType: ''});
  const k = id + JSON.stringify(opts) + (links.get(id)?.recordId || '');
  if (sel.dataset.k === k) return;
  sel.dataset.k = k; sel.dataset.i = id;
  sel.replaceChildren(h('option', {value: '', disabled: true}, 'Choose a record…'), ...opts.map(r => h('option', {value: r.recordId}, label(r))));
  sel.value = links.get(id)?.recordId || '';
});
