package outbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// marks is a table the tests' OnSentTx writes to through the record's
// transaction.
func mustMarksTable(t *testing.T, db migrator.DB) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE sent_marks (message_id BIGINT NOT NULL PRIMARY KEY, tg_id BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
}

func marks(t *testing.T, db migrator.DB) map[int64]int64 {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT message_id, tg_id FROM sent_marks")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, tg int64
		if err := rows.Scan(&id, &tg); err != nil {
			t.Fatal(err)
		}
		out[id] = tg
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func markTx(ctx context.Context, tx *sql.Tx, m outbox.Message) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO sent_marks (message_id, tg_id) VALUES (?, ?)", m.ID, m.TelegramMessageID)
	return err
}

// Ensure OnSentTx is called once for every message recorded as sent, and
// for no other, with the message as recorded, and that what it writes
// through tx is stored with it.
func TestOnSentTx_OK(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		mustMarksTable(t, db)
		var mu sync.Mutex
		var seen []outbox.Message
		o := e.mustOutbox(t, outbox.Config{OnSentTx: func(ctx context.Context, tx *sql.Tx, m outbox.Message) error {
			mu.Lock()
			seen = append(seen, m)
			mu.Unlock()
			return markTx(ctx, tx, m)
		}})
		cs := e.mustCustomers(t, 3, 7000)
		e.api.FailChat(cs[1].TelegramUserID, botapitest.Blocked())
		var ids []int64
		for i, c := range cs {
			ids = append(ids, mustEnqueue(t, o, outbox.Message{IdempotencyKey: "k" + string(rune('a'+i)), Kind: outbox.KindAdmin,
				ChatID: c.TelegramUserID, CustomerID: c.ID, Text: "hello"}).ID)
		}
		drain(t, o, 20*time.Second, func() bool {
			for _, id := range ids {
				if !statusIs(o, id, outbox.StatusSent, outbox.StatusFailed) {
					return false
				}
			}
			return true
		})

		got := marks(t, db)
		if len(got) != 2 || len(seen) != 2 {
			t.Fatalf("marks %v, calls %+v; want the two sent messages", got, seen)
		}
		for _, id := range []int64{ids[0], ids[2]} {
			stored, err := o.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status != outbox.StatusSent || got[id] != stored.TelegramMessageID || stored.TelegramMessageID == 0 {
				t.Errorf("message %d stored %+v, marked with Telegram id %d", id, stored, got[id])
			}
		}
		for _, m := range seen {
			if m.Status != outbox.StatusSent || m.SentAt == nil || m.Attempts != 1 || m.Kind != outbox.KindAdmin || m.CustomerID == 0 {
				t.Errorf("OnSentTx got %+v", m)
			}
		}
		if _, ok := got[ids[1]]; ok {
			t.Errorf("OnSentTx ran for the message Telegram refused")
		}
	})
}

// Ensure an OnSentTx that fails once is tried again in a new transaction,
// and one that keeps failing neither loses the record nor repeats the
// message: its writes are rolled back, the message is recorded as sent
// (Telegram has it) and the failure is logged.
func TestOnSentTx_Fails(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		mustMarksTable(t, db)
		var logs bytes.Buffer
		var mu sync.Mutex
		calls := map[int64]int{}
		o := e.mustOutbox(t, outbox.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			OnSentTx: func(ctx context.Context, tx *sql.Tx, m outbox.Message) error {
				mu.Lock()
				calls[m.ID]++
				n := calls[m.ID]
				mu.Unlock()
				if err := markTx(ctx, tx, m); err != nil {
					return err
				}
				// The flaky one fails once; the broken one always, after
				// writing, so that only a rollback removes its mark.
				if m.ChatID == 2 || (m.ChatID == 1 && n == 1) {
					return errors.New("tracking store refused")
				}
				return nil
			}})
		flaky := mustEnqueue(t, o, outbox.Message{IdempotencyKey: "flaky", ChatID: 1, Text: "one"})
		broken := mustEnqueue(t, o, outbox.Message{IdempotencyKey: "broken", ChatID: 2, Text: "two"})
		drain(t, o, 20*time.Second, func() bool {
			return statusIs(o, flaky.ID, outbox.StatusSent, outbox.StatusFailed) && statusIs(o, broken.ID, outbox.StatusSent, outbox.StatusFailed)
		})
		// Nothing is due any more: a second pass sends nothing.
		if rep, err := o.SendOnce(context.Background()); err != nil || rep.Claimed != 0 {
			t.Fatalf("SendOnce after = %+v, %v", rep, err)
		}

		for _, id := range []int64{flaky.ID, broken.ID} {
			if !statusIs(o, id, outbox.StatusSent) {
				m, _ := o.Get(context.Background(), id)
				t.Errorf("message %d is %s (%s), want sent", id, m.Status, m.Reason)
			}
		}
		perChat := map[int64]int{}
		for _, s := range e.api.Sent() {
			perChat[s.Params.ChatID]++
		}
		if perChat[1] != 1 || perChat[2] != 1 {
			t.Errorf("Telegram got %v messages per chat, want one each", perChat)
		}
		got := marks(t, db)
		if _, ok := got[flaky.ID]; !ok || len(got) != 1 {
			t.Errorf("marks %v: want the flaky message's only (the broken one's rolled back)", got)
		}
		if calls[flaky.ID] != 2 || calls[broken.ID] < 2 {
			t.Errorf("OnSentTx calls %v: want the flaky one twice, the broken one at least twice", calls)
		}
		if !strings.Contains(logs.String(), "OnSentTx failed") || !strings.Contains(logs.String(), "tracking store refused") {
			t.Errorf("the failure was not logged: %s", logs.String())
		}
	})
}
