// Dashboard: orders, revenue, customers and Pulse delivery, with the
// orders per day over the last 30 days and the events sent and failed per
// hour over the last 24 hours.

import { h, s, clear, help, icon } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { dateTime, duration, hourLabel, money, number, rub } from '../format.js';
import { errorBox, loading, badge } from '../components.js';

export function mount(root, ctx) {
  let ctrl = null;
  const asOf = h('span', { class: 'as-of', 'data-testid': 'dash-asof' });
  const refresh = h('button', { type: 'button', class: 'btn', 'data-testid': 'dash-refresh', onclick: () => load(true) },
    icon('refresh'), t('dashboard.refresh'));
  refresh.setAttribute('data-tip', t('dashboard.refresh_help'));
  ctx.actions.append(asOf, refresh);
  const body = h('div', { class: 'dash', 'data-testid': 'dashboard' }, loading());
  root.append(body);

  async function load(fresh) {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    refresh.disabled = true;
    body.setAttribute('aria-busy', 'true');
    try {
      const d = await api('dashboard', { query: fresh ? { fresh: 1 } : undefined, signal: ctrl.signal });
      render(d);
      body.dataset.loaded = String(Date.now());
      if (fresh) body.dataset.fresh = body.dataset.loaded;
    } catch (err) {
      if (isAbort(err)) return;
      clear(body, errorBox(err));
    } finally {
      refresh.disabled = false;
      body.removeAttribute('aria-busy');
    }
  }

  function render(d) {
    const p = d.pulse || {};
    clear(asOf, t('dashboard.as_of', { time: dateTime(d.computed_at || p.computed_at) }));
    const revenue = d.revenue_formatted || rub(d.revenue);
    clear(body,
      h('div', { class: 'cards' },
        stat('orders', t('dashboard.orders'), number(d.orders_count), t('dashboard.orders_help'), 'dash-orders'),
        stat('revenue', t('dashboard.revenue'), revenue, t('dashboard.revenue_help'), 'dash-revenue',
          (d.revenues || []).length > 1 ? h('ul', { class: 'revenues' }, d.revenues.map((r) => h('li', {},
            h('span', { class: 'muted' }, r.currency), ' ', r.formatted, ' · ', t('dashboard.orders_n', { n: number(r.orders_count) })))) : null),
        stat('customers', t('dashboard.customers'), number(d.customers_count), t('dashboard.customers_help'), 'dash-customers')),
      dailyCard(d.daily || [], d.currency),
      pulseCard(p),
      chartCard(d.hourly || []));
  }

  load(false);
  return () => { if (ctrl) ctrl.abort(); };
}

function stat(kind, label, value, helpText, testid, extra) {
  return h('article', { class: ['card', 'stat', `stat-${kind}`], 'data-testid': `card-${kind}` },
    h('div', { class: 'stat-label' }, label, help(helpText, `help-${kind}`)),
    h('div', { class: 'stat-value', 'data-testid': testid }, value),
    extra);
}

