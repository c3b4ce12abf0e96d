// Settings: general, Telegram, Pulse and the storefront's home blocks.
// The server validates; its 422 field messages show under each field.

import { h, clear, help } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t, has } from '../i18n.js';
import {
  card, clearFieldErrors, errorBox, errorText, fieldError, loading, setFieldError, toast,
} from '../components.js';
import { telegramPreview } from '../tghtml.js';

export function mount(root, ctx) {
  let ctrl = new AbortController();
  const box = h('div', { class: 'settings', 'data-testid': 'settings' }, loading());
  root.append(box);

  (async () => {
    try {
      const s = await api('settings', { signal: ctrl.signal });
      render(s);
    } catch (err) {
      if (!isAbort(err)) clear(box, errorBox(err));
    }
  })();

  function render(s) {
    const options = s.aspect_ratio_options || [];
    const status = h('div', { class: 'status-line', 'data-testid': 'settings-status' });
    const field = (key, label, input, hint) => h('div', { class: 'field' },
      h('label', { class: 'field-label', for: `set-${key}` }, label, hint ? help(hint, `help-${key}`) : null),
      input,
      fieldError(key));
    const text = (key, value, attrs = {}) => h('input', {
      type: 'text', class: 'input', id: `set-${key}`, name: key, value: value ?? '', 'data-testid': `setting-${key}`, autocomplete: 'off', ...attrs,
    });
    const secret = (key, value) => h('div', {},
      text(key, value, { class: 'input mono', spellcheck: 'false', placeholder: t('settings.secret_empty') }),
      h('div', { class: 'hint' }, value ? t('settings.secret_hint') : t('settings.secret_unset')));

    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    if (!zones.includes('UTC')) zones.unshift('UTC');
    const tzList = h('datalist', { id: 'tz-list' }, zones.map((z) => h('option', { value: z })));

    const blocks = (s.blocks || []).map((b, i) => blockEditor(b, i, options));
    const addBlock = (s.blocks || []).some((b) => b.type === 'products_feed') ? null : h('button', {
      type: 'button', class: 'btn', 'data-testid': 'add-products-feed',
      onclick: () => {
        const cur = collect();
        cur.blocks.push({ type: 'products_feed', title: '', aspect_ratio: '1:1', per_page: 20 });
        render(cur);
      },
    }, t('settings.add_products_feed'));

    const save = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'settings-save' }, t('common.save'));
    const form = h('form', { class: 'settings-form', novalidate: true, 'data-testid': 'settings-form' },
      card(t('settings.general'),
        field('shop_name', t('settings.shop_name'), text('shop_name', s.shop_name)),
        field('privacy_policy_link', t('settings.privacy_policy_link'),
          text('privacy_policy_link', s.privacy_policy_link, { type: 'url', placeholder: 'https://' }), t('settings.privacy_policy_link_help')),
        field('time_zone', t('settings.time_zone'), [text('time_zone', s.time_zone, { list: 'tz-list', placeholder: 'Europe/Moscow' }), tzList], t('settings.time_zone_help'))),
      card(t('settings.telegram'),
        field('bot_token', t('settings.bot_token'), secret('bot_token', s.bot_token), t('settings.bot_token_help')),
        s.bot_username ? h('div', { class: 'hint', 'data-testid': 'bot-username' }, t('settings.bot_username', { name: s.bot_username })) : null,
        field('mini_app_short_name', t('settings.mini_app_short_name'), text('mini_app_short_name', s.mini_app_short_name, { placeholder: 'shop' }), t('settings.mini_app_short_name_help')),
        field('start_param_secret', t('settings.start_param_secret'), secret('start_param_secret', s.start_param_secret), t('settings.start_param_secret_help'))),
      botCard(s, field, secret, ctrl.signal),
      notificationsCard(s, field, text),
      card(t('settings.pulse'),
        field('pulse_url', t('settings.pulse_url'), text('pulse_url', s.pulse_url, { type: 'url', placeholder: 'https://' })),
        field('pulse_api_key', t('settings.pulse_api_key'), secret('pulse_api_key', s.pulse_api_key)),
        field('pulse_secret', t('settings.pulse_secret'), secret('pulse_secret', s.pulse_secret))),
      card(t('settings.blocks'), blocks.length ? blocks : h('p', { class: 'muted' }, t('settings.no_blocks')), addBlock),
      textsEditor(s),
      status,
      h('div', { class: 'form-actions' }, save));

    // collect reads the form back into a settings object for PUT: every
    // field, secrets as shown (an unchanged mask keeps the stored secret).
    function collect() {
      const v = (name) => form.querySelector(`[name="${CSS.escape(name)}"]`)?.value ?? '';
      return {
        ...s,
        shop_name: v('shop_name'),
        privacy_policy_link: v('privacy_policy_link'),
        time_zone: v('time_zone'),
        bot_token: v('bot_token'),
        start_param_secret: v('start_param_secret'),
        webhook_secret: v('webhook_secret'),
        owner_chat: v('owner_chat'),
        notifications: collectNotifications(s.notifications, v, (name) => form.querySelector(`[name="${CSS.escape(name)}"]`)?.checked),
        bot_greeting: Object.fromEntries(['en', 'ru'].map((l) => [l, v(`bot_greeting.${l}`)]).filter(([, g]) => g.trim())),
        mini_app_short_name: v('mini_app_short_name'),
        pulse_url: v('pulse_url'),
        pulse_api_key: v('pulse_api_key'),
        pulse_secret: v('pulse_secret'),
        storefront_texts: collectTexts(v),
        blocks: (s.blocks || []).map((b, i) => ({
          ...b,
          title: v(`blocks[${i}].title`),
          titles: { ...(b.titles || {}), ru: v(`blocks[${i}].titles.ru`) },
          aspect_ratio: v(`blocks[${i}].aspect_ratio`),
          per_page: Number(v(`blocks[${i}].per_page`)) || 0,
        })),
      };
    }

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      status.replaceChildren();
      const body = collect();
      delete body.aspect_ratio_options;
      delete body.storefront_text_defaults;
      delete body.warnings;
      delete body.bot_greeting_defaults;
      delete body.notification_defaults;
      save.disabled = true;
      try {
        const saved = await api('settings', { method: 'PUT', body });
        ctx.shopChanged(saved);
        toast(t('settings.saved'));
        render(saved);
        const line = box.querySelector('[data-testid="settings-status"]');
        line.append(h('div', { class: 'alert success', 'data-testid': 'settings-saved' }, t('settings.saved')));
        for (const [k, msg] of Object.entries(saved.warnings || {})) {
          line.append(h('div', { class: 'alert warn', 'data-testid': `settings-warning-${k}` }, msg));
        }
      } catch (err) {
        save.disabled = false;
        if (err.status === 422 && err.fields) {
          const unplaced = [];
          for (const [k, msg] of Object.entries(err.fields)) {
            if (!setFieldError(form, k, msg)) unplaced.push(`${k}: ${msg}`);
          }
          clear(status, h('div', { class: 'alert error', role: 'alert', 'data-testid': 'settings-error' },
            err.message || t('settings.invalid'),
            unplaced.length ? h('ul', {}, unplaced.map((u) => h('li', {}, u))) : null));
          const first = form.querySelector('.invalid');
          if (first) first.focus();
        } else {
          clear(status, errorBox(err, 'settings-error'));
        }
      }
    });
    clear(box, form);
  }

  return () => ctrl.abort();
}

