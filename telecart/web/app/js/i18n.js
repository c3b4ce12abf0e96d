// The storefront's words in English and Russian, and numbers, prices and
// dates in the buyer's language. The language comes from the buyer's
// Telegram language_code: Russian for ru, uk, be and kk (buyers who read
// Russian more readily than English), English for every other code. The
// shop's own texts (greeting, consent, button labels) come from the
// settings, per language; the checkout form's labels from its schema.

export const LANGUAGES = ['en', 'ru'];

const RUSSIAN_READERS = ['ru', 'uk', 'be', 'kk'];

// languageFor maps a Telegram language_code (an IETF tag such as "ru" or
// "pt-br") to a storefront language.
export function languageFor(code) {
  const base = String(code || '').toLowerCase().split(/[-_]/)[0];
  return RUSSIAN_READERS.includes(base) ? 'ru' : 'en';
}

// languageCodeOf reads the user's language_code from raw initData.
export function languageCodeOf(initData) {
  try {
    const user = JSON.parse(new URLSearchParams(initData || '').get('user') || '{}');
    return typeof user.language_code === 'string' ? user.language_code : '';
  } catch {
    return '';
  }
}

const en = {
  'app.shop': 'Shop',
  'app.loading': 'Loading…',
  'app.try_again': 'Try again',
  'app.open_in_telegram': 'Open the shop in Telegram',
  'app.open_in_telegram_text': 'This shop is a Telegram Mini App: open it from the bot’s menu button or a link in Telegram.',
  'app.session_expired': 'Session expired',
  'app.session_expired_text': 'Close the shop and open it again from Telegram.',
  'app.unavailable': 'The shop is unavailable',
  'app.unavailable_text': 'Try again in a moment.',
  'app.failed': 'Something went wrong',
  'app.failed_text': 'Reload the shop to try again.',
  'app.no_connection': 'No connection. Check the network and try again.',
  'app.server_error': 'The shop answered {status}. Try again.',
  'app.error': 'Something went wrong.',

  'common.back': 'Back',
  'common.cart': 'Cart',
  'common.cart_items': 'Cart, {items}',
  'common.one_less': 'One less',
  'common.one_more': 'One more',
  'common.remove': 'Remove',
  'common.cart_full': 'The cart is full.',
  'common.pieces.one': '{n} pc',
  'common.pieces.other': '{n} pcs',
  'common.items.one': '{n} item',
  'common.items.other': '{n} items',

  'home.search': 'Search products',

  'feed.loading': 'Loading…',
  'feed.empty': 'No products yet.',
  'feed.more': 'Show more',
  'feed.out_of_stock': 'Out of stock',
  'feed.quick_add': 'Add {name} to the cart',
  'feed.added': 'Added: {name}',

  'search.placeholder': 'Search products',
  'search.clear': 'Clear',
  'search.none': 'Nothing found for “{q}”.',
  'search.hint': 'Type a product name or a word from its description.',

  'product.add': 'Add to cart',
  'product.in_cart': 'In the cart',
  'product.go_to_cart': 'Go to cart · {total}',
  'product.in_stock': 'In stock',
  'product.out_of_stock': 'Out of stock',
  'product.gone': 'This product is no longer available.',
  'product.back_to_shop': 'Back to the shop',

  'cart.title': 'Cart',
  'cart.empty': 'Your cart is empty.',
  'cart.go_shopping': 'Go shopping',
  'cart.total': 'Total',

  'checkout.order': 'Order',
  'checkout.not_placed': 'The order was not placed. Try again.',
  'checkout.form_failed': 'The checkout form could not be loaded.',
  'checkout.choose': 'Choose…',
  'checkout.field_refused': '{label}: the shop did not accept this value.',

  'consent.welcome': 'Welcome',
  'consent.policy': 'Privacy policy',
  'consent.failed': 'Could not save your consent. Try again.',

  'success.thanks': 'Thank you!',
  'success.order': 'Order {id} is placed.',
  'success.placed': 'Your order is placed.',
  'success.placed_at': 'Placed {date}.',
  'success.continue': 'Continue shopping',

  'error.out_of_stock': '{name} is out of stock. Remove it from the cart to place the order.',
  'error.out_of_stock_unnamed': 'A product in your cart is out of stock. Remove it from the cart to place the order.',
  'error.unknown_product': '{name} is no longer sold. Remove it from the cart to place the order.',
  'error.unknown_product_unnamed': 'A product in your cart is no longer sold. Remove it from the cart to place the order.',
  'error.mixed_currencies': 'These products are priced in different currencies and cannot be ordered together.',
  'error.catalog_unavailable': 'The catalog is unavailable right now. Try again in a moment.',
  'error.order_not_placed': 'The shop could not place the order; nothing was saved. Try again.',
  'error.validation_failed': 'Check the form: the shop did not accept some of it.',
  'error.invalid_request': 'The shop could not read the request. Reload the shop and try again.',
  'error.too_large': 'Too much to send at once. Shorten your answers and try again.',
  'error.not_found': 'Not found.',
  'error.rate_limited': 'Too many requests. Wait a moment and try again.',
  'error.unavailable': 'The shop is unavailable right now. Try again in a moment.',
  'error.internal': 'Something went wrong on the shop’s side. Try again.',
  'error.session_expired': 'Your session has expired. Close the shop and open it again from Telegram.',
};

