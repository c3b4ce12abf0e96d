package telecart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/updates"
)

const botPublicURL = "https://shop.example/telecart"

func botStartUpdate(id, user int64, text string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"update_id":%d,"message":{"message_id":1,"date":1767225600,"chat":{"id":%d,"type":"private"},`+
		`"from":{"id":%d,"first_name":"Ann","language_code":"en"},"text":%q}}`, id, user, user, text))
}

func TestBotUpdates(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		fake := botapitest.NewServer(t, botapitest.Config{Token: plugBotToken})
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.TelegramAPIURL, c.PublicURL, c.BotUpdates = fake.URL, botPublicURL+"/", telecart.BotUpdatesPoll
			c.Settings.ShopName = "Demo"
		})
		ctx := context.Background()

		// Ensure /start with a signed campaign link, by polling, saves the
		// customer with the campaign and greets with a web_app button to
		// the storefront; an unsigned link records nothing.
		signed, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "spring"})
		if err != nil {
			t.Fatal(err)
		}
		unsigned, _ := pulse.NewStartParamSerializer("").Encode(pulse.StartParam{CampaignID: "forged"})
		fake.QueueRawUpdate(0, botStartUpdate(0, 4001, "/start "+signed))
		fake.QueueRawUpdate(0, botStartUpdate(0, 4002, "/start "+unsigned))
		sent := fake.WaitForSent(t, 2, 15*time.Second)
		for _, m := range sent {
			p := m.Params
			if p.Text != "Hello, Ann! Welcome to Demo. Tap the button below to open the shop." {
				t.Errorf("greeting = %q", p.Text)
			}
			if b := p.ReplyMarkup.InlineKeyboard[0][0]; b.WebApp == nil || b.WebApp.URL != botPublicURL+"/app/" || b.Text != "Open shop" {
				t.Errorf("button = %+v", b)
			}
		}
		var signedCampaign, unsignedCampaign string
		if err := db.QueryRowContext(ctx, "SELECT first_campaign_id FROM telecart_customers WHERE telegram_user_id = 4001").Scan(&signedCampaign); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "SELECT first_campaign_id FROM telecart_customers WHERE telegram_user_id = 4002").Scan(&unsignedCampaign); err != nil {
			t.Fatal(err)
		}
		if signedCampaign != "spring" || unsignedCampaign != "" {
			t.Errorf("campaigns = %q, %q; want spring and none", signedCampaign, unsignedCampaign)
		}

		// Ensure the webhook's secret is generated, kept, masked in the
		// settings, and registered by BotWebhookSet with the public URL.
		var settings map[string]any
		s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &settings)
		if settings["webhook_secret"] != "••••" {
			t.Errorf("webhook_secret = %v, want masked", settings["webhook_secret"])
		}
		if err := s.tc.BotWebhookSet(ctx); err != nil {
			t.Fatal(err)
		}
		wh := fake.Webhook()
		if wh.URL != botPublicURL+"/telegram/webhook" || len(wh.SecretToken) != 64 {
			t.Fatalf("webhook = %+v", wh)
		}

		// Ensure the webhook route takes an update only with the secret,
		// and the same update twice greets once.
		post := func(secret string, body json.RawMessage) int {
			req, _ := http.NewRequest(http.MethodPost, s.server.URL+"/telegram/webhook", strings.NewReader(string(body)))
			if secret != "" {
				req.Header.Set(updates.HeaderSecretToken, secret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := post("wrong", botStartUpdate(500, 4003, "/start")); got != http.StatusUnauthorized {
			t.Errorf("wrong secret: %d", got)
		}
		for range 2 {
			if got := post(wh.SecretToken, botStartUpdate(500, 4003, "/start")); got != http.StatusOK {
				t.Errorf("right secret: %d", got)
			}
		}
		if got := post(wh.SecretToken, json.RawMessage("{bad")); got != http.StatusBadRequest {
			t.Errorf("bad JSON: %d", got)
		}
		fake.WaitForSent(t, 3, 10*time.Second)
		// A repeat would be handled right after the first: give it the time.
		time.Sleep(200 * time.Millisecond)
		n := 0
		for _, m := range fake.Sent() {
			if m.Params.ChatID == 4003 {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d greetings to 4003, want 1", n)
		}

		// Ensure the admin API shows the bot's username and the webhook.
		var st struct {
			Username string `json:"username"`
			Updates  string `json:"updates"`
			Webhook  struct {
				URL string `json:"url"`
			} `json:"webhook"`
			Received struct {
				Done int `json:"done"`
			} `json:"received"`
		}
		s.must(t, http.MethodGet, "/admin/api/bot", "", true, nil, http.StatusOK, &st)
		if st.Username != "telecart_test_bot" || st.Updates != "poll" || st.Webhook.URL != botPublicURL+"/telegram/webhook" || st.Received.Done != 3 {
			t.Errorf("bot status = %+v", st)
		}
		if status, _ := s.call(t, http.MethodGet, "/admin/api/bot", "", false, nil); status != http.StatusUnauthorized {
			t.Errorf("bot status without admin auth: %d", status)
		}

		// Ensure the menu button opens the storefront.
		if err := s.tc.BotMenuButtonSet(ctx); err != nil {
			t.Fatal(err)
		}
		if b, ok := fake.MenuButton(0); !ok || b.Type != botapi.MenuButtonWebApp || b.WebApp.URL != botPublicURL+"/app/" {
			t.Errorf("menu button = %+v", b)
		}
		if err := s.tc.BotWebhookDelete(ctx); err != nil || fake.Webhook().URL != "" {
			t.Errorf("BotWebhookDelete: %v, webhook %+v", err, fake.Webhook())
		}
	})
}

func TestBotGreetingSettings(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite)
	s := newPlugShopWith(t, db, func(c *telecart.Config) { c.PublicURL = botPublicURL })
	ctx := context.Background()
	var cur map[string]any
	s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
	if d, _ := cur["bot_greeting_defaults"].(map[string]any); d["ru"] == nil || d["en"] == nil {
		t.Fatalf("bot_greeting_defaults = %v", cur["bot_greeting_defaults"])
	}
	// Ensure a greeting per language is saved, used with its placeholders,
	// and a language without one falls back to the default.
	cur["bot_greeting"] = map[string]string{"ru": "Привет, {first_name}, это {shop_name}", "en": " "}
	s.must(t, http.MethodPut, "/admin/api/settings", "", true, cur, http.StatusOK, nil)
	text, button, err := s.tc.Greeting(ctx, botapi.User{FirstName: "Аня", LanguageCode: "ru-RU"})
	if err != nil || text != "Привет, Аня, это the shop" || button != "Открыть магазин" {
		t.Errorf("ru greeting = %q, %q, %v", text, button, err)
	}
	if text, _, _ := s.tc.Greeting(ctx, botapi.User{FirstName: "Bo", LanguageCode: "de"}); !strings.HasPrefix(text, "Hello, Bo!") {
		t.Errorf("de greeting = %q", text)
	}
	// Ensure bad greetings and a cleared webhook secret are field errors.
	cur["bot_greeting"] = map[string]string{"Russian": "x"}
	cur["webhook_secret"] = ""
	var e struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	s.must(t, http.MethodPut, "/admin/api/settings", "", true, cur, http.StatusUnprocessableEntity, &e)
	if e.Error.Fields["bot_greeting.Russian"] == "" || e.Error.Fields["webhook_secret"] == "" {
		t.Errorf("fields = %v", e.Error.Fields)
	}
}

func TestBotConfig(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite)
	base := telecart.Config{DB: db, Catalog: newFakeCatalog(1), Orders: &fakePlacer{}, AdminAuth: telecart.BearerAuth("x"), BotToken: plugBotToken}
	// Ensure updates without a public URL, an unknown mode and a bad URL
	// are New's errors.
	for name, mutate := range map[string]func(*telecart.Config){
		"poll without PublicURL": func(c *telecart.Config) { c.BotUpdates = telecart.BotUpdatesPoll },
		"unknown mode":           func(c *telecart.Config) { c.BotUpdates = "push"; c.PublicURL = botPublicURL },
		"relative PublicURL":     func(c *telecart.Config) { c.PublicURL = "shop.example" },
	} {
		cfg := base
		mutate(&cfg)
		if _, err := telecart.New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	// Ensure without a public URL the webhook route does not exist.
	tc, err := telecart.New(base)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	tc.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader("{}")))
	if rec.Code != http.StatusNotFound {
		t.Errorf("webhook without PublicURL: %d", rec.Code)
	}
	if err := tc.BotWebhookSet(context.Background()); err == nil {
		t.Error("BotWebhookSet without PublicURL succeeded")
	}
}
