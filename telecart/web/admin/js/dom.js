// The admin panel's DOM helpers. The element builder (h, s, append, clear,
// safeURL) is the one both pages share, in h.js; this file adds the
// panel's own: debounce, tooltips, the help mark and icons.

import { h, s } from './h.js';

export { h, s, append, clear, safeURL } from './h.js';

// debounce delays fn until wait ms pass without another call.
export function debounce(fn, wait) {
  let timer;
  const d = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  d.cancel = () => clearTimeout(timer);
  return d;
}

// --- Tooltips. Any element with data-tip shows it on hover and on focus,
// in one floating element placed in the top layer (a popover), so that
// tables that scroll and modal dialogs do not hide it.

let tipEl = null;
let tipFor = null;

function tipNode() {
  if (!tipEl) {
    tipEl = h('div', { class: 'tooltip', role: 'tooltip', id: 'tooltip', 'data-testid': 'tooltip' });
    if ('popover' in tipEl) tipEl.setAttribute('popover', 'manual');
    document.body.append(tipEl);
  }
  return tipEl;
}

function showTip(target) {
  const text = target.getAttribute('data-tip');
  if (!text) return;
  const tip = tipNode();
  tipFor = target;
  tip.textContent = text;
  tip.classList.add('visible');
  if (tip.showPopover && !tip.matches(':popover-open')) tip.showPopover();
  const r = target.getBoundingClientRect();
  const t = tip.getBoundingClientRect();
  let left = r.left + r.width / 2 - t.width / 2;
  left = Math.max(8, Math.min(left, window.innerWidth - t.width - 8));
  let top = r.top - t.height - 8;
  if (top < 8) top = r.bottom + 8;
  Object.assign(tip.style, { left: `${Math.round(left)}px`, top: `${Math.round(top)}px` });
}

function hideTip() {
  if (!tipEl) return;
  tipFor = null;
  tipEl.classList.remove('visible');
  if (tipEl.hidePopover && tipEl.matches(':popover-open')) tipEl.hidePopover();
}

export function installTooltips() {
  const over = (e) => {
    const t = e.target instanceof Element ? e.target.closest('[data-tip]') : null;
    if (t && t !== tipFor) showTip(t);
    else if (!t && tipFor) hideTip();
  };
  document.addEventListener('mouseover', over);
  document.addEventListener('focusin', over);
  document.addEventListener('focusout', hideTip);
  // Scrolling (focus scrolls a wide table to the mark) moves the tip along.
  document.addEventListener('scroll', () => { if (tipFor) { if (tipFor.isConnected) showTip(tipFor); else hideTip(); } }, true);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideTip(); });
}

// help is the "?" mark that shows text as a tooltip.
export function help(text, testid) {
  return h('span', {
    class: 'help', tabindex: '0', role: 'img', 'aria-label': text, 'data-tip': text, 'data-testid': testid,
  }, '?');
}

// --- Icons: small stroked SVGs drawn here, nothing fetched.

const ICONS = {
  dashboard: ['M3 3h7v9H3z', 'M14 3h7v5h-7z', 'M14 12h7v9h-7z', 'M3 16h7v5H3z'],
  customers: ['M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2', 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M22 21v-2a4 4 0 0 0-3-3.87', 'M16 3.13a4 4 0 0 1 0 7.75'],
  pulse: ['M22 12h-4l-3 9L9 3l-3 9H2'],
  logs: ['M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z', 'M14 2v6h6', 'M8 13h8', 'M8 17h8', 'M8 9h2'],
  settings: ['M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z', 'M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z'],
  forms: ['M9 11l3 3L22 4', 'M21 12v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h11'],
  scheduler: ['M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z', 'M12 6v6l4 2'],
  eye: ['M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8z', 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z'],
  send: ['M22 2L11 13', 'M22 2l-7 20-4-9-9-4 20-7z'],
  refresh: ['M23 4v6h-6', 'M1 20v-6h6', 'M3.5 9a9 9 0 0 1 14.9-3.4L23 10', 'M1 14l4.6 4.4A9 9 0 0 0 20.5 15'],
  retry: ['M1 4v6h6', 'M3.5 15a9 9 0 1 0 2.1-9.4L1 10'],
  logout: ['M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4', 'M16 17l5-5-5-5', 'M21 12H9'],
  close: ['M18 6L6 18', 'M6 6l12 12'],
  filter: ['M22 3H2l8 9.5V19l4 2v-8.5z'],
  columns: ['M12 3v18', 'M3 3h18v18H3z'],
  search: ['M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16z', 'M21 21l-4.35-4.35'],
  orders: ['M6 2L3 6v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6l-3-4z', 'M3 6h18', 'M16 10a4 4 0 0 1-8 0'],
  external: ['M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6', 'M15 3h6v6', 'M10 14L21 3'],
  messages: ['M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z'],
  broadcasts: ['M3 11l18-5v12L3 14v-3z', 'M11.6 16.8a3 3 0 1 1-5.8-1.6'],
  erase: ['M16 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2', 'M8.5 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M18 8l5 5', 'M23 8l-5 5'],
  campaigns: ['M3 11v2a1 1 0 0 0 1 1h2l5 4V6L6 10H4a1 1 0 0 0-1 1z', 'M15.5 8.5a5 5 0 0 1 0 7', 'M19 5a10 10 0 0 1 0 14'],
  copy: ['M9 9h11v11H9z', 'M5 15H4V4h11v1'],
  download: ['M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4', 'M7 10l5 5 5-5', 'M12 15V3'],
  edit: ['M12 20h9', 'M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z'],
  archive: ['M21 8v13H3V8', 'M1 3h22v5H1z', 'M10 12h4'],
  plus: ['M12 5v14', 'M5 12h14'],
};

export function icon(name, cls) {
  return s('svg', {
    class: ['icon', cls], viewBox: '0 0 24 24', width: '18', height: '18', fill: 'none', stroke: 'currentColor',
    'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false',
  }, (ICONS[name] || []).map((d) => s('path', { d })));
}
