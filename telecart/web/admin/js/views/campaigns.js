// Campaigns: the list with each campaign's funnel over a range of days
// (#/campaigns), and a campaign's own page with its links, QR code,
// funnel picture and per-day chart (#/campaigns/{id}).

import { h, clear, help, icon } from '../dom.js';
import { barChart } from '../chart.js';
import { api, apiBlob, isAbort } from '../api.js';
import { t, getLang } from '../i18n.js';
import { money, number, rub, timeZone } from '../format.js';
import {
  badge, clearFieldErrors, confirmDialog, empty, errorBox, errorText, fieldError, loading, openDialog,
  setFieldError, sortHeader, toast,
} from '../components.js';

const STEPS = ['open', 'product_view', 'add_to_cart', 'checkout_start', 'order'];
const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

// The range and the list's order outlive the view, so that the list and a
// campaign's page show the same days.
const state = { from: '', to: '', sort: 'revenue', order: 'desc', archived: false };

// today is YYYY-MM-DD in the shop's time zone, plus addDays days.
function today(addDays = 0) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: timeZone(), year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date()).map((x) => [x.type, x.value]));
  return new Date(Date.UTC(+p.year, +p.month - 1, +p.day + addDays)).toISOString().slice(0, 10);
}

function ensureRange() {
  if (!state.from || !state.to) {
    state.from = today(-29);
    state.to = today();
  }
}

// campaignIdFromHash is the id of #/campaigns/{id}, '' on the list.
function campaignIdFromHash() {
  const m = /^#\/campaigns\/([^/?#]+)/.exec(location.hash);
  if (!m) return '';
  let id = '';
  try { id = decodeURIComponent(m[1]); } catch { return ''; }
  return ID_PATTERN.test(id) ? id : '';
}

export function mount(root, ctx) {
  ensureRange();
  const id = campaignIdFromHash();
  return id ? mountCampaign(root, ctx, id) : mountList(root, ctx);
}

// --- Numbers.

function stepOf(c, step) {
  return (c.steps || []).find((x) => x.step === step) || { customers: 0, events: 0, conversion: null };
}

// overall is orders ÷ opens, in customers: the campaign's conversion.
function overall(c) {
  const open = stepOf(c, 'open').customers;
  return open > 0 ? stepOf(c, 'order').customers / open : null;
}

function percent(v) {
  if (v == null) return '—';
  return new Intl.NumberFormat(getLang() === 'ru' ? 'ru-RU' : 'en-GB', { style: 'percent', maximumFractionDigits: 1 }).format(v);
}

// --- Files and the clipboard.

// save downloads a Blob under name.
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { download: name, hidden: true });
  a.href = url; // h keeps http(s) links only; this one is the page's own blob
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function download(path, query, name, btn) {
  btn.disabled = true;
  try {
    save(await apiBlob(path, { query }), name);
    btn.dataset.downloaded = name;
  } catch (err) {
    if (!isAbort(err)) toast(errorText(err), 'error');
  } finally {
    btn.disabled = false;
  }
}

// copy puts text on the clipboard (with the old way as a fallback, for
// browsers that refuse the clipboard API) and keeps it on the button as
// data-copied.
async function copy(text, btn) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    const area = h('textarea', { class: 'sr-only', readonly: true }, text);
    document.body.append(area);
    area.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
  }
  if (ok) btn.dataset.copied = text;
  toast(ok ? t('campaigns.copied') : t('campaigns.copy_failed'), ok ? 'ok' : 'error');
}

