package server_test

import (
	"context"
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
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
)

// The bot's pages of the admin panel, driven in a headless Chromium against
// the demo server with a fake Bot API that records every call: a broadcast
// composed, started and delivered, the outbox with a failed message
// retried, and the notice templates previewed and saved.

// botAdminEnv is the demo server, its fake Bot API and a signed-in browser.
type botAdminEnv struct {
	srv  *server.Server
	base string
	ctx  context.Context
	api  *botapitest.Server
	tgID map[string]int64 // Telegram user ids by first name
}

func botAdminStart(t *testing.T) *botAdminEnv {
	t.Helper()
	e := &botAdminEnv{api: botapitest.NewServer(t, botapitest.Config{}), tgID: map[string]int64{}}
	e.ctx = browsertest.New(t, 90*time.Second)
	e.srv, e.base = MustStart(t, migrator.SQLite, func(c *server.Config) {
		c.TelegramAPIURL = e.api.URL
		c.BotToken = e.api.Token
		c.AdminToken = "admin-secret-token"
	})
	people := []telegram.User{
		{FirstName: "Anna", LanguageCode: "ru", AllowsWriteToPM: true},
		{FirstName: "Boris", LanguageCode: "ru", AllowsWriteToPM: true, IsPremium: true},
		{FirstName: "Vera", LanguageCode: "ru", AllowsWriteToPM: true},
		{FirstName: "Gleb", LanguageCode: "ru", AllowsWriteToPM: true},
		{FirstName: "Dina", LanguageCode: "ru"}, // has not allowed the bot to write
		{FirstName: "Emma", LanguageCode: "en", AllowsWriteToPM: true},
		{FirstName: "Fred", LanguageCode: "en", AllowsWriteToPM: true},
	}
	for i, u := range people {
		u.ID = int64(7100 + i)
		if _, err := e.srv.TeleCart.Customers().Save(context.Background(), u, time.Now()); err != nil {
			t.Fatal(err)
		}
		e.tgID[u.FirstName] = u.ID
	}
	if err := chromedp.Do(e.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	adminDo(t, e.ctx, chromedp.Navigate(e.base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-token]`)))
	adminEval[bool](t, e.ctx, `(() => {
		window.__xss = [];
		window.__errors = [];
		window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
		window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason && e.reason.stack || e.reason)));
		document.addEventListener('securitypolicyviolation', (e) => window.__errors.push('CSP ' + e.violatedDirective));
		window.alert = (m) => window.__xss.push('alert:' + m);
		new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) {
			if (n.nodeType !== 1) continue;
			for (const el of [n, ...n.querySelectorAll('img, script')]) {
				if (el.tagName === 'IMG' || el.tagName === 'SCRIPT') window.__xss.push(el.outerHTML);
			}
		}}).observe(document, {childList: true, subtree: true});
		return true;
	})()`)
	adminDo(t, e.ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=signin-token]`), "admin-secret-token\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=dashboard]`)))
	return e
}

// checkClean fails the test when the page ran script from data, made an
// element from it, or threw.
func (e *botAdminEnv) checkClean(t *testing.T) {
	t.Helper()
	if got := adminEval[[]string](t, e.ctx, `window.__xss`); len(got) > 0 {
		t.Errorf("markup from data became elements or ran: %q", got)
	}
	if got := adminEval[[]string](t, e.ctx, `window.__errors`); len(got) > 0 {
		t.Errorf("page errors: %q", got)
	}
}

func (e *botAdminEnv) get(t *testing.T, path string, dst any) {
	t.Helper()
	call(t, "GET", e.base+"/admin/api/"+path, "", e.srv.Config.AdminToken, nil, http.StatusOK, dst)
}

// botBroadcastText holds every kind of markup: the allowed tags become
// elements in the preview, the rest stays text; Telegram refuses it.
const botBroadcastText = `Hello! <b>New teas</b> <i>are</i> in, <a href="https://example.com/tea">see</a> <code>TEA10</code> <img src=x onerror=alert(1)> <script>alert(2)</script> <a href="javascript:alert(3)">x</a>`

// botBroadcastValid is the same message in Telegram's HTML, the markup
// Telegram does not take escaped.
const botBroadcastValid = `Hello! <b>New teas</b> <i>are</i> in, <a href="https://example.com/tea">see</a> <code>TEA10</code> &lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(2)&lt;/script&gt;`

