package telegram_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
)

// custStart is the clock's reading at the start of each customer test.
var custStart = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

// custClock is a test clock that moves only when told to.
type custClock struct {
	mu sync.Mutex
	t  time.Time
}

func newCustClock() *custClock { return &custClock{t: custStart} }

func (c *custClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *custClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *custClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// custSources are the migrations a customers test database needs.
func custSources() []migrator.Source { return []migrator.Source{telegram.MigrationSource()} }

// MustNewCustomerStore returns a store over db with cfg, whose clock defaults
// to clock.
func MustNewCustomerStore(tb testing.TB, db migrator.DB, clock *custClock, cfg telegram.CustomerStoreConfig) *telegram.CustomerStore {
	tb.Helper()
	if cfg.Now == nil && clock != nil {
		cfg.Now = clock.Now
	}
	s, err := telegram.NewCustomerStore(db, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustSaveCustomer saves u as seen now, or fails the test.
func MustSaveCustomer(tb testing.TB, s *telegram.CustomerStore, u telegram.User) telegram.Customer {
	tb.Helper()
	c, err := s.Save(context.Background(), u, time.Time{})
	if err != nil {
		tb.Fatalf("saving %+v: %v", u, err)
	}
	return c
}

func mustGetCustomer(tb testing.TB, s *telegram.CustomerStore, id int64) telegram.Customer {
	tb.Helper()
	c, err := s.Get(context.Background(), id)
	if err != nil {
		tb.Fatalf("getting customer %d: %v", id, err)
	}
	return c
}

func custTimeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func custPtr(t time.Time) *time.Time { return &t }

// Ensure NewCustomerStore refuses what would fail later.
func TestNewCustomerStore(t *testing.T) {
	for _, tt := range []struct {
		name string
		db   migrator.DB
		want string
	}{
		{"NilDB", migrator.DB{Dialect: migrator.SQLite}, "db.DB is nil"},
		{"BadDialect", migrator.DB{DB: &sql.DB{}, Dialect: "oracle"}, "unknown dialect"},
		{"BadPrefix", migrator.DB{DB: &sql.DB{}, Dialect: migrator.SQLite, Prefix: "a-b"}, "prefix"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := telegram.NewCustomerStore(tt.db, telegram.CustomerStoreConfig{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestCustomerStoreSave(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clock := newCustClock()
		s := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})

		// Ensure the first save creates the customer with a fresh UUID
		// tracking_id and every profile field, in UTC.
		u := telegram.User{ID: 5000131393, FirstName: "Žofie 🚀", LastName: "Anna+Maria 100%", Username: "zofie_n",
			LanguageCode: "cs", IsPremium: true, AllowsWriteToPM: true, PhotoURL: "https://t.me/i/userpic/320/a+b%2Fc.svg"}
		seen := custStart.Add(-time.Minute + 123456789*time.Nanosecond)
		c, err := s.Save(ctx, u, seen)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := uuid.Parse(c.TrackingID); err != nil || len(c.TrackingID) != 36 {
			t.Fatalf("tracking_id %q is not a UUID: %v", c.TrackingID, err)
		}
		want := telegram.Customer{
			ID: c.ID, TelegramUserID: u.ID, TrackingID: c.TrackingID, FirstName: u.FirstName, LastName: u.LastName,
			Username: u.Username, LanguageCode: "cs", IsPremium: true, AllowsWriteToPM: true, PhotoURL: u.PhotoURL,
			LastSeenAt: seen.Truncate(time.Microsecond), CreatedAt: custStart, UpdatedAt: custStart,
		}
		if !custEqual(c, want) {
			t.Fatalf("saved\n%+v\nwant\n%+v", c, want)
		}
		if c.LastSeenAt.Location() != time.UTC || c.CreatedAt.Location() != time.UTC {
			t.Fatalf("times not in UTC: %v %v", c.LastSeenAt, c.CreatedAt)
		}

		// Ensure a later save keeps the id, tracking_id and created_at, and
		// replaces the profile (a hidden photo becomes empty).
		later := clock.Advance(time.Hour)
		u2 := telegram.User{ID: u.ID, FirstName: "Zofie", Username: "zofie2", LanguageCode: "en"}
		c2, err := s.Save(ctx, u2, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want2 := telegram.Customer{
			ID: c.ID, TelegramUserID: u.ID, TrackingID: c.TrackingID, FirstName: "Zofie", Username: "zofie2",
			LanguageCode: "en", LastSeenAt: later, CreatedAt: custStart, UpdatedAt: later,
		}
		if !custEqual(c2, want2) {
			t.Fatalf("saved again\n%+v\nwant\n%+v", c2, want2)
		}

		// Ensure the three getters find it and say ErrCustomerNotFound
		// otherwise.
		for name, get := range map[string]func() (telegram.Customer, error){
			"Get":             func() (telegram.Customer, error) { return s.Get(ctx, c.ID) },
			"GetByTelegramID": func() (telegram.Customer, error) { return s.GetByTelegramID(ctx, u.ID) },
			"GetByTrackingID": func() (telegram.Customer, error) { return s.GetByTrackingID(ctx, c.TrackingID) },
		} {
			got, err := get()
			if err != nil || !custEqual(got, c2) {
				t.Errorf("%s = %+v, %v", name, got, err)
			}
		}
		for name, get := range map[string]func() (telegram.Customer, error){
			"Get":             func() (telegram.Customer, error) { return s.Get(ctx, c.ID+100) },
			"GetByTelegramID": func() (telegram.Customer, error) { return s.GetByTelegramID(ctx, 42) },
			"GetByTrackingID": func() (telegram.Customer, error) { return s.GetByTrackingID(ctx, uuid.NewString()) },
		} {
			if _, err := get(); !errors.Is(err, telegram.ErrCustomerNotFound) {
				t.Errorf("%s of a stranger: err = %v, want ErrCustomerNotFound", name, err)
			}
		}

		// Ensure repeated saves do not use up ids: the next new customer
		// gets the next id (an upsert would burn one per save on MySQL).
		for range 3 {
			MustSaveCustomer(t, s, u2)
		}
		other := MustSaveCustomer(t, s, telegram.User{ID: 7, FirstName: "Other"})
		if other.ID != c.ID+1 {
			t.Fatalf("next customer got id %d, want %d", other.ID, c.ID+1)
		}
		if other.TrackingID == c.TrackingID {
			t.Fatal("two customers share a tracking_id")
		}
	})
}

// Ensure awkward text survives storage exactly and oversized values are cut
// to fit instead of failing on a strict MySQL.
func TestCustomerStoreSaveText(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		s := MustNewCustomerStore(t, db, newCustClock(), telegram.CustomerStoreConfig{})
		for i, name := range []string{
			"Anna+Maria 100%", "Žofie 🚀", `O'Brien "\" \\ %_! 😀`, "名前 ДЖ ﷽", "a\x00b",
		} {
			u := telegram.User{ID: int64(100 + i), FirstName: name, LastName: name, PhotoURL: "https://t.me/i/userpic/320/x.jpg"}
			c := MustSaveCustomer(t, s, u)
			want := strings.ReplaceAll(name, "\x00", "")
			if c.FirstName != want || c.LastName != want {
				t.Errorf("saved %q as %q / %q", name, c.FirstName, c.LastName)
			}
		}
		long := strings.Repeat("Ж", 300)
		c := MustSaveCustomer(t, s, telegram.User{ID: 200, FirstName: long, Username: strings.Repeat("u", 100),
			PhotoURL: "https://t.me/" + strings.Repeat("p", 2000), LanguageCode: strings.Repeat("x", 50)})
		if c.FirstName != strings.Repeat("Ж", 255) || len(c.Username) != 64 || c.PhotoURL != "" || len(c.LanguageCode) != 35 {
			t.Fatalf("oversized values stored as %d runes, %d, %q, %d", len([]rune(c.FirstName)), len(c.Username), c.PhotoURL, len(c.LanguageCode))
		}
		if _, err := s.Save(context.Background(), telegram.User{ID: 0, FirstName: "x"}, time.Time{}); err == nil {
			t.Fatal("saved a user without id")
		}
	})
}

// Ensure concurrent first saves of one user make one customer with one
// tracking_id.
func TestCustomerStoreSaveConcurrent(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		s := MustNewCustomerStore(t, db, newCustClock(), telegram.CustomerStoreConfig{})
		var wg sync.WaitGroup
		got := make([]telegram.Customer, 8)
		errs := make([]error, len(got))
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = s.Save(context.Background(), telegram.User{ID: 99, FirstName: "Race"}, time.Time{})
			}()
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if got[i].ID != got[0].ID || got[i].TrackingID != got[0].TrackingID {
				t.Fatalf("save %d made %d/%s, save 0 made %d/%s", i, got[i].ID, got[i].TrackingID, got[0].ID, got[0].TrackingID)
			}
		}
	})
}

