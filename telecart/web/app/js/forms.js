// FormKit schema forms: rendering and validation. validate mirrors the
// server's forms.Validate (forms/validate.go and forms/rules.go) rule for
// rule and message for message, so the buyer sees the server's verdict
// before submitting; the server still decides.

import { h } from './dom.js';
import { ruleMessage, problemMessage, t } from './i18n.js';

export const MAX_VALUE_LENGTH = 10000;
const MAX_VALIDATION_LENGTH = 1000;

const TEXT_TYPES = ['text', 'email', 'tel', 'textarea'];
const STRING_TYPES = ['text', 'email', 'tel', 'textarea', 'select', 'radio', 'date'];
const NODE_TYPES = ['text', 'email', 'tel', 'textarea', 'number', 'select', 'radio', 'checkbox', 'date'];

const SPECS = {
  required: [0, 1, NODE_TYPES],
  accepted: [0, 0, ['checkbox']],
  email: [0, 0, TEXT_TYPES],
  length: [1, 2, TEXT_TYPES],
  min: [1, 1, ['number']],
  max: [1, 1, ['number']],
  number: [0, 0, ['number', ...TEXT_TYPES]],
  matches: [1, 10, STRING_TYPES],
  alpha: [0, 1, TEXT_TYPES],
  alphanumeric: [0, 1, TEXT_TYPES],
  date_after: [1, 1, ['date', 'text']],
  date_before: [1, 1, ['date', 'text']],
  in: [1, 100, ['number', ...STRING_TYPES]],
  is: [1, 100, ['number', ...STRING_TYPES]],
};

const utf8 = new TextEncoder();
const byteLength = (s) => utf8.encode(s).length;
const runeCount = (s) => Array.from(s).length;

// parseNumber accepts decimal numbers as JSON writes them (with an optional
// leading "+"); no hexadecimal, underscores, Infinity or NaN.
export function parseNumber(s) {
  if (typeof s !== 'string' || s === '' || s.length > 64) return null;
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return null;
  const f = Number(s);
  return Number.isFinite(f) ? f : null;
}

// parseDate accepts a real calendar date YYYY-MM-DD and answers it as a
// comparable number (days since the epoch), or null.
export function parseDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  if (!m) return null;
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  if (mo < 1 || mo > 12 || d < 1) return null;
  const t = Date.UTC(y, mo - 1, d);
  const dt = new Date(t);
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return null;
  return t / 86400000;
}

// formatNum writes a number as Go's strconv.FormatFloat(f, 'f', -1, 64).
export function formatNum(f) {
  let s = String(f);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m) {
    const digits = m[2] + (m[3] || '');
    const exp = +m[4];
    if (exp < 0) s = m[1] + '0.' + '0'.repeat(-exp - 1) + digits;
    else s = m[1] + digits + '0'.repeat(Math.max(0, exp - digits.length + 1));
  }
  return s;
}

