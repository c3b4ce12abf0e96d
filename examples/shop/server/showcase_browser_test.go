package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/migrator"
)

// showcaseScheme emulates the system's colour scheme, which the storefront
// follows outside Telegram.
func showcaseScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	adminDo(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var res json.RawMessage
		return tg.Call(ctx, "Emulation.setEmulatedMedia", map[string]any{
			"features": []map[string]string{{"name": "prefers-color-scheme", "value": scheme}}}, &res)
	}))
}

// Ensure the demo with -demo-activity shows a lived-in shop in a real
// browser: the admin panel's dashboard, customers, failed Pulse events and
// a campaign's funnel, and the storefront's feed and checkout in the
// system's light and dark schemes. With TELECART_SCREENSHOTS=docs/images
// it saves the pictures the README shows, under stable names.
func TestShowcase(t *testing.T) {
	ctx := browsertest.New(t, 90*time.Second)
	s, base := MustStart(t, migrator.SQLite, func(c *server.Config) { c.DemoActivity = true })
	if s.Activity == nil || !s.Config.Dev {
		t.Fatalf("activity %v, dev sign-in %v", s.Activity, s.Config.Dev)
	}

	// The admin panel at a laptop's width. It has one, light, theme.
	adminDo(t, ctx, chromedp.EmulateViewport(1200, 780))
	showcaseScheme(t, ctx, "light")
	adminDo(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-token]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), s.Config.AdminToken+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=dashboard]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=dashboard]').dataset.loaded && document.querySelectorAll('[data-testid=chart-hour]').length === 24`)
	text := adminText(t, ctx, `[data-testid=dashboard]`)
	for _, want := range []string{strconv.Itoa(s.Activity.Orders), strconv.Itoa(s.Activity.Customers)} {
		if !strings.Contains(text, want) {
			t.Errorf("the dashboard does not show %s:\n%s", want, text)
		}
	}
	browsertest.ScreenshotAs(t, ctx, "admin-dashboard-light")

	adminGo(t, ctx, "customers")
	adminWaitCount(t, ctx, `[data-testid=customer-row]`, 20)
	adminWaitText(t, ctx, `[data-testid=customers-pager-info]`, fmt.Sprintf("1–20 of %d", s.Activity.Customers))
	browsertest.ScreenshotAs(t, ctx, "admin-customers-light")

	adminGo(t, ctx, "pulse")
	adminWaitCount(t, ctx, `.pulse-row`, s.Activity.FailedEvents)
	browsertest.ScreenshotAs(t, ctx, "admin-pulse-light")

	adminGo(t, ctx, "campaigns")
	adminWaitCount(t, ctx, `[data-testid=campaign-row]`, 3)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaign-link-tea_week]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=funnel]') && document.querySelectorAll('[data-testid=chart-day]').length >= 20`)
	steps := adminEval[[]int](t, ctx, `[...document.querySelectorAll('[data-testid=funnel] .funnel-step')].map((li) => Number(li.dataset.customers))`)
	if len(steps) != 5 || steps[0] == 0 || steps[4] == 0 || steps[4] >= steps[0] {
		t.Errorf("funnel customers per step %v, want five narrowing steps from open to order", steps)
	}
	browsertest.ScreenshotAs(t, ctx, "admin-campaign-light")

	// The storefront on a phone, signed in by dev sign-in (on by default
	// here: a loopback address and the generated bot token).
	adminDo(t, ctx, chromedp.EmulateViewport(390, 780))
	adminDo(t, ctx, chromedp.Navigate(base+"/app/"))
	adminWait(t, ctx, `document.querySelectorAll('[data-testid=product-card] img').length > 3 && [...document.querySelectorAll('[data-testid=product-card] img')].slice(0, 4).every((i) => i.complete)`)
	if got := adminEval[string](t, ctx, `document.documentElement.dataset.telegram`); got != "no" {
		t.Errorf("data-telegram = %q in a plain browser", got)
	}
	bg := func() string { return adminEval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`) }
	light := bg()
	browsertest.ScreenshotAs(t, ctx, "storefront-feed-light")
	showcaseScheme(t, ctx, "dark")
	adminWait(t, ctx, `getComputedStyle(document.body).backgroundColor === 'rgb(23, 33, 43)'`)
	browsertest.ScreenshotAs(t, ctx, "storefront-feed-dark")

	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=product-card][data-product-id=p1]`), chromedp.NodeVisible))
	adminWait(t, ctx, `!document.getElementById('bottom-bar').hidden && document.getElementById('main-button').textContent === 'Add to cart'`)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`#main-button`), chromedp.NodeVisible))
	adminWait(t, ctx, `document.getElementById('main-button').textContent.startsWith('Go to cart')`)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`#main-button`), chromedp.NodeVisible))
	adminWait(t, ctx, `document.getElementById('main-button').textContent.startsWith('Checkout')`)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`#main-button`), chromedp.NodeVisible))
	adminWait(t, ctx, `document.querySelector('[data-testid=field-name]') !== null && document.getElementById('main-button').textContent.startsWith('Place order')`)
	adminDo(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-name]`), "Anna Smirnova"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=field-phone]`), "+7 900 123-45-67"))
	adminWait(t, ctx, `[...document.querySelectorAll('[data-testid^=error-]')].every((e) => e.hidden)`)
	browsertest.ScreenshotAs(t, ctx, "storefront-checkout-dark")
	showcaseScheme(t, ctx, "light")
	adminWait(t, ctx, fmt.Sprintf(`getComputedStyle(document.body).backgroundColor === %q`, light))
	if light == "rgb(23, 33, 43)" {
		t.Errorf("the light scheme's background is the dark one")
	}
	browsertest.ScreenshotAs(t, ctx, "storefront-checkout-light")
}
