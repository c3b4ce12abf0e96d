package telecart_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

// lockedBuffer is a log sink safe for the sender's goroutine and the
// test's.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The person erased in TestErasure, and what identifies them.
const (
	erasedTelegramID = 987654321
	erasedFirst      = "Zinaida"
	erasedLast       = "Quokkova"
	erasedUsername   = "zina_quokka"
	erasedPhone      = "+7 999 111-22-33"
	erasedEmail      = "zina@example.com"
	erasedAddress    = "Quokka street 5"
)

// erasedNeedles is what no TeleCart table, log line or export may hold
// after the erasure.
var erasedNeedles = []string{erasedFirst, erasedLast, erasedUsername, strconv.Itoa(erasedTelegramID),
	erasedPhone, erasedEmail, erasedAddress, "userpic"}

// fakeTelegramSend answers sendMessage as Telegram does.
func fakeTelegramSend(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/sendMessage") {
			io.WriteString(w, `{"ok":true,"result":{"message_id":77,"date":1,"chat":{"id":1,"type":"private"}}}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// dashboardFigures is what erasure must leave unchanged on the dashboard.
type dashboardFigures struct {
	OrdersCount    int64  `json:"orders_count"`
	Revenue        int64  `json:"revenue"`
	Currency       string `json:"currency"`
	CustomersCount int64  `json:"customers_count"`
}

// Ensure, on both dialects, that after a customer consented, opened the
// shop from a campaign, ordered (and failed to once) and was messaged:
// every event's payload holds only the fields Pulse events may carry;
// TeleCart's log lines hold none of their personal data; and erasing them
// leaves no trace of their name, username, Telegram id or checkout fields
// in any TeleCart table, the ETL export or the admin list, while the
// dashboard's counts and revenue stay and the same Telegram user coming
// back is a new customer.
func TestErasure(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		logs := &lockedBuffer{}
		var mu sync.Mutex
		var erased []telecart.CustomerErased
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c.TelegramAPIURL = fakeTelegramSend(t).URL
			c.Customers = fakeDirectory{erasedEmail: 42}
			// The owner's notice of the order names the buyer.
			c.Settings.OwnerChat = "-1001234"
			c.Hooks.CustomerErased = func(ctx context.Context, e telecart.CustomerErased) {
				mu.Lock()
				defer mu.Unlock()
				erased = append(erased, e)
			}
		})
		link, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "erase"})
		if err != nil {
			t.Fatal(err)
		}
		zina := telegram.SignInitData(plugBotToken, telegram.SignParams{User: &telegram.User{ID: erasedTelegramID,
			FirstName: erasedFirst, LastName: erasedLast, Username: erasedUsername, LanguageCode: "ru", IsPremium: true,
			AllowsWriteToPM: true, PhotoURL: "https://t.me/i/userpic/320/zina.jpg"}, StartParam: link}, s.clock.Now())
		boris := s.initData(5005, "Boris", link)

		// The flow: open (from the campaign), consent, order, a failed
		// order, an admin message; and another buyer's order.
		var c telegram.Customer
		s.must(t, "POST", "/api/customers", zina, false, nil, http.StatusOK, &c)
		s.must(t, "POST", "/api/ingest", zina, false, map[string]any{"events": []any{
			map[string]any{"id": "open-1", "event": pulse.EventWebAppOpen, "payload": map[string]any{"platform": "ios", "start_param": link}},
			map[string]any{"id": "pv-1", "event": pulse.EventProductView, "payload": map[string]any{"product_id": "p1", "price": 123456, "currency": "RUB"}},
		}}, http.StatusOK, nil)
		s.must(t, "POST", "/api/privacy-consent", zina, false, nil, http.StatusOK, nil)
		fields := map[string]any{"name": erasedFirst + " " + erasedLast, "phone": erasedPhone, "email": erasedEmail,
			"delivery": "courier", "address": erasedAddress, "comment": "Call " + erasedFirst}
		s.must(t, "POST", "/api/orders", zina, false, map[string]any{"order_key": "e1a5e000-0000-4000-8000-000000000001",
			"items": []any{item("p2", 2)}, "fields": fields}, http.StatusCreated, nil)
		s.placer.mu.Lock()
		s.placer.failNext = errHostDown
		s.placer.mu.Unlock()
		s.must(t, "POST", "/api/orders", zina, false, map[string]any{"order_key": "e1a5e000-0000-4000-8000-000000000002",
			"items": []any{item("p1", 1)}, "fields": fields}, http.StatusServiceUnavailable, nil)
		s.must(t, "POST", "/api/orders", boris, false, orderBody("e1a5e000-0000-4000-8000-000000000003", item("p1", 1)), http.StatusCreated, nil)
		s.must(t, "POST", fmt.Sprintf("/admin/api/customers/%d/messages", c.ID), "", true,
			map[string]any{"text": "Your order is on its way"}, http.StatusAccepted, nil)

		// The admin message goes through the outbox; its MESSAGE_SENT is
		// tracked once Telegram took it.
		deadline := time.Now().Add(15 * time.Second)
		for {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+db.Table(pulse.OutboxTable)+" WHERE event = ?", pulse.EventMessageSent).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the admin message was not delivered within 15 s")
			}
			time.Sleep(20 * time.Millisecond)
		}

		// An ORDER_CREATED stored by an older version, whose key held the
		// Telegram id.
		if _, err := s.tc.Pulse().Track(ctx, pulse.Event{Name: pulse.EventOrderCreated, CampaignID: "erase",
			IdempotencyKey: fmt.Sprintf("order:%d:legacy-order-key", erasedTelegramID), TrackingID: c.TrackingID,
			Payload: map[string]any{"order_id": "H0", "total": 100, "currency": "RUB"}}); err != nil {
			t.Fatal(err)
		}

		// Ensure every event emitted carries allowed payload fields only,
		// and the flow emitted each server event.
		seen := map[string]bool{}
		rows, err := db.QueryContext(ctx, "SELECT event, payload FROM "+db.Table(pulse.OutboxTable))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, payload string
			if err := rows.Scan(&name, &payload); err != nil {
				t.Fatal(err)
			}
			seen[name] = true
			if err := pulse.CheckPayload(name, []byte(payload)); err != nil {
				t.Errorf("%v: %s", err, payload)
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{pulse.EventWebAppOpen, pulse.EventProductView, pulse.EventPrivacyConsent,
			pulse.EventOrderCreated, pulse.EventMessageSent} {
			if !seen[name] {
				t.Errorf("the flow emitted no %s (saw %v)", name, seen)
			}
		}
		if got := mustCustomer(t, s, c.ID); got.HostCustomerID != 42 || got.OrdersCount != 1 {
			t.Fatalf("before erasure: %+v", got)
		}

		var before, after dashboardFigures
		s.must(t, "GET", "/admin/api/dashboard?fresh=1", "", true, nil, http.StatusOK, &before)
		if before.OrdersCount != 2 || before.CustomersCount != 2 {
			t.Fatalf("dashboard before erasure %+v", before)
		}

		var answer map[string]any
		for range 2 {
			s.must(t, "DELETE", fmt.Sprintf("/admin/api/customers/%d", c.ID), "", true, nil, http.StatusOK, &answer)
			if answer["erased"] != true {
				t.Fatalf("DELETE answered %v", answer)
			}
		}
		s.must(t, "DELETE", "/admin/api/customers/404040", "", true, nil, http.StatusNotFound, nil)
		s.must(t, "DELETE", fmt.Sprintf("/admin/api/customers/%d", c.ID), "", false, nil, http.StatusUnauthorized, nil)

		// Ensure no TeleCart table holds anything that identifies them.
		for _, hit := range scanTables(t, db, erasedNeedles) {
			t.Error(hit)
		}
		// Ensure the dashboard's counts and revenue stay.
		s.must(t, "GET", "/admin/api/dashboard?fresh=1", "", true, nil, http.StatusOK, &after)
		if after != before {
			t.Fatalf("dashboard after erasure %+v, before %+v", after, before)
		}
		// Ensure the admin list shows the erased row, marked, empty.
		var list struct {
			Data []map[string]any `json:"data"`
		}
		s.must(t, "GET", "/admin/api/customers?per_page=100", "", true, nil, http.StatusOK, &list)
		var row map[string]any
		for _, r := range list.Data {
			if r["id"] == float64(c.ID) {
				row = r
			}
		}
		if row == nil || row["erased_at"] == nil || row["first_name"] != "" || row["username"] != "" ||
			row["telegram_user_id"] != float64(0) || row["orders_count"] != float64(1) {
			t.Fatalf("admin list row after erasure: %v", row)
		}
		// Ensure the ETL export sends the erased row again, empty.
		req := httptest.NewRequest("GET", "/pulse/etl/customers", nil)
		req.Header.Set("X-Api-Key", "pulse-key")
		w := httptest.NewRecorder()
		s.tc.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), c.TrackingID) {
			t.Fatalf("ETL export %d %s", w.Code, w.Body)
		}
		for _, n := range erasedNeedles {
			if strings.Contains(strings.ToLower(w.Body.String()), strings.ToLower(n)) {
				t.Errorf("the ETL export holds %q: %s", n, w.Body)
			}
		}
		mu.Lock()
		if len(erased) != 1 || erased[0].CustomerID != c.ID || erased[0].HostCustomerID != 42 || erased[0].ErasedAt.IsZero() {
			t.Errorf("CustomerErased hook heard %+v; want once, with host customer 42", erased)
		}
		mu.Unlock()

		// Ensure the same Telegram user opening the Mini App again is a new
		// customer, and their old orders stay with the erased one.
		var again telegram.Customer
		s.must(t, "POST", "/api/customers", zina, false, nil, http.StatusOK, &again)
		if again.ID == c.ID || again.TrackingID == c.TrackingID || again.OrdersCount != 0 || again.Consented() {
			t.Fatalf("returning user %+v; erased customer was %d", again, c.ID)
		}
		// The same order_key is a new order for the new customer.
		s.must(t, "POST", "/api/orders", zina, false, map[string]any{"order_key": "e1a5e000-0000-4000-8000-000000000001",
			"items": []any{item("p2", 1)}, "fields": validFields()}, http.StatusCreated, nil)

		// Ensure TeleCart's log lines named the erased customer by id only,
		// and no log line of the whole flow held their personal data.
		out := logs.String()
		if !strings.Contains(out, fmt.Sprintf("customer_id=%d", c.ID)) || !strings.Contains(out, "erased") {
			t.Errorf("the erasure was not logged with the customer id:\n%s", out)
		}
		for _, n := range erasedNeedles {
			if strings.Contains(strings.ToLower(out), strings.ToLower(n)) {
				t.Errorf("a log line holds %q:\n%s", n, out)
			}
		}
	})
}

func mustCustomer(tb testing.TB, s *plugShop, id int64) telegram.Customer {
	tb.Helper()
	c, err := s.tc.Customers().Get(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// scanTables reads every column of every row of every table with the
// database's prefix (TeleCart's; the host's own are the host's business),
// as text, and returns a line for each needle found, case-insensitively.
func scanTables(tb testing.TB, db migrator.DB, needles []string) []string {
	tb.Helper()
	ctx := context.Background()
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if db.Dialect == migrator.MySQL {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
	}
	var tables []string
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			tb.Fatal(err)
		}
		if strings.HasPrefix(name, db.Prefix) {
			tables = append(tables, name)
		}
	}
	if err := rows.Close(); err != nil {
		tb.Fatal(err)
	}
	if len(tables) < 5 {
		tb.Fatalf("found only the tables %v", tables)
	}
	var hits []string
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			tb.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			for i, v := range vals {
				text := strings.ToLower(string(v))
				for _, n := range needles {
					if strings.Contains(text, strings.ToLower(n)) {
						hits = append(hits, fmt.Sprintf("%s.%s holds %q: %s", table, cols[i], n, v))
					}
				}
			}
		}
		if err := rows.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return hits
}