const ru = {
  'app.shop': 'Магазин',
  'app.loading': 'Загрузка…',
  'app.try_again': 'Повторить',
  'app.open_in_telegram': 'Откройте магазин в Telegram',
  'app.open_in_telegram_text': 'Этот магазин — мини-приложение Telegram: откройте его кнопкой меню бота или по ссылке в Telegram.',
  'app.session_expired': 'Сеанс истёк',
  'app.session_expired_text': 'Закройте магазин и откройте его снова из Telegram.',
  'app.unavailable': 'Магазин недоступен',
  'app.unavailable_text': 'Попробуйте ещё раз через минуту.',
  'app.failed': 'Что-то пошло не так',
  'app.failed_text': 'Перезагрузите магазин и попробуйте снова.',
  'app.no_connection': 'Нет соединения. Проверьте сеть и попробуйте снова.',
  'app.server_error': 'Магазин ответил {status}. Попробуйте снова.',
  'app.error': 'Что-то пошло не так.',

  'common.back': 'Назад',
  'common.cart': 'Корзина',
  'common.cart_items': 'Корзина, {items}',
  'common.one_less': 'На одну меньше',
  'common.one_more': 'Ещё одну',
  'common.remove': 'Убрать',
  'common.cart_full': 'Корзина заполнена.',
  'common.pieces.one': '{n} шт.',
  'common.pieces.few': '{n} шт.',
  'common.pieces.many': '{n} шт.',
  'common.pieces.other': '{n} шт.',
  'common.items.one': '{n} товар',
  'common.items.few': '{n} товара',
  'common.items.many': '{n} товаров',
  'common.items.other': '{n} товара',

  'home.search': 'Поиск товаров',

  'feed.loading': 'Загрузка…',
  'feed.empty': 'Товаров пока нет.',
  'feed.more': 'Показать ещё',
  'feed.out_of_stock': 'Нет в наличии',
  'feed.quick_add': 'Добавить «{name}» в корзину',
  'feed.added': 'Добавлено: {name}',

  'search.placeholder': 'Поиск товаров',
  'search.clear': 'Очистить',
  'search.none': 'По запросу «{q}» ничего не нашлось.',
  'search.hint': 'Введите название товара или слово из описания.',

  'product.add': 'В корзину',
  'product.in_cart': 'В корзине',
  'product.go_to_cart': 'Перейти в корзину · {total}',
  'product.in_stock': 'В наличии',
  'product.out_of_stock': 'Нет в наличии',
  'product.gone': 'Этого товара больше нет в продаже.',
  'product.back_to_shop': 'Вернуться в магазин',

  'cart.title': 'Корзина',
  'cart.empty': 'В корзине пусто.',
  'cart.go_shopping': 'За покупками',
  'cart.total': 'Итого',

  'checkout.order': 'Заказ',
  'checkout.not_placed': 'Заказ не оформлен. Попробуйте снова.',
  'checkout.form_failed': 'Не удалось загрузить форму заказа.',
  'checkout.choose': 'Выберите…',
  'checkout.field_refused': '«{label}»: магазин не принял это значение.',

  'consent.welcome': 'Добро пожаловать',
  'consent.policy': 'Политика конфиденциальности',
  'consent.failed': 'Не удалось сохранить согласие. Попробуйте снова.',

  'success.thanks': 'Спасибо!',
  'success.order': 'Заказ {id} оформлен.',
  'success.placed': 'Ваш заказ оформлен.',
  'success.placed_at': 'Оформлен {date}.',
  'success.continue': 'Продолжить покупки',

  'error.out_of_stock': 'Товара «{name}» нет в наличии. Уберите его из корзины, чтобы оформить заказ.',
  'error.out_of_stock_unnamed': 'Одного из товаров в корзине нет в наличии. Уберите его из корзины, чтобы оформить заказ.',
  'error.unknown_product': 'Товар «{name}» больше не продаётся. Уберите его из корзины, чтобы оформить заказ.',
  'error.unknown_product_unnamed': 'Один из товаров в корзине больше не продаётся. Уберите его из корзины, чтобы оформить заказ.',
  'error.mixed_currencies': 'Цены этих товаров указаны в разных валютах: их нельзя заказать вместе.',
  'error.catalog_unavailable': 'Каталог сейчас недоступен. Попробуйте ещё раз через минуту.',
  'error.order_not_placed': 'Магазин не смог оформить заказ, ничего не сохранено. Попробуйте снова.',
  'error.validation_failed': 'Проверьте форму: магазин принял не всё.',
  'error.invalid_request': 'Магазин не смог прочитать запрос. Перезагрузите магазин и попробуйте снова.',
  'error.too_large': 'Слишком много данных за раз. Сократите ответы и попробуйте снова.',
  'error.not_found': 'Не найдено.',
  'error.rate_limited': 'Слишком много запросов. Подождите немного и попробуйте снова.',
  'error.unavailable': 'Магазин сейчас недоступен. Попробуйте ещё раз через минуту.',
  'error.internal': 'В магазине что-то пошло не так. Попробуйте снова.',
  'error.session_expired': 'Сеанс истёк. Закройте магазин и откройте его снова из Telegram.',
};

