package telecart_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
)

// Ensure an order queues exactly one message to the owner chat (a forum
// topic) and one to the buyer, with the placeholders filled and escaped,
// and none to a buyer who has not allowed the bot to write.
func TestOrderNotices(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		api := botapitest.NewServer(t, botapitest.Config{Token: plugBotToken})
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.TelegramAPIURL = api.URL
			c.Settings.OwnerChat = "-1001234:7"
			c.Settings.ShopName = "Tea & Co"
		})
		anna := s.initData(1001, "Anna", "")
		var got orderAnswer
		s.must(t, "POST", "/api/orders", anna, false,
			orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000001", item("p2", 3)), http.StatusCreated, &got)
		sent := api.WaitForSent(t, 2, 15*time.Second)
		var owner, buyer []string
		for _, m := range sent {
			switch m.Params.ChatID {
			case -1001234:
				if m.Params.MessageThreadID != 7 || m.Params.ParseMode != "HTML" {
					t.Errorf("owner notice params %+v", m.Params)
				}
				owner = append(owner, m.Params.Text)
			case 1001:
				buyer = append(buyer, m.Params.Text)
			}
		}
		if len(owner) != 1 || len(buyer) != 1 {
			t.Fatalf("owner notices %q, buyer notices %q; want one each", owner, buyer)
		}
		for _, want := range []string{"#" + got.OrderID, "Tea &amp; Co", "Anna", got.TotalFormatted, "× 3"} {
			if !strings.Contains(owner[0], want) {
				t.Errorf("owner notice %q lacks %q", owner[0], want)
			}
		}
		if strings.Contains(owner[0], "{") || !strings.Contains(buyer[0], got.OrderID) {
			t.Errorf("placeholders left: owner %q buyer %q", owner[0], buyer[0])
		}

		// A buyer who did not allow the bot to write gets nothing.
		silent := telegram.SignInitData(plugBotToken, telegram.SignParams{
			User: &telegram.User{ID: 2002, FirstName: "Boris", AllowsWriteToPM: false}}, s.clock.Now())
		s.must(t, "POST", "/api/orders", silent, false,
			orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000002", item("p2", 1)), http.StatusCreated, &got)
		api.WaitForSent(t, 3, 15*time.Second)
		time.Sleep(1500 * time.Millisecond) // a buyer notice would be sent by now
		for _, m := range api.Sent() {
			if m.Params.ChatID == 2002 {
				t.Errorf("a notice went to a buyer who did not allow it: %q", m.Params.Text)
			}
		}
		if n := s.count(t, "telecart_messages", "idempotency_key = ?", "order:"+got.OrderID+":owner"); n != 1 {
			t.Errorf("%d owner notices stored for the second order", n)
		}
	})
}

// Ensure the admin's settings list the default notice templates by kind
// and language, for the panel's placeholders, and that sending them back
// with PUT is accepted and stores nothing of them.
func TestNotificationDefaultsInSettings(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite)
	s := newPlugShopWith(t, db, nil)
	var cur map[string]any
	s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
	d, _ := cur["notification_defaults"].(map[string]any)
	for _, kind := range []string{"owner", "buyer"} {
		m, _ := d[kind].(map[string]any)
		for _, lang := range []string{"en", "ru"} {
			if got, _ := m[lang].(string); !strings.Contains(got, "{order_id}") {
				t.Errorf("notification_defaults.%s.%s = %q", kind, lang, got)
			}
		}
	}
	s.must(t, http.MethodPut, "/admin/api/settings", "", true, cur, http.StatusOK, nil)
	var after map[string]any
	s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &after)
	if n, _ := after["notifications"].(map[string]any); n["owner"] != nil && len(n["owner"].(map[string]any)) > 0 {
		t.Errorf("notifications after PUT = %v", n)
	}
}
