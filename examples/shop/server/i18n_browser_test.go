package server_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

// Browser tests of the storefront's languages: a buyer whose Telegram
// language_code is ru sees no English string of the storefront's string
// table, the shop's default texts or the checkout form's labels on any
// screen; one whose language is de sees English.

// i18nShopText collects the text a buyer sees: visible text nodes,
// placeholders, accessible labels, the select's options, Telegram's main
// button and the title. The host's own data (product names, descriptions,
// attributes, the shop's name) is left out: it is in the host's language.
const i18nShopText = `(() => {
  const skip = '[data-testid=product-name], [data-testid=product-title], .product-desc, .attrs, .cart-item-name, [data-testid=shop-name], img';
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walk.nextNode());) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || el.closest('[hidden]') || !el.checkVisibility()) continue;
    if (n.textContent.trim()) out.push(n.textContent.trim());
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], select option')) {
    if (el.closest(skip) || el.closest('[hidden]')) continue;
    if (el.tagName === 'OPTION') out.push(el.textContent);
    if (el.getAttribute('placeholder')) out.push(el.getAttribute('placeholder'));
    if (el.getAttribute('aria-label')) out.push(el.getAttribute('aria-label'));
  }
  const mb = Telegram.WebApp.MainButton;
  if (mb.isVisible) out.push(mb.text);
  out.push(document.title);
  return out.join('\n');
})()`

var i18nVar = regexp.MustCompile(`\{\w+\}`)

