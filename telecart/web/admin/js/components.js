// Pieces the views share: dialogs, toasts, pagers, sortable headers, badges.

import { h, icon, clear } from './dom.js';
import { t } from './i18n.js';
import { number } from './format.js';

// openDialog shows a modal <dialog>. It closes on Escape (the browser's
// own), on the close button and on a click outside it, and removes itself
// when closed. body and footer are nodes.
export function openDialog({ title, body, footer, testid, wide, onClose }) {
  const closeBtn = h('button', { type: 'button', class: 'btn icon-btn ghost', 'aria-label': t('common.close'), 'data-testid': 'dialog-close' }, icon('close'));
  const dlg = h('dialog', { class: ['dialog', wide && 'wide'], 'data-testid': testid, 'aria-label': title },
    h('div', { class: 'dialog-inner' },
      h('header', { class: 'dialog-head' }, h('h2', {}, title), closeBtn),
      h('div', { class: 'dialog-body' }, body),
      footer ? h('footer', { class: 'dialog-foot' }, footer) : null));
  const close = () => { if (dlg.open) dlg.close(); };
  closeBtn.addEventListener('click', close);
  // A click whose press and release both fall outside the box (on the
  // backdrop) closes; dragging a text selection out of the box does not.
  let downOutside = false;
  const outside = (e) => {
    const r = dlg.getBoundingClientRect();
    return e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom;
  };
  dlg.addEventListener('mousedown', (e) => { downOutside = e.target === dlg && outside(e); });
  dlg.addEventListener('click', (e) => {
    if (e.target === dlg && downOutside && outside(e)) close();
    downOutside = false;
  });
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (onClose) onClose();
  });
  document.body.append(dlg);
  dlg.showModal();
  return { dialog: dlg, close };
}

// closeAllDialogs closes every open dialog (on sign-out).
export function closeAllDialogs() {
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
}

// confirmDialog asks a yes/no question and answers a promise of the choice.
export function confirmDialog(question, confirmLabel, danger) {
  return new Promise((resolve) => {
    let answer = false;
    const ok = h('button', { type: 'button', class: ['btn', danger ? 'danger' : 'primary'], 'data-testid': 'confirm-ok' }, confirmLabel || t('common.ok'));
    const cancel = h('button', { type: 'button', class: 'btn', 'data-testid': 'confirm-cancel' }, t('common.cancel'));
    const { close } = openDialog({
      title: t('common.confirm'), testid: 'confirm-dialog', body: h('p', {}, question), footer: [cancel, ok],
      onClose: () => resolve(answer),
    });
    ok.addEventListener('click', () => { answer = true; close(); });
    cancel.addEventListener('click', close);
    setTimeout(() => ok.focus(), 0);
  });
}

// toast shows a short message at the bottom of the page.
export function toast(message, kind = 'ok') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const el = h('div', { class: ['toast', kind], 'data-testid': 'toast', role: 'status' }, message);
  box.append(el);
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => el.classList.add('leaving'), 2600);
  setTimeout(() => el.remove(), 3000);
}

// errorBox is an inline error banner for a view.
export function errorBox(err, testid = 'view-error') {
  return h('div', { class: 'alert error', role: 'alert', 'data-testid': testid }, errorText(err));
}

// errorText is the message to show for a failed call.
export function errorText(err) {
  if (!err) return '';
  if (err.status === 0) return t('error.network');
  if (err.status === 404 && /^no route for/.test(err.message || '')) return t('error.unavailable');
  return err.message || String(err);
}

export function loading() {
  return h('div', { class: 'loading', 'data-testid': 'loading' }, h('span', { class: 'spinner' }), t('common.loading'));
}

export function empty(text) {
  return h('div', { class: 'empty', 'data-testid': 'empty' }, text || t('common.empty'));
}

// badge is a coloured pill.
export function badge(text, kind, attrs = {}) {
  return h('span', { ...attrs, class: ['badge', kind, attrs.class] }, text);
}

