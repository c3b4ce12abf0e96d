package forms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/tcerr"
)

// seededAt is the created_at and updated_at of the seeded checkout form.
var seededAt = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2027, 3, 1, 12, 0, 0, 123456000, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eachDB runs fn on SQLite and MariaDB, each with a freshly migrated forms
// table.
func eachDB(t *testing.T, fn func(t *testing.T, db migrator.DB)) {
	t.Helper()
	migratortest.Each(t, []migrator.Source{forms.MigrationSource()}, fn)
}

// MustGet returns the form named alias or fails the test.
// MustNewStore returns a store over db with the clock now (time.Now when
// nil), or fails the test.
func MustNewStore(tb testing.TB, db migrator.DB, now func() time.Time) *forms.Store {
	tb.Helper()
	s, err := forms.NewStore(db, forms.StoreConfig{Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func MustGet(tb testing.TB, s *forms.Store, alias string) forms.Form {
	tb.Helper()
	f, err := s.Get(context.Background(), alias)
	if err != nil {
		tb.Fatalf("Get(%q): %v", alias, err)
	}
	return f
}

// MustPut stores f or fails the test.
func MustPut(tb testing.TB, s *forms.Store, f forms.Form) forms.Form {
	tb.Helper()
	saved, err := s.Put(context.Background(), f)
	if err != nil {
		tb.Fatalf("Put(%q): %v", f.Alias, err)
	}
	return saved
}

// rowOf reads a form's row directly, bypassing the store.
type row struct {
	title, schema        string
	createdAt, updatedAt time.Time
}

func mustRow(tb testing.TB, db migrator.DB, alias string) row {
	tb.Helper()
	var r row
	err := db.QueryRowContext(context.Background(),
		"SELECT title, `schema`, created_at, updated_at FROM "+db.Table("forms")+" WHERE alias = ?", alias).
		Scan(&r.title, &r.schema, migrator.ScanTime(&r.createdAt), migrator.ScanTime(&r.updatedAt))
	if err != nil {
		tb.Fatalf("reading row %q: %v", alias, err)
	}
	return r
}

// mustExec runs a statement directly, as another process would.
func mustExec(tb testing.TB, db migrator.DB, query string, args ...any) {
	tb.Helper()
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// unicodeForm has labels in several scripts, 4-byte emoji included (which a
// utf8 rather than utf8mb4 MySQL column would mangle).
func unicodeForm(alias string) forms.Form {
	return forms.Form{
		Alias: alias,
		Title: "Оформление заказа 🛒",
		Schema: []forms.Node{
			{Type: forms.TypeText, Name: "name", Label: "Имя", Placeholder: "Žofie Nováková", Validation: "required|length:2,64"},
			{Type: forms.TypeSelect, Name: "size", Label: "サイズ", Options: []forms.Option{{Label: "小 🐜", Value: "s"}, {Label: "大 🐘", Value: "l"}}, Value: "s"},
			{Type: forms.TypeNumber, Name: "qty", Label: "Кол-во", Validation: "min:1|max:10", Value: json.Number("2")},
			{Type: forms.TypeCheckbox, Name: "gift", Label: "🎁 Подарок", Help: "Упакуем красиво — <b>&</b> «бесплатно»", Value: true},
		},
	}
}

func TestMigrations(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		// Ensure the seeded checkout form is DefaultCheckout(), byte for byte
		// in the stored JSON, so the migration and the Go value cannot drift.
		t.Run("SeededCheckout", func(t *testing.T) {
			want := forms.DefaultCheckout()
			got := MustGet(t, MustNewStore(t, db, nil), forms.CheckoutAlias)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seeded checkout:\n got %#v\nwant %#v", got, want)
			}
			wantJSON, err := json.Marshal(want.Schema)
			if err != nil {
				t.Fatal(err)
			}
			r := mustRow(t, db, forms.CheckoutAlias)
			if r.schema != string(wantJSON) {
				t.Fatalf("seeded schema JSON:\n got %s\nwant %s", r.schema, wantJSON)
			}
			if r.title != want.Title || !r.createdAt.Equal(seededAt) || !r.updatedAt.Equal(seededAt) {
				t.Fatalf("seeded row = %q, %v, %v", r.title, r.createdAt, r.updatedAt)
			}
		})

		// Ensure the table refuses a second row with the same alias.
		t.Run("ErrDuplicateAlias", func(t *testing.T) {
			_, err := db.ExecContext(context.Background(),
				"INSERT INTO "+db.Table("forms")+" (alias, title, `schema`, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
				forms.CheckoutAlias, "Again", "[]", db.Dialect.EncodeTime(seededAt), db.Dialect.EncodeTime(seededAt))
			if err == nil {
				t.Fatal("inserted a second checkout form")
			}
		})
	})
}

func TestStore_PutGet(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()

		// Ensure a form survives a round trip through the database unchanged,
		// unicode labels and typed initial values included, and that the
		// clock sets created_at and updated_at.
		t.Run("OK", func(t *testing.T) {
			clock := newTestClock()
			s := MustNewStore(t, db, clock.Now)
			in := unicodeForm("gift-order_2")
			saved := MustPut(t, s, in)
			if !reflect.DeepEqual(saved, in) {
				t.Fatalf("Put returned %#v, want %#v", saved, in)
			}
			// A fresh store has no cache: this reads the row.
			got := MustGet(t, MustNewStore(t, db, nil), in.Alias)
			if !reflect.DeepEqual(got, in) {
				t.Fatalf("Get:\n got %#v\nwant %#v", got, in)
			}
			r := mustRow(t, db, in.Alias)
			if want := clock.Now().Truncate(time.Microsecond); !r.createdAt.Equal(want) || !r.updatedAt.Equal(want) {
				t.Fatalf("created_at %v, updated_at %v, want %v", r.createdAt, r.updatedAt, want)
			}

			// Replacing keeps created_at and moves updated_at.
			clock.Add(time.Hour)
			in.Title = "  Gift order  "
			in.Schema = in.Schema[:1]
			saved = MustPut(t, s, in)
			if saved.Title != "Gift order" {
				t.Fatalf("title %q, want it trimmed", saved.Title)
			}
			got = MustGet(t, MustNewStore(t, db, nil), in.Alias)
			if got.Title != "Gift order" || len(got.Schema) != 1 || got.Schema[0].Label != "Имя" {
				t.Fatalf("after replace: %#v", got)
			}
			r2 := mustRow(t, db, in.Alias)
			if !r2.createdAt.Equal(r.createdAt) || !r2.updatedAt.Equal(r.updatedAt.Add(time.Hour)) {
				t.Fatalf("after replace: created_at %v, updated_at %v", r2.createdAt, r2.updatedAt)
			}
		})

		// Ensure an empty schema is stored and served as [], not null.
		t.Run("OKEmptySchema", func(t *testing.T) {
			s := MustNewStore(t, db, nil)
			MustPut(t, s, forms.Form{Alias: "empty", Title: "Empty"})
			if r := mustRow(t, db, "empty"); r.schema != "[]" {
				t.Fatalf("stored %q", r.schema)
			}
			if got := MustGet(t, MustNewStore(t, db, nil), "empty"); got.Schema == nil || len(got.Schema) != 0 {
				t.Fatalf("schema %#v", got.Schema)
			}
		})

		// Ensure an unknown alias is ErrFormNotFound.
		t.Run("ErrFormNotFound", func(t *testing.T) {
			_, err := MustNewStore(t, db, nil).Get(ctx, "nope")
			if !errors.Is(err, forms.ErrFormNotFound) {
				t.Fatalf("err = %v", err)
			}
		})

		// Ensure aliases outside [a-z0-9_-]{1,64} are refused by Get and Put.
		t.Run("ErrInvalidAlias", func(t *testing.T) {
			s := MustNewStore(t, db, nil)
			for _, alias := range []string{"", "Checkout", "a b", "a/b", "a.b", "формa", strings.Repeat("a", 65), "x'--"} {
				if _, err := s.Get(ctx, alias); !errors.Is(err, forms.ErrInvalidAlias) {
					t.Errorf("Get(%q): err = %v", alias, err)
				}
				f := forms.DefaultCheckout()
				f.Alias = alias
				if _, err := s.Put(ctx, f); !errors.Is(err, forms.ErrInvalidAlias) {
					t.Errorf("Put(%q): err = %v", alias, err)
				}
			}
			if err := forms.ValidateAlias(strings.Repeat("z", 64)); err != nil {
				t.Errorf("64 characters: %v", err)
			}
			if err := forms.ValidateAlias("a-b_0"); err != nil {
				t.Error(err)
			}
		})

		// Ensure an invalid schema is the *SchemaError and nothing is stored.
		t.Run("ErrSchema", func(t *testing.T) {
			s := MustNewStore(t, db, nil)
			f := forms.Form{Alias: "bad", Title: "Bad", Schema: []forms.Node{
				{Type: "text", Name: "a", Validation: "required|phone"},
			}}
			_, err := s.Put(ctx, f)
			var se *forms.SchemaError
			if !errors.As(err, &se) || len(se.Problems) != 1 || se.Problems[0].Index != 0 {
				t.Fatalf("err = %v", err)
			}
			if _, err := s.Get(ctx, "bad"); !errors.Is(err, forms.ErrFormNotFound) {
				t.Fatalf("an invalid form was stored: %v", err)
			}
		})

		// Ensure a missing or over-long title is ErrInvalidTitle, reported
		// along with schema problems.
		t.Run("ErrInvalidTitle", func(t *testing.T) {
			s := MustNewStore(t, db, nil)
			for _, title := range []string{"", "   ", strings.Repeat("й", forms.MaxLabelLength+1), "bad \xff"} {
				f := forms.DefaultCheckout()
				f.Title = title
				if _, err := s.Put(ctx, f); !errors.Is(err, forms.ErrInvalidTitle) {
					t.Errorf("title %q: err = %v", title, err)
				}
			}
			_, err := s.Put(ctx, forms.Form{Alias: "both", Schema: []forms.Node{{Type: "text"}}})
			var se *forms.SchemaError
			if !errors.Is(err, forms.ErrInvalidTitle) || !errors.As(err, &se) {
				t.Fatalf("err = %v, want both problems", err)
			}
			if got := MustGet(t, s, forms.CheckoutAlias); got.Title != "Checkout" {
				t.Fatalf("checkout title changed to %q", got.Title)
			}
		})
	})
}