// STRINGS holds every storefront string by language; the browser test
// compares the Russian screens against STRINGS.en.
export const STRINGS = { en, ru };

let lang = 'en';
let shop = {};

// setLanguage picks the storefront language for a Telegram language_code
// and marks the page with it.
export function setLanguage(code) {
  lang = languageFor(code);
  document.documentElement.lang = lang;
  return lang;
}

export function language() {
  return lang;
}

function fill(s, vars) {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// t returns the string for key in the buyer's language (English when the
// language lacks it), {name} filled from vars.
export function t(key, vars) {
  return fill(STRINGS[lang][key] ?? en[key] ?? key, vars);
}

// tn picks key's plural form for n by the language's plural rules
// ("common.items.few"), with {n} formatted.
export function tn(key, n, vars = {}) {
  const form = new Intl.PluralRules(lang).select(n);
  const dict = STRINGS[lang];
  const k = `${key}.${form}` in dict ? `${key}.${form}` : `${key}.other`;
  return t(k, { ...vars, n: formatNumber(n) });
}

// ERROR_KEYS words the API's error codes (the server's messages are
// English). out_of_stock and unknown_product name their product.
const ERROR_KEYS = {
  network: 'app.no_connection',
  invalid_init_data: 'error.session_expired',
  mixed_currencies: 'error.mixed_currencies',
  catalog_unavailable: 'error.catalog_unavailable',
  order_not_placed: 'error.order_not_placed',
  validation_failed: 'error.validation_failed',
  invalid_order: 'error.invalid_request',
  bad_request: 'error.invalid_request',
  invalid_alias: 'error.invalid_request',
  unsupported_media_type: 'error.invalid_request',
  method_not_allowed: 'error.invalid_request',
  body_too_large: 'error.too_large',
  too_large: 'error.too_large',
  not_found: 'error.not_found',
  product_not_found: 'product.gone',
  rate_limited: 'error.rate_limited',
  unavailable: 'error.unavailable',
  internal: 'error.internal',
};

// ERROR_CODES lists the codes errorText words; the browser test checks
// each in both languages.
export const ERROR_CODES = [...Object.keys(ERROR_KEYS), 'out_of_stock', 'unknown_product'];

// errorText is what the buyer is told of an API error (an ApiError's
// status, code, message and details), in the buyer's language: chosen by
// its code, with the product's name where the error has one (from its
// details, or names, product id → name, such as the cart's). A code the
// storefront has no words for, such as a host's own verdict from its order
// placer, keeps the server's message, the host's words; without one, the
// text of fallback.
export function errorText(err, fallback = 'app.error', names = {}) {
  if (!err || typeof err !== 'object') return t(fallback);
  const code = typeof err.code === 'string' ? err.code : '';
  if (!code) return t(fallback); // not an API error: a script's, in English
  const d = err.details && typeof err.details === 'object' ? err.details : {};
  const id = typeof d.product_id === 'string' ? d.product_id : '';
  const name = (typeof d.product_name === 'string' && d.product_name) || (id && typeof names[id] === 'string' ? names[id] : '');
  if (code === 'out_of_stock' || code === 'unknown_product') {
    return name ? t(`error.${code}`, { name }) : t(`error.${code}_unnamed`);
  }
  if (ERROR_KEYS[code]) return t(ERROR_KEYS[code]);
  const http = /^http_(\d+)$/.exec(code);
  if (http) return t('app.server_error', { status: http[1] });
  return (typeof err.message === 'string' && err.message) || t(fallback);
}

// setShopTexts keeps the shop's texts of GET /api/settings ({lang: {…}}).
export function setShopTexts(texts) {
  shop = texts && typeof texts === 'object' ? texts : {};
}

// shopText returns the shop's text named key (such as "checkout_title")
// in the buyer's language, or ''.
export function shopText(key) {
  const v = (shop[lang] || shop.en || {})[key];
  return typeof v === 'string' ? v : '';
}

// translated returns map's text for the buyer's language, else base: the
// schema's labels and the blocks' titles.
export function translated(base, map) {
  const v = map && typeof map === 'object' ? map[lang] : undefined;
  return typeof v === 'string' && v.trim() ? v : base;
}

// localizeNodes returns a copy of FormKit nodes with label, placeholder,
// help and option labels in the buyer's language where the schema gives
// them, so the form renders (and names fields in messages) in it.
export function localizeNodes(nodes) {
  return (nodes || []).map((n) => {
    if (!n || typeof n !== 'object') return n;
    const out = { ...n };
    out.label = translated(n.label, n.labels);
    out.placeholder = translated(n.placeholder, n.placeholders);
    out.help = translated(n.help, n.helps);
    const optionLabels = n.option_labels && typeof n.option_labels === 'object' ? n.option_labels[lang] : null;
    if (optionLabels && typeof optionLabels === 'object' && n.options) {
      const relabel = (value, label) => (typeof optionLabels[value] === 'string' && optionLabels[value].trim() ? optionLabels[value] : label);
      if (Array.isArray(n.options)) {
        out.options = n.options.map((o) => {
          if (typeof o === 'string') return { label: relabel(o, o), value: o };
          if (o && typeof o === 'object' && 'value' in o) return { ...o, label: relabel(String(o.value), o.label) };
          return o;
        });
      } else {
        out.options = Object.fromEntries(Object.entries(n.options).map(([v, l]) => [v, relabel(v, l)]));
      }
    }
    return out;
  });
}

export function formatNumber(n, opts) {
  return new Intl.NumberFormat(lang, opts).format(n);
}

// formatDate formats a Date or a YYYY-MM-DD string (as a calendar day).
export function formatDate(d, opts = { dateStyle: 'long' }) {
  if (typeof d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d)) {
    return new Intl.DateTimeFormat(lang, { ...opts, timeZone: 'UTC' }).format(new Date(d + 'T00:00:00Z'));
  }
  return new Intl.DateTimeFormat(lang, opts).format(d instanceof Date ? d : new Date(d));
}

