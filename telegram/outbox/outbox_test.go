package outbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// Ensure a queued message is sent once, with its thread, parse mode and
// button, and recorded as sent with Telegram's message id.
func TestSendOnce_OK(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		o := e.mustOutbox(t, outbox.Config{})
		ctx := context.Background()
		m := mustEnqueue(t, o, outbox.Message{IdempotencyKey: "order:7:owner", Kind: outbox.KindOrderOwner, ChatID: -100123,
			ThreadID: 42, Text: "<b>New order</b>", ParseMode: "HTML",
			Buttons: []outbox.Button{{Text: "Open shop", WebAppURL: "https://shop.example/app/"}}})
		// The same key again is the same message.
		again, created, err := o.Enqueue(ctx, outbox.Message{IdempotencyKey: "order:7:owner", Kind: outbox.KindOrderOwner, ChatID: -100123, Text: "x"})
		if err != nil || created || again.ID != m.ID {
			t.Fatalf("second Enqueue = %d, %v, %v; want %d, false", again.ID, created, err, m.ID)
		}
		rep, err := o.SendOnce(ctx)
		if err != nil || rep.Sent != 1 {
			t.Fatalf("SendOnce = %+v, %v; want one sent", rep, err)
		}
		sent := e.api.Sent()
		if len(sent) != 1 {
			t.Fatalf("%d messages reached the API, want 1", len(sent))
		}
		p := sent[0].Params
		if p.ChatID != -100123 || p.MessageThreadID != 42 || p.ParseMode != "HTML" || p.Text != "<b>New order</b>" ||
			p.ReplyMarkup == nil || p.ReplyMarkup.InlineKeyboard[0][0].WebApp == nil {
			t.Errorf("sent %+v", p)
		}
		got, err := o.Get(ctx, m.ID)
		if err != nil || got.Status != outbox.StatusSent || got.TelegramMessageID != sent[0].MessageID || got.SentAt == nil || got.Attempts != 1 {
			t.Errorf("stored %+v, %v", got, err)
		}
		if rep, _ := o.SendOnce(ctx); rep.Claimed != 0 {
			t.Errorf("second SendOnce claimed %d", rep.Claimed)
		}
	})
}

// Ensure bad messages are refused before they are stored.
func TestEnqueue_Invalid(t *testing.T) {
	e := newEnv(t, mustSQLite(t))
	o := e.mustOutbox(t, outbox.Config{})
	ctx := context.Background()
	_, _, err := o.Enqueue(ctx, outbox.Message{IdempotencyKey: "k", Kind: "admin", ChatID: 1, Text: "  "})
	if !errors.Is(err, outbox.ErrTextEmpty) || tcerr.KindOf(err) != tcerr.Invalid {
		t.Errorf("empty text: %v", err)
	}
	_, _, err = o.Enqueue(ctx, outbox.Message{IdempotencyKey: "k", Kind: "admin", ChatID: 1, Text: strings.Repeat("я", 4097)})
	if !errors.Is(err, outbox.ErrTextTooLong) {
		t.Errorf("long text: %v", err)
	}
}

// Ensure 403 marks the customer blocked and fails the message at once, 400
// fails it with Telegram's description, and 5xx retries it later, while
// the other recipients get theirs.
func TestSend_Refusals(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		o := e.mustOutbox(t, outbox.Config{RetryBase: time.Hour, RetryMax: time.Hour})
		ctx := context.Background()
		cs := e.mustCustomers(t, 6, 5000)
		e.api.FailChat(cs[1].TelegramUserID, botapitest.Fault{Code: 403, Description: "Forbidden: bot was blocked by the user", Times: -1})
		e.api.FailChat(cs[3].TelegramUserID, botapitest.Fault{Code: 403, Description: "Forbidden: bot was blocked by the user", Times: -1})
		e.api.FailChat(cs[4].TelegramUserID, botapitest.BadRequest("Bad Request: chat not found"))
		e.api.FailChat(cs[5].TelegramUserID, botapitest.ServerError(502))
		ids := map[int64]int64{}
		for _, c := range cs {
			m := mustEnqueue(t, o, outbox.Message{IdempotencyKey: "admin:" + c.TrackingID, ChatID: c.TelegramUserID, CustomerID: c.ID, Text: "hi"})
			ids[c.ID] = m.ID
		}
		drain(t, o, 10*time.Second, func() bool {
			for i, c := range cs {
				if !statusIs(o, ids[c.ID], outbox.StatusSent, outbox.StatusFailed) && !(i == 5 && statusIs(o, ids[c.ID], outbox.StatusPending) && len(e.api.CallsTo("sendMessage")) >= 6) {
					return false
				}
			}
			return true
		})
		want := map[int]string{0: outbox.StatusSent, 1: outbox.StatusFailed, 2: outbox.StatusSent, 3: outbox.StatusFailed, 4: outbox.StatusFailed, 5: outbox.StatusPending}
		for i, c := range cs {
			m, err := o.Get(ctx, ids[c.ID])
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != want[i] {
				t.Errorf("customer %d: status %s (%s), want %s", i, m.Status, m.Reason, want[i])
			}
			got, _ := e.customers.Get(ctx, c.ID)
			if got.BotBlocked != (i == 1 || i == 3) {
				t.Errorf("customer %d: blocked %v", i, got.BotBlocked)
			}
		}
		if m, _ := o.Get(ctx, ids[cs[4].ID]); m.Reason != "Bad Request: chat not found" || m.ErrorCode != 400 {
			t.Errorf("400: reason %q code %d", m.Reason, m.ErrorCode)
		}
		if m, _ := o.Get(ctx, ids[cs[5].ID]); m.Attempts != 1 || !m.NextAttemptAt.After(time.Now().Add(30*time.Minute)) {
			t.Errorf("5xx: attempts %d, next %s", m.Attempts, m.NextAttemptAt)
		}
		// Each blocked chat was tried once: no retry.
		for _, c := range []int{1, 3} {
			n := 0
			for _, call := range e.api.CallsTo("sendMessage") {
				if call.ChatID() == cs[c].TelegramUserID {
					n++
				}
			}
			if n != 1 {
				t.Errorf("blocked customer %d: %d calls, want 1", c, n)
			}
		}
		counts, err := o.Count(ctx, 0)
		if err != nil || counts.Sent != 2 || counts.Blocked != 2 || counts.Failed != 1 || counts.Pending != 1 {
			t.Errorf("Count = %+v, %v", counts, err)
		}
		// Retry of the failed ones puts them back.
		if n, err := o.Retry(ctx, []int64{ids[cs[4].ID]}); n != 1 || err != nil {
			t.Errorf("Retry = %d, %v", n, err)
		}
		drain(t, o, 10*time.Second, func() bool { return statusIs(o, ids[cs[4].ID], outbox.StatusSent) })
	})
}

func mustSQLite(t *testing.T) migrator.DB {
	return migratortestOpen(t, migrator.SQLite)
}

func TestConfigClusterSettle(t *testing.T) {
	// Ensure a ClusterSettle out of range is refused, naming the field.
	e := newEnv(t, migratortest.MustOpenDB(t, migrator.SQLite, sources()...))
	for _, d := range []time.Duration{-time.Millisecond, 2 * time.Second} {
		_, err := outbox.New(e.db, outbox.Config{Bot: e.client, Customers: e.customers, ClusterSettle: d})
		if err == nil || !strings.Contains(err.Error(), "ClusterSettle") {
			t.Errorf("New with ClusterSettle %s = %v; want an error naming ClusterSettle", d, err)
		}
	}
}
