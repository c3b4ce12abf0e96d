package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

func sources() []migrator.Source {
	return []migrator.Source{telegram.MigrationSource(), outbox.MigrationSource()}
}

// env is an outbox over a fresh database and a fake Bot API.
type env struct {
	db        migrator.DB
	api       *botapitest.Server
	customers *telegram.CustomerStore
	client    *botapi.Client
}

func newEnv(t *testing.T, db migrator.DB) *env {
	t.Helper()
	api := botapitest.NewServer(t, botapitest.Config{})
	client, err := botapi.New(botapi.Config{Token: api.Token, BaseURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	customers, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, api: api, customers: customers, client: client}
}

// mustOutbox makes an Outbox over e; cfg's Bot and Customers default to e's.
func (e *env) mustOutbox(t *testing.T, cfg outbox.Config) *outbox.Outbox {
	t.Helper()
	if cfg.Bot == nil {
		cfg.Bot = e.client
	}
	if cfg.Customers == nil {
		cfg.Customers = e.customers
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = 100 * time.Millisecond
	}
	o, err := outbox.New(e.db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// mustCustomers saves n customers who allow the bot to write, Telegram ids
// from base+1, and returns them.
func (e *env) mustCustomers(t *testing.T, n int, base int64) []telegram.Customer {
	t.Helper()
	out := make([]telegram.Customer, n)
	for i := range n {
		c, err := e.customers.Save(context.Background(), telegram.User{ID: base + int64(i) + 1, FirstName: fmt.Sprintf("C%d", i),
			AllowsWriteToPM: true}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out
}

func mustEnqueue(t *testing.T, o *outbox.Outbox, m outbox.Message) outbox.Message {
	t.Helper()
	if m.Kind == "" {
		m.Kind = outbox.KindAdmin
	}
	stored, _, err := o.Enqueue(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func eachDB(t *testing.T, fn func(t *testing.T, db migrator.DB)) {
	migratortest.Each(t, sources(), fn)
}

func migratortestOpen(t *testing.T, d migrator.Dialect) migrator.DB {
	t.Helper()
	return migratortest.MustOpenDB(t, d, sources()...)
}

// drain runs SendOnce until done reports true, failing after timeout:
// messages whose chat waits (its pace, a retry_after) become claimable
// only later.
func drain(t *testing.T, o *outbox.Outbox, timeout time.Duration, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("not done after %s", timeout)
		}
		if _, err := o.SendOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statusIs reports whether message id has status.
func statusIs(o *outbox.Outbox, id int64, statuses ...string) bool {
	m, err := o.Get(context.Background(), id)
	if err != nil {
		return false
	}
	for _, s := range statuses {
		if m.Status == s {
			return true
		}
	}
	return false
}
