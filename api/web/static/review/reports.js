// Reports: per agent or per campaign, by day or 15 minutes, as a table with
// the range totals last; the CSV link downloads the same figures.
import {$, api, el, dur, fetchBlob, showErr} from './api.js';

const pct = v => v == null ? '' : (100 * v).toFixed(1) + '%';
const cols = {
  agents: [['Start', r => r.start], ['Agent', r => r.agentName], ['Handled', r => r.handled], ['Talk', r => dur(r.talkMs)],
    ['Hold', r => dur(r.holdMs)], ['Wrap', r => dur(r.wrapMs)], ['AHT', r => dur(r.ahtMs)], ['Ready', r => dur(r.readyMs)],
    ['Paused', r => dur(r.pausedMs)], ['Pause by reason', r => Object.entries(r.pauseByReasonMs || {}).map(([k, v]) => `${k} ${dur(v)}`).join(', ')],
    ['Occupancy', r => pct(r.occupancy)]],
  campaigns: [['Start', r => r.start], ['Campaign', r => r.campaignName], ['Offered', r => r.offered], ['Answered', r => r.answered],
    ['Abandoned', r => r.abandoned], ['Service level', r => pct(r.serviceLevel)], ['ASA', r => r.asaMs == null ? '' : dur(r.asaMs)],
    ['Dialled', r => r.dialled], ['Connected', r => r.connected], ['Callbacks', r => r.callbacks]],
};

function query() {
  const from = $('rFrom').value, to = $('rTo').value;
  const end = new Date(to + 'T00:00:00Z'); end.setUTCDate(end.getUTCDate() + 1);
  return new URLSearchParams({from: from + 'T00:00:00Z', to: end.toISOString(), interval: $('rInterval').value});
}

function table(kind, rep) {
  const c = cols[kind];
  const fmtStart = s => { const d = new Date(s); return rep.interval === 'day' ? d.toISOString().slice(0, 10) : d.toISOString().slice(0, 16).replace('T', ' '); };
  const tr = (r, total) => el('tr', {class: total ? 'total' : ''}, c.map(([, f], i) => el('td', {}, i === 0 ? (total ? 'Total' : fmtStart(r.start)) : String(f(r)))));
  return el('table', {}, el('caption', {class: 'muted'}, `Times in UTC; service level answered within ${rep.serviceLevelThresholdSeconds || 20} s.`),
    el('thead', {}, el('tr', {}, c.map(([h]) => el('th', {scope: 'col'}, h)))),
    el('tbody', {}, rep.rows.map(r => tr(r, false)), rep.totals.map(r => tr(r, true))));
}

export function initReports() {
  const today = new Date().toISOString().slice(0, 10);
  $('rFrom').value = today; $('rTo').value = today;
  $('repForm').addEventListener('submit', async ev => {
    ev.preventDefault();
    const kind = $('rKind').value;
    try {
      const rep = await api('GET', `/reports/${kind}?` + query());
      $('repOut').replaceChildren(rep.rows.length || rep.totals.length ? table(kind, rep) : el('p', {}, 'Nothing to report for these days.'));
    } catch (e) { if (e.status !== 401) showErr(e.message); }
  });
  $('repCsv').addEventListener('click', async ev => {
    ev.preventDefault();
    try {
      const q = query(); q.set('format', 'csv');
      const url = await fetchBlob(`/reports/${$('rKind').value}?` + q);
      const a = el('a', {href: url, download: $('rKind').value + '.csv'}); document.body.append(a); a.click(); a.remove();
    } catch (e) { showErr(e.message); }
  });
}
