// Home: the shop's name, a search field that opens the search page, and
// the products feed blocks.

import { h, icon } from '../dom.js';
import { navigate } from '../router.js';
import { state, feedBlocks } from '../state.js';
import { createFeed } from './feed.js';
import { cartButton, refreshCartButtons } from './common.js';
import { t, translated, shopText } from '../i18n.js';

export function mountHome() {
  const feeds = feedBlocks().map((b) => createFeed({
    aspectRatio: b.aspect_ratio || '',
    perPage: b.per_page || '',
    title: translated(b.title || '', b.titles),
    source: 'feed',
  }));
  const el = h('div', { class: 'page page-home', id: 'home', 'data-testid': 'home' },
    h('header', { class: 'appbar glass' },
      h('h1', { class: 'shop-name', 'data-testid': 'shop-name', text: state.settings.shop_name || t('app.shop') }),
      cartButton()),
    shopText('greeting') ? h('p', { class: 'greeting', 'data-testid': 'greeting', text: shopText('greeting') }) : null,
    h('button', {
      type: 'button',
      class: 'search-pill',
      'data-testid': 'open-search',
      onclick: () => navigate('/search'),
    }, icon('search'), h('span', { text: t('home.search') })),
    feeds.map((f) => f.el));

  let loaded = false;
  let scrollY = 0;
  return {
    el,
    onShow() {
      refreshCartButtons(el);
      if (!loaded) {
        loaded = true;
        feeds.forEach((f) => f.load(''));
        window.scrollTo(0, 0);
      } else {
        window.scrollTo(0, scrollY);
      }
    },
    onHide() {
      scrollY = window.scrollY;
    },
    dispose() {
      feeds.forEach((f) => f.dispose());
    },
  };
}
