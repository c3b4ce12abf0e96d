package updates_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/updates"
)

const (
	testSecret = "webhook_SECRET-1"
	testAppURL = "https://shop.example/app/"
)

var sources = []migrator.Source{telegram.MigrationSource(), updates.MigrationSource()}

// campaigns accepts "signed_{campaign}" as a validly signed start parameter.
type campaigns struct{}

func (campaigns) CampaignID(sp string) (string, bool) {
	c, ok := strings.CutPrefix(sp, "signed_")
	return c, ok && c != ""
}

// greeter greets by name, in Russian for Russian speakers; it fails while
// fail is positive, counting down.
type greeter struct{ fail atomic.Int32 }

func (g *greeter) Greeting(_ context.Context, u botapi.User) (string, string, error) {
	if g.fail.Add(-1) >= 0 {
		return "", "", errors.New("greeting unavailable")
	}
	if updates.Language(u.LanguageCode) == "ru" {
		return "Привет, " + u.FirstName + "!", "Открыть магазин", nil
	}
	return "Hello, " + u.FirstName + "!", "Open shop", nil
}

type env struct {
	db        migrator.DB
	srv       *botapitest.Server
	client    *botapi.Client
	customers *telegram.CustomerStore
	greeter   *greeter
	in        *updates.Intake
	web       *httptest.Server
}

// newEnv returns an intake over a fresh database and a fake Bot API; cfg's
// zero fields take the test's defaults.
func newEnv(t *testing.T, db migrator.DB, cfg updates.Config) *env {
	t.Helper()
	e := &env{db: db, srv: botapitest.NewServer(t, botapitest.Config{}), greeter: &greeter{}}
	var err error
	if e.client, err = botapi.New(botapi.Config{Token: e.srv.Token, BaseURL: e.srv.URL}); err != nil {
		t.Fatal(err)
	}
	if e.customers, err = telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{}); err != nil {
		t.Fatal(err)
	}
	cfg.DB, cfg.Client, cfg.Customers, cfg.Campaigns = db, e.client, e.customers, campaigns{}
	if cfg.Greeter == nil {
		cfg.Greeter = e.greeter
	}
	cfg.AppURL = testAppURL
	cfg.WebhookSecret = func(context.Context) (string, error) { return testSecret, nil }
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = time.Second
	}
	if e.in, err = updates.New(cfg); err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	e.in.RegisterRoutes(r)
	e.web = httptest.NewServer(r)
	t.Cleanup(e.web.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.in.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return e
}