// dataURL reads a Blob as a data: URL: the panel's policy lets images
// come from data: but not blob:.
function dataURL(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

// --- The range.

// rangeBar is the from/to pickers and presets; onChange runs after
// state.from and state.to change.
function rangeBar(onChange) {
  const inputs = {};
  const sync = () => { inputs.from.value = state.from; inputs.to.value = state.to; };
  for (const key of ['from', 'to']) {
    inputs[key] = h('input', {
      type: 'date', class: 'input', value: state[key], 'data-testid': `campaigns-${key}`, name: key,
      'aria-label': t(`campaigns.${key}`), required: true,
      onchange: (e) => {
        if (!e.target.value) { sync(); return; }
        state[key] = e.target.value;
        if (state.from > state.to) {
          if (key === 'from') state.to = state.from; else state.from = state.to;
        }
        sync();
        onChange();
      },
    });
  }
  const preset = (days) => h('button', {
    type: 'button', class: 'btn small', 'data-testid': `campaigns-last-${days}`,
    onclick: () => { state.from = today(-(days - 1)); state.to = today(); sync(); onChange(); },
  }, t('campaigns.last_days', { n: days }));
  return h('div', { class: 'range campaign-range' },
    h('span', { class: 'field-label' }, t('campaigns.range')), inputs.from, h('span', { class: 'range-sep' }, '—'), inputs.to,
    preset(7), preset(30), preset(90));
}

// --- The list.

const LIST_COLUMNS = [
  { key: 'attributed', value: (c) => c.attributed },
  ...STEPS.map((st) => ({ key: st, value: (c) => stepOf(c, st).customers, step: true })),
  { key: 'conversion', value: overall, render: (c) => percent(overall(c)) },
  { key: 'revenue', value: (c) => c.revenue, render: (c) => money(c.revenue, c.currency) },
];

function mountList(root, ctx) {
  let ctrl = null;
  let last = null;
  const create = h('button', { type: 'button', class: 'btn primary', 'data-testid': 'campaign-new', onclick: () => editDialog(null) },
    icon('plus'), t('campaigns.new'));
  const csv = h('button', { type: 'button', class: 'btn', 'data-testid': 'campaigns-csv' }, icon('download'), t('campaigns.csv'));
  csv.addEventListener('click', () => download('campaigns/funnel.csv', { from: state.from, to: state.to },
    `campaigns-${state.from}-${state.to}.csv`, csv));
  ctx.actions.append(csv, create);

  const showArchived = h('label', { class: 'check' },
    h('input', {
      type: 'checkbox', checked: state.archived, 'data-testid': 'campaigns-show-archived',
      onchange: (e) => { state.archived = e.target.checked; if (last) render(last); },
    }), t('campaigns.show_archived'));
  const toolbar = h('div', { class: 'toolbar' }, rangeBar(() => load()), h('div', { class: 'toolbar-right' }, showArchived));
  const status = h('div', { class: 'status-line' });
  const box = h('div', { class: 'table-card card', 'data-testid': 'campaigns' }, loading());
  root.append(toolbar, status, box);

  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    box.setAttribute('aria-busy', 'true');
    try {
      // The sums only: the list draws no days.
      const f = await api('campaigns/funnel', { query: { from: state.from, to: state.to, days: 0 }, signal: ctrl.signal });
      last = f;
      status.replaceChildren();
      render(f);
      box.dataset.loaded = String(Date.now());
    } catch (err) {
      if (isAbort(err)) return;
      clear(status, errorBox(err, 'campaigns-error'));
      if (!last) box.replaceChildren();
    } finally {
      box.removeAttribute('aria-busy');
    }
  }

  function render(f) {
    const list = f.campaigns.filter((c) => state.archived || !c.archived);
    const col = LIST_COLUMNS.find((c) => c.key === state.sort);
    if (col) {
      const dir = state.order === 'asc' ? 1 : -1;
      // Campaigns without a value (no opens: no conversion) go last.
      list.sort((a, b) => {
        const va = col.value(a);
        const vb = col.value(b);
        if (va == null || vb == null) return (va == null) - (vb == null);
        return (va - vb) * dir || a.name.localeCompare(b.name);
      });
    }
    const onSort = (key, order) => { state.sort = key; state.order = order; render(f); };
    const head = h('tr', {},
      h('th', { scope: 'col' }, t('campaigns.col_name')),
      LIST_COLUMNS.map((c) => sortHeader({
        key: c.key, label: t(c.step ? `campaigns.step_${c.key}` : `campaigns.col_${c.key}`), state, onSort, cls: 'num',
        extra: help(t(c.step ? 'campaigns.step_help' : `campaigns.col_${c.key}_help`), `help-campaigns-${c.key}`),
      })),
      h('th', { class: 'actions', scope: 'col' }, h('span', { class: 'sr-only' }, t('common.actions'))));
    const rows = list.map((c) => h('tr', { 'data-testid': 'campaign-row', 'data-id': c.id, class: c.archived && 'muted' },
      h('td', { 'data-col': 'name' },
        h('a', { href: `#/campaigns/${encodeURIComponent(c.id)}`, class: 'link', 'data-testid': `campaign-link-${c.id}` }, c.name || c.id),
        ' ', h('span', { class: 'mono muted small' }, c.id),
        c.archived ? [' ', badge(t('campaigns.archived'), 'muted')] : null,
        c.known ? null : [' ', badge(t('campaigns.unsaved'), 'warn', { 'data-tip': t('campaigns.unsaved_help'), tabindex: '0' })]),
      LIST_COLUMNS.map((col) => h('td', { class: 'num', 'data-col': col.key }, col.render ? col.render(c) : number(col.value(c)))),
      h('td', { class: 'actions' }, c.known ? rowActions(c) : null)));
    const table = h('table', { class: 'table', 'data-testid': 'campaigns-table' }, h('thead', {}, head), h('tbody', {}, rows));
    clear(box,
      h('div', { class: 'table-wrap' }, table),
      list.length ? null : empty(f.campaigns.length ? t('campaigns.all_archived') : t('campaigns.none')));
    box.dataset.count = String(list.length);
  }

  function rowActions(c) {
    const edit = h('button', {
      type: 'button', class: 'btn icon-btn small', 'data-testid': `campaign-edit-${c.id}`, 'aria-label': t('campaigns.edit'),
      'data-tip': t('campaigns.edit'), onclick: () => editDialog(c, load),
    }, icon('edit'));
    const arch = h('button', {
      type: 'button', class: 'btn icon-btn small', 'data-testid': `campaign-archive-${c.id}`,
      'aria-label': c.archived ? t('campaigns.restore') : t('campaigns.archive'),
      'data-tip': c.archived ? t('campaigns.restore') : t('campaigns.archive'),
      onclick: () => setArchived(c.id, !c.archived).then((ok) => { if (ok) load(); }),
    }, icon(c.archived ? 'retry' : 'archive'));
    return [edit, arch];
  }

  load();
  return () => { if (ctrl) ctrl.abort(); };
}

