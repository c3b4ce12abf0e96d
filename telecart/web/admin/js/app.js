// The admin panel: sign-in, the shell (sidebar and header) and hash routing
// (#/dashboard, #/customers, …). Each view is a module with mount(root,
// ctx) that returns its cleanup.

import { h, clear, icon, installTooltips } from './dom.js';
import { api, getToken, setToken, clearToken, onUnauthorized } from './api.js';
import { t, getLang, setLang, LANGS } from './i18n.js';
import { setTimeZone, timeZone } from './format.js';
import { closeAllDialogs, errorBox, errorText } from './components.js';
import * as dashboard from './views/dashboard.js';
import * as customers from './views/customers.js';
import * as orders from './views/orders.js';
import * as campaigns from './views/campaigns.js';
import * as pulse from './views/pulse.js';
import * as logs from './views/logs.js';
import * as settings from './views/settings.js';
import * as forms from './views/forms.js';
import * as scheduler from './views/scheduler.js';
import * as messages from './views/messages.js';
import * as broadcasts from './views/broadcasts.js';

const ROUTES = [
  { id: 'dashboard', view: dashboard },
  { id: 'customers', view: customers },
  { id: 'orders', view: orders },
  { id: 'campaigns', view: campaigns },
  { id: 'messages', view: messages },
  { id: 'broadcasts', view: broadcasts },
  { id: 'pulse', view: pulse },
  { id: 'logs', view: logs },
  { id: 'settings', view: settings },
  { id: 'forms', view: forms },
  { id: 'scheduler', view: scheduler },
];

const app = document.getElementById('app');
let shop = null; // the settings, for the shop's name and time zone
let cleanup = null;
let signInNotice = '';
// auth is how the API lets this page in: 'token' (TeleCart's BearerAuth,
// the token in sessionStorage), 'host' (the host's own login, e.g. a
// cookie session), or null until GET /admin/api/me has said.
let auth = null;

function currentRoute() {
  const id = (location.hash.match(/^#\/([a-z]+)/) || [])[1];
  return ROUTES.find((r) => r.id === id) || null;
}

function langSwitch() {
  return h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('app.language') },
    LANGS.map((l) => h('button', {
      type: 'button', class: ['lang', l === getLang() && 'active'], 'data-testid': `lang-${l}`, 'aria-pressed': String(l === getLang()),
      onclick: () => { if (l !== getLang()) { setLang(l); rerender(); } },
    }, l.toUpperCase())));
}

function unmount() {
  if (cleanup) {
    try { cleanup(); } catch { /* a view's cleanup must not block navigation */ }
    cleanup = null;
  }
}

// --- Sign-in.

function showSignIn() {
  unmount();
  closeAllDialogs();
  document.title = `${t('signin.title')} · TeleCart`;
  const input = h('input', {
    type: 'password', class: 'input', id: 'signin-token', name: 'token', autocomplete: 'current-password',
    required: true, 'data-testid': 'signin-token', placeholder: t('signin.placeholder'),
  });
  const error = h('div', { class: 'field-error', 'data-testid': 'signin-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary block', 'data-testid': 'signin-submit' }, t('signin.submit'));
  const form = h('form', { class: 'signin-card card', 'data-testid': 'signin', novalidate: true },
    h('div', { class: 'brand big' }, h('span', { class: 'brand-mark' }, 'T'), h('span', {}, 'TeleCart'), h('span', { class: 'brand-sub' }, t('app.admin'))),
    h('h1', {}, t('signin.title')),
    signInNotice ? h('div', { class: 'alert warn', 'data-testid': 'signin-notice' }, signInNotice) : null,
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('signin.token')), input),
    h('p', { class: 'hint' }, t('signin.hint')),
    error,
    submit,
    h('div', { class: 'signin-foot' }, langSwitch()));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    error.textContent = '';
    if (!token) {
      error.textContent = t('signin.empty');
      input.focus();
      return;
    }
    submit.disabled = true;
    try {
      await api('me', { token });
      shop = await api('settings', { token });
      setToken(token);
      auth = 'token';
      signInNotice = '';
      if (!currentRoute()) history.replaceState(null, '', '#/dashboard');
      showShell();
    } catch (err) {
      error.textContent = err.status === 401 ? t('signin.wrong') : errorText(err);
      submit.disabled = false;
      input.select();
    }
  });
  clear(app, h('div', { class: 'signin-page' }, form));
  input.focus();
}

// hostSignInMessage is the message the host's card shows now, kept across
// a change of language.
function hostSignInMessage() {
  const el = app.querySelector('[data-testid="signin-host-message"]');
  return el ? el.textContent : '';
}

// showHostSignIn is shown when the API refuses without asking for a token:
// the host's own admin login guards it, so the admin signs in there.
function showHostSignIn(message) {
  unmount();
  closeAllDialogs();
  auth = null;
  document.title = `${t('signin.host_title')} · TeleCart`;
  clear(app, h('div', { class: 'signin-page' },
    h('div', { class: 'signin-card card', 'data-testid': 'signin-host' },
      h('div', { class: 'brand big' }, h('span', { class: 'brand-mark' }, 'T'), h('span', {}, 'TeleCart'), h('span', { class: 'brand-sub' }, t('app.admin'))),
      h('h1', {}, t('signin.host_title')),
      h('p', { class: 'hint' }, t('signin.host_text')),
      message ? h('div', { class: 'alert', 'data-testid': 'signin-host-message' }, message) : null,
      h('button', { type: 'button', class: 'btn primary block', 'data-testid': 'signin-host-retry', onclick: boot }, t('common.retry')),
      h('div', { class: 'signin-foot' }, langSwitch()))));
}