function pulseCard(p) {
  const item = (key, label, value, helpText, kind) => h('div', { class: ['pulse-item', kind] },
    h('div', { class: 'stat-label' }, label, help(helpText, `help-pulse-${key}`)),
    h('div', { class: 'pulse-value', 'data-testid': `dash-pulse-${key}` }, value));
  const failed = Number(p.failed || 0);
  const lastError = p.last_error
    ? h('div', { class: 'pulse-error', 'data-testid': 'dash-pulse-last-error' },
      h('div', { class: 'pulse-error-msg' }, p.last_error),
      p.last_error_at ? h('div', { class: 'muted small' }, dateTime(p.last_error_at)) : null)
    : h('div', { class: 'muted', 'data-testid': 'dash-pulse-last-error' }, t('dashboard.no_errors'));
  const flags = [];
  if (p.configured === false) flags.push(badge(t('dashboard.pulse_not_configured'), 'muted'));
  if (p.auth_failing) flags.push(badge(t('dashboard.pulse_auth_failing'), 'danger'));
  if (p.paused_until) flags.push(badge(t('dashboard.pulse_paused', { time: dateTime(p.paused_until) }), 'warn'));
  return h('section', { class: 'card pulse-card', 'data-testid': 'card-pulse' },
    h('div', { class: 'card-title-row' },
      h('h2', { class: 'card-title' }, t('dashboard.pulse'), help(t('dashboard.pulse_help'), 'help-pulse')),
      h('div', { class: 'flags' }, flags),
      h('a', { href: '#/pulse', class: 'link small', 'data-testid': 'dash-pulse-link' }, t('dashboard.pulse_events_link'))),
    h('div', { class: 'pulse-grid' },
      item('pending', t('dashboard.pending'), number(p.pending), t('dashboard.pending_help')),
      item('sending', t('dashboard.sending'), number(p.sending), t('dashboard.sending_help')),
      item('sent', t('dashboard.sent'), number(p.sent), t('dashboard.sent_help'), 'ok'),
      item('failed', t('dashboard.failed'), number(p.failed), t('dashboard.failed_help'), failed > 0 ? 'bad' : ''),
      item('oldest', t('dashboard.oldest_pending'), p.pending ? duration(p.oldest_pending_age_seconds) : '—', t('dashboard.oldest_pending_help'))),
    h('div', { class: 'pulse-last-error' },
      h('div', { class: 'stat-label' }, t('dashboard.last_error'), help(t('dashboard.last_error_help'), 'help-pulse-last-error')),
      lastError));
}

// chartCard draws the hourly events as grouped bars in hand-made SVG.
function chartCard(hourly) {
  const hours = [...hourly].sort((a, b) => new Date(a.hour) - new Date(b.hour));
  const sent = hours.reduce((n, x) => n + Number(x.sent || 0), 0);
  const failed = hours.reduce((n, x) => n + Number(x.failed || 0), 0);
  return h('section', { class: 'card chart-card', 'data-testid': 'card-chart' },
    h('div', { class: 'card-title-row' },
      h('h2', { class: 'card-title' }, t('dashboard.chart'), help(t('dashboard.chart_help'), 'help-chart')),
      h('div', { class: 'legend' },
        h('span', { class: 'legend-item sent' }, h('i'), t('dashboard.sent'), ' ', h('b', { 'data-testid': 'chart-total-sent' }, number(sent))),
        h('span', { class: 'legend-item failed' }, h('i'), t('dashboard.failed'), ' ', h('b', { 'data-testid': 'chart-total-failed' }, number(failed))))),
    chart(hours));
}