// Ensure a broadcast composed in the panel to the demo's Russian-speaking
// customers (only those the bot may write to) shows its draft's count and
// time, starts, reaches done with its progress shown, and that the fake
// Bot API receives one message per recipient with the "Open shop" button;
// a recipient refused with a 400 shows as failed on the Messages page
// with Telegram's reason and is delivered once retried.
func TestAdminBroadcast(t *testing.T) {
	e := botAdminStart(t)
	ctx := e.ctx
	const refusal = "Bad Request: chat not found"
	e.api.FailChat(e.tgID["Vera"], botapitest.BadRequest(refusal))

	t.Run("Compose", func(t *testing.T) {
		adminGo(t, ctx, "broadcasts")
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcasts] [data-testid=empty]')`)
		adminSet(t, ctx, `[data-testid=broadcast-text]`, botBroadcastText)
		adminSet(t, ctx, `[data-testid=broadcast-button]`, "Open shop")
		adminSet(t, ctx, `[data-testid=broadcast-language]`, "ru")

		// Ensure the preview renders only Telegram's subset: b, i, a with a
		// web address and code as elements, the rest as its own text.
		pv := `[data-testid=broadcast-preview-text]`
		if got := adminText(t, ctx, pv+` b`); got != "New teas" {
			t.Errorf("preview <b> = %q", got)
		}
		if got := adminEval[string](t, ctx, `document.querySelector('[data-testid=broadcast-preview-text] a').href`); got != "https://example.com/tea" {
			t.Errorf("preview link = %q", got)
		}
		if n := adminCount(t, ctx, pv+` a`); n != 1 {
			t.Errorf("%d links in the preview, want 1 (the javascript: one is text)", n)
		}
		if got := adminText(t, ctx, pv+` code`); got != "TEA10" {
			t.Errorf("preview <code> = %q", got)
		}
		text := adminText(t, ctx, pv)
		for _, want := range []string{"<img src=x onerror=alert(1)>", "<script>alert(2)</script>", `<a href="javascript:alert(3)">x</a>`} {
			if !strings.Contains(text, want) {
				t.Errorf("preview text %q lacks %q as text", text, want)
			}
		}
		adminWaitText(t, ctx, `[data-testid=broadcast-preview-button]`, "Open shop")
		e.checkClean(t)

		// Ensure Telegram's refusal of that markup shows on the text field,
		// with what and where, and no draft is made.
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-create]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=error-text]').textContent.includes('unsupported tag <img> at character 100')`)
		if got := adminEval[bool](t, ctx, `document.querySelector('[data-testid=broadcast-text]').classList.contains('invalid')`); !got {
			t.Error("the text field is not marked invalid")
		}
		var drafts struct {
			Data []any `json:"data"`
		}
		e.get(t, "broadcasts", &drafts)
		if len(drafts.Data) != 0 {
			t.Errorf("%d broadcasts after the refusal, want none", len(drafts.Data))
		}
		browsertest.Screenshot(t, ctx, "broadcast-invalid-html")

		// Ensure the draft counts the customers who can be messaged and
		// match the filter: four of five Russian speakers.
		adminSet(t, ctx, `[data-testid=broadcast-text]`, botBroadcastValid)
		if got := adminText(t, ctx, pv); !strings.Contains(got, "<img src=x onerror=alert(1)> <script>alert(2)</script>") {
			t.Errorf("preview of the escaped markup = %q", got)
		}
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-create]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=draft]')`)
		adminWaitText(t, ctx, `[data-testid=broadcast-recipients]`, "4")
		if got := adminText(t, ctx, `[data-testid=broadcast-draft-note]`); !strings.Contains(got, "4 recipients") {
			t.Errorf("draft note = %q", got)
		}
		if got := adminText(t, ctx, `[data-testid=broadcast-estimated]`); !strings.HasSuffix(got, " s") {
			t.Errorf("estimated time = %q", got)
		}
		adminWaitCount(t, ctx, `[data-testid=broadcast-row]`, 1)
		browsertest.Screenshot(t, ctx, "broadcast-draft")
	})

	t.Run("StartToDone", func(t *testing.T) {
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-start]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=done]')`)
		adminWaitText(t, ctx, `[data-testid=broadcast-sent]`, "3")
		adminWaitText(t, ctx, `[data-testid=broadcast-failed]`, "1")
		adminWaitText(t, ctx, `[data-testid=broadcast-queued]`, "0")
		if got := adminEval[string](t, ctx, `document.querySelector('[data-testid=broadcast-progress]').getAttribute('aria-valuenow')`); got != "100" {
			t.Errorf("progress = %s%%, want 100", got)
		}
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-row][data-status=done]')`)
		browsertest.Screenshot(t, ctx, "broadcast-done")

		sent := e.api.WaitForSent(t, 3, 5*time.Second)
		to := map[int64]bool{}
		for _, m := range sent {
			to[m.Params.ChatID] = true
			if m.Params.Text != botBroadcastValid || m.Params.ParseMode != "HTML" {
				t.Errorf("sent %q (%s), want the broadcast's text in HTML", m.Params.Text, m.Params.ParseMode)
			}
			if !botHasWebAppButton(m.Params, "Open shop") {
				t.Errorf("message to %d has no web_app button: %+v", m.Params.ChatID, m.Params.ReplyMarkup)
			}
		}
		for _, name := range []string{"Anna", "Boris", "Gleb"} {
			if !to[e.tgID[name]] {
				t.Errorf("%s got no message; sent to %v", name, to)
			}
		}
		if len(sent) != 3 {
			t.Errorf("%d messages sent, want 3", len(sent))
		}
	})

	t.Run("MessagesAndRetry", func(t *testing.T) {
		adminGo(t, ctx, "messages")
		adminWaitCount(t, ctx, `[data-testid=message-row]`, 4)
		var list struct {
			Data []struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
				ChatID int64  `json:"chat_id"`
			} `json:"data"`
		}
		e.get(t, "messages", &list)
		for i, m := range list.Data {
			row := fmt.Sprintf(`[data-testid=message-row]:nth-child(%d)`, i+1)
			if got := adminEval[string](t, ctx, fmt.Sprintf(`document.querySelector(%s).dataset.id`, adminJS(row))); got != fmt.Sprint(m.ID) {
				t.Errorf("row %d is message %s, want %d (newest first)", i, got, m.ID)
			}
		}
		failed := `[data-testid=message-row][data-status=failed]`
		adminWaitCount(t, ctx, failed, 1)
		if got := adminText(t, ctx, failed+` [data-testid=message-reason]`); !strings.Contains(got, "400") || !strings.Contains(got, refusal) {
			t.Errorf("reason = %q, want the code and Telegram's description", got)
		}
		if got := adminText(t, ctx, failed+` [data-testid=message-chat]`); got != fmt.Sprint(e.tgID["Vera"]) {
			t.Errorf("failed chat = %q", got)
		}
		if got := adminText(t, ctx, failed+` [data-testid=message-text]`); !strings.HasPrefix(got, "Hello! <b>New teas</b>") || !strings.HasSuffix(got, "…") {
			t.Errorf("shortened text = %q", got)
		}
		e.checkClean(t)

		// Ensure the status filter asks the API for failed messages only.
		adminSet(t, ctx, `[data-testid=messages-status]`, "failed")
		adminWaitCount(t, ctx, `[data-testid=message-row]`, 1)
		browsertest.Screenshot(t, ctx, "messages-failed")

		// Ensure Retry queues it again and the fake, no longer refusing,
		// receives it.
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(failed+` button[data-testid^=message-retry-]`)))
		adminWaitCount(t, ctx, `[data-testid=message-row]`, 0)
		sent := e.api.WaitForSent(t, 4, 10*time.Second)
		if last := sent[len(sent)-1]; last.Params.ChatID != e.tgID["Vera"] {
			t.Errorf("retried message went to %d", last.Params.ChatID)
		}
		adminSet(t, ctx, `[data-testid=messages-status]`, "sent")
		deadline := time.Now().Add(10 * time.Second)
		for adminCount(t, ctx, `[data-testid=message-row][data-status=sent]`) != 4 {
			if time.Now().After(deadline) {
				t.Fatalf("%d sent rows, want 4", adminCount(t, ctx, `[data-testid=message-row][data-status=sent]`))
			}
			adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=messages-refresh]`)))
			time.Sleep(200 * time.Millisecond)
		}
		adminSet(t, ctx, `[data-testid=messages-status]`, "")
	})

	t.Run("Russian", func(t *testing.T) {
		// Ensure every text of the bot's pages has both languages, and the
		// pages speak Russian when switched.
		missing, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`import(new URL('js/i18n.js', location.href).href).then(({ keys }) => {
			const k = keys();
			const ours = (l) => k[l].filter((x) => /^(nav\.(messages|broadcasts)|messages\.|broadcasts\.|notices\.)/.test(x));
			const en = ours('en'), ru = ours('ru');
			if (en.length < 80) return ['too few keys: ' + en.length];
			return en.filter((x) => !ru.includes(x)).concat(ru.filter((x) => !en.includes(x)));
		})`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) > 0 {
			t.Errorf("keys in one language only: %q", missing)
		}
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=lang-ru]`)))
		adminGo(t, ctx, "broadcasts")
		adminWaitText(t, ctx, `[data-testid=page-title]`, "Рассылки")
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-row][data-status=done]') && document.querySelector('[data-testid=broadcast-row][data-status=done]').textContent.includes('Завершена')`)
		adminGo(t, ctx, "messages")
		adminWaitText(t, ctx, `[data-testid=page-title]`, "Сообщения")
		adminWait(t, ctx, `document.querySelector('[data-testid=message-status]').textContent === 'Отправлено'`)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=lang-en]`)))
	})

	t.Run("PauseResume", func(t *testing.T) {
		// Ensure a running broadcast pauses with messages still queued, its
		// progress standing still, and resumes to done: 60 recipients take
		// two seconds at the outbox's pace, time to pause.
		for i := range 60 {
			u := telegram.User{ID: int64(7500 + i), FirstName: fmt.Sprintf("De%d", i), LanguageCode: "de", AllowsWriteToPM: true}
			if _, err := e.srv.TeleCart.Customers().Save(context.Background(), u, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		before := len(e.api.Sent())
		adminGo(t, ctx, "broadcasts")
		adminSet(t, ctx, `[data-testid=broadcast-text]`, "Hallo")
		adminSet(t, ctx, `[data-testid=broadcast-language]`, "de")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-create]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=draft]')`)
		adminWaitText(t, ctx, `[data-testid=broadcast-recipients]`, "60")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-start]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=running]')`)
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-pause]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=paused]')`)
		// The messages a sender had already claimed for the current second
		// still go out (they are in its hands, not queued); wait until the
		// count stands still, then nothing more may go while paused.
		paused := len(e.api.Sent()) - before
		for still, deadline := time.Now(), time.Now().Add(20*time.Second); time.Since(still) < 1500*time.Millisecond; {
			if time.Now().After(deadline) {
				t.Fatal("messages kept going out after the pause")
			}
			time.Sleep(50 * time.Millisecond)
			if n := len(e.api.Sent()) - before; n != paused {
				paused, still = n, time.Now()
			}
		}
		if paused >= 60 {
			t.Fatalf("all 60 sent before the pause took effect")
		}
		time.Sleep(time.Second)
		if n := len(e.api.Sent()) - before; n != paused {
			t.Errorf("%d sent while paused, %d at the pause", n, paused)
		}
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-resume]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=running], [data-testid=broadcast-detail][data-status=done]')`)
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=done]')`)
		adminWaitText(t, ctx, `[data-testid=broadcast-sent]`, "60")
		perChat := map[int64]int{}
		for _, m := range e.api.Sent()[before:] {
			perChat[m.Params.ChatID]++
		}
		if len(perChat) != 60 {
			t.Errorf("%d recipients got the broadcast, want 60", len(perChat))
		}
		for chat, n := range perChat {
			if n != 1 {
				t.Errorf("chat %d got %d messages", chat, n)
			}
		}
	})

	t.Run("CancelDraft", func(t *testing.T) {
		// Ensure a draft to the English speakers can be cancelled, and then
		// offers no control; nothing more is sent.
		adminGo(t, ctx, "broadcasts")
		adminSet(t, ctx, `[data-testid=broadcast-text]`, "Never sent")
		adminSet(t, ctx, `[data-testid=broadcast-language]`, "en")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-create]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=draft]')`)
		adminWaitText(t, ctx, `[data-testid=broadcast-recipients]`, "2")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=broadcast-cancel]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=confirm-ok]`)))
		adminWait(t, ctx, `document.querySelector('[data-testid=broadcast-detail][data-status=cancelled]')`)
		if n := adminCount(t, ctx, `[data-testid=broadcast-detail] button[data-testid^=broadcast-]`); n != 0 {
			t.Errorf("%d controls on a cancelled broadcast", n)
		}
		adminWaitCount(t, ctx, `[data-testid=broadcast-row]`, 3)
		if n := len(e.api.Sent()); n != 64 {
			t.Errorf("%d messages sent, want 64", n)
		}
		e.checkClean(t)
	})
}

func botHasWebAppButton(p botapi.SendMessageParams, text string) bool {
	if p.ReplyMarkup == nil {
		return false
	}
	for _, row := range p.ReplyMarkup.InlineKeyboard {
		for _, b := range row {
			if b.Text == text && b.WebApp != nil && strings.HasSuffix(b.WebApp.URL, "/app/") {
				return true
			}
		}
	}
	return false
}

// Ensure the notice settings edit the owner chat, the switches and a
// template, that Preview fills the template being edited with the sample
// order (markup kept to Telegram's subset, values escaped) and an empty
// one with the default, and that Save stores them.
func TestAdminNoticeTemplates(t *testing.T) {
	e := botAdminStart(t)
	ctx := e.ctx
	adminGo(t, ctx, "settings")
	adminWait(t, ctx, `document.querySelector('[data-testid=setting-notifications-owner-en]')`)
	if got := adminEval[string](t, ctx, `document.querySelector('[data-testid=setting-notifications-owner-en]').placeholder`); !strings.Contains(got, "{order_id}") {
		t.Errorf("the owner template's placeholder = %q, want the default", got)
	}
	if got := adminText(t, ctx, `[data-testid=notice-placeholders]`); !strings.Contains(got, "{customer}") || !strings.Contains(got, "{fields}") {
		t.Errorf("placeholders = %q", got)
	}

	// Ensure a template Telegram would refuse is refused by Preview and
	// Save, saying what and where in the template.
	const bad = "Order <b>#{order_id}</b> from {customer}, {total} <script>alert(1)</script>"
	adminSet(t, ctx, `[data-testid=setting-notifications-owner-en]`, bad)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=notice-preview-btn-owner-en]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=notice-preview-error-owner-en]') && document.querySelector('[data-testid=notice-preview-error-owner-en]').textContent.includes('unsupported tag <script> at character 51')`)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid="error-notifications.owner.en"]').textContent.includes('unsupported tag <script> at character 51')`)
	e.checkClean(t)

	const tpl = "Order <b>#{order_id}</b> from {customer}, {total} &lt;script&gt;alert(1)&lt;/script&gt;"
	adminSet(t, ctx, `[data-testid=setting-notifications-owner-en]`, tpl)
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=notice-preview-btn-owner-en]`)))
	msg := `[data-testid=notice-preview-owner-en-message-text]`
	adminWait(t, ctx, fmt.Sprintf(`document.querySelector(%s)`, adminJS(msg)))
	if got := adminText(t, ctx, msg+` b`); got != "#1042" {
		t.Errorf("preview <b> = %q", got)
	}
	if got := adminText(t, ctx, msg); !strings.HasPrefix(got, "Order #1042 from Anna Smirnova (@anna), ") || !strings.HasSuffix(got, "<script>alert(1)</script>") {
		t.Errorf("preview = %q", got)
	}
	// An empty template previews the stored one: the default.
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=notice-preview-btn-buyer-ru]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=notice-preview-buyer-ru-message-text]')`)
	if got := adminText(t, ctx, `[data-testid=notice-preview-buyer-ru-message-text]`); !strings.HasPrefix(got, "Спасибо за заказ №1042") {
		t.Errorf("default buyer preview = %q", got)
	}
	browsertest.Screenshot(t, ctx, "notice-preview")
	e.checkClean(t)

	adminSet(t, ctx, `[data-testid=setting-owner_chat]`, "-1001234:7")
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid="setting-notifications.buyer_on"]`)))
	adminSet(t, ctx, `[data-testid=setting-notifications-owner_language]`, "ru")
	adminDo(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=settings-save]`)))
	adminWait(t, ctx, `document.querySelector('[data-testid=settings-saved]')`)
	var s struct {
		OwnerChat     string `json:"owner_chat"`
		Notifications struct {
			OwnerOff      bool              `json:"owner_off"`
			BuyerOff      bool              `json:"buyer_off"`
			OwnerLanguage string            `json:"owner_language"`
			Owner         map[string]string `json:"owner"`
			Buyer         map[string]string `json:"buyer"`
		} `json:"notifications"`
	}
	e.get(t, "settings", &s)
	n := s.Notifications
	if s.OwnerChat != "-1001234:7" || n.OwnerOff || !n.BuyerOff || n.OwnerLanguage != "ru" {
		t.Errorf("saved owner_chat %q, notifications %+v", s.OwnerChat, n)
	}
	if len(n.Owner) != 1 || n.Owner["en"] != tpl || len(n.Buyer) != 0 {
		t.Errorf("saved templates owner %q, buyer %q; want only the edited one", n.Owner, n.Buyer)
	}
	// The form shows what was saved.
	if got := adminEval[string](t, ctx, `document.querySelector('[data-testid=setting-notifications-owner-en]').value`); got != tpl {
		t.Errorf("template after save = %q", got)
	}
	if adminEval[bool](t, ctx, `document.querySelector('[data-testid="setting-notifications.buyer_on"]').checked`) {
		t.Error("the buyer switch is on after saving it off")
	}
}
