package telecart_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// Ensure a Start that fails at its last step, the bot's updates intake,
// stops everything it had started: the Pulse sender, the scheduler and the
// message outbox, which then sends nothing queued.
func TestStartFailureStopsWhatStarted(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		api := botapitest.NewServer(t, botapitest.Config{Token: plugBotToken})
		tc, err := telecart.New(telecart.Config{DB: db, Catalog: newFakeCatalog(1), Orders: &fakePlacer{},
			AdminAuth: telecart.BearerAuth(plugAdminToken), BotToken: plugBotToken, TelegramAPIURL: api.URL,
			PublicURL: "https://shop.example", Messages: outbox.Config{SweepInterval: 20 * time.Millisecond},
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := tc.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// The intake checks its table when it starts: without it, it fails.
		if _, err := db.ExecContext(ctx, "DROP TABLE "+db.Table("bot_updates")); err != nil {
			t.Fatal(err)
		}
		err = tc.Start(ctx)
		if err == nil || !strings.Contains(err.Error(), "bot's updates") {
			t.Fatalf("Start = %v, want the intake's failure", err)
		}
		defer tc.Stop(ctx)
		if tc.Pulse().State().Running {
			t.Error("the Pulse sender runs after the failed Start")
		}
		for _, task := range tc.Scheduler().Tasks() {
			if task.NextRunAt != nil {
				t.Errorf("task %s is scheduled after the failed Start", task.Name)
			}
		}
		// A message queued now would be sent within a sweep by a running
		// outbox.
		client, err := botapi.New(botapi.Config{Token: api.Token, BaseURL: api.URL})
		if err != nil {
			t.Fatal(err)
		}
		q, err := outbox.New(db, outbox.Config{Bot: client, Customers: tc.Customers()})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := q.Enqueue(ctx, outbox.Message{Kind: outbox.KindAdmin, IdempotencyKey: "after-failed-start",
			ChatID: 4242, Text: "nobody sends this"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if n := len(api.CallsTo("sendMessage")); n != 0 {
			t.Errorf("%d messages sent after the failed Start: the outbox still runs", n)
		}
	})
}