func TestStore_Cache(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		setTitle := func(t *testing.T, alias, title string) {
			t.Helper()
			mustExec(t, db, "UPDATE "+db.Table("forms")+" SET title = ? WHERE alias = ?", title, alias)
		}

		// Ensure Get serves a form from memory, and a Put through the store
		// invalidates it at once.
		t.Run("InvalidatedOnPut", func(t *testing.T) {
			s := MustNewStore(t, db, newTestClock().Now)
			MustPut(t, s, unicodeForm("cached"))
			MustGet(t, s, "cached")
			setTitle(t, "cached", "Changed behind the store's back")
			if got := MustGet(t, s, "cached"); got.Title != "Оформление заказа 🛒" {
				t.Fatalf("title %q: Get did not use its cache", got.Title)
			}
			f := unicodeForm("cached")
			f.Title = "Put through the store"
			MustPut(t, s, f)
			if got := MustGet(t, s, "cached"); got.Title != "Put through the store" {
				t.Fatalf("title %q after Put: the cache was not invalidated", got.Title)
			}
		})

		// Ensure a cached form expires after CacheTTL, so other replicas'
		// writes show up.
		t.Run("TTL", func(t *testing.T) {
			clock := newTestClock()
			s := MustNewStore(t, db, clock.Now)
			MustPut(t, s, forms.Form{Alias: "ttl", Title: "Before"})
			MustGet(t, s, "ttl")
			setTitle(t, "ttl", "After")
			clock.Add(forms.CacheTTL - time.Second)
			if got := MustGet(t, s, "ttl"); got.Title != "Before" {
				t.Fatalf("title %q before the TTL", got.Title)
			}
			clock.Add(time.Second)
			if got := MustGet(t, s, "ttl"); got.Title != "After" {
				t.Fatalf("title %q after the TTL", got.Title)
			}
		})

		// Ensure a missing form is not cached: once another process creates
		// it, Get finds it.
		t.Run("MissNotCached", func(t *testing.T) {
			s := MustNewStore(t, db, newTestClock().Now)
			if _, err := s.Get(ctx, "later"); !errors.Is(err, forms.ErrFormNotFound) {
				t.Fatalf("err = %v", err)
			}
			MustPut(t, MustNewStore(t, db, nil), forms.Form{Alias: "later", Title: "Later"})
			if got := MustGet(t, s, "later"); got.Title != "Later" {
				t.Fatalf("got %#v", got)
			}
		})

		// Ensure callers get copies: changing a returned form does not change
		// what the next Get returns.
		t.Run("Copies", func(t *testing.T) {
			s := MustNewStore(t, db, newTestClock().Now)
			for range 2 { // the first Get loads, the second hits the cache
				f := MustGet(t, s, forms.CheckoutAlias)
				f.Schema[0].Label = "changed"
				f.Schema[3].Options[0].Label = "changed"
				f.Schema = append(f.Schema[:1], f.Schema[2:]...)
			}
			if got := MustGet(t, s, forms.CheckoutAlias); !reflect.DeepEqual(got, forms.DefaultCheckout()) {
				t.Fatalf("cache changed through a returned form: %#v", got)
			}
		})

		// Ensure concurrent Gets and Puts are race-free and end on the last
		// write.
		t.Run("Concurrent", func(t *testing.T) {
			s := MustNewStore(t, db, nil)
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 5 {
						if i%4 == 0 {
							f := unicodeForm("busy")
							if _, err := s.Put(ctx, f); err != nil {
								t.Error(err)
							}
						} else if _, err := s.Get(ctx, forms.CheckoutAlias); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			f := unicodeForm("busy")
			f.Title = "Last"
			MustPut(t, s, f)
			if got := MustGet(t, s, "busy"); got.Title != "Last" {
				t.Fatalf("title %q", got.Title)
			}
		})
	})
}

