// Pulse events: the outbox rows by status (failed first), with attempts
// and reasons; failed ones can be requeued one by one, by selection or all.

import { h, clear, help, icon } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { dateTime, duration, number } from '../format.js';
import {
  badge, confirmDialog, empty, errorBox, loading, openDialog, pager, toast,
} from '../components.js';

const STATUSES = ['failed', 'pending', 'sending', 'sent'];
const state = { status: 'failed', page: 1, perPage: 20 };

export function mount(root, ctx) {
  let ctrl = null;
  let seq = 0;
  let rows = [];
  const selected = new Set();

  const statsBox = h('div', { class: 'mini-stats', 'data-testid': 'pulse-stats' });
  const statusSel = h('select', {
    class: 'input', 'data-testid': 'pulse-status', 'aria-label': t('pulse.status'),
    onchange: (e) => { state.status = e.target.value; state.page = 1; selected.clear(); load(); },
  }, STATUSES.map((s) => h('option', { value: s, selected: s === state.status }, t(`pulse.status_${s}`))));
  const requeueSel = h('button', {
    type: 'button', class: 'btn', 'data-testid': 'pulse-requeue-selected', disabled: true,
    onclick: () => requeue([...selected]),
  }, icon('retry'), h('span', { class: 'sel-label' }));
  const requeueAll = h('button', {
    type: 'button', class: 'btn danger-outline', 'data-testid': 'pulse-requeue-all',
    onclick: async () => {
      if (await confirmDialog(t('pulse.requeue_all_confirm'), t('pulse.requeue_all'))) requeue(null);
    },
  }, icon('retry'), t('pulse.requeue_all'));
  const refresh = h('button', { type: 'button', class: 'btn icon-btn', 'aria-label': t('common.refresh'), 'data-testid': 'pulse-refresh', onclick: () => { loadStats(true); load(); } }, icon('refresh'));
  refresh.setAttribute('data-tip', t('common.refresh'));
  const toolbar = h('div', { class: 'toolbar' },
    h('label', { class: 'inline-field' }, t('pulse.status'), statusSel),
    h('div', { class: 'toolbar-right' }, requeueSel, requeueAll, refresh));
  const status = h('div', { class: 'status-line' });
  const notice = h('div', { class: 'status-line', 'aria-live': 'polite' });
  const tableBox = h('div', { class: 'table-card card', 'data-testid': 'pulse-events' }, loading());
  root.append(statsBox, toolbar, notice, status, tableBox);

  function updateSelection() {
    const failed = state.status === 'failed';
    requeueSel.hidden = !failed;
    requeueAll.hidden = !failed;
    requeueSel.disabled = selected.size === 0;
    requeueSel.querySelector('.sel-label').textContent = t('pulse.requeue_selected', { n: selected.size });
    const all = tableBox.querySelector('[data-testid="pulse-select-all"]');
    if (all) {
      const ids = rows.map((r) => r.id);
      all.checked = ids.length > 0 && ids.every((id) => selected.has(id));
      all.indeterminate = !all.checked && ids.some((id) => selected.has(id));
    }
  }

  async function loadStats(fresh) {
    try {
      const st = await api('pulse/stats', { query: fresh ? { fresh: 1 } : undefined });
      const tile = (key, kind) => h('div', { class: ['mini-stat', kind] },
        h('span', { class: 'mini-label' }, t(`dashboard.${key}`)),
        h('span', { class: 'mini-value', 'data-testid': `pulse-stat-${key}` }, number(st[key])));
      clear(statsBox,
        tile('pending'), tile('sending'), tile('sent', 'ok'), tile('failed', st.failed > 0 ? 'bad' : ''),
        h('div', { class: 'mini-stat' },
          h('span', { class: 'mini-label' }, t('dashboard.oldest_pending')),
          h('span', { class: 'mini-value' }, st.pending ? duration(st.oldest_pending_age_seconds) : '—')),
        h('div', { class: 'mini-asof muted small' }, t('dashboard.as_of', { time: dateTime(st.computed_at) })));
    } catch (err) {
      if (!isAbort(err)) clear(statsBox, errorBox(err, 'pulse-stats-error'));
    }
  }

  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const my = ++seq;
    tableBox.setAttribute('aria-busy', 'true');
    try {
      const res = await api('pulse/events', {
        query: { status: state.status, page: state.page, per_page: state.perPage }, signal: ctrl.signal,
      });
      if (my !== seq) return;
      status.replaceChildren();
      rows = res.data || [];
      for (const id of [...selected]) if (!rows.some((r) => r.id === id)) selected.delete(id);
      render(res);
    } catch (err) {
      if (isAbort(err) || my !== seq) return;
      clear(status, errorBox(err, 'pulse-error'));
      tableBox.replaceChildren();
    } finally {
      if (my === seq) tableBox.removeAttribute('aria-busy');
      updateSelection();
    }
  }

  function render(res) {
    const failed = state.status === 'failed';
    const selectAll = failed ? h('input', {
      type: 'checkbox', 'data-testid': 'pulse-select-all', 'aria-label': t('pulse.select_all'),
      onchange: (e) => {
        for (const r of rows) if (e.target.checked) selected.add(r.id); else selected.delete(r.id);
        for (const cb of tableBox.querySelectorAll('input[data-row]')) cb.checked = e.target.checked;
        updateSelection();
      },
    }) : null;
    const timeCol = state.status === 'sent' ? 'sent_at' : 'next_attempt_at';
    const head = h('tr', {},
      failed ? h('th', { class: 'check-col' }, selectAll) : null,
      h('th', { class: 'num' }, t('pulse.id')),
      h('th', {}, t('pulse.event')),
      h('th', { class: 'num' }, t('pulse.attempts')),
      h('th', {}, h('span', { class: 'th-inner' }, t('pulse.reason'), help(t('pulse.reason_help'), 'help-pulse-reason'))),
      h('th', {}, t('pulse.created_at')),
      failed ? null : h('th', {}, t(`pulse.${timeCol}`)),
      h('th', { class: 'actions' }, h('span', { class: 'sr-only' }, t('common.actions'))));
    const body = rows.map((e) => h('tr', { 'data-testid': `pulse-row-${e.id}`, class: 'pulse-row', 'data-id': e.id },
      failed ? h('td', { class: 'check-col' }, h('input', {
        type: 'checkbox', checked: selected.has(e.id), 'data-row': String(e.id), 'data-testid': `pulse-select-${e.id}`,
        'aria-label': t('pulse.select', { id: e.id }),
        onchange: (ev) => { if (ev.target.checked) selected.add(e.id); else selected.delete(e.id); updateSelection(); },
      })) : null,
      h('td', { class: 'num' }, String(e.id)),
      h('td', {},
        h('div', { class: 'strong' }, e.event),
        h('div', { class: 'muted small mono ellipsis', title: e.idempotency_key }, e.idempotency_key),
        e.campaign_id ? h('div', { class: 'small' }, badge(e.campaign_id, 'info')) : null),
      h('td', { class: 'num' }, number(e.attempts)),
      h('td', { class: 'reason' },
        e.last_http_status && !String(e.last_error || '').startsWith(`HTTP ${e.last_http_status}`)
          ? badge(`HTTP ${e.last_http_status}`, 'danger', { class: 'small' }) : null,
        e.last_error ? h('span', { class: 'reason-text', 'data-testid': 'pulse-reason' }, e.last_error) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'nowrap' }, dateTime(e.created_at)),
      failed ? null : h('td', { class: 'nowrap' }, dateTime(e[timeCol])),
      h('td', { class: 'actions nowrap' },
        h('button', {
          type: 'button', class: 'btn icon-btn small', 'aria-label': t('pulse.view'), 'data-testid': `pulse-view-${e.id}`,
          onclick: () => eventDialog(e),
        }, icon('eye')),
        failed ? h('button', {
          type: 'button', class: 'btn small', 'data-testid': `pulse-requeue-${e.id}`, onclick: () => requeue([e.id]),
        }, icon('retry'), t('pulse.requeue')) : null)));
    clear(tableBox,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-testid': 'pulse-table' }, h('thead', {}, head), h('tbody', {}, body))),
      rows.length ? null : empty(failed ? t('pulse.none_failed') : t('pulse.none')),
      pager({
        meta: res.meta, perPageOptions: [20, 50, 100], testid: 'pulse-pager',
        onPage: (p) => { state.page = p; load(); },
        onPerPage: (n) => { state.perPage = n; state.page = 1; load(); },
      }));
  }

  // requeue moves ids (or, with null, every failed event) back to pending.
  async function requeue(ids) {
    try {
      const res = await api('pulse/events/retry', { method: 'POST', body: ids ? { ids } : { all_failed: true } });
      toast(t('pulse.requeued', { n: number(res.requeued) }));
      notice.replaceChildren(h('div', { class: 'alert success', 'data-testid': 'pulse-requeued', 'data-count': res.requeued }, t('pulse.requeued', { n: number(res.requeued) })));
      selected.clear();
      loadStats(true);
      load();
    } catch (err) {
      notice.replaceChildren();
      if (!isAbort(err)) clear(status, errorBox(err, 'pulse-error'));
    }
  }

  updateSelection();
  loadStats(false);
  load();
  return () => { if (ctrl) ctrl.abort(); };
}

