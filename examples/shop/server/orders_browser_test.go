package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/telegram"
)

type ordersPage struct {
	Data []struct {
		ID       string `json:"id"`
		URL      string `json:"url"`
		Customer struct {
			ID int64 `json:"id"`
		} `json:"customer"`
		CampaignID string `json:"campaign_id"`
	} `json:"data"`
	Meta struct {
		Total int64 `json:"total"`
	} `json:"meta"`
}

func (p ordersPage) ids() string {
	var ids []string
	for _, o := range p.Data {
		ids = append(ids, o.ID)
	}
	return strings.Join(ids, ",")
}

// ordersFieldLabels is the order dialog's field names, top to bottom.
const ordersFieldLabels = `[...document.querySelectorAll('[data-testid=order-fields] dt')].map(d => d.textContent).join('|')`

// ordersShown is the ids of the orders view's rows, top to bottom.
const ordersShown = `[...document.querySelectorAll('[data-testid=order-row]')].map(r => r.dataset.id).join(',')`

// Ensure the admin panel's Orders page lists the API's orders newest first,
// filters them by campaign and by customer (also from a customer's row in
// the customers view), shows an order's lines and fields, links each order
// to the demo shop's own order page, renders customers' names as text, and
// speaks Russian.
func TestAdminOrders(t *testing.T) {
	e := adminStart(t)
	ctx := e.ctx

	// Besides Olga's two orders under the admin_test campaign: one from a
	// buyer who came with no campaign, and one from the customer whose name
	// is markup.
	sign := func(u telegram.User) string {
		return telegram.SignInitData(e.srv.Config.BotToken, telegram.SignParams{User: &u}, time.Now())
	}
	order := func(initData, key string) {
		var products struct {
			Data []struct {
				ID      string `json:"id"`
				InStock bool   `json:"in_stock"`
			} `json:"data"`
		}
		call(t, "GET", e.base+"/api/products", initData, "", nil, http.StatusOK, &products)
		for _, p := range products.Data {
			if p.InStock {
				call(t, "POST", e.base+"/api/orders", initData, "", map[string]any{
					"order_key": key, "items": []any{map[string]any{"product_id": p.ID, "quantity": 1}},
					"fields": map[string]any{"name": "Nina", "phone": "+7 900 000-00-01", "delivery": "pickup"},
				}, http.StatusCreated, nil)
				return
			}
		}
		t.Fatal("no product in stock")
	}
	nina := sign(telegram.User{ID: 9300, FirstName: "Nina", Username: "nina", AllowsWriteToPM: true})
	call(t, "POST", e.base+"/api/customers", nina, "", nil, http.StatusOK, nil)
	order(nina, "0d6f2a9e-0000-4000-8000-000000000101")
	order(sign(telegram.User{ID: 9201, FirstName: adminXSSName, LastName: `"><script>alert(2)</script>`, AllowsWriteToPM: true}),
		"0d6f2a9e-0000-4000-8000-000000000102")

	var all ordersPage
	e.get(t, "orders", &all)
	if all.Meta.Total != 4 || len(all.Data) != 4 {
		t.Fatalf("the API lists %d orders: %+v", all.Meta.Total, all)
	}
	for _, o := range all.Data {
		if o.URL != "/shop/orders/"+o.ID {
			t.Fatalf("order %s links to %q", o.ID, o.URL)
		}
	}

	adminDo(t, ctx, chromedp.Navigate(e.base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-token]`)))
	trap := `(() => {
		window.__xss = []; window.__errors = [];
		window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
		window.alert = (m) => window.__xss.push('alert:' + m);
		new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) {
			if (n.nodeType !== 1) continue;
			for (const el of [n, ...n.querySelectorAll('img, script')]) {
				if (el.tagName === 'IMG' || el.tagName === 'SCRIPT') window.__xss.push(el.outerHTML);
			}
		}}).observe(document, {childList: true, subtree: true});
		return true;
	})()`
	adminEval[bool](t, ctx, trap)
	checkTrap := func(t *testing.T) {
		t.Helper()
		if got := adminEval[[]string](t, ctx, `window.__xss.concat(window.__errors)`); len(got) != 0 {
			t.Fatalf("script ran or the page failed: %q", got)
		}
	}
	adminDo(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), e.srv.Config.AdminToken+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=dashboard]`)))

	t.Run("List", func(t *testing.T) {
		// Ensure every order is listed newest first, as the API lists them,
		// each linking to the host's page of it, which opens.
		adminGo(t, ctx, "orders")
		adminWaitCount(t, ctx, `[data-testid=order-row]`, 4)
		if got := adminEval[string](t, ctx, ordersShown); got != all.ids() {
			t.Fatalf("rows %s; the API lists %s", got, all.ids())
		}
		browsertest.Screenshot(t, ctx, "orders")
		first := all.Data[0]
		href := adminEval[string](t, ctx, `document.querySelector('[data-testid=order-row] [data-testid=order-link]').href`)
		if href != e.base+"/shop/orders/"+first.ID {
			t.Fatalf("the first order links to %q", href)
		}
		if rel := adminEval[string](t, ctx, `document.querySelector('[data-testid=order-link]').rel`); !strings.Contains(rel, "noopener") {
			t.Fatalf("rel %q", rel)
		}
		resp, err := http.Get(href)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Order "+first.ID) || strings.Contains(string(body), "+7 900") {
			t.Fatalf("the host's order page: %d %s", resp.StatusCode, body)
		}
		// The markup name is text.
		if n := adminEval[int](t, ctx, `[...document.querySelectorAll('[data-testid=order-customer]')].filter(a => a.textContent.includes('<img src=x')).length`); n != 1 {
			t.Fatalf("%d rows show the markup name as text, want 1", n)
		}
	})

	t.Run("Dialog", func(t *testing.T) {
		// Ensure an order's dialog shows its lines, total and checkout
		// fields, named by the checkout form's labels in its order, a
		// choice by its option's label.
		nina := all.Data[1] // placed before the markup customer's
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="order-view-%s"]`, nina.ID))))
		adminWaitCount(t, ctx, `[data-testid=order-dialog] [data-testid=order-line]`, 1)
		adminWaitText(t, ctx, `[data-testid=order-field-name]`, "Nina")
		if got := adminEval[string](t, ctx, ordersFieldLabels); got != "Name|Phone|Delivery" {
			t.Fatalf("the fields are named %q", got)
		}
		if got := adminText(t, ctx, `[data-testid=order-field-delivery]`); got != "Pickup" {
			t.Fatalf("delivery shows %q", got)
		}
		if got := adminText(t, ctx, `[data-testid=order-dialog-customer]`); got != "Nina (@nina)" {
			t.Fatalf("dialog customer %q", got)
		}
		if got := adminEval[string](t, ctx, `document.querySelector('[data-testid=order-dialog-link]').getAttribute('href')`); !strings.HasSuffix(got, "/shop/orders/"+nina.ID) {
			t.Fatalf("dialog link %q", got)
		}
		adminDo(t, ctx, chromedp.KeyEvent(kb.Escape))
		adminWaitCount(t, ctx, `[data-testid=order-dialog]`, 0)
	})

	t.Run("CampaignFilter", func(t *testing.T) {
		// Ensure the campaign filter keeps the campaign's orders, as the
		// API does, and is kept in the address.
		var want ordersPage
		e.get(t, "orders?campaign_id=admin_test", &want)
		if len(want.Data) < 2 {
			t.Fatalf("admin_test has %d orders", len(want.Data))
		}
		adminSet(t, ctx, `[data-testid=orders-campaign]`, "admin_test")
		adminWaitCount(t, ctx, `[data-testid=order-row]`, len(want.Data))
		if got := adminEval[string](t, ctx, ordersShown); got != want.ids() {
			t.Fatalf("rows %s; want %s", got, want.ids())
		}
		if h := adminEval[string](t, ctx, `location.hash`); h != "#/orders?campaign_id=admin_test" {
			t.Fatalf("hash %q", h)
		}
		// A malformed id asks for nothing and says why.
		adminSet(t, ctx, `[data-testid=orders-campaign]`, "no spaces")
		adminWaitText(t, ctx, `[data-testid=orders-campaign-error]`, "Up to 32 letters, digits, - or _.")
		adminSet(t, ctx, `[data-testid=orders-campaign]`, "no_such_campaign")
		adminWaitCount(t, ctx, `[data-testid=order-row]`, 0)
		adminWaitText(t, ctx, `[data-testid=orders] .empty`, "No orders match.")
		adminSet(t, ctx, `[data-testid=orders-campaign]`, "")
		adminWaitCount(t, ctx, `[data-testid=order-row]`, 4)
	})

	t.Run("CustomerFilter", func(t *testing.T) {
		// Ensure a customer's name filters the list to their orders, and
		// the chip clears it.
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=order-row][data-id="`+all.Data[1].ID+`"] [data-testid=order-customer]`)))
		adminWaitCount(t, ctx, `[data-testid=order-row]`, 1)
		adminWaitText(t, ctx, `[data-testid=orders-customer-filter] .chip`, "Customer: Nina (@nina)")
		if h := adminEval[string](t, ctx, `location.hash`); h != fmt.Sprintf("#/orders?customer_id=%d", all.Data[1].Customer.ID) {
			t.Fatalf("hash %q", h)
		}
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=orders-customer-clear]`)))
		adminWaitCount(t, ctx, `[data-testid=order-row]`, 4)
	})

	t.Run("FromCustomers", func(t *testing.T) {
		// Ensure a customer's row in the customers view leads to their
		// orders.
		var want ordersPage
		e.get(t, fmt.Sprintf("orders?customer_id=%d", e.ids["Olga"]), &want)
		if len(want.Data) != 2 {
			t.Fatalf("Olga has %d orders", len(want.Data))
		}
		adminGo(t, ctx, "customers")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=customer-orders-%d]`, e.ids["Olga"]))))
		adminWait(t, ctx, `document.querySelector('[data-view=orders]')`)
		adminWaitCount(t, ctx, `[data-testid=order-row]`, 2)
		if got := adminEval[string](t, ctx, ordersShown); got != want.ids() {
			t.Fatalf("rows %s; want %s", got, want.ids())
		}
		adminWaitText(t, ctx, `[data-testid=orders-customer-filter] .chip`, "Customer: Olga Buyer (@olga)")
		// The filter survives a reload.
		checkTrap(t)
		adminDo(t, ctx, chromedp.Reload())
		adminEval[bool](t, ctx, trap)
		adminWaitCount(t, ctx, `[data-testid=order-row]`, 2)
	})

	t.Run("Russian", func(t *testing.T) {
		// Ensure the page speaks Russian.
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=lang-ru]`)))
		adminWaitText(t, ctx, `[data-testid=page-title]`, "Заказы")
		adminWaitText(t, ctx, `[data-testid=orders-customer-filter] .chip`, "Покупатель: Olga Buyer (@olga)")
		if got := adminEval[string](t, ctx, `document.querySelector('[data-testid=orders-table] th').textContent`); got != "Заказ" {
			t.Fatalf("first column %q", got)
		}
		// The fields by the form's Russian labels.
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=order-row] [data-testid^=order-view-]`)))
		adminWaitText(t, ctx, `[data-testid=order-field-delivery]`, "Самовывоз")
		if got := adminEval[string](t, ctx, ordersFieldLabels); got != "Имя|Телефон|Доставка" {
			t.Fatalf("the fields are named %q", got)
		}
		adminDo(t, ctx, chromedp.KeyEvent(kb.Escape))
		adminWaitCount(t, ctx, `[data-testid=order-dialog]`, 0)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=lang-en]`)))
	})

	checkTrap(t)
}

// Ensure the Orders page of a shop whose host has no order pages
// (telecart.Config.OrderURL unset) lists the orders with no link to the
// host, in the rows and in an order's dialog.
func TestAdminOrdersWithoutHostLinks(t *testing.T) {
	e := adminStart(t, func(c *server.Config) { c.NoOrderLinks = true })
	ctx := e.ctx
	var all ordersPage
	e.get(t, "orders", &all)
	if len(all.Data) != 2 {
		t.Fatalf("the API lists %d orders", len(all.Data))
	}
	for _, o := range all.Data {
		if o.URL != "" {
			t.Fatalf("order %s links to %q", o.ID, o.URL)
		}
	}
	adminDo(t, ctx, chromedp.Navigate(e.base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-token]`)))
	adminDo(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), e.srv.Config.AdminToken+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=dashboard]`)))
	adminGo(t, ctx, "orders")
	adminWaitCount(t, ctx, `[data-testid=order-row]`, 2)
	if got := adminEval[string](t, ctx, ordersShown); got != all.ids() {
		t.Fatalf("rows %s; the API lists %s", got, all.ids())
	}
	// Each order's id is plain text, with no link anywhere in the table.
	if got := adminEval[string](t, ctx, `[...document.querySelectorAll('[data-testid=order-link]')].map(e => e.tagName + ':' + e.textContent).join(',')`); got != "SPAN:"+all.Data[0].ID+",SPAN:"+all.Data[1].ID {
		t.Fatalf("the ids are shown as %q", got)
	}
	if n := adminEval[int](t, ctx, `document.querySelectorAll('[data-testid=orders-table] a[target=_blank], [data-testid=orders-table] a[href*="/shop/orders/"]').length`); n != 0 {
		t.Fatalf("%d links to the host in the table", n)
	}
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="order-view-%s"]`, all.Data[0].ID))))
	adminWaitCount(t, ctx, `[data-testid=order-dialog] [data-testid=order-line]`, 1)
	adminWaitText(t, ctx, `[data-testid=order-field-name]`, "Olga")
	if n := adminEval[int](t, ctx, `document.querySelectorAll('[data-testid=order-dialog-link], [data-testid=order-dialog-url], [data-testid=order-dialog] a[target=_blank]').length`); n != 0 {
		t.Fatalf("the dialog shows %d links to the host", n)
	}
	browsertest.Screenshot(t, ctx, "orders_no_host_links")
}