function parseHints(rule, head) {
  let i = 0;
  for (; i < head.length; i++) {
    const c = head[i];
    if (c === '*') rule.force = true;
    else if (c === '+') rule.empty = true;
    else if (c === '?') rule.optional = true;
    else if (c === '(') {
      const end = head.indexOf(')', i);
      if (end < 0) throw new Error('unclosed debounce hint');
      i = end;
    } else break;
  }
  const name = head.slice(i);
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid rule ${head}`);
  return name;
}

function parseRule(seg) {
  const rule = { name: '', args: [], force: false, empty: false, optional: false };
  const colon = seg.indexOf(':');
  const head = colon < 0 ? seg : seg.slice(0, colon);
  const args = colon < 0 ? '' : seg.slice(colon + 1);
  rule.name = parseHints(rule, head);
  const spec = SPECS[rule.name];
  if (!spec) throw new Error(`unknown rule ${rule.name}`);
  if (colon >= 0 && args.trim() !== '') {
    for (let a of args.split(',')) {
      a = a.trim();
      if (a === '') throw new Error(`rule ${rule.name} has an empty argument`);
      rule.args.push(a);
    }
  }
  if (rule.args.length < spec[0] || rule.args.length > spec[1]) throw new Error(`rule ${rule.name}: wrong arguments`);
  switch (rule.name) {
    case 'length': {
      rule.lenMin = 0;
      rule.lenMax = -1;
      rule.args.forEach((a, i) => {
        if (!/^\d+$/.test(a) || +a > 1000000) throw new Error('bad length');
        if (i === 0) rule.lenMin = +a;
        else rule.lenMax = +a;
      });
      if (rule.lenMax >= 0 && rule.lenMin > rule.lenMax) throw new Error('bad length');
      break;
    }
    case 'min':
    case 'max':
      rule.num = parseNumber(rule.args[0]);
      if (rule.num === null) throw new Error('bad number');
      break;
    case 'alpha':
    case 'alphanumeric':
      if (rule.args.some((a) => a !== 'default' && a !== 'latin')) throw new Error('bad alpha');
      rule.latin = rule.args.length === 1 && rule.args[0] === 'latin';
      break;
    case 'date_after':
    case 'date_before':
      rule.date = parseDate(rule.args[0]);
      if (rule.date === null) throw new Error('bad date');
      rule.dateText = rule.args[0];
      break;
    case 'matches':
      // /pattern/ is a Go regular expression; most compile the same in
      // JavaScript. One that does not is left to the server.
      rule.patterns = rule.args.map((a) => {
        if (a[0] !== '/') return { literal: a };
        if (a.length < 2 || a[a.length - 1] !== '/') throw new Error('bad pattern');
        const body = a.slice(1, -1);
        try {
          return { re: new RegExp(body, 'u') };
        } catch {
          try {
            return { re: new RegExp(body) };
          } catch {
            return { unknown: true };
          }
        }
      });
      break;
    case 'required':
      if (rule.args.some((a) => a !== 'default' && a !== 'trim')) throw new Error('bad required');
      break;
    default:
  }
  return rule;
}

// parseRules parses a FormKit validation string such as
// "required|length:2,64"; it throws on what the server would refuse.
export function parseRules(s) {
  const str = s || '';
  if (byteLength(str) > MAX_VALIDATION_LENGTH) throw new Error('validation string too long');
  const rules = [];
  for (let seg of str.split('|')) {
    seg = seg.trim();
    if (seg) rules.push(parseRule(seg));
  }
  return rules;
}

// optionList normalizes a node's options as the server decodes them: an
// array of {label, value}, of strings, or of one-entry {"value": "label"}
// objects, or FormKit's {"value": "label", …} object; values are strings.
export function optionList(options) {
  const text = (v) => (typeof v === 'string' ? v : (typeof v === 'number' || typeof v === 'boolean' ? String(v) : null));
  const out = [];
  if (Array.isArray(options)) {
    for (const o of options) {
      if (text(o) !== null) out.push({ label: text(o), value: text(o) });
      else if (o && typeof o === 'object') {
        if ('value' in o || 'label' in o) {
          const value = text(o.value);
          if (value !== null) out.push({ label: typeof o.label === 'string' ? o.label : value, value });
        } else {
          const keys = Object.keys(o);
          if (keys.length === 1 && text(o[keys[0]]) !== null) out.push({ label: text(o[keys[0]]), value: keys[0] });
        }
      }
    }
  } else if (options && typeof options === 'object') {
    for (const [value, label] of Object.entries(options)) {
      if (text(label) !== null) out.push({ label: text(label), value });
    }
  }
  return out;
}

function displayName(n) {
  const l = (n.label || '').trim();
  return l || n.name;
}

// Go's strings.TrimSpace: Unicode White_Space at both ends.
function trimSpace(s) {
  return s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

function hasControl(s, multiline) {
  for (const c of s) {
    if (c === '\t') continue;
    if ((c === '\n' || c === '\r') && multiline) continue;
    if (/\p{Cc}/u.test(c)) return true;
  }
  return false;
}

function scalarText(raw) {
  if (raw === null || raw === undefined) return { s: '', ok: true };
  if (typeof raw === 'string') return { s: raw, ok: true };
  if (typeof raw === 'number' && Number.isFinite(raw)) return { s: formatNum(raw), ok: true };
  return { s: '', ok: false };
}

// coerce converts a value to its node's type like the server: {v, empty,
// problem}.
function coerce(n, raw) {
  switch (n.$formkit) {
    case 'number': {
      if (raw === null || raw === undefined) return { v: null, empty: true, problem: '' };
      if (typeof raw === 'string') {
        const s = trimSpace(raw);
        if (s === '') return { v: null, empty: true, problem: '' };
        const f = parseNumber(s);
        return f === null ? { problem: 'must be a number' } : { v: f, empty: false, problem: '' };
      }
      if (typeof raw === 'number' && Number.isFinite(raw)) return { v: raw, empty: false, problem: '' };
      return { problem: 'must be a number' };
    }
    case 'checkbox': {
      if (raw === null || raw === undefined) return { v: false, empty: false, problem: '' };
      if (typeof raw === 'boolean') return { v: raw, empty: false, problem: '' };
      if (typeof raw === 'string') {
        const s = trimSpace(raw).toLowerCase();
        if (['true', 'on', 'yes', '1'].includes(s)) return { v: true, empty: false, problem: '' };
        if (['false', 'off', 'no', '0', ''].includes(s)) return { v: false, empty: false, problem: '' };
      } else if (raw === 0 || raw === 1) {
        return { v: raw === 1, empty: false, problem: '' };
      }
      return { problem: 'must be true or false' };
    }
    case 'select':
    case 'radio': {
      const { s, ok } = scalarText(raw);
      if (!ok) return { problem: 'must be one of the available options' };
      if (s === '') return { v: '', empty: true, problem: '' };
      if (optionList(n.options).some((o) => o.value === s)) return { v: s, empty: false, problem: '' };
      return { problem: 'must be one of the available options' };
    }
    default: {
      const { s: rawText, ok } = scalarText(raw);
      if (!ok) return { problem: n.$formkit === 'date' ? 'must be a valid date (YYYY-MM-DD)' : 'must be text' };
      const s = trimSpace(rawText);
      if (hasControl(s, n.$formkit === 'textarea')) return { problem: 'contains invalid characters' };
      if (runeCount(s) > MAX_VALUE_LENGTH) return { problem: `must be at most ${MAX_VALUE_LENGTH} characters` };
      if (s === '') return { v: '', empty: true, problem: '' };
      if (n.$formkit === 'date' && parseDate(s) === null) return { problem: 'must be a valid date (YYYY-MM-DD)' };
      return { v: s, empty: false, problem: '' };
    }
  }
}

function textOf(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNum(v);
  if (typeof v === 'boolean') return String(v);
  return '';
}

const isLetter = (c) => /\p{L}/u.test(c);
const isDigit = (c) => /\p{Nd}/u.test(c);

// validEmail mirrors the server's plain local@domain.tld check.
export function validEmail(s) {
  if (byteLength(s) > 254 || s.split('@').length !== 2) return false;
  const [local, domain] = s.split('@');
  if (local === '' || byteLength(local) > 64 || local[0] === '.' || local[local.length - 1] === '.' || local.includes('..')) return false;
  for (const c of local) {
    if (c <= ' ' || '"(),:;<>[\\]'.includes(c) || /[\p{Cc}\p{White_Space}]/u.test(c)) return false;
  }
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  for (const l of labels) {
    if (l === '' || byteLength(l) > 63 || l[0] === '-' || l[l.length - 1] === '-') return false;
    for (const c of l) {
      if (c !== '-' && !isLetter(c) && !isDigit(c)) return false;
    }
  }
  return true;
}

function fails(r, v, empty) {
  switch (r.name) {
    case 'required':
      return empty;
    case 'accepted':
      return v !== true;
    case 'email':
      return !validEmail(typeof v === 'string' ? v : '');
    case 'length': {
      const n = runeCount(textOf(v));
      return n < r.lenMin || (r.lenMax >= 0 && n > r.lenMax);
    }
    case 'min':
    case 'max':
      if (typeof v !== 'number') return true;
      return r.name === 'min' ? v < r.num : v > r.num;
    case 'number':
      if (typeof v === 'number') return false;
      if (typeof v === 'string') return parseNumber(v) === null;
      return true;
    case 'matches': {
      const s = textOf(v);
      let unknown = false;
      for (const p of r.patterns) {
        if (p.unknown) unknown = true;
        else if (p.re ? p.re.test(s) : p.literal === s) return false;
      }
      return !unknown;
    }
    case 'alpha':
    case 'alphanumeric': {
      const s = textOf(v);
      if (s === '') return true;
      for (const c of s) {
        const letter = r.latin ? /[A-Za-z]/.test(c) : isLetter(c);
        const digit = r.name === 'alphanumeric' && c >= '0' && c <= '9';
        if (!letter && !digit) return true;
      }
      return false;
    }
    case 'date_after':
    case 'date_before': {
      const t = parseDate(textOf(v));
      if (t === null) return true;
      return r.name === 'date_after' ? !(t > r.date) : !(t < r.date);
    }
    case 'in':
    case 'is': {
      const isNum = typeof v === 'number';
      const s = textOf(v);
      for (const a of r.args) {
        if (isNum) {
          const af = parseNumber(a);
          if (af !== null && af === v) return false;
        } else if (a === s) {
          return false;
        }
      }
      return true;
    }
    default:
      return true;
  }
}

const chars = (n) => (n === 1 ? '1 character' : `${n} characters`);

function message(r, label) {
  switch (r.name) {
    case 'required': return `${label} is required.`;
    case 'accepted': return `${label} must be accepted.`;
    case 'email': return `${label} must be a valid email address.`;
    case 'length':
      if (r.lenMax < 0) return `${label} must be at least ${chars(r.lenMin)}.`;
      if (r.lenMin === r.lenMax) return `${label} must be exactly ${chars(r.lenMax)}.`;
      if (r.lenMin === 0) return `${label} must be at most ${chars(r.lenMax)}.`;
      return `${label} must be between ${r.lenMin} and ${r.lenMax} characters.`;
    case 'min': return `${label} must be at least ${formatNum(r.num)}.`;
    case 'max': return `${label} must be at most ${formatNum(r.num)}.`;
    case 'number': return `${label} must be a number.`;
    case 'matches': return `${label} is not in a valid format.`;
    case 'alpha': return `${label} can only contain letters.`;
    case 'alphanumeric': return `${label} can only contain letters and numbers.`;
    case 'date_after': return `${label} must be after ${r.dateText}.`;
    case 'date_before': return `${label} must be before ${r.dateText}.`;
    case 'in':
    case 'is': return `${label} is not an allowed value.`;
    default: return `${label} is not valid.`;
  }
}

// validateField checks one node's value: the error message, or ''.
export function validateField(n, raw) {
  const label = displayName(n);
  const c = coerce(n, raw);
  if (c.problem) return problemMessage(c.problem, label) || `${label} ${c.problem}.`;
  let rules;
  try {
    rules = parseRules(n.validation);
  } catch {
    return problemMessage('cannot be validated', label) || `${label} cannot be validated.`;
  }
  for (const r of rules) {
    if (r.optional || (c.empty && !r.empty && r.name !== 'required')) continue;
    if (fails(r, c.v, c.empty)) return ruleMessage(r, label) || message(r, label);
  }
  return '';
}

// validate checks values (name → value) against nodes like the server's
// forms.Validate: {clean, errors}, errors null when everything passed.
export function validate(nodes, values) {
  const errors = {};
  const clean = {};
  const known = new Set();
  for (const n of nodes || []) {
    if (!n || !n.name || known.has(n.name)) continue;
    known.add(n.name);
    const raw = values ? values[n.name] : undefined;
    const msg = validateField(n, raw);
    if (msg) {
      errors[n.name] = msg;
      continue;
    }
    const c = coerce(n, raw);
    if (!c.empty) clean[n.name] = c.v;
  }
  for (const name of Object.keys(values || {})) {
    if (!known.has(name)) errors[name] = 'Unknown field.';
  }
  return Object.keys(errors).length ? { clean: null, errors } : { clean, errors: null };
}

function isRequired(n) {
  try {
    return parseRules(n.validation).some((r) => r.name === 'required' || r.name === 'accepted');
  } catch {
    return false;
  }
}

// renderForm builds the inputs of a schema. It answers {el, values(),
// setErrors(map), validateAll(), focusFirstError()}. initial holds values
// to restore (a draft); onChange is called with values() on every edit.
export function renderForm(nodes, { initial = {}, onChange } = {}) {
  const fields = [];
  const el = h('form', { class: 'form', novalidate: true, 'data-testid': 'checkout-form', id: 'checkout-form' });
  const seen = new Set();
  for (const n of nodes || []) {
    if (!n || !n.name || seen.has(n.name) || !NODE_TYPES.includes(n.$formkit)) continue;
    seen.add(n.name);
    const f = renderField(n, Object.prototype.hasOwnProperty.call(initial, n.name) ? initial[n.name] : n.value);
    fields.push(f);
    el.append(f.el);
  }
  const values = () => {
    const out = {};
    for (const f of fields) out[f.node.name] = f.get();
    return out;
  };
  for (const f of fields) {
    f.onInput(() => {
      if (f.touched) f.showError(validateField(f.node, f.get()));
      if (onChange) onChange(values());
    });
    f.onBlur(() => {
      f.touched = true;
      f.showError(validateField(f.node, f.get()));
    });
  }
  return {
    el,
    values,
    setErrors(map) {
      for (const f of fields) f.showError((map && map[f.node.name]) || '');
    },
    validateAll() {
      const res = validate(nodes, values());
      for (const f of fields) {
        f.touched = true;
        f.showError((res.errors && res.errors[f.node.name]) || '');
      }
      return res;
    },
    focusFirstError() {
      const f = fields.find((x) => x.el.classList.contains('invalid'));
      if (f) {
        f.focus();
        f.el.scrollIntoView({ block: 'center', behavior: 'smooth' });
      }
    },
  };
}

function renderField(n, initial) {
  const id = `f-${n.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const errEl = h('div', { class: 'field-error', id: `${id}-error`, 'data-testid': `error-${n.name}`, role: 'alert', hidden: true });
  const help = n.help ? h('div', { class: 'field-help', text: n.help }) : null;
  const label = (n.label || n.name).trim();
  const req = isRequired(n) ? h('span', { class: 'req', 'aria-hidden': 'true', text: '*' }) : null;
  const wrap = h('div', { class: 'field', dataset: { name: n.name, type: n.$formkit } });
  const listeners = { input: [], blur: [] };
  const fire = (kind) => () => listeners[kind].forEach((fn) => fn());
  let get;
  let focus;
  const common = { 'aria-describedby': `${id}-error`, name: n.name, 'data-testid': `field-${n.name}` };

  if (n.$formkit === 'checkbox') {
    const input = h('input', { ...common, type: 'checkbox', id, checked: initial === true || initial === 'true' });
    input.addEventListener('change', fire('input'));
    input.addEventListener('change', fire('blur'));
    wrap.append(h('label', { class: 'choice', for: id }, input, h('span', { text: label }), req));
    get = () => input.checked;
    focus = () => input.focus();
  } else if (n.$formkit === 'radio') {
    const inputs = optionList(n.options).map((o, i) => {
      const input = h('input', { ...common, type: 'radio', id: `${id}-${i}`, value: o.value, checked: String(initial ?? '') === o.value });
      input.addEventListener('change', fire('input'));
      input.addEventListener('change', fire('blur'));
      return h('label', { class: 'choice', for: `${id}-${i}` }, input, h('span', { text: o.label || o.value }));
    });
    wrap.append(h('fieldset', { id }, h('legend', { text: label }, req), inputs));
    get = () => {
      const c = wrap.querySelector('input:checked');
      return c ? c.value : '';
    };
    focus = () => {
      const c = wrap.querySelector('input');
      if (c) c.focus();
    };
  } else {
    let input;
    if (n.$formkit === 'select') {
      const options = optionList(n.options);
      const hasInitial = options.some((o) => o.value === String(initial ?? ''));
      input = h('select', { ...common, id, class: 'input' },
        h('option', { value: '', text: n.placeholder || t('checkout.choose'), disabled: isRequired(n), selected: !hasInitial }),
        options.map((o) => h('option', { value: o.value, text: o.label || o.value, selected: String(initial ?? '') === o.value })));
      input.addEventListener('change', fire('input'));
      input.addEventListener('change', fire('blur'));
    } else if (n.$formkit === 'textarea') {
      input = h('textarea', { ...common, id, class: 'input', placeholder: n.placeholder || null, rows: 3 });
      input.value = initial === undefined || initial === null ? '' : String(initial);
    } else {
      const attrs = { ...common, id, class: 'input', type: n.$formkit, placeholder: n.placeholder || null };
      if (n.$formkit === 'tel') Object.assign(attrs, { inputmode: 'tel', autocomplete: 'tel' });
      if (n.$formkit === 'email') Object.assign(attrs, { inputmode: 'email', autocomplete: 'email', autocapitalize: 'off' });
      if (n.$formkit === 'number') Object.assign(attrs, { type: 'text', inputmode: 'decimal' });
      if (n.name === 'name') attrs.autocomplete = 'name';
      input = h('input', attrs);
      input.value = initial === undefined || initial === null ? '' : String(initial);
    }
    if (n.$formkit !== 'select') {
      input.addEventListener('input', fire('input'));
      input.addEventListener('blur', fire('blur'));
    }
    wrap.append(h('label', { for: id }, label, req), input);
    get = () => input.value;
    focus = () => input.focus();
  }
  if (help) wrap.append(help);
  wrap.append(errEl);
  return {
    node: n,
    el: wrap,
    touched: false,
    get,
    focus,
    onInput: (fn) => listeners.input.push(fn),
    onBlur: (fn) => listeners.blur.push(fn),
    showError(msg) {
      errEl.textContent = msg || '';
      errEl.hidden = !msg;
      wrap.classList.toggle('invalid', Boolean(msg));
      for (const i of wrap.querySelectorAll('input,select,textarea')) i.setAttribute('aria-invalid', msg ? 'true' : 'false');
    },
  };
}
