package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
)

// The browser test drives the shop in a headless Chromium (it skips unless
// TELECART_TEST_CHROME names the browser): TeleCart's admin panel under
// /telecart/admin/ before and after the shop's own login, and an order
// through TeleCart's storefront under /telecart/app/ with a fake
// window.Telegram.WebApp, then the order in the shop's tables and page.

// seenScript records, in window.__seen, every sign-in card the admin page
// ever shows in a document, however briefly.
const seenScript = `(() => {
  const seen = window.__seen = {};
  new MutationObserver(() => {
    for (const id of ['signin', 'signin-host']) {
      if (document.querySelector('[data-testid="' + id + '"]')) seen[id] = true;
    }
  }).observe(document, { childList: true, subtree: true });
})();`

// fakeTelegramJS stands in for telegram-web-app.js: the parts of
// Telegram.WebApp the storefront uses, with __click on the MainButton for
// the test. %s is the launch: {initData, startParam, userId}.
const fakeTelegramJS = `(() => {
  const cfg = %s;
  const button = () => ({
    text: '', isVisible: false, isActive: true, isProgressVisible: false, cbs: [],
    setText(t) { this.text = t; return this; },
    setParams(p) {
      if ('text' in p) this.text = p.text;
      if ('is_visible' in p) this.isVisible = !!p.is_visible;
      if ('is_active' in p) this.isActive = !!p.is_active;
      return this;
    },
    show() { this.isVisible = true; return this; },
    hide() { this.isVisible = false; return this; },
    enable() { this.isActive = true; return this; },
    disable() { this.isActive = false; return this; },
    showProgress() { this.isProgressVisible = true; return this; },
    hideProgress() { this.isProgressVisible = false; return this; },
    onClick(cb) { this.cbs.push(cb); return this; },
    offClick(cb) { this.cbs = this.cbs.filter((x) => x !== cb); return this; },
    __click() { if (this.isVisible && this.isActive) this.cbs.forEach((cb) => cb()); },
  });
  window.Telegram = { WebApp: {
    initData: cfg.initData,
    initDataUnsafe: { user: { id: cfg.userId, first_name: 'Browser' }, start_param: cfg.startParam },
    version: '8.0', platform: 'android', colorScheme: 'light', themeParams: {},
    isExpanded: true, viewportHeight: innerHeight, viewportStableHeight: innerHeight,
    MainButton: button(), BackButton: button(),
    HapticFeedback: { impactOccurred() {}, notificationOccurred() {}, selectionChanged() {} },
    isVersionAtLeast() { return true; },
    ready() {}, expand() {}, close() {}, openLink() {},
    setHeaderColor() {}, setBackgroundColor() {}, onEvent() {}, offEvent() {},
  } };
})();`

// browser is a Chromium tab for one test.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// addScript runs src in every new document before the page's scripts.
func (b *browser) addScript(src string) {
	b.t.Helper()
	err := chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var res json.RawMessage
		return tg.Call(ctx, "Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": src}, &res)
	}))
	if err != nil {
		b.t.Fatalf("adding a script: %v", err)
	}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// wait waits until the JavaScript expression is truthy. It asks again and
