// The DOM builder of both pages: one file, served by the Go side under each
// page's own prefix (/admin/js/h.js and /app/js/h.js), so that the admin
// panel and the storefront build elements the same way and each keeps its
// strict CSP (script-src 'self').
//
// Every piece of text, trusted or not, becomes a text node or an attribute
// value: nothing here ever parses HTML, so a name like
// "<img src=x onerror=…>" is shown as exactly those characters. URLs in
// href, src and the like are checked with safeURL, so a "javascript:" link
// from the API is dropped, and "on…" attributes take functions only.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Properties set as DOM properties rather than attributes, so that a form
// control shows the value (an attribute is only its default).
const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'indeterminate', 'multiple', 'hidden', 'readOnly', 'required']);

// Attributes that hold a URL the browser may follow or load.
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href']);

// safeURL keeps http(s), relative and data:image URLs, resolved against the
// page (a data:image URL as given), and returns '' for anything else
// (javascript:, data:text/html and friends).
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

function build(el, attrs, children) {
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') {
        el.textContent = String(v);
      } else if (k === 'class') {
        el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : String(v));
      } else if (k === 'style' && typeof v === 'object') {
        // CSSOM, which a CSP of style-src 'self' allows, unlike a style
        // attribute.
        for (const [p, sv] of Object.entries(v)) {
          if (sv === undefined || sv === null) continue;
          if (p.startsWith('--')) el.style.setProperty(p, String(sv));
          else el.style[p] = String(sv);
        }
      } else if (k === 'dataset' && typeof v === 'object') {
        for (const [dk, dv] of Object.entries(v)) {
          if (dv !== undefined && dv !== null) el.dataset[dk] = String(dv);
        }
      } else if (k.startsWith('on')) {
        // A listener, never a string handler.
        if (typeof v === 'function') el.addEventListener(k.slice(2), v);
      } else if (k === 'ref') {
        if (typeof v === 'function') v(el);
      } else if (PROPS.has(k)) {
        el[k] = v;
      } else if (URL_ATTRS.has(k)) {
        const u = safeURL(String(v));
        if (u) el.setAttribute(k, u);
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

// h(tag, attrs, ...children) creates an HTML element. attrs: "text" sets
// textContent; "class" is a string or a list (falsy entries skipped);
// "style" an object of style properties ("--x" custom properties too);
// "dataset" an object; "on<event>" functions are listeners; "ref" is called
// with the element; value, checked and the like are set as properties;
// href, src, action and formaction go through safeURL (dropped when
// unsafe); anything else is an attribute. false, null and undefined skip an
// attribute, true sets it empty. Children are nodes, text, or lists of
// them, at any depth; null, undefined and false are skipped.
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s is h for SVG elements.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// append adds children to el as h does: nodes as they are, anything else
// as text.
export function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// clear removes every child of el, then appends children.
export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}
