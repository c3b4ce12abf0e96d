// Formatting of dates (in the shop's time zone), money (RUB) and numbers.

import { getLang, t } from './i18n.js';

let zone = 'UTC';

// setTimeZone sets the shop's IANA time zone; an unknown one falls back to
// UTC rather than breaking every date on the page.
export function setTimeZone(tz) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz || 'UTC' });
    zone = tz || 'UTC';
  } catch {
    zone = 'UTC';
  }
}

export function timeZone() {
  return zone;
}

function locale() {
  return getLang() === 'ru' ? 'ru-RU' : 'en-GB';
}

function toDate(v) {
  if (v == null || v === '') return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

// dateTime formats a time as a date and a time of day in the shop's zone;
// "—" when there is none.
export function dateTime(v) {
  const d = toDate(v);
  if (!d) return '—';
  return new Intl.DateTimeFormat(locale(), {
    timeZone: zone, year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).format(d);
}

// dateTimeShort is dateTime without seconds, for table cells.
export function dateTimeShort(v) {
  const d = toDate(v);
  if (!d) return '—';
  return new Intl.DateTimeFormat(locale(), {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).format(d);
}

// hourLabel is "15:00" in the shop's zone.
export function hourLabel(v) {
  const d = toDate(v);
  if (!d) return '';
  return new Intl.DateTimeFormat(locale(), { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

// number groups digits for the language ("1 234" in Russian).
export function number(n) {
  if (n == null || Number.isNaN(Number(n))) return '—';
  return new Intl.NumberFormat(locale()).format(Number(n));
}

const NBSP = '\u00a0';

// rub formats minor units (kopecks) as "1 234 567,89 ₽" with no-break
// spaces, the Russian way, whatever the page's language.
export function rub(minor) {
  if (minor == null || Number.isNaN(Number(minor))) return '—';
  const neg = minor < 0;
  const abs = Math.abs(Math.trunc(Number(minor)));
  const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  const frac = String(abs % 100).padStart(2, '0');
  return `${neg ? '-' : ''}${whole},${frac}${NBSP}₽`;
}

// money formats minor units of currency: RUB the shop's way (rub), any
// other in the page language's currency format.
export function money(minor, currency) {
  if (!currency || currency === 'RUB') return rub(minor || 0);
  try {
    return new Intl.NumberFormat(getLang() === 'ru' ? 'ru-RU' : 'en-GB', { style: 'currency', currency }).format((minor || 0) / 100);
  } catch {
    return `${number((minor || 0) / 100)} ${currency}`;
  }
}

// ago formats a number of seconds as "3 min 12 s", "2 h 5 min", "1 d 4 h".
export function duration(seconds) {
  if (seconds == null || Number.isNaN(Number(seconds))) return '—';
  let sec = Math.max(0, Math.round(Number(seconds)));
  if (sec < 60) return t('unit.s', { n: sec });
  const d = Math.floor(sec / 86400);
  sec -= d * 86400;
  const hh = Math.floor(sec / 3600);
  sec -= hh * 3600;
  const m = Math.floor(sec / 60);
  sec -= m * 60;
  if (d > 0) return [t('unit.d', { n: d }), hh ? t('unit.h', { n: hh }) : ''].filter(Boolean).join(' ');
  if (hh > 0) return [t('unit.h', { n: hh }), m ? t('unit.min', { n: m }) : ''].filter(Boolean).join(' ');
  return [t('unit.min', { n: m }), sec ? t('unit.s', { n: sec }) : ''].filter(Boolean).join(' ');
}

// millis formats a run's duration: "850 ms", "1.2 s".
export function millis(ms) {
  if (ms == null || Number.isNaN(Number(ms))) return '—';
  const n = Number(ms);
  if (n < 1000) return t('unit.ms', { n: Math.round(n) });
  return t('unit.s', { n: new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(n / 1000) });
}

// zoneOffset is how far the shop's zone is ahead of UTC at instant ms.
function zoneOffset(ms) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  const asUTC = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return asUTC - Math.floor(ms / 1000) * 1000;
}

// zonedMidnight is the instant a YYYY-MM-DD day starts in the shop's zone,
// plus addDays days.
export function zonedMidnight(day, addDays = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '');
  if (!m) return null;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3] + addDays);
  let at = guess - zoneOffset(guess);
  at = guess - zoneOffset(at); // again, for a day that starts at a DST change
  return new Date(at);
}

// dayRange turns a from/to pair of days in the shop's zone into RFC 3339
// instants for the API: from the start of "from" to the end of "to".
export function dayRange(from, to) {
  const f = zonedMidnight(from);
  const e = zonedMidnight(to, 1);
  return {
    from: f ? f.toISOString() : '',
    to: e ? new Date(e.getTime() - 1).toISOString() : '',
  };
}
