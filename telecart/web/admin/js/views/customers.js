// Customers: a paginated, sortable, filterable table with a global search,
// a column toggle, a send-message dialog and the erasure of a customer's
// personal data.

import { h, clear, help, icon, debounce } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { dateTime, dateTimeShort, dayRange, number } from '../format.js';
import {
  badge, confirmDialog, empty, errorBox, errorText, loading, openDialog, pager, sortHeader, toast, yesNo,
} from '../components.js';

const MAX_MESSAGE = 4096; // Telegram's limit, in characters
const COLUMNS_KEY = 'telecart.admin.customers.columns';

// COLUMNS: key is the API field; sort marks the API's sortable columns.
const COLUMNS = [
  { key: 'id', sort: true, num: true, show: true },
  { key: 'telegram_user_id', num: true, show: false, mono: true },
  { key: 'first_name', sort: true, show: true },
  { key: 'last_name', sort: true, show: true },
  { key: 'username', sort: true, show: true, render: (c) => (c.username ? `@${c.username}` : '—') },
  { key: 'language_code', show: false },
  { key: 'is_premium', bool: true, show: false },
  { key: 'allows_write_to_pm', bool: true, show: true },
  { key: 'bot_blocked', bool: true, show: false, boolYes: 'danger' },
  { key: 'orders_count', sort: true, num: true, show: true },
  { key: 'first_campaign_id', show: false, help: true, render: (c) => campaignLink(c.first_campaign_id) },
  { key: 'last_campaign_id', show: true, help: true, render: (c) => campaignLink(c.last_campaign_id) },
  { key: 'tracking_id', show: false, mono: true },
  { key: 'privacy_consented_at', sort: true, date: true, show: true, help: true },
  { key: 'last_seen_at', sort: true, date: true, show: true, help: true },
  { key: 'created_at', sort: true, date: true, show: true, help: true },
  { key: 'updated_at', sort: true, date: true, show: false },
];

const TEXT_FILTERS = ['first_name', 'last_name', 'username', 'language_code', 'tracking_id'];
const BOOL_FILTERS = ['allows_write_to_pm', 'privacy_consented', 'is_premium', 'bot_blocked'];
const DATE_FILTERS = ['created_at', 'last_seen_at', 'privacy_consented_at'];

// The list's state outlives the view, so that coming back to the page
// finds the same filters.
const state = {
  page: 1, perPage: 20, sort: 'id', order: 'desc', search: '', filters: {}, showFilters: false,
};

function visibleColumns() {
  try {
    const saved = JSON.parse(localStorage.getItem(COLUMNS_KEY) || 'null');
    if (saved && typeof saved === 'object') return new Set(COLUMNS.filter((c) => saved[c.key] ?? c.show).map((c) => c.key));
  } catch { /* fall through to the defaults */ }
  return new Set(COLUMNS.filter((c) => c.show).map((c) => c.key));
}

function saveColumns(set) {
  localStorage.setItem(COLUMNS_KEY, JSON.stringify(Object.fromEntries(COLUMNS.map((c) => [c.key, set.has(c.key)]))));
}

function activeFilterCount() {
  let n = 0;
  for (const k of TEXT_FILTERS.concat(BOOL_FILTERS)) if (state.filters[k]) n++;
  for (const k of DATE_FILTERS) if (state.filters[`${k}.from`] || state.filters[`${k}.to`]) n++;
  return n;
}

function buildQuery() {
  const q = { page: state.page, per_page: state.perPage, sort: state.sort, order: state.order, search: state.search.trim() };
  for (const k of TEXT_FILTERS) q[`filter[${k}]`] = (state.filters[k] || '').trim();
  for (const k of BOOL_FILTERS) q[`filter[${k}]`] = state.filters[k] || '';
  for (const k of DATE_FILTERS) {
    // Days are the shop's days: from its midnight to the end of "to".
    const r = dayRange(state.filters[`${k}.from`], state.filters[`${k}.to`]);
    q[`filter[${k}][from]`] = r.from;
    q[`filter[${k}][to]`] = r.to;
  }
  return q;
}

