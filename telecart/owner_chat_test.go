package telecart_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
)

// Ensure that when the owner chat, a group, became a supergroup (Telegram
// answers with parameters.migrate_to_chat_id), the new-order notice is sent
// to the new id instead of failing, the owner chat setting moves to the new
// id, and the next order's notice goes there at once.
func TestOwnerChatMigrated(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		const oldID, newID = -500777, -1009000111
		api := botapitest.NewServer(t, botapitest.Config{Token: plugBotToken})
		api.FailChat(oldID, botapitest.Fault{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat",
			MigrateToChatID: newID, Times: -1})
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.TelegramAPIURL = api.URL
			c.Settings.OwnerChat = "-500777"
		})
		anna := s.initData(1001, "Anna", "")
		toOwner := func() (oldCalls, newSent int) {
			for _, c := range api.CallsTo("sendMessage") {
				if c.ChatID() == oldID {
					oldCalls++
				}
			}
			for _, m := range api.Sent() {
				if m.Params.ChatID == newID {
					newSent++
				}
			}
			return oldCalls, newSent
		}
		waitOwner := func(n int) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, got := toOwner(); got >= n {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("fewer than %d owner notices reached the new id", n)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		s.must(t, "POST", "/api/orders", anna, false, orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000101", item("p2", 1)), http.StatusCreated, nil)
		waitOwner(1)
		var cur struct {
			OwnerChat string `json:"owner_chat"`
		}
		s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
		if cur.OwnerChat != "-1009000111" {
			t.Errorf("owner_chat = %q after the migration, want the new id", cur.OwnerChat)
		}
		s.must(t, "POST", "/api/orders", anna, false, orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000102", item("p2", 1)), http.StatusCreated, nil)
		waitOwner(2)
		if old, sent := toOwner(); old != 1 || sent != 2 {
			t.Errorf("%d calls to the old id and %d notices to the new, want 1 and 2", old, sent)
		}
		if n := s.count(t, "telecart_messages", "kind = ? AND status = ?", "order_owner", "failed"); n != 0 {
			t.Errorf("%d owner notices failed", n)
		}
	})
}

// Ensure MoveOwnerChat moves only an owner chat that points at the old id,
// keeps a forum topic, and tells the OnChange listeners.
func TestSettingsMoveOwnerChat(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		store := MustNewSettingsStore(t, db, telecart.Settings{OwnerChat: "-100200:7"}, time.Now)
		ctx := context.Background()
		var seen []string
		store.OnChange(func(s telecart.Settings) { seen = append(seen, s.OwnerChat) })
		if moved, err := store.MoveOwnerChat(ctx, -999, -1009); moved || err != nil {
			t.Errorf("another chat moved the owner chat: %v, %v", moved, err)
		}
		if moved, err := store.MoveOwnerChat(ctx, -100200, -1001234567); !moved || err != nil {
			t.Fatalf("MoveOwnerChat = %v, %v", moved, err)
		}
		if got := MustGetSettings(t, store).OwnerChat; got != "-1001234567:7" {
			t.Errorf("owner chat %q, want the new id with the topic", got)
		}
		// Stored: a new store over the same database reads it back.
		again := MustNewSettingsStore(t, db, telecart.Settings{OwnerChat: "-100200:7"}, time.Now)
		if got := MustGetSettings(t, again).OwnerChat; got != "-1001234567:7" {
			t.Errorf("owner chat read back %q", got)
		}
		if len(seen) != 1 || seen[0] != "-1001234567:7" {
			t.Errorf("OnChange saw %q", seen)
		}
	})
}