func TestCustomerStoreConsent(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clock := newCustClock()
		var hooked []telegram.Customer
		s := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{
			OnConsent: func(_ context.Context, c telegram.Customer) { hooked = append(hooked, c) },
		})
		c := MustSaveCustomer(t, s, telegram.User{ID: 1, FirstName: "Ann"})

		// Ensure the first consent is recorded, and announced once.
		first := clock.Advance(time.Minute)
		got, err := s.Consent(ctx, 1, first)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Consented() || !custTimeEq(got.PrivacyConsentedAt, &first) || !got.UpdatedAt.Equal(first) {
			t.Fatalf("after consent: %+v", got)
		}
		// Ensure a later consent keeps the first time and changes nothing.
		clock.Advance(time.Hour)
		again, err := s.Consent(ctx, 1, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if !custTimeEq(again.PrivacyConsentedAt, &first) || !again.UpdatedAt.Equal(first) {
			t.Fatalf("second consent moved it: %+v", again)
		}
		if len(hooked) != 1 || hooked[0].ID != c.ID || !custTimeEq(hooked[0].PrivacyConsentedAt, &first) {
			t.Fatalf("OnConsent calls: %+v", hooked)
		}
		// Ensure saving the profile again keeps the consent.
		if c := MustSaveCustomer(t, s, telegram.User{ID: 1, FirstName: "Anne"}); !custTimeEq(c.PrivacyConsentedAt, &first) {
			t.Fatalf("save lost the consent: %+v", c)
		}
		if _, err := s.Consent(ctx, 404, first); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Fatalf("consent of a stranger: %v", err)
		}
	})
}