// setArchived archives (after asking) or restores a campaign; it answers
// whether it did.
async function setArchived(id, archived) {
  try {
    if (archived) {
      if (!await confirmDialog(t('campaigns.archive_confirm'), t('campaigns.archive'))) return false;
      await api(`campaigns/${encodeURIComponent(id)}`, { method: 'DELETE' });
      toast(t('campaigns.archived_done'));
    } else {
      const c = await api(`campaigns/${encodeURIComponent(id)}`);
      await api(`campaigns/${encodeURIComponent(id)}`, { method: 'PUT', body: { ...c, archived: false } });
      toast(t('campaigns.restored'));
    }
    return true;
  } catch (err) {
    toast(errorText(err), 'error');
    return false;
  }
}

// editDialog creates a campaign (c null), then opens its page, or edits
// one, then calls done.
function editDialog(c, done) {
  const creating = !c;
  const v = c || { id: '', name: '', source: '', medium: '', content: '', notes: '' };
  const input = (key, attrs = {}) => h('input', {
    type: 'text', class: 'input', name: key, id: `campaign-${key}`, value: v[key] || '', 'data-testid': `campaign-${key}`,
    autocomplete: 'off', ...attrs,
  });
  const field = (key, control, hint) => h('div', { class: 'field' },
    h('label', { class: 'field-label', for: `campaign-${key}` }, t(`campaigns.field_${key}`), hint ? help(hint, `help-campaign-${key}`) : null),
    control, fieldError(key));
  const form = h('form', { class: 'campaign-form', novalidate: true, 'data-testid': 'campaign-form' },
    field('name', input('name', { required: true, maxlength: '128' })),
    creating
      ? field('id', input('id', { class: 'input mono', required: true, pattern: '[A-Za-z0-9_-]{1,32}', maxlength: '32', placeholder: 'spring_sale' }), t('campaigns.field_id_help'))
      : h('div', { class: 'field' }, h('span', { class: 'field-label' }, t('campaigns.field_id')), h('div', { class: 'mono' }, v.id)),
    h('div', { class: 'field-row' },
      field('source', input('source', { placeholder: 'tg' }), t('campaigns.field_source_help')),
      field('medium', input('medium', { placeholder: 'post' }), t('campaigns.field_medium_help'))),
    field('content', input('content'), t('campaigns.field_content_help')),
    field('notes', h('textarea', { class: 'input', name: 'notes', id: 'campaign-notes', rows: '3', 'data-testid': 'campaign-notes' }, v.notes || '')),
    h('div', { class: 'field-error', 'data-testid': 'campaign-form-error', role: 'alert' }));
  const submit = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'campaign-save' }, creating ? t('campaigns.create') : t('common.save'));
  const cancel = h('button', { type: 'button', class: 'btn', 'data-testid': 'campaign-cancel' }, t('common.cancel'));
  const { close } = openDialog({
    title: creating ? t('campaigns.new') : t('campaigns.edit_title', { name: v.name }), testid: 'campaign-dialog', body: form, footer: [cancel, submit],
  });
  cancel.addEventListener('click', close);
  // The id suggests itself from the name until the admin types one.
  let idTouched = !creating;
  const idInput = form.querySelector('[name=id]');
  if (idInput) idInput.addEventListener('input', () => { idTouched = true; });
  form.querySelector('[name=name]').addEventListener('input', (e) => {
    if (idTouched || !idInput) return;
    idInput.value = e.target.value.toLowerCase().replace(/[^a-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 32);
  });
  const go = async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const val = (k) => (form.querySelector(`[name=${k}]`) || {}).value ?? '';
    const body = {
      id: creating ? val('id').trim() : v.id, name: val('name').trim(), source: val('source').trim(), medium: val('medium').trim(),
      content: val('content').trim(), notes: val('notes'), archived: Boolean(v.archived),
    };
    let bad = false;
    if (!body.name) { setFieldError(form, 'name', t('campaigns.required')); bad = true; }
    if (creating && !ID_PATTERN.test(body.id)) { setFieldError(form, 'id', t('campaigns.id_rule')); bad = true; }
    if (bad) return;
    submit.disabled = true;
    try {
      const saved = creating
        ? await api('campaigns', { method: 'POST', body })
        : await api(`campaigns/${encodeURIComponent(v.id)}`, { method: 'PUT', body });
      close();
      toast(creating ? t('campaigns.created') : t('campaigns.saved'));
      if (creating) location.hash = `#/campaigns/${encodeURIComponent(saved.id)}`;
      else if (done) done(saved);
    } catch (err) {
      let shown = false;
      for (const [k, msg] of Object.entries(err.fields || {})) shown = setFieldError(form, k, msg) || shown;
      if (!shown) clear(form.querySelector('[data-testid=campaign-form-error]'), errorText(err));
    } finally {
      submit.disabled = false;
    }
  };
  form.addEventListener('submit', go);
  submit.addEventListener('click', go);
  setTimeout(() => form.querySelector('[name=name]').focus(), 0);
}

