// Client events (Pulse): queued in localStorage with a client id and sent
// in batches to POST /api/ingest. An event leaves the queue only after a
// 200 answer, so a failed request, a closed app or a reload loses none;
// the server deduplicates by id, so sending one twice is harmless.

import { apiURL, apiHeaders, getInitData } from './api.js';
import { KEYS, getJSON, setJSON, uuid } from './util.js';

export const EVENTS = Object.freeze({
  WEBAPP_OPEN: 'WEBAPP_OPEN',
  PRODUCT_VIEW: 'PRODUCT_VIEW',
  ADD_TO_CART: 'ADD_TO_CART',
  CART_VIEW: 'CART_VIEW',
  CHECKOUT_START: 'CHECKOUT_START',
  SEARCH: 'SEARCH',
});

const MAX_BATCH = 50; // the server's limit per request
const MAX_QUEUE = 1000; // oldest events go past this
const MAX_AGE_MS = 29 * 24 * 3600 * 1000; // the server refuses events older than 30 days
const BASE_DELAY = 1000;
const MAX_DELAY = 60000;

let batchSize = MAX_BATCH;
let failures = 0;
let timer = 0;
let inflight = null;
let paused = false; // 401: the initData expired; wait for the next launch
let started = false;

function load() {
  const q = getJSON(KEYS.events, []);
  return Array.isArray(q) ? q.filter((e) => e && typeof e.id === 'string' && typeof e.event === 'string') : [];
}

function save(q) {
  setJSON(KEYS.events, q);
}

// queued returns a copy of the queue (for diagnostics and tests).
export function queued() {
  return load();
}

// track queues an event and schedules a send.
export function track(name, payload = {}) {
  if (!EVENTS[name]) return;
  const q = load();
  q.push({ id: uuid(), event: name, occurred_at: new Date().toISOString(), payload: payload || {} });
  if (q.length > MAX_QUEUE) q.splice(0, q.length - MAX_QUEUE);
  save(q);
  // While retries back off, a new event waits for the next retry.
  if (started && failures === 0) schedule(400);
}

function schedule(ms) {
  clearTimeout(timer);
  if (paused) return;
  timer = setTimeout(() => { flush(); }, ms);
}

function backoff(retryAfterMs) {
  failures++;
  const exp = Math.min(MAX_DELAY, BASE_DELAY * 2 ** Math.min(failures - 1, 10));
  const jittered = exp / 2 + Math.random() * (exp / 2);
  schedule(Math.max(jittered, retryAfterMs || 0));
}

function retryAfter(res) {
  const v = res.headers.get('Retry-After');
  if (!v) return 0;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.min(MAX_DELAY, s * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.min(MAX_DELAY, Math.max(0, t - Date.now())) : 0;
}

function remove(ids) {
  if (!ids.size) return;
  save(load().filter((e) => !ids.has(e.id)));
}

// prune drops events the server would refuse for their age.
function prune() {
  const now = Date.now();
  const q = load();
  const kept = q.filter((e) => {
    const t = Date.parse(e.occurred_at);
    return !Number.isFinite(t) || now - t < MAX_AGE_MS;
  });
  if (kept.length !== q.length) save(kept);
  return kept;
}

// flush sends the oldest batch; further batches follow until the queue is
// empty or a request fails. keepalive lets the request outlive the page.
export function flush({ keepalive = false } = {}) {
  if (!getInitData() || paused) return Promise.resolve();
  if (keepalive) {
    // The page is going away: fire one request and leave the queue as it
    // is; a later launch resends whatever the server did not confirm.
    const batch = prune().slice(0, Math.min(batchSize, 20));
    if (batch.length) {
      fetch(apiURL('/ingest'), {
        method: 'POST', headers: apiHeaders(true), body: JSON.stringify({ events: batch }),
        keepalive: true, credentials: 'same-origin',
      }).then((res) => {
        if (res.status === 200) remove(new Set(batch.map((e) => e.id)));
      }).catch(() => {});
    }
    return Promise.resolve();
  }
  if (inflight) return inflight;
  inflight = sendOnce().finally(() => { inflight = null; });
  return inflight;
}

async function sendOnce() {
  clearTimeout(timer);
  const batch = prune().slice(0, batchSize);
  if (!batch.length) return;
  let res;
  try {
    res = await fetch(apiURL('/ingest'), {
      method: 'POST', headers: apiHeaders(true), body: JSON.stringify({ events: batch }),
      credentials: 'same-origin', cache: 'no-store',
    });
  } catch {
    backoff(0);
    return;
  }
  const ids = new Set(batch.map((e) => e.id));
  if (res.status === 200) {
    failures = 0;
    remove(ids);
    if (load().length) schedule(0);
    return;
  }
  if (res.status === 400 || res.status === 422) {
    // The request is malformed: retrying it as is would fail forever.
    // Drop the events the server named ("events[i]") and resend the rest;
    // without names, the whole batch is unsendable.
    let fields = null;
    try {
      fields = ((await res.json()).error || {}).fields || null;
    } catch {
      fields = null;
    }
    const bad = new Set();
    for (const k of Object.keys(fields || {})) {
      const m = /^events\[(\d+)\]/.exec(k);
      if (m && batch[+m[1]]) bad.add(batch[+m[1]].id);
    }
    remove(bad.size ? bad : ids);
    failures = 0;
    schedule(0);
    return;
  }
  if (res.status === 413 && batchSize > 1) {
    batchSize = Math.max(1, Math.floor(batchSize / 2));
    schedule(0);
    return;
  }
  if (res.status === 401) {
    paused = true; // keep everything for the next launch's initData
    return;
  }
  backoff(retryAfter(res)); // 404 (not deployed yet), 408, 429, 5xx, …
}

// startEvents begins sending: at once, after each track, when the device
// comes back online, and one last time when the app is hidden or closed.
export function startEvents() {
  if (started) return;
  started = true;
  addEventListener('online', () => { failures = 0; schedule(0); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush({ keepalive: true });
    else schedule(0);
  });
  addEventListener('pagehide', () => flush({ keepalive: true }));
  schedule(0);
}