// again rather than polling in the page, so that it carries on across the
// navigations a form post or a link makes.
func (b *browser) wait(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.href + '\n' + document.body.innerText`))
			b.t.Fatalf("waiting for %s (%s): %v\npage: %.2000s", what, expr, err, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("clicking "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.do("typing into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// mainButton taps Telegram's MainButton.
func (b *browser) mainButton() {
	b.t.Helper()
	evalJS[int](b, `Telegram.WebApp.MainButton.__click(), 0`)
}

// Ensure, in Chromium on each dialect: TeleCart's admin panel under the
// prefix shows the "sign in to the shop" card without a session and the
// dashboard after the shop's own login, never a token prompt; the storefront
// under the prefix sells the shop's products; and an order placed there is
// one row in the shop's orders table with TeleCart's order meta and its
// ORDER_CREATED event beside it, delivered to Pulse and listed on the shop's
// own admin page.
func TestBrowser(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) { testBrowser(t, d) })
	}
}

func testBrowser(t *testing.T, d migrator.Dialect) {
	// The browser first, so that a run without Chromium skips at once.
	ctx := browsertest.New(t, 2*time.Minute)
	s := mustStart(t, d)
	const userID = 7100
	initData, sp := s.initData(t, userID, "Browser")
	launch, err := json.Marshal(map[string]any{"initData": initData, "startParam": sp, "userId": userID})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx}
	b.addScript(seenScript)
	b.addScript(fmt.Sprintf(fakeTelegramJS, launch))
	b.do("sizing the window", chromedp.EmulateViewport(1280, 900))

	// TeleCart's panel before the shop's login: the card that sends the
	// admin to the shop's sign-in, not TeleCart's token prompt.
	b.do("opening TeleCart's admin", chromedp.Navigate(s.url+"/telecart/admin/"))
	b.wait("the sign-in-to-the-shop card", `document.querySelector('[data-testid=signin-host]')`)
	b.wait("the shop's own message on the card", `(document.querySelector('[data-testid=signin-host-message]') || {}).textContent === 'Sign in at /admin/login first.'`)
	if evalJS[bool](b, `!!window.__seen.signin`) {
		t.Error("TeleCart's admin showed its token prompt behind the shop's login")
	}
	browsertest.Screenshot(t, ctx, "signin_host")

	// The shop's own login, then its page's link to TeleCart's panel.
	b.do("opening the shop's admin", chromedp.Navigate(s.url+"/admin/"))
	b.wait("the shop's login", `location.pathname === '/admin/login' && document.querySelector('#password')`)
	b.typeInto("#username", testUser)
	b.typeInto("#password", testPassword)
	b.click("[data-testid=host-login-submit]")
	b.wait("the shop's admin page", `location.pathname === '/admin/' && document.querySelector('[data-testid=host-orders-empty]')`)
	b.click("[data-testid=telecart-link]")
	b.wait("TeleCart's dashboard", `location.pathname === '/telecart/admin/' && document.querySelector('[data-testid=nav-dashboard]') && document.querySelector('[data-testid=page-title]').textContent === 'Dashboard'`)
	if seen := evalJS[map[string]bool](b, `window.__seen`); seen["signin"] || seen["signin-host"] {
		t.Errorf("a sign-in card showed after the shop's login: %v", seen)
	}
	browsertest.Screenshot(t, ctx, "dashboard")

	// The storefront under /telecart/app/ sells the shop's products.
	b.do("sizing the window for the Mini App", chromedp.EmulateViewport(420, 900))
	b.do("opening the storefront", chromedp.Navigate(s.url+"/telecart/app/"))
	b.wait("the products", `document.getElementById('app').dataset.state === 'ready' && document.querySelectorAll('[data-testid=product-card]').length === 8`)
	names := evalJS[[]string](b, `[...document.querySelectorAll('[data-testid=product-name]')].map((e) => e.textContent)`)
	if len(names) != 8 || names[0] != "Dot-Grid Notebook A5" || !slices.Contains(names, "Fountain Pen, Fine Nib") {
		t.Errorf("the storefront shows %q", names)
	}
	browsertest.Screenshot(t, ctx, "storefront")
	b.click(`[data-testid=product-card][data-product-id="2"]`)
	b.wait("the product page", `document.querySelector('[data-testid=product-title]') && document.querySelector('[data-testid=product-title]').textContent === 'Fountain Pen, Fine Nib'`)
	b.click(`[data-testid=add-to-cart]`)
	b.wait("the cart badge", `document.querySelector('[data-testid=product-page] [data-testid=cart-count]').textContent === '1'`)
	b.mainButton()
	b.wait("the cart", `document.querySelectorAll('[data-testid=cart-item]').length === 1`)
	b.mainButton()
	b.wait("the checkout form", `document.querySelector('[data-testid=field-name]') && Telegram.WebApp.MainButton.text.startsWith('Place order')`)
	b.typeInto("[data-testid=field-name]", "Browser Buyer")
	b.typeInto("[data-testid=field-phone]", "+7 900 000-00-07")
	b.typeInto("[data-testid=field-address]", "1 Paper Lane")
	b.wait("a valid form", `[...document.querySelectorAll('[data-testid^=error-]')].every((e) => e.hidden)`)
	browsertest.Screenshot(t, ctx, "checkout")
	b.mainButton()
	b.wait("the success page", `document.querySelector('[data-testid=success-page]') && document.querySelector('[data-testid=order-id]')`)
	browsertest.Screenshot(t, ctx, "success")
	shown := evalJS[string](b, `document.querySelector('[data-testid=order-id]').textContent`)

	// The order is one row in the shop's own orders table...
	db := s.h.DB
	bg := context.Background()
	var (
		orderID       int64
		total         int64
		name, phone   string
		ordersOfBuyer int
	)
	rows, err := db.QueryContext(bg, "SELECT id, total, customer_name, phone FROM orders WHERE telegram_user_id = ?", userID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		ordersOfBuyer++
		if err := rows.Scan(&orderID, &total, &name, &phone); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if ordersOfBuyer != 1 {
		t.Fatalf("%d rows in the shop's orders table for the buyer; want 1", ordersOfBuyer)
	}
	hostID := strconv.FormatInt(orderID, 10)
	if shown != "#"+hostID || total != 249000 || name != "Browser Buyer" || phone != "+7 900 000-00-07" {
		t.Errorf("the shop's order #%s: total %d, %q, %q; the success page shows %q", hostID, total, name, phone, shown)
	}
	if got := s.stock(t, 2); got != 11 {
		t.Errorf("the pen's stock is %d after the order; want 11", got)
	}
	// ...with TeleCart's order meta referencing it...
	var metaHostID, orderKey, metaCampaign, trackingID string
	err = db.QueryRowContext(bg, "SELECT host_order_id, order_key, campaign_id, tracking_id FROM "+
		db.Table(telecart.OrderMetaTable)+" WHERE telegram_user_id = ?", userID).
		Scan(&metaHostID, &orderKey, &metaCampaign, &trackingID)
	if err != nil {
		t.Fatalf("TeleCart's order meta: %v", err)
	}
	if metaHostID != hostID || metaCampaign != testCampaign {
		t.Errorf("order meta: host_order_id %q, campaign %q; want %q, %q", metaHostID, metaCampaign, hostID, testCampaign)
	}
	// ...and its ORDER_CREATED event in the Pulse outbox.
	key := "order:" + trackingID + ":" + orderKey
	var event, evCampaign, evTracking, payload string
	err = db.QueryRowContext(bg, "SELECT event, campaign_id, tracking_id, payload FROM "+db.Table(pulse.OutboxTable)+
		" WHERE idempotency_key = ?", key).Scan(&event, &evCampaign, &evTracking, &payload)
	if err != nil {
		t.Fatalf("the ORDER_CREATED event %s: %v", key, err)
	}
	var p struct {
		OrderID string `json:"order_id"`
		Total   int64  `json:"total"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		t.Fatalf("event payload %s: %v", payload, err)
	}
	if event != pulse.EventOrderCreated || evCampaign != testCampaign || evTracking != trackingID || p.OrderID != hostID || p.Total != 249000 {
		t.Errorf("event %s %s %s %s; want ORDER_CREATED for order %s", event, evCampaign, evTracking, payload, hostID)
	}
	if got, want := s.trace(t, userID), (orderTrace{Orders: 1, Items: 1, Meta: 1, Events: 1}); got != want {
		t.Errorf("the order left %+v; want %+v", got, want)
	}
	// The sender delivers the event.
	for deadline := time.Now().Add(20 * time.Second); !s.receiver.Seen(key); time.Sleep(20 * time.Millisecond) { // the event may come with others
		if time.Now().After(deadline) {
			t.Fatalf("ORDER_CREATED never reached Pulse; receiver stats %+v", s.receiver.Stats())
		}
	}

	// The shop's own admin page lists the order.
	b.do("sizing the window", chromedp.EmulateViewport(1280, 900))
	b.do("opening the shop's admin", chromedp.Navigate(s.url+"/admin/"))
	b.wait("the order on the shop's page", `(document.querySelector('[data-testid=host-order][data-order-id="`+hostID+`"]') || {textContent: ''}).textContent.includes('Browser Buyer')`)
	browsertest.Screenshot(t, ctx, "host_admin")
}