// --- A campaign's page.

function mountCampaign(root, ctx, id) {
  let ctrl = null;
  let qrCtrl = null;
  let campaign = null;
  const back = h('a', { href: '#/campaigns', class: 'btn', 'data-testid': 'campaign-back' }, `← ${t('campaigns.back')}`);
  ctx.actions.append(back);
  const head = h('div', { class: 'campaign-head', 'data-testid': 'campaign-head' }, loading());
  const links = h('section', { class: 'card', 'data-testid': 'campaign-links' });
  const qr = h('section', { class: 'card qr-card', 'data-testid': 'campaign-qr' });
  const range = rangeBar(() => loadFunnel());
  const funnel = h('section', { class: 'card', 'data-testid': 'campaign-funnel' }, loading());
  const days = h('section', { class: 'card chart-card', 'data-testid': 'campaign-days' });
  root.append(head, h('div', { class: 'campaign-grid' }, links, qr), h('div', { class: 'toolbar' }, range), funnel, days);

  async function loadCampaign() {
    try {
      campaign = await api(`campaigns/${encodeURIComponent(id)}`);
      renderHead();
    } catch (err) {
      if (err.status === 404) {
        // Events may carry a campaign_id no saved campaign has.
        campaign = null;
        clear(head, h('div', { class: 'alert warn', 'data-testid': 'campaign-unsaved' }, t('campaigns.unsaved_page', { id })));
        links.hidden = true;
        qr.hidden = true;
        return;
      }
      clear(head, errorBox(err));
      return;
    }
    loadLinks();
  }

  function renderHead() {
    const c = campaign;
    const title = document.querySelector('[data-testid=page-title]');
    if (title) title.textContent = c.name;
    const meta = [['source', c.source], ['medium', c.medium], ['content', c.content]].filter(([, x]) => x)
      .map(([k, x]) => h('span', { class: 'meta-item' }, h('span', { class: 'muted' }, `${t(`campaigns.field_${k}`)}: `), x));
    clear(head,
      h('div', { class: 'campaign-meta' },
        h('span', { class: 'mono', 'data-testid': 'campaign-id' }, c.id),
        c.archived ? badge(t('campaigns.archived'), 'muted', { 'data-testid': 'campaign-archived' }) : null,
        meta),
      c.notes ? h('p', { class: 'campaign-notes muted' }, c.notes) : null,
      h('div', { class: 'campaign-buttons' },
        h('button', {
          type: 'button', class: 'btn', 'data-testid': 'campaign-edit',
          onclick: () => editDialog(c, (saved) => { campaign = saved; renderHead(); loadLinks(); }),
        }, icon('edit'), t('campaigns.edit')),
        h('button', {
          type: 'button', class: 'btn', 'data-testid': 'campaign-archive',
          onclick: () => setArchived(c.id, !c.archived).then((ok) => { if (ok) loadCampaign(); }),
        }, icon(c.archived ? 'retry' : 'archive'), c.archived ? t('campaigns.restore') : t('campaigns.archive'))));
  }

  async function loadLinks() {
    clear(links, h('h2', { class: 'card-title' }, t('campaigns.links'), help(t('campaigns.links_help'), 'help-campaign-links')), loading());
    clear(qr);
    let l;
    try {
      l = await api(`campaigns/${encodeURIComponent(id)}/links`);
    } catch (err) {
      clear(links, h('h2', { class: 'card-title' }, t('campaigns.links')), errorBox(err, 'campaign-links-error'));
      qr.hidden = true;
      return;
    }
    qr.hidden = false;
    const row = (kind, label, value, hint) => {
      const btn = h('button', {
        type: 'button', class: 'btn small', 'data-testid': `copy-${kind}`, 'aria-label': t('campaigns.copy_label', { what: label }),
      }, icon('copy'), t('campaigns.copy'));
      btn.addEventListener('click', () => copy(value, btn));
      return h('div', { class: 'field link-row' },
        h('span', { class: 'field-label' }, label, hint ? help(hint, `help-link-${kind}`) : null),
        h('div', { class: 'copy-row' },
          h('input', { type: 'text', class: 'input mono', readonly: true, value, 'data-testid': `link-${kind}`, 'aria-label': label, onfocus: (e) => e.target.select() }),
          btn));
    };
    clear(links,
      h('h2', { class: 'card-title' }, t('campaigns.links'), help(t('campaigns.links_help'), 'help-campaign-links')),
      row('startapp', t('campaigns.link_startapp'), l.startapp_url, t('campaigns.link_startapp_help')),
      row('start', t('campaigns.link_start'), l.start_url, t('campaigns.link_start_help')),
      row('start_param', t('campaigns.start_param'), l.start_param, t('campaigns.start_param_help')));
    renderQR('startapp');
  }

  function renderQR(kind) {
    const img = h('img', { class: 'qr-image', alt: t('campaigns.qr_alt', { kind: t(`campaigns.link_${kind}`) }), 'data-testid': 'qr-image', width: '220', height: '220' });
    const pick = h('select', {
      class: 'input', 'data-testid': 'qr-kind', 'aria-label': t('campaigns.qr_link'),
      onchange: (e) => renderQR(e.target.value),
    }, ['startapp', 'start'].map((k) => h('option', { value: k, selected: k === kind }, t(`campaigns.link_${k}`))));
    const dl = (ext) => {
      const b = h('button', { type: 'button', class: 'btn small', 'data-testid': `qr-download-${ext}` }, icon('download'), ext.toUpperCase());
      b.addEventListener('click', () => download(`campaigns/${encodeURIComponent(id)}/qr.${ext}`, { link: kind }, `campaign-${id}-${kind}.${ext}`, b));
      return b;
    };
    const frame = h('div', { class: 'qr-frame' }, h('span', { class: 'spinner' }));
    clear(qr,
      h('div', { class: 'card-title-row' }, h('h2', { class: 'card-title' }, t('campaigns.qr')), pick),
      frame,
      h('div', { class: 'qr-buttons' }, h('span', { class: 'muted small' }, t('campaigns.download')), dl('png'), dl('svg')));
    if (qrCtrl) qrCtrl.abort();
    qrCtrl = new AbortController();
    apiBlob(`campaigns/${encodeURIComponent(id)}/qr.png`, { query: { link: kind }, signal: qrCtrl.signal })
      .then(dataURL)
      .then((src) => { img.src = src; clear(frame, img); })
      .catch((err) => { if (!isAbort(err)) clear(frame, errorBox(err, 'qr-error')); });
  }

  async function loadFunnel() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    funnel.setAttribute('aria-busy', 'true');
    try {
      const f = await api('campaigns/funnel', { query: { from: state.from, to: state.to, campaign: id }, signal: ctrl.signal });
      const c = f.campaigns.find((x) => x.id === id) || {
        id, attributed: 0, revenue: 0, currency: '', revenues: [], steps: STEPS.map((st) => ({ step: st, customers: 0, events: 0, conversion: null })), days: [],
      };
      renderFunnel(c);
      renderDays(c, f.from, f.to);
      funnel.dataset.loaded = String(Date.now());
    } catch (err) {
      if (isAbort(err)) return;
      clear(funnel, errorBox(err, 'campaign-funnel-error'));
    } finally {
      funnel.removeAttribute('aria-busy');
    }
  }

  function renderFunnel(c) {
    const max = Math.max(1, ...STEPS.map((st) => stepOf(c, st).customers));
    const revenues = (c.revenues || []).length > 1
      ? h('ul', { class: 'revenues' }, c.revenues.map((r) => h('li', {}, money(r.revenue, r.currency), ' · ', t('dashboard.orders_n', { n: number(r.orders) }))))
      : null;
    clear(funnel,
      h('div', { class: 'card-title-row' }, h('h2', { class: 'card-title' }, t('campaigns.funnel'), help(t('campaigns.funnel_help'), 'help-campaign-funnel'))),
      h('div', { class: 'mini-stats funnel-stats' },
        mini(t('campaigns.col_attributed'), number(c.attributed), 'campaign-attributed', t('campaigns.col_attributed_help')),
        mini(t('campaigns.col_conversion'), percent(overall(c)), 'campaign-conversion', t('campaigns.col_conversion_help')),
        mini(t('campaigns.col_revenue'), money(c.revenue, c.currency), 'campaign-revenue', t('campaigns.col_revenue_help'), revenues)),
      h('ol', { class: 'funnel', 'data-testid': 'funnel' }, STEPS.map((st, i) => {
        const x = stepOf(c, st);
        const w = Math.max(x.customers > 0 ? 2 : 0, (x.customers / max) * 100);
        return h('li', { class: 'funnel-step', 'data-testid': `funnel-step-${st}`, 'data-customers': x.customers, 'data-events': x.events },
          h('div', { class: 'funnel-label' }, t(`campaigns.step_${st}`)),
          h('div', { class: 'funnel-track' }, h('div', { class: `funnel-bar step-${i}`, style: { width: `${w.toFixed(2)}%` } })),
          h('div', { class: 'funnel-figures' },
            h('b', { 'data-testid': `funnel-customers-${st}` }, number(x.customers)),
            h('span', { class: 'muted small' }, t('campaigns.events_n', { n: number(x.events) })),
            i > 0 ? h('span', { class: 'funnel-conv small', 'data-testid': `funnel-conversion-${st}` }, percent(x.conversion)) : null));
      })));
  }

  function renderDays(c, from, to) {
    const byDate = new Map((c.days || []).map((d) => [d.date, d.steps || {}]));
    const all = [];
    for (let d = from; d <= to && all.length < 400; d = nextDay(d)) all.push({ date: d, steps: byDate.get(d) || {} });
    const total = (st) => all.reduce((n, d) => n + Number(d.steps[st] || 0), 0);
    clear(days,
      h('div', { class: 'card-title-row' },
        h('h2', { class: 'card-title' }, t('campaigns.per_day'), help(t('campaigns.per_day_help'), 'help-campaign-days')),
        h('div', { class: 'legend' },
          h('span', { class: 'legend-item open' }, h('i'), t('campaigns.step_open'), ' ', h('b', { 'data-testid': 'days-total-open' }, number(total('open')))),
          h('span', { class: 'legend-item order' }, h('i'), t('campaigns.step_order'), ' ', h('b', { 'data-testid': 'days-total-order' }, number(total('order')))))),
      dayChart(all));
  }

  loadCampaign();
  loadFunnel();
  return () => {
    if (ctrl) ctrl.abort();
    if (qrCtrl) qrCtrl.abort();
  };
}