// The shop's storefront texts, a column per storefront language; an empty
// field shows its default (the placeholder) in the storefront.
const TEXT_KEYS = ['greeting', 'consent_text', 'consent_button', 'checkout_title', 'checkout_button', 'place_order_button', 'success_text'];
const TEXT_LANGS = ['en', 'ru'];

function textsEditor(s) {
  const texts = s.storefront_texts || {};
  const defaults = s.storefront_text_defaults || {};
  return card(t('settings.storefront_texts'),
    h('p', { class: 'hint' }, t('settings.storefront_texts_help')),
    h('div', { class: 'texts-grid', 'data-testid': 'storefront-texts' },
      TEXT_KEYS.map((k) => h('div', { class: 'field' },
        h('div', { class: 'field-label' }, t(`settings.text.${k}`)),
        TEXT_LANGS.map((lang) => {
          const name = `storefront_texts.${lang}.${k}`;
          const attrs = {
            class: 'input', id: `set-${name}`, name, lang, 'data-testid': `setting-${name}`,
            placeholder: (defaults[lang] || {})[k] || '', 'aria-label': `${t(`settings.text.${k}`)} (${lang})`,
          };
          const value = (texts[lang] || {})[k] || '';
          const input = k === 'consent_text' || k === 'greeting'
            ? h('textarea', { ...attrs, rows: 3 }, value)
            : h('input', { ...attrs, type: 'text', value });
          return h('div', {}, h('label', { class: 'muted small', for: attrs.id }, t(`settings.lang.${lang}`)), input, fieldError(name));
        })))));
}

// collectTexts reads the storefront texts back, by language.
function collectTexts(v) {
  const out = {};
  for (const lang of TEXT_LANGS) {
    out[lang] = {};
    for (const k of TEXT_KEYS) out[lang][k] = v(`storefront_texts.${lang}.${k}`);
  }
  return out;
}