func TestStore_ValidateSubmission(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		s := MustNewStore(t, db, nil)

		// Ensure a valid submission returns the clean values.
		t.Run("OK", func(t *testing.T) {
			clean, err := s.ValidateSubmission(ctx, forms.CheckoutAlias, map[string]any{
				"name": "  Ада Лавлейс ", "phone": "+44 20 7946 0000", "delivery": "pickup", "comment": "",
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"name": "Ада Лавлейс", "phone": "+44 20 7946 0000", "delivery": "pickup"}
			if !reflect.DeepEqual(clean, want) {
				t.Fatalf("clean = %#v, want %#v", clean, want)
			}
		})

		// Ensure failed rules are a 422 *tcerr.Error with a message per field.
		t.Run("ErrValidation", func(t *testing.T) {
			clean, err := s.ValidateSubmission(ctx, forms.CheckoutAlias, map[string]any{
				"name": "A", "email": "nope", "delivery": "drone", "coupon": "FREE",
			})
			var he *tcerr.Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want an *tcerr.Error", err)
			}
			if clean != nil || he.Kind != tcerr.Validation || he.Code != "validation_failed" || he.Message == "" {
				t.Fatalf("clean = %v, err = %#v", clean, he)
			}
			want := map[string]string{
				"name":     "Name must be between 2 and 64 characters.",
				"phone":    "Phone is required.",
				"email":    "Email must be a valid email address.",
				"delivery": "Delivery must be one of the available options.",
				"coupon":   "Unknown field.",
			}
			if !reflect.DeepEqual(he.Fields, want) {
				t.Fatalf("fields = %#v, want %#v", he.Fields, want)
			}
		})

		// Ensure the stored form's rules apply, not DefaultCheckout's: after
		// the admin makes a field required, leaving it out fails.
		t.Run("StoredRules", func(t *testing.T) {
			f := forms.DefaultCheckout()
			f.Schema[4].Validation = "required|length:0,500" // address
			MustPut(t, s, f)
			t.Cleanup(func() { MustPut(t, s, forms.DefaultCheckout()) })
			_, err := s.ValidateSubmission(ctx, forms.CheckoutAlias, map[string]any{
				"name": "Ada", "phone": "+44 20 7946 0000", "delivery": "courier",
			})
			var he *tcerr.Error
			if !errors.As(err, &he) || !reflect.DeepEqual(he.Fields, map[string]string{"address": "Address is required."}) {
				t.Fatalf("err = %#v", err)
			}
		})

		// Ensure an unknown form is ErrFormNotFound, not a 422: the
		// customer did nothing wrong.
		t.Run("ErrFormNotFound", func(t *testing.T) {
			_, err := s.ValidateSubmission(ctx, "nope", map[string]any{})
			var he *tcerr.Error
			if !errors.Is(err, forms.ErrFormNotFound) || errors.As(err, &he) {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

// Ensure the migration that gives the default checkout its FormKit rules,
// followed by the one that adds its Russian texts, changes a checkout form
// still as first seeded into DefaultCheckout, and leaves an owner's own
// form alone.
func TestMigrationCheckoutRules(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		read := func(name string) string {
			b, err := fs.ReadFile(forms.MigrationSource().FS, "migrations/"+string(db.Dialect)+"/"+name)
			if err != nil {
				t.Fatal(err)
			}
			return strings.ReplaceAll(string(b), "{prefix}", db.Prefix)
		}
		seeded := regexp.MustCompile(`'(\[.*\])'`).FindStringSubmatch(read("20261126000001_forms.sql"))[1]
		rules := read("20261204000001_checkout_rules.sql")
		languages := read("20261215000001_checkout_languages.sql")
		want, err := json.Marshal(forms.DefaultCheckout().Schema)
		if err != nil {
			t.Fatal(err)
		}

		mustExec(t, db, "UPDATE "+db.Table("forms")+" SET `schema` = ? WHERE alias = 'checkout'", seeded)
		mustExec(t, db, rules)
		mustExec(t, db, languages)
		if got := mustRow(t, db, forms.CheckoutAlias).schema; got != string(want) {
			t.Fatalf("seeded form after the migration:\n got %s\nwant %s", got, want)
		}

		edited := strings.Replace(seeded, `"Name"`, `"Full name"`, 1)
		mustExec(t, db, "UPDATE "+db.Table("forms")+" SET `schema` = ? WHERE alias = 'checkout'", edited)
		mustExec(t, db, rules)
		mustExec(t, db, languages)
		if got := mustRow(t, db, forms.CheckoutAlias).schema; got != edited {
			t.Fatalf("edited form changed by the migration: %s", got)
		}
	})
}
