// Shared state of the running app: the storefront settings and the
// products seen so far (so a product page opens at once from the feed).

export const state = {
  settings: { shop_name: '', privacy_policy_link: '', blocks: [] },
  customer: null,
  products: new Map(),
};

// feedBlocks returns the products_feed blocks of the settings (one default
// block when there are none).
export function feedBlocks() {
  const blocks = (state.settings.blocks || []).filter((b) => b && b.type === 'products_feed');
  return blocks.length ? blocks : [{ type: 'products_feed', title: '', aspect_ratio: '', per_page: 0 }];
}

// feedRatio is the aspect ratio product pages and search use: the first
// feed block's.
export function feedRatio() {
  return feedBlocks()[0].aspect_ratio || '';
}

export function rememberProducts(list) {
  for (const p of list || []) {
    if (p && typeof p.id === 'string') state.products.set(p.id, p);
  }
}
