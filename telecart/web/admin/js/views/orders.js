// Orders: the orders placed through the Mini App, newest first, filtered by
// campaign and by customer (#/orders?customer_id=7&campaign_id=spring), each
// with a dialog of its lines and checkout fields (named by the checkout
// form's labels) and, when the host supplies one, a link to the order in
// the host's own admin.

import { h, clear, icon, debounce } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t, getLang } from '../i18n.js';
import { dateTime, dateTimeShort, number } from '../format.js';
import { empty, errorBox, loading, openDialog, pager } from '../components.js';

const CAMPAIGN_ID = /^[A-Za-z0-9_-]{1,32}$/;

// The filters live in the hash, so that a customer's row can link to their
// orders and a reload keeps them; the page and its size live here.
const state = { page: 1, perPage: 20 };

function hashFilters() {
  const q = new URLSearchParams((location.hash.split('?')[1]) || '');
  const customer = q.get('customer_id') || '';
  const campaign = q.get('campaign_id') || '';
  return {
    customer_id: /^[1-9][0-9]{0,18}$/.test(customer) ? customer : '',
    campaign_id: CAMPAIGN_ID.test(campaign) ? campaign : '',
  };
}

function setHashFilters(f) {
  const q = new URLSearchParams();
  if (f.customer_id) q.set('customer_id', f.customer_id);
  if (f.campaign_id) q.set('campaign_id', f.campaign_id);
  const s = q.toString();
  // replaceState fires no hashchange: the view stays mounted.
  history.replaceState(null, '', `#/orders${s ? `?${s}` : ''}`);
}

export function customerName(c) {
  if (!c) return '—';
  const name = [c.first_name, c.last_name].filter(Boolean).join(' ');
  if (name && c.username) return `${name} (@${c.username})`;
  return name || (c.username ? `@${c.username}` : `#${c.id}`);
}

// safeURL keeps only http(s) links (the server checks the host's template
// too): an order link is never a script.
function safeURL(u) {
  try {
    const url = new URL(u, document.baseURI);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '';
  } catch {
    return '';
  }
}

function orderLink(o, content, attrs = {}) {
  const href = o.url ? safeURL(o.url) : '';
  if (!href) return h('span', attrs, content);
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer', title: t('orders.open_in_shop'), ...attrs },
    content, ' ', icon('external', 'inline-icon'));
}

function itemsSummary(items) {
  if (!items || !items.length) return '—';
  const first = items.slice(0, 2).map((it) => `${it.name || it.product_id} × ${number(it.quantity)}`).join(', ');
  return items.length > 2 ? `${first} ${t('orders.more_items', { n: number(items.length - 2) })}` : first;
}

