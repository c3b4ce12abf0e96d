package pulse_test

import (
	"context"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// Ensure erasing a customer rewrites the ORDER_CREATED keys that older
// versions built from the Telegram id, and touches nothing else.
func TestEraseCustomerTx(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		p := MustNew(t, db, testConfig("http://127.0.0.1:1"))
		c := telegram.Customer{ID: 3, TelegramUserID: 987654321, TrackingID: "trk-erase"}
		order := func(key, tracking string) pulse.Event {
			return pulse.Event{Name: pulse.EventOrderCreated, IdempotencyKey: key, CampaignID: "spring24",
				TrackingID: tracking, Payload: map[string]any{"order_id": "H1"}}
		}
		MustTrack(t, p, order("order:987654321:k1", c.TrackingID))
		MustTrack(t, p, order("order:trk-erase:k2", c.TrackingID))
		MustTrack(t, p, order("order:9876543210:k3", "trk-other")) // another buyer, a longer id
		MustTrack(t, p, testEvent("client:trk-erase:e1"))
		for range 2 { // erasing twice changes nothing more
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.EraseCustomerTx(ctx, tx, c); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.Lookup(ctx, "order:987654321:k1"); err == nil {
			t.Fatal("the old key is still there")
		}
		for _, key := range []string{"order:trk-erase:k1", "order:trk-erase:k2", "order:9876543210:k3", "client:trk-erase:e1"} {
			MustLookup(t, p, key)
		}
		var _ telegram.CustomerEraser = p
	})
}
