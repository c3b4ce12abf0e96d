// The cart, kept in localStorage: product snapshots (for display) and
// quantities. Prices are only shown here; the server prices the order.

import { KEYS, getJSON, setJSON, formatPrice } from './util.js';

export const MAX_QTY = 999; // the server's OrderQuantityMax
export const MAX_ITEMS = 50; // the server's OrderItemsMax

const listeners = new Set();

function load() {
  const items = getJSON(KEYS.cart, []);
  return Array.isArray(items)
    ? items.filter((it) => it && typeof it.id === 'string' && Number.isInteger(it.qty) && it.qty > 0)
    : [];
}

function save(items) {
  setJSON(KEYS.cart, items);
  for (const fn of listeners) fn(items);
}

export function onCartChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function cartItems() {
  return load();
}

export function cartQty(id) {
  const it = load().find((x) => x.id === id);
  return it ? it.qty : 0;
}

export function cartCount() {
  return load().reduce((n, it) => n + it.qty, 0);
}

// cartTotal sums the shown prices: {total, currency, formatted}.
export function cartTotal() {
  const items = load();
  const currency = items.length ? items[0].currency || 'RUB' : 'RUB';
  const total = items.reduce((s, it) => s + (Number(it.price) || 0) * it.qty, 0);
  return { total, currency, formatted: formatPrice(total, currency) };
}

function snapshot(p) {
  const img = Array.isArray(p.images) && p.images[0] ? p.images[0] : null;
  return {
    id: p.id,
    name: p.name,
    price: p.price,
    currency: p.currency,
    price_formatted: p.price_formatted,
    image: img ? { url: img.url, width: img.width, height: img.height } : null,
  };
}

// addToCart adds qty of product p and answers the new quantity, or 0 when
// the cart is full.
export function addToCart(p, qty = 1) {
  const items = load();
  const it = items.find((x) => x.id === p.id);
  if (it) {
    it.qty = Math.min(MAX_QTY, it.qty + qty);
    Object.assign(it, snapshot(p));
  } else {
    if (items.length >= MAX_ITEMS) return 0;
    items.push({ ...snapshot(p), qty: Math.min(MAX_QTY, qty) });
  }
  save(items);
  return items.find((x) => x.id === p.id).qty;
}

export function setQty(id, qty) {
  let items = load();
  if (qty <= 0) items = items.filter((x) => x.id !== id);
  else {
    const it = items.find((x) => x.id === id);
    if (!it) return;
    it.qty = Math.min(MAX_QTY, qty);
  }
  save(items);
}

export function clearCart() {
  save([]);
}