export function mount(root) {
  let ctrl = null;
  let seq = 0;
  let filters = hashFilters();
  // The checkout form names the orders' fields; without it they show by
  // name.
  let checkoutForm = null;
  const formCtrl = new AbortController();
  const formLoaded = api('forms/checkout', { signal: formCtrl.signal })
    .then((f) => { checkoutForm = f; }, () => {});

  const campaign = h('input', {
    type: 'text', class: 'input', value: filters.campaign_id, placeholder: t('orders.campaign_placeholder'),
    'aria-label': t('orders.campaign'), 'data-testid': 'orders-campaign', maxlength: '32', spellcheck: 'false',
  });
  const campaignError = h('span', { class: 'field-error', 'data-testid': 'orders-campaign-error', role: 'alert' });
  const runCampaign = debounce(() => {
    const v = campaign.value.trim();
    if (v && !CAMPAIGN_ID.test(v)) {
      campaignError.textContent = t('orders.campaign_invalid');
      return;
    }
    campaignError.textContent = '';
    filters.campaign_id = v;
    state.page = 1;
    setHashFilters(filters);
    load();
  }, 350);
  campaign.addEventListener('input', runCampaign);
  const customerChip = h('span', { class: 'chip-slot', 'data-testid': 'orders-customer-filter' });
  const refresh = h('button', { type: 'button', class: 'btn icon-btn', 'aria-label': t('common.refresh'), 'data-testid': 'orders-refresh', onclick: () => load() }, icon('refresh'));
  refresh.setAttribute('data-tip', t('common.refresh'));
  const toolbar = h('div', { class: 'toolbar' },
    h('div', { class: 'toolbar-left' },
      h('label', { class: 'inline-field' }, t('orders.campaign'), campaign), campaignError, customerChip),
    h('div', { class: 'toolbar-right' }, refresh));
  const status = h('div', { class: 'status-line' });
  const tableBox = h('div', { class: 'table-card card', 'data-testid': 'orders' }, loading());
  root.append(toolbar, status, tableBox);

  function filterBy(f) {
    runCampaign.cancel();
    filters = { ...filters, ...f };
    campaign.value = filters.campaign_id;
    campaignError.textContent = '';
    state.page = 1;
    setHashFilters(filters);
    load();
  }

  function renderChip(res) {
    if (!filters.customer_id) {
      customerChip.replaceChildren();
      return;
    }
    const first = (res && res.data && res.data[0]) || null;
    const label = first ? customerName(first.customer) : `#${filters.customer_id}`;
    clear(customerChip, h('span', { class: 'chip' },
      t('orders.customer_filter', { name: label }),
      h('button', {
        type: 'button', class: 'chip-close', 'aria-label': t('orders.clear_customer'), 'data-testid': 'orders-customer-clear',
        onclick: () => filterBy({ customer_id: '' }),
      }, icon('close'))));
  }

  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const my = ++seq;
    tableBox.setAttribute('aria-busy', 'true');
    try {
      const res = await api('orders', {
        query: { page: state.page, per_page: state.perPage, ...filters }, signal: ctrl.signal,
      });
      if (my !== seq) return;
      status.replaceChildren();
      renderChip(res);
      render(res);
    } catch (err) {
      if (isAbort(err) || my !== seq) return;
      clear(status, errorBox(err, 'orders-error'));
      tableBox.replaceChildren();
    } finally {
      if (my === seq) tableBox.removeAttribute('aria-busy');
    }
  }

  function render(res) {
    const head = h('tr', {},
      ['id', 'created_at', 'customer', 'items', 'total', 'campaign'].map((k) => h('th', { scope: 'col', class: k === 'total' ? 'num' : null }, t(`orders.col_${k}`))),
      h('th', { class: 'actions', scope: 'col' }, h('span', { class: 'sr-only' }, t('common.actions'))));
    const rows = res.data.map((o) => h('tr', { 'data-testid': 'order-row', 'data-id': o.id },
      h('td', { class: 'mono', 'data-col': 'id' }, orderLink(o, o.id, { 'data-testid': 'order-link' })),
      h('td', { class: 'nowrap', 'data-col': 'created_at' }, h('time', { datetime: o.created_at, title: dateTime(o.created_at) }, dateTimeShort(o.created_at))),
      h('td', { 'data-col': 'customer' }, h('a', {
        href: `#/orders?customer_id=${encodeURIComponent(o.customer.id)}`, 'data-testid': 'order-customer',
        onclick: (e) => { e.preventDefault(); filterBy({ customer_id: String(o.customer.id) }); },
      }, customerName(o.customer))),
      h('td', { 'data-col': 'items' }, itemsSummary(o.items)),
      h('td', { class: 'num nowrap', 'data-col': 'total' }, o.total_formatted),
      h('td', { 'data-col': 'campaign' }, o.campaign_id ? h('a', {
        href: `#/orders?campaign_id=${encodeURIComponent(o.campaign_id)}`, class: 'mono', 'data-testid': 'order-campaign',
        onclick: (e) => { e.preventDefault(); filterBy({ campaign_id: o.campaign_id }); },
      }, o.campaign_id) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'btn icon-btn small', 'aria-label': t('orders.view'), 'data-tip': t('orders.view'),
        'data-testid': `order-view-${o.id}`, onclick: () => formLoaded.then(() => orderDialog(o, checkoutForm)),
      }, icon('eye')))));
    const filtered = filters.customer_id || filters.campaign_id;
    clear(tableBox,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-testid': 'orders-table' }, h('thead', {}, head), h('tbody', {}, rows))),
      rows.length ? null : empty(filtered ? t('orders.none_match') : t('orders.none')),
      pager({
        meta: res.meta, perPageOptions: [10, 20, 50, 100], testid: 'orders-pager',
        onPage: (p) => { state.page = p; load(); },
        onPerPage: (n) => { state.perPage = n; state.page = 1; load(); },
      }));
    tableBox.dataset.total = String(res.meta.total);
  }

  // A link from elsewhere (a customer's row) changes the hash while the
  // view is open: follow it.
  const onHash = () => {
    if (!location.hash.startsWith('#/orders')) return;
    const f = hashFilters();
    if (f.customer_id === filters.customer_id && f.campaign_id === filters.campaign_id) return;
    filters = f;
    campaign.value = f.campaign_id;
    state.page = 1;
    load();
  };
  window.addEventListener('hashchange', onHash);

  load();
  return () => {
    if (ctrl) ctrl.abort();
    formCtrl.abort();
    runCampaign.cancel();
    window.removeEventListener('hashchange', onHash);
  };
}