export function yesNo(v, kindYes = 'success', kindNo = 'muted') {
  return v ? badge(t('common.yes'), kindYes) : badge(t('common.no'), kindNo);
}

// sortHeader is a <th> that sorts on click: state holds sort and order.
export function sortHeader({ key, label, state, onSort, extra, cls }) {
  const active = state.sort === key;
  const arrow = active ? (state.order === 'asc' ? '▲' : '▼') : '↕';
  const btn = h('button', { type: 'button', class: 'th-sort', 'data-testid': `sort-${key}` },
    label, h('span', { class: ['sort-arrow', active && 'active'], 'aria-hidden': 'true' }, arrow));
  btn.addEventListener('click', () => {
    const order = active && state.order === 'asc' ? 'desc' : 'asc';
    onSort(key, order);
  });
  return h('th', {
    class: cls, scope: 'col', 'data-col': key,
    'aria-sort': active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none',
  }, h('span', { class: 'th-inner' }, btn, extra));
}

// pager is the pagination bar. meta: page, pages, total, per_page, or
// has_more when the total is unknown.
export function pager({ meta, onPage, onPerPage, perPageOptions, testid = 'pager' }) {
  const page = meta.page || 1;
  const known = meta.pages !== undefined;
  const pages = known ? Math.max(1, meta.pages) : (meta.has_more ? page + 1 : page);
  const btn = (label, p, attrs = {}) => h('button', {
    type: 'button', class: ['btn', 'pg', p === page && 'current'], disabled: p < 1 || p > pages || p === page,
    'aria-label': attrs.aria, 'data-testid': attrs.testid, 'aria-current': p === page ? 'page' : null,
    onclick: () => onPage(p),
  }, label);
  const nums = [];
  if (known) {
    const set = new Set([1, pages, page - 1, page, page + 1].filter((p) => p >= 1 && p <= pages));
    let prev = 0;
    for (const p of [...set].sort((a, b) => a - b)) {
      if (p - prev > 1) nums.push(h('span', { class: 'pg-gap' }, '…'));
      nums.push(btn(String(p), p, { testid: `${testid}-page-${p}` }));
      prev = p;
    }
  } else {
    nums.push(h('span', { class: 'pg-current', 'data-testid': `${testid}-current` }, t('pager.page', { n: page })));
  }
  let info = '';
  if (known) {
    const from = meta.total === 0 ? 0 : (page - 1) * meta.per_page + 1;
    const to = Math.min(meta.total, page * meta.per_page);
    info = t('pager.range', { from: number(from), to: number(to), total: number(meta.total) });
  }
  const per = onPerPage ? h('label', { class: 'pg-per' }, t('pager.per_page'),
    h('select', { 'data-testid': `${testid}-per-page`, onchange: (e) => onPerPage(Number(e.target.value)) },
      perPageOptions.map((n) => h('option', { value: String(n), selected: n === meta.per_page }, String(n))))) : null;
  return h('div', { class: 'pager', 'data-testid': testid },
    h('span', { class: 'pg-info', 'data-testid': `${testid}-info` }, info),
    h('div', { class: 'pg-buttons' },
      btn('‹', page - 1, { aria: t('pager.prev'), testid: `${testid}-prev` }),
      nums,
      btn('›', page + 1, { aria: t('pager.next'), testid: `${testid}-next` })),
    per);
}

// fieldError is the message slot shown under a form field.
export function fieldError(key) {
  return h('div', { class: 'field-error', 'data-error-for': key, 'data-testid': `error-${key}`, role: 'alert' });
}

export function setFieldError(root, key, message) {
  const el = root.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
  if (!el) return false;
  clear(el, message || '');
  const input = root.querySelector(`[name="${CSS.escape(key)}"]`);
  if (input) input.classList.toggle('invalid', Boolean(message));
  return true;
}

export function clearFieldErrors(root) {
  for (const el of root.querySelectorAll('[data-error-for]')) el.replaceChildren();
  for (const el of root.querySelectorAll('.invalid')) el.classList.remove('invalid');
}

// card is a titled panel.
export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', { class: 'card-title' }, title) : null, children);
}
