// Access to Telegram.WebApp with fallbacks for a plain browser: the theme,
// initData, the MainButton and BackButton (on-page buttons when Telegram
// does not provide them), haptics and links.

const TELEGRAM_SCRIPT = 'https://telegram.org/js/telegram-web-app.js';

let wa = null; // Telegram.WebApp when the page runs inside Telegram
const themeKeysSet = new Set(); // --tg-theme-* properties this module set

// launchedByTelegram reports whether Telegram opened the page: it passes
// its launch parameters in the URL fragment (kept in sessionStorage by its
// script across reloads) or provides a native bridge.
function launchedByTelegram() {
  const where = `${location.hash} ${location.search}`;
  if (/[#&?]tgWebApp(Data|Version|Platform|ThemeParams)=/.test(where)) return true;
  try {
    if (sessionStorage.getItem('__telegram__initParams')) return true;
  } catch {
    // no sessionStorage
  }
  return Boolean(window.TelegramWebviewProxy);
}

function loadScript(src, timeoutMs) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    const timer = setTimeout(() => reject(new Error('timeout loading ' + src)), timeoutMs);
    s.src = src;
    s.async = true;
    s.onload = () => { clearTimeout(timer); resolve(); };
    s.onerror = () => { clearTimeout(timer); reject(new Error('failed to load ' + src)); };
    document.head.append(s);
  });
}

function versionAtLeast(v) {
  if (!wa) return false;
  if (typeof wa.isVersionAtLeast === 'function') {
    try {
      return wa.isVersionAtLeast(v);
    } catch {
      return false;
    }
  }
  return true;
}

function call(fn, ...args) {
  try {
    if (typeof fn === 'function') return fn(...args);
  } catch {
    // Telegram throws on methods an old client lacks; the page goes on.
  }
  return undefined;
}

// initTelegram finds Telegram.WebApp (loading Telegram's script when
// Telegram launched the page), applies its theme and wires its buttons.
export async function initTelegram() {
  if (!(window.Telegram && window.Telegram.WebApp) && launchedByTelegram()) {
    try {
      await loadScript(TELEGRAM_SCRIPT, 8000);
    } catch {
      // Carry on without Telegram's script: dev mode or an error screen.
    }
  }
  const candidate = window.Telegram && window.Telegram.WebApp;
  // Telegram's script loaded in a plain browser gives a WebApp with empty
  // initData: that is not Telegram.
  wa = candidate && typeof candidate.initData === 'string' && candidate.initData !== '' ? candidate : null;
  applyTheme();
  if (wa) {
    call(wa.onEvent && wa.onEvent.bind(wa), 'themeChanged', applyTheme);
    if (wa.MainButton) call(wa.MainButton.onClick && wa.MainButton.onClick.bind(wa.MainButton), dispatchMain);
    if (hasNativeBack()) call(wa.BackButton.onClick && wa.BackButton.onClick.bind(wa.BackButton), dispatchBack);
    call(wa.ready && wa.ready.bind(wa));
    call(wa.expand && wa.expand.bind(wa));
  }
  const fallback = document.getElementById('main-button');
  if (fallback) fallback.addEventListener('click', dispatchMain);
  document.documentElement.dataset.telegram = wa ? 'yes' : 'no';
}

export function inTelegram() {
  return wa !== null;
}

export function webApp() {
  return wa;
}

export function telegramInitData() {
  return wa ? wa.initData : '';
}

export function platform() {
  return (wa && wa.platform) || 'web';
}

export function startParam() {
  return (wa && wa.initDataUnsafe && wa.initDataUnsafe.start_param) || '';
}

// ---------- theme ----------

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

function hexRGB(hex) {
  if (typeof hex !== 'string' || !HEX.test(hex)) return null;
  let x = hex.slice(1);
  if (x.length === 3) x = x.replace(/./g, '$&$&');
  return [0, 2, 4].map((i) => parseInt(x.slice(i, i + 2), 16));
}

// applyTheme copies Telegram's themeParams into --tg-theme-* variables and
// its colour scheme into data-theme; outside Telegram it clears them, so
// the CSS follows prefers-color-scheme.
export function applyTheme() {
  const root = document.documentElement;
  for (const prop of themeKeysSet) root.style.removeProperty(prop);
  themeKeysSet.clear();
  if (!wa) {
    root.removeAttribute('data-theme');
    return;
  }
  const params = wa.themeParams || {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== 'string' || !HEX.test(value) || !/^[a-z_]+$/.test(key)) continue;
    const prop = '--tg-theme-' + key.replace(/_/g, '-');
    root.style.setProperty(prop, value);
    themeKeysSet.add(prop);
  }
  const rgb = hexRGB(params.bg_color);
  if (rgb) {
    root.style.setProperty('--tg-bg-translucent', `rgba(${rgb.join(', ')}, 0.72)`);
    themeKeysSet.add('--tg-bg-translucent');
  }
  root.dataset.theme = wa.colorScheme === 'dark' ? 'dark' : 'light';
  root.style.setProperty('--tg-color-scheme', root.dataset.theme);
  themeKeysSet.add('--tg-color-scheme');
  if (versionAtLeast('6.1')) {
    const bg = HEX.test(params.bg_color || '') ? params.bg_color : null;
    call(wa.setHeaderColor && wa.setHeaderColor.bind(wa), bg ? 'bg_color' : (root.dataset.theme === 'dark' ? '#17212b' : '#ffffff'));
    call(wa.setBackgroundColor && wa.setBackgroundColor.bind(wa), bg || (root.dataset.theme === 'dark' ? '#17212b' : '#ffffff'));
  }
}