function fieldValue(v) {
  if (v === true) return t('common.yes');
  if (v === false) return t('common.no');
  if (v == null || v === '') return '—';
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// fieldRows lists an order's checkout fields as {name, label, value} in
// the checkout form's order, each named by its label and a choice shown by
// its option's label, in the panel's language where the form gives one; a
// field the form no longer has follows, by its name.
export function fieldRows(fields, form) {
  const lang = getLang();
  // The text in the panel's language, else the form's own, else ''.
  const pick = (translated, base) => [translated, base].map((x) => (typeof x === 'string' ? x.trim() : '')).find(Boolean) || '';
  const rows = [];
  const done = new Set();
  for (const n of (form && Array.isArray(form.schema) ? form.schema : [])) {
    if (!n || typeof n.name !== 'string' || done.has(n.name) || !Object.hasOwn(fields, n.name)) continue;
    done.add(n.name);
    let value = fields[n.name];
    const option = Array.isArray(n.options) ? n.options.find((x) => x && x.value === value) : null;
    if (option) value = pick(((n.option_labels || {})[lang] || {})[option.value], option.label) || value;
    rows.push({ name: n.name, label: pick((n.labels || {})[lang], n.label) || n.name, value });
  }
  for (const name of Object.keys(fields).sort()) {
    if (!done.has(name)) rows.push({ name, label: name, value: fields[name] });
  }
  return rows;
}

// orderDialog shows one order in full: its lines, total and checkout fields.
function orderDialog(o, form) {
  const row = (label, value, testid) => [h('dt', {}, label), h('dd', { 'data-testid': testid }, value)];
  const lines = (o.items || []).map((it) => h('tr', { 'data-testid': 'order-line' },
    h('td', {}, it.name || it.product_id, h('div', { class: 'muted small mono' }, it.product_id)),
    h('td', { class: 'num' }, number(it.quantity)),
    h('td', { class: 'num nowrap' }, it.total_formatted || number(it.total / 100))));
  const fields = fieldRows(o.fields || {}, form).map((f) => row(f.label, h('span', { class: 'wrap' }, fieldValue(f.value)), `order-field-${f.name}`));
  openDialog({
    title: t('orders.order', { id: o.id }), testid: 'order-dialog', wide: true,
    body: h('div', {},
      h('dl', { class: 'details' },
        row(t('orders.col_created_at'), dateTime(o.created_at), 'order-dialog-time'),
        row(t('orders.col_customer'), customerName(o.customer), 'order-dialog-customer'),
        row(t('orders.col_campaign'), o.campaign_id || '—', 'order-dialog-campaign'),
        row(t('orders.col_total'), o.total_formatted, 'order-dialog-total'),
        o.url && safeURL(o.url) ? row(t('orders.host_link'), orderLink(o, t('orders.open_in_shop'), { 'data-testid': 'order-dialog-link' }), 'order-dialog-url') : null),
      lines.length ? h('table', { class: 'table compact', 'data-testid': 'order-lines' },
        h('thead', {}, h('tr', {}, h('th', {}, t('orders.col_items')), h('th', { class: 'num' }, t('orders.quantity')), h('th', { class: 'num' }, t('orders.col_total')))),
        h('tbody', {}, lines)) : h('p', { class: 'muted' }, t('orders.no_items')),
      h('h3', { class: 'section-title' }, t('orders.fields')),
      fields.length ? h('dl', { class: 'details', 'data-testid': 'order-fields' }, fields) : h('p', { class: 'muted' }, '—')),
  });
}