function eventDialog(e) {
  const row = (label, value, testid) => [h('dt', {}, label), h('dd', { 'data-testid': testid }, value)];
  let payload = e.payload;
  try {
    payload = JSON.stringify(typeof payload === 'string' ? JSON.parse(payload) : payload, null, 2);
  } catch {
    payload = String(payload);
  }
  openDialog({
    title: t('pulse.event_title', { id: e.id }), testid: 'pulse-event-dialog', wide: true,
    body: h('dl', { class: 'details' },
      row(t('pulse.event'), e.event),
      row(t('pulse.idempotency_key'), h('span', { class: 'mono' }, e.idempotency_key)),
      row(t('pulse.status'), badge(t(`pulse.status_${e.status}`), e.status === 'failed' ? 'danger' : e.status === 'sent' ? 'success' : 'info')),
      row(t('pulse.campaign'), e.campaign_id || '—'),
      row(t('pulse.tracking_id'), h('span', { class: 'mono' }, e.tracking_id || '—')),
      row(t('pulse.attempts'), number(e.attempts)),
      row(t('pulse.reason'), e.last_error || '—'),
      row(t('pulse.http_status'), e.last_http_status ? String(e.last_http_status) : '—'),
      row(t('pulse.created_at'), dateTime(e.created_at)),
      row(t('pulse.next_attempt_at'), dateTime(e.next_attempt_at)),
      row(t('pulse.sent_at'), dateTime(e.sent_at)),
      row(t('pulse.payload'), h('pre', { class: 'code wrap' }, payload), 'pulse-event-payload')),
  });
}