function mini(label, value, testid, hint, extra) {
  return h('div', { class: 'mini-stat' },
    h('span', { class: 'mini-label' }, label, hint ? help(hint, `help-${testid}`) : null),
    h('span', { class: 'mini-value', 'data-testid': testid }, value),
    extra);
}

function nextDay(d) {
  const [y, m, day] = d.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, day + 1)).toISOString().slice(0, 10);
}

function dayLabel(d) {
  const [y, m, day] = d.split('-').map(Number);
  return new Intl.DateTimeFormat(getLang() === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' })
    .format(new Date(Date.UTC(y, m - 1, day)));
}

// dayChart draws first-time customers per day, opens beside orders, in
// hand-made SVG the way the dashboard draws its hours.
function dayChart(days) {
  return barChart({
    items: days,
    series: [{ cls: 'open', value: (d) => d.steps.open }, { cls: 'order', value: (d) => d.steps.order }],
    label: t('campaigns.per_day'),
    testid: 'campaign-chart',
    group: (d) => ({ class: 'day', 'data-testid': 'chart-day', 'data-date': d.date, 'data-open': Number(d.steps.open || 0), 'data-order': Number(d.steps.order || 0) }),
    tip: (d) => [dayLabel(d.date), ...STEPS.map((st) => `${t(`campaigns.step_${st}`)}: ${number(d.steps[st] || 0)}`)].join('\n'),
    tick: (d) => dayLabel(d.date),
    labelAt: (i, n, narrow) => i % Math.max(1, Math.ceil(n / (narrow ? 6 : 12))) === 0,
    empty: t('campaigns.chart_empty'),
  });
}
