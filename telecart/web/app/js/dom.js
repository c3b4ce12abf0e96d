// The storefront's DOM helpers. The element builder (h, s, append, clear,
// safeURL) is the one both pages share, in h.js: text only ever goes in
// through text nodes and attributes, never as HTML, as product names,
// descriptions and every other string from the API are untrusted. This
// file adds the storefront's own: icons and the toast.

export { h, s, append, clear, safeURL } from './h.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

// Icons: stroked 24×24 paths.
const ICONS = {
  search: ['M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14z', 'M20 20l-4.2-4.2'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  back: ['M15 5l-7 7l7 7'],
  cart: ['M3 4h2l2.2 10.2a2 2 0 0 0 2 1.6h7.6a2 2 0 0 0 2-1.5L20.5 8H6.2', 'M10 20.5a.5.5 0 1 0 0-1a.5.5 0 0 0 0 1z', 'M17 20.5a.5.5 0 1 0 0-1a.5.5 0 0 0 0 1z'],
  plus: ['M12 5v14', 'M5 12h14'],
  minus: ['M5 12h14'],
  trash: ['M4 7h16', 'M10 11v6', 'M14 11v6', 'M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12', 'M9 7V4h6v3'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  shield: ['M12 3l8 3v6c0 4.5-3.4 8.3-8 9c-4.6-.7-8-4.5-8-9V6z', 'M8.5 12l2.5 2.5l4.5-5'],
};

export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

let toastTimer = 0;

// toast shows a short message at the bottom of the screen.
export function toast(message, ms = 2600) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, ms);
}
