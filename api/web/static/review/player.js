// The recording player: the browser's audio controls, and a timeline with
// bookmarks, pauses and supervisor monitoring as markers; a marker (or its
// line in the list below) seeks there.
import {el, dur, fetchBlob} from './api.js';

const kindName = {bookmark: 'Bookmark', pause: 'Recording paused', monitor: 'Supervisor'};

export function player(r) {
  const audio = el('audio', {controls: true, preload: 'metadata', 'aria-label': 'Recording ' + r.name});
  const played = el('div', {class: 'played'});
  const line = el('div', {class: 'timeline', role: 'group', 'aria-label': 'Recording timeline with markers'}, played);
  const length = () => (isFinite(audio.duration) && audio.duration > 0) ? audio.duration * 1000 : Math.max(r.durationMs, 1);
  const seek = ms => { audio.currentTime = ms / 1000; if (audio.paused) audio.play().catch(() => {}); };
  const label = m => `${kindName[m.kind] || m.kind} at ${dur(m.offsetMs)}${m.label ? ': ' + m.label : ''}${m.by ? ' (' + m.by + ')' : ''}`;
  const marks = r.markers.map(m => {
    const b = el('button', {type: 'button', class: 'mark ' + m.kind, title: label(m), 'aria-label': label(m), 'data-offset': String(m.offsetMs),
      onclick: ev => { ev.stopPropagation(); seek(m.offsetMs); }});
    line.append(b);
    return [b, m];
  });
  const place = () => { for (const [b, m] of marks) b.style.left = (100 * Math.min(m.offsetMs, length()) / length()) + '%'; };
  place();
  audio.addEventListener('loadedmetadata', place);
  audio.addEventListener('timeupdate', () => { played.style.width = (100 * audio.currentTime * 1000 / length()) + '%'; });
  line.addEventListener('click', ev => { const b = line.getBoundingClientRect(); seek(length() * (ev.clientX - b.left) / b.width); });
  const status = el('p', {class: 'muted', role: 'status'}, 'Loading the recording…');
  fetchBlob(r.file).then(url => { audio.src = url; status.textContent = `${dur(r.durationMs)} recorded${r.markers.length ? ', ' + r.markers.length + ' markers' : ''}.`; })
    .catch(e => { status.textContent = e.message; });
  return el('section', {class: 'player', 'aria-label': 'Recording'},
    el('h3', {}, 'Recording'), audio, line, status,
    r.markers.length ? el('ol', {class: 'marks', 'aria-label': 'Markers'}, r.markers.map(m =>
      el('li', {}, el('button', {type: 'button', onclick: () => seek(m.offsetMs)}, label(m))))) : null);
}
