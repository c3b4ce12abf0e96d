package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

// The admin panel's browser tests drive the embedded page at /admin/ in a
// headless Chromium against the demo server over SQLite, with a fake
// Telegram Bot API and a fake Pulse API on httptest listeners.

// adminXSSName is a customer name that runs script if a page renders it as
// HTML.
const adminXSSName = `<img src=x onerror=alert(1)>`

// adminNewBotToken is a token the fake Bot API knows, besides the demo's.
const adminNewBotToken = "2000000000:new-demo-token"

// adminTelegram is a fake Bot API answering sendMessage with message_id 77
// and getMe for the tokens it knows.
type adminTelegram struct {
	mu   sync.Mutex
	sent []adminSentMessage
}

type adminSentMessage struct {
	Token  string
	ChatID int64  `json:"chat_id"`
	Text   string `json:"text"`
}

func (f *adminTelegram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if ok && method == "getMe" {
		// The demo's generated tokens and adminNewBotToken are bots.
		w.Header().Set("Content-Type", "application/json")
		switch {
		case token == adminNewBotToken:
			io.WriteString(w, `{"ok":true,"result":{"id":2000000000,"is_bot":true,"first_name":"New","username":"new_demo_bot"}}`)
		case strings.HasPrefix(token, "1000000000:demo-"):
			io.WriteString(w, `{"ok":true,"result":{"id":1000000000,"is_bot":true,"first_name":"Demo","username":"demo_shop_bot"}}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		}
		return
	}
	if !ok || method != "sendMessage" {
		http.Error(w, `{"ok":false,"error_code":404,"description":"Not Found"}`, http.StatusNotFound)
		return
	}
	m := adminSentMessage{Token: token}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, `{"ok":false,"error_code":400,"description":"Bad Request: bad JSON"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.sent = append(f.sent, m)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":77,"date":%d,"chat":{"id":%d,"type":"private"},"text":%q}}`,
		time.Now().Unix(), m.ChatID, m.Text)
}

func (f *adminTelegram) messages() []adminSentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]adminSentMessage(nil), f.sent...)
}

// adminPulse is a fake Pulse API: while failing, it rejects every event
// with a 422 whose reason holds markup; otherwise it accepts them.
type adminPulse struct {
	failing atomic.Bool
}

const adminPulseReason = `campaign <b>unknown</b>`

// adminTaskError is the error of a scheduler task that always fails.
const adminTaskError = `disk <i>full</i> on /var`

func (f *adminPulse) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.failing.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `{"error":{"message":%q}}`, adminPulseReason)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// adminEnv is one demo server with seeded data and a browser on its admin
// panel.
type adminEnv struct {
	srv       *server.Server
	base      string
	ctx       context.Context
	tg        *adminTelegram
	pulse     *adminPulse
	buyerInit string           // signed initData of the customer who orders
	ids       map[string]int64 // customer ids by first name
	tgIDs     map[string]int64 // Telegram user ids by first name
}

