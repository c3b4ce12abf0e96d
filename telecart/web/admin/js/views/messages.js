// Messages: the message outbox, newest first (order notices, broadcasts,
// the admin's messages), with each message's status, attempts and
// Telegram's reason, and retries of failed ones.

import { h, clear, icon } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { dateTime, dateTimeShort, number } from '../format.js';
import {
  badge, confirmDialog, empty, errorBox, errorText, loading, pager, toast,
} from '../components.js';

const STATUSES = ['pending', 'sending', 'sent', 'failed', 'paused', 'cancelled'];
const SHORT_TEXT = 80; // characters of a message's text the table shows

const state = { page: 1, perPage: 20, status: '' };

// statusKind is a message status's badge colour.
export function statusKind(status) {
  switch (status) {
    case 'sent': return 'success';
    case 'failed': return 'danger';
    case 'sending': case 'pending': return 'info';
    case 'paused': return 'warn';
    default: return 'muted';
  }
}

// shorten cuts text to n characters (code points, not UTF-16 units).
export function shorten(text, n = SHORT_TEXT) {
  const chars = Array.from(String(text || '').replace(/\s+/g, ' ').trim());
  return chars.length > n ? `${chars.slice(0, n - 1).join('')}…` : chars.join('');
}

export function mount(root) {
  let ctrl = null;
  let seq = 0;

  const status = h('select', {
    class: 'input', 'data-testid': 'messages-status', 'aria-label': t('messages.status'),
    onchange: (e) => { state.status = e.target.value; state.page = 1; load(); },
  }, h('option', { value: '' }, t('messages.all_statuses')),
  STATUSES.map((s) => h('option', { value: s, selected: state.status === s }, t(`messages.status_${s}`))));
  const refresh = h('button', {
    type: 'button', class: 'btn icon-btn', 'aria-label': t('common.refresh'), 'data-testid': 'messages-refresh', 'data-tip': t('common.refresh'),
    onclick: () => load(),
  }, icon('refresh'));
  const retryAll = h('button', {
    type: 'button', class: 'btn', 'data-testid': 'messages-retry-all',
    onclick: async () => {
      if (!await confirmDialog(t('messages.retry_all_confirm'), t('messages.retry_all'))) return;
      await retry({ all_failed: true });
    },
  }, icon('retry'), t('messages.retry_all'));
  const toolbar = h('div', { class: 'toolbar' },
    h('label', { class: 'inline-field' }, t('messages.status'), status),
    h('div', { class: 'toolbar-right' }, retryAll, refresh));
  const line = h('div', { class: 'status-line', 'data-testid': 'messages-status-line' });
  const tableBox = h('div', { class: 'table-card card', 'data-testid': 'messages' }, loading());
  root.append(toolbar, line, tableBox);

  async function retry(body) {
    try {
      const res = await api('messages/retry', { method: 'POST', body });
      toast(t('messages.retried', { n: number(res.retried) }));
      load();
    } catch (err) {
      if (!isAbort(err)) toast(errorText(err), 'error');
    }
  }

  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const my = ++seq;
    tableBox.setAttribute('aria-busy', 'true');
    try {
      const res = await api('messages', {
        query: { page: state.page, per_page: state.perPage, status: state.status }, signal: ctrl.signal,
      });
      if (my !== seq) return;
      line.replaceChildren();
      render(res);
    } catch (err) {
      if (isAbort(err) || my !== seq) return;
      clear(line, errorBox(err, 'messages-error'));
      tableBox.replaceChildren();
    } finally {
      if (my === seq) tableBox.removeAttribute('aria-busy');
    }
  }

  function render(res) {
    const cols = ['id', 'kind', 'chat', 'text', 'status', 'attempts', 'reason', 'created_at', 'sent_at'];
    const head = h('tr', {}, cols.map((k) => h('th', { scope: 'col', 'data-col': k }, t(`messages.col_${k}`))),
      h('th', { class: 'actions' }, h('span', { class: 'sr-only' }, t('common.actions'))));
    const rows = (res.data || []).map((m) => h('tr', { 'data-testid': 'message-row', 'data-id': m.id, 'data-status': m.status },
      h('td', { class: 'num' }, String(m.id)),
      h('td', {}, t(`messages.kind_${m.kind}`), m.broadcast_id ? h('div', { class: 'muted small' }, `#${m.broadcast_id}`) : null),
      h('td', { class: 'mono small', 'data-testid': 'message-chat' }, m.thread_id ? `${m.chat_id}:${m.thread_id}` : String(m.chat_id)),
      h('td', { class: 'message-text', 'data-testid': 'message-text', title: m.text }, shorten(m.text)),
      h('td', {}, badge(t(`messages.status_${m.status}`), statusKind(m.status), { 'data-testid': 'message-status' })),
      h('td', { class: 'num', 'data-testid': 'message-attempts' }, String(m.attempts)),
      h('td', { class: 'message-reason', 'data-testid': 'message-reason' },
        m.error_code ? badge(String(m.error_code), m.error_code === 403 ? 'danger' : 'warn', { 'data-tip': m.error_code === 403 ? t('messages.blocked') : '' }) : null,
        m.reason ? h('span', { class: 'small' }, ' ', m.reason) : (m.error_code ? null : '—'),
        m.status === 'pending' && m.attempts > 0 ? h('div', { class: 'muted small' }, t('messages.next_attempt', { at: dateTimeShort(m.next_attempt_at) })) : null),
      h('td', { class: 'nowrap' }, h('time', { datetime: m.created_at, title: dateTime(m.created_at) }, dateTimeShort(m.created_at))),
      h('td', { class: 'nowrap' }, m.sent_at ? h('time', { datetime: m.sent_at, title: dateTime(m.sent_at) }, dateTimeShort(m.sent_at)) : '—'),
      h('td', { class: 'actions' }, m.status === 'failed' ? h('button', {
        type: 'button', class: 'btn small', 'data-testid': `message-retry-${m.id}`,
        onclick: (e) => { e.currentTarget.disabled = true; retry({ ids: [m.id] }); },
      }, icon('retry'), t('messages.retry')) : null)));
    const meta = { ...res.meta, pages: Math.max(1, Math.ceil((res.meta.total || 0) / (res.meta.per_page || state.perPage))) };
    clear(tableBox,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table messages-table', 'data-testid': 'messages-table' }, h('thead', {}, head), h('tbody', {}, rows))),
      rows.length ? null : empty(t('messages.none')),
      pager({
        meta, testid: 'messages-pager', perPageOptions: [20, 50, 100],
        onPage: (p) => { state.page = p; load(); },
        onPerPage: (n) => { state.perPage = n; state.page = 1; load(); },
      }));
  }

  load();
  return () => { if (ctrl) ctrl.abort(); };
}