func TestCustomerStoreUnreachable(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clock := newCustClock()
		s := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})
		c := MustSaveCustomer(t, s, telegram.User{ID: 1, FirstName: "Ann", AllowsWriteToPM: true})

		// Ensure marking sets the flag and time, and a second mark keeps
		// the first time.
		at := clock.Advance(time.Minute)
		if err := s.MarkUnreachable(ctx, c.ID, at); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkUnreachable(ctx, c.ID, at.Add(time.Hour)); err != nil {
			t.Fatalf("second mark: %v", err)
		}
		got := mustGetCustomer(t, s, c.ID)
		if !got.BotBlocked || !custTimeEq(got.BotBlockedAt, &at) {
			t.Fatalf("after marks: %+v", got)
		}
		// Ensure a later save of the profile does not clear the flag.
		if got := MustSaveCustomer(t, s, telegram.User{ID: 1, FirstName: "Ann", AllowsWriteToPM: true}); !got.BotBlocked {
			t.Fatal("save cleared bot_blocked")
		}
		if err := s.ClearUnreachable(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := mustGetCustomer(t, s, c.ID); got.BotBlocked || got.BotBlockedAt != nil {
			t.Fatalf("after clear: %+v", got)
		}
		if err := s.MarkUnreachable(ctx, 404, at); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Fatalf("mark of a stranger: %v", err)
		}
		if err := s.ClearUnreachable(ctx, 404); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Fatalf("clear of a stranger: %v", err)
		}
	})
}

func TestCustomerStoreRecordCampaign(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clock := newCustClock()
		s := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})
		c := MustSaveCustomer(t, s, telegram.User{ID: 1, FirstName: "Ann"})

		// Ensure the first campaign is set once and the last one always.
		t1, t2 := clock.Advance(time.Minute), custStart.Add(time.Hour)
		if err := s.RecordCampaign(ctx, db, 1, "spring24", t1); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordCampaign(ctx, db, 1, "summer24", t2); err != nil {
			t.Fatal(err)
		}
		// The same call twice changes no column on MySQL: still no error.
		if err := s.RecordCampaign(ctx, db, 1, "summer24", t2); err != nil {
			t.Fatal(err)
		}
		got := mustGetCustomer(t, s, c.ID)
		if got.FirstCampaignID != "spring24" || !custTimeEq(got.FirstCampaignAt, &t1) ||
			got.LastCampaignID != "summer24" || !custTimeEq(got.LastCampaignAt, &t2) {
			t.Fatalf("campaigns: %+v", got)
		}

		// Ensure it runs inside the host's transaction: rolled back, it
		// leaves no trace.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecordCampaign(ctx, tx, 1, "rolled", t2.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got := mustGetCustomer(t, s, c.ID); got.LastCampaignID != "summer24" {
			t.Fatalf("rolled back campaign stored: %+v", got)
		}

		if err := s.RecordCampaign(ctx, db, 404, "x", t1); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Fatalf("campaign of a stranger: %v", err)
		}
		for _, bad := range []string{"", strings.Repeat("c", 65), "\xff"} {
			if err := s.RecordCampaign(ctx, db, 1, bad, t1); err == nil {
				t.Errorf("campaign id %q accepted", bad)
			}
		}
	})
}

