// The fetch wrapper the pages share (adaptor, review and floor, the
// Salesforce Voice connector): a bearer token, a JSON body, and a problem
// (RFC 9457 problem+json) turned into an Error whose message is a sentence
// for a person, whose status is the HTTP status (0: unreachable) and whose
// problem is the server's problem object ({} when there is none). Each page
// passes its own hooks:
//   token()             the bearer token now (none: no Authorization header)
//   onExpired()         a 401 on anything but POST /auth/login
//   base                where the API is ('/api/v1')
//   unreachable         the sentence when fetch itself fails
//   message(p, status)  the sentence for a problem p answered with status
// A FormData body is sent as it is (multipart, the browser sets its
// boundary); any other body as JSON.
export const API = '/api/v1';

export function client({token = () => null, onExpired = () => {}, base = API,
  unreachable = 'Cannot reach the server; check your network.',
  message = (p, status) => p.detail || p.title || `The server answered ${status}.`} = {}) {
  // api resolves with the JSON reply (null for 204 or a body that is not
  // JSON) or rejects with the Error above.
  return async function api(method, path, body) {
    const headers = {Accept: 'application/json'};
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    const opt = {method, headers};
    if (body instanceof FormData) opt.body = body;
    else if (body !== undefined) { headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
    let r;
    try { r = await fetch(base + path, opt); } catch {
      throw Object.assign(new Error(unreachable), {status: 0, problem: {}});
    }
    const data = (r.headers.get('content-type') || '').includes('json') ? await r.json().catch(() => null) : null;
    if (!r.ok) {
      const p = data || {};
      const e = Object.assign(new Error(message(p, r.status)), {status: r.status, problem: p});
      if (r.status === 401 && path !== '/auth/login') onExpired();
      throw e;
    }
    return data;
  };
}