// --- The shell.

let viewRoot = null;
let titleEl = null;
let actionsEl = null;

function showShell() {
  setTimeZone(shop && shop.time_zone);
  const nav = h('nav', { class: 'nav', 'aria-label': t('app.navigation') },
    ROUTES.map((r) => h('a', { href: `#/${r.id}`, class: 'nav-link', 'data-route': r.id, 'data-testid': `nav-${r.id}` },
      icon(r.id), h('span', {}, t(`nav.${r.id}`)))));
  // Only a token can be forgotten here; the host's session is the host's.
  const signOut = auth === 'token' ? h('button', {
    type: 'button', class: 'btn ghost signout', 'data-testid': 'signout',
    onclick: () => { clearToken(); shop = null; auth = null; showSignIn(); },
  }, icon('logout'), h('span', {}, t('app.sign_out'))) : null;
  titleEl = h('h1', { class: 'page-title', 'data-testid': 'page-title' });
  actionsEl = h('div', { class: 'page-actions' });
  viewRoot = h('div', { class: 'view', id: 'view' });
  clear(app, h('div', { class: 'layout' },
    h('aside', { class: 'sidebar' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, 'T'), h('span', {}, 'TeleCart'), h('span', { class: 'brand-sub' }, t('app.admin'))),
      h('div', { class: 'shop-name', 'data-testid': 'shop-name' }, (shop && shop.shop_name) || ''),
      nav,
      h('div', { class: 'sidebar-foot' },
        h('div', { class: 'tz muted small', 'data-testid': 'shop-tz' }, t('app.time_zone', { tz: timeZone() })),
        langSwitch(),
        signOut)),
    h('main', { class: 'main' },
      h('header', { class: 'page-head' }, titleEl, actionsEl),
      viewRoot)));
  route();
}

function route() {
  if (!auth) {
    if (!app.querySelector('[data-testid="signin"], [data-testid="signin-host"]')) boot();
    return;
  }
  if (!viewRoot || !viewRoot.isConnected) {
    boot();
    return;
  }
  const r = currentRoute();
  if (!r) {
    location.replace('#/dashboard');
    return;
  }
  unmount();
  closeAllDialogs();
  for (const a of app.querySelectorAll('.nav-link')) {
    const on = a.dataset.route === r.id;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  titleEl.textContent = t(`nav.${r.id}`);
  document.title = `${t(`nav.${r.id}`)} · TeleCart`;
  actionsEl.replaceChildren();
  viewRoot.replaceChildren();
  const root = h('div', { class: `view-${r.id}`, 'data-view': r.id });
  viewRoot.append(root);
  try {
    cleanup = r.view.mount(root, {
      actions: actionsEl,
      shop,
      // shopChanged takes the settings the server saved.
      shopChanged: (s) => {
        shop = s;
        setTimeZone(s.time_zone);
        const name = app.querySelector('[data-testid="shop-name"]');
        if (name) name.textContent = s.shop_name || '';
        const tz = app.querySelector('[data-testid="shop-tz"]');
        if (tz) tz.textContent = t('app.time_zone', { tz: timeZone() });
      },
    }) || null;
  } catch (err) {
    viewRoot.replaceChildren(errorBox(err));
  }
}

function rerender() {
  document.documentElement.lang = getLang();
  if (app.querySelector('[data-testid="signin"]')) showSignIn();
  else if (app.querySelector('[data-testid="signin-host"]')) showHostSignIn(hostSignInMessage());
  else if (auth && shop) showShell();
  else boot();
}

// boot asks the API whether this page is let in (GET /admin/api/me, with
// the stored token if any), then loads the settings and shows the shell.
// A 401 shows the token sign-in only when the API asks for a bearer
// token; otherwise the host's own login guards the panel.
async function boot() {
  clear(app, h('div', { class: 'boot' }, h('span', { class: 'spinner' }), t('common.loading')));
  try {
    const hadToken = !!getToken();
    await api('me');
    auth = hadToken ? 'token' : 'host';
    shop = await api('settings');
    showShell();
  } catch (err) {
    if (err.status === 401) return; // onUnauthorized has shown a sign-in
    clear(app, h('div', { class: 'boot' }, errorBox(err), h('button', { type: 'button', class: 'btn', onclick: boot }, t('common.retry'))));
  }
}

onUnauthorized((bearer, message) => {
  // Several calls may fail at once; show a sign-in only once.
  if (app.querySelector('[data-testid="signin"], [data-testid="signin-host"]')) return;
  signInNotice = auth ? t('signin.expired') : '';
  auth = null;
  shop = null;
  viewRoot = null;
  if (bearer) showSignIn(); else showHostSignIn(message);
});
installTooltips();
document.documentElement.lang = getLang();
window.addEventListener('hashchange', route);
boot();