// botCard shows the bot Telegram knows (its username, how updates arrive,
// the webhook's state, asked live) and edits the webhook secret and the
// /start greetings; an empty greeting falls back to the default shown.
function botCard(s, field, secret, signal) {
  const state = h('div', { class: 'bot-state', 'data-testid': 'bot-state' }, h('span', { class: 'muted' }, t('bot.loading')));
  (async () => {
    try {
      const b = await api('bot', { signal });
      const row = (label, value, testid) => h('div', { class: 'kv' },
        h('span', { class: 'muted' }, label, ': '), h('span', { 'data-testid': testid }, value));
      const wh = b.webhook;
      let webhook = t('bot.webhook_unknown');
      if (wh) webhook = wh.url ? wh.url : t('bot.webhook_none');
      state.replaceChildren(...[
        row(t('bot.username'), b.username ? `@${b.username}` : '—', 'bot-state-username'),
        row(t('bot.updates'), t(`bot.updates_${b.updates}`), 'bot-state-updates'),
        row(t('bot.webhook'), webhook, 'bot-state-webhook'),
        wh && wh.url ? row(t('bot.pending'), String(wh.pending_update_count), 'bot-state-pending') : null,
        wh && wh.last_error_message ? h('div', { class: 'alert warn', 'data-testid': 'bot-state-webhook-error' },
          t('bot.webhook_error', { message: wh.last_error_message })) : null,
        b.expected_webhook_url && b.updates === 'webhook' && wh && wh.url !== b.expected_webhook_url
          ? h('div', { class: 'alert warn', 'data-testid': 'bot-state-webhook-mismatch' }, t('bot.webhook_mismatch', { url: b.expected_webhook_url })) : null,
        b.error ? h('div', { class: 'alert warn', 'data-testid': 'bot-state-error' }, b.error) : null,
      ].filter(Boolean));
    } catch (err) {
      if (!isAbort(err)) state.replaceChildren(errorBox(err, 'bot-state-failed'));
    }
  })();
  const defaults = s.bot_greeting_defaults || {};
  const greeting = (lang) => field(`bot_greeting.${lang}`, t(`bot.greeting_${lang}`), h('textarea', {
    class: 'input', rows: '3', id: `set-bot_greeting.${lang}`, name: `bot_greeting.${lang}`,
    'data-testid': `setting-bot_greeting-${lang}`, placeholder: defaults[lang] || '',
  }, (s.bot_greeting || {})[lang] || ''));
  return card(t('bot.title'),
    state,
    greeting('en'),
    greeting('ru'),
    h('div', { class: 'hint' }, t('bot.greeting_help')),
    field('webhook_secret', t('bot.webhook_secret'), secret('webhook_secret', s.webhook_secret), t('bot.webhook_secret_help')));
}

// The notices' languages in the panel; templates stored for others are
// kept as they are.
const NOTICE_LANGS = ['en', 'ru'];
const NOTICE_KINDS = ['owner', 'buyer'];
const PLACEHOLDERS = ['{order_id}', '{shop_name}', '{customer}', '{total}', '{items}', '{fields}', '{date}'];

// notificationsCard edits the new-order notices: the owner chat, a switch
// per notice, the owner's language and the templates per language, each
// with a preview of it filled with a sample order (POST
// notifications/preview). An empty template means the default shown.
function notificationsCard(s, field, text) {
  const n = s.notifications || {};
  const defaults = s.notification_defaults || {};
  const toggle = (name, label, on) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name, 'data-testid': `setting-${name}`, checked: on }), h('span', {}, label));
  const template = (kind, lang) => {
    const name = `notifications.${kind}.${lang}`;
    const area = h('textarea', {
      class: 'input mono', rows: '6', id: `set-${name}`, name, lang, 'data-testid': `setting-notifications-${kind}-${lang}`,
      placeholder: (defaults[kind] || {})[lang] || '',
    }, (n[kind] || {})[lang] || '');
    const out = h('div', { class: 'notice-preview', 'data-testid': `notice-preview-${kind}-${lang}` });
    const btn = h('button', {
      type: 'button', class: 'btn small', 'data-testid': `notice-preview-btn-${kind}-${lang}`,
      onclick: async () => {
        btn.disabled = true;
        const body = area.value.trim() ? { template: area.value } : { kind, language: lang };
        try {
          const res = await api('notifications/preview', { method: 'POST', body });
          clear(out, telegramPreview(res.text, '', `notice-preview-${kind}-${lang}-message`));
        } catch (err) {
          // A template Telegram would refuse: say what and where.
          const why = err.fields && err.fields.template;
          clear(out, why
            ? h('div', { class: 'alert error', role: 'alert', 'data-testid': `notice-preview-error-${kind}-${lang}` }, errorText(err), ' ', why)
            : errorBox(err, `notice-preview-error-${kind}-${lang}`));
        } finally {
          btn.disabled = false;
        }
      },
    }, t('notices.preview'));
    return field(name, t(`notices.${kind}_${lang}`), [area, h('div', { class: 'notice-actions' }, btn), out]);
  };
  const ownerLang = h('select', { class: 'input narrow', id: 'set-notifications.owner_language', name: 'notifications.owner_language', 'data-testid': 'setting-notifications-owner_language' },
    NOTICE_LANGS.map((l) => h('option', { value: l, selected: (n.owner_language || 'en') === l }, t(`settings.lang.${l}`))));
  return card(t('notices.title'),
    field('owner_chat', t('notices.owner_chat'), text('owner_chat', s.owner_chat, { class: 'input mono', placeholder: '-1001234567890:42' }), t('notices.owner_chat_help')),
    h('div', { class: 'field' },
      toggle('notifications.owner_on', t('notices.owner_on'), !n.owner_off),
      toggle('notifications.buyer_on', t('notices.buyer_on'), !n.buyer_off)),
    field('notifications.owner_language', t('notices.owner_language'), ownerLang),
    h('p', { class: 'hint', 'data-testid': 'notice-placeholders' }, t('notices.placeholders'), ' ',
      PLACEHOLDERS.map((p) => h('code', { class: 'placeholder' }, p))),
    h('div', { class: 'notices-grid' }, NOTICE_KINDS.map((k) => NOTICE_LANGS.map((l) => template(k, l)))));
}