function niceMax(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function chart(hours) {
  const narrow = window.innerWidth < 600;
  const W = narrow ? 380 : 760;
  const H = narrow ? 200 : 240;
  const every = narrow ? 6 : 3; // an hour label every few bars
  const m = { l: 40, r: 10, t: 12, b: 28 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const max = niceMax(Math.max(0, ...hours.map((x) => Math.max(Number(x.sent || 0), Number(x.failed || 0)))));
  const y = (v) => m.t + ih - (v / max) * ih;
  const n = Math.max(hours.length, 1);
  const slot = iw / n;
  const bw = Math.max(2, Math.min(12, slot * 0.34));
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('dashboard.chart'), 'data-testid': 'chart',
    preserveAspectRatio: 'xMidYMid meet',
  });
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(
      s('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, number(v)));
  }
  hours.forEach((x, i) => {
    const cx = m.l + slot * i + slot / 2;
    const sv = Number(x.sent || 0);
    const fv = Number(x.failed || 0);
    const end = new Date(new Date(x.hour).getTime() + 3600e3);
    const g = s('g', { class: 'hour', 'data-testid': 'chart-hour', 'data-sent': sv, 'data-failed': fv },
      s('title', {}, t('dashboard.chart_tip', { from: hourLabel(x.hour), to: hourLabel(end), sent: number(sv), failed: number(fv) })),
      s('rect', { class: 'hover', x: m.l + slot * i, y: m.t, width: slot, height: ih }),
      s('rect', { class: 'bar sent', x: cx - bw - 1, y: y(sv), width: bw, height: Math.max(0, m.t + ih - y(sv)), rx: 2 }),
      s('rect', { class: 'bar failed', x: cx + 1, y: y(fv), width: bw, height: Math.max(0, m.t + ih - y(fv)), rx: 2 }));
    svg.append(g);
    if (i % every === 0) svg.append(s('text', { class: 'axis', x: cx, y: H - 8, 'text-anchor': 'middle' }, hourLabel(x.hour)));
  });
  svg.append(s('line', { class: 'baseline', x1: m.l, x2: W - m.r, y1: m.t + ih, y2: m.t + ih }));
  if (!hours.some((x) => Number(x.sent || 0) + Number(x.failed || 0) > 0)) {
    svg.append(s('text', { class: 'chart-empty', x: m.l + iw / 2, y: m.t + ih / 2, 'text-anchor': 'middle' }, t('dashboard.chart_empty')));
  }
  return h('div', { class: 'chart-wrap' }, svg);
}

// dailyCard draws the orders of each of the last 30 days (the shop's time
// zone) as bars, with the days' revenue in their tooltips.
function dailyCard(daily, currency) {
  const days = [...daily].sort((a, b) => (a.day < b.day ? -1 : 1));
  const orders = days.reduce((n, x) => n + Number(x.orders || 0), 0);
  const revenue = days.reduce((n, x) => n + Number(x.revenue || 0), 0);
  const narrow = window.innerWidth < 600;
  const W = narrow ? 380 : 760;
  const H = narrow ? 180 : 200;
  const m = { l: 40, r: 10, t: 12, b: 28 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const max = niceMax(Math.max(0, ...days.map((x) => Number(x.orders || 0))));
  const y = (v) => m.t + ih - (v / max) * ih;
  const slot = iw / Math.max(days.length, 1);
  const bw = Math.max(2, Math.min(16, slot * 0.6));
  const every = narrow ? 10 : 5;
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('dashboard.daily'), 'data-testid': 'daily-chart',
    preserveAspectRatio: 'xMidYMid meet',
  });
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(
      s('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, number(v)));
  }
  days.forEach((x, i) => {
    const cx = m.l + slot * i + slot / 2;
    const n = Number(x.orders || 0);
    const label = x.day.slice(8, 10) + '.' + x.day.slice(5, 7);
    svg.append(s('g', { class: 'day', 'data-testid': 'daily-day', 'data-day': x.day, 'data-orders': n },
      s('title', {}, t('dashboard.daily_tip', { day: label, orders: number(n), revenue: money(x.revenue, currency) })),
      s('rect', { class: 'hover', x: m.l + slot * i, y: m.t, width: slot, height: ih }),
      s('rect', { class: 'bar sent', x: cx - bw / 2, y: y(n), width: bw, height: Math.max(0, m.t + ih - y(n)), rx: 2 })));
    if (i % every === 0 || i === days.length - 1) {
      svg.append(s('text', { class: 'axis', x: cx, y: H - 8, 'text-anchor': 'middle' }, label));
    }
  });
  svg.append(s('line', { class: 'baseline', x1: m.l, x2: W - m.r, y1: m.t + ih, y2: m.t + ih }));
  if (orders === 0) {
    svg.append(s('text', { class: 'chart-empty', x: m.l + iw / 2, y: m.t + ih / 2, 'text-anchor': 'middle' }, t('dashboard.daily_empty')));
  }
  return h('section', { class: 'card chart-card', 'data-testid': 'card-daily' },
    h('div', { class: 'card-title-row' },
      h('h2', { class: 'card-title' }, t('dashboard.daily'), help(t('dashboard.daily_help'), 'help-daily')),
      h('div', { class: 'legend' },
        h('span', { class: 'legend-item sent' }, h('i'), t('dashboard.orders'), ' ', h('b', { 'data-testid': 'daily-total-orders' }, number(orders))),
        h('span', { class: 'legend-item' }, t('dashboard.revenue'), ' ', h('b', { 'data-testid': 'daily-total-revenue' }, money(revenue, currency))))),
    h('div', { class: 'chart-wrap' }, svg));
}
