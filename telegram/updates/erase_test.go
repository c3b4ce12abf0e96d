package updates_test

import (
	"context"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/updates"
)

// Ensure the updates log's eraser blanks every stored update that carries
// the person's user id, as the sender of a message or the subject of a
// my_chat_member, and no other update, not even one whose message_id or
// update_id is the same number.
func TestEraser(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		const id = 424242
		bodies := map[int]string{
			1: `{"update_id":1,"message":{"message_id":7,"from":{"id":424242,"first_name":"Zina"},"chat":{"id":424242,"type":"private"},"text":"/start"}}`,
			2: `{"update_id":2,"my_chat_member":{"chat":{"id":424242,"type":"private"},"from":{"id":424242,"first_name":"Zina"}}}`,
			3: `{"update_id":3,"message":{"message_id":424242,"from":{"id":5,"first_name":"Boris"},"chat":{"id":5,"type":"private"},"text":"hi"}}`,
			4: `{"update_id":424242,"message":{"message_id":1,"from":{"id":4242420,"first_name":"Other"},"chat":{"id":4242420},"text":"x"}}`,
		}
		for n, body := range bodies {
			if _, err := db.ExecContext(ctx, "INSERT INTO "+db.Table(updates.UpdatesTable)+
				" (bot_id, update_id, body, status, attempts, next_attempt_at, received_at) VALUES (1, ?, ?, 'done', 1, ?, ?)",
				n, body, db.Dialect.EncodeTime(time.Now()), db.Dialect.EncodeTime(time.Now())); err != nil {
				t.Fatal(err)
			}
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := (updates.Eraser{DB: db}).EraseCustomerTx(ctx, tx, telegram.Customer{ID: 9, TelegramUserID: id}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		for n, body := range bodies {
			var got string
			if err := db.QueryRowContext(ctx, "SELECT body FROM "+db.Table(updates.UpdatesTable)+" WHERE update_id = ?", n).Scan(&got); err != nil {
				t.Fatal(err)
			}
			want := body
			if n <= 2 {
				want = "{}"
			}
			if got != want {
				t.Errorf("update %d: body %s, want %s", n, got, want)
			}
		}
	})
}
