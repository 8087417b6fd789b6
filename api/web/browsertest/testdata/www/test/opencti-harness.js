// The harness page's script (a file, not inline: ctid's pages are served
// with Content-Security-Policy script-src 'self').
window.openctiCalls = [];
const q = new URLSearchParams(location.search), tabs = Number(q.get('tabs') || 1);
for (let i = 0; i < tabs; i++) {
  const f = document.createElement('iframe');
  f.name = 'ABCD'[i]; f.title = 'Adaptor ' + f.name;
  // As Salesforce frames the adapter URL: with sfdcIframeOrigin and mode.
  f.src = '/adaptor/index.html?sfdcIframeOrigin=' + encodeURIComponent(location.origin) + '&mode=Lightning';
  document.getElementById('frames').append(f);
}
window.onOpenctiCall = () => {
  document.getElementById('n').textContent = openctiCalls.length;
  document.getElementById('log').textContent = openctiCalls.map(c => c.frame + ' ' + c.method + ' ' + JSON.stringify(c.args)).join('\n');
};
window.ctidMessages = [];
addEventListener('message', e => { if (e.origin === location.origin && e.data && e.data.source === 'ctid') ctidMessages.push(e.data); });
window.adaptors = () => [...document.querySelectorAll('iframe')].map(f => f.contentWindow);
window.countCalls = m => openctiCalls.filter(c => c.method === m).length;
document.getElementById('c2d').onclick = () => frames[0].sforceHarness.clickToDial(Number(document.getElementById('num').value.replace(/\D/g, '')));
// navigateAll: the agent opens a record (every frame's Salesforce tab).
window.navigateAll = v => adaptors().forEach(f => f.sforceHarness.navigate(v));
