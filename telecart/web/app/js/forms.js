// FormKit schema forms: rendering and validation. validate mirrors the
// server's forms.Validate (forms/validate.go, rules.go and url.go) rule for
// rule and message for message, so the buyer sees the server's verdict
// before submitting; the server still decides.

import { h } from './dom.js';
import { ruleMessage, problemMessage, t } from './i18n.js';

export const MAX_VALUE_LENGTH = 10000;
const MAX_VALIDATION_LENGTH = 1000;

const TEXT_TYPES = ['text', 'email', 'tel', 'textarea'];
const STRING_TYPES = ['text', 'email', 'tel', 'textarea', 'select', 'radio', 'date'];
const NODE_TYPES = ['text', 'email', 'tel', 'textarea', 'number', 'select', 'radio', 'checkbox', 'date'];
const NUMERIC_TYPES = ['number', ...TEXT_TYPES];
const CHOICE_TYPES = ['number', ...STRING_TYPES];
const DATE_TYPES = ['date', 'text'];
const ALPHA_SETS = ['default', 'latin'];
const CASE_SETS = ['default', 'latin', 'allow_non_alpha', 'allow_numeric', 'allow_numeric_dashes'];

// [min args, max args, node types, runs on an empty value, character sets]
const SPECS = {
  required: [0, 1, NODE_TYPES, true],
  require_one: [0, 100, NODE_TYPES, true],
  accepted: [0, 0, ['checkbox']],
  email: [0, 0, TEXT_TYPES],
  url: [0, 10, TEXT_TYPES],
  length: [0, 2, TEXT_TYPES],
  min: [1, 1, ['number']],
  max: [1, 1, ['number']],
  between: [2, 2, NUMERIC_TYPES],
  number: [0, 0, NUMERIC_TYPES],
  matches: [1, 10, STRING_TYPES],
  starts_with: [0, 100, STRING_TYPES],
  ends_with: [0, 100, STRING_TYPES],
  alpha: [0, 1, TEXT_TYPES, false, ALPHA_SETS],
  alphanumeric: [0, 1, TEXT_TYPES, false, ALPHA_SETS],
  alpha_spaces: [0, 1, TEXT_TYPES, false, ALPHA_SETS],
  contains_alpha: [0, 1, TEXT_TYPES, false, ALPHA_SETS],
  contains_alphanumeric: [0, 1, TEXT_TYPES, false, ALPHA_SETS],
  contains_alpha_spaces: [0, 1, TEXT_TYPES, false, ALPHA_SETS],
  contains_lowercase: [0, 1, TEXT_TYPES, false, ALPHA_SETS],
  contains_uppercase: [0, 1, TEXT_TYPES, false, ALPHA_SETS],
  contains_numeric: [0, 0, TEXT_TYPES],
  contains_symbol: [0, 0, TEXT_TYPES],
  lowercase: [0, 1, TEXT_TYPES, false, CASE_SETS],
  uppercase: [0, 1, TEXT_TYPES, false, CASE_SETS],
  symbol: [0, 0, TEXT_TYPES],
  date_after: [0, 1, DATE_TYPES],
  date_before: [0, 1, DATE_TYPES],
  date_between: [1, 2, DATE_TYPES],
  date_format: [1, 1, DATE_TYPES],
  confirm: [0, 2, NODE_TYPES],
  in: [1, 100, CHOICE_TYPES],
  is: [1, 100, CHOICE_TYPES],
  not: [0, 100, CHOICE_TYPES],
};

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

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
  if (spec[4]) rule.set = rule.args.length === 1 && spec[4].includes(rule.args[0]) ? rule.args[0] : 'default';
  switch (rule.name) {
    case 'required':
      rule.trim = rule.args.length === 1 && rule.args[0] === 'trim';
      break;
    case 'length': {
      rule.lenMin = 0;
      rule.lenMax = -1;
      rule.args.forEach((a, i) => {
        if (!/^\d+$/.test(a) || +a > 1000000) throw new Error('bad length');
        if (i === 0) rule.lenMin = +a;
        else rule.lenMax = +a;
      });
      if (rule.lenMax >= 0 && rule.lenMin > rule.lenMax) [rule.lenMin, rule.lenMax] = [rule.lenMax, rule.lenMin];
      break;
    }
    case 'min':
    case 'max':
      rule.num = parseNumber(rule.args[0]);
      if (rule.num === null) throw new Error('bad number');
      break;
    case 'between': {
      let lo = parseNumber(rule.args[0]);
      let hi = parseNumber(rule.args[1]);
      if (lo === null || hi === null) throw new Error('bad number');
      if (lo > hi) [lo, hi] = [hi, lo];
      rule.num = lo;
      rule.numMax = hi;
      break;
    }
    case 'date_after':
    case 'date_before':
    case 'date_between':
      rule.dates = rule.args.map((a) => {
        const d = parseDate(a);
        if (d === null) throw new Error('bad date');
        return d;
      });
      if (rule.dates.length === 2 && rule.dates[0] > rule.dates[1]) throw new Error('bad dates');
      break;
    case 'date_format':
      rule.format = new RegExp(dateFormatPattern(rule.args[0]));
      break;
    case 'require_one':
      if (rule.args.some((a) => !FIELD_NAME.test(a))) throw new Error('bad field');
      rule.fields = rule.args;
      break;
    case 'confirm':
      if (rule.args.length > 0 && !FIELD_NAME.test(rule.args[0])) throw new Error('bad field');
      rule.fields = rule.args.slice(0, 1);
      rule.strict = rule.args.length === 2 && rule.args[1] === 'strict';
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
    default:
  }
  return rule;
}

