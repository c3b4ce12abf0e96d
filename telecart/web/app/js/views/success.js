// Success: the placed order's number and total.

import { h, icon } from '../dom.js';
import { setMainButton } from '../telegram.js';
import { navigate } from '../router.js';
import { KEYS, getJSON, formatPrice } from '../util.js';
import { t, shopText, formatDate } from '../i18n.js';

// orderLine says "Order #12 is placed." with the number in bold, wherever
// the language puts it.
function orderLine(id) {
  const [before, after] = t('success.order', { id: '\u0000' }).split('\u0000');
  return h('p', {}, before, h('strong', { 'data-testid': 'order-id', text: `#${id}` }), after);
}

export function mountSuccess() {
  const order = getJSON(KEYS.lastOrder, null, 'session');
  const home = () => navigate('/', { replace: true });
  const el = h('div', { class: 'page page-success', id: 'success', 'data-testid': 'success-page' },
    h('div', { class: 'success' },
      h('div', { class: 'success-mark' }, icon('check')),
      h('h1', { text: t('success.thanks') }),
      order && order.order_id ? orderLine(order.order_id) : h('p', { text: t('success.placed') }),
      order && Number.isFinite(order.total) ? h('div', { class: 'total', 'data-testid': 'order-total', text: formatPrice(order.total, order.currency) }) : null,
      order && order.placed_at ? h('p', { class: 'muted', 'data-testid': 'order-date', text: t('success.placed_at', { date: formatDate(new Date(order.placed_at), { dateStyle: 'long', timeStyle: 'short' }) }) }) : null,
      h('p', { text: shopText('success_text') })));
  return {
    el,
    onShow() {
      window.scrollTo(0, 0);
      setMainButton({ text: t('success.continue'), onClick: home });
    },
  };
}
