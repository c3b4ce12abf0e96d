// The admin API client. The host's own admin auth (a cookie session, a
// proxy) rides on the browser's credentials; with TeleCart's BearerAuth the
// token kept in sessionStorage goes in Authorization. A 401 anywhere forgets
// the token and tells the page, saying whether the server asks for a bearer
// token (WWW-Authenticate: Bearer) or for the host's own sign-in.

const TOKEN_KEY = 'telecart.admin.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

let unauthorized = () => {};

// onUnauthorized sets what happens when the API answers 401: fn(bearer,
// message), bearer true when the answer asks for a bearer token, message the
// answer's error message (the host's login may say where to sign in).
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// ApiError is a failed call: status 0 when the server was not reached;
// fields holds the per-field messages of a 422; bearer tells a 401 that asks
// for a bearer token from one that asks for the host's own sign-in.
export class ApiError extends Error {
  constructor(status, code, message, fields, bearer = false) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields || {};
    this.bearer = bearer;
  }
}

// The API lives beside the page: /admin/ → /admin/api/.
function apiURL(path, query) {
  const url = new URL(`api/${path.replace(/^\/+/, '')}`, document.baseURI);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === '') continue;
    url.searchParams.set(k, String(v));
  }
  return url;
}

// api calls the admin API and answers the decoded JSON, or throws an
// ApiError. opts: method, query (an object), body (JSON-encoded), signal,
// token (instead of the stored one; a 401 then only throws).
export async function api(path, opts = {}) {
  const res = await send(path, opts, 'application/json');
  const text = await res.text();
  return text ? parseJSON(text) : null;
}

// apiBlob calls the admin API for a file (a QR code, a CSV export) and
// answers it as a Blob, or throws an ApiError as api does.
export async function apiBlob(path, opts = {}) {
  const res = await send(path, opts, '*/*');
  return res.blob();
}

function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// send makes the call and answers a 2xx response; anything else throws.
async function send(path, opts, accept) {
  const { method = 'GET', query, body, signal } = opts;
  const token = opts.token ?? getToken();
  const headers = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(apiURL(path, query), {
      method, headers, signal, cache: 'no-store', credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'network');
  }
  if (res.ok) return res;
  const text = await res.text();
  const data = text ? parseJSON(text) : null;
  if (res.status === 401) {
    const bearer = /^\s*bearer\b/i.test(res.headers.get('WWW-Authenticate') || '');
    const e = (data && data.error) || {};
    if (opts.token === undefined) {
      clearToken();
      unauthorized(bearer, e.message || '');
    }
    throw new ApiError(401, e.code || 'unauthorized', e.message || 'Unauthorized', null, bearer);
  }
  const e = (data && data.error) || {};
  throw new ApiError(res.status, e.code || `http_${res.status}`, e.message || `HTTP ${res.status}`, e.fields);
}

// isAbort tells an aborted request, which views ignore.
export function isAbort(err) {
  return err && err.name === 'AbortError';
}
