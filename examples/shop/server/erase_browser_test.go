package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
)

// Ensure the admin's "Erase personal data" action in a real browser: it
// asks first (cancel erases nothing), then erases, and the list shows the
// row marked erased, without the person's name or username, while their
// orders count stays.
func TestAdminEraseCustomer(t *testing.T) {
	ctx := browsertest.New(t, 50*time.Second)
	srv, base := MustStart(t, migrator.SQLite, func(c *server.Config) { c.AdminToken = "admin-secret-token" })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	const userID = 9300
	initData := telegram.SignInitData(srv.Config.BotToken, telegram.SignParams{User: &telegram.User{ID: userID,
		FirstName: "Zinaida", LastName: "Quokkova", Username: "zina_quokka", AllowsWriteToPM: true}}, time.Now())
	var c struct {
		ID int64 `json:"id"`
	}
	call(t, "POST", base+"/api/customers", initData, "", nil, http.StatusOK, &c)
	var products struct {
		Data []struct {
			ID      string `json:"id"`
			InStock bool   `json:"in_stock"`
		} `json:"data"`
	}
	call(t, "GET", base+"/api/products", initData, "", nil, http.StatusOK, &products)
	product := ""
	for _, p := range products.Data {
		if p.InStock {
			product = p.ID
			break
		}
	}
	call(t, "POST", base+"/api/orders", initData, "", map[string]any{
		"order_key": "3e5a7c9b-0000-4000-8000-000000000001",
		"items":     []any{map[string]any{"product_id": product, "quantity": 1}},
		"fields":    map[string]any{"name": "Zinaida Quokkova", "phone": "+7 900 000-00-00", "delivery": "pickup"},
	}, http.StatusCreated, nil)

	adminDo(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-token]`)))
	adminEval[bool](t, ctx, `(() => { window.__errors = []; addEventListener('error', (e) => window.__errors.push(String(e.message))); return true; })()`)
	adminDo(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), srv.Config.AdminToken+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=dashboard]`)))
	adminGo(t, ctx, "customers")
	row := fmt.Sprintf(`[data-testid=customer-row][data-id="%d"]`, c.ID)
	adminWaitCount(t, ctx, row, 1)
	if got := adminText(t, ctx, row); !strings.Contains(got, "Zinaida") {
		t.Fatalf("row before erasure: %q", got)
	}
	erase := fmt.Sprintf(`[data-testid=erase-%d]`, c.ID)

	// Cancel: nothing happens.
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(erase)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-dialog]`)))
	if q := adminText(t, ctx, `[data-testid=confirm-dialog]`); !strings.Contains(q, "Zinaida") || !strings.Contains(q, "Erase") {
		t.Errorf("the confirmation asks %q", q)
	}
	browsertest.Screenshot(t, ctx, "erase_confirm")
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=confirm-cancel]`)))
	adminWaitCount(t, ctx, `[data-testid=confirm-dialog][open]`, 0)
	if _, err := srv.TeleCart.Customers().GetByTelegramID(t.Context(), userID); err != nil {
		t.Fatalf("cancel erased the customer: %v", err)
	}

	// Confirm: the row is erased and marked.
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(erase)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-dialog]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=confirm-ok]`)))
	adminWaitCount(t, ctx, fmt.Sprintf(`%s [data-testid=erased-%d]`, row, c.ID), 1)
	browsertest.Screenshot(t, ctx, "erased_row")
	got := adminText(t, ctx, row)
	if strings.Contains(got, "Zinaida") || strings.Contains(got, "Quokkova") || strings.Contains(got, "zina_quokka") || !strings.Contains(got, "Erased") {
		t.Fatalf("erased row reads %q", got)
	}
	if n := adminCount(t, ctx, erase); n != 0 {
		t.Error("an erased row still offers the erase action")
	}
	stored, err := srv.TeleCart.Customers().Get(t.Context(), c.ID)
	if err != nil || !stored.Erased() || stored.FirstName != "" || stored.OrdersCount != 1 {
		t.Fatalf("stored after erasure: %+v, %v", stored, err)
	}
	if errs := adminEval[[]string](t, ctx, `window.__errors`); len(errs) != 0 {
		t.Fatalf("page errors: %q", errs)
	}
}
