// Start-up: Telegram (or dev mode), the customer, the settings, the
// privacy consent, WEBAPP_OPEN, then the shop's screens.

import { initTelegram, telegramInitData, platform, startParam } from './telegram.js';
import { api, setInitData, setSession, DEV_INIT_DATA_URL, ApiError } from './api.js';
import { startEvents, track, EVENTS } from './events.js';
import { h, clear } from './dom.js';
import { state } from './state.js';
import { KEYS, getItem, setItem } from './util.js';
import { route, startRouter } from './router.js';
import { t, setLanguage, languageCodeOf, setShopTexts, errorText } from './i18n.js';
import { showConsent } from './views/consent.js';
import { mountHome } from './views/home.js';
import { mountSearch } from './views/search.js';
import { mountProduct } from './views/product.js';
import { mountCart } from './views/cart.js';
import { mountCheckout } from './views/checkout.js';
import { mountSuccess } from './views/success.js';

const app = document.getElementById('app');
const view = document.getElementById('view');

function message(title, text, retry) {
  clear(view);
  view.append(h('div', { class: 'splash', 'data-testid': 'app-message' },
    h('h1', { text: title }),
    h('p', { text }),
    retry ? h('button', { type: 'button', class: 'btn btn-primary', text: t('app.try_again'), onclick: () => location.reload() }) : null));
  app.dataset.state = 'error';
}

// devInitData asks the demo server for a signed initData (dev mode only;
// elsewhere the route does not exist).
async function devInitData() {
  try {
    const res = await fetch(DEV_INIT_DATA_URL, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) return '';
    const data = await res.json();
    return typeof data.init_data === 'string' ? data.init_data : '';
  } catch {
    return '';
  }
}

// saveCustomer saves the Telegram customer and keeps its tracking_id: the
// backend's value always replaces the stored one.
async function saveCustomer() {
  try {
    const { data } = await api('/customers', { method: 'POST', body: {} });
    state.customer = data;
    if (data && typeof data.tracking_id === 'string' && data.tracking_id) {
      setItem(KEYS.trackingID, data.tracking_id);
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
    // Offline or a hiccup: the shop still works; the stored id stands.
  }
  state.trackingID = getItem(KEYS.trackingID) || '';
  document.documentElement.dataset.trackingId = state.trackingID;
}

// startSession trades the fresh init data for a session token, so that the
// page keeps working when it stays open past the init data's 24 hours. A
// failure only means no session: the init data works while it is fresh.
async function startSession() {
  try {
    const { data } = await api('/session', { method: 'POST', body: {} });
    if (data && data.token) setSession(data.token);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
  }
}

async function main() {
  await initTelegram();
  let initData = telegramInitData();
  if (!initData) initData = await devInitData();
  // The buyer's Telegram language; English when Telegram gives none, not
  // the browser's: the shop speaks as the buyer's Telegram does.
  setLanguage(languageCodeOf(initData));
  const splash = document.querySelector('.splash-text');
  if (splash) splash.textContent = t('app.loading');
  if (!initData) {
    message(t('app.open_in_telegram'), t('app.open_in_telegram_text'));
    return;
  }
  setInitData(initData);
  startEvents(); // also sends what earlier launches left in the queue

  let settings;
  try {
    [, settings] = await Promise.all([saveCustomer(), api('/settings').then((r) => r.data), startSession()]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      message(t('app.session_expired'), t('app.session_expired_text'));
    } else {
      message(t('app.unavailable'), errorText(err, 'app.unavailable_text'), true);
    }
    return;
  }
  state.settings = { shop_name: '', privacy_policy_link: '', blocks: [], texts: {}, ...(settings || {}) };
  setShopTexts(state.settings.texts);
  document.title = state.settings.shop_name || t('app.shop');

  if (state.settings.privacy_policy_link) {
    let consented = false;
    try {
      consented = Boolean((await api('/privacy-consent')).data.consented);
    } catch {
      consented = false;
    }
    if (!consented) {
      clear(view);
      app.dataset.state = 'consent';
      await showConsent(view, { link: state.settings.privacy_policy_link, shopName: state.settings.shop_name });
    }
  }

  const open = { platform: platform() };
  const sp = startParam();
  if (sp) open.start_param = sp;
  track(EVENTS.WEBAPP_OPEN, open);

  clear(view);
  route(/^\/$/, mountHome, { keepAlive: true });
  route(/^\/search$/, mountSearch, { keepAlive: true });
  route(/^\/product\/([^/]+)$/, mountProduct);
  route(/^\/cart$/, mountCart);
  route(/^\/checkout$/, mountCheckout);
  route(/^\/success$/, mountSuccess);
  startRouter(view);
  app.dataset.state = 'ready';
}

main().catch((err) => {
  console.error(err);
  message(t('app.failed'), t('app.failed_text'), true);
});
