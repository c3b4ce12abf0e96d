// Scheduler: every task with its last run, duration and status; an error
// badge's tooltip tells when and why the task last failed.

import { h, clear, icon } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { dateTime, millis, number } from '../format.js';
import { badge, empty, errorBox, loading } from '../components.js';

export function mount(root, ctx) {
  let ctrl = null;
  const refresh = h('button', { type: 'button', class: 'btn', 'data-testid': 'scheduler-refresh', onclick: () => load() }, icon('refresh'), t('common.refresh'));
  ctx.actions.append(refresh);
  const box = h('div', { class: 'table-card card', 'data-testid': 'scheduler' }, loading());
  root.append(box);

  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    try {
      const res = await api('scheduler', { signal: ctrl.signal });
      render(res.data || []);
    } catch (err) {
      if (!isAbort(err)) clear(box, errorBox(err));
    }
  }

  function errorTip(task) {
    return t('scheduler.error_tip', { time: dateTime(task.last_error_at), msg: task.last_error || '—' });
  }

  function statusCell(task) {
    const out = [];
    if (task.running) out.push(badge(t('scheduler.running'), 'info'));
    if (task.last_status === 'error') {
      out.push(badge(t('scheduler.error'), 'danger', {
        'data-tip': errorTip(task), tabindex: '0', 'data-testid': `task-error-${task.name}`,
      }));
    } else if (task.last_status === 'ok') {
      out.push(badge(t('scheduler.ok'), 'success'));
      if (task.last_error) {
        // An older failure, kept after later successes.
        out.push(badge(t('scheduler.failed_before'), 'warn', {
          'data-tip': errorTip(task), tabindex: '0', 'data-testid': `task-error-${task.name}`,
        }));
      }
    } else if (!task.running) {
      out.push(h('span', { class: 'muted' }, t('scheduler.never_run')));
    }
    if (task.last_skipped) {
      out.push(badge(t('scheduler.skipped'), 'muted', {
        'data-tip': t('scheduler.skipped_tip', { time: dateTime(task.last_skipped_at), why: task.last_skipped }), tabindex: '0',
      }));
    }
    return out;
  }

  function render(tasks) {
    const rows = tasks.map((task) => h('tr', { 'data-testid': 'task-row', 'data-name': task.name },
      h('td', { class: 'mono strong' }, task.name),
      h('td', { class: 'mono' }, task.schedule),
      h('td', {}, task.enabled ? badge(t('scheduler.enabled'), 'success') : badge(t('scheduler.disabled'), 'muted')),
      h('td', { class: 'nowrap' }, dateTime(task.last_run_at)),
      h('td', { class: 'num nowrap', 'data-testid': 'task-duration' }, task.last_run_at ? millis(task.last_duration_ms) : '—'),
      h('td', { class: 'status-cell', 'data-testid': 'task-status' }, statusCell(task)),
      h('td', { class: 'nowrap' }, dateTime(task.next_run_at)),
      h('td', { class: 'num' }, `${number(task.runs || 0)} / ${number(task.failures || 0)}`)));
    clear(box,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-testid': 'scheduler-table' },
        h('thead', {}, h('tr', {},
          [t('scheduler.name'), t('scheduler.schedule'), t('scheduler.state'), t('scheduler.last_run'),
            t('scheduler.duration'), t('scheduler.status'), t('scheduler.next_run'), t('scheduler.runs_failures')]
            .map((x, i) => h('th', { class: i === 4 || i === 7 ? 'num' : null }, x)))),
        h('tbody', {}, rows))),
      tasks.length ? null : empty(t('scheduler.none')));
  }

  load();
  return () => { if (ctrl) ctrl.abort(); };
}