// adminStart starts the demo server with the fakes (and what mutate
// changes of its config), seeds customers, orders, log lines and failed
// Pulse events, and opens a browser.
func adminStart(t *testing.T, mutate ...func(*server.Config)) *adminEnv {
	t.Helper()
	e := &adminEnv{tg: &adminTelegram{}, pulse: &adminPulse{}, ids: map[string]int64{}, tgIDs: map[string]int64{}}
	e.pulse.failing.Store(true)
	tgSrv := httptest.NewServer(e.tg)
	t.Cleanup(tgSrv.Close)
	pulseSrv := httptest.NewServer(e.pulse)
	t.Cleanup(pulseSrv.Close)
	// The browser first, so that a run without Chromium skips at once; its
	// time bounds the seeding too.
	e.ctx = browsertest.New(t, 60*time.Second)
	e.srv, e.base = MustStart(t, migrator.SQLite, func(c *server.Config) {
		c.TelegramAPIURL = tgSrv.URL
		c.PulseURL = pulseSrv.URL
		c.AdminToken = "admin-secret-token"
		for _, m := range mutate {
			m(c)
		}
	})
	e.seed(t)
	if err := chromedp.Do(e.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *adminEnv) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	store := e.srv.TeleCart.Customers()
	day := func(d int) time.Time { return time.Date(2020, 1, d, 12, 0, 0, 0, time.UTC) }
	now := time.Now()
	people := []struct {
		user telegram.User
		seen time.Time
	}{
		{telegram.User{FirstName: "Alexey", LastName: "Ivanov", Username: "alexey", LanguageCode: "ru", AllowsWriteToPM: true}, day(10)},
		{telegram.User{FirstName: "Bob", LastName: "Smith", Username: "bobsmith", LanguageCode: "en"}, day(11)},
		{telegram.User{FirstName: "Carol", LastName: "White", LanguageCode: "en", AllowsWriteToPM: true, IsPremium: true}, day(12)},
		{telegram.User{FirstName: "Dmitry", LastName: "Petrov", Username: "dpetrov", LanguageCode: "ru", AllowsWriteToPM: true}, now},
		{telegram.User{FirstName: "Eve", LastName: "Adams", LanguageCode: "de", AllowsWriteToPM: true}, now},
		{telegram.User{FirstName: "Frank", LastName: "Miller", Username: "frank", AllowsWriteToPM: true}, now},
		{telegram.User{FirstName: "Grace", LastName: "Hopper", Username: "grace", LanguageCode: "en", AllowsWriteToPM: true}, now},
		{telegram.User{FirstName: "Henry", LastName: "Ford", LanguageCode: "en"}, now},
		{telegram.User{FirstName: "Irina", LastName: "Sokolova", Username: "irina", LanguageCode: "ru", AllowsWriteToPM: true}, now},
		{telegram.User{FirstName: "Жанна", LastName: "Кузнецова", LanguageCode: "ru", AllowsWriteToPM: true}, now},
		{telegram.User{FirstName: "Žofie", LastName: "Nováková", Username: "zofie", LanguageCode: "cs", AllowsWriteToPM: true}, now},
	}
	for i, p := range people {
		p.user.ID = int64(9100 + i)
		c, err := store.Save(ctx, p.user, p.seen)
		if err != nil {
			t.Fatal(err)
		}
		e.ids[p.user.FirstName], e.tgIDs[p.user.FirstName] = c.ID, p.user.ID
	}

	// The buyer and the XSS customer come through the storefront API, with
	// a campaign so that their events go to Pulse.
	link, err := e.srv.TeleCart.StartParams().Encode(pulse.StartParam{CampaignID: "admin_test", Source: "tg"})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(u telegram.User) string {
		return telegram.SignInitData(e.srv.Config.BotToken, telegram.SignParams{User: &u, StartParam: link}, time.Now())
	}
	var saved struct {
		ID int64 `json:"id"`
	}
	e.buyerInit = sign(telegram.User{ID: 9200, FirstName: "Olga", LastName: "Buyer", Username: "olga", AllowsWriteToPM: true})
	call(t, "POST", e.base+"/api/customers", e.buyerInit, "", nil, http.StatusOK, &saved)
	e.ids["Olga"] = saved.ID
	call(t, "POST", e.base+"/api/privacy-consent", e.buyerInit, "", nil, http.StatusOK, nil)
	xss := sign(telegram.User{ID: 9201, FirstName: adminXSSName, LastName: `"><script>alert(2)</script>`, AllowsWriteToPM: true})
	call(t, "POST", e.base+"/api/customers", xss, "", nil, http.StatusOK, &saved)
	e.ids["xss"] = saved.ID

	var products struct {
		Data []struct {
			ID      string `json:"id"`
			InStock bool   `json:"in_stock"`
		} `json:"data"`
	}
	call(t, "GET", e.base+"/api/products", e.buyerInit, "", nil, http.StatusOK, &products)
	var inStock []string
	for _, p := range products.Data {
		if p.InStock {
			inStock = append(inStock, p.ID)
		}
	}
	if len(inStock) < 2 {
		t.Fatalf("want 2 products in stock, got %+v", products)
	}
	for i, id := range inStock[:2] {
		call(t, "POST", e.base+"/api/orders", e.buyerInit, "", map[string]any{
			"order_key": fmt.Sprintf("0d6f2a9e-0000-4000-8000-00000000000%d", i+1),
			"items":     []any{map[string]any{"product_id": id, "quantity": i + 1}},
			"fields":    map[string]any{"name": "Olga", "phone": "+7 900 000-00-00", "delivery": "pickup"},
		}, http.StatusCreated, nil)
	}

	call(t, "POST", e.base+"/api/ingest", e.buyerInit, "", map[string]any{"events": []any{
		map[string]any{"id": "5a0c1f3e-0000-4000-8000-000000000001", "event": "WEBAPP_OPEN", "occurred_at": time.Now().UTC(), "payload": map[string]any{}},
		map[string]any{"id": "5a0c1f3e-0000-4000-8000-000000000002", "event": "SEARCH", "occurred_at": time.Now().UTC(), "payload": map[string]any{"query": "tea"}},
	}}, http.StatusOK, nil)

	for i := range 16 {
		e.srv.Logger.Info("request served", "channel", "http", "path", "/api/products", "n", i)
	}
	e.srv.Logger.Info("adminlog order shipped", "channel", "orders", "order_id", 42,
		"address", map[string]any{"city": "Moscow", "lines": []string{"Tverskaya 1", "apt 5"}})
	e.srv.Logger.Warn("adminlog payment slow", "channel", "payments", "took_ms", 2300)
	e.srv.Logger.Error("adminlog <script>alert(3)</script> "+strings.Repeat("unbroken", 80), "channel", "payments",
		"order_id", 43, "error", "card declined")

	// A task that fails, and one that succeeds, for the scheduler's page.
	sched := e.srv.TeleCart.Scheduler()
	if err := sched.Register(telecart.Task{Name: "admin_failing", Schedule: "@yearly", Enabled: true,
		Run: func(context.Context) error { return errors.New(adminTaskError) }}); err != nil {
		t.Fatal(err)
	}
	if err := sched.RunNow(ctx, "admin_failing"); err == nil {
		t.Fatal("the failing task succeeded")
	}
	if err := sched.RunNow(ctx, "customers_recount"); err != nil {
		t.Fatal(err)
	}

	// Every event is refused: wait until they have all failed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st struct{ Pending, Sending, Failed int64 }
		e.get(t, "pulse/stats?fresh=1", &st)
		if st.Failed >= 4 && st.Pending == 0 && st.Sending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Pulse events did not fail: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get reads an admin API route, as the page's numbers are checked against
// the API's own answers.
func (e *adminEnv) get(t *testing.T, path string, dst any) {
	t.Helper()
	call(t, "GET", e.base+"/admin/api/"+path, "", e.srv.Config.AdminToken, nil, http.StatusOK, dst)
}

// --- Browser helpers. Each fails the test itself.

func adminJS(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// adminDo runs steps, each wait bounded, so that a missing element fails
// the test rather than eating the browser's whole time.
func adminDo(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		browsertest.Screenshot(t, ctx, "failed")
		errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__errors || []`))
		t.Fatalf("%v (page errors: %q)", err, errs)
	}
}

func adminEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// adminWait waits until the JavaScript expression is truthy.
func adminWait(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		browsertest.Screenshot(t, ctx, "failed")
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// adminText is the textContent of the first element matching sel, "" when
// none does.
func adminText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return adminEval[string](t, ctx, fmt.Sprintf(`(document.querySelector(%s) || {}).textContent || ""`, adminJS(sel)))
}

func adminWaitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`(document.querySelector(%s) || {}).textContent === %s`, adminJS(sel), adminJS(want)),
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("text of %s = %q, want %q: %v", sel, adminText(t, ctx, sel), want, err)
	}
}

func adminCount(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return adminEval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%s).length`, adminJS(sel)))
}

func adminWaitCount(t *testing.T, ctx context.Context, sel string, n int) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`document.querySelectorAll(%s).length === %d`, adminJS(sel), n),
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("%d elements match %s, want %d: %v", adminCount(t, ctx, sel), sel, n, err)
	}
}

// adminSet sets a form control's value as typing or choosing would, firing
// input and change.
func adminSet(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	adminEval[bool](t, ctx, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		el.value = %s;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`, adminJS(sel), adminJS(value)))
}

// adminGo opens a section through the sidebar and waits for its view.
func adminGo(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=nav-%s]`, id))))
	adminWait(t, ctx, fmt.Sprintf(`document.querySelector('[data-view=%s]') && !document.querySelector('[data-view=%s] [data-testid=loading]')`, id, id))
}

