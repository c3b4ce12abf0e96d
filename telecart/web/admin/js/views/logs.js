// Logs: the log file's parsed entries, newest first by time, 15 a page, with a
// level badge and a dialog showing one entry in full.

import { h, clear, icon, debounce } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { dateTime } from '../format.js';
import { badge, empty, errorBox, loading, openDialog, pager } from '../components.js';

const PER_PAGE = 15;
const LEVELS = ['debug', 'info', 'warn', 'error', 'unknown'];
const state = { page: 1, level: '', search: '' };

// levelKind maps a log level ("INFO", "WARN+2", "ERROR") to its badge.
export function levelKind(level) {
  const l = String(level || '').toLowerCase();
  if (l.startsWith('err') || l.startsWith('crit') || l.startsWith('fatal') || l.startsWith('emerg') || l.startsWith('alert')) return 'error';
  if (l.startsWith('warn')) return 'warn';
  if (l.startsWith('info') || l.startsWith('notice')) return 'info';
  if (l.startsWith('debug') || l.startsWith('trace')) return 'debug';
  return 'unknown';
}

function levelBadge(level, attrs) {
  const kind = levelKind(level);
  return badge(String(level || t('logs.level_unknown')).toUpperCase(), `level-${kind}`, { 'data-level': kind, ...attrs });
}

export function mount(root, ctx) {
  let ctrl = null;
  let seq = 0;

  const level = h('select', {
    class: 'input', 'data-testid': 'logs-level', 'aria-label': t('logs.level'),
    onchange: (e) => { state.level = e.target.value; state.page = 1; load(); },
  }, h('option', { value: '' }, t('logs.all_levels')),
  LEVELS.map((l) => h('option', { value: l, selected: state.level === l }, t(`logs.level_${l}`))));
  const search = h('input', {
    type: 'search', class: 'input search-input', value: state.search, placeholder: t('logs.search_placeholder'),
    'aria-label': t('logs.search'), 'data-testid': 'logs-search',
  });
  const runSearch = debounce(() => { state.page = 1; load(); }, 350);
  search.addEventListener('input', () => { state.search = search.value; runSearch(); });
  const refresh = h('button', { type: 'button', class: 'btn icon-btn', 'aria-label': t('common.refresh'), 'data-testid': 'logs-refresh', onclick: () => load() }, icon('refresh'));
  refresh.setAttribute('data-tip', t('common.refresh'));
  const toolbar = h('div', { class: 'toolbar' },
    h('div', { class: 'search-box' }, icon('search'), search),
    h('div', { class: 'toolbar-right' }, h('label', { class: 'inline-field' }, t('logs.level'), level), refresh));
  const status = h('div', { class: 'status-line' });
  const tableBox = h('div', { class: 'table-card card', 'data-testid': 'logs' }, loading());
  root.append(toolbar, status, tableBox);

  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const my = ++seq;
    tableBox.setAttribute('aria-busy', 'true');
    try {
      const res = await api('logs', {
        query: { page: state.page, per_page: PER_PAGE, level: state.level, search: state.search.trim() }, signal: ctrl.signal,
      });
      if (my !== seq) return;
      status.replaceChildren();
      render(res);
    } catch (err) {
      if (isAbort(err) || my !== seq) return;
      clear(status, errorBox(err, 'logs-error'));
      tableBox.replaceChildren();
    } finally {
      if (my === seq) tableBox.removeAttribute('aria-busy');
    }
  }

  // The API orders entries newest first by time across pages; the page
  // shows them in that order.
  function render(res) {
    const head = h('tr', {},
      ['time', 'level', 'channel', 'message'].map((k) => h('th', { scope: 'col', 'data-col': k }, t(`logs.${k}`))),
      h('th', { class: 'actions' }, h('span', { class: 'sr-only' }, t('common.actions'))));
    const rows = (res.data || []).map((e, i) => h('tr', { 'data-testid': 'log-row', 'data-index': i },
      h('td', { class: 'nowrap' }, e.time ? h('time', { datetime: e.time }, dateTime(e.time)) : h('span', { class: 'mono small' }, e.time_raw || '—')),
      h('td', {}, levelBadge(e.level, { 'data-testid': 'log-level' })),
      h('td', { class: 'muted' }, e.channel || '—'),
      h('td', { class: 'log-message', 'data-testid': 'log-message' }, e.message || h('span', { class: 'muted mono' }, e.raw)),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'btn icon-btn small', 'aria-label': t('logs.view'), 'data-testid': `log-view-${i}`,
        onclick: () => entryDialog(e),
      }, icon('eye')))));
    clear(tableBox,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table logs-table', 'data-testid': 'logs-table' }, h('thead', {}, head), h('tbody', {}, rows))),
      rows.length ? null : empty(t('logs.none')),
      pager({ meta: res.meta, testid: 'logs-pager', onPage: (p) => { state.page = p; load(); } }));
  }

  load();
  return () => { if (ctrl) ctrl.abort(); runSearch.cancel(); };
}

function prettyContext(ctx) {
  if (ctx == null || (typeof ctx === 'object' && Object.keys(ctx).length === 0)) return null;
  try {
    return JSON.stringify(typeof ctx === 'string' ? JSON.parse(ctx) : ctx, null, 2);
  } catch {
    return String(ctx);
  }
}

// entryDialog shows one entry in full; every long text wraps.
function entryDialog(e) {
  const row = (label, value, testid) => [h('dt', {}, label), h('dd', { 'data-testid': testid }, value)];
  const ctxText = prettyContext(e.context);
  openDialog({
    title: t('logs.entry'), testid: 'log-dialog', wide: true,
    body: h('dl', { class: 'details' },
      row(t('logs.time'), e.time ? dateTime(e.time) : '—', 'log-dialog-time'),
      row(t('logs.time_raw'), h('span', { class: 'mono wrap' }, e.time_raw || '—'), 'log-dialog-time-raw'),
      row(t('logs.level'), levelBadge(e.level), 'log-dialog-level'),
      row(t('logs.channel'), e.channel || '—', 'log-dialog-channel'),
      row(t('logs.message'), h('div', { class: 'wrap' }, e.message || '—'), 'log-dialog-message'),
      row(t('logs.context'), ctxText ? h('pre', { class: 'code wrap', 'data-testid': 'log-dialog-context-json' }, ctxText) : h('span', { class: 'muted' }, t('logs.no_context')), 'log-dialog-context'),
      row(t('logs.raw'), h('pre', { class: 'code wrap', 'data-testid': 'log-dialog-raw-line' }, e.raw || ''), 'log-dialog-raw'),
      e.truncated ? row('', h('span', { class: 'badge warn' }, t('logs.truncated'))) : null),
  });
}
