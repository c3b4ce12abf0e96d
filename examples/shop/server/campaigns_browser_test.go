package server_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
)

// Ensure the Campaigns page works end to end in a real browser: a
// campaign created in the panel, its link copied, its QR code shown and
// decoding to the link, then customers coming through that link through
// the storefront API, and the page's funnel, list and customer rows
// showing what they did.
func TestAdminCampaigns(t *testing.T) {
	tg, pls := &adminTelegram{}, &adminPulse{}
	tgSrv := httptest.NewServer(tg)
	t.Cleanup(tgSrv.Close)
	pulseSrv := httptest.NewServer(pls)
	t.Cleanup(pulseSrv.Close)
	ctx := browsertest.New(t, 60*time.Second)
	srv, base := MustStart(t, migrator.SQLite, func(c *server.Config) {
		c.TelegramAPIURL = tgSrv.URL
		c.PulseURL = pulseSrv.URL
		c.AdminToken = "admin-secret-token"
	})
	adminDo(t, ctx, chromedp.EmulateViewport(1280, 900))
	adminDo(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-token]`)))
	adminEval[bool](t, ctx, `(() => {
		window.__errors = [];
		window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
		window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason && e.reason.stack || e.reason)));
		document.addEventListener('securitypolicyviolation', (e) => window.__errors.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI));
		return true;
	})()`)
	adminDo(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), srv.Config.AdminToken+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=dashboard]`)))
	adminGo(t, ctx, "campaigns")
	adminWait(t, ctx, `document.querySelector('[data-testid=campaigns]').dataset.loaded`)
	adminWaitCount(t, ctx, `[data-testid=campaign-row]`, 0)

	// Create: a link too long for Telegram is refused under its field, then
	// a good one opens the campaign's page.
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaign-new]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=campaign-dialog]')`)
	adminSet(t, ctx, `[data-testid=campaign-name]`, "Spring sale")
	if got := adminEval[string](t, ctx, `document.querySelector('[data-testid=campaign-id]').value`); got != "spring_sale" {
		t.Errorf("suggested id = %q, want spring_sale", got)
	}
	adminSet(t, ctx, `[data-testid=campaign-source]`, strings.Repeat("s", 32))
	adminSet(t, ctx, `[data-testid=campaign-medium]`, strings.Repeat("m", 32))
	adminSet(t, ctx, `[data-testid=campaign-content]`, "banner A")
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaign-save]`)))
	adminWait(t, ctx, `(document.querySelector('[data-testid=campaign-dialog] [data-testid=error-source]') || {}).textContent`)
	if msg := adminText(t, ctx, `[data-testid=campaign-dialog] [data-testid=error-source]`); !strings.Contains(msg, "Telegram") {
		t.Errorf("too long a link: source error %q, want the reason", msg)
	}
	adminSet(t, ctx, `[data-testid=campaign-source]`, "tg")
	adminSet(t, ctx, `[data-testid=campaign-medium]`, "post")
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaign-save]`)))
	adminWait(t, ctx, `location.hash === '#/campaigns/spring_sale' && !document.querySelector('[data-testid=campaign-dialog]')`)
	adminWaitText(t, ctx, `[data-testid=page-title]`, "Spring sale")

	// The links are the API's, and Copy puts the Mini App link on the
	// clipboard.
	var links struct {
		StartParam  string `json:"start_param"`
		StartAppURL string `json:"startapp_url"`
		StartURL    string `json:"start_url"`
	}
	call(t, "GET", base+"/admin/api/campaigns/spring_sale/links", "", srv.Config.AdminToken, nil, http.StatusOK, &links)
	if !strings.HasPrefix(links.StartAppURL, "https://t.me/demo_shop_bot?startapp=") || links.StartParam == "" {
		t.Fatalf("links = %+v", links)
	}
	adminWait(t, ctx, `document.querySelector('[data-testid=link-startapp]')`)
	for kind, want := range map[string]string{"startapp": links.StartAppURL, "start": links.StartURL, "start_param": links.StartParam} {
		if got := adminEval[string](t, ctx, fmt.Sprintf(`document.querySelector('[data-testid=link-%s]').value`, kind)); got != want {
			t.Errorf("link %s shows %q, want %q", kind, got, want)
		}
	}
	// The page's own clipboard call is watched: headless Chromium's
	// clipboard is not readable without a user's permission.
	adminEval[bool](t, ctx, `(() => { window.__clip = [];
		const w = navigator.clipboard.writeText.bind(navigator.clipboard);
		navigator.clipboard.writeText = (s) => { window.__clip.push(s); return w(s); };
		return true; })()`)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=copy-startapp]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=copy-startapp]').dataset.copied`)
	if got := adminEval[string](t, ctx, `document.querySelector('[data-testid=copy-startapp]').dataset.copied`); got != links.StartAppURL {
		t.Errorf("copied %q, want %q", got, links.StartAppURL)
	}
	if got := adminEval[[]string](t, ctx, `window.__clip`); len(got) != 1 || got[0] != links.StartAppURL {
		t.Errorf("the clipboard was given %q, want the Mini App link", got)
	}

	// The QR image loads, and decodes back to the Mini App link.
	adminWait(t, ctx, `(() => { const i = document.querySelector('[data-testid=qr-image]'); return i && i.complete && i.naturalWidth > 0; })()`)
	src := adminEval[string](t, ctx, `document.querySelector('[data-testid=qr-image]').src`)
	if got := campaignsDecodeQR(t, src); got != links.StartAppURL {
		t.Errorf("the QR image reads %q, want %q", got, links.StartAppURL)
	}
	adminSet(t, ctx, `[data-testid=qr-kind]`, "start")
	adminWait(t, ctx, `(() => { const i = document.querySelector('[data-testid=qr-image]'); return i && i.complete && i.naturalWidth > 0; })()`)
	if got := campaignsDecodeQR(t, adminEval[string](t, ctx, `document.querySelector('[data-testid=qr-image]').src`)); got != links.StartURL {
		t.Errorf("the bot link's QR image reads %q, want %q", got, links.StartURL)
	}
	for _, ext := range []string{"png", "svg"} {
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=qr-download-`+ext+`]`)))
		adminWait(t, ctx, fmt.Sprintf(`document.querySelector('[data-testid=qr-download-%s]').dataset.downloaded === 'campaign-spring_sale-start.%s'`, ext, ext))
	}
	browsertest.Screenshot(t, ctx, "campaign")

	// The scenario, through the storefront API with the copied link's
	// start_param: 6 customers open the shop, 4 view a product (one twice),
	// 3 add to cart, 2 start checkout, 2 order. Another visitor comes
	// with a tampered start_param and counts for nothing.
	products := campaignsInStock(t, base, srv)
	sign := func(id int64, sp string) string {
		return telegram.SignInitData(srv.Config.BotToken, telegram.SignParams{
			User: &telegram.User{ID: id, FirstName: fmt.Sprintf("Buyer%d", id), AllowsWriteToPM: true}, StartParam: sp,
		}, time.Now())
	}
	event := func(n int, name string) map[string]any {
		// Each event with the payload the storefront gives it: ingest
		// refuses a field the event may not carry.
		payload := map[string]any{"product_id": products[0]}
		switch name {
		case "WEBAPP_OPEN":
			payload = map[string]any{"platform": "ios"}
		case "CHECKOUT_START":
			payload = map[string]any{"items": 1}
		}
		return map[string]any{"id": fmt.Sprintf("6b1d2c3e-0000-4000-8000-%012d", n), "event": name,
			"occurred_at": time.Now().UTC(), "payload": payload}
	}
	seq := 0
	for i := range 7 {
		sp := links.StartParam
		if i == 6 {
			sp = links.StartParam[:len(links.StartParam)-2] + "AA" // tampered
		}
		init := sign(int64(9300+i), sp)
		call(t, "POST", base+"/api/customers", init, "", nil, http.StatusOK, nil)
		evs := []any{}
		add := func(name string) { seq++; evs = append(evs, event(seq, name)) }
		add("WEBAPP_OPEN")
		if i < 4 || i == 6 {
			add("PRODUCT_VIEW")
		}
		if i == 0 {
			add("PRODUCT_VIEW")
		}
		if i < 3 {
			add("ADD_TO_CART")
		}
		if i < 2 {
			add("CHECKOUT_START")
		}
		call(t, "POST", base+"/api/ingest", init, "", map[string]any{"events": evs}, http.StatusOK, nil)
		if i < 2 {
			call(t, "POST", base+"/api/orders", init, "", map[string]any{
				"order_key": fmt.Sprintf("7c2e3f4a-0000-4000-8000-%012d", i),
				"items":     []any{map[string]any{"product_id": products[i], "quantity": 1}},
				"fields":    map[string]any{"name": "Buyer", "phone": "+7 900 000-00-00", "delivery": "pickup"},
			}, http.StatusCreated, nil)
		}
	}

	// The page's funnel, after a refresh, counts the scenario by hand.
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaigns-last-7]`)))
	want := map[string][2]int{ // customers, events
		"open": {6, 6}, "product_view": {4, 5}, "add_to_cart": {3, 3}, "checkout_start": {2, 2}, "order": {2, 2},
	}
	adminWaitText(t, ctx, `[data-testid=funnel-customers-order]`, "2")
	for step, w := range want {
		adminWaitText(t, ctx, `[data-testid=funnel-customers-`+step+`]`, fmt.Sprint(w[0]))
		if got := adminEval[int](t, ctx, fmt.Sprintf(`+document.querySelector('[data-testid=funnel-step-%s]').dataset.events`, step)); got != w[1] {
			t.Errorf("step %s: %d events on the page, want %d", step, got, w[1])
		}
	}
	adminWaitText(t, ctx, `[data-testid=funnel-conversion-product_view]`, "66.7%")
	adminWaitText(t, ctx, `[data-testid=funnel-conversion-order]`, "100%")
	adminWaitText(t, ctx, `[data-testid=campaign-attributed]`, "6")
	adminWaitText(t, ctx, `[data-testid=campaign-conversion]`, "33.3%")
	adminWaitText(t, ctx, `[data-testid=days-total-open]`, "6")
	adminWaitText(t, ctx, `[data-testid=days-total-order]`, "2")
	if n := adminCount(t, ctx, `[data-testid=chart-day]`); n != 7 {
		t.Errorf("the chart has %d days, want 7", n)
	}
	var f struct {
		Campaigns []struct {
			ID       string `json:"id"`
			Revenue  int64  `json:"revenue"`
			Currency string `json:"currency"`
		} `json:"campaigns"`
	}
	call(t, "GET", base+"/admin/api/campaigns/funnel", "", srv.Config.AdminToken, nil, http.StatusOK, &f)
	if len(f.Campaigns) != 1 || f.Campaigns[0].Revenue <= 0 {
		t.Fatalf("funnel API: %+v (the tampered link must add no campaign)", f)
	}
	browsertest.Screenshot(t, ctx, "campaign-funnel")

	// The list shows the same numbers; a second campaign with no visits
	// sorts below it by revenue, and above it in ascending order.
	call(t, "POST", base+"/admin/api/campaigns", "", srv.Config.AdminToken, map[string]any{"id": "quiet", "name": "Quiet"}, http.StatusCreated, nil)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaign-back]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=campaigns]') && document.querySelector('[data-testid=campaigns]').dataset.count === '2'`)
	row := `[data-testid=campaign-row][data-id=spring_sale] `
	for col, v := range map[string]string{"attributed": "6", "open": "6", "product_view": "4", "add_to_cart": "3", "checkout_start": "2", "order": "2", "conversion": "33.3%"} {
		adminWaitText(t, ctx, row+`[data-col=`+col+`]`, v)
	}
	order := func() string {
		return adminEval[string](t, ctx, `[...document.querySelectorAll('[data-testid=campaign-row]')].map((r) => r.dataset.id).join(',')`)
	}
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=sort-revenue]`)))
	first := order()
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=sort-revenue]`)))
	if second := order(); first == second || !(first == "spring_sale,quiet" || second == "spring_sale,quiet") {
		t.Errorf("sorting by revenue gave %q then %q", first, second)
	}
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=sort-conversion]`)))
	if got := order(); got != "quiet,spring_sale" && got != "spring_sale,quiet" {
		t.Errorf("sorting by conversion gave %q", got)
	}
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaigns-csv]`)))
	adminWait(t, ctx, `(document.querySelector('[data-testid=campaigns-csv]').dataset.downloaded || '').startsWith('campaigns-')`)

	// Archive hides a campaign unless archived ones are shown.
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaign-archive-quiet]`)))
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=confirm-ok]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=campaigns]').dataset.count === '1'`)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=campaigns-show-archived]`)))
	adminWaitCount(t, ctx, `[data-testid=campaign-row]`, 2)

	// The customer row shows the newest campaign.
	adminGo(t, ctx, "customers")
	adminWait(t, ctx, `document.querySelector('[data-testid=customer-row]')`)
	var cs struct {
		Data []struct {
			ID             int64  `json:"id"`
			FirstName      string `json:"first_name"`
			LastCampaignID string `json:"last_campaign_id"`
		} `json:"data"`
	}
	call(t, "GET", base+"/admin/api/customers?per_page=100", "", srv.Config.AdminToken, nil, http.StatusOK, &cs)
	seen := 0
	for _, c := range cs.Data {
		cell := fmt.Sprintf(`[data-testid=customer-row][data-id="%d"] [data-col=last_campaign_id]`, c.ID)
		switch c.FirstName {
		case "Buyer9300", "Buyer9305":
			seen++
			if c.LastCampaignID != "spring_sale" {
				t.Errorf("%s: last_campaign_id = %q", c.FirstName, c.LastCampaignID)
			}
			adminWaitText(t, ctx, cell, "spring_sale")
		case "Buyer9306":
			seen++
			adminWaitText(t, ctx, cell, "—")
		}
	}
	if seen != 3 {
		t.Errorf("found %d of the scenario's customers in the list", seen)
	}
	if errs := adminEval[[]string](t, ctx, `window.__errors`); len(errs) > 0 {
		t.Errorf("page errors: %q", errs)
	}
}

// campaignsDecodeQR reads the text of a QR code given as a data: URL.
func campaignsDecodeQR(t *testing.T, src string) string {
	t.Helper()
	b64, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("the QR image is %.40q…, want a PNG data: URL", src)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decoding the QR image: %v", err)
	}
	return res.GetText()
}

// campaignsInStock returns the ids of two products in stock.
func campaignsInStock(t *testing.T, base string, srv *server.Server) []string {
	t.Helper()
	init := telegram.SignInitData(srv.Config.BotToken, telegram.SignParams{User: &telegram.User{ID: 9399, FirstName: "Looker"}}, time.Now())
	var products struct {
		Data []struct {
			ID      string `json:"id"`
			InStock bool   `json:"in_stock"`
		} `json:"data"`
	}
	call(t, "GET", base+"/api/products", init, "", nil, http.StatusOK, &products)
	var ids []string
	for _, p := range products.Data {
		if p.InStock {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) < 2 {
		t.Fatalf("want 2 products in stock, got %+v", products)
	}
	return ids[:2]
}
