package botapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
)

// mustNewClient returns a client of srv whose logs are checked for the
// token at the end of the test.
func mustNewClient(tb testing.TB, srv *botapitest.Server) *botapi.Client {
	tb.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(buf.String(), "fake-bot-token") {
			tb.Errorf("the token appears in the logs:\n%s", buf.String())
		}
	})
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := botapi.New(botapi.Config{Token: srv.Token, BaseURL: srv.URL, Logger: logger})
	if err != nil {
		tb.Fatalf("botapi.New: %v", err)
	}
	return c
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func TestNew(t *testing.T) {
	t.Parallel()
	// Ensure bad settings are refused at construction, never quoting the token.
	for name, cfg := range map[string]botapi.Config{
		"no token":         {},
		"token with slash": {Token: "123:secret_Token/x"},
		"token with space": {Token: "123:secret_Token x"},
		"relative BaseURL": {Token: "1:secret_Token", BaseURL: "api.telegram.org"},
		"BaseURL query":    {Token: "1:secret_Token", BaseURL: "https://x.example/?a=1"},
		"negative timeout": {Token: "1:secret_Token", Timeout: -time.Second},
	} {
		_, err := botapi.New(cfg)
		if err == nil {
			t.Errorf("%s: New succeeded", name)
		} else if strings.Contains(err.Error(), "secret_Token") {
			t.Errorf("%s: error quotes the token: %v", name, err)
		}
	}
	c, err := botapi.New(botapi.Config{Token: "1:a", BaseURL: "http://127.0.0.1:1/"})
	if err != nil || c.BaseURL() != "http://127.0.0.1:1" {
		t.Fatalf("New = %v, %v", c, err)
	}
}