// i18nPhrases splits texts at their {vars} and keeps the pieces that hold
// a word of English (three Latin letters or more).
func i18nPhrases(texts []string) []string {
	word := regexp.MustCompile(`[A-Za-z]{3,}`)
	var out []string
	for _, s := range texts {
		for _, p := range i18nVar.Split(s, -1) {
			p = strings.TrimSpace(p)
			if word.MatchString(p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// i18nEnglishPhrases is what a Russian screen must not show: the phrases
// of the storefront's English string table, the shop's default English
// texts and the default checkout form's English labels.
func i18nEnglishPhrases(t *testing.T, ctx context.Context) []string {
	t.Helper()
	table := appEval[[]string](t, ctx, `import('./js/i18n.js').then((m) => Object.values(m.STRINGS.en))`)
	if len(table) < 50 {
		t.Fatalf("the English string table has %d strings", len(table))
	}
	english := append([]string(nil), table...)
	en := telecart.DefaultStorefrontTexts("en")
	english = append(english, en.Greeting, en.ConsentText, en.ConsentButton, en.CheckoutTitle, en.CheckoutButton,
		en.PlaceOrderButton, en.SuccessText, telecart.DefaultProductsFeed().Title)
	for _, n := range forms.DefaultCheckout().Schema {
		english = append(english, n.Label, n.Placeholder, n.Help)
		for _, o := range n.Options {
			english = append(english, o.Label)
		}
	}
	return i18nPhrases(english)
}

// i18nInitData signs initData for a user with a language_code.
func (a *appServer) i18nInitData(t *testing.T, userID int64, lang string) (initData, startParam string) {
	t.Helper()
	sp, err := a.s.TeleCart.StartParams().Encode(pulse.StartParam{CampaignID: "test", Source: "tg"})
	if err != nil {
		t.Fatal(err)
	}
	initData = telegram.SignInitData(a.s.Config.BotToken, telegram.SignParams{
		User:       &telegram.User{ID: userID, FirstName: "Browser", LanguageCode: lang, AllowsWriteToPM: true},
		StartParam: sp,
	}, time.Now())
	return initData, sp
}

// i18nProductNames lists every product name, to cut from the seen text.
func (a *appServer) i18nProductNames(t *testing.T, initData string) []string {
	t.Helper()
	var names []string
	for page := 1; ; page++ {
		var res struct {
			Data []struct {
				Name string `json:"name"`
			} `json:"data"`
			Meta struct {
				Pages int `json:"pages"`
			} `json:"meta"`
		}
		call(t, "GET", fmt.Sprintf("%s/api/products?per_page=50&page=%d", a.url, page), initData, "", nil, http.StatusOK, &res)
		for _, p := range res.Data {
			names = append(names, p.Name)
		}
		if page >= res.Meta.Pages {
			return names
		}
	}
}

// Ensure a buyer whose Telegram language is Russian meets no English on
// the consent, feed, product, cart, checkout (its messages included) and
// success screens, and sees Russian numbers.
func TestAppRussian(t *testing.T) {
	a := appStart(t, nil)
	a.appUpdateSettings(t, func(m map[string]any) { m["privacy_policy_link"] = "https://example.com/privacy" })
	const userID = 4301
	initData, sp := a.i18nInitData(t, userID, "ru")
	var settings struct {
		ShopName string `json:"shop_name"`
	}
	call(t, "GET", a.url+"/api/settings", initData, "", nil, http.StatusOK, &settings)
	// The shop's name and the products' are the host's words, not the
	// storefront's.
	names := append(a.i18nProductNames(t, initData), settings.ShopName)
	ctx := appBrowser(t, appFakeScript(t, appFake{InitData: initData, StartParam: sp, UserID: userID}))

	appOpen(t, ctx, a.url)
	phrases := i18nEnglishPhrases(t, ctx)

	check := func(screen string, want ...string) {
		t.Helper()
		seen := appEval[string](t, ctx, i18nShopText)
		for _, name := range names {
			seen = strings.ReplaceAll(seen, name, "")
		}
		for _, p := range phrases {
			if strings.Contains(seen, p) {
				t.Errorf("%s: English %q shown in:\n%s", screen, p, seen)
			}
		}
		for _, w := range want {
			if !strings.Contains(seen, w) {
				t.Errorf("%s: %q not shown in:\n%s", screen, w, seen)
			}
		}
		browsertest.Screenshot(t, ctx, "ru_"+screen)
	}
	if lang := appEval[string](t, ctx, `document.documentElement.lang`); lang != "ru" {
		t.Errorf("html lang = %q", lang)
	}

	appWait(t, ctx, "the consent prompt", `document.querySelector('[data-testid=consent]') !== null`)
	ru := telecart.DefaultStorefrontTexts("ru")
	check("consent", ru.ConsentText, ru.ConsentButton, "Политика конфиденциальности")
	appClick(t, ctx, `[data-testid=consent-accept]`)

	appWait(t, ctx, "the feed", `document.querySelectorAll('[data-testid=product-card]').length > 0`)
	check("feed", "Товары", "Поиск товаров")

	appClick(t, ctx, `[data-testid=product-card][data-product-id=p1]`)
	appWait(t, ctx, "the product page", `document.querySelector('[data-testid=product-title]') !== null`)
	check("product", "В корзину", "890,00\u00a0₽")
	appClick(t, ctx, `[data-testid=add-to-cart]`)
	appWait(t, ctx, "the stepper", `document.querySelector('[data-testid=product-stepper]') !== null`)
	check("product_in_cart", "В корзине", "Перейти в корзину · 890,00\u00a0₽")

	appEval[int](t, ctx, `Telegram.WebApp.MainButton.__click(), 0`)
	appWait(t, ctx, "the cart", `document.querySelectorAll('[data-testid=cart-item]').length === 1`)
	appClick(t, ctx, `[data-testid=cart-item] [data-testid=qty-inc]`)
	appWait(t, ctx, "quantity 2", `document.querySelector('[data-testid=cart-item] [data-testid=qty]').textContent === '2'`)
	check("cart", "Корзина", "Итого", "2 шт.", "Оформить заказ · 1\u00a0780,00\u00a0₽")

	appEval[int](t, ctx, `Telegram.WebApp.MainButton.__click(), 0`)
	appWait(t, ctx, "the checkout form", `document.querySelector('[data-testid=field-name]') !== null && Telegram.WebApp.MainButton.isVisible`)
	check("checkout", "Оформление заказа", "Имя", "Ваше имя", "Доставка", "Курьер", "Самовывоз", "Необязательно; пришлём сюда чек.",
		"Подтвердить заказ · 1\u00a0780,00\u00a0₽")
	// The form's messages, from an empty submit and a short name.
	appEval[int](t, ctx, `Telegram.WebApp.MainButton.__click(), 0`)
	appWait(t, ctx, "the required messages", `!document.querySelector('[data-testid=error-name]').hidden`)
	check("checkout_required", "Заполните поле «Имя».", "Заполните поле «Телефон».")
	appDo(t, ctx, "typing a short name", chromedp.SendKeys(chromedp.CSS(`[data-testid=field-name]`), "Я"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-phone]`), "12ab5"))
	appWait(t, ctx, "live messages", `document.querySelector('[data-testid=error-name]').textContent.includes('64')`)
	check("checkout_errors", "«Имя»: от 2 до 64 символов.", "«Телефон»: неверный формат.")

	appEval[int](t, ctx, `['name', 'phone'].forEach((n) => { document.querySelector('[data-testid=field-' + n + ']').value = ''; }), 0`)
	appDo(t, ctx, "filling the form",
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-name]`), "Борис"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-phone]`), "+7 900 000-00-00"))
	appWait(t, ctx, "no messages", `[...document.querySelectorAll('[data-testid^=error-]')].every((e) => e.hidden)`)
	appEval[int](t, ctx, `Telegram.WebApp.MainButton.__click(), 0`)
	appWait(t, ctx, "the success page", `document.querySelector('[data-testid=success-page]') !== null`)
	month := []string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}[time.Now().Month()-1]
	check("success", "Спасибо!", "оформлен", "1\u00a0780,00\u00a0₽", month, ru.SuccessText, "Продолжить покупки")

	// The host hears the order in the form's own words.
	orders, err := a.s.Orders.List(t.Context(), 10)
	if err != nil || len(orders) != 1 {
		t.Fatalf("orders %+v, %v", orders, err)
	}
	if !strings.Contains(orders[0].Comment, "Delivery: Courier") {
		t.Errorf("the host's comment %q", orders[0].Comment)
	}
}

// Ensure a buyer whose Telegram language the storefront does not speak
// (de) gets English: the strings, the shop's texts, the form's labels and
// English numbers, with no Russian anywhere, from consent through the feed,
// the product, the cart and checkout to the success screen.
func TestAppEnglishFallback(t *testing.T) {
	a := appStart(t, nil)
	a.appUpdateSettings(t, func(m map[string]any) { m["privacy_policy_link"] = "https://example.com/privacy" })
	const userID = 4302
	initData, sp := a.i18nInitData(t, userID, "de")
	ctx := appBrowser(t, appFakeScript(t, appFake{InitData: initData, StartParam: sp, UserID: userID}))
	appOpen(t, ctx, a.url)
	cyrillic := regexp.MustCompile(`\p{Cyrillic}`)
	check := func(screen string, want ...string) {
		t.Helper()
		seen := appEval[string](t, ctx, i18nShopText)
		if m := cyrillic.FindString(seen); m != "" {
			t.Errorf("%s: Russian shown in:\n%s", screen, seen)
		}
		for _, w := range want {
			if !strings.Contains(seen, w) {
				t.Errorf("%s: %q not shown in:\n%s", screen, w, seen)
			}
		}
	}
	if lang := appEval[string](t, ctx, `document.documentElement.lang`); lang != "en" {
		t.Errorf("html lang = %q", lang)
	}
	en := telecart.DefaultStorefrontTexts("en")
	appWait(t, ctx, "the consent prompt", `document.querySelector('[data-testid=consent]') !== null`)
	check("consent", en.ConsentText, en.ConsentButton, "Privacy policy")
	appClick(t, ctx, `[data-testid=consent-accept]`)
	appWait(t, ctx, "the feed", `document.querySelectorAll('[data-testid=product-card]').length > 0`)
	check("feed", "Products", "Search products")
	appClick(t, ctx, `[data-testid=product-card][data-product-id=p1]`)
	appWait(t, ctx, "the product page", `document.querySelector('[data-testid=product-title]') !== null`)
	check("product", "Add to cart", "₽890.00")
	appClick(t, ctx, `[data-testid=add-to-cart]`)
	appWait(t, ctx, "the stepper", `document.querySelector('[data-testid=product-stepper]') !== null`)
	appDo(t, ctx, "opening the cart", chromedp.Navigate(a.url+"/app/#/cart"))
	appWait(t, ctx, "the cart", `document.querySelectorAll('[data-testid=cart-item]').length === 1`)
	check("cart", "Cart", "Total", "1 pc", "Checkout · ₽890.00")
	appEval[int](t, ctx, `Telegram.WebApp.MainButton.__click(), 0`)
	appWait(t, ctx, "the checkout form", `document.querySelector('[data-testid=field-name]') !== null && Telegram.WebApp.MainButton.isVisible`)
	check("checkout", "Checkout", "Name", "Your name", "Delivery", "Courier", "Place order · ₽890.00")
	appDo(t, ctx, "filling the form",
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-name]`), "Berta"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-phone]`), "+49 30 1234567"))
	appWait(t, ctx, "no messages", `[...document.querySelectorAll('[data-testid^=error-]')].every((e) => e.hidden)`)
	appEval[int](t, ctx, `Telegram.WebApp.MainButton.__click(), 0`)
	appWait(t, ctx, "the success page", `document.querySelector('[data-testid=success-page]') !== null`)
	check("success", "₽890.00", time.Now().Month().String(), en.SuccessText, "Thank you")
}

// Ensure the storefront's language follows the buyer's Telegram
// language_code: Russian for ru, uk, be and kk in any region (ru-RU, UK),
// English for de and for a user without a language_code, even where the
// browser's own language is Russian. Each code opens the page afresh, as a
// launch from Telegram does.
func TestAppLanguageCodes(t *testing.T) {
	a := appStart(t, nil)
	const userID = 4303
	initData, sp := a.i18nInitData(t, userID, "en")
	// The page reads the initData of the launch from sessionStorage when
	// the test puts one there, after the fake Telegram script has run; the
	// browser's languages are Russian.
	script := appFakeScript(t, appFake{InitData: initData, StartParam: sp, UserID: userID}) + `
(() => {
  Object.defineProperty(navigator, 'language', { get: () => 'ru-RU' });
  Object.defineProperty(navigator, 'languages', { get: () => ['ru-RU', 'ru'] });
  const launch = sessionStorage.getItem('test.init_data');
  if (launch !== null) Telegram.WebApp.initData = launch;
})();`
	ctx := appBrowser(t, script)
	appOpen(t, ctx, a.url)
	for _, c := range []struct{ code, want, search string }{
		{"uk", "ru", "Поиск товаров"},
		{"be", "ru", "Поиск товаров"},
		{"kk", "ru", "Поиск товаров"},
		{"ru-RU", "ru", "Поиск товаров"},
		{"UK", "ru", "Поиск товаров"},
		{"de", "en", "Search products"},
		{"", "en", "Search products"},
	} {
		launch, _ := a.i18nInitData(t, userID, c.code)
		if c.code == "" && strings.Contains(launch, "language_code") {
			t.Fatalf("the initData for no language has one: %s", launch)
		}
		appEval[int](t, ctx, `sessionStorage.setItem('test.init_data', `+appJSON(t, launch)+`), 0`)
		appOpen(t, ctx, a.url)
		if got := appEval[string](t, ctx, `document.documentElement.lang`); got != c.want {
			t.Errorf("language_code %q: the page speaks %q, want %q", c.code, got, c.want)
		}
		appWait(t, ctx, "the home page", `document.querySelector('[data-testid=open-search]') !== null`)
		if got := appEval[string](t, ctx, `document.querySelector('[data-testid=open-search]').textContent`); got != c.search {
			t.Errorf("language_code %q: the search button says %q, want %q", c.code, got, c.search)
		}
	}
}

// Ensure a Russian buyer reads the server's refusals in Russian: an
// out-of-stock product is named in a Russian sentence, and fields the
// server refuses after the form changed under the open page get the
// page's Russian message (the form is loaded again) or, where the page
// cannot check the rule, a Russian refusal; no English phrase shows and no
// order is placed. Every error code the storefront words has its text in
// both languages.
func TestAppRussianServerErrors(t *testing.T) {
	a := appStart(t, nil)
	const userID = 4304
	initData, sp := a.i18nInitData(t, userID, "ru")
	ctx := appBrowser(t, appFakeScript(t, appFake{InitData: initData, StartParam: sp, UserID: userID}))
	appOpen(t, ctx, a.url)
	phrases := i18nEnglishPhrases(t, ctx)
	var settings struct {
		ShopName string `json:"shop_name"`
	}
	call(t, "GET", a.url+"/api/settings", initData, "", nil, http.StatusOK, &settings)
	// The host's words: its products' names and its shop's.
	names := append(a.i18nProductNames(t, initData), settings.ShopName)
	latin := regexp.MustCompile(`[A-Za-z]+`)
	check := func(screen string, want ...string) {
		t.Helper()
		seen := appEval[string](t, ctx, i18nShopText)
		for _, w := range want {
			if !strings.Contains(seen, w) {
				t.Errorf("%s: %q not shown in:\n%s", screen, w, seen)
			}
		}
		for _, name := range names {
			seen = strings.ReplaceAll(seen, name, "")
		}
		for _, p := range phrases {
			if strings.Contains(seen, p) {
				t.Errorf("%s: English %q shown in:\n%s", screen, p, seen)
			}
		}
		browsertest.Screenshot(t, ctx, "ru_"+screen)
	}

	// Every code errorText words reads as a sentence in both languages,
	// the Russian one without a Latin word but the product's name.
	texts := appEval[map[string][]string](t, ctx, `import('./js/i18n.js').then((m) => {
		const out = {};
		for (const code of m.ERROR_CODES) {
			const err = { code, message: 'server words', details: { product_id: 'p5', product_name: 'Kenya' } };
			out[code] = ['en', 'ru'].map((l) => { m.setLanguage(l); return m.errorText(err); });
		}
		m.setLanguage('ru');
		return out;
	})`)
	if len(texts) < 15 {
		t.Fatalf("errorText words %d codes", len(texts))
	}
	for code, pair := range texts {
		en, ru := pair[0], pair[1]
		if en == "" || ru == "" || en == ru || strings.Contains(en+ru, "server words") || strings.Contains(en+ru, "error.") {
			t.Errorf("%s: en %q, ru %q", code, en, ru)
		}
		if w := latin.FindAllString(strings.ReplaceAll(ru, "Kenya", ""), -1); len(w) > 0 && !(len(w) == 1 && w[0] == "Telegram") {
			t.Errorf("%s: Russian %q holds %q", code, ru, w)
		}
	}

	// A cart with a product that is out of stock.
	var p1, p5 struct {
		Data map[string]any `json:"data"`
	}
	call(t, "GET", a.url+"/api/products/p1", initData, "", nil, http.StatusOK, &p1)
	call(t, "GET", a.url+"/api/products/p5", initData, "", nil, http.StatusOK, &p5)
	if p5.Data["in_stock"] != false {
		t.Fatalf("p5 is in stock: %v", p5.Data)
	}
	cart := func(products ...map[string]any) string {
		var items []map[string]any
		for _, p := range products {
			items = append(items, map[string]any{"id": p["id"], "name": p["name"], "price": p["price"], "currency": p["currency"], "qty": 1})
		}
		return appJSON(t, appJSON(t, items))
	}
	appEval[int](t, ctx, `localStorage.setItem('telecart.cart.v1', `+cart(p1.Data, p5.Data)+`), 0`)
	appDo(t, ctx, "opening the checkout", chromedp.Navigate(a.url+"/app/#/checkout"))
	appWait(t, ctx, "the checkout form", `document.querySelector('[data-testid=field-name]') !== null && Telegram.WebApp.MainButton.isVisible`)
	appDo(t, ctx, "filling the form",
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-name]`), "Борис"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-phone]`), "+7 900 000-00-00"))
	appEval[int](t, ctx, `Telegram.WebApp.MainButton.__click(), 0`)
	appWait(t, ctx, "the out-of-stock message", `!document.querySelector('[data-testid=checkout-error]').hidden`)
	check("checkout_out_of_stock", fmt.Sprintf("Товара «%s» нет в наличии. Уберите его из корзины, чтобы оформить заказ.", p5.Data["name"]))

	// The shop changes the form while the page is open: the name now needs
	// ten characters, and the phone a pattern the browser cannot run.
	var form map[string]any
	call(t, "GET", a.url+"/admin/api/forms/checkout", "", a.s.Config.AdminToken, nil, http.StatusOK, &form)
	schema, _ := form["schema"].([]any)
	changed := 0
	for _, n := range schema {
		node, _ := n.(map[string]any)
		switch node["name"] {
		case "name":
			node["validation"], changed = "required:trim|length:10,64", changed+1
		case "phone":
			node["validation"], changed = `required:trim|matches:/(?i)^8/`, changed+1
		}
	}
	if changed != 2 {
		t.Fatalf("the checkout form has no name or phone: %v", form)
	}
	call(t, "PUT", a.url+"/admin/api/forms/checkout", "", a.s.Config.AdminToken,
		map[string]any{"title": form["title"], "schema": schema}, http.StatusOK, nil)

	appEval[int](t, ctx, `localStorage.setItem('telecart.cart.v1', `+cart(p1.Data)+`), 0`)
	appEval[int](t, ctx, `Telegram.WebApp.MainButton.__click(), 0`)
	appWait(t, ctx, "the fields' messages", `!document.querySelector('[data-testid=error-name]').hidden && !document.querySelector('[data-testid=error-phone]').hidden`)
	check("checkout_server_fields", "«Имя»: от 10 до 64 символов.", "«Телефон»: магазин не принял это значение.")
	if appEval[bool](t, ctx, `!document.querySelector('[data-testid=checkout-error]').hidden`) {
		t.Error("the out-of-stock message outlived the next attempt")
	}
	if got := appEval[string](t, ctx, `document.querySelector('[data-testid=field-name]').value`); got != "Борис" {
		t.Errorf("the name typed is %q after the form was loaded again", got)
	}
	if n := a.appOrders(t); n != 0 {
		t.Errorf("%d orders placed", n)
	}
}
