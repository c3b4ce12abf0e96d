package telecart_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/updates"
)

// fixedGreeter greets everyone the same.
type fixedGreeter struct{}

func (fixedGreeter) Greeting(context.Context, botapi.User) (string, string, error) {
	return "Hello", "Open shop", nil
}

// lifecycle is what every type with background work offers.
type lifecycle interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Ensure Start and Stop mean the same on every type that has them: a
// second Start is a no-op returning nil (and it keeps running), Stop may
// be called twice and before Start, and Start after Stop is the type's
// documented error, which says "stopped".
func TestStartStopContract(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	for _, tt := range []struct {
		name    string
		sources []migrator.Source
		new     func(t *testing.T, db migrator.DB) (lifecycle, func() bool)
		stopped error
	}{
		{"pulse.Pulse", []migrator.Source{pulse.MigrationSource()}, func(t *testing.T, db migrator.DB) (lifecycle, func() bool) {
			p, err := pulse.New(db, pulse.Config{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			return p, func() bool { return p.State().Running }
		}, pulse.ErrStopped},
		{"telecart.Scheduler", nil, func(t *testing.T, db migrator.DB) (lifecycle, func() bool) {
			s, err := telecart.NewScheduler(telecart.SchedulerConfig{DB: db, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Register(telecart.Task{Name: "tick", Schedule: "@hourly", Enabled: true,
				Run: func(context.Context) error { return nil }}); err != nil {
				t.Fatal(err)
			}
			return s, func() bool { return s.Tasks()[0].NextRunAt != nil }
		}, telecart.ErrSchedulerStopped},
		{"telecart.TeleCart", nil, func(t *testing.T, db migrator.DB) (lifecycle, func() bool) {
			tc, err := telecart.New(telecart.Config{DB: db, Catalog: newFakeCatalog(1), Orders: &fakePlacer{},
				AdminAuth: telecart.BearerAuth(plugAdminToken), BotToken: plugBotToken, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			return tc, func() bool {
				select {
				case <-tc.Ready():
					return tc.Pulse().State().Running
				default:
					return false
				}
			}
		}, telecart.ErrStopped},
		{"updates.Intake", []migrator.Source{telegram.MigrationSource(), updates.MigrationSource()}, func(t *testing.T, db migrator.DB) (lifecycle, func() bool) {
			fake := botapitest.NewServer(t, botapitest.Config{})
			client, err := botapi.New(botapi.Config{Token: fake.Token, BaseURL: fake.URL})
			if err != nil {
				t.Fatal(err)
			}
			customers, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
			if err != nil {
				t.Fatal(err)
			}
			in, err := updates.New(updates.Config{DB: db, Client: client, Customers: customers, Greeter: fixedGreeter{},
				AppURL: "https://shop.example/app/", Mode: updates.ModePoll, PollTimeout: time.Second, Logger: quiet,
				WebhookSecret: func(context.Context) (string, error) { return "s", nil }})
			if err != nil {
				t.Fatal(err)
			}
			return in, in.Running
		}, updates.ErrStopped},
	} {
		t.Run(tt.name, func(t *testing.T) {
			migratortest.Each(t, tt.sources, func(t *testing.T, db migrator.DB) {
				x, running := tt.new(t, db)
				step := func(what string, err, want error) {
					t.Helper()
					if !errors.Is(err, want) {
						t.Fatalf("%s = %v, want %v", what, err, want)
					}
				}
				// A second Start and a Start after Stop decide without I/O,
				// so even a cancelled context gets the contract's answer.
				cancelled, cancel := context.WithCancel(ctx)
				cancel()
				step("Start", x.Start(ctx), nil)
				step("second Start", x.Start(ctx), nil)
				step("second Start with a cancelled context", x.Start(cancelled), nil)
				if !running() {
					t.Fatal("not running after a second Start")
				}
				step("Stop", x.Stop(ctx), nil)
				step("second Stop", x.Stop(ctx), nil)
				step("Start after Stop", x.Start(ctx), tt.stopped)
				step("Start after Stop with a cancelled context", x.Start(cancelled), tt.stopped)
				if err := x.Start(ctx); err == nil || !strings.Contains(err.Error(), "stopped") {
					t.Fatalf("Start after Stop says %v; want it to say stopped", err)
				}

				y, _ := tt.new(t, db)
				step("Stop before Start", y.Stop(ctx), nil)
				step("second Stop before Start", y.Stop(ctx), nil)
				step("Start after a Stop before Start", y.Start(ctx), tt.stopped)
			})
		})
	}
}
