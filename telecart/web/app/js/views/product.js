// Product: image, name, price, description and attributes; add to cart
// with a quantity stepper; the main button adds or goes to the cart.

import { api, query, ApiError } from '../api.js';
import { h, icon, clear, toast } from '../dom.js';
import { addToCart, cartQty, setQty, cartCount, cartTotal, onCartChange, MAX_QTY } from '../cart.js';
import { track, EVENTS } from '../events.js';
import { haptic, setMainButton, hideMainButton } from '../telegram.js';
import { navigate } from '../router.js';
import { state, feedRatio, rememberProducts } from '../state.js';
import { productImage } from './feed.js';
import { appBar, cartButton } from './common.js';
import { t, errorText } from '../i18n.js';
import { formatPrice } from '../util.js';

export function mountProduct({ params }) {
  const id = params[0];
  const body = h('div', { class: 'product', 'data-testid': 'product' });
  const el = h('div', { class: 'page page-product', id: 'product', 'data-testid': 'product-page' },
    appBar('', { extras: [cartButton()] }), body);
  let product = state.products.get(id) || null;
  let viewed = false;
  let shown = false;
  let disposed = false;

  function add(qty) {
    if (!product || !product.in_stock) return;
    const n = addToCart(product, qty);
    if (!n) {
      toast(t('common.cart_full'));
      return;
    }
    haptic('impact');
    track(EVENTS.ADD_TO_CART, { product_id: product.id, quantity: qty, price: product.price, currency: product.currency, source: 'product' });
    draw();
  }

  function actions() {
    const p = product;
    if (!p.in_stock) return h('div', { class: 'product-actions' });
    const qty = cartQty(p.id);
    if (!qty) {
      return h('div', { class: 'product-actions' },
        h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'add-to-cart', id: 'add-to-cart', text: t('product.add'), onclick: () => add(1) }));
    }
    return h('div', { class: 'product-actions' },
      h('div', { class: 'stepper', 'data-testid': 'product-stepper' },
        h('button', { type: 'button', 'aria-label': t('common.one_less'), 'data-testid': 'qty-dec', onclick: () => { setQty(p.id, qty - 1); haptic('select'); } }, icon('minus')),
        h('span', { class: 'qty', 'data-testid': 'qty', text: String(qty) }),
        h('button', { type: 'button', 'aria-label': t('common.one_more'), 'data-testid': 'qty-inc', disabled: qty >= MAX_QTY, onclick: () => add(1) }, icon('plus'))),
      h('span', { class: 'product-stock', text: t('product.in_cart') }));
  }

  function mainButton() {
    if (!shown) return;
    if (!product) {
      hideMainButton();
      return;
    }
    if (cartQty(product.id) > 0 || (!product.in_stock && cartCount() > 0)) {
      setMainButton({ text: t('product.go_to_cart', { total: cartTotal().formatted }), onClick: () => navigate('/cart') });
    } else if (product.in_stock) {
      setMainButton({ text: t('product.add'), onClick: () => add(1) });
    } else {
      hideMainButton();
    }
  }

  function draw() {
    clear(body);
    if (!product) {
      body.append(h('div', { class: 'splash' }, h('div', { class: 'spinner' })));
      return;
    }
    const p = product;
    el.querySelector('.appbar h1').textContent = p.name;
    const attrs = Object.entries(p.attributes || {});
    body.append(
      h('div', { class: 'product-media' }, productImage(p, feedRatio(), { lazy: false })),
      h('div', { class: 'product-info' },
        h('h2', { class: 'product-name', 'data-testid': 'product-title', text: p.name }),
        h('div', { class: 'product-price', 'data-testid': 'product-price', text: formatPrice(p.price, p.currency) }),
        h('div', { class: `product-stock${p.in_stock ? '' : ' out'}`, text: p.in_stock ? t('product.in_stock') : t('product.out_of_stock') }),
        actions(),
        p.description ? h('p', { class: 'product-desc', text: p.description }) : null,
        attrs.length ? h('dl', { class: 'attrs' }, attrs.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])) : null));
    mainButton();
  }

  async function load() {
    try {
      const { data } = await api(`/products/${encodeURIComponent(id)}` + query({ aspect_ratio: feedRatio() }));
      if (disposed) return;
      product = data.data;
      rememberProducts([product]);
      draw();
      if (!viewed) {
        viewed = true;
        track(EVENTS.PRODUCT_VIEW, { product_id: product.id, price: product.price, currency: product.currency });
      }
    } catch (err) {
      if (disposed) return;
      if (!product) {
        clear(body);
        body.append(h('div', { class: 'empty', 'data-testid': 'product-error' },
          h('p', { text: err instanceof ApiError && err.status === 404 ? t('product.gone') : errorText(err) }),
          h('button', { type: 'button', class: 'btn', text: t('product.back_to_shop'), onclick: () => navigate('/', { replace: true }) })));
      }
    }
  }

  const off = onCartChange(() => { if (product && !disposed) draw(); });
  draw();
  load();
  return {
    el,
    onShow() {
      shown = true;
      window.scrollTo(0, 0);
      mainButton();
    },
    onHide() {
      shown = false;
    },
    dispose() {
      disposed = true;
      off();
    },
  };
}