func TestCustomerStoreOrdersAndHost(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		s := MustNewCustomerStore(t, db, newCustClock(), telegram.CustomerStoreConfig{})
		c := MustSaveCustomer(t, s, telegram.User{ID: 1, FirstName: "Ann"})

		// Ensure the count follows the host's transaction.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.IncrementOrders(ctx, tx, c.ID, 1); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetTx(ctx, tx, c.ID); err != nil || got.OrdersCount != 1 {
			t.Fatalf("inside the transaction: %d, %v", got.OrdersCount, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got := mustGetCustomer(t, s, c.ID); got.OrdersCount != 0 {
			t.Fatalf("rolled back order counted: %d", got.OrdersCount)
		}
		if err := s.IncrementOrders(ctx, db, c.ID, 2); err != nil {
			t.Fatal(err)
		}
		// Ensure the count never goes below zero.
		if err := s.IncrementOrders(ctx, db, c.ID, -5); err != nil {
			t.Fatal(err)
		}
		if got := mustGetCustomer(t, s, c.ID); got.OrdersCount != 0 {
			t.Fatalf("orders_count = %d, want 0", got.OrdersCount)
		}
		if err := s.IncrementOrders(ctx, db, 404, 1); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Fatalf("orders of a stranger: %v", err)
		}

		for range 2 { // the second call changes nothing: still no error
			if err := s.SetHostCustomerID(ctx, db, c.ID, 77); err != nil {
				t.Fatal(err)
			}
		}
		if got := mustGetCustomer(t, s, c.ID); got.HostCustomerID != 77 {
			t.Fatalf("host_customer_id = %d", got.HostCustomerID)
		}
		if err := s.SetHostCustomerID(ctx, db, 404, 1); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Fatalf("host id of a stranger: %v", err)
		}
		if err := s.SetHostCustomerID(ctx, db, c.ID, -1); err == nil {
			t.Fatal("negative host id accepted")
		}
	})
}

// Ensure the JSON shape: snake_case names, null for missing times, UTC with Z.
func TestCustomerJSON(t *testing.T) {
	at := time.Date(2026, 2, 3, 4, 5, 6, 7000, time.UTC)
	b, err := json.Marshal(telegram.Customer{ID: 1, TelegramUserID: 2, TrackingID: "t", CreatedAt: at, UpdatedAt: at, LastSeenAt: at, FirstCampaignAt: &at})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "telegram_user_id", "tracking_id", "first_name", "last_name", "username", "language_code",
		"is_premium", "allows_write_to_pm", "photo_url", "host_customer_id", "orders_count", "privacy_consented_at",
		"last_seen_at", "first_campaign_id", "first_campaign_at", "last_campaign_id", "last_campaign_at", "bot_blocked",
		"bot_blocked_at", "erased_at", "created_at", "updated_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	if len(m) != 23 {
		t.Errorf("%d keys in %s", len(m), b)
	}
	if m["privacy_consented_at"] != nil || m["created_at"] != "2026-02-03T04:05:06.000007Z" {
		t.Errorf("times: %s", b)
	}
}

// custEqual compares customers with time.Equal on the times.
func custEqual(a, b telegram.Customer) bool {
	ta := []*time.Time{a.PrivacyConsentedAt, a.FirstCampaignAt, a.LastCampaignAt, a.BotBlockedAt, a.ErasedAt}
	tb := []*time.Time{b.PrivacyConsentedAt, b.FirstCampaignAt, b.LastCampaignAt, b.BotBlockedAt, b.ErasedAt}
	for i := range ta {
		if !custTimeEq(ta[i], tb[i]) {
			return false
		}
	}
	if !a.LastSeenAt.Equal(b.LastSeenAt) || !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) {
		return false
	}
	a.PrivacyConsentedAt, a.FirstCampaignAt, a.LastCampaignAt, a.BotBlockedAt = nil, nil, nil, nil
	b.PrivacyConsentedAt, b.FirstCampaignAt, b.LastCampaignAt, b.BotBlockedAt = nil, nil, nil, nil
	a.LastSeenAt, a.CreatedAt, a.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
	b.LastSeenAt, b.CreatedAt, b.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
	return a == b
}