// Minor units per currency, as the server's FormatPrice has them.
const MINOR_DIGITS = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0,
  PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

// formatPrice formats an amount in minor units in the buyer's language:
// "1 234,50 ₽" in Russian, "₽1,234.50" in English.
export function formatPrice(minor, currency) {
  const cur = /^[A-Za-z]{3}$/.test(currency || '') ? currency.toUpperCase() : 'RUB';
  const digits = MINOR_DIGITS[cur] ?? 2;
  const amount = (Number(minor) || 0) / 10 ** digits;
  try {
    return new Intl.NumberFormat(lang, {
      style: 'currency', currency: cur, currencyDisplay: 'narrowSymbol', minimumFractionDigits: digits, maximumFractionDigits: digits,
    }).format(amount);
  } catch {
    return `${formatNumber(amount, { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${cur}`;
  }
}

const ruChars = (n) => tn('rules.chars', n);

// ruList joins quoted words: «a», «b» или «c».
const ruList = (items) => {
  const q = items.map((x) => `«${x}»`);
  return q.length < 2 ? q.join('') : `${q.slice(0, -1).join(', ')} или ${q[q.length - 1]}`;
};

// ruFormat writes a date_format format with Russian letters: ДД.ММ.ГГГГ.
const ruFormat = (f) => f.replace(/YYYY|YY|MM|M|DD|D/g, (m) => ({ YYYY: 'ГГГГ', YY: 'ГГ', MM: 'ММ', M: 'М', DD: 'ДД', D: 'Д' })[m]);

