// Conference parties: who is in the call besides me and the customer, each
// with Drop (POST /agent/conference/parties/{id}/drop); the limit comes from
// the campaign (ConferenceView.max).
import {$, h, show, replaceIfChanged} from './dom.js';
import {S, onRender, on, render} from './state.js';
import {act} from './api.js';

on('conference.state', d => { S.ext.conference = d.parties?.length ? d : null; });

async function drop(p) {
  const r = await act('POST', `/agent/conference/parties/${encodeURIComponent(p.id)}/drop`);
  if (r && S.ext.conference) {
    // The conference.state event follows; drop the row at once meanwhile.
    S.ext.conference = {...S.ext.conference, parties: S.ext.conference.parties.filter(q => q.id !== p.id)};
    if (!S.ext.conference.parties.length) S.ext.conference = null;
    render();
  }
}

onRender(s => {
  const cf = s.snap?.call ? s.ext.conference : null;
  show('confParties', !!cf);
  if (!cf) return;
  replaceIfChanged($('confParties'), JSON.stringify(cf.parties), () => cf.parties.map(p => h('li', {},
    h('span', {}, (p.targetLabel || p.target) + (p.type === 'agent' ? ' (agent)' : '')),
    h('button', {type: 'button', class: 'drop', 'aria-label': 'Drop ' + (p.targetLabel || p.target), onclick: () => drop(p)}, 'Drop'))));
});
