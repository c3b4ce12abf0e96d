package updates_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/sqlite"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/updates"
)

// exampleDB is a migrated SQLite database in a temporary directory.
func exampleDB() (migrator.DB, func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "updates-example-")
	if err != nil {
		panic(err)
	}
	sqlDB, err := sqlite.Open(ctx, filepath.Join(dir, "shop.db"))
	if err != nil {
		panic(err)
	}
	db := migrator.DB{DB: sqlDB, Dialect: migrator.SQLite, Prefix: migrator.PrefixDefault}
	m, err := migrator.New(sqlDB, migrator.Config{Dialect: db.Dialect, Sources: sources})
	if err != nil {
		panic(err)
	}
	if _, err := m.Up(ctx); err != nil {
		panic(err)
	}
	return db, func() { sqlDB.Close(); os.RemoveAll(dir) }
}

// Telegram posts /start with a campaign link's parameter to the webhook,
// then the same update again: the customer is saved with the campaign and
// greeted once, with a button that opens the storefront. HandleDue stands
// in for the background worker that Start runs.
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
	in, err := updates.New(updates.Config{
		DB: db, Client: client, Customers: customers,
		Campaigns: campaigns{}, Greeter: &greeter{}, AppURL: "https://shop.example/app/",
		WebhookSecret: func(context.Context) (string, error) { return "s3cret", nil },
	})
	if err != nil {
		panic(err)
	}
	post := func(secret, body string) int {
		req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader(body))
		req.Header.Set(updates.HeaderSecretToken, secret)
		w := httptest.NewRecorder()
		in.HandleWebhook(w, req)
		return w.Code
	}
	start := `{"update_id": 9001, "message": {"message_id": 1, "date": 1700000000, "text": "/start signed_spring",
		"chat": {"id": 555, "type": "private"}, "from": {"id": 555, "first_name": "Anna", "language_code": "en"}}}`
	fmt.Println("wrong secret:", post("guess", start))
	fmt.Println("stored:", post("s3cret", start))
	fmt.Println("again:", post("s3cret", start)) // Telegram repeats an update it thinks lost

	n, err := in.HandleDue(ctx)
	fmt.Println("handled", n, err)
	for _, m := range api.Sent() {
		button := m.Params.ReplyMarkup.InlineKeyboard[0][0]
		fmt.Printf("to %d: %s [%s → %s]\n", m.Params.ChatID, m.Params.Text, button.Text, button.WebApp.URL)
	}
	c, err := customers.GetByTelegramID(ctx, 555)
	fmt.Println(c.FirstName, c.FirstCampaignID, err)
	counts, err := in.Counts(ctx)
	fmt.Printf("%+v %v\n", counts, err)
	// Output:
	// wrong secret: 401
	// stored: 200
	// again: 200
	// handled 1 <nil>
	// to 555: Hello, Anna! [Open shop → https://shop.example/app/]
	// Anna spring <nil>
	// {Pending:0 Done:1 Failed:0} <nil>
}