export function mount(root, ctx) {
  let ctrl = null;
  let seq = 0;
  let columns = visibleColumns();
  let last = null;

  const search = h('input', {
    type: 'search', class: 'input search-input', placeholder: t('customers.search_placeholder'), value: state.search,
    'aria-label': t('customers.search'), 'data-testid': 'customers-search', id: 'customers-search',
  });
  const runSearch = debounce(() => { state.page = 1; load(); }, 350);
  search.addEventListener('input', () => { state.search = search.value; runSearch(); });
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { runSearch.cancel(); state.page = 1; load(); } });

  const filterCount = h('span', { class: 'count-badge', 'data-testid': 'filters-count' });
  const filterBtn = h('button', {
    type: 'button', class: 'btn', 'data-testid': 'customers-filters-toggle', 'aria-expanded': String(state.showFilters),
  }, icon('filter'), t('customers.filters'), filterCount);
  const panel = filtersPanel();
  panel.hidden = !state.showFilters;
  filterBtn.addEventListener('click', () => {
    state.showFilters = !state.showFilters;
    panel.hidden = !state.showFilters;
    filterBtn.setAttribute('aria-expanded', String(state.showFilters));
  });

  const colMenu = columnsMenu();
  const toolbar = h('div', { class: 'toolbar' },
    h('div', { class: 'search-box' }, icon('search'), search),
    h('div', { class: 'toolbar-right' }, filterBtn, colMenu));
  const status = h('div', { class: 'status-line' });
  const tableBox = h('div', { class: 'table-card card', 'data-testid': 'customers' }, loading());
  root.append(toolbar, panel, status, tableBox);
  updateFilterCount();

  const closeMenus = (e) => {
    if (colMenu.open && !colMenu.contains(e.target)) colMenu.open = false;
  };
  document.addEventListener('click', closeMenus);

  function updateFilterCount() {
    const n = activeFilterCount();
    filterCount.textContent = n ? String(n) : '';
    filterCount.hidden = !n;
  }

  function filtersPanel() {
    const reload = () => { state.page = 1; updateFilterCount(); load(); };
    const slow = debounce(reload, 400);
    const textField = (k) => h('label', { class: 'field' },
      h('span', { class: 'field-label' }, t(`col.${k}`)),
      h('input', {
        type: 'text', class: 'input', value: state.filters[k] || '', 'data-testid': `filter-${k}`, name: `filter-${k}`,
        oninput: (e) => { state.filters[k] = e.target.value; slow(); },
      }));
    const boolField = (k) => h('label', { class: 'field' },
      h('span', { class: 'field-label' }, t(`filter.${k}`)),
      h('select', {
        class: 'input', 'data-testid': `filter-${k}`, name: `filter-${k}`,
        onchange: (e) => { state.filters[k] = e.target.value; reload(); },
      },
      [['', t('filter.any')], ['true', t('common.yes')], ['false', t('common.no')]].map(([v, l]) => h('option', { value: v, selected: (state.filters[k] || '') === v }, l))));
    const dateField = (k) => h('div', { class: 'field date-range' },
      h('span', { class: 'field-label' }, t(`col.${k}`)),
      h('div', { class: 'range' },
        h('input', {
          type: 'date', class: 'input', value: state.filters[`${k}.from`] || '', 'aria-label': `${t(`col.${k}`)} — ${t('filter.from')}`,
          'data-testid': `filter-${k}-from`, onchange: (e) => { state.filters[`${k}.from`] = e.target.value; reload(); },
        }),
        h('span', { class: 'range-sep' }, '—'),
        h('input', {
          type: 'date', class: 'input', value: state.filters[`${k}.to`] || '', 'aria-label': `${t(`col.${k}`)} — ${t('filter.to')}`,
          'data-testid': `filter-${k}-to`, onchange: (e) => { state.filters[`${k}.to`] = e.target.value; reload(); },
        })));
    const reset = h('button', {
      type: 'button', class: 'btn ghost', 'data-testid': 'filters-reset',
      onclick: () => {
        state.filters = {};
        for (const el of panelEl.querySelectorAll('input, select')) el.value = '';
        reload();
      },
    }, t('filter.reset'));
    const panelEl = h('div', { class: 'card filters', 'data-testid': 'customers-filters' },
      h('div', { class: 'filters-grid' },
        TEXT_FILTERS.map(textField), BOOL_FILTERS.map(boolField), DATE_FILTERS.map(dateField)),
      h('div', { class: 'filters-foot' },
        h('span', { class: 'muted small' }, t('filter.dates_note')), reset));
    return panelEl;
  }

  function columnsMenu() {
    const menu = h('details', { class: 'menu', 'data-testid': 'columns-menu' },
      h('summary', { class: 'btn', 'data-testid': 'columns-toggle' }, icon('columns'), t('customers.columns')),
      h('div', { class: 'menu-panel' },
        COLUMNS.map((c) => h('label', { class: 'check' },
          h('input', {
            type: 'checkbox', checked: columns.has(c.key), 'data-testid': `column-${c.key}`,
            onchange: (e) => {
              if (e.target.checked) columns.add(c.key); else columns.delete(c.key);
              saveColumns(columns);
              if (last) renderTable(last);
            },
          }),
          t(`col.${c.key}`)))));
    return menu;
  }

  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const my = ++seq;
    tableBox.setAttribute('aria-busy', 'true');
    try {
      const res = await api('customers', { query: buildQuery(), signal: ctrl.signal });
      if (my !== seq) return;
      last = res;
      status.replaceChildren();
      renderTable(res);
    } catch (err) {
      if (isAbort(err) || my !== seq) return;
      clear(status, errorBox(err, 'customers-error'));
      if (!last) tableBox.replaceChildren();
    } finally {
      if (my === seq) tableBox.removeAttribute('aria-busy');
    }
  }

  function renderTable(res) {
    const cols = COLUMNS.filter((c) => columns.has(c.key));
    const onSort = (key, order) => { state.sort = key; state.order = order; state.page = 1; load(); };
    const head = h('tr', {}, cols.map((c) => {
      const extra = c.help ? help(t(`help.${c.key}`), `help-${c.key}`) : null;
      const cls = c.num ? 'num' : null;
      if (c.sort) return sortHeader({ key: c.key, label: t(`col.${c.key}`), state, onSort, extra, cls });
      return h('th', { scope: 'col', class: cls, 'data-col': c.key }, h('span', { class: 'th-inner' }, t(`col.${c.key}`), extra));
    }), h('th', { class: 'actions', scope: 'col' }, h('span', { class: 'sr-only' }, t('common.actions'))));
    const rows = res.data.map((c) => h('tr', { 'data-testid': 'customer-row', 'data-id': c.id },
      cols.map((col) => h('td', { class: [col.num && 'num', col.mono && 'mono', col.date && 'nowrap'], 'data-col': col.key }, cell(col, c))),
      h('td', { class: 'actions' },
        h('a', {
          href: `#/orders?customer_id=${encodeURIComponent(c.id)}`, class: 'btn icon-btn small', 'data-testid': `customer-orders-${c.id}`,
          'aria-label': t('customers.orders'), 'data-tip': t('customers.orders'),
        }, icon('orders')),
        c.erased_at
          // An erased row keeps its counts, times and orders, and nothing else to act on.
          ? badge(t('erase.marker'), 'muted', { 'data-testid': `erased-${c.id}`, title: t('erase.marker_tip', { time: dateTime(c.erased_at) }) })
          : [
            h('button', {
              type: 'button', class: 'btn icon-btn small', 'data-testid': `send-message-${c.id}`, 'aria-label': t('customers.send_message'),
              'data-tip': t('customers.send_message'), onclick: () => messageDialog(c),
            }, icon('send')),
            h('button', {
              type: 'button', class: 'btn icon-btn small danger-outline', 'data-testid': `erase-${c.id}`, 'aria-label': t('erase.action'),
              'data-tip': t('erase.action'), onclick: () => erase(c),
            }, icon('erase')),
          ])));

    const table = h('table', { class: 'table', 'data-testid': 'customers-table' },
      h('thead', {}, head),
      h('tbody', {}, rows));
    clear(tableBox,
      h('div', { class: 'table-wrap' }, table),
      res.data.length ? null : empty(activeFilterCount() || state.search ? t('customers.none_match') : t('customers.none')),
      pager({
        meta: res.meta, perPageOptions: [10, 20, 50, 100], testid: 'customers-pager',
        onPage: (p) => { state.page = p; load(); },
        onPerPage: (n) => { state.perPage = n; state.page = 1; load(); },
      }));
    tableBox.dataset.total = String(res.meta.total);
    tableBox.dataset.page = String(res.meta.page);
  }

  // erase asks, then erases the customer's personal data and reloads the
  // page, where the row shows as erased.
  async function erase(c) {
    if (!await confirmDialog(t('erase.confirm', { name: fullName(c), id: c.id }), t('erase.action'), true)) return;
    try {
      await api(`customers/${encodeURIComponent(c.id)}`, { method: 'DELETE' });
      toast(t('erase.done', { id: c.id }));
    } catch (err) {
      toast(errorText(err), 'error');
    }
    load();
  }

  load();
  return () => {
    if (ctrl) ctrl.abort();
    runSearch.cancel();
    document.removeEventListener('click', closeMenus);
  };
}

