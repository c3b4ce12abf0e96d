package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/sqlite"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// exampleDB is a migrated SQLite database in a temporary directory.
func exampleDB() (migrator.DB, func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "outbox-example-")
	if err != nil {
		panic(err)
	}
	sqlDB, err := sqlite.Open(ctx, filepath.Join(dir, "shop.db"))
	if err != nil {
		panic(err)
	}
	db := migrator.DB{DB: sqlDB, Dialect: migrator.SQLite, Prefix: migrator.PrefixDefault}
	m, err := migrator.New(sqlDB, migrator.Config{Dialect: db.Dialect, Sources: sources()})
	if err != nil {
		panic(err)
	}
	if _, err := m.Up(ctx); err != nil {
		panic(err)
	}
	return db, func() { sqlDB.Close(); os.RemoveAll(dir) }
}

// A new-order notice to the owner's forum topic and a broadcast to the
// shop's customers go through the outbox: each message is a row first,
// sent at Telegram's pace by SendOnce here (the background sender, after
// Start, in a real shop). A customer who blocked the bot is marked so, and
// their message fails at once.
func Example() {
	ctx := context.Background()
	db, cleanup := exampleDB()
	defer cleanup()
	api := botapitest.Start(botapitest.Config{}) // a fake Bot API
	defer api.Close()
	client, err := botapi.New(botapi.Config{Token: api.Token, BaseURL: api.URL})
	if err != nil {
		panic(err)
	}
	customers, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
	if err != nil {
		panic(err)
	}
	o, err := outbox.New(db, outbox.Config{Bot: client, Customers: customers, WebAppURL: "https://shop.example/app/",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	var boris telegram.Customer
	for i, name := range []string{"Anna", "Boris", "Vera"} {
		c, err := customers.Save(ctx, telegram.User{ID: int64(1001 + i), FirstName: name, AllowsWriteToPM: true}, time.Now())
		if err != nil {
			panic(err)
		}
		if name == "Boris" {
			boris = c
		}
	}
	api.FailChat(boris.TelegramUserID, botapitest.Blocked())

	notice := outbox.Message{Kind: outbox.KindOrderOwner, IdempotencyKey: "order:42:owner", ChatID: -1001234, ThreadID: 7,
		Text: "<b>New order #42</b> from " + botapi.EscapeHTML("Tom & Jerry"), ParseMode: botapi.ParseModeHTML}
	for range 2 { // the same key twice: one message
		m, created, err := o.Enqueue(ctx, notice)
		fmt.Println("notice", m.ID, created, err)
	}

	_, err = o.CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "<b>New teas</b> <img>"})
	fmt.Println(tcerr.FieldsOf(err)["text"])
	b, err := o.CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "<b>New teas</b> are in", ButtonText: "Open shop"})
	fmt.Println("draft:", b.Recipients, "recipients,", b.EstimatedSeconds, "s", err)
	if _, err := o.StartBroadcast(ctx, b.ID); err != nil {
		panic(err)
	}

	rep, err := o.SendOnce(ctx)
	fmt.Println("sent", rep.Sent, "failed", rep.Failed, err)
	sent := api.Sent()
	slices.SortFunc(sent, func(a, b botapitest.SentMessage) int { return int(a.Params.ChatID - b.Params.ChatID) })
	for _, m := range sent {
		fmt.Println(m.Params.ChatID, m.Params.Text)
	}
	b, err = o.Broadcast(ctx, b.ID)
	fmt.Println(b.Status, "sent", b.Sent, "blocked", b.Blocked, "queued", b.Queued, err)
	boris, err = customers.Get(ctx, boris.ID)
	fmt.Println("Boris blocked the bot:", boris.BotBlocked, err)
	// Output:
	// notice 1 true <nil>
	// notice 1 false <nil>
	// Telegram would refuse it: unsupported tag <img> at character 17.
	// draft: 3 recipients, 1 s <nil>
	// sent 3 failed 1 <nil>
	// -1001234 <b>New order #42</b> from Tom &amp; Jerry
	// 1001 <b>New teas</b> are in
	// 1003 <b>New teas</b> are in
	// done sent 2 blocked 1 queued 0 <nil>
	// Boris blocked the bot: true <nil>
}