// ruEnd ends a sentence with a full stop, unless it ends with one already
// (a date: «1 января 2024 г.»).
const ruEnd = (s) => (s.endsWith('.') ? s : `${s}.`);

// ruCase names what lowercase and uppercase allow in their set.
const ruCase = (r) => {
  const kind = r.name === 'lowercase' ? 'строчные ' : 'заглавные ';
  const letters = `${kind}${r.set === 'latin' ? 'латинские ' : ''}буквы`;
  if (r.set === 'allow_numeric') return `${letters} и цифры`;
  if (r.set === 'allow_numeric_dashes') return `${letters}, цифры и дефисы`;
  if (r.set === 'allow_non_alpha') return `${letters}, цифры и знаки`;
  return letters;
};

// Russian validation messages, by rule, with the rule's own arguments
// (bounds, dates, formats) written the Russian way; forms.js keeps the
// English ones, which match the server's word for word. labels holds
// require_one's fields' labels, this field's first, or the label of the
// field confirm compares with.
const RU_RULES = {
  required: (r, l) => `Заполните поле «${l}».`,
  require_one: (r, l, labels) => (labels && labels.length > 1
    ? `Заполните одно из полей: ${ruList(labels)}.`
    : `Заполните поле «${l}».`),
  accepted: (r, l) => `Нужно согласие: «${l}».`,
  email: (r, l) => `«${l}»: введите правильный адрес эл. почты.`,
  url: (r, l) => `«${l}»: введите правильный адрес сайта.`,
  length: (r, l) => {
    if (r.lenMax < 0) return `«${l}»: не короче ${ruChars(r.lenMin)}.`;
    if (r.lenMin === r.lenMax) return `«${l}»: ровно ${tn('rules.chars_exact', r.lenMax)}.`;
    if (r.lenMin === 0) return `«${l}»: не длиннее ${ruChars(r.lenMax)}.`;
    return `«${l}»: от ${formatNumber(r.lenMin)} до ${ruChars(r.lenMax)}.`;
  },
  min: (r, l) => `«${l}»: не меньше ${formatNumber(r.num)}.`,
  max: (r, l) => `«${l}»: не больше ${formatNumber(r.num)}.`,
  between: (r, l) => `«${l}»: число от ${formatNumber(r.num)} до ${formatNumber(r.numMax)}.`,
  number: (r, l) => `«${l}»: введите число.`,
  matches: (r, l) => `«${l}»: неверный формат.`,
  starts_with: (r, l) => `«${l}»: значение должно начинаться с ${ruList(r.args)}.`,
  ends_with: (r, l) => `«${l}»: значение должно заканчиваться на ${ruList(r.args)}.`,
  alpha: (r, l) => `«${l}»: только ${r.set === 'latin' ? 'латинские ' : ''}буквы.`,
  alphanumeric: (r, l) => `«${l}»: только ${r.set === 'latin' ? 'латинские ' : ''}буквы и цифры.`,
  alpha_spaces: (r, l) => `«${l}»: только ${r.set === 'latin' ? 'латинские ' : ''}буквы и пробелы.`,
  contains_alpha: (r, l) => `«${l}»: нужна хотя бы одна ${r.set === 'latin' ? 'латинская ' : ''}буква.`,
  contains_alphanumeric: (r, l) => `«${l}»: нужна хотя бы одна ${r.set === 'latin' ? 'латинская ' : ''}буква или цифра.`,
  contains_alpha_spaces: (r, l) => `«${l}»: нужна хотя бы одна ${r.set === 'latin' ? 'латинская ' : ''}буква или пробел.`,
  contains_lowercase: (r, l) => `«${l}»: нужна хотя бы одна строчная ${r.set === 'latin' ? 'латинская ' : ''}буква.`,
  contains_uppercase: (r, l) => `«${l}»: нужна хотя бы одна заглавная ${r.set === 'latin' ? 'латинская ' : ''}буква.`,
  contains_numeric: (r, l) => `«${l}»: нужна хотя бы одна цифра.`,
  contains_symbol: (r, l) => `«${l}»: нужен хотя бы один знак, например ! # % или -.`,
  lowercase: (r, l) => `«${l}»: только ${ruCase(r)}.`,
  uppercase: (r, l) => `«${l}»: только ${ruCase(r)}.`,
  symbol: (r, l) => `«${l}»: только знаки, например ! # % или -.`,
  date_after: (r, l) => (r.dates.length
    ? ruEnd(`«${l}»: дата позже ${formatDate(r.args[0])}`)
    : `«${l}»: дата позже сегодняшней.`),
  date_before: (r, l) => (r.dates.length
    ? ruEnd(`«${l}»: дата раньше ${formatDate(r.args[0])}`)
    : `«${l}»: сегодняшняя или более ранняя дата.`),
  date_between: (r, l) => (r.dates.length === 1
    ? ruEnd(`«${l}»: дата позже сегодняшней, но не позже ${formatDate(r.args[0])}`)
    : ruEnd(`«${l}»: дата с ${formatDate(r.args[0])} по ${formatDate(r.args[1])}`)),
  date_format: (r, l) => `«${l}»: дата в формате ${ruFormat(r.args[0])}.`,
  confirm: (r, l, labels) => `«${l}»: не совпадает с полем «${(labels && labels[0]) || ''}».`,
  in: (r, l) => `«${l}»: недопустимое значение.`,
  is: (r, l) => `«${l}»: недопустимое значение.`,
  not: (r, l) => `«${l}»: недопустимое значение.`,
};
Object.assign(ru, {
  'rules.chars.one': '{n} символа',
  'rules.chars.few': '{n} символов',
  'rules.chars.many': '{n} символов',
  'rules.chars.other': '{n} символа',
  'rules.chars_exact.one': '{n} символ',
  'rules.chars_exact.few': '{n} символа',
  'rules.chars_exact.many': '{n} символов',
  'rules.chars_exact.other': '{n} символа',
});

