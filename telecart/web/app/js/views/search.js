// Search: a fixed frosted search bar (no page title) over the results.
// The keyboard hides on Enter and when the results are scrolled; the
// clear button empties the field.

import { h, icon } from '../dom.js';
import { replacePath } from '../router.js';
import { feedRatio, feedBlocks } from '../state.js';
import { track, EVENTS } from '../events.js';
import { debounce } from '../util.js';
import { createFeed } from './feed.js';
import { backButton } from './common.js';
import { t } from '../i18n.js';

const MAX_QUERY = 200; // the server's limit on q

export function mountSearch() {
  const input = h('input', {
    type: 'search',
    class: 'search-input',
    id: 'search-input',
    'data-testid': 'search-input',
    placeholder: t('search.placeholder'),
    'aria-label': t('search.placeholder'),
    autocomplete: 'off',
    autocorrect: 'off',
    spellcheck: 'false',
    enterkeyhint: 'search',
    maxlength: MAX_QUERY,
  });
  const clearBtn = h('button', {
    type: 'button',
    class: 'search-clear',
    id: 'search-clear',
    'data-testid': 'search-clear',
    'aria-label': t('search.clear'),
    hidden: true,
  }, icon('close'));
  const form = h('form', { class: 'searchbar glass', role: 'search', id: 'search-bar', 'data-testid': 'search-bar', action: '#' },
    backButton(),
    h('label', { class: 'search-field' }, icon('search'), input),
    clearBtn);
  const feed = createFeed({
    aspectRatio: feedRatio(),
    perPage: feedBlocks()[0].per_page || '',
    source: 'search',
    emptyText: (q) => t('search.none', { q }),
    onFirstPage: (meta, q) => {
      if (q) track(EVENTS.SEARCH, { query: q, results: meta.total || 0 });
    },
  });
  const hint = t('search.hint');
  const el = h('div', { class: 'page page-search', id: 'search', 'data-testid': 'search-page' }, form, feed.el);

  let lastQ = null;
  let focusedAt = 0;
  let scrollY = 0;

  function run(raw) {
    const q = raw.trim().slice(0, MAX_QUERY);
    if (q === lastQ) return;
    lastQ = q;
    replacePath(q ? '/search?q=' + encodeURIComponent(q) : '/search');
    if (!q) feed.reset(hint);
    else feed.load(q);
  }
  const runSoon = debounce(run, 350);

  input.addEventListener('input', () => {
    clearBtn.hidden = input.value === '';
    runSoon(input.value);
  });
  input.addEventListener('focus', () => { focusedAt = Date.now(); });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    runSoon.cancel();
    run(input.value);
    input.blur(); // hides the on-screen keyboard
  });
  clearBtn.addEventListener('click', () => {
    input.value = '';
    clearBtn.hidden = true;
    runSoon.cancel();
    run('');
    input.focus();
  });

  // Scrolling the results hides the keyboard; the scroll a focus itself
  // may cause (the browser bringing the field into view) does not.
  const hideKeyboard = () => {
    if (document.activeElement === input && Date.now() - focusedAt > 300) input.blur();
  };
  const onScroll = () => hideKeyboard();
  const onTouchMove = (e) => {
    if (!form.contains(e.target)) hideKeyboard();
  };

  return {
    el,
    onShow({ query }) {
      addEventListener('scroll', onScroll, { passive: true });
      document.addEventListener('touchmove', onTouchMove, { passive: true });
      const q = query.get('q');
      if (q !== null && q !== input.value) {
        input.value = q;
        clearBtn.hidden = q === '';
      }
      if (lastQ === null || q !== null) run(input.value);
      window.scrollTo(0, lastQ && scrollY ? scrollY : 0);
      if (!input.value) input.focus();
    },
    onHide() {
      scrollY = window.scrollY;
      removeEventListener('scroll', onScroll);
      document.removeEventListener('touchmove', onTouchMove);
      input.blur();
    },
    dispose() {
      feed.dispose();
    },
  };
}
