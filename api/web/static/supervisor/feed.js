// The floor feed: a websocket with a one-time ticket; a hello carries the
// whole floor, then one message per change. On a drop it reconnects with
// after=<last sequence> and gets only what it missed (or a fresh hello).
import {api} from '../review/api.js';

export const floor = {agents: new Map(), calls: new Map(), queues: new Map(), campaigns: new Map(), threshold: 20, seq: 0};
let ws, onChange = () => {}, onConn = () => {}, retry = 500, stopped = false;

function apply(m) {
  const d = m.data;
  switch (m.type) {
  case 'hello':
    floor.agents.clear(); floor.calls.clear(); floor.queues.clear(); floor.campaigns.clear();
    d.agents.forEach(a => floor.agents.set(a.id, a)); d.calls.forEach(c => floor.calls.set(c.id, c));
    d.queues.forEach(q => floor.queues.set(q.campaignId, q)); d.campaigns.forEach(c => floor.campaigns.set(c.id, c.name));
    floor.threshold = d.serviceLevelThresholdSeconds; break;
  case 'agent': floor.agents.set(d.id, d); break;
  case 'agent.gone': floor.agents.delete(Number(d.id)); break;
  case 'call': floor.calls.set(d.id, d); break;
  case 'call.gone': floor.calls.delete(d.id); break;
  case 'queue': floor.queues.set(d.campaignId, d); floor.campaigns.set(d.campaignId, d.campaignName); break;
  default: return false;
  }
  return true;
}

async function connect() {
  if (stopped) return;
  let t;
  try { t = await api('POST', '/supervisor/ws-ticket'); } catch (e) {
    onConn(false, e.status === 403 ? 'The floor is for supervisors and admins.' : e.message);
    if (e.status !== 401 && e.status !== 403) setTimeout(connect, retry = Math.min(retry * 2, 10000));
    return;
  }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${proto}//${location.host}${t.url}${floor.seq ? '&after=' + floor.seq : ''}`);
  ws.onopen = () => { retry = 500; onConn(true); };
  ws.onmessage = ev => {
    const m = JSON.parse(ev.data);
    if (m.seq) floor.seq = Math.max(floor.seq, m.seq);
    if (m.type === 'hello') floor.seq = m.seq;
    if (apply(m)) onChange(m);
  };
  ws.onclose = () => { onConn(false); if (!stopped) setTimeout(connect, retry = Math.min(retry * 2, 10000)); };
}

export function startFeed(changed, conn) { onChange = changed; onConn = conn; stopped = false; connect(); }
export function stopFeed() { stopped = true; if (ws) ws.close(); }
