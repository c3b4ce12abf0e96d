package telegram_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
)

// eraseUser is a person with something in every personal field.
var eraseUser = telegram.User{ID: 987654321, FirstName: "Zinaida", LastName: "Quokkova", Username: "zina_quokka",
	LanguageCode: "ru", IsPremium: true, AllowsWriteToPM: true, PhotoURL: "https://t.me/i/userpic/320/zina.jpg"}

// recordingEraser records the customers it was asked to erase, and fails
// when told to.
type recordingEraser struct {
	mu   sync.Mutex
	got  []telegram.Customer
	fail error
}

func (e *recordingEraser) EraseCustomerTx(ctx context.Context, tx *sql.Tx, c telegram.Customer) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if tx == nil {
		return errors.New("no transaction")
	}
	e.got = append(e.got, c)
	return e.fail
}

func TestCustomerStoreErase(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clock := newCustClock()
		var logs bytes.Buffer
		var erasures []telegram.Erasure
		s := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{
			Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
			OnErase: func(ctx context.Context, e telegram.Erasure) { erasures = append(erasures, e) },
		})
		eraser := &recordingEraser{}
		s.AddEraser(eraser)
		c := MustSaveCustomer(t, s, eraseUser)
		if _, err := s.Consent(ctx, eraseUser.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordCampaign(ctx, db, eraseUser.ID, "spring", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := s.IncrementOrders(ctx, db, c.ID, 3); err != nil {
			t.Fatal(err)
		}
		if err := s.SetHostCustomerID(ctx, db, c.ID, 77); err != nil {
			t.Fatal(err)
		}
		other := MustSaveCustomer(t, s, telegram.User{ID: 5, FirstName: "Other", Username: "other"})
		before := mustGetCustomer(t, s, c.ID)

		// Ensure an eraser's error rolls the whole erasure back.
		eraser.fail = errors.New("outbox is locked")
		if _, err := s.Erase(ctx, c.ID); !errors.Is(err, eraser.fail) {
			t.Fatalf("Erase with a failing eraser: %v", err)
		}
		if got := mustGetCustomer(t, s, c.ID); got.Erased() || got.FirstName != eraseUser.FirstName {
			t.Fatalf("a failed erasure changed the row: %+v", got)
		}
		if n := s.Erasures(); n != 0 {
			t.Fatalf("Erasures %d after a failed erasure, want 0", n)
		}
		eraser.fail, eraser.got = nil, nil

		// Ensure every personal field is blanked, the rest stays, and the
		// erasers see the customer as it was.
		at := clock.Advance(time.Hour)
		got, err := s.Erase(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstName != "" || got.LastName != "" || got.Username != "" || got.LanguageCode != "" ||
			got.PhotoURL != "" || got.IsPremium || got.AllowsWriteToPM || got.TelegramUserID != 0 || got.HostCustomerID != 0 {
			t.Fatalf("erased customer keeps personal data: %+v", got)
		}
		if got.ErasedAt == nil || !got.ErasedAt.Equal(at) || !got.UpdatedAt.Equal(at) {
			t.Fatalf("erased_at %v, updated_at %v; want %v", got.ErasedAt, got.UpdatedAt, at)
		}
		if got.ID != c.ID || got.TrackingID != c.TrackingID || got.OrdersCount != 3 || got.FirstCampaignID != "spring" ||
			got.PrivacyConsentedAt == nil || !got.CreatedAt.Equal(before.CreatedAt) {
			t.Fatalf("erasure lost what stays: %+v", got)
		}
		if len(eraser.got) != 1 || eraser.got[0].TelegramUserID != eraseUser.ID || eraser.got[0].HostCustomerID != 77 {
			t.Fatalf("eraser was given %+v", eraser.got)
		}
		if len(erasures) != 1 || erasures[0].HostCustomerID != 77 || erasures[0].Customer.ID != c.ID || !erasures[0].Customer.Erased() {
			t.Fatalf("OnErase heard %+v", erasures)
		}
		// Ensure the committed erasure is counted, for caches keyed on
		// Telegram ids.
		if n := s.Erasures(); n != 1 {
			t.Fatalf("Erasures %d after one erasure, want 1", n)
		}
		if o := mustGetCustomer(t, s, other.ID); o.FirstName != "Other" || o.Erased() {
			t.Fatalf("another customer changed: %+v", o)
		}
		// Ensure the raw row holds none of it either, and no search finds it.
		var tgID int64
		var search, firstLC string
		if err := db.QueryRow("SELECT telegram_user_id, search_text, first_name_lc FROM "+db.Table(telegram.CustomersTable)+
			" WHERE id = ?", c.ID).Scan(&tgID, &search, &firstLC); err != nil {
			t.Fatal(err)
		}
		if tgID == eraseUser.ID || tgID > 0 || search != "" || firstLC != "" {
			t.Fatalf("raw row keeps telegram_user_id %d, search_text %q, first_name_lc %q", tgID, search, firstLC)
		}
		for _, q := range []string{"zinaida", "@zina_quokka", "quokkova"} {
			list, err := s.List(ctx, telegram.ListQuery{Search: q})
			if err != nil || list.Meta.Total != 0 {
				t.Fatalf("search %q after erasure: %+v, %v", q, list.Meta, err)
			}
		}
		if _, err := s.GetByTelegramID(ctx, eraseUser.ID); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Fatalf("the Telegram id still finds the erased customer: %v", err)
		}

		// Ensure the same Telegram user coming back is a new customer.
		again := MustSaveCustomer(t, s, eraseUser)
		if again.ID == c.ID || again.TrackingID == c.TrackingID || again.Erased() || again.OrdersCount != 0 ||
			again.Consented() || again.FirstCampaignID != "" || again.HostCustomerID != 0 {
			t.Fatalf("returning user %+v; want a new customer", again)
		}

		// Ensure erasing twice succeeds, runs the erasers again, keeps the
		// first time and calls OnErase once.
		clock.Advance(time.Hour)
		twice, err := s.Erase(ctx, c.ID)
		if err != nil || !twice.ErasedAt.Equal(at) {
			t.Fatalf("second erasure: %+v, %v", twice, err)
		}
		if len(eraser.got) != 2 || eraser.got[1].TelegramUserID != 0 || len(erasures) != 1 {
			t.Fatalf("second erasure: erasers %d, OnErase %d", len(eraser.got), len(erasures))
		}
		if _, err := s.Erase(ctx, 4040); !errors.Is(err, telegram.ErrCustomerNotFound) {
			t.Fatalf("erasing a stranger: %v", err)
		}
		if n := s.Erasures(); n != 2 {
			t.Fatalf("Erasures %d after erasing twice and a stranger, want 2", n)
		}
		// Ensure a second erased customer does not collide with the first
		// on the unique Telegram id.
		if _, err := s.Erase(ctx, again.ID); err != nil {
			t.Fatal(err)
		}

		// Ensure the log names the customer by id only.
		out := logs.String()
		if !strings.Contains(out, "customer_id="+strconv.FormatInt(c.ID, 10)) {
			t.Fatalf("erasure not logged: %s", out)
		}
		for _, personal := range []string{"Zinaida", "Quokkova", "zina_quokka", strconv.FormatInt(eraseUser.ID, 10), "userpic"} {
			if strings.Contains(out, personal) {
				t.Fatalf("log holds %q: %s", personal, out)
			}
		}
	})
}