function cell(col, c) {
  const v = c[col.key];
  if (col.render) return col.render(c);
  if (col.bool) return yesNo(v, col.boolYes || 'success');
  if (col.date) return v ? h('time', { datetime: v, title: dateTime(v) }, dateTimeShort(v)) : '—';
  if (col.num) return number(v);
  return v === '' || v == null ? '—' : String(v);
}

// campaignLink opens a campaign's page; the id is checked like the
// Campaigns page checks it, as customers may carry an older, longer one.
function campaignLink(id) {
  if (!id) return '—';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) return h('span', { class: 'mono' }, id);
  return h('a', { href: `#/campaigns/${encodeURIComponent(id)}`, class: 'link mono', 'data-testid': 'customer-campaign' }, id);
}

function fullName(c) {
  return [c.first_name, c.last_name].filter(Boolean).join(' ') || (c.username ? `@${c.username}` : `#${c.id}`);
}

// messageDialog sends a Telegram message to the customer and shows
// Telegram's answer (the message id) or the error.
function messageDialog(c) {
  const text = h('textarea', {
    class: 'input', rows: '6', id: 'message-text', name: 'text', 'data-testid': 'message-text',
    placeholder: t('message.placeholder'), 'aria-describedby': 'message-count message-error',
  });
  const count = h('span', { class: 'counter', id: 'message-count', 'data-testid': 'message-count' });
  const error = h('div', { class: 'field-error', id: 'message-error', 'data-testid': 'message-error', role: 'alert' });
  const result = h('div', { class: 'message-result', 'data-testid': 'message-result', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'message-send' }, icon('send'), t('message.send'));
  const cancel = h('button', { type: 'button', class: 'btn', 'data-testid': 'message-cancel' }, t('common.close'));
  const length = () => [...text.value].length; // code points, as Telegram counts
  const updateCount = () => {
    const n = length();
    count.textContent = `${number(n)} / ${number(MAX_MESSAGE)}`;
    count.classList.toggle('over', n > MAX_MESSAGE);
  };
  const validate = () => {
    if (!text.value.trim()) return t('message.empty');
    if (length() > MAX_MESSAGE) return t('message.too_long', { max: number(MAX_MESSAGE), n: number(length()) });
    return '';
  };
  text.addEventListener('input', () => {
    updateCount();
    if (error.textContent) error.textContent = validate();
    text.classList.toggle('invalid', Boolean(error.textContent));
  });
  updateCount();

  const notes = [];
  if (c.bot_blocked) notes.push(h('div', { class: 'alert warn small' }, t('message.note_blocked')));
  else if (!c.allows_write_to_pm) notes.push(h('div', { class: 'alert warn small' }, t('message.note_no_pm')));

  const form = h('form', { class: 'message-form', novalidate: true },
    h('div', { class: 'recipient' },
      h('div', { class: 'recipient-name', 'data-testid': 'message-recipient' }, fullName(c)),
      h('div', { class: 'muted small' }, [c.username ? `@${c.username}` : null, t('message.telegram_id', { id: c.telegram_user_id })].filter(Boolean).join(' · '))),
    notes,
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('message.text')), text),
    h('div', { class: 'field-meta' }, error, count),
    result);
  const { close } = openDialog({
    title: t('message.title'), testid: 'message-dialog', body: form, footer: [cancel, send],
  });
  cancel.addEventListener('click', close);
  send.addEventListener('click', (e) => { e.preventDefault(); submit(); });
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  setTimeout(() => text.focus(), 0);

  async function submit() {
    result.replaceChildren();
    result.removeAttribute('data-status');
    const problem = validate();
    error.textContent = problem;
    text.classList.toggle('invalid', Boolean(problem));
    if (problem) return;
    send.disabled = true;
    send.classList.add('busy');
    try {
      const res = await api(`customers/${encodeURIComponent(c.id)}/messages`, { method: 'POST', body: { text: text.value } });
      result.dataset.status = 'ok';
      clear(result, h('div', { class: 'alert success' },
        t('message.sent'), ' ', h('span', { class: 'nowrap' }, t('message.message_id'), ' ', h('b', { 'data-testid': 'message-id' }, String(res.id)))));
      text.value = '';
      updateCount();
    } catch (err) {
      result.dataset.status = 'error';
      if (err.status === 422 && err.fields && err.fields.text) {
        error.textContent = err.fields.text;
        text.classList.add('invalid');
      }
      const code = err.status ? badge(`HTTP ${err.status}`, 'danger') : null;
      clear(result, h('div', { class: 'alert error', 'data-testid': 'message-error-result' }, code, ' ', errorText(err)));
    } finally {
      send.disabled = false;
      send.classList.remove('busy');
    }
  }
}
