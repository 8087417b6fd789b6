// Call search: the filters as query parameters, results newest first, more
// pages by the server's cursor, and the same search as a CSV download.
import {$, api, el, fetchBlob, dur, when, showErr} from './api.js';
import {showDetail} from './detail.js';

let next = '', query = '', shown = 0;

function params() {
  const p = new URLSearchParams();
  const iso = v => v ? new Date(v).toISOString() : '';
  const add = (k, v) => { if (v) p.set(k, v); };
  add('from', iso($('fFrom').value)); add('to', iso($('fTo').value));
  add('customer', $('fCustomer').value.trim()); add('campaignId', $('fCampaign').value.trim());
  add('agentId', $('fAgent').value.trim()); add('direction', $('fDirection').value); add('wrapCode', $('fWrap').value.trim());
  add('hasRecording', $('fRec').value); add('hasBookmark', $('fBm').value);
  return p;
}

function row(r) {
  const tags = [r.hasRecording ? 'recorded' : null, r.hasBookmark ? 'bookmarked' : null, r.wrapCode || null].filter(Boolean);
  const dir = r.direction === 'IN' ? 'Inbound' : 'Outbound';
  return el('li', {}, el('button', {type: 'button', 'data-id': r.id, onclick: () => showDetail(r.id),
      'aria-label': `${dir} call with ${r.customerNumber || 'an unknown number'} on ${when(r.createdAt)}`},
    el('span', {}, `${dir} · ${r.customerNumber || 'unknown number'}`),
    el('span', {class: 'tags'}, tags.map(t => el('span', {}, t))),
    el('span', {class: 'sub'}, `${when(r.createdAt)} · ${r.campaignName || 'no campaign'} · ${r.agentName || 'no agent'}`),
    el('span', {class: 'sub'}, r.connectedAt ? `talk ${dur(r.talkMs)}` : (r.endReason || r.state))));
}

async function load(reset) {
  if (reset) { next = ''; shown = 0; $('results').replaceChildren(); query = params().toString(); }
  const p = new URLSearchParams(query); p.set('limit', '50'); if (next) p.set('cursor', next);
  try {
    const page = await api('GET', '/history/interactions?' + p);
    page.items.forEach(r => $('results').append(row(r)));
    shown += page.items.length; next = page.next;
    $('more').hidden = !next;
    $('count').textContent = shown ? `${shown} call${shown === 1 ? '' : 's'}${next ? ' so far' : ''}, newest first.` : 'No calls match.';
  } catch (e) { if (e.status !== 401) showErr(e.message); }
}

let ready = false;
export function initSearch(run) {
  if (!ready) {
    ready = true;
    $('search').addEventListener('submit', ev => { ev.preventDefault(); load(true); });
    $('more').addEventListener('click', () => load(false));
    $('export').addEventListener('click', async ev => {
      ev.preventDefault();
      try {
        const url = await fetchBlob('/history/export?' + params());
        const a = el('a', {href: url, download: 'calls.csv'}); document.body.append(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (e) { showErr(e.message); }
    });
  }
  if (run) load(true);
}
