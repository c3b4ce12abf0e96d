// Broadcasts: compose a message to the customers (Telegram HTML with a
// safe preview, an optional "Open shop" button, the customers list's
// search and filters), see the draft's recipients and the time it will
// take, then start, pause, resume or cancel it and watch its progress.

import { h, clear, icon } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { dateTimeShort, duration, number } from '../format.js';
import {
  badge, card, clearFieldErrors, confirmDialog, empty, errorBox, errorText, fieldError, loading, setFieldError, toast,
} from '../components.js';
import { telegramPreview } from '../tghtml.js';
import { shorten } from './messages.js';

const MAX_TEXT = 4096; // Telegram's limit, in characters
const POLL_MS = 1000; // how often a running broadcast's progress is asked

// CONTROLS are the actions each status allows, as the API does.
const CONTROLS = {
  draft: ['start', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  done: [],
  cancelled: [],
};

function statusKind(status) {
  switch (status) {
    case 'running': return 'info';
    case 'done': return 'success';
    case 'paused': return 'warn';
    case 'cancelled': return 'muted';
    default: return 'muted';
  }
}

// progress is the share of the recipients with an outcome, 0 to 1.
export function progress(b) {
  const done = (b.sent || 0) + (b.failed || 0) + (b.blocked || 0);
  return b.recipients > 0 ? Math.min(1, done / b.recipients) : (b.status === 'done' ? 1 : 0);
}

// bar is a progress bar's filling; its width is set through the CSSOM, as
// the panel's CSP refuses style attributes.
function bar(pct) {
  const el = h('div', { class: 'progress-bar' });
  el.style.width = `${pct}%`;
  return el;
}

export function mount(root) {
  const ctrl = new AbortController();
  let selected = null; // the broadcast shown in the detail card
  let timer = null;

  const detail = h('div', { 'data-testid': 'broadcast-detail-box' });
  const listBox = h('div', { class: 'table-card card', 'data-testid': 'broadcasts' }, loading());
  root.append(composer(), detail, h('h2', { class: 'section-title' }, t('broadcasts.list')), listBox);

  // --- Compose.
  function composer() {
    const text = h('textarea', {
      class: 'input mono', rows: '7', name: 'text', id: 'broadcast-text', maxlength: String(MAX_TEXT), 'data-testid': 'broadcast-text',
      placeholder: t('broadcasts.text_placeholder'),
    });
    const button = h('input', {
      type: 'text', class: 'input', name: 'button_text', id: 'broadcast-button', maxlength: '64', 'data-testid': 'broadcast-button',
      placeholder: t('broadcasts.button_placeholder'),
    });
    const search = h('input', { type: 'search', class: 'input', name: 'search', id: 'broadcast-search', 'data-testid': 'broadcast-search', placeholder: t('broadcasts.search_placeholder') });
    const lang = h('input', { type: 'text', class: 'input narrow', name: 'language_code', id: 'broadcast-language', 'data-testid': 'broadcast-language', placeholder: 'en, ru…' });
    const yesNoAny = (name, testid) => h('select', { class: 'input', name, id: `broadcast-${name}`, 'data-testid': testid },
      [['', t('filter.any')], ['true', t('common.yes')], ['false', t('common.no')]].map(([v, l]) => h('option', { value: v }, l)));
    const premium = yesNoAny('is_premium', 'broadcast-premium');
    const consented = yesNoAny('privacy_consented', 'broadcast-consented');
    const count = h('span', { class: 'muted small', 'data-testid': 'broadcast-count' });
    const preview = h('div', { class: 'broadcast-preview' });
    const status = h('div', { class: 'status-line', 'data-testid': 'broadcast-compose-status' });
    const create = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'broadcast-create' }, icon('send'), t('broadcasts.create'));
    const update = () => {
      count.textContent = t('broadcasts.chars', { n: number(Array.from(text.value).length), max: number(MAX_TEXT) });
      clear(preview, text.value.trim() || button.value.trim()
        ? telegramPreview(text.value, button.value.trim(), 'broadcast-preview')
        : h('div', { class: 'muted small' }, t('broadcasts.preview_empty')));
    };
    text.addEventListener('input', update);
    button.addEventListener('input', update);
    update();
    const field = (id, label, input, key) => h('div', { class: 'field' }, h('label', { class: 'field-label', for: id }, label), input, key ? fieldError(key) : null);
    const form = h('form', { class: 'broadcast-form', novalidate: true, 'data-testid': 'broadcast-form' },
      h('div', { class: 'broadcast-grid' },
        h('div', {},
          field('broadcast-text', t('broadcasts.text'), [text, h('div', { class: 'hint' }, t('broadcasts.text_help'), ' ', count)], 'text'),
          field('broadcast-button', t('broadcasts.button'), [button, h('div', { class: 'hint' }, t('broadcasts.button_help'))], 'button_text')),
        h('div', {}, h('div', { class: 'field-label' }, t('broadcasts.preview')), preview)),
      h('fieldset', { class: 'broadcast-recipients' },
        h('legend', {}, t('broadcasts.recipients')),
        h('p', { class: 'hint' }, t('broadcasts.recipients_help')),
        h('div', { class: 'filters-grid' },
          field('broadcast-search', t('broadcasts.search'), search, 'filter.search'),
          field('broadcast-language', t('col.language_code'), lang, 'filter.filters.language_code'),
          field('broadcast-is_premium', t('filter.is_premium'), premium),
          field('broadcast-privacy_consented', t('filter.privacy_consented'), consented))),
      status,
      h('div', { class: 'form-actions' }, create));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      status.replaceChildren();
      if (!text.value.trim()) {
        setFieldError(form, 'text', t('broadcasts.text_empty'));
        text.focus();
        return;
      }
      const filters = {};
      if (lang.value.trim()) filters.language_code = lang.value.trim();
      if (premium.value) filters.is_premium = premium.value;
      if (consented.value) filters.privacy_consented = consented.value;
      create.disabled = true;
      try {
        const b = await api('broadcasts', {
          method: 'POST', body: { text: text.value, button_text: button.value.trim(), filter: { search: search.value.trim(), filters } },
        });
        toast(t('broadcasts.created'));
        show(b);
        loadList();
      } catch (err) {
        if (err.status === 422 && err.fields && Object.keys(err.fields).length) {
          const unplaced = Object.entries(err.fields).filter(([k, m]) => !setFieldError(form, k, m)).map(([k, m]) => `${k}: ${m}`);
          clear(status, h('div', { class: 'alert error', role: 'alert', 'data-testid': 'broadcast-error' }, err.message, unplaced.length ? h('ul', {}, unplaced.map((u) => h('li', {}, u))) : null));
        } else {
          clear(status, errorBox(err, 'broadcast-error'));
        }
      } finally {
        create.disabled = false;
      }
    });
    return card(t('broadcasts.compose'), form);
  }

  // --- One broadcast: its numbers, progress and controls.
  function show(b) {
    selected = b;
    clearTimeout(timer);
    const pct = Math.round(progress(b) * 100);
    const stat = (key, value) => h('div', { class: 'bstat' }, h('div', { class: 'bstat-value', 'data-testid': `broadcast-${key}` }, value), h('div', { class: 'muted small' }, t(`broadcasts.${key}`)));
    const control = (action) => h('button', {
      type: 'button', class: ['btn', action === 'start' || action === 'resume' ? 'primary' : null, action === 'cancel' ? 'danger' : null],
      'data-testid': `broadcast-${action}`,
      onclick: async (e) => {
        if (action === 'cancel' && !await confirmDialog(t('broadcasts.cancel_confirm'), t('broadcasts.action_cancel'), true)) return;
        e.target.disabled = true;
        try {
          show(await api(`broadcasts/${b.id}/${action}`, { method: 'POST' }));
          loadList();
        } catch (err) {
          toast(errorText(err), 'error');
          refreshSelected();
        }
      },
    }, t(`broadcasts.action_${action}`));
    const running = b.status === 'running';
    clear(detail, card(t('broadcasts.detail', { id: b.id }),
      h('div', { class: 'broadcast-detail', 'data-testid': 'broadcast-detail', 'data-id': b.id, 'data-status': b.status },
        h('div', { class: 'broadcast-head' },
          badge(t(`broadcasts.status_${b.status}`), statusKind(b.status), { 'data-testid': 'broadcast-status' }),
          h('span', { class: 'muted small' }, t('broadcasts.created_at', { at: dateTimeShort(b.created_at) })),
          h('div', { class: 'toolbar-right' }, (CONTROLS[b.status] || []).map(control))),
        h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct), 'data-testid': 'broadcast-progress' },
          bar(pct)),
        h('div', { class: 'stats-row' },
          stat('recipients', number(b.recipients)),
          stat('queued', number(b.queued)),
          stat('sent', number(b.sent)),
          stat('failed', number(b.failed)),
          stat('blocked', number(b.blocked)),
          b.status === 'draft'
            ? stat('estimated', duration(b.estimated_seconds))
            : stat('eta', b.status === 'done' || b.status === 'cancelled' ? '—' : duration(b.eta_seconds))),
        b.status === 'draft' ? h('p', { class: 'hint', 'data-testid': 'broadcast-draft-note' },
          t('broadcasts.draft_note', { n: number(b.recipients), time: duration(b.estimated_seconds) })) : null,
        telegramPreview(b.text, b.button_text, 'broadcast-detail-preview'))));
    // While running, the progress is asked again; a paused or finished
    // broadcast does not move by itself.
    if (running) timer = setTimeout(refreshSelected, POLL_MS);
  }

  async function refreshSelected() {
    if (!selected) return;
    try {
      const b = await api(`broadcasts/${selected.id}`, { signal: ctrl.signal });
      const was = selected.status;
      show(b);
      if (was !== b.status) loadList();
    } catch (err) {
      if (isAbort(err)) return;
      toast(errorText(err), 'error');
      timer = setTimeout(refreshSelected, POLL_MS * 5);
    }
  }

  // --- The list.
  async function loadList() {
    try {
      const res = await api('broadcasts', { signal: ctrl.signal });
      renderList(res.data || []);
    } catch (err) {
      if (!isAbort(err)) clear(listBox, errorBox(err, 'broadcasts-error'));
    }
  }

  function renderList(list) {
    const cols = ['id', 'text', 'status', 'progress', 'recipients', 'created_at'];
    const rows = list.map((b) => h('tr', { 'data-testid': 'broadcast-row', 'data-id': b.id, 'data-status': b.status },
      h('td', { class: 'num' }, String(b.id)),
      h('td', { class: 'message-text', title: b.text }, shorten(b.text, 60)),
      h('td', {}, badge(t(`broadcasts.status_${b.status}`), statusKind(b.status))),
      h('td', {}, h('div', { class: 'progress small' }, bar(Math.round(progress(b) * 100))),
        h('span', { class: 'muted small' }, t('broadcasts.progress_counts', { sent: number(b.sent), failed: number(b.failed + b.blocked) }))),
      h('td', { class: 'num' }, number(b.recipients)),
      h('td', { class: 'nowrap' }, dateTimeShort(b.created_at)),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'btn small', 'data-testid': `broadcast-open-${b.id}`,
        onclick: () => { show(b); refreshSelected(); detail.scrollIntoView({ block: 'start' }); },
      }, icon('eye'), t('broadcasts.open')))));
    clear(listBox,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table broadcasts-table', 'data-testid': 'broadcasts-table' },
        h('thead', {}, h('tr', {}, cols.map((k) => h('th', { scope: 'col' }, t(`broadcasts.col_${k}`))), h('th', { class: 'actions' }, h('span', { class: 'sr-only' }, t('common.actions'))))),
        h('tbody', {}, rows))),
      rows.length ? null : empty(t('broadcasts.none')));
  }

  loadList();
  return () => { ctrl.abort(); clearTimeout(timer); };
}
