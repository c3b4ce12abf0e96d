// Checkout: the "checkout" form from the API, validated like the server,
// and the order placed with a client order key that is kept until the
// order succeeds, so a double tap or a retry makes one order.

import { api, ApiError } from '../api.js';
import { h, clear } from '../dom.js';
import { cartItems, cartTotal, clearCart } from '../cart.js';
import { track, EVENTS } from '../events.js';
import { haptic, setMainButton, setMainProgress, hideMainButton } from '../telegram.js';
import { navigate } from '../router.js';
import { renderForm } from '../forms.js';
import { KEYS, getItem, setItem, removeItem, getJSON, setJSON, uuid } from '../util.js';
import { appBar } from './common.js';
import { t, tn, shopText, localizeNodes, errorText, language } from '../i18n.js';

let formCache = null;

// orderKey is the pending order's key: created on the first attempt and
// reused until an attempt succeeds.
export function orderKey() {
  let key = getItem(KEYS.orderKey);
  if (!key || !/^[A-Za-z0-9_-]{8,64}$/.test(key)) {
    key = uuid();
    setItem(KEYS.orderKey, key);
  }
  return key;
}

export function mountCheckout() {
  const errorBox = h('div', { class: 'form-error', 'data-testid': 'checkout-error', role: 'alert', hidden: true });
  const body = h('div', { class: 'checkout' }, h('div', { class: 'splash' }, h('div', { class: 'spinner' })));
  const bar = appBar(shopText('checkout_title'));
  const el = h('div', { class: 'page page-checkout', id: 'checkout', 'data-testid': 'checkout-page' }, bar, body);
  let form = null;
  let shown = false;
  let disposed = false;
  let submitting = false;
  let started = false;

  function showError(msg) {
    errorBox.textContent = msg || '';
    errorBox.hidden = !msg;
    if (msg) errorBox.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  function mainButton() {
    if (!shown) return;
    if (!form || !cartItems().length) {
      hideMainButton();
      return;
    }
    setMainButton({ text: `${shopText('place_order_button')} · ${cartTotal().formatted}`, onClick: submit, progress: submitting });
  }

  async function submit() {
    if (submitting || !form) return;
    showError('');
    const res = form.validateAll();
    if (res.errors) {
      haptic('error');
      form.focusFirstError();
      return;
    }
    const items = cartItems().map((it) => ({ product_id: it.id, quantity: it.qty }));
    if (!items.length) {
      navigate('/cart', { replace: true });
      return;
    }
    submitting = true;
    setMainProgress(true);
    try {
      const { data } = await api('/orders', {
        method: 'POST',
        body: { order_key: orderKey(), items, fields: form.values() },
      });
      removeItem(KEYS.orderKey);
      removeItem(KEYS.draft, 'session');
      setJSON(KEYS.lastOrder, { ...data, placed_at: new Date().toISOString() }, 'session');
      clearCart();
      haptic('success');
      submitting = false;
      navigate('/success', { replace: true });
      return;
    } catch (err) {
      haptic('error');
      if (!(err instanceof ApiError)) {
        showError(t('checkout.not_placed'));
      } else if (!(await explainFields(err))) {
        // The cart's names name a product the error gives only the id of.
        const names = Object.fromEntries(cartItems().map((it) => [it.id, it.name]));
        showError(errorText(err, 'checkout.not_placed', names));
      }
    } finally {
      if (!disposed) {
        submitting = false;
        setMainProgress(false);
        mainButton();
      }
    }
  }

  // explainFields shows the server's refusal of form fields next to them,
  // in the buyer's language, and reports whether it did. The server's
  // messages are English; the page's own check gives the server's verdict
  // (forms.js mirrors forms.Validate rule for rule), so its words stand in.
  // A refusal the page's form cannot explain means the form changed since
  // it was loaded: it is loaded again and checked once more. One it still
  // cannot explain is shown as the server's message to an English reader
  // and as a plain refusal to others.
  async function explainFields(err) {
    const names = Object.keys(err.fields || {}).filter((k) => !/^items\[/.test(k));
    if (!names.length || !form) return false;
    let res = form.check();
    if (names.some((k) => !(res.errors && res.errors[k]))) {
      try {
        const fresh = (await api('/forms/checkout')).data;
        if (disposed) return true;
        formCache = fresh;
        setJSON(KEYS.draft, form.values(), 'session');
        showForm();
        res = form.check();
      } catch {
        // The form as loaded stays; the messages below still stand.
      }
    }
    const messages = {};
    for (const k of names) {
      if (!form.has(k)) continue; // no longer in the form, so not sent again
      messages[k] = (res.errors && res.errors[k])
        || (language() === 'en' && err.fields[k]) || t('checkout.field_refused', { label: form.label(k) });
    }
    form.setErrors(messages);
    form.focusFirstError();
    showError(Object.keys(messages).length ? '' : errorText(err, 'checkout.not_placed'));
    return true;
  }

  // showForm renders formCache with the draft's values.
  function showForm() {
    clear(body);
    const f = formCache;
    const draft = getJSON(KEYS.draft, {}, 'session');
    form = renderForm(localizeNodes(f.schema || []), { initial: draft, onChange: (v) => setJSON(KEYS.draft, v, 'session'), timeZone: f.time_zone });
    // Enter hides the keyboard; the order is placed only by the main
    // button (Telegram's, or the page's own outside Telegram).
    form.el.addEventListener('submit', (e) => {
      e.preventDefault();
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    });
    form.el.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target instanceof HTMLInputElement) {
        e.preventDefault();
        e.target.blur();
      }
    });
    const total = cartTotal();
    const count = cartItems().reduce((n, it) => n + it.qty, 0);
    body.append(
      h('div', { class: 'summary' },
        h('span', {}, t('checkout.order') + ' ', h('span', { class: 'muted', text: `· ${tn('common.pieces', count)}` })),
        h('span', { 'data-testid': 'checkout-total', text: total.formatted })),
      errorBox,
      form.el);
    mainButton();
  }

  async function load() {
    try {
      if (!formCache) formCache = (await api('/forms/checkout')).data;
      if (disposed) return;
      showForm();
    } catch (err) {
      if (disposed) return;
      clear(body);
      body.append(h('div', { class: 'empty' },
        h('p', { text: errorText(err, 'checkout.form_failed') }),
        h('button', { type: 'button', class: 'btn', text: t('app.try_again'), onclick: () => { clear(body); load(); } })));
    }
  }

  load();
  return {
    el,
    onShow() {
      shown = true;
      window.scrollTo(0, 0);
      if (!cartItems().length) {
        navigate('/cart', { replace: true });
        return;
      }
      if (!started) {
        started = true;
        const total = cartTotal();
        track(EVENTS.CHECKOUT_START, { items: cartItems().length, total: total.total, currency: total.currency });
      }
      mainButton();
    },
    onHide() {
      shown = false;
    },
    dispose() {
      disposed = true;
    },
  };
}