// ---------- MainButton ----------

let mainSpec = null; // {text, onClick, disabled}
let mainBusy = false;

async function dispatchMain() {
  if (!mainSpec || mainSpec.disabled || mainBusy || typeof mainSpec.onClick !== 'function') return;
  mainBusy = true;
  try {
    await mainSpec.onClick();
  } finally {
    mainBusy = false;
  }
}

function nativeMain() {
  return wa && wa.MainButton ? wa.MainButton : null;
}

// setMainButton shows the main action: Telegram's MainButton in Telegram,
// an on-page button otherwise. onClick may be async: further taps are
// ignored until it settles.
export function setMainButton(spec) {
  mainSpec = { text: spec.text, onClick: spec.onClick, disabled: Boolean(spec.disabled) };
  renderMain(Boolean(spec.progress));
}

export function setMainProgress(on) {
  if (!mainSpec) return;
  renderMain(on);
}

export function hideMainButton() {
  mainSpec = null;
  renderMain(false);
}

function renderMain(progress) {
  const mb = nativeMain();
  const bar = document.getElementById('bottom-bar');
  const btn = document.getElementById('main-button');
  if (mb) {
    if (bar) bar.hidden = true;
    document.body.classList.remove('has-main-button');
    if (!mainSpec) {
      call(mb.hideProgress && mb.hideProgress.bind(mb));
      call(mb.hide && mb.hide.bind(mb));
      return;
    }
    const active = !mainSpec.disabled;
    if (typeof mb.setParams === 'function') {
      call(mb.setParams.bind(mb), { text: mainSpec.text, is_visible: true, is_active: active });
    } else {
      call(mb.setText && mb.setText.bind(mb), mainSpec.text);
      call(mb.show && mb.show.bind(mb));
      call(active ? mb.enable && mb.enable.bind(mb) : mb.disable && mb.disable.bind(mb));
    }
    if (progress) call(mb.showProgress && mb.showProgress.bind(mb), false);
    else call(mb.hideProgress && mb.hideProgress.bind(mb));
    return;
  }
  if (!bar || !btn) return;
  if (!mainSpec) {
    bar.hidden = true;
    document.body.classList.remove('has-main-button');
    return;
  }
  btn.textContent = progress ? '…' : mainSpec.text;
  btn.disabled = mainSpec.disabled || progress;
  btn.setAttribute('aria-busy', progress ? 'true' : 'false');
  bar.hidden = false;
  document.body.classList.add('has-main-button');
}

// ---------- BackButton ----------

let backHandler = null;

function dispatchBack() {
  if (typeof backHandler === 'function') backHandler();
}

// hasNativeBack reports whether Telegram's BackButton is available; views
// show their own back button otherwise.
export function hasNativeBack() {
  return Boolean(wa && wa.BackButton && versionAtLeast('6.1'));
}

export function setBackButton(handler) {
  backHandler = handler || null;
  if (!hasNativeBack()) return;
  const bb = wa.BackButton;
  if (backHandler) call(bb.show && bb.show.bind(bb));
  else call(bb.hide && bb.hide.bind(bb));
}

// ---------- misc ----------

export function haptic(kind) {
  if (!wa || !wa.HapticFeedback || !versionAtLeast('6.1')) return;
  const hf = wa.HapticFeedback;
  if (kind === 'success' || kind === 'error' || kind === 'warning') call(hf.notificationOccurred && hf.notificationOccurred.bind(hf), kind);
  else if (kind === 'select') call(hf.selectionChanged && hf.selectionChanged.bind(hf));
  else call(hf.impactOccurred && hf.impactOccurred.bind(hf), 'light');
}

// openLink opens an external page: in Telegram's in-app browser when
// available, else a new tab.
export function openLink(url, event) {
  if (wa && typeof wa.openLink === 'function') {
    if (event) event.preventDefault();
    call(wa.openLink.bind(wa), url);
  }
  // Otherwise the link's own target=_blank does it.
}
