package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/internal/browsertest"
)

// startNoFlags runs the demo as `go run ./examples/shop` does, with no
// flags, in a temporary working directory (so the default database and log
// file land there), and waits for its banner. The environment is empty but
// for TELECART_ADDR when something else holds the default port.
func startNoFlags(t *testing.T) (banner string) {
	t.Helper()
	t.Chdir(t.TempDir())
	env := map[string]string{}
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err != nil {
		env["TELECART_ADDR"] = freeAddr(t)
	} else {
		ln.Close()
	}
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, out, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit code %d:\n%s", code, out.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("no graceful stop within 20s")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "  logs: ") {
		select {
		case code := <-done:
			t.Fatalf("the demo exited with %d:\n%s", code, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner within 30s:\n%s", out.String())
		}
	}
	return out.String()
}

// bannerValue returns the first group of re in the banner.
func bannerValue(t *testing.T, banner string, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("the banner lacks %s:\n%s", re, banner)
	}
	return m[1]
}

// Ensure the storefront URL the demo prints with no flags works in a plain
// browser: no Telegram script is injected, dev sign-in is on by default,
// the catalogue shows, and an order placed with the page's own buttons
// reaches the admin API.
func TestNoFlagsStorefrontInBrowser(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	banner := startNoFlags(t)
	storefront := bannerValue(t, banner, `storefront:\s+(\S+)`)
	adminToken := bannerValue(t, banner, `admin token \([^)]*\): (\S+)`)
	if !strings.Contains(banner, "dev sign-in: on (loopback address and the generated demo bot token") {
		t.Fatalf("the banner does not say dev sign-in is on and why:\n%s", banner)
	}

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(what, expr string) {
		t.Helper()
		err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('app') || document.body).outerHTML.slice(0, 3000)`))
			t.Fatalf("waiting for %s (%s): %v\npage: %s", what, expr, err, state)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluating %s: %v", expr, err)
		}
		return v
	}
	click := func(sel string) {
		t.Helper()
		do("clicking "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	}

	do("opening "+storefront, chromedp.Navigate(storefront))
	wait("the catalogue", `document.querySelectorAll('[data-testid=product-card]').length > 0`)
	if got := eval(`document.documentElement.dataset.telegram + ' ' + typeof window.Telegram + ' ' + document.querySelectorAll('script[src*="telegram"]').length`); got != "no undefined 0" {
		t.Fatalf("Telegram in the page (data-telegram, window.Telegram, script tags): %s", got)
	}
	browsertest.Screenshot(t, ctx, "storefront")

	click(`[data-testid=product-card][data-product-id=p1]`)
	wait("the page's own main button", `!document.getElementById('bottom-bar').hidden && document.getElementById('main-button').textContent === 'Add to cart'`)
	click(`#main-button`)
	wait("the product in the cart", `document.getElementById('main-button').textContent.startsWith('Go to cart')`)
	click(`#main-button`)
	wait("the cart", `document.querySelectorAll('[data-testid=cart-item]').length === 1 && document.getElementById('main-button').textContent.startsWith('Checkout')`)
	click(`#main-button`)
	wait("the checkout form", `document.querySelector('[data-testid=field-name]') !== null && document.getElementById('main-button').textContent.startsWith('Place order')`)
	do("filling the form",
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-name]`), "Plain Browser"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-phone]`), "+7 900 111-22-33"))
	click(`#main-button`)
	wait("the success page", `document.querySelector('[data-testid=success-page]') !== null`)
	orderID := strings.TrimPrefix(eval(`document.querySelector('[data-testid=order-id]').textContent`), "#")

	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(storefront, "/app/")+"/admin/api/orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var list struct {
		Data []struct {
			ID       string `json:"id"`
			Total    int64  `json:"total"`
			Customer struct {
				TelegramUserID int64 `json:"telegram_user_id"`
			} `json:"customer"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &list) != nil {
		t.Fatalf("GET /admin/api/orders = %d: %s", resp.StatusCode, raw)
	}
	if len(list.Data) != 1 || list.Data[0].ID != orderID || list.Data[0].Total != 89000 || list.Data[0].Customer.TelegramUserID != 777000 {
		t.Fatalf("admin orders %s; want one order %s of 89000 by the demo buyer 777000", raw, orderID)
	}
}
