package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
)

// MustNewMessenger returns a Messenger over store and sender, or fails the test.
func MustNewMessenger(tb testing.TB, store *telegram.CustomerStore, sender telegram.MessageSender, cfg telegram.MessengerConfig) *telegram.Messenger {
	tb.Helper()
	cfg.Store, cfg.Sender = store, sender
	m, err := telegram.NewMessenger(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestNewMessenger(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, telegram.MigrationSource())
	store := MustNewCustomerStore(t, db, newCustClock(), telegram.CustomerStoreConfig{})
	for _, tt := range []struct {
		name   string
		store  *telegram.CustomerStore
		sender telegram.MessageSender
		cfg    telegram.MessengerConfig
		want   string
	}{
		{"NilStore", nil, &custFakeSender{}, telegram.MessengerConfig{}, "Store is nil"},
		{"NilSender", store, nil, telegram.MessengerConfig{}, "Sender is nil"},
		{"NegativeTimeout", store, &custFakeSender{}, telegram.MessengerConfig{MarkTimeout: -time.Second}, "MarkTimeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Store, tt.cfg.Sender = tt.store, tt.sender
			if _, err := telegram.NewMessenger(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestMessengerSend(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clock := newCustClock()
		store := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})
		ann := MustSaveCustomer(t, store, telegram.User{ID: 11, FirstName: "Ann", AllowsWriteToPM: true})
		sam := MustSaveCustomer(t, store, telegram.User{ID: 12, FirstName: "Sam"})

		t.Run("OK", func(t *testing.T) {
			// Ensure the message goes to the customer's chat as plain text,
			// and OnSent hears of it.
			sender := &custFakeSender{}
			var hooked []int64
			m := MustNewMessenger(t, store, sender, telegram.MessengerConfig{
				OnSent: func(_ context.Context, c telegram.Customer, id int64) { hooked = append(hooked, c.ID, id) },
			})
			res, err := m.Send(ctx, ann.ID, "Hello *Ann* <3")
			if err != nil || res.MessageID != 1001 {
				t.Fatalf("Send = %+v, %v", res, err)
			}
			if p := sender.sent[0]; p.ChatID != 11 || p.Text != "Hello *Ann* <3" || p.ParseMode != telegram.ParseModeNone {
				t.Fatalf("sent %+v", p)
			}
			if len(hooked) != 2 || hooked[0] != ann.ID || hooked[1] != 1001 {
				t.Fatalf("OnSent got %v", hooked)
			}
		})

		t.Run("Refusals", func(t *testing.T) {
			// Ensure each refusal is its sentinel and nothing reaches the
			// sender; the text is checked before the customer is looked up.
			sender := &custFakeSender{}
			m := MustNewMessenger(t, store, sender, telegram.MessengerConfig{})
			for _, tt := range []struct {
				name string
				id   int64
				text string
				want error
			}{
				{"Empty", ann.ID, "", telegram.ErrMessageEmpty},
				{"Blank", ann.ID, "\n \t", telegram.ErrMessageEmpty},
				{"TooLong", ann.ID, strings.Repeat("🚀", telegram.MaxMessageLength+1), telegram.ErrMessageTooLong},
				{"EmptyBeforeNotFound", 404, "", telegram.ErrMessageEmpty},
				{"NotFound", 404, "hi", telegram.ErrCustomerNotFound},
				{"WriteNotAllowed", sam.ID, "hi", telegram.ErrWriteNotAllowed},
			} {
				if _, err := m.Send(ctx, tt.id, tt.text); !errors.Is(err, tt.want) {
					t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
				}
			}
			if n := sender.count(); n != 0 {
				t.Fatalf("%d messages sent", n)
			}
		})

		t.Run("ErrBotBlocked", func(t *testing.T) {
			// Ensure Telegram's refusal marks the customer, even when the
			// caller has gone away meanwhile, and later sends are refused
			// without calling Telegram.
			c := MustSaveCustomer(t, store, telegram.User{ID: 13, FirstName: "Bea", AllowsWriteToPM: true})
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			sender := &custFakeSender{answer: func(context.Context, telegram.SendMessageParams) (telegram.Message, error) {
				cancel()
				return telegram.Message{}, fmt.Errorf("telegram: sendMessage: %w", telegram.ErrBotBlocked)
			}}
			at := clock.Advance(time.Minute)
			m := MustNewMessenger(t, store, sender, telegram.MessengerConfig{})
			_, err := m.Send(ctx, c.ID, "hi")
			if !errors.Is(err, telegram.ErrBotBlocked) || !errors.Is(err, telegram.ErrRecipientUnreachable) {
				t.Fatalf("err = %v", err)
			}
			got := mustGetCustomer(t, store, c.ID)
			if !got.BotBlocked || !custTimeEq(got.BotBlockedAt, &at) {
				t.Fatalf("customer after the refusal: %+v", got)
			}
			_, err = m.Send(context.Background(), c.ID, "again")
			if !errors.Is(err, telegram.ErrRecipientUnreachable) || errors.Is(err, telegram.ErrBotBlocked) || sender.count() != 1 {
				t.Fatalf("second send: %v, %d sent", err, sender.count())
			}
		})

		t.Run("OtherError", func(t *testing.T) {
			// Ensure other failures are returned and do not mark anyone.
			boom := errors.New("boom")
			sender := &custFakeSender{answer: func(context.Context, telegram.SendMessageParams) (telegram.Message, error) {
				return telegram.Message{}, boom
			}}
			m := MustNewMessenger(t, store, sender, telegram.MessengerConfig{})
			if _, err := m.Send(ctx, ann.ID, "hi"); !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			if got := mustGetCustomer(t, store, ann.ID); got.BotBlocked {
				t.Fatal("customer marked unreachable")
			}
		})
	})
}
