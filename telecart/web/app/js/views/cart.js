// Cart: items with quantities, the total, and the way to checkout.

import { h, icon, clear } from '../dom.js';
import { cartItems, cartTotal, setQty, onCartChange, MAX_QTY } from '../cart.js';
import { track, EVENTS } from '../events.js';
import { haptic, setMainButton, hideMainButton } from '../telegram.js';
import { navigate } from '../router.js';
import { formatPrice } from '../util.js';
import { appBar } from './common.js';
import { t, tn, shopText } from '../i18n.js';

function thumb(it) {
  const img = it.image;
  if (!img || !img.url) return h('div', { class: 'media-placeholder', style: { aspectRatio: '1 / 1' } });
  return h('img', {
    src: img.url, width: img.width || 300, height: img.height || 300, alt: '', loading: 'lazy', decoding: 'async',
    style: { aspectRatio: `${img.width || 300} / ${img.height || 300}` },
  });
}

export function mountCart() {
  const body = h('div', { class: 'cart' });
  const el = h('div', { class: 'page page-cart', id: 'cart', 'data-testid': 'cart-page' }, appBar(t('cart.title')), body);
  let shown = false;

  function draw() {
    clear(body);
    const items = cartItems();
    if (!items.length) {
      body.append(h('div', { class: 'empty', 'data-testid': 'cart-empty' },
        icon('cart'),
        h('p', { text: t('cart.empty') }),
        h('button', { type: 'button', class: 'btn btn-primary', text: t('cart.go_shopping'), onclick: () => navigate('/', { replace: true }) })));
      if (shown) hideMainButton();
      return;
    }
    const total = cartTotal();
    body.append(
      h('ul', { class: 'cart-list', 'data-testid': 'cart-list' }, items.map((it) => h('li', {
        class: 'cart-item', 'data-testid': 'cart-item', dataset: { productId: it.id },
      },
      h('a', { href: '#/product/' + encodeURIComponent(it.id), onclick: (e) => { e.preventDefault(); navigate('/product/' + encodeURIComponent(it.id)); } }, thumb(it)),
      h('div', {},
        h('div', { class: 'cart-item-name', text: it.name }),
        h('div', { class: 'cart-item-price', text: formatPrice(it.price, it.currency) })),
      h('div', { class: 'cart-item-side' },
        h('div', { class: 'cart-item-total', 'data-testid': 'item-total', text: formatPrice(it.price * it.qty, it.currency) }),
        h('div', { class: 'stepper small' },
          h('button', {
            type: 'button', 'aria-label': it.qty > 1 ? t('common.one_less') : t('common.remove'), 'data-testid': 'qty-dec',
            onclick: () => { setQty(it.id, it.qty - 1); haptic('select'); },
          }, icon(it.qty > 1 ? 'minus' : 'trash')),
          h('span', { class: 'qty', 'data-testid': 'qty', text: String(it.qty) }),
          h('button', {
            type: 'button', 'aria-label': t('common.one_more'), 'data-testid': 'qty-inc', disabled: it.qty >= MAX_QTY,
            onclick: () => { setQty(it.id, it.qty + 1); haptic('select'); },
          }, icon('plus'))))))),
      h('div', { class: 'summary' },
        h('span', {}, t('cart.total') + ' ', h('span', { class: 'muted', text: `· ${tn('common.pieces', items.reduce((n, it) => n + it.qty, 0))}` })),
        h('span', { 'data-testid': 'cart-total', text: total.formatted })));
    if (shown) setMainButton({ text: `${shopText('checkout_button')} · ${total.formatted}`, onClick: () => navigate('/checkout') });
  }

  const off = onCartChange(draw);
  draw();
  return {
    el,
    onShow() {
      shown = true;
      window.scrollTo(0, 0);
      draw();
      const items = cartItems();
      const total = cartTotal();
      track(EVENTS.CART_VIEW, {
        items: items.map((it) => ({ product_id: it.id, quantity: it.qty })).slice(0, 50),
        total: total.total,
        currency: total.currency,
      });
    },
    onHide() {
      shown = false;
    },
    dispose() {
      off();
    },
  };
}