// Ensure DELETE /admin/api/customers/{id} erases: 200 {"erased": true},
// again 200, an unknown id 404, a bad id 400; an erased customer cannot
// be messaged.
func TestCustomersHandlerErase(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		sender := &custFakeSender{}
		srv := newCustServer(t, db, sender)
		c := MustSaveCustomer(t, srv.store, eraseUser)
		path := "/admin/api/customers/" + strconv.FormatInt(c.ID, 10)
		for range 2 {
			w := srv.do(t, http.MethodDelete, path, "", "")
			if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"erased":true}` {
				t.Fatalf("DELETE: %d %s", w.Code, w.Body)
			}
		}
		if got := mustGetCustomer(t, srv.store, c.ID); !got.Erased() || got.FirstName != "" {
			t.Fatalf("after DELETE: %+v", got)
		}
		custWantError(t, srv.do(t, http.MethodDelete, "/admin/api/customers/4040", "", ""), http.StatusNotFound, "not_found")
		custWantError(t, srv.do(t, http.MethodDelete, "/admin/api/customers/abc", "", ""), http.StatusBadRequest, "bad_request")
		custWantError(t, srv.do(t, http.MethodDelete, "/admin/api/customers/0", "", ""), http.StatusBadRequest, "bad_request")
		custWantError(t, srv.do(t, http.MethodPost, path+"/messages", "", `{"text":"hi"}`), http.StatusConflict, "customer_erased")
		if sender.count() != 0 {
			t.Fatal("a message went to an erased customer")
		}
		// Ensure the admin list shows the erased row, marked, without
		// personal data.
		w := srv.do(t, http.MethodGet, "/admin/api/customers", "", "")
		list := custDecode[telegram.CustomerList](t, w)
		if len(list.Data) != 1 || list.Data[0].ErasedAt == nil || list.Data[0].FirstName != "" || list.Data[0].TelegramUserID != 0 {
			t.Fatalf("list after erasure: %s", w.Body)
		}
		if strings.Contains(w.Body.String(), "Zinaida") || strings.Contains(w.Body.String(), strconv.FormatInt(eraseUser.ID, 10)) {
			t.Fatalf("list shows personal data: %s", w.Body)
		}
	})
}

// Ensure, on both dialects, that RecipientsTx reads again, in the caller's
// transaction, which of the recipients read before can still be messaged:
// not one erased in between. On MySQL it also holds an erasure of a
// recipient until the transaction ends, so that what the transaction
// queues is there for the erasure to cancel.
func TestCustomerStoreRecipientsTx(t *testing.T) {
	migratortest.Each(t, []migrator.Source{telegram.MigrationSource()}, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		s, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
		if err != nil {
			t.Fatal(err)
		}
		zina := MustSaveCustomer(t, s, eraseUser)
		anna := MustSaveCustomer(t, s, telegram.User{ID: 5, FirstName: "Anna", AllowsWriteToPM: true})
		boris := MustSaveCustomer(t, s, telegram.User{ID: 6, FirstName: "Boris", AllowsWriteToPM: true})
		before, err := s.Recipients(ctx, telegram.ListQuery{}, 0, 10)
		if err != nil || len(before) != 3 {
			t.Fatalf("Recipients = %+v, %v", before, err)
		}
		if _, err := s.Erase(ctx, zina.ID); err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		got, err := s.RecipientsTx(ctx, tx, []int64{zina.ID, anna.ID, boris.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := []telegram.Recipient{{CustomerID: anna.ID, TelegramUserID: 5}, {CustomerID: boris.ID, TelegramUserID: 6}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("RecipientsTx = %+v, want %+v", got, want)
		}
		if got, err := s.RecipientsTx(ctx, tx, nil); err != nil || len(got) != 0 {
			t.Fatalf("RecipientsTx of none = %+v, %v", got, err)
		}
		if db.Dialect != migrator.MySQL {
			return // SQLite: one writer, so an erasure cannot run beside tx at all
		}
		// Anna's erasure waits for tx, which read her as a recipient.
		erased := make(chan error, 1)
		go func() {
			_, err := s.Erase(ctx, anna.ID)
			erased <- err
		}()
		select {
		case err := <-erased:
			t.Fatalf("the erasure did not wait for the transaction that read the recipient: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-erased:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the erasure never ran")
		}
		if c := mustGetCustomer(t, s, anna.ID); !c.Erased() {
			t.Fatalf("Anna after the erasure: %+v", c)
		}
	})
}
