// Dashboard: orders, revenue, customers and Pulse delivery, with the
// orders per day over the last 30 days and the events sent and failed per
// hour over the last 24 hours.

import { h, clear, help, icon } from '../dom.js';
import { barChart } from '../chart.js';
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

function chart(hours) {
  return barChart({
    items: hours,
    series: [{ cls: 'sent', value: (x) => x.sent }, { cls: 'failed', value: (x) => x.failed }],
    label: t('dashboard.chart'),
    testid: 'chart',
    group: (x) => ({ class: 'hour', 'data-testid': 'chart-hour', 'data-sent': Number(x.sent || 0), 'data-failed': Number(x.failed || 0) }),
    tip: (x) => t('dashboard.chart_tip', {
      from: hourLabel(x.hour), to: hourLabel(new Date(new Date(x.hour).getTime() + 3600e3)),
      sent: number(x.sent || 0), failed: number(x.failed || 0),
    }),
    tick: (x) => hourLabel(x.hour),
    labelAt: (i, n, narrow) => i % (narrow ? 6 : 3) === 0, // an hour label every few bars
    empty: t('dashboard.chart_empty'),
  });
}

// dailyCard draws the orders of each of the last 30 days (the shop's time
// zone) as bars, with the days' revenue in their tooltips.
function dailyCard(daily, currency) {
  const days = [...daily].sort((a, b) => (a.day < b.day ? -1 : 1));
  const orders = days.reduce((n, x) => n + Number(x.orders || 0), 0);
  const revenue = days.reduce((n, x) => n + Number(x.revenue || 0), 0);
  const label = (x) => x.day.slice(8, 10) + '.' + x.day.slice(5, 7);
  const svg = barChart({
    items: days,
    series: [{ cls: 'sent', value: (x) => x.orders }],
    label: t('dashboard.daily'),
    testid: 'daily-chart',
    group: (x) => ({ class: 'day', 'data-testid': 'daily-day', 'data-day': x.day, 'data-orders': Number(x.orders || 0) }),
    tip: (x) => t('dashboard.daily_tip', { day: label(x), orders: number(x.orders || 0), revenue: money(x.revenue, currency) }),
    tick: label,
    labelAt: (i, n, narrow) => i % (narrow ? 10 : 5) === 0 || i === n - 1,
    empty: t('dashboard.daily_empty'),
  });
  return h('section', { class: 'card chart-card', 'data-testid': 'card-daily' },
    h('div', { class: 'card-title-row' },
      h('h2', { class: 'card-title' }, t('dashboard.daily'), help(t('dashboard.daily_help'), 'help-daily')),
      h('div', { class: 'legend' },
        h('span', { class: 'legend-item sent' }, h('i'), t('dashboard.orders'), ' ', h('b', { 'data-testid': 'daily-total-orders' }, number(orders))),
        h('span', { class: 'legend-item' }, t('dashboard.revenue'), ' ', h('b', { 'data-testid': 'daily-total-revenue' }, money(revenue, currency))))),
    svg);
}