// ruleMessage returns the message for rule r failing on the field labelled
// label in the buyer's language, or '' where forms.js's English stands.
// labels are require_one's fields' labels or confirm's other field's.
export function ruleMessage(r, label, labels) {
  if (lang !== 'ru') return '';
  const fn = RU_RULES[r && r.name];
  return fn ? fn(r, label, labels) : `«${label}»: неверное значение.`;
}

// Russian for the problems forms.js finds before the rules run.
const RU_PROBLEMS = [
  [/^must be a number$/, () => 'введите число'],
  [/^must be true or false$/, () => 'отметьте или снимите флажок'],
  [/^must be one of the available options$/, () => 'выберите один из вариантов'],
  [/^must be a valid date/, () => 'введите дату'],
  [/^must be text$/, () => 'введите текст'],
  [/^contains invalid characters$/, () => 'недопустимые символы'],
  [/^must be at most (\d+) characters$/, (m) => `не длиннее ${ruChars(+m[1])}`],
  [/^cannot be validated$/, () => 'проверить нельзя'],
  [/^unknown field$/, () => 'такого поля в форме нет'],
];

// problemMessage returns a value problem ("must be a number") as a message
// in the buyer's language, or '' where forms.js's English stands.
export function problemMessage(problem, label) {
  if (lang !== 'ru') return '';
  for (const [re, fn] of RU_PROBLEMS) {
    const m = re.exec(problem);
    if (m) return `«${label}»: ${fn(m)}.`;
  }
  return '';
}
