// The products feed: a grid of product cards loaded page by page from
// GET /api/products, with lazy images laid out at the block's aspect
// ratio (width 300, height from the API) and infinite scroll.

import { api, query, ApiError } from '../api.js';
import { h, icon, clear, toast } from '../dom.js';
import { addToCart } from '../cart.js';
import { track, EVENTS } from '../events.js';
import { haptic } from '../telegram.js';
import { navigate } from '../router.js';
import { rememberProducts } from '../state.js';
import { ratioHeight, formatPrice } from '../util.js';
import { t, errorText } from '../i18n.js';

// productImage renders a product's first image with its width and height
// attributes and CSS aspect-ratio, lazily loaded; a placeholder of the
// same shape when there is none.
export function productImage(p, ratio, { lazy = true, className = '' } = {}) {
  const img = Array.isArray(p.images) ? p.images[0] : null;
  const w = img && img.width > 0 ? img.width : 300;
  const hgt = img && img.height > 0 ? img.height : ratioHeight(ratio, w);
  if (!img || !img.url) {
    return h('div', { class: `media-placeholder ${className}`, style: { aspectRatio: `${w} / ${hgt}` }, 'aria-hidden': 'true' });
  }
  return h('img', {
    src: img.url,
    width: w,
    height: hgt,
    alt: p.name || '',
    loading: lazy ? 'lazy' : 'eager',
    decoding: 'async',
    class: className || null,
    style: { aspectRatio: `${w} / ${hgt}` },
    'data-testid': 'product-image',
  });
}

export function quickAdd(p, source) {
  const qty = addToCart(p, 1);
  if (!qty) {
    toast(t('common.cart_full'));
    return;
  }
  haptic('impact');
  track(EVENTS.ADD_TO_CART, { product_id: p.id, quantity: 1, price: p.price, currency: p.currency, source });
  toast(t('feed.added', { name: p.name }));
}

export function productCard(p, ratio, source) {
  const href = '#/product/' + encodeURIComponent(p.id);
  const card = h('a', {
    class: 'card',
    href,
    'data-testid': 'product-card',
    dataset: { productId: p.id },
    onclick: (e) => {
      e.preventDefault();
      navigate('/product/' + encodeURIComponent(p.id));
    },
  },
  h('div', { class: 'card-media' },
    productImage(p, ratio),
    p.in_stock ? null : h('span', { class: 'stock-out', text: t('feed.out_of_stock') })),
  h('div', { class: 'card-body' },
    h('div', { class: 'card-price', text: formatPrice(p.price, p.currency) }),
    h('div', { class: 'card-name', 'data-testid': 'product-name', text: p.name })));
  if (p.in_stock) {
    card.querySelector('.card-media').append(h('button', {
      type: 'button',
      class: 'card-add',
      'aria-label': t('feed.quick_add', { name: p.name }),
      'data-testid': 'quick-add',
      onclick: (e) => {
        e.preventDefault();
        e.stopPropagation();
        quickAdd(p, source);
      },
    }, icon('plus')));
  }
  return card;
}

// createFeed returns a feed: {el, load(q), more(), dispose()}. opts:
// aspectRatio, perPage, title, source (for events), emptyText, onFirstPage
// (called with the first page's meta and q).
export function createFeed(opts) {
  const grid = h('div', { class: 'grid', 'data-testid': 'product-grid', role: 'list' });
  const status = h('div', { class: 'feed-status', 'data-testid': 'feed-status', role: 'status' });
  const moreBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'load-more', text: t('feed.more'), hidden: true });
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const el = h('section', { class: 'feed', 'data-testid': 'feed' },
    opts.title ? h('h2', { class: 'block-title', text: opts.title }) : null,
    grid, status, h('div', { class: 'feed-more' }, moreBtn), sentinel);

  let q = '';
  let page = 0;
  let pages = 1;
  let loading = false;
  let seq = 0;
  let ctrl = null;
  let ratio = opts.aspectRatio || '';
  let io = null;

  async function fetchPage() {
    if (loading || page >= pages) return;
    loading = true;
    const mySeq = seq;
    status.classList.remove('error');
    status.textContent = page === 0 ? t('feed.loading') : '';
    if (page > 0) status.append(h('div', { class: 'spinner', style: { margin: '0 auto' } }));
    moreBtn.hidden = true;
    ctrl = new AbortController();
    let ok = false;
    try {
      const { data } = await api('/products' + query({
        q, page: page + 1, per_page: opts.perPage || '', aspect_ratio: opts.aspectRatio || '',
      }), { signal: ctrl.signal });
      if (mySeq !== seq) return;
      const list = Array.isArray(data && data.data) ? data.data : [];
      const meta = (data && data.meta) || {};
      ratio = meta.aspect_ratio || ratio;
      rememberProducts(list);
      page = meta.page || page + 1;
      pages = meta.pages || 0;
      for (const p of list) grid.append(productCard(p, ratio, opts.source));
      status.textContent = '';
      if (page === 1) {
        if (!list.length) status.textContent = opts.emptyText ? opts.emptyText(q) : t('feed.empty');
        if (opts.onFirstPage) opts.onFirstPage(meta, q);
      }
      // Scrolling loads the next page; the button is for browsers
      // without IntersectionObserver.
      moreBtn.hidden = Boolean(io) || page >= pages;
      el.dataset.state = page >= pages ? 'done' : 'more';
      ok = true;
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      if (mySeq !== seq) return;
      status.classList.add('error');
      status.textContent = err instanceof ApiError ? errorText(err) : t('app.error');
      moreBtn.hidden = false;
      moreBtn.textContent = t('app.try_again');
      el.dataset.state = 'error';
    } finally {
      if (mySeq === seq) loading = false;
    }
    // The sentinel may still be in view (a short page, or the buyer
    // already at the bottom), which the observer would not report again:
    // observing it afresh reports its current state. After an error the
    // buyer retries with the button.
    if (ok && mySeq === seq && page < pages && io) {
      io.unobserve(sentinel);
      io.observe(sentinel);
    }
  }

  moreBtn.addEventListener('click', () => {
    moreBtn.textContent = t('feed.more');
    fetchPage();
  });

  if ('IntersectionObserver' in window) {
    io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) fetchPage();
    }, { rootMargin: '600px 0px' });
    io.observe(sentinel);
  }

  return {
    el,
    // load starts over with the search query q.
    load(newQ = '') {
      seq++;
      if (ctrl) ctrl.abort();
      loading = false;
      q = newQ;
      page = 0;
      pages = 1;
      clear(grid);
      status.textContent = '';
      el.dataset.state = 'loading';
      return fetchPage();
    },
    // reset clears the grid without loading.
    reset(text = '') {
      seq++;
      if (ctrl) ctrl.abort();
      loading = false;
      page = 0;
      pages = 0;
      clear(grid);
      status.classList.remove('error');
      status.textContent = text;
      moreBtn.hidden = true;
      el.dataset.state = 'idle';
    },
    more: fetchPage,
    dispose() {
      seq++;
      if (ctrl) ctrl.abort();
      if (io) io.disconnect();
    },
  };
}
