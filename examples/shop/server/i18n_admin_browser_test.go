package server_test

import (
	"reflect"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/telecart"
)

// Ensure the admin Settings page edits the storefront's texts per language
// and the feed's Russian title: the defaults show as placeholders, what is
// typed is saved in its language, and an emptied field goes back to the
// default.
func TestAdminStorefrontTexts(t *testing.T) {
	e := adminStart(t)
	ctx := e.ctx
	adminDo(t, ctx, chromedp.Navigate(e.base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-token]`)))
	adminDo(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), e.srv.Config.AdminToken+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=dashboard]`)))
	adminGo(t, ctx, "settings")
	adminWait(t, ctx, `document.querySelector('[data-testid=storefront-texts]')`)

	ph := adminEval[string](t, ctx, `document.querySelector('[data-testid="setting-storefront_texts.ru.place_order_button"]').placeholder`)
	if want := telecart.DefaultStorefrontTexts("ru").PlaceOrderButton; ph != want {
		t.Errorf("placeholder %q, want the default %q", ph, want)
	}
	adminSet(t, ctx, `[data-testid="setting-storefront_texts.ru.place_order_button"]`, "Заказать")
	adminSet(t, ctx, `[data-testid="setting-storefront_texts.en.greeting"]`, "Fresh bread daily")
	adminSet(t, ctx, `[name="blocks[0].titles.ru"]`, "Хлеб")
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=settings-saved]`)))
	browsertest.Screenshot(t, ctx, "settings_texts")

	var s struct {
		Texts  map[string]telecart.StorefrontTexts `json:"storefront_texts"`
		Blocks []telecart.Block                    `json:"blocks"`
	}
	e.get(t, "settings", &s)
	want := map[string]telecart.StorefrontTexts{"ru": {PlaceOrderButton: "Заказать"}, "en": {Greeting: "Fresh bread daily"}}
	if !reflect.DeepEqual(s.Texts, want) || s.Blocks[0].Titles["ru"] != "Хлеб" {
		t.Fatalf("saved texts %+v, block %+v", s.Texts, s.Blocks)
	}

	// The page shows what was saved; emptying a text goes back to the default.
	if v := adminEval[string](t, ctx, `document.querySelector('[data-testid="setting-storefront_texts.ru.place_order_button"]').value`); v != "Заказать" {
		t.Errorf("after saving the field shows %q", v)
	}
	adminSet(t, ctx, `[data-testid="setting-storefront_texts.ru.place_order_button"]`, "")
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=settings-saved]`)))
	s.Texts = nil // decoding into a map adds to it
	e.get(t, "settings", &s)
	if _, ok := s.Texts["ru"]; ok {
		t.Errorf("the emptied Russian text is still stored: %+v", s.Texts)
	}
}