// collectNotifications reads the notices' settings back; a template left
// empty takes the default, and templates of other languages stay.
function collectNotifications(cur, v, checked) {
  const n = { ...(cur || {}) };
  n.owner_off = !checked('notifications.owner_on');
  n.buyer_off = !checked('notifications.buyer_on');
  n.owner_language = v('notifications.owner_language');
  for (const kind of NOTICE_KINDS) {
    const m = { ...(n[kind] || {}) };
    for (const lang of NOTICE_LANGS) {
      const tpl = v(`notifications.${kind}.${lang}`);
      if (tpl.trim()) m[lang] = tpl; else delete m[lang];
    }
    n[kind] = m;
  }
  return n;
}

function ratioHelp(opt) {
  const key = `ratio.${opt.value}`;
  return has(key) ? t(key) : opt.help;
}

// blockEditor edits block i; a products feed gets the aspect ratio
// dropdown with each ratio's help text, and a preview of the shape.
function blockEditor(b, i, options) {
  const key = (f) => `blocks[${i}].${f}`;
  const id = (f) => `set-blocks-${i}-${f}`;
  const helpText = h('div', { class: 'hint', 'data-testid': `aspect-ratio-help-${i}` });
  const shape = h('div', { class: 'ratio-shape', 'aria-hidden': 'true' });
  const select = h('select', {
    class: 'input', id: id('aspect_ratio'), name: key('aspect_ratio'), 'data-testid': `aspect-ratio-${i}`,
  }, options.map((o) => h('option', { value: o.value, selected: o.value === b.aspect_ratio, title: ratioHelp(o) }, o.label || o.value)));
  if (!options.some((o) => o.value === b.aspect_ratio) && b.aspect_ratio) {
    select.append(h('option', { value: b.aspect_ratio, selected: true }, b.aspect_ratio));
  }
  const update = () => {
    const o = options.find((x) => x.value === select.value);
    helpText.textContent = o ? ratioHelp(o) : '';
    const [w, hh] = String(select.value).split(':').map(Number);
    if (w && hh) Object.assign(shape.style, { aspectRatio: `${w} / ${hh}` });
    shape.textContent = select.value;
  };
  select.addEventListener('change', update);
  update();
  const field = (f, label, input, hint) => h('div', { class: 'field' },
    h('label', { class: 'field-label', for: id(f) }, label, hint ? help(hint, `help-block-${f}`) : null), input, fieldError(key(f)));
  return h('fieldset', { class: 'block-editor', 'data-testid': `block-${i}` },
    h('legend', {}, b.type === 'products_feed' ? t('settings.products_feed') : b.type),
    fieldError(key('type')),
    h('div', { class: 'block-grid' },
      h('div', {},
        field('title', t('settings.block_title'), h('input', { type: 'text', class: 'input', id: id('title'), name: key('title'), value: b.title || '' })),
        field('titles.ru', t('settings.block_title_ru'), h('input', {
          type: 'text', class: 'input', id: id('titles.ru'), name: key('titles.ru'), value: (b.titles && b.titles.ru) || '', lang: 'ru',
        })),
        field('aspect_ratio', t('settings.aspect_ratio'), [select, helpText], t('settings.aspect_ratio_help')),
        field('per_page', t('settings.per_page'), h('input', {
          type: 'number', class: 'input narrow', id: id('per_page'), name: key('per_page'), min: '1', max: '50', value: String(b.per_page || 20),
        }))),
      h('div', { class: 'ratio-preview' }, shape, h('div', { class: 'muted small' }, t('settings.ratio_preview')))));
}