// Ensure the admin panel works end to end in a real browser: sign-in,
// every section against the API's own answers, the send-message dialog
// reaching Telegram, requeueing failed Pulse events, the logs dialog,
// settings that change the storefront, the forms editor, untrusted text
// rendered as text, both languages, and a 401 sending back to sign-in.
func TestAdminPanel(t *testing.T) {
	e := adminStart(t)
	ctx := e.ctx

	// A trap for anything that would run script or create an element from
	// data: alert, and any <img> or <script> added to the page. CSP alone
	// would block inline handlers, so the element check is the one that
	// proves text stays text.
	trap := `(() => {
		window.__xss = [];
		window.__errors = [];
		window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
		window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason && e.reason.stack || e.reason)));
		document.addEventListener('securitypolicyviolation', (e) => window.__errors.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI));
		window.alert = (m) => window.__xss.push('alert:' + m);
		new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) {
			if (n.nodeType !== 1) continue;
			for (const el of [n, ...n.querySelectorAll('img, script')]) {
				if (el.tagName === 'IMG' || el.tagName === 'SCRIPT') window.__xss.push(el.outerHTML);
			}
		}}).observe(document, {childList: true, subtree: true});
		return true;
	})()`

	t.Run("SignIn", func(t *testing.T) {
		// Ensure a wrong token is refused and the right one opens the
		// dashboard, kept in sessionStorage.
		adminDo(t, ctx, chromedp.Navigate(e.base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-token]`)))
		adminEval[bool](t, ctx, trap)
		browsertest.Screenshot(t, ctx, "signin")
		adminDo(t, ctx,
			chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), "wrong-token"),
			chromedp.Click(chromedp.CSS(`[data-testid=signin-submit]`)))
		adminWaitText(t, ctx, `[data-testid=signin-error]`, "This token is not valid.")
		adminSet(t, ctx, `[data-testid=signin-token]`, "")
		adminDo(t, ctx,
			chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), e.srv.Config.AdminToken+"\n"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=dashboard]`)))
		if got := adminEval[string](t, ctx, `sessionStorage.getItem('telecart.admin.token')`); got != e.srv.Config.AdminToken {
			t.Fatalf("sessionStorage token = %q", got)
		}
		if loc := adminEval[string](t, ctx, `location.hash`); loc != "#/dashboard" {
			t.Fatalf("hash = %q, want #/dashboard", loc)
		}
	})

	t.Run("Dashboard", func(t *testing.T) {
		// Ensure the cards show the API's numbers, the chart has 24 hours,
		// and Refresh asks for fresh stats.
		adminWait(t, ctx, `document.querySelector('[data-testid=dashboard]').dataset.loaded`)
		var d struct {
			OrdersCount      int64  `json:"orders_count"`
			RevenueFormatted string `json:"revenue_formatted"`
			CustomersCount   int64  `json:"customers_count"`
			Pulse            struct {
				Pending, Sent, Failed int64
				LastError             string `json:"last_error"`
			} `json:"pulse"`
			Hourly []struct{ Sent, Failed int64 } `json:"hourly"`
		}
		e.get(t, "dashboard", &d)
		if d.OrdersCount != 2 || d.CustomersCount != 13 || !strings.HasSuffix(d.RevenueFormatted, "\u00a0₽") {
			t.Fatalf("dashboard API: %+v", d)
		}
		adminWaitText(t, ctx, `[data-testid=dash-orders]`, fmt.Sprint(d.OrdersCount))
		adminWaitText(t, ctx, `[data-testid=dash-revenue]`, d.RevenueFormatted)
		adminWaitText(t, ctx, `[data-testid=dash-customers]`, fmt.Sprint(d.CustomersCount))
		adminWaitText(t, ctx, `[data-testid=dash-pulse-pending]`, fmt.Sprint(d.Pulse.Pending))
		adminWaitText(t, ctx, `[data-testid=dash-pulse-sent]`, fmt.Sprint(d.Pulse.Sent))
		adminWaitText(t, ctx, `[data-testid=dash-pulse-failed]`, fmt.Sprint(d.Pulse.Failed))
		if got := adminText(t, ctx, `[data-testid=dash-pulse-last-error] .pulse-error-msg`); !strings.Contains(got, adminPulseReason) {
			t.Errorf("last error = %q, want it to hold %q as text", got, adminPulseReason)
		}
		if n := adminCount(t, ctx, `[data-testid=chart-hour]`); n != len(d.Hourly) || n != 24 {
			t.Errorf("chart has %d hours, API %d", n, len(d.Hourly))
		}
		var failed int64
		for _, h := range d.Hourly {
			failed += h.Failed
		}
		adminWaitText(t, ctx, `[data-testid=chart-total-failed]`, fmt.Sprint(failed))
		// The orders chart: 30 days, today's bar holding the two orders.
		if n := adminCount(t, ctx, `[data-testid=daily-day]`); n != 30 {
			t.Errorf("orders chart has %d days, want 30", n)
		}
		adminWaitText(t, ctx, `[data-testid=daily-total-orders]`, fmt.Sprint(d.OrdersCount))
		if last := adminEval[string](t, ctx, `[...document.querySelectorAll('[data-testid=daily-day]')].at(-1).dataset.orders`); last != fmt.Sprint(d.OrdersCount) {
			t.Errorf("today's bar holds %s orders, want %d", last, d.OrdersCount)
		}
		for _, help := range []string{"orders", "revenue", "customers", "pulse-pending", "pulse-failed", "pulse-oldest"} {
			if tip := adminEval[string](t, ctx, fmt.Sprintf(`document.querySelector('[data-testid=help-%s]').dataset.tip`, help)); tip == "" {
				t.Errorf("card %s has no help text", help)
			}
		}
		browsertest.Screenshot(t, ctx, "dashboard")

		adminEval[bool](t, ctx, `(() => { window.__urls = []; const f = window.fetch;
			window.fetch = (u, o) => { window.__urls.push(String(u)); return f(u, o); }; return true; })()`)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=dash-refresh]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=dashboard]').dataset.fresh`)
		if urls := adminEval[[]string](t, ctx, `window.__urls`); len(urls) != 1 || !strings.HasSuffix(urls[0], "/admin/api/dashboard?fresh=1") {
			t.Errorf("refresh fetched %q, want /admin/api/dashboard?fresh=1", urls)
		}
	})

	t.Run("Customers", func(t *testing.T) {
		// Ensure the table pages, sorts, searches and filters as the API
		// does, toggles columns, and explains the dates.
		adminGo(t, ctx, "customers")
		adminWaitCount(t, ctx, `[data-testid=customer-row]`, 13)
		adminWaitText(t, ctx, `[data-testid=customers-pager-info]`, "1–13 of 13")
		browsertest.Screenshot(t, ctx, "customers")

		adminSet(t, ctx, `[data-testid=customers-pager-per-page]`, "10")
		adminWaitCount(t, ctx, `[data-testid=customer-row]`, 10)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=customers-pager-next]`)))
		adminWaitText(t, ctx, `[data-testid=customers-pager-info]`, "11–13 of 13")
		adminWaitCount(t, ctx, `[data-testid=customer-row]`, 3)

		var list struct {
			Data []struct {
				ID        int64  `json:"id"`
				FirstName string `json:"first_name"`
			} `json:"data"`
			Meta struct{ Total int64 } `json:"meta"`
		}
		names := func(q string) []string {
			e.get(t, "customers?"+q, &list)
			var out []string
			for _, c := range list.Data {
				out = append(out, c.FirstName)
			}
			return out
		}
		waitNames := func(want []string) {
			t.Helper()
			js := `JSON.stringify([...document.querySelectorAll('[data-testid=customer-row] td[data-col=first_name]')].map(td => td.textContent))`
			if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js+" === JSON.stringify("+adminJS(want)+")", chromedp.WithPollingTimeout(5*time.Second))); err != nil {
				t.Fatalf("first names %s, want %q: %v", adminEval[string](t, ctx, js), want, err)
			}
		}

		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=sort-first_name]`)))
		waitNames(names("per_page=10&sort=first_name&order=asc"))
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=sort-first_name]`)))
		waitNames(names("per_page=10&sort=first_name&order=desc"))
		if got := adminEval[string](t, ctx, `document.querySelector('th[data-col=first_name]').getAttribute('aria-sort')`); got != "descending" {
			t.Errorf("aria-sort = %q", got)
		}
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=customers-pager-page-2]`)))
		waitNames(names("per_page=10&page=2&sort=first_name&order=desc"))

		// The search waits for the typing to pause, then starts at page 1.
		adminDo(t, ctx, chromedp.SendKeys(chromedp.CSS(`[data-testid=customers-search]`), "smith"))
		waitNames([]string{"Bob"})
		adminSet(t, ctx, `[data-testid=customers-search]`, "")
		waitNames(names("per_page=10&sort=first_name&order=desc"))

		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=customers-filters-toggle]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=customers-filters]`)))
		adminDo(t, ctx, chromedp.SendKeys(chromedp.CSS(`[data-testid=filter-last_name]`), "ov"))
		waitNames(names("per_page=10&sort=first_name&order=desc&filter[last_name]=ov"))
		if len(list.Data) != 4 { // Ivanov, Petrov, Sokolova, Nováková
			t.Errorf("last_name filter: %+v", list.Data)
		}
		adminSet(t, ctx, `[data-testid=filter-allows_write_to_pm]`, "true")
		waitNames(names("per_page=10&sort=first_name&order=desc&filter[last_name]=ov&filter[allows_write_to_pm]=true"))
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=filters-reset]`)))
		adminSet(t, ctx, `[data-testid=filter-allows_write_to_pm]`, "false")
		waitNames(names("per_page=10&sort=first_name&order=desc&filter[allows_write_to_pm]=false"))
		adminWaitText(t, ctx, `[data-testid=filters-count]`, "1")

		// Days in the shop's zone: from the 10th to the 11th leaves out the 12th.
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=filters-reset]`)))
		adminSet(t, ctx, `[data-testid=filter-last_seen_at-from]`, "2020-01-10")
		adminSet(t, ctx, `[data-testid=filter-last_seen_at-to]`, "2020-01-11")
		waitNames([]string{"Bob", "Alexey"})
		browsertest.Screenshot(t, ctx, "customers_filtered")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=filters-reset]`)))
		adminWaitText(t, ctx, `[data-testid=customers-pager-info]`, "1–10 of 13")

		for _, col := range []string{"last_seen_at", "privacy_consented_at", "created_at"} {
			if tip := adminEval[string](t, ctx, fmt.Sprintf(`document.querySelector('th[data-col=%s] [data-testid=help-%s]').dataset.tip`, col, col)); tip == "" {
				t.Errorf("column %s has no help", col)
			}
		}
		adminDo(t, ctx, chromedp.Focus(chromedp.CSS(`[data-testid=help-last_seen_at]`)))
		adminWaitText(t, ctx, `#tooltip`, "When the customer last opened the Mini App.")
		adminWait(t, ctx, `document.querySelector('#tooltip').matches(':popover-open')`)
		browsertest.Screenshot(t, ctx, "customers_tooltip")

		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=columns-toggle]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=column-last_name]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=column-tracking_id]`)))
		adminWaitCount(t, ctx, `th[data-col=last_name]`, 0)
		adminWaitCount(t, ctx, `th[data-col=tracking_id]`, 1)
		browsertest.Screenshot(t, ctx, "customers_columns")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=column-last_name]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=column-tracking_id]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=page-title]`)))
		adminWaitCount(t, ctx, `th[data-col=last_name]`, 1)
		adminWaitCount(t, ctx, `th[data-col=tracking_id]`, 0)
		adminWaitCount(t, ctx, `[data-testid=columns-menu][open]`, 0)
	})

	t.Run("SendMessage", func(t *testing.T) {
		// Ensure the dialog refuses an empty or too long text, sends a
		// valid one to Telegram and shows its message id, and shows
		// Telegram-side refusals.
		adminSet(t, ctx, `[data-testid=customers-search]`, "alexey")
		adminWaitCount(t, ctx, `[data-testid=customer-row]`, 1)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=send-message-%d]`, e.ids["Alexey"]))),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=message-dialog]`)))
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=message-send]`)))
		adminWaitText(t, ctx, `[data-testid=message-error]`, "Enter a message.")
		adminSet(t, ctx, `[data-testid=message-text]`, strings.Repeat("я", 4097))
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=message-send]`)))
		adminWaitText(t, ctx, `[data-testid=message-error]`, "Too long: 4,097 characters; Telegram accepts at most 4,096.")
		// Other messages (order notices to buyers) may reach the fake
		// Telegram meanwhile: look at the admin's texts only.
		withText := func(text string) (out []adminSentMessage) {
			for _, m := range e.tg.messages() {
				if m.Text == text {
					out = append(out, m)
				}
			}
			return out
		}
		for _, m := range e.tg.messages() {
			if m.Text == "" || utf8.RuneCountInString(m.Text) > 4096 {
				t.Fatalf("an invalid text reached Telegram: %d characters", utf8.RuneCountInString(m.Text))
			}
		}
		const text = "Your order is ready 📦 <b>not bold</b>"
		adminSet(t, ctx, `[data-testid=message-text]`, "")
		adminDo(t, ctx, chromedp.SendKeys(chromedp.CSS(`[data-testid=message-text]`), text))
		adminWaitText(t, ctx, `[data-testid=message-count]`, "37 / 4,096")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=message-send]`)))
		// The message is queued (the dialog shows its number in the
		// outbox), then sent in the background.
		adminWait(t, ctx, `/^[0-9]+$/.test((document.querySelector('[data-testid=message-id]') || {}).textContent || '')`)
		browsertest.Screenshot(t, ctx, "message_sent")
		for deadline := time.Now().Add(15 * time.Second); len(withText(text)) == 0 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		got := withText(text)
		if len(got) != 1 || got[0].ChatID != e.tgIDs["Alexey"] || got[0].Text != text || got[0].Token != e.srv.Config.BotToken {
			t.Fatalf("Telegram got %+v", got)
		}
		adminDo(t, ctx, chromedp.KeyEvent(kb.Escape))
		adminWaitCount(t, ctx, `[data-testid=message-dialog]`, 0)

		// Bob has not allowed the bot to write: the API's 409 is shown.
		adminSet(t, ctx, `[data-testid=customers-search]`, "bobsmith")
		adminWaitCount(t, ctx, `[data-testid=customer-row]`, 1)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=send-message-%d]`, e.ids["Bob"]))),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=message-dialog]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=message-text]`), "Hello"),
			chromedp.Click(chromedp.CSS(`[data-testid=message-send]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=message-result]').dataset.status === 'error'`)
		if got := adminText(t, ctx, `[data-testid=message-error-result]`); !strings.HasPrefix(got, "HTTP 409") || !strings.Contains(got, "not allowed the bot") {
			t.Errorf("error shown = %q", got)
		}
		browsertest.Screenshot(t, ctx, "message_refused")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=message-cancel]`)))
		adminWaitCount(t, ctx, `[data-testid=message-dialog]`, 0)
		if n, hello := len(withText(text)), len(withText("Hello")); n != 1 || hello != 0 {
			t.Errorf("Telegram got the admin's message %d times and the refused one %d times", n, hello)
		}
	})

	t.Run("UntrustedText", func(t *testing.T) {
		// Ensure a customer named like markup shows as text, creates no
		// element and runs nothing, in the table and in the dialog.
		adminSet(t, ctx, `[data-testid=customers-search]`, "onerror")
		adminWaitCount(t, ctx, `[data-testid=customer-row]`, 1)
		adminWaitText(t, ctx, `[data-testid=customer-row] td[data-col=first_name]`, adminXSSName)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=send-message-%d]`, e.ids["xss"]))),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=message-dialog]`)))
		adminWaitText(t, ctx, `[data-testid=message-recipient]`, adminXSSName+` "><script>alert(2)</script>`)
		browsertest.Screenshot(t, ctx, "untrusted_text")
		adminDo(t, ctx, chromedp.KeyEvent(kb.Escape))
		adminWaitCount(t, ctx, `[data-testid=message-dialog]`, 0)
		if n := adminCount(t, ctx, `[data-testid=customers-table] img, [data-testid=customers-table] script`); n != 0 {
			t.Errorf("%d elements were made from customer data", n)
		}
		if got := adminEval[[]string](t, ctx, `window.__xss`); len(got) != 0 {
			t.Errorf("untrusted text ran or made elements: %q", got)
		}
		adminSet(t, ctx, `[data-testid=customers-search]`, "")
	})

	t.Run("Logs", func(t *testing.T) {
		// Ensure 15 entries a page with level badges, newest first, search, and
		// the entry dialog, which closes on Escape and on a click outside.
		adminGo(t, ctx, "logs")
		adminWaitCount(t, ctx, `[data-testid=log-row]`, 15)
		adminDo(t, ctx, chromedp.WaitEnabled(chromedp.CSS(`[data-testid=logs-pager-next]`)))
		browsertest.Screenshot(t, ctx, "logs_page")
		adminDo(t, ctx, chromedp.SendKeys(chromedp.CSS(`[data-testid=logs-search]`), "adminlog"))
		adminWaitCount(t, ctx, `[data-testid=log-row]`, 3)
		levels := func() []string {
			return adminEval[[]string](t, ctx, `[...document.querySelectorAll('[data-testid=log-row] [data-testid=log-level]')].map(b => b.dataset.level + ':' + b.className)`)
		}
		if got := strings.Join(levels(), ","); got != "error:badge level-error,warn:badge level-warn,info:badge level-info" {
			t.Errorf("levels newest first = %s", got)
		}
		// The server orders entries by time across pages: no column re-sorts
		// one page.
		if n := adminCount(t, ctx, `[data-testid=logs-table] [data-testid^=sort-]`); n != 0 {
			t.Errorf("%d sortable log columns", n)
		}
		if got := adminText(t, ctx, `[data-testid=log-row] [data-testid=log-message]`); !strings.HasPrefix(got, "adminlog <script>alert(3)</script>") {
			t.Errorf("message cell = %q", got)
		}
		browsertest.Screenshot(t, ctx, "logs")

		open := func() {
			t.Helper()
			adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=log-view-0]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=log-dialog]`)))
		}
		open()
		var entries struct {
			Data []struct {
				Time    time.Time `json:"time"`
				TimeRaw string    `json:"time_raw"`
				Raw     string    `json:"raw"`
			} `json:"data"`
		}
		e.get(t, "logs?search=adminlog", &entries)
		adminWaitText(t, ctx, `[data-testid=log-dialog-time-raw]`, entries.Data[0].TimeRaw)
		adminWaitText(t, ctx, `[data-testid=log-dialog-raw-line]`, entries.Data[0].Raw)
		adminWaitText(t, ctx, `[data-testid=log-dialog-channel]`, "payments")
		if got := adminText(t, ctx, `[data-testid=log-dialog-level]`); got != "ERROR" {
			t.Errorf("level = %q", got)
		}
		if want := entries.Data[0].Time.UTC().Format("2 Jan 2006, 15:04:05"); adminText(t, ctx, `[data-testid=log-dialog-time]`) != want {
			t.Errorf("formatted time = %q, want %q (the shop's zone is UTC so far)", adminText(t, ctx, `[data-testid=log-dialog-time]`), want)
		}
		if got := adminText(t, ctx, `[data-testid=log-dialog-context-json]`); !strings.Contains(got, "{\n  \"order_id\": 43,\n  \"error\": \"card declined\"\n}") {
			t.Errorf("context = %q", got)
		}
		// Long unbroken text wraps: nothing scrolls sideways.
		if wide := adminEval[[]string](t, ctx, `[...document.querySelectorAll('[data-testid=log-dialog] .dialog-body, [data-testid=log-dialog] pre')]
			.filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.className)`); len(wide) != 0 {
			t.Errorf("these overflow sideways: %q", wide)
		}
		browsertest.Screenshot(t, ctx, "logs_dialog")
		adminDo(t, ctx, chromedp.KeyEvent(kb.Escape))
		adminWaitCount(t, ctx, `[data-testid=log-dialog]`, 0)
		open()
		adminDo(t, ctx, chromedp.MouseClickXY(8, 450))
		adminWaitCount(t, ctx, `[data-testid=log-dialog]`, 0)
		adminSet(t, ctx, `[data-testid=logs-search]`, "")
	})

	t.Run("PulseEvents", func(t *testing.T) {
		// Ensure failed events show attempts and reasons, and requeueing one,
		// a selection and then all of them sends them again.
		var failed struct {
			Data []struct {
				ID        int64  `json:"id"`
				Attempts  int    `json:"attempts"`
				LastError string `json:"last_error"`
			} `json:"data"`
			Meta struct{ Total int64 } `json:"meta"`
		}
		e.get(t, "pulse/events?status=failed", &failed)
		if len(failed.Data) < 3 {
			t.Fatalf("failed events: %+v", failed)
		}
		adminGo(t, ctx, "pulse")
		adminWaitCount(t, ctx, `.pulse-row`, len(failed.Data))
		first := failed.Data[0]
		adminWaitText(t, ctx, fmt.Sprintf(`[data-testid=pulse-row-%d] [data-testid=pulse-reason]`, first.ID), first.LastError)
		if !strings.Contains(first.LastError, adminPulseReason) {
			t.Errorf("reason %q", first.LastError)
		}
		if got := adminText(t, ctx, fmt.Sprintf(`[data-testid=pulse-row-%d] td:nth-child(4)`, first.ID)); got != fmt.Sprint(first.Attempts) {
			t.Errorf("attempts shown %q, want %d", got, first.Attempts)
		}
		browsertest.Screenshot(t, ctx, "pulse_failed")

		e.pulse.failing.Store(false)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=pulse-requeue-%d]`, first.ID))))
		adminWait(t, ctx, `document.querySelector('[data-testid=pulse-requeued]')?.dataset.count === '1'`)
		adminWaitCount(t, ctx, `.pulse-row`, len(failed.Data)-1)

		second := failed.Data[1]
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=pulse-select-%d]`, second.ID))))
		adminWaitText(t, ctx, `[data-testid=pulse-requeue-selected]`, "Requeue selected (1)")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=pulse-requeue-selected]`)))
		adminWaitCount(t, ctx, `.pulse-row`, len(failed.Data)-2)

		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=pulse-requeue-all]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-dialog]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=confirm-ok]`)))
		adminWait(t, ctx, fmt.Sprintf(`document.querySelector('[data-testid=pulse-requeued]')?.dataset.count === '%d'`, len(failed.Data)-2))
		adminWaitCount(t, ctx, `.pulse-row`, 0)

		deadline := time.Now().Add(10 * time.Second)
		for {
			var st struct{ Pending, Sending, Failed, Sent int64 }
			e.get(t, "pulse/stats?fresh=1", &st)
			if st.Failed == 0 && st.Pending == 0 && st.Sending == 0 && st.Sent >= int64(len(failed.Data)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("requeued events were not sent: %+v", st)
			}
			time.Sleep(50 * time.Millisecond)
		}
		adminSet(t, ctx, `[data-testid=pulse-status]`, "sent")
		adminWait(t, ctx, fmt.Sprintf(`document.querySelectorAll('.pulse-row').length >= %d`, len(failed.Data)))
		browsertest.Screenshot(t, ctx, "pulse_sent")
		adminSet(t, ctx, `[data-testid=pulse-status]`, "failed")
	})

	t.Run("Settings", func(t *testing.T) {
		// Ensure a 422 shows next to its field, and that the aspect ratio
		// chosen in the dropdown changes the storefront's image heights.
		heights := func() []int {
			var p struct {
				Data []struct {
					Images []struct{ Height int } `json:"images"`
				} `json:"data"`
			}
			call(t, "GET", e.base+"/api/products", e.buyerInit, "", nil, http.StatusOK, &p)
			var out []int
			for _, d := range p.Data {
				for _, img := range d.Images {
					out = append(out, img.Height)
				}
			}
			return out
		}
		if h := heights(); len(h) == 0 || h[0] != 300 {
			t.Fatalf("heights before = %v", h)
		}
		adminGo(t, ctx, "settings")
		adminWait(t, ctx, `document.querySelector('[data-testid=aspect-ratio-0]')`)
		if n := adminCount(t, ctx, `[data-testid=settings] input[name*=width], [data-testid=settings] input[name*=height]`); n != 0 {
			t.Errorf("%d width/height inputs", n)
		}
		opts := adminEval[[]string](t, ctx, `[...document.querySelectorAll('[data-testid=aspect-ratio-0] option')].map(o => o.value)`)
		if strings.Join(opts, " ") != "1:1 4:5 3:4 2:3" {
			t.Errorf("aspect ratio options %q", opts)
		}
		if v := adminEval[string](t, ctx, `document.querySelector('[data-testid=setting-bot_token]').value`); !strings.HasPrefix(v, "••••") {
			t.Errorf("bot token shown as %q, want it masked", v)
		}

		adminSet(t, ctx, `[data-testid=setting-privacy_policy_link]`, "http://shop.example/privacy")
		adminSet(t, ctx, `[data-testid=aspect-ratio-0]`, "3:4")
		adminWaitText(t, ctx, `[data-testid=aspect-ratio-help-0]`, "3:4 — portrait, classic photo format; taller, good for clothing and bottles")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)))
		adminWait(t, ctx, `document.querySelector('[data-error-for=privacy_policy_link]').textContent !== ''`)
		if !adminEval[bool](t, ctx, `document.querySelector('[name=privacy_policy_link]').classList.contains('invalid')`) {
			t.Error("the invalid field is not marked")
		}
		browsertest.Screenshot(t, ctx, "settings_invalid")
		if h := heights(); h[0] != 300 {
			t.Fatalf("a refused save changed the heights: %v", h)
		}

		adminSet(t, ctx, `[data-testid=setting-privacy_policy_link]`, "https://shop.example/privacy")
		adminSet(t, ctx, `[data-testid=setting-time_zone]`, "Europe/Moscow")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=settings-saved]`)))
		adminWaitText(t, ctx, `[data-testid=shop-tz]`, "Times in Europe/Moscow")
		for _, h := range heights() {
			if h != 400 {
				t.Fatalf("heights after 3:4 = %v, want 400", heights())
			}
		}
		var s struct {
			BotToken string `json:"bot_token"`
		}
		e.get(t, "settings", &s)
		if want := "••••"; s.BotToken != want {
			t.Errorf("saving changed the bot token: %q, want %q", s.BotToken, want)
		}
		browsertest.Screenshot(t, ctx, "settings")

		// Ensure a bot token Telegram refuses is shown as the token's
		// error and not saved; a good one shows the bot's username; the
		// demo's own token goes back the same way.
		adminSet(t, ctx, `[data-testid=setting-bot_token]`, "1234:mistyped-token")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)))
		adminWait(t, ctx, `document.querySelector('[data-error-for=bot_token]').textContent.includes('Telegram does not accept')`)
		adminSet(t, ctx, `[data-testid=setting-bot_token]`, adminNewBotToken)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=settings-saved]`)))
		adminWaitText(t, ctx, `[data-testid=bot-username]`, "Bot: @new_demo_bot")
		browsertest.Screenshot(t, ctx, "settings_bot")
		adminSet(t, ctx, `[data-testid=setting-bot_token]`, e.srv.Config.BotToken)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=settings-saved]`)))
		adminWaitText(t, ctx, `[data-testid=bot-username]`, "Bot: @demo_shop_bot")

		// Ensure the bot card shows the bot Telegram knows and how updates
		// arrive, says when Telegram does not answer about the webhook, and
		// saves a greeting per language, the webhook secret kept masked.
		adminWaitText(t, ctx, `[data-testid=bot-state-username]`, "@demo_shop_bot")
		adminWaitText(t, ctx, `[data-testid=bot-state-updates]`, "off (the bot does not hear /start)")
		adminWaitText(t, ctx, `[data-testid=bot-state-webhook]`, "unknown (Telegram did not answer)")
		if txt := adminText(t, ctx, `[data-testid=bot-state]`); strings.Contains(txt, "null") || !strings.Contains(txt, "404") {
			t.Errorf("bot state = %q", txt)
		}
		if ph := adminEval[string](t, ctx, `document.querySelector('[data-testid=setting-bot_greeting-ru]').placeholder`); !strings.Contains(ph, "{first_name}") {
			t.Errorf("ru greeting placeholder = %q, want the default", ph)
		}
		adminSet(t, ctx, `[data-testid=setting-bot_greeting-ru]`, "Привет, {first_name}!")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=settings-saved]`)))
		var g struct {
			BotGreeting   map[string]string `json:"bot_greeting"`
			WebhookSecret string            `json:"webhook_secret"`
		}
		e.get(t, "settings", &g)
		if len(g.BotGreeting) != 1 || g.BotGreeting["ru"] != "Привет, {first_name}!" || g.WebhookSecret != "••••" {
			t.Errorf("saved bot settings = %+v", g)
		}
		browsertest.Screenshot(t, ctx, "settings_bot_card")
	})

	t.Run("Forms", func(t *testing.T) {
		// Ensure JSON errors are caught before saving and the server's 422
		// field messages are listed; a valid schema saves.
		var before struct {
			Title  string            `json:"title"`
			Schema []json.RawMessage `json:"schema"`
		}
		e.get(t, "forms/checkout", &before)
		adminGo(t, ctx, "forms")
		adminWait(t, ctx, `document.querySelector('[data-testid=form-json-status]')?.dataset.valid === 'true'`)
		orig := adminEval[string](t, ctx, `document.querySelector('[data-testid=form-schema]').value`)
		adminSet(t, ctx, `[data-testid=form-schema]`, "[\n  {\"$formkit\": \"text\", \"name\": }\n]")
		adminWait(t, ctx, `document.querySelector('[data-testid=form-json-status]').dataset.valid === 'false'`)
		if got := adminText(t, ctx, `[data-testid=form-json-status]`); !strings.HasPrefix(got, "Invalid JSON at line 2, column") {
			t.Errorf("parse error = %q", got)
		}
		if !adminEval[bool](t, ctx, `document.querySelector('[data-testid=form-save]').disabled`) {
			t.Error("save is enabled with invalid JSON")
		}
		browsertest.Screenshot(t, ctx, "forms_parse_error")

		adminSet(t, ctx, `[data-testid=form-schema]`, `[{"$formkit": "rocket", "name": "name", "label": "Name"}]`)
		adminWait(t, ctx, `document.querySelector('[data-testid=form-json-status]').dataset.valid === 'true'`)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=form-save]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=form-server-error]`)))
		fields := adminEval[[]string](t, ctx, `[...document.querySelectorAll('[data-testid=form-server-error] li')].map(li => li.dataset.field)`)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "schema[0]") {
			t.Errorf("field messages for %q", fields)
		}
		if !strings.HasPrefix(adminText(t, ctx, `[data-testid=form-server-error]`), "HTTP 422") {
			t.Errorf("server error = %q", adminText(t, ctx, `[data-testid=form-server-error]`))
		}
		browsertest.Screenshot(t, ctx, "forms_server_error")

		adminSet(t, ctx, `[data-testid=form-schema]`, orig)
		adminSet(t, ctx, `[data-testid=form-title]`, "Checkout (admin test)")
		adminWait(t, ctx, `document.querySelector('[data-testid=form-json-status]').dataset.valid === 'true'`)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=form-save]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=form-saved]`)))
		var after struct {
			Title  string            `json:"title"`
			Schema []json.RawMessage `json:"schema"`
		}
		e.get(t, "forms/checkout", &after)
		if after.Title != "Checkout (admin test)" || len(after.Schema) != len(before.Schema) {
			t.Errorf("saved form %q with %d nodes, had %d", after.Title, len(after.Schema), len(before.Schema))
		}
		browsertest.Screenshot(t, ctx, "forms")
	})

	t.Run("Scheduler", func(t *testing.T) {
		// Ensure every task the API lists is shown with its schedule.
		var tasks struct {
			Data []struct {
				Name, Schedule string
				LastErrorAt    *time.Time `json:"last_error_at"`
			} `json:"data"`
		}
		e.get(t, "scheduler", &tasks)
		adminGo(t, ctx, "scheduler")
		adminWaitCount(t, ctx, `[data-testid=task-row]`, len(tasks.Data))
		for _, task := range tasks.Data {
			sel := fmt.Sprintf(`[data-testid=task-row][data-name=%s] td:nth-child(2)`, task.Name)
			adminWaitText(t, ctx, sel, task.Schedule)
		}
		adminWaitText(t, ctx, `[data-name=customers_recount] [data-testid=task-status]`, "OK")
		if got := adminText(t, ctx, `[data-name=customers_recount] [data-testid=task-duration]`); !strings.HasSuffix(got, " ms") && !strings.HasSuffix(got, " s") {
			t.Errorf("duration = %q", got)
		}
		// The error badge's tooltip says when and why, as text.
		badge := `[data-testid=task-error-admin_failing]`
		tip := adminEval[string](t, ctx, fmt.Sprintf(`document.querySelector(%s).dataset.tip`, adminJS(badge)))
		for _, task := range tasks.Data {
			if task.Name != "admin_failing" || task.LastErrorAt == nil {
				continue
			}
			// In the shop's zone, set to Moscow (UTC+3 all year) by Settings.
			want := task.LastErrorAt.In(time.FixedZone("MSK", 3*3600)).Format("2 Jan 2006, 15:04:05") + ": " + adminTaskError
			if tip != want {
				t.Errorf("error tooltip = %q, want %q", tip, want)
			}
		}
		adminDo(t, ctx, chromedp.Focus(chromedp.CSS(badge)))
		adminWaitText(t, ctx, `#tooltip`, tip)
		if n := adminCount(t, ctx, `#tooltip *`); n != 0 {
			t.Errorf("the tooltip holds %d elements", n)
		}
		browsertest.Screenshot(t, ctx, "scheduler")
	})

	t.Run("Russian", func(t *testing.T) {
		// Ensure the language switch translates the page and keeps the view.
		adminGo(t, ctx, "dashboard")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=lang-ru]`)))
		adminWaitText(t, ctx, `[data-testid=nav-customers]`, "Покупатели")
		adminWaitText(t, ctx, `[data-testid=page-title]`, "Сводка")
		adminWait(t, ctx, `document.querySelector('[data-testid=dashboard]')?.dataset.loaded`)
		adminWaitText(t, ctx, `[data-testid=shop-tz]`, "Время: Europe/Moscow")
		browsertest.Screenshot(t, ctx, "dashboard_ru")
		adminGo(t, ctx, "customers")
		browsertest.Screenshot(t, ctx, "customers_ru")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=lang-en]`)))
		adminWaitText(t, ctx, `[data-testid=nav-customers]`, "Customers")
	})

	t.Run("Narrow", func(t *testing.T) {
		// Ensure the layout fits a phone: the page does not scroll sideways.
		adminDo(t, ctx, chromedp.EmulateViewport(390, 844))
		adminGo(t, ctx, "dashboard")
		adminWait(t, ctx, `document.querySelector('[data-testid=dashboard]')?.dataset.loaded`)
		if w := adminEval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
			t.Errorf("the dashboard is %d px too wide for a phone", w)
		}
		browsertest.Screenshot(t, ctx, "dashboard_narrow")
		adminGo(t, ctx, "customers")
		if w := adminEval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
			t.Errorf("the customers page is %d px too wide for a phone", w)
		}
		browsertest.Screenshot(t, ctx, "customers_narrow")
		adminDo(t, ctx, chromedp.EmulateViewport(1280, 900))
	})

	t.Run("SessionEnds", func(t *testing.T) {
		// Ensure a 401 from any call forgets the token and shows sign-in.
		adminEval[bool](t, ctx, `(sessionStorage.setItem('telecart.admin.token', 'revoked'), true)`)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=nav-logs]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-notice]`)))
		if got := adminEval[*string](t, ctx, `sessionStorage.getItem('telecart.admin.token')`); got != nil {
			t.Errorf("token kept after 401: %q", *got)
		}
		adminDo(t, ctx, chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), e.srv.Config.AdminToken+"\n"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=logs-table]`)))
		if got := adminEval[[]string](t, ctx, `window.__xss`); len(got) != 0 {
			t.Errorf("untrusted text ran or made elements: %q", got)
		}
		// Nothing threw, and the page kept to its Content-Security-Policy.
		if got := adminEval[[]string](t, ctx, `window.__errors`); len(got) != 0 {
			t.Errorf("page errors: %q", got)
		}
	})
}
