// Small shared helpers: ids, storage that survives a webview without
// localStorage, and price formatting (in i18n.js).

// uuid returns a random UUID v4: crypto.randomUUID where the page is a
// secure context, else one built from crypto.getRandomValues.
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') {
    try {
      return crypto.randomUUID();
    } catch {
      // not a secure context
    }
  }
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Storage keys, in one place.
export const KEYS = {
  trackingID: 'telecart.tracking_id',
  events: 'telecart.events.v1',
  cart: 'telecart.cart.v1',
  orderKey: 'telecart.order_key',
  lastOrder: 'telecart.last_order',
  draft: 'telecart.checkout_draft',
};

const memory = new Map();

function storage(kind) {
  try {
    const s = kind === 'session' ? window.sessionStorage : window.localStorage;
    const probe = '__telecart_probe__';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}

const local = storage('local');
const session = storage('session');

function store(kind) { return kind === 'session' ? session : local; }

export function getItem(key, kind = 'local') {
  const s = store(kind);
  if (!s) return memory.has(kind + key) ? memory.get(kind + key) : null;
  try {
    return s.getItem(key);
  } catch {
    return null;
  }
}

export function setItem(key, value, kind = 'local') {
  const s = store(kind);
  if (!s) {
    memory.set(kind + key, String(value));
    return true;
  }
  try {
    s.setItem(key, String(value));
    return true;
  } catch {
    memory.set(kind + key, String(value));
    return false;
  }
}

export function removeItem(key, kind = 'local') {
  memory.delete(kind + key);
  const s = store(kind);
  if (!s) return;
  try {
    s.removeItem(key);
  } catch {
    // ignore
  }
}

export function getJSON(key, fallback, kind = 'local') {
  const raw = getItem(key, kind);
  if (raw === null) return fallback;
  try {
    const v = JSON.parse(raw);
    return v === null || v === undefined ? fallback : v;
  } catch {
    return fallback;
  }
}

export function setJSON(key, value, kind = 'local') {
  return setItem(key, JSON.stringify(value), kind);
}

// formatPrice formats an amount in minor units in the buyer's language.
export { formatPrice } from './i18n.js';

// ratioHeight is the image height for width 300 at an aspect ratio "w:h".
export function ratioHeight(ratio, width = 300) {
  const m = /^(\d+):(\d+)$/.exec(ratio || '');
  if (!m || +m[1] === 0) return width;
  return Math.round((width * +m[2]) / +m[1]);
}

export function debounce(fn, ms) {
  let t = 0;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}
