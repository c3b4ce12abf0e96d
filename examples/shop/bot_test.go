package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
)

// Ensure the demo with -bot-updates poll -bot-api-url <fake> takes /start
// with a signed campaign link by long polling: one customer with the
// campaign, one greeting with a web_app button to {public-url}/app/; and
// that my_chat_member kicked then member blocks the customer and makes
// them reachable again; and that with -owner-chat an order sends one notice
// to that chat's topic and one to the buyer. On SQLite and MariaDB.
func TestDemoBotPolling(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			fake := botapitest.NewServer(t, botapitest.Config{})
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "bot.db")
			if d == migrator.MySQL {
				dsn = "mysql:" + migratortest.FreshDSN(t, d)
			}
			addr := freeAddr(t)
			const publicURL = "https://shop.example"
			const secret = "demo-start-param-secret"
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			var stderr bytes.Buffer
			go func() {
				done <- run(ctx, []string{"-addr", addr, "-db", dsn, "-log-file", filepath.Join(t.TempDir(), "bot.log"),
					"-bot-token", fake.Token, "-admin-token", "admin", "-start-param-secret", secret,
					"-bot-updates", "poll", "-bot-api-url", fake.URL, "-public-url", publicURL, "-owner-chat", "-100123:7"},
					func(string) string { return "" }, io.Discard, &stderr)
			}()
			defer func() {
				cancel()
				select {
				case code := <-done:
					if code != 0 {
						t.Errorf("exit code %d: %s", code, stderr.String())
					}
				case <-time.After(20 * time.Second):
					t.Error("no graceful stop within 20s")
				}
			}()

			link, err := pulse.NewStartParamSerializer(secret).Encode(pulse.StartParam{CampaignID: "camp"})
			if err != nil {
				t.Fatal(err)
			}
			fake.QueueUpdate(botapi.Update{Message: &botapi.Message{MessageID: 1, Date: time.Now().Unix(),
				Chat: botapi.Chat{ID: 6001, Type: botapi.ChatTypePrivate},
				From: &botapi.User{ID: 6001, FirstName: "Ann", LanguageCode: "en"}, Text: "/start " + link}})
			sent := fake.WaitForSent(t, 1, 30*time.Second)
			if len(sent) != 1 || sent[0].Params.ChatID != 6001 {
				t.Fatalf("sent = %+v", sent)
			}
			kb := sent[0].Params.ReplyMarkup
			if kb == nil || kb.InlineKeyboard[0][0].WebApp == nil || kb.InlineKeyboard[0][0].WebApp.URL != publicURL+"/app/" {
				t.Fatalf("greeting's keyboard = %+v", kb)
			}
			if !strings.Contains(sent[0].Params.Text, "TeleCart Demo Shop") {
				t.Errorf("greeting = %q", sent[0].Params.Text)
			}
			c := demoCustomer(t, addr, 6001)
			if c.FirstCampaignID != "camp" || c.BotBlocked {
				t.Fatalf("customer = %+v", c)
			}

			member := func(status string) {
				fake.QueueUpdate(botapi.Update{MyChatMember: &botapi.ChatMemberUpdated{
					Chat: botapi.Chat{ID: 6001, Type: botapi.ChatTypePrivate}, From: botapi.User{ID: 6001, FirstName: "Ann"},
					Date: time.Now().Unix(), NewChatMember: botapi.ChatMember{Status: status, User: botapi.User{ID: 1, IsBot: true}}}})
			}
			waitBlocked := func(want bool) {
				t.Helper()
				deadline := time.Now().Add(20 * time.Second)
				for demoCustomer(t, addr, 6001).BotBlocked != want {
					if time.Now().After(deadline) {
						t.Fatalf("bot_blocked never became %v", want)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			member(botapi.MemberStatusKicked)
			waitBlocked(true)
			member(botapi.MemberStatusMember)
			waitBlocked(false)
			if n := len(fake.Sent()); n != 1 {
				t.Errorf("%d messages, want the one greeting", n)
			}

			// An order from Ann: one notice to -owner-chat's forum topic and
			// one to her (she allowed the bot to write).
			initData := telegram.SignInitData(fake.Token, telegram.SignParams{
				User: &telegram.User{ID: 6001, FirstName: "Ann", LanguageCode: "en", AllowsWriteToPM: true}}, time.Now())
			orderID := demoOrder(t, addr, initData)
			sent = fake.WaitForSent(t, 3, 30*time.Second)
			var owner, buyer []botapitest.SentMessage
			for _, m := range sent[1:] {
				switch m.Params.ChatID {
				case -100123:
					owner = append(owner, m)
				case 6001:
					buyer = append(buyer, m)
				}
			}
			if len(owner) != 1 || owner[0].Params.MessageThreadID != 7 || !strings.Contains(owner[0].Params.Text, orderID) {
				t.Errorf("owner notices %+v, want one to topic 7 naming order %s", owner, orderID)
			}
			if len(buyer) != 1 || !strings.Contains(buyer[0].Params.Text, orderID) {
				t.Errorf("buyer notices %+v, want one naming order %s", buyer, orderID)
			}
		})
	}
}

