// Pieces shared by the views: the top bar with its fallback back button
// and the cart button with its badge.

import { h, icon } from '../dom.js';
import { cartCount, onCartChange } from '../cart.js';
import { hasNativeBack } from '../telegram.js';
import { back, navigate } from '../router.js';
import { t, tn } from '../i18n.js';

function updateBadge(btn) {
  const n = cartCount();
  const badge = btn.querySelector('.badge');
  badge.textContent = n > 99 ? '99+' : String(n);
  badge.hidden = n === 0;
  btn.setAttribute('aria-label', n ? t('common.cart_items', { items: tn('common.items', n) }) : t('common.cart'));
}

onCartChange(() => {
  for (const b of document.querySelectorAll('[data-cart-button]')) updateBadge(b);
});

export function cartButton() {
  const btn = h('button', {
    type: 'button',
    class: 'icon-btn',
    'data-cart-button': true,
    'data-testid': 'cart-button',
    onclick: () => navigate('/cart'),
  }, icon('cart'), h('span', { class: 'badge', 'data-testid': 'cart-count' }));
  updateBadge(btn);
  return btn;
}

export function refreshCartButtons(root) {
  for (const b of root.querySelectorAll('[data-cart-button]')) updateBadge(b);
}

// backButton is the on-page back button, shown only when Telegram's
// BackButton is not available.
export function backButton() {
  if (hasNativeBack()) return null;
  return h('button', {
    type: 'button',
    class: 'icon-btn',
    'aria-label': t('common.back'),
    'data-testid': 'back-button',
    onclick: () => back(),
  }, icon('back'));
}

// appBar is a sticky frosted top bar: back (fallback), title, extras.
export function appBar(title, { withBack = true, extras = [] } = {}) {
  const b = withBack ? backButton() : null;
  return h('header', { class: `appbar glass${b ? ' with-back' : ''}` },
    b, h('h1', { text: title }), extras);
}