func TestSendMessage(t *testing.T) {
	t.Parallel()
	srv := botapitest.NewServer(t, botapitest.Config{})
	c := mustNewClient(t, srv)
	ctx := context.Background()

	// Ensure every parameter reaches Telegram under its own name and the
	// sent message comes back.
	p := botapi.SendMessageParams{
		ChatID: -1001234, MessageThreadID: 7, Text: "<b>New order</b>", ParseMode: botapi.ParseModeHTML,
		LinkPreviewOptions: &botapi.LinkPreviewOptions{IsDisabled: true}, DisableNotification: true,
		ReplyMarkup: &botapi.InlineKeyboardMarkup{InlineKeyboard: [][]botapi.InlineKeyboardButton{{
			{Text: "Open shop", WebApp: &botapi.WebAppInfo{URL: "https://shop.example/app/"}},
			{Text: "Site", URL: "https://shop.example/"},
			{Text: "Ack", CallbackData: "ack:1"},
		}}},
	}
	m, err := c.SendMessage(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != 1 || m.Chat.ID != -1001234 || m.MessageThreadID != 7 || m.Text != p.Text {
		t.Errorf("message = %+v", m)
	}
	calls := srv.CallsTo("sendMessage")
	if len(calls) != 1 {
		t.Fatalf("%d sendMessage calls", len(calls))
	}
	got, _ := json.Marshal(calls[0].Params)
	want := `{"chat_id":-1001234,"disable_notification":true,"link_preview_options":{"is_disabled":true},"message_thread_id":7,"parse_mode":"HTML",` +
		`"reply_markup":{"inline_keyboard":[[{"text":"Open shop","web_app":{"url":"https://shop.example/app/"}},{"text":"Site","url":"https://shop.example/"},{"callback_data":"ack:1","text":"Ack"}]]},"text":"\u003cb\u003eNew order\u003c/b\u003e"}`
	if string(got) != want {
		t.Errorf("params =\n%s\nwant\n%s", got, want)
	}

	// Ensure a plain message sends no optional parameter.
	if _, err := c.SendMessage(ctx, botapi.SendMessageParams{ChatID: 5, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(srv.CallsTo("sendMessage")[1].Params); string(got) != `{"chat_id":5,"text":"hi"}` {
		t.Errorf("params = %s", got)
	}

	// Ensure bad texts never reach Telegram.
	for _, text := range []string{"", " \n", strings.Repeat("я", botapi.MaxMessageLength+1)} {
		if _, err := c.SendMessage(ctx, botapi.SendMessageParams{ChatID: 5, Text: text}); !errors.Is(err, botapi.ErrMessageEmpty) && !errors.Is(err, botapi.ErrMessageTooLong) {
			t.Errorf("text of %d bytes: err = %v", len(text), err)
		}
	}
	if n := len(srv.CallsTo("sendMessage")); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	srv := botapitest.NewServer(t, botapitest.Config{})
	c := mustNewClient(t, srv)
	ctx := context.Background()
	send := func(chat int64) error {
		_, err := c.SendMessage(ctx, botapi.SendMessageParams{ChatID: chat, Text: "hi"})
		return err
	}

	// Ensure a 429 carries retry_after and nothing else matches.
	srv.FailNext("sendMessage", botapitest.TooManyRequests(3*time.Second))
	err := send(1)
	if botapi.RetryAfter(err) != 3*time.Second || botapi.IsBlocked(err) || !botapi.IsTemporary(err) {
		t.Errorf("429: err = %v, RetryAfter %s", err, botapi.RetryAfter(err))
	}
	var apiErr *botapi.Error
	if !errors.As(err, &apiErr) || apiErr.Method != "sendMessage" || apiErr.Code != 429 {
		t.Errorf("429: err = %#v", err)
	}

	// Ensure a fault scripted for one chat leaves the others alone.
	srv.FailChat(2, botapitest.Blocked())
	if err := send(3); err != nil {
		t.Errorf("chat 3: %v", err)
	}
	err = send(2)
	if !botapi.IsBlocked(err) || !errors.Is(err, botapi.ErrBotBlocked) || !botapi.IsUnreachable(err) || botapi.IsTemporary(err) || botapi.RetryAfter(err) != 0 {
		t.Errorf("403: err = %v", err)
	}
	if err := send(2); err != nil {
		t.Errorf("chat 2 after its one fault: %v", err)
	}

	// Ensure a 403 from a group is blocked but not an unreachable user.
	srv.FailNext("", botapitest.Fault{Code: 403, Description: "Forbidden: bot was kicked from the supergroup chat"})
	if err := send(-5); !botapi.IsBlocked(err) || botapi.IsUnreachable(err) {
		t.Errorf("kicked: err = %v", err)
	}

	// Ensure a 400 keeps Telegram's description and migrate_to_chat_id.
	srv.FailNext("sendMessage", botapitest.Fault{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat", MigrateToChatID: -1009})
	if e, ok := botapi.AsError(send(-9)); !ok || e.Code != 400 || e.MigrateToChatID != -1009 || !strings.Contains(e.Description, "upgraded") || botapi.IsTemporary(e) {
		t.Errorf("400: err = %#v", e)
	}

	// Ensure a 5xx without a Bot API body is an *Error with the status.
	srv.FailNext("sendMessage", botapitest.ServerError(http.StatusBadGateway))
	if e, ok := botapi.AsError(send(1)); !ok || e.Code != 502 || e.Description != "Bad Gateway" || !botapi.IsTemporary(e) {
		t.Errorf("502: err = %#v", e)
	}

	// Ensure a fault that answers every call does so until cleared.
	srv.FailNext("getMe", botapitest.Fault{Code: 500, Description: "Internal Server Error", Times: -1})
	for range 3 {
		if _, err := c.GetMe(ctx); !botapi.IsTemporary(err) {
			t.Fatalf("getMe: err = %v", err)
		}
	}
	srv.ClearFaults()
	if u, err := c.GetMe(ctx); err != nil || u.Username != "telecart_test_bot" {
		t.Fatalf("getMe = %+v, %v", u, err)
	}

	// Ensure a wrong token is a 401 and never quoted.
	if _, err := c.CheckToken(ctx, "999:other-fake-bot-token"); err == nil || strings.Contains(err.Error(), "fake-bot-token") {
		t.Errorf("CheckToken(wrong) = %v", err)
	} else if e, _ := botapi.AsError(err); e == nil || e.Code != 401 {
		t.Errorf("CheckToken(wrong) = %v, want a 401", err)
	}
	if err := c.SetToken("bad/token"); err == nil {
		t.Error("SetToken(bad/token) succeeded")
	}
}

func TestNetworkErrors(t *testing.T) {
	t.Parallel()
	srv := botapitest.NewServer(t, botapitest.Config{})
	c := mustNewClient(t, srv)
	srv.Close()

	// Ensure an unreachable server is a plain *url.Error without the token.
	_, err := c.GetMe(context.Background())
	var ue *url.Error
	if !errors.As(err, &ue) || !strings.Contains(ue.URL, "/bot<token>/getMe") {
		t.Fatalf("err = %#v, want a *url.Error with a redacted URL", err)
	}
	if _, ok := botapi.AsError(err); ok || !botapi.IsTemporary(err) {
		t.Errorf("err = %v: an *Error, or not temporary", err)
	}
	if strings.Contains(err.Error(), "fake-bot-token") {
		t.Errorf("error contains the token: %v", err)
	}

	// Ensure a slow server times out as a *url.Error that says so.
	slow := botapitest.NewServer(t, botapitest.Config{Latency: time.Second})
	c2, err := botapi.New(botapi.Config{Token: slow.Token, BaseURL: slow.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.GetMe(context.Background())
	if !errors.As(err, &ue) || !ue.Timeout() || strings.Contains(err.Error(), "fake-bot-token") {
		t.Errorf("err = %v, want a timeout without the token", err)
	}
}

func TestWebhookAndUpdates(t *testing.T) {
	t.Parallel()
	srv := botapitest.NewServer(t, botapitest.Config{})
	c := mustNewClient(t, srv)
	ctx := context.Background()

	// Ensure setWebhook sends the secret and the allowed updates, and
	// getWebhookInfo reads them back.
	err := c.SetWebhook(ctx, botapi.SetWebhookParams{URL: "https://shop.example/telegram/webhook", SecretToken: "s3cret_-X",
		AllowedUpdates: []string{botapi.UpdateMessage, botapi.UpdateMyChatMember}})
	if err != nil {
		t.Fatal(err)
	}
	if w := srv.Webhook(); w.SecretToken != "s3cret_-X" || len(w.AllowedUpdates) != 2 {
		t.Errorf("webhook = %+v", w)
	}
	info, err := c.GetWebhookInfo(ctx)
	if err != nil || info.URL != "https://shop.example/telegram/webhook" || len(info.AllowedUpdates) != 2 {
		t.Fatalf("info = %+v, %v", info, err)
	}

	// Ensure getUpdates is refused while a webhook is set, as Telegram does.
	if _, err := c.GetUpdates(ctx, botapi.GetUpdatesParams{}); err == nil {
		t.Fatal("getUpdates with a webhook succeeded")
	} else if e, _ := botapi.AsError(err); e == nil || e.Code != 409 {
		t.Fatalf("getUpdates with a webhook: %v", err)
	}
	if err := c.DeleteWebhook(ctx, botapi.DeleteWebhookParams{}); err != nil {
		t.Fatal(err)
	}

	// Ensure queued updates come back decoded, and an offset confirms them.
	id1 := srv.QueueUpdate(botapi.Update{Message: &botapi.Message{MessageID: 1, Chat: botapi.Chat{ID: 5, Type: "private"},
		From: &botapi.User{ID: 5, FirstName: "Ann"}, Text: "/start camp"}})
	id2 := srv.QueueRawUpdate(0, json.RawMessage(`{"my_chat_member":{"chat":{"id":5,"type":"private"},"from":{"id":5,"first_name":"Ann"},"date":1,`+
		`"old_chat_member":{"status":"member","user":{"id":1,"first_name":"Bot"}},"new_chat_member":{"status":"kicked","user":{"id":1,"first_name":"Bot"},"until_date":0}}}`))
	srv.QueueRawUpdate(0, json.RawMessage(`{"callback_query":{"id":"x"}}`))
	us, err := c.GetUpdates(ctx, botapi.GetUpdatesParams{Limit: 2})
	if err != nil || len(us) != 2 || us[0].UpdateID != id1 || us[1].UpdateID != id2 {
		t.Fatalf("updates = %+v, %v", us, err)
	}
	if us[0].Message.Text != "/start camp" || us[1].MyChatMember.NewChatMember.Status != botapi.MemberStatusKicked {
		t.Errorf("updates = %+v", us)
	}
	us, err = c.GetUpdates(ctx, botapi.GetUpdatesParams{Offset: id2 + 1})
	if err != nil || len(us) != 1 || us[0].Message != nil || us[0].MyChatMember != nil {
		t.Fatalf("after offset: %+v, %v", us, err)
	}

	// Ensure a long poll waits for the next update and answers with it.
	offset := us[0].UpdateID + 1
	go func() {
		time.Sleep(100 * time.Millisecond)
		srv.QueueUpdate(botapi.Update{Message: &botapi.Message{MessageID: 2, Text: "later"}})
	}()
	start := time.Now()
	us, err = c.GetUpdates(ctx, botapi.GetUpdatesParams{Offset: offset, Timeout: 5 * time.Second})
	if err != nil || len(us) != 1 || us[0].Message.Text != "later" || time.Since(start) > 4*time.Second {
		t.Fatalf("long poll = %+v, %v after %s", us, err, time.Since(start))
	}
	if calls := srv.CallsTo("getUpdates"); calls[len(calls)-1].Params["timeout"] != float64(5) {
		t.Errorf("timeout sent = %v", calls[len(calls)-1].Params)
	}
}

func TestSetChatMenuButton(t *testing.T) {
	t.Parallel()
	srv := botapitest.NewServer(t, botapitest.Config{})
	c := mustNewClient(t, srv)
	// Ensure the default menu button becomes a web_app button.
	err := c.SetChatMenuButton(context.Background(), botapi.SetChatMenuButtonParams{MenuButton: &botapi.MenuButton{
		Type: botapi.MenuButtonWebApp, Text: "Shop", WebApp: &botapi.WebAppInfo{URL: "https://shop.example/app/"}}})
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := srv.MenuButton(0); !ok || b.WebApp == nil || b.WebApp.URL != "https://shop.example/app/" {
		t.Errorf("menu button = %+v, %v", b, ok)
	}
	if got, _ := json.Marshal(srv.Calls()[0].Params); string(got) != `{"menu_button":{"text":"Shop","type":"web_app","web_app":{"url":"https://shop.example/app/"}}}` {
		t.Errorf("params = %s", got)
	}
}

func TestEscapeHTML(t *testing.T) {
	t.Parallel()
	if got := botapi.EscapeHTML(`<a href="x">Tom & Jerry</a>`); got != "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&lt;/a&gt;" {
		t.Errorf("EscapeHTML = %s", got)
	}
}