// post sends body to the webhook with secret and returns the status.
func (e *env) post(t *testing.T, secret, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/telegram/webhook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(updates.HeaderSecretToken, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func startUpdate(id, user int64, text, lang string) string {
	return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1767225600,"chat":{"id":%d,"type":"private","first_name":"Ann"},`+
		`"from":{"id":%d,"is_bot":false,"first_name":"Ann","last_name":"Lee","username":"ann","language_code":%q},"text":%q,`+
		`"entities":[{"type":"bot_command","offset":0,"length":6}]}}`, id, id, user, user, lang, text)
}

func memberUpdate(id, user int64, status string) string {
	return fmt.Sprintf(`{"update_id":%d,"my_chat_member":{"chat":{"id":%d,"type":"private","first_name":"Ann"},"from":{"id":%d,"first_name":"Ann"},`+
		`"date":1767225600,"old_chat_member":{"status":"member","user":{"id":100000001,"is_bot":true,"first_name":"Bot"}},`+
		`"new_chat_member":{"status":%q,"user":{"id":100000001,"is_bot":true,"first_name":"Bot"}}}}`, id, user, user, status)
}

// drain handles every stored update that is due.
func (e *env) drain(t *testing.T) {
	t.Helper()
	for {
		n, err := e.in.HandleDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// checkGreeting ensures exactly one greeting went to chat, with a web_app
// button to the storefront.
func checkGreeting(t *testing.T, sent []botapitest.SentMessage, chat int64, text string) {
	t.Helper()
	var got []botapitest.SentMessage
	for _, m := range sent {
		if m.Params.ChatID == chat {
			got = append(got, m)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d messages to chat %d, want 1: %+v", len(got), chat, got)
	}
	p := got[0].Params
	if p.Text != text {
		t.Errorf("greeting = %q, want %q", p.Text, text)
	}
	if p.ReplyMarkup == nil || len(p.ReplyMarkup.InlineKeyboard) != 1 || len(p.ReplyMarkup.InlineKeyboard[0]) != 1 {
		t.Fatalf("reply markup = %+v", p.ReplyMarkup)
	}
	b := p.ReplyMarkup.InlineKeyboard[0][0]
	if b.WebApp == nil || b.WebApp.URL != testAppURL || b.URL != "" || b.Text == "" {
		t.Errorf("button = %+v, want a web_app button to %s", b, testAppURL)
	}
}

func TestWebhook(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db, updates.Config{})
		ctx := context.Background()

		// Ensure a wrong or missing secret token is a 401 and stores nothing.
		for _, secret := range []string{"", "wrong", testSecret + "x", strings.ToUpper(testSecret)} {
			if got := e.post(t, secret, startUpdate(1, 501, "/start signed_camp", "en")); got != http.StatusUnauthorized {
				t.Errorf("secret %q: status %d, want 401", secret, got)
			}
		}
		if c, _ := e.in.Counts(ctx); c != (updates.Counts{}) {
			t.Fatalf("counts after refusals = %+v", c)
		}

		// Ensure bad bodies are 400s, never 500s, and store nothing.
		for _, body := range []string{"", "not json", "[]", `{"message":{}}`, `{"update_id":"7"}`, `{"update_id":-1}`,
			`{"update_id":1.5}`, `{"update_id":3,"message":{"chat":"x"}}`, `{"update_id":3}{}`} {
			if got := e.post(t, testSecret, body); got != http.StatusBadRequest {
				t.Errorf("body %q: status %d, want 400", body, got)
			}
		}
		if got := e.post(t, testSecret, `{"update_id":1,"x":"`+strings.Repeat("a", updates.MaxBodyDefault)+`"}`); got != http.StatusRequestEntityTooLarge {
			t.Errorf("huge body: status %d, want 413", got)
		}

		// Ensure /start with a signed campaign, sent twice, saves one
		// customer with the campaign and greets once.
		for range 2 {
			if got := e.post(t, testSecret, startUpdate(10, 501, "/start signed_camp", "en")); got != http.StatusOK {
				t.Fatalf("status %d, want 200", got)
			}
		}
		e.drain(t)
		if got := e.post(t, testSecret, startUpdate(10, 501, "/start signed_camp", "en")); got != http.StatusOK {
			t.Fatalf("status %d, want 200", got)
		}
		e.drain(t)
		checkGreeting(t, e.srv.Sent(), 501, "Hello, Ann!")
		c, err := e.customers.GetByTelegramID(ctx, 501)
		if err != nil {
			t.Fatal(err)
		}
		if c.FirstCampaignID != "camp" || c.LastCampaignID != "camp" || !c.AllowsWriteToPM || c.Username != "ann" || c.LastName != "Lee" {
			t.Errorf("customer = %+v", c)
		}

		// Ensure an update kind the shop does not use is a 200, stored and
		// ignored.
		if got := e.post(t, testSecret, `{"update_id":11,"callback_query":{"id":"q","from":{"id":501,"first_name":"Ann"}}}`); got != http.StatusOK {
			t.Fatalf("callback_query: status %d", got)
		}
		e.drain(t)
		if n := len(e.srv.Sent()); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
		if c, _ := e.in.Counts(ctx); c.Done != 2 || c.Pending != 0 {
			t.Errorf("counts = %+v", c)
		}
	})
}

func TestStartCampaigns(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db, updates.Config{})
		ctx := context.Background()
		if _, err := e.customers.Save(ctx, telegram.User{ID: 777, FirstName: "Old", PhotoURL: "https://t.me/i/p.jpg", AllowsWriteToPM: false}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		// Ensure an unsigned start parameter records nothing, the first
		// signed campaign is kept, the last one follows, and the profile
		// is updated without losing the photo.
		for i, text := range []string{"/start camp", "/start signed_first", "/start@telecart_test_bot signed_second", "/start@other_bot signed_third"} {
			if got := e.post(t, testSecret, startUpdate(int64(20+i), 777, text, "ru")); got != http.StatusOK {
				t.Fatalf("status %d", got)
			}
		}
		e.drain(t)
		c, err := e.customers.GetByTelegramID(ctx, 777)
		if err != nil {
			t.Fatal(err)
		}
		if c.FirstCampaignID != "first" || c.LastCampaignID != "second" || c.FirstName != "Ann" || c.PhotoURL != "https://t.me/i/p.jpg" || !c.AllowsWriteToPM || c.LanguageCode != "ru" {
			t.Errorf("customer = %+v", c)
		}
		sent := e.srv.Sent()
		if len(sent) != 3 {
			t.Fatalf("%d greetings, want 3 (the command to another bot ignored)", len(sent))
		}
		// Ensure the bot's username is asked of Telegram once, not per update.
		if n := len(e.srv.CallsTo("getMe")); n != 1 {
			t.Errorf("%d getMe calls, want 1", n)
		}
		if sent[0].Params.Text != "Привет, Ann!" || sent[0].Params.ReplyMarkup.InlineKeyboard[0][0].Text != "Открыть магазин" {
			t.Errorf("greeting = %+v", sent[0].Params)
		}
	})
}

func TestPolling(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db, updates.Config{Mode: updates.ModePoll, SweepInterval: 50 * time.Millisecond})
		ctx := context.Background()
		e.srv.QueueRawUpdate(0, json.RawMessage(startUpdate(0, 601, "/start signed_camp", "en")))
		// Ensure a getUpdates failure is waited out, not fatal.
		e.srv.FailNext("getUpdates", botapitest.ServerError(http.StatusBadGateway))
		if err := e.in.Start(ctx); err != nil {
			t.Fatal(err)
		}
		sent := e.srv.WaitForSent(t, 1, 15*time.Second)
		checkGreeting(t, sent, 601, "Hello, Ann!")
		c, err := e.customers.GetByTelegramID(ctx, 601)
		if err != nil || c.FirstCampaignID != "camp" {
			t.Fatalf("customer = %+v, %v", c, err)
		}
		// Ensure the update is confirmed (the next offset) and never
		// handled again, and a later one is taken.
		e.srv.QueueRawUpdate(0, json.RawMessage(memberUpdate(0, 601, "kicked")))
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, _ = e.customers.GetByTelegramID(ctx, 601)
			if c.BotBlocked || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !c.BotBlocked {
			t.Fatal("my_chat_member kicked by polling did not block the customer")
		}
		if n := len(e.srv.Sent()); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
		if e.srv.PendingUpdates() > 1 {
			t.Errorf("%d updates unconfirmed", e.srv.PendingUpdates())
		}
		// Ensure Stop ends the long poll promptly.
		stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := e.in.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Stop took %s", d)
		}
		if err := e.in.Start(ctx); !errors.Is(err, updates.ErrStopped) {
			t.Errorf("Start after Stop = %v", err)
		}
	})
}

func TestMyChatMember(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db, updates.Config{})
		ctx := context.Background()
		if _, err := e.customers.Save(ctx, telegram.User{ID: 701, FirstName: "Ann", AllowsWriteToPM: true}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		// Ensure kicked blocks the customer and member makes them reachable.
		e.post(t, testSecret, memberUpdate(30, 701, "kicked"))
		e.drain(t)
		c, _ := e.customers.GetByTelegramID(ctx, 701)
		if !c.BotBlocked || c.BotBlockedAt == nil {
			t.Fatalf("after kicked: %+v", c)
		}
		e.post(t, testSecret, memberUpdate(31, 701, "member"))
		e.drain(t)
		c, _ = e.customers.GetByTelegramID(ctx, 701)
		if c.BotBlocked || c.BotBlockedAt != nil || !c.AllowsWriteToPM {
			t.Fatalf("after member: %+v", c)
		}
		// Ensure a user who is not a customer, and a group, change nothing
		// and fail nothing.
		e.post(t, testSecret, memberUpdate(32, 999, "kicked"))
		e.post(t, testSecret, strings.Replace(memberUpdate(33, 701, "kicked"), `"type":"private"`, `"type":"group"`, 1))
		e.drain(t)
		if _, err := e.customers.GetByTelegramID(ctx, 999); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Errorf("non-customer: %v", err)
		}
		if c, _ = e.customers.GetByTelegramID(ctx, 701); c.BotBlocked {
			t.Error("a group's my_chat_member blocked the customer")
		}
		if c, _ := e.in.Counts(ctx); c.Done != 4 || c.Failed != 0 {
			t.Errorf("counts = %+v", c)
		}
	})
}

func TestChatID(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db, updates.Config{})
		// Ensure /chatid in a forum topic answers CHAT_ID:THREAD_ID in the
		// topic, and in a plain group the chat's id.
		e.post(t, testSecret, `{"update_id":40,"message":{"message_id":5,"message_thread_id":77,"is_topic_message":true,"date":1,`+
			`"chat":{"id":-1001234567890,"type":"supergroup","title":"Shop","is_forum":true},"from":{"id":5,"first_name":"Ann"},"text":"/chatid@telecart_test_bot"}}`)
		e.post(t, testSecret, `{"update_id":41,"message":{"message_id":6,"date":1,`+
			`"chat":{"id":-4001,"type":"group","title":"Shop"},"from":{"id":5,"first_name":"Ann","language_code":"ru"},"text":"/chatid"}}`)
		e.drain(t)
		sent := e.srv.Sent()
		if len(sent) != 2 {
			t.Fatalf("%d messages, want 2", len(sent))
		}
		if p := sent[0].Params; p.ChatID != -1001234567890 || p.MessageThreadID != 77 || !strings.HasPrefix(p.Text, "-1001234567890:77\n") {
			t.Errorf("topic answer = %+v", p)
		}
		if p := sent[1].Params; p.ChatID != -4001 || p.MessageThreadID != 0 || !strings.HasPrefix(p.Text, "-4001\n") || !strings.Contains(p.Text, "чата") {
			t.Errorf("group answer = %+v", p)
		}
	})
}

func TestRetryAndReplicas(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		now := time.Now()
		var clock atomic.Int64
		clock.Store(now.UnixNano())
		e := newEnv(t, db, updates.Config{MaxAttempts: 2, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
		ctx := context.Background()

		// Ensure a failed handling is rolled back and tried again later,
		// and marked failed after MaxAttempts.
		e.greeter.fail.Store(1)
		e.post(t, testSecret, startUpdate(50, 801, "/start signed_camp", "en"))
		e.drain(t)
		if n := len(e.srv.Sent()); n != 0 {
			t.Fatalf("%d messages after a failed handling", n)
		}
		if c, _ := e.customers.GetByTelegramID(ctx, 801); c.ID != 0 {
			t.Fatalf("a failed handling kept the customer: %+v", c)
		}
		clock.Add(int64(time.Minute))
		e.drain(t)
		checkGreeting(t, e.srv.Sent(), 801, "Hello, Ann!")

		e.greeter.fail.Store(5)
		e.post(t, testSecret, startUpdate(51, 802, "/start", "en"))
		for range 3 {
			e.drain(t)
			clock.Add(int64(time.Hour))
		}
		if c, _ := e.in.Counts(ctx); c.Failed != 1 || c.Pending != 0 {
			t.Fatalf("counts = %+v, want 1 failed", c)
		}
		e.greeter.fail.Store(0)

		// Ensure two replicas handling the same updates at once greet each
		// user once.
		other := newEnv(t, db, updates.Config{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
		for i := range 20 {
			e.post(t, testSecret, startUpdate(int64(100+i), int64(900+i), "/start", "en"))
		}
		var wg sync.WaitGroup
		for _, in := range []*updates.Intake{e.in, other.in, e.in, other.in} {
			wg.Go(func() {
				for {
					n, err := in.HandleDue(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		perChat := map[int64]int{}
		for _, m := range append(e.srv.Sent(), other.srv.Sent()...) {
			perChat[m.Params.ChatID]++
		}
		for i := range 20 {
			if perChat[int64(900+i)] != 1 {
				t.Errorf("chat %d got %d greetings", 900+i, perChat[int64(900+i)])
			}
		}

		// Ensure Prune drops handled ids older than the cutoff only.
		n, err := e.in.Prune(ctx, time.Unix(0, clock.Load()).Add(time.Second))
		if err != nil || n != 22 {
			t.Errorf("Prune = %d, %v; want 22", n, err)
		}
		if c, _ := e.in.Counts(ctx); c != (updates.Counts{}) {
			t.Errorf("counts after prune = %+v", c)
		}
	})
}

// txReplier records answers queued in the handling's transaction.
type txReplier struct {
	mu   sync.Mutex
	keys []string
}

func (r *txReplier) Reply(context.Context, string, botapi.SendMessageParams) error {
	return errors.New("Reply called on a TxReplier")
}

func (r *txReplier) ReplyTx(_ context.Context, tx *sql.Tx, key string, _ botapi.SendMessageParams) error {
	if tx == nil {
		return errors.New("no transaction")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, key)
	return nil
}

func TestTxReplier(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, sources...)
	r := &txReplier{}
	e := newEnv(t, db, updates.Config{Replier: r})
	// Ensure a TxReplier queues the answer inside the transaction, keyed
	// by the update, and nothing is sent directly.
	e.post(t, testSecret, startUpdate(60, 1001, "/start", "en"))
	e.post(t, testSecret, startUpdate(60, 1001, "/start", "en"))
	e.drain(t)
	if len(r.keys) != 1 || r.keys[0] != "update:123456:60:start" {
		t.Errorf("keys = %v", r.keys)
	}
	if n := len(e.srv.Sent()); n != 0 {
		t.Errorf("%d messages sent directly", n)
	}
}

func TestNew(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, sources...)
	e := newEnv(t, db, updates.Config{})
	base := updates.Config{DB: db, Client: e.client, Customers: e.customers, Greeter: e.greeter, AppURL: testAppURL,
		WebhookSecret: func(context.Context) (string, error) { return testSecret, nil }}
	// Ensure setup mistakes are New's errors, naming the field.
	for want, mutate := range map[string]func(*updates.Config){
		"DB":            func(c *updates.Config) { c.DB = migrator.DB{} },
		"Client":        func(c *updates.Config) { c.Client = nil },
		"Customers":     func(c *updates.Config) { c.Customers = nil },
		"Greeter":       func(c *updates.Config) { c.Greeter = nil },
		"WebhookSecret": func(c *updates.Config) { c.WebhookSecret = nil },
		"AppURL":        func(c *updates.Config) { c.AppURL = "/app/" },
		"Mode":          func(c *updates.Config) { c.Mode = "push" },
		"WebhookURL":    func(c *updates.Config) { c.Mode = updates.ModeWebhook },
	} {
		cfg := base
		mutate(&cfg)
		if _, err := updates.New(cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", want, err)
		}
	}
	if _, err := updates.New(base); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookMode(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, sources...)
	e := newEnv(t, db, updates.Config{Mode: updates.ModeWebhook, WebhookURL: "https://shop.example/telegram/webhook"})
	// Ensure Start in webhook mode registers the URL with the secret and
	// the update kinds the shop handles.
	if err := e.in.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.Webhook().URL == "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	w := e.srv.Webhook()
	if w.URL != "https://shop.example/telegram/webhook" || w.SecretToken != testSecret || strings.Join(w.AllowedUpdates, ",") != "message,my_chat_member" {
		t.Errorf("webhook = %+v", w)
	}
}

func TestStoredUpdateSurvivesACrash(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		// Ensure an update stored by a process that died before handling it
		// (the webhook answered 200, nothing else ran) is handled by the
		// next process's worker, once.
		crashed := newEnv(t, db, updates.Config{})
		if got := crashed.post(t, testSecret, startUpdate(70, 1101, "/start signed_camp", "en")); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		if n := len(crashed.srv.Sent()); n != 0 {
			t.Fatalf("%d messages before any worker ran", n)
		}
		next := newEnv(t, db, updates.Config{SweepInterval: 20 * time.Millisecond})
		if err := next.in.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		sent := next.srv.WaitForSent(t, 1, 10*time.Second)
		checkGreeting(t, sent, 1101, "Hello, Ann!")
		c, err := next.customers.GetByTelegramID(context.Background(), 1101)
		if err != nil || c.FirstCampaignID != "camp" {
			t.Fatalf("customer = %+v, %v", c, err)
		}
	})
}
