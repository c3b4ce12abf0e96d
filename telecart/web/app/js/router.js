// Hash routing with history entries the BackButton can walk: #/,
// #/search, #/product/{id}, #/cart, #/checkout, #/success.

import { clear } from './dom.js';
import { hideMainButton, setBackButton } from './telegram.js';

const routes = [];
let current = null; // {key, path, view}
const kept = new Map(); // views that stay alive between visits (home, search)
let viewEl = null;

// route registers a view: pattern is matched against the path, mount
// returns {el, onShow?, onHide?, dispose?}; keepAlive views are built once.
export function route(pattern, mount, { keepAlive = false } = {}) {
  routes.push({ pattern, mount, keepAlive });
}

export function currentPath() {
  const hash = location.hash || '';
  if (!hash.startsWith('#/')) return '/';
  return hash.slice(1);
}

function depth() {
  return (history.state && Number.isInteger(history.state.depth)) ? history.state.depth : 0;
}

// navigate goes to path (such as "/product/p1"): a new history entry, or
// the current one replaced.
export function navigate(path, { replace = false } = {}) {
  const url = '#' + path;
  if (replace) history.replaceState({ depth: depth() }, '', url);
  else history.pushState({ depth: depth() + 1 }, '', url);
  render();
}

// replaceQuery rewrites the current entry's URL without rendering.
export function replacePath(path) {
  history.replaceState({ depth: depth() }, '', '#' + path);
  if (current) current.path = path;
}

// back goes one entry back within the app, or home when there is none.
export function back() {
  if (depth() > 0) history.back();
  else navigate('/', { replace: true });
}

function match(path) {
  const bare = path.split('?')[0];
  for (const r of routes) {
    const m = r.pattern.exec(bare);
    if (m) return { r, params: m.slice(1).map((x) => decodeURIComponent(x)), query: new URLSearchParams(path.split('?')[1] || '') };
  }
  return null;
}

function render() {
  const path = currentPath();
  if (current && current.path === path) return;
  let found = match(path);
  if (!found) {
    history.replaceState({ depth: depth() }, '', '#/');
    found = match('/');
  }
  const key = found.r.pattern.source + (found.r.keepAlive ? '' : '|' + found.params.join('/'));
  if (current) {
    const { view, keepAlive } = current;
    if (view.onHide) view.onHide();
    if (keepAlive) view.el.remove();
    else if (view.dispose) view.dispose();
  }
  clear(viewEl);
  hideMainButton();
  let view = found.r.keepAlive ? kept.get(key) : null;
  if (!view) {
    view = found.r.mount({ params: found.params, query: found.query });
    if (found.r.keepAlive) kept.set(key, view);
  }
  current = { key, path, view, keepAlive: found.r.keepAlive };
  viewEl.append(view.el);
  viewEl.dataset.route = found.r.pattern.source;
  setBackButton(path.split('?')[0] === '/' ? null : back);
  if (view.onShow) view.onShow({ query: found.query });
  else window.scrollTo(0, 0);
}

// startRouter renders the current location and follows history changes.
export function startRouter(el) {
  viewEl = el;
  if (!location.hash.startsWith('#/')) history.replaceState({ depth: 0 }, '', '#/');
  else if (!history.state || !Number.isInteger(history.state.depth)) history.replaceState({ depth: 0 }, '', location.hash);
  addEventListener('popstate', render);
  addEventListener('hashchange', render);
  render();
}