// dateFormatPattern is date_format's pattern, built as FormKit builds it
// and as the server does: the format taken literally except for the first
// MM, M, DD, D, YYYY and YY, in that order.
export function dateFormatPattern(format) {
  let p = `^${format.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')}$`;
  for (const [tok, pattern] of [['MM', '(0[1-9]|1[012])'], ['M', '([1-9]|1[012])'], ['DD', '([012][0-9]|3[01])'],
    ['D', '([012]?[0-9]|3[01])'], ['YYYY', '\\d{4}'], ['YY', '\\d{2}']]) {
    p = p.replace(tok, () => pattern);
  }
  return p;
}

// confirmField is the field a confirm rule on the node named name compares with.
function confirmField(r, name) {
  if (r.fields.length) return r.fields[0];
  const m = /_confirm(?:ed)?$/.exec(name);
  return m ? name.slice(0, m.index) : `${name}_confirm`;
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
      // Text is kept as typed: FormKit's rules see spaces, and only
      // required:trim ignores them.
      const s = n.$formkit === 'date' ? trimSpace(rawText) : rawText;
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
const isLower = (c) => /\p{Ll}/u.test(c);
const isUpper = (c) => /\p{Lu}/u.test(c);
const isDigit = (c) => c >= '0' && c <= '9';
// FormKit's symbols: ASCII punctuation.
const isSymbol = (c) => /^[!-/:-@[-`{-~]$/.test(c);

// validEmail is FormKit's e-mail check, as the server's: dot-separated
// runs (or a quoted string), "@", and at least two dot-separated labels,
// the last of two characters or more; no white space or <>()[]\.,;:@".
export function validEmail(s) {
  const at = s.lastIndexOf('@');
  if (at < 0) return false;
  const local = s.slice(0, at);
  const labels = s.slice(at + 1).split('.');
  const atom = (x) => x !== '' && !/[\s<>()[\]\\.,;:@"]/.test(x);
  if (labels.length < 2 || labels[labels.length - 1].length < 2 || !labels.every(atom)) return false;
  if (local.length >= 3 && local[0] === '"' && local[local.length - 1] === '"') return !/[\n\r\u2028\u2029]/.test(local);
  return local.split('.').every(atom);
}

// validURL is FormKit's url rule as the server applies it (forms/url.go):
// the URL standard's parser where a verdict can change.
export function validURL(raw, protocols) {
  const s = raw.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  const colon = s.indexOf(':');
  if (colon < 1 || !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(s.slice(0, colon))) return false;
  const scheme = s.slice(0, colon).toLowerCase();
  const allowed = protocols.length ? protocols : ['http:', 'https:'];
  if (!allowed.includes(`${scheme}:`)) return false;
  let rest = s.slice(colon + 1);
  if (['http', 'https', 'ws', 'wss', 'ftp'].includes(scheme)) {
    rest = rest.replace(/^[/\\]+/, '');
    const end = rest.search(/[/\\?#]/);
    return validAuthority(end >= 0 ? rest.slice(0, end) : rest, true);
  }
  if (scheme === 'file') return true;
  if (rest.startsWith('//')) {
    let auth = rest.slice(2);
    const end = auth.search(/[/?#]/);
    if (end >= 0) auth = auth.slice(0, end);
    return auth === '' || validAuthority(auth, false);
  }
  return true;
}

const forbiddenHost = (c) => c < ' ' || c === '\u007f' || ' #/:<>?@[\\]^|'.includes(c);

function validAuthority(raw, special) {
  const at = raw.lastIndexOf('@');
  const auth = at >= 0 ? raw.slice(at + 1) : raw;
  let host = auth;
  let port = '';
  if (auth.startsWith('[')) {
    const end = auth.indexOf(']');
    if (end < 0) return false;
    host = auth.slice(0, end + 1);
    port = auth.slice(end + 1);
    if (port !== '') {
      if (port[0] !== ':') return false;
      port = port.slice(1);
    }
    if (!validIPv6(host.slice(1, -1))) return false;
  } else {
    const i = auth.lastIndexOf(':');
    if (i >= 0) {
      host = auth.slice(0, i);
      port = auth.slice(i + 1);
    }
    if (host === '') return !special && port === '';
    if (special ? !validDomain(host) : Array.from(host).some(forbiddenHost)) return false;
  }
  return port === '' || (/^[0-9]+$/.test(port) && Number(port) <= 65535);
}

function percentDecode(s) {
  if (!s.includes('%')) return s;
  const bytes = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const cp = s.codePointAt(i);
      if (cp > 0xffff) i++;
      bytes.push(...enc.encode(String.fromCodePoint(cp)));
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

function validDomain(raw) {
  const h = percentDecode(raw);
  if (!h) return false;
  for (const c of h) {
    if (forbiddenHost(c) || c === '%') return false;
    if (c > '\u007f' && !/[\p{L}\p{Nd}\p{M}]/u.test(c)) return false;
  }
  const labels = h.toLowerCase().split('.');
  if (labels.length > 1 && labels[labels.length - 1] === '') labels.pop();
  const last = labels[labels.length - 1];
  if (last !== '' && (/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last))) return validIPv4(labels);
  return true;
}

function validIPv4(parts) {
  if (parts.length > 4) return false;
  return parts.every((p, i) => {
    let n;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(p)) n = Number(p);
    else return false;
    return i < parts.length - 1 ? n <= 255 : n < 2 ** (8 * (5 - parts.length));
  });
}

// validIPv6 accepts what Go's netip.ParseAddr takes as IPv6 without a zone.
function validIPv6(s) {
  const halves = s.split('::');
  if (halves.length > 2) return false;
  let groups = 0;
  const ok = halves.every((half, hi) => {
    if (half === '') return true;
    const parts = half.split(':');
    return parts.every((p, i) => {
      const lastOfAll = hi === halves.length - 1 && i === parts.length - 1;
      if (lastOfAll && p.includes('.')) {
        groups += 2;
        return /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/.test(p);
      }
      groups++;
      return /^[0-9A-Fa-f]{1,4}$/.test(p);
    });
  });
  return ok && (halves.length === 2 ? groups < 8 : groups === 8);
}

// numberOf reads a number value, or text that is a number once trimmed;
// text of only white space reads as 0, as Number reads it (FormKit's
// number and between ask isNaN).
function numberOf(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() === '' ? 0 : parseNumber(v.trim());
  return null;
}

// allows mirrors the server's Rule.allows: the characters a character rule
// accepts in its set.
function allows(r, c) {
  const latin = r.set === 'latin';
  const lower = latin ? c >= 'a' && c <= 'z' : isLower(c);
  const upper = latin ? c >= 'A' && c <= 'Z' : isUpper(c);
  const letter = latin ? lower || upper : isLetter(c);
  const digit = isDigit(c);
  switch (r.name) {
    case 'alpha':
    case 'contains_alpha':
      return letter;
    case 'alphanumeric':
    case 'contains_alphanumeric':
      return letter || digit;
    case 'alpha_spaces':
    case 'contains_alpha_spaces':
      return letter || c === ' ';
    case 'contains_lowercase':
      return lower;
    case 'contains_uppercase':
      return upper;
    case 'contains_numeric':
      return digit;
    case 'symbol':
    case 'contains_symbol':
      return isSymbol(c);
    case 'lowercase':
    case 'uppercase': {
      const ok = r.name === 'lowercase' ? lower : upper;
      if (r.set === 'allow_numeric') return ok || digit;
      if (r.set === 'allow_numeric_dashes') return ok || digit || c === '-';
      if (r.set === 'allow_non_alpha') return ok || digit || isSymbol(c);
      return ok;
    }
    default:
      return false;
  }
}

// dateInRange mirrors the server: a date counts from its first moment, so
// with no date date_after wants a day after today, date_before today or
// earlier, and date_between with one date a day after today up to it.
function dateInRange(r, t, today) {
  const d = r.dates;
  if (r.name === 'date_after') return d.length ? t > d[0] : t > today;
  if (r.name === 'date_before') return d.length ? t < d[0] : t <= today;
  if (d.length === 1) return t > today && t <= d[0];
  return t >= d[0] && t <= d[1];
}

function oneOf(r, v) {
  const isNum = typeof v === 'number';
  const s = textOf(v);
  return r.args.some((a) => (isNum ? parseNumber(a) === v : a === s));
}

function sameValue(a, b, strict) {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (a === b) return true;
  if (strict) return false;
  const fa = typeof a === 'number' ? a : (typeof b === 'number' ? numberOf(a) : null);
  const fb = typeof b === 'number' ? b : (typeof a === 'number' ? numberOf(b) : null);
  return fa !== null && fb !== null && fa === fb;
}

function fails(r, f, env) {
  const v = f.v;
  switch (r.name) {
    case 'required':
      return f.empty || (r.trim && typeof v === 'string' && v.trim() === '');
    case 'require_one':
      if (!f.empty) return false;
      return !r.fields.some((name) => {
        const o = env.fields.get(name);
        return o && (o.problem || !o.empty);
      });
    case 'accepted':
      return v !== true;
    case 'email':
      return !validEmail(textOf(v));
    case 'url':
      return !validURL(textOf(v), r.args);
    case 'length': {
      const n = textOf(v).length;
      return n < r.lenMin || (r.lenMax >= 0 && n > r.lenMax);
    }
    case 'min':
    case 'max':
      if (typeof v !== 'number') return true;
      return r.name === 'min' ? v < r.num : v > r.num;
    case 'between': {
      const x = numberOf(v);
      return x === null || x < r.num || x > r.numMax;
    }
    case 'number':
      return numberOf(v) === null;
    case 'matches': {
      const s = textOf(v);
      let unknown = false;
      for (const p of r.patterns) {
        if (p.unknown) unknown = true;
        else if (p.re ? p.re.test(s) : p.literal === s) return false;
      }
      return !unknown;
    }
    // With nothing to look for, FormKit passes every text.
    case 'starts_with':
      return r.args.length > 0 && !r.args.some((a) => textOf(v).startsWith(a));
    case 'ends_with':
      return r.args.length > 0 && !r.args.some((a) => textOf(v).endsWith(a));
    case 'alpha':
    case 'alphanumeric':
    case 'alpha_spaces':
    case 'lowercase':
    case 'uppercase':
    case 'symbol': {
      const s = textOf(v);
      return s === '' || !Array.from(s).every((c) => allows(r, c));
    }
    case 'contains_alpha':
    case 'contains_alphanumeric':
    case 'contains_alpha_spaces':
    case 'contains_lowercase':
    case 'contains_uppercase':
    case 'contains_numeric':
    case 'contains_symbol':
      return !Array.from(textOf(v)).some((c) => allows(r, c));
    case 'date_after':
    case 'date_before':
    case 'date_between': {
      const t = parseDate(textOf(v).trim());
      return t === null || !dateInRange(r, t, env.today);
    }
    case 'date_format':
      return !r.format.test(textOf(v));
    case 'confirm': {
      const o = env.fields.get(confirmField(r, f.node.name));
      return !o || Boolean(o.problem) || !sameValue(v, o.v, r.strict);
    }
    case 'in':
    case 'is':
    case 'not':
      return oneOf(r, v) === (r.name === 'not');
    default:
      return true;
  }
}

const chars = (n) => (n === 1 ? '1 character' : `${n} characters`);
const alternatives = (args) => {
  const q = args.map((a) => JSON.stringify(a));
  return q.length === 1 ? q[0] : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
};

// requireOneLabels is the labels a require_one message names: the field's
// own, then its other fields' (by name when the form lacks one).
function requireOneLabels(r, f, env) {
  if (r.name !== 'require_one') return null;
  return [f.label, ...r.fields.map((name) => (env.fields.get(name) ? env.fields.get(name).label : name))];
}

// confirmLabel is the label of the field a confirm rule compares with (its
// name when the form lacks it).
function confirmLabel(r, f, env) {
  const name = confirmField(r, f.node.name);
  return env.fields.get(name) ? env.fields.get(name).label : name;
}

function message(r, f, env) {
  const label = f.label;
  const latin = r.set === 'latin' ? 'Latin ' : '';
  switch (r.name) {
    case 'required': return `${label} is required.`;
    case 'require_one': return `${requireOneLabels(r, f, env).join(' or ')} is required.`;
    case 'accepted': return `${label} must be accepted.`;
    case 'email': return `${label} must be a valid email address.`;
    case 'url': return `${label} must be a valid URL.`;
    case 'length':
      if (r.lenMax < 0) return `${label} must be at least ${chars(r.lenMin)}.`;
      if (r.lenMin === r.lenMax) return `${label} must be exactly ${chars(r.lenMax)}.`;
      if (r.lenMin === 0) return `${label} must be at most ${chars(r.lenMax)}.`;
      return `${label} must be between ${r.lenMin} and ${r.lenMax} characters.`;
    case 'min': return `${label} must be at least ${formatNum(r.num)}.`;
    case 'max': return `${label} must be at most ${formatNum(r.num)}.`;
    case 'between': return `${label} must be between ${formatNum(r.num)} and ${formatNum(r.numMax)}.`;
    case 'number': return `${label} must be a number.`;
    case 'matches': return `${label} is not in a valid format.`;
    case 'starts_with': return `${label} must start with ${alternatives(r.args)}.`;
    case 'ends_with': return `${label} must end with ${alternatives(r.args)}.`;
    case 'alpha': return `${label} can only contain ${latin}letters.`;
    case 'alphanumeric': return `${label} can only contain ${latin}letters and numbers.`;
    case 'alpha_spaces': return `${label} can only contain ${latin}letters and spaces.`;
    case 'contains_alpha': return `${label} must contain a ${latin}letter.`;
    case 'contains_alphanumeric': return `${label} must contain a ${latin}letter or a number.`;
    case 'contains_alpha_spaces': return `${label} must contain a ${latin}letter or a space.`;
    case 'contains_lowercase': return `${label} must contain a lowercase ${latin}letter.`;
    case 'contains_uppercase': return `${label} must contain an uppercase ${latin}letter.`;
    case 'contains_numeric': return `${label} must contain a number.`;
    case 'contains_symbol': return `${label} must contain a symbol.`;
    case 'lowercase':
    case 'uppercase': {
      let kind = `${r.name.slice(0, -4)}case ${latin}letters`;
      if (r.set === 'allow_numeric') kind += ' and numbers';
      else if (r.set === 'allow_numeric_dashes') kind += ', numbers and dashes';
      else if (r.set === 'allow_non_alpha') kind += ', numbers and symbols';
      return `${label} can only contain ${kind}.`;
    }
    case 'symbol': return `${label} can only contain symbols.`;
    case 'date_after': return r.dates.length ? `${label} must be after ${r.args[0]}.` : `${label} must be later than today.`;
    case 'date_before': return r.dates.length ? `${label} must be before ${r.args[0]}.` : `${label} must be today or earlier.`;
    case 'date_between':
      return r.dates.length === 1
        ? `${label} must be later than today and not after ${r.args[0]}.`
        : `${label} must be between ${r.args[0]} and ${r.args[1]}.`;
    case 'date_format': return `${label} must be a date in the format ${r.args[0]}.`;
    case 'confirm': return `${label} does not match ${confirmLabel(r, f, env)}.`;
    case 'in':
    case 'is':
    case 'not': return `${label} is not an allowed value.`;
    default: return `${label} is not valid.`;
  }
}

// todayIn is the calendar day of now in timeZone (the shop's, which the
// forms API names), as parseDate reads days; UTC for a zone the browser
// does not know.
export function todayIn(now, timeZone) {
  let zone = timeZone || 'UTC';
  for (;;) {
    try {
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
      const get = (type) => parts.find((p) => p.type === type).value;
      return parseDate(`${get('year').padStart(4, '0')}-${get('month')}-${get('day')}`);
    } catch (err) {
      if (zone === 'UTC') throw err;
      zone = 'UTC';
    }
  }
}

// validate checks values (name → value) against nodes like the server's
// forms.Validate: {clean, errors}, errors null when everything passed.
// opts.timeZone and opts.now (a Date) give the "today" of the date rules.
export function validate(nodes, values, opts = {}) {
  const errors = {};
  const clean = {};
  const env = { today: todayIn(opts.now || new Date(), opts.timeZone), fields: new Map() };
  const order = [];
  for (const n of nodes || []) {
    if (!n || !n.name || env.fields.has(n.name)) continue;
    const raw = values && Object.prototype.hasOwnProperty.call(values, n.name) ? values[n.name] : undefined;
    const c = coerce(n, raw);
    const f = { node: n, label: displayName(n), v: c.v, empty: c.empty, problem: c.problem };
    env.fields.set(n.name, f);
    order.push(f);
  }
  for (const f of order) {
    const name = f.node.name;
    if (f.problem) {
      errors[name] = problemMessage(f.problem, f.label) || `${f.label} ${f.problem}.`;
      continue;
    }
    let rules;
    try {
      rules = parseRules(f.node.validation);
    } catch {
      errors[name] = problemMessage('cannot be validated', f.label) || `${f.label} cannot be validated.`;
      continue;
    }
    for (const r of rules) {
      if (r.optional || (f.empty && !r.empty && !SPECS[r.name][3])) continue;
      if (fails(r, f, env)) {
        errors[name] = ruleMessage(r, f.label, r.name === 'confirm' ? [confirmLabel(r, f, env)] : requireOneLabels(r, f, env))
          || message(r, f, env);
        break;
      }
    }
    if (errors[name] || f.empty) continue;
    // Typed text is stored trimmed; an option's value stays exact.
    if (typeof f.v === 'string' && f.node.$formkit !== 'select' && f.node.$formkit !== 'radio') {
      const s = trimSpace(f.v);
      if (s !== '') clean[name] = s;
    } else {
      clean[name] = f.v;
    }
  }
  for (const name of Object.keys(values || {})) {
    if (!env.fields.has(name)) errors[name] = problemMessage('unknown field', name) || 'Unknown field.';
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
// check(), setErrors(map), validateAll(), focusFirstError(), has(name),
// label(name)}: check validates without showing anything, label is a
// field's label as messages name it. initial holds values
// to restore (a draft); onChange is called with values() on every edit;
// timeZone is the shop's, in which the date rules read "today".
export function renderForm(nodes, { initial = {}, onChange, timeZone } = {}) {
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
  // A field's message comes from the whole form, as rules such as confirm
  // and require_one read other fields.
  const messageOf = (f) => (validate(nodes, values(), { timeZone }).errors || {})[f.node.name] || '';
  for (const f of fields) {
    f.onInput(() => {
      if (f.touched) f.showError(messageOf(f));
      if (onChange) onChange(values());
    });
    f.onBlur(() => {
      f.touched = true;
      f.showError(messageOf(f));
    });
  }
  return {
    el,
    values,
    check: () => validate(nodes, values(), { timeZone }),
    has: (name) => fields.some((f) => f.node.name === name),
    label(name) {
      const f = fields.find((x) => x.node.name === name);
      return f ? displayName(f.node) : name;
    },
    setErrors(map) {
      for (const f of fields) f.showError((map && map[f.node.name]) || '');
    },
    validateAll() {
      const res = validate(nodes, values(), { timeZone });
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
