// The storefront API client. Every call carries the raw initData in
// X-Telegram-Init-Data; the server validates it and answers 401 without it.

import { t } from './i18n.js';

export const INIT_DATA_HEADER = 'X-Telegram-Init-Data';

// The API lives beside the page: /app/ → /api/ (a host may mount both
// under a prefix, and relative URLs follow it).
export const API_BASE = new URL('../api/', document.baseURI).href;
export const DEV_INIT_DATA_URL = new URL('../dev/init-data', document.baseURI).href;

let initData = '';
// session is the token of POST /api/session: it keeps a page kept open
// past its init data's 24 hours (Telegram Desktop) working.
let session = '';

export const SESSION_HEADER = 'X-TeleCart-Session';

export function setSession(token) {
  session = token || '';
}

export function setInitData(raw) {
  initData = raw || '';
}

export function getInitData() {
  return initData;
}

export class ApiError extends Error {
  constructor(status, code, message, fields, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 for a network error
    this.code = code;
    this.fields = fields || null;
    // Facts to word the error with, such as an out-of-stock product's name.
    this.details = details && typeof details === 'object' ? details : {};
  }
}

// apiURL resolves a path such as "/products?q=tea" against API_BASE.
export function apiURL(path) {
  return new URL(path.replace(/^\//, ''), API_BASE).href;
}

// headers returns the request headers of an API call.
export function apiHeaders(withBody) {
  const h = { Accept: 'application/json', [INIT_DATA_HEADER]: initData };
  if (session) h[SESSION_HEADER] = session;
  if (withBody) h['Content-Type'] = 'application/json';
  return h;
}

// api calls the storefront API and answers {status, data, headers}; any
// answer but 2xx throws an ApiError with the server's code, message,
// per-field messages and details. The server's messages are English: a
// page shows the buyer errorText(err) (i18n.js) instead.
export async function api(path, { method = 'GET', body, signal, keepalive = false } = {}) {
  let res;
  try {
    res = await fetch(apiURL(path), {
      method,
      headers: apiHeaders(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      keepalive,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', t('app.no_connection'));
  }
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || `http_${res.status}`,
      e.message || t('app.server_error', { status: res.status }), e.fields, e.details);
  }
  return { status: res.status, data, headers: res.headers };
}

// query builds "?a=1&b=2" from an object, skipping empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
