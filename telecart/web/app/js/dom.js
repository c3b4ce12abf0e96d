// A tiny DOM helper. Text only ever goes in through textContent and
// attributes through setAttribute: product names, descriptions and every
// other string from the API are untrusted, and nothing here parses HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Properties set as DOM properties rather than attributes.
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'readOnly', 'required']);

// safeURL keeps http(s), relative and data:image URLs and drops anything
// else (javascript: and friends).
export function safeURL(url) {
  if (typeof url !== 'string' || url === '') return '';
  try {
    const u = new URL(url, document.baseURI);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
    if (u.protocol === 'data:' && /^data:image\//i.test(url)) return url;
  } catch {
    // fall through
  }
  return '';
}

// h creates an element. attrs: "text" sets textContent, "class" className,
// "style" an object of style properties, "dataset" an object, "on*"
// functions are listeners, PROPS are properties, "href"/"src" are checked
// with safeURL, everything else is an attribute (false/null/undefined skip
// it, true sets it empty). children: nodes, strings (as text) or arrays,
// null/false skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') {
      el.textContent = String(v);
    } else if (k === 'class') {
      el.setAttribute('class', String(v));
    } else if (k === 'style' && typeof v === 'object') {
      for (const [p, sv] of Object.entries(v)) {
        if (sv === undefined || sv === null) continue;
        if (p.startsWith('--')) el.style.setProperty(p, String(sv));
        else el.style[p] = String(sv);
      }
    } else if (k === 'dataset' && typeof v === 'object') {
      for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    } else if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k.startsWith('on')) {
      // Never a string handler.
    } else if (PROPS.has(k)) {
      el[k] = v;
    } else if (k === 'href' || k === 'src') {
      const u = safeURL(String(v));
      if (u) el.setAttribute(k, u);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// clear removes every child of el.
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

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
