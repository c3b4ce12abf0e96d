// Success: the placed order's number and total.

import { h, icon } from '../dom.js';
import { setMainButton } from '../telegram.js';
import { navigate } from '../router.js';
import { KEYS, getJSON } from '../util.js';

export function mountSuccess() {
  const order = getJSON(KEYS.lastOrder, null, 'session');
  const home = () => navigate('/', { replace: true });
  const el = h('div', { class: 'page page-success', id: 'success', 'data-testid': 'success-page' },
    h('div', { class: 'success' },
      h('div', { class: 'success-mark' }, icon('check')),
      h('h1', { text: 'Thank you!' }),
      order && order.order_id
        ? h('p', {}, 'Order ', h('strong', { 'data-testid': 'order-id', text: `#${order.order_id}` }), ' is placed.')
        : h('p', { text: 'Your order is placed.' }),
      order && order.total_formatted ? h('div', { class: 'total', 'data-testid': 'order-total', text: order.total_formatted }) : null,
      h('p', { text: 'We will contact you to confirm the details.' })));
  return {
    el,
    onShow() {
      window.scrollTo(0, 0);
      setMainButton({ text: 'Continue shopping', onClick: home });
    },
  };
}
