package telegram_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
)

func TestSaveFromChat(t *testing.T) {
	migratortest.Each(t, []migrator.Source{telegram.MigrationSource()}, func(t *testing.T, db migrator.DB) {
		clock := newCustClock()
		s, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()

		// Ensure a user new to the shop is saved, may be written to, and
		// gets a tracking id.
		at := custStart.Add(-time.Minute)
		c, err := s.SaveFromChat(ctx, db, telegram.User{ID: 11, FirstName: "Ann", Username: "ann", LanguageCode: "ru"}, at)
		if err != nil {
			t.Fatal(err)
		}
		if c.TrackingID == "" || !c.AllowsWriteToPM || c.BotBlocked || !c.LastSeenAt.Equal(at) || c.LanguageCode != "ru" {
			t.Fatalf("new customer = %+v", c)
		}

		// Ensure an existing customer keeps their photo and tracking id, is
		// reachable again, and takes the new profile.
		if _, err := s.Save(ctx, telegram.User{ID: 12, FirstName: "Bo", PhotoURL: "https://t.me/i/bo.jpg"}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		before, _ := s.GetByTelegramID(ctx, 12)
		if err := s.SetBotBlockedTx(ctx, db, 12, true, custStart); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.GetByTelegramID(ctx, 12); !b.BotBlocked || b.BotBlockedAt == nil || !b.BotBlockedAt.Equal(custStart) {
			t.Fatalf("after blocking: %+v", b)
		}
		// Blocking again keeps the first time.
		if err := s.SetBotBlockedTx(ctx, db, 12, true, custStart.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.GetByTelegramID(ctx, 12); !b.BotBlockedAt.Equal(custStart) {
			t.Fatalf("second block moved bot_blocked_at: %v", b.BotBlockedAt)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err = s.SaveFromChat(ctx, tx, telegram.User{ID: 12, FirstName: "Bob", LastName: "Lee"}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if c.FirstName != "Bob" || c.LastName != "Lee" || c.PhotoURL != "https://t.me/i/bo.jpg" || c.TrackingID != before.TrackingID ||
			c.BotBlocked || c.BotBlockedAt != nil || !c.AllowsWriteToPM {
			t.Fatalf("after /start: %+v", c)
		}

		// Ensure unblocking makes the customer reachable, and an unknown
		// user is ErrCustomerNotFound.
		if err := s.SetBotBlockedTx(ctx, db, 12, true, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetBotBlockedTx(ctx, db, 12, false, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.GetByTelegramID(ctx, 12); b.BotBlocked || b.BotBlockedAt != nil {
			t.Fatalf("after unblocking: %+v", b)
		}
		if err := s.SetBotBlockedTx(ctx, db, 999, true, time.Time{}); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		if _, err := s.SaveFromChat(ctx, db, telegram.User{ID: 0}, time.Time{}); err == nil {
			t.Error("a user id 0 was saved")
		}
	})
}
