// DOM helpers shared by every adaptor module: element lookup and creation,
// show/hide, durations, and the one modal dialog (ask).
export const $ = id => document.getElementById(id);

// h builds an element: h('button', {type: 'button', onclick: f}, 'Label').
// Attributes starting with "on" become listeners; true sets a boolean attribute.
export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k != null && k !== false) e.append(k);
  return e;
}

export const show = (el, on) => { (typeof el === 'string' ? $(el) : el).hidden = !on; };

// mmss renders a duration in ms as m:ss (or h:mm:ss).
export function mmss(ms) {
  const s = Math.max(0, Math.round(ms / 1000)), m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

// replaceIfChanged redraws a container only when its content key changed,
// so focus and scroll survive the once-a-second render.
export function replaceIfChanged(el, key, build) {
  if (el.dataset.k === key) return false;
  el.dataset.k = key;
  el.replaceChildren(...build().filter(x => x != null && x !== false));
  return true;
}

// ask shows the modal dialog and resolves with its FormData, or null when
// cancelled. check(fd) may return a sentence to keep the dialog open.
export function ask(title, body, ok = 'OK', check) {
  const d = $('dlg');
  $('dlgTitle').textContent = title; $('dlgBody').replaceChildren(...body.filter(x => x != null && x !== false)); $('dlgOk').textContent = ok; $('dlgErr').textContent = '';
  if (d.open) d.close('');
  d.showModal();
  return new Promise(res => {
    const f = $('dlgForm');
    f.onsubmit = async ev => {
      if (ev.submitter?.value !== 'ok') return;
      ev.preventDefault();
      const fd = new FormData(f);
      if (check) { const m = await check(fd); if (m) { $('dlgErr').textContent = m; return; } }
      d.close('ok'); res(fd);
    };
    d.onclose = () => { if (d.returnValue !== 'ok') res(null); d.returnValue = ''; };
  });
}