// demoOrder places an order of one in-stock product through the demo's
// storefront API and returns its id.
func demoOrder(t *testing.T, addr, initData string) string {
	t.Helper()
	do := func(method, path string, body, out any) {
		t.Helper()
		var r io.Reader
		if body != nil {
			raw, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			r = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, "http://"+addr+path, r)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Telegram-Init-Data", initData)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s = %d: %s", method, path, resp.StatusCode, raw)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	var products struct {
		Data []struct {
			ID      string `json:"id"`
			InStock bool   `json:"in_stock"`
		} `json:"data"`
	}
	do("GET", "/api/products", nil, &products)
	id := ""
	for _, p := range products.Data {
		if p.InStock {
			id = p.ID
			break
		}
	}
	if id == "" {
		t.Fatalf("no product in stock: %+v", products)
	}
	var order struct {
		OrderID string `json:"order_id"`
	}
	do("POST", "/api/orders", map[string]any{
		"order_key": "6001aaaa-0000-4000-8000-000000000001",
		"items":     []any{map[string]any{"product_id": id, "quantity": 1}},
		"fields":    map[string]any{"name": "Ann", "phone": "+420 777 123 456", "delivery": "courier", "address": "Praha 1"},
	}, &order)
	if order.OrderID == "" {
		t.Fatal("no order id")
	}
	return order.OrderID
}

type demoCustomerRow struct {
	TelegramUserID  int64  `json:"telegram_user_id"`
	FirstCampaignID string `json:"first_campaign_id"`
	BotBlocked      bool   `json:"bot_blocked"`
}

// demoCustomer waits for the demo to answer and returns the customer of
// the Telegram user tgID from the admin API.
func demoCustomer(t *testing.T, addr string, tgID int64) demoCustomerRow {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/admin/api/customers?search=Ann", addr), nil)
		req.Header.Set("Authorization", "Bearer admin")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var page struct {
				Data []demoCustomerRow `json:"data"`
			}
			derr := json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && derr == nil {
				for _, c := range page.Data {
					if c.TelegramUserID == tgID {
						return c
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("customer %d not listed by the admin API", tgID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Ensure the bot's operator commands call the Bot API: the webhook at
// {public-url}/telegram/webhook with the kept secret, its info, its
// removal, and the menu button opening the storefront.
func TestBotOperatorCommands(t *testing.T) {
	fake := botapitest.NewServer(t, botapitest.Config{})
	db := "sqlite:" + filepath.Join(t.TempDir(), "ops.db")
	runCmd := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		flags := []string{"-db", db, "-bot-token", fake.Token, "-bot-api-url", fake.URL, "-public-url", "https://shop.example/"}
		if code := run(context.Background(), append(flags, args...), func(string) string { return "" }, &out, &errb); code != 0 {
			t.Fatalf("shop %v = %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	runCmd("bot", "webhook", "set")
	w := fake.Webhook()
	if w.URL != "https://shop.example/telegram/webhook" || w.SecretToken == "" || strings.Join(w.AllowedUpdates, ",") != "message,my_chat_member" {
		t.Fatalf("webhook = %+v", w)
	}
	// The secret is kept: setting the webhook again sends the same one.
	runCmd("bot", "webhook", "set")
	if fake.Webhook().SecretToken != w.SecretToken {
		t.Error("the webhook secret changed between two runs")
	}
	if out := runCmd("bot", "webhook", "info"); !strings.Contains(out, "https://shop.example/telegram/webhook") || !strings.Contains(out, "my_chat_member") {
		t.Errorf("bot webhook info:\n%s", out)
	}
	runCmd("bot", "menu-button", "set")
	if b, ok := fake.MenuButton(0); !ok || b.WebApp == nil || b.WebApp.URL != "https://shop.example/app/" {
		t.Errorf("menu button = %+v", b)
	}
	runCmd("bot", "webhook", "delete")
	if out := runCmd("bot", "webhook", "info"); !strings.Contains(out, "(none: getUpdates)") {
		t.Errorf("bot webhook info after delete:\n%s", out)
	}
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"-db", db, "bot", "webhook", "nope"}, func(string) string { return "" }, &bytes.Buffer{}, &errb); code == 0 {
		t.Error("an unknown bot command succeeded")
	}
}
