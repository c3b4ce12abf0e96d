package telecart_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
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
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
	"github.com/telecart-go/telecart/telegram/updates"
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

// emptyAfterErasure lists the TeleCart tables (unprefixed) that may be
// empty when TestErasure scans them, each with the reason: every other
// table must hold a row, so that the scan cannot pass on an empty table.
// The flow fills every table today, so none is listed.
var emptyAfterErasure = map[string]string{}

// erasedStart is the /start update of the person erased in TestErasure, as
// Telegram posts it to the webhook.
func erasedStart(t *testing.T, updateID int64, link string) []byte {
	t.Helper()
	user := map[string]any{"id": erasedTelegramID, "is_bot": false, "first_name": erasedFirst, "last_name": erasedLast,
		"username": erasedUsername, "language_code": "ru"}
	raw, err := json.Marshal(map[string]any{"update_id": updateID, "message": map[string]any{"message_id": 1, "date": 1767225600,
		"chat": map[string]any{"id": erasedTelegramID, "type": "private", "first_name": erasedFirst, "username": erasedUsername},
		"from": user, "text": "/start " + link, "entities": []any{map[string]any{"type": "bot_command", "offset": 0, "length": 6}}}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// withoutComputedAt returns the JSON value v without its computed_at
// fields, at any depth: the one thing of the dashboard a recount changes.
func withoutComputedAt(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k != "computed_at" {
				out[k] = withoutComputedAt(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutComputedAt(e)
		}
		return out
	}
	return v
}

// waitFor polls cond every 20 ms until it holds, failing after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ensure, on both dialects, that after a customer came through a campaign's
// /start to the bot, opened the shop, consented, ordered (and failed to
// once), had a message to them refused by Telegram, was messaged by the
// admin and got a broadcast, and the funnel was folded: every event's
// payload holds only the fields Pulse events may carry; TeleCart's log
// lines hold none of their personal data; and erasing them leaves no trace
// of their name, username, Telegram id or checkout fields in any TeleCart
// table (each of which holds rows), the ETL export or the admin list,
// while the whole dashboard and the campaign funnel stay as they were, and
// the same Telegram user coming back, through the storefront's events
// first, is a new customer.
func TestErasure(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		logs := &lockedBuffer{}
		var mu sync.Mutex
		var erased []telecart.CustomerErased
		fake := botapitest.NewServer(t, botapitest.Config{Token: plugBotToken})
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c.TelegramAPIURL, c.PublicURL, c.BotUpdates = fake.URL, botPublicURL+"/", telecart.BotUpdatesWebhook
			c.Customers = fakeDirectory{erasedEmail: 42}
			// The owner's notice of the order names the buyer.
			c.Settings.OwnerChat = "-1001234"
			c.Hooks.CustomerErased = func(ctx context.Context, e telecart.CustomerErased) {
				mu.Lock()
				defer mu.Unlock()
				erased = append(erased, e)
			}
		})
		messages := db.Table(outbox.MessagesTable)
		settled := func() bool {
			return s.count(t, messages, "status IN (?, ?)", outbox.StatusPending, outbox.StatusSending) == 0
		}
		sentTo := func(chat int64) int {
			n := 0
			for _, m := range fake.Sent() {
				if m.Params.ChatID == chat {
					n++
				}
			}
			return n
		}

		// The campaign they come through, and its signed link.
		s.must(t, "POST", "/admin/api/campaigns", "", true, map[string]any{"id": "erase", "name": "Quokka week", "source": "tg"},
			http.StatusCreated, nil)
		link, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "erase"})
		if err != nil {
			t.Fatal(err)
		}

		// /start from the campaign's link, through the webhook: the bot
		// greets them.
		waitFor(t, "the webhook registered", func() bool { return fake.Webhook().SecretToken != "" })
		req, _ := http.NewRequest(http.MethodPost, s.server.URL+"/telegram/webhook", bytes.NewReader(erasedStart(t, 700, link)))
		req.Header.Set(updates.HeaderSecretToken, fake.Webhook().SecretToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook = %d", resp.StatusCode)
		}
		waitFor(t, "the greeting", func() bool { return sentTo(erasedTelegramID) == 1 })

		zina := telegram.SignInitData(plugBotToken, telegram.SignParams{User: &telegram.User{ID: erasedTelegramID,
			FirstName: erasedFirst, LastName: erasedLast, Username: erasedUsername, LanguageCode: "ru", IsPremium: true,
			AllowsWriteToPM: true, PhotoURL: "https://t.me/i/userpic/320/zina.jpg"}, StartParam: link}, s.clock.Now())
		boris := s.initData(5005, "Boris", link)

		// The flow: open (from the campaign), consent, order (Telegram
		// refuses the buyer's notice), a failed order, an admin message;
		// and another buyer's order.
		var c telegram.Customer
		s.must(t, "POST", "/api/customers", zina, false, nil, http.StatusOK, &c)
		s.must(t, "POST", "/api/ingest", zina, false, map[string]any{"events": []any{
			map[string]any{"id": "open-1", "event": pulse.EventWebAppOpen, "payload": map[string]any{"platform": "ios", "start_param": link}},
			map[string]any{"id": "pv-1", "event": pulse.EventProductView, "payload": map[string]any{"product_id": "p1", "price": 123456, "currency": "RUB"}},
		}}, http.StatusOK, nil)
		// A later request of the same launch: the ingest now holds them in
		// its cache of customers.
		s.must(t, "POST", "/api/ingest", zina, false, map[string]any{"events": []any{
			map[string]any{"id": "ac-1", "event": pulse.EventAddToCart, "payload": map[string]any{"product_id": "p2", "quantity": 2}},
			map[string]any{"id": "cs-1", "event": pulse.EventCheckoutStart, "payload": map[string]any{"items": 1, "total": 3998, "currency": "RUB"}},
		}}, http.StatusOK, nil)
		s.must(t, "POST", "/api/privacy-consent", zina, false, nil, http.StatusOK, nil)
		fake.FailChat(erasedTelegramID, botapitest.Fault{Code: http.StatusBadRequest, Description: "Bad Request: chat not found", Times: 1})
		fields := map[string]any{"name": erasedFirst + " " + erasedLast, "phone": erasedPhone, "email": erasedEmail,
			"delivery": "courier", "address": erasedAddress, "comment": "Call " + erasedFirst}
		s.must(t, "POST", "/api/orders", zina, false, map[string]any{"order_key": "e1a5e000-0000-4000-8000-000000000001",
			"items": []any{item("p2", 2)}, "fields": fields}, http.StatusCreated, nil)
		s.placer.mu.Lock()
		s.placer.failNext = errHostDown
		s.placer.mu.Unlock()
		s.must(t, "POST", "/api/orders", zina, false, map[string]any{"order_key": "e1a5e000-0000-4000-8000-000000000002",
			"items": []any{item("p1", 1)}, "fields": fields}, http.StatusServiceUnavailable, nil)
		s.must(t, "POST", "/api/ingest", boris, false, map[string]any{"events": []any{
			map[string]any{"id": "open-b", "event": pulse.EventWebAppOpen, "payload": map[string]any{"platform": "android", "start_param": link}},
		}}, http.StatusOK, nil)
		s.must(t, "POST", "/api/orders", boris, false, orderBody("e1a5e000-0000-4000-8000-000000000003", item("p1", 1)), http.StatusCreated, nil)
		waitFor(t, "the buyer's notice refused", func() bool {
			return s.count(t, messages, "kind = ? AND status = ?", outbox.KindOrderBuyer, outbox.StatusFailed) == 1
		})
		s.must(t, "POST", fmt.Sprintf("/admin/api/customers/%d/messages", c.ID), "", true,
			map[string]any{"text": "Your order is on its way"}, http.StatusAccepted, nil)

		// A broadcast to every customer who can be messaged: them and Boris.
		var b outbox.Broadcast
		s.must(t, "POST", "/admin/api/broadcasts", "", true, map[string]any{"text": "Spring teas are in"}, http.StatusCreated, &b)
		if b.Recipients != 2 {
			t.Fatalf("broadcast recipients %d, want 2", b.Recipients)
		}
		s.must(t, "POST", fmt.Sprintf("/admin/api/broadcasts/%d/start", b.ID), "", true, nil, http.StatusOK, nil)
		waitFor(t, "the broadcast sent", func() bool {
			s.must(t, "GET", fmt.Sprintf("/admin/api/broadcasts/%d", b.ID), "", true, nil, http.StatusOK, &b)
			return b.Status == outbox.BroadcastStatusDone && b.Sent == 2
		})
		waitFor(t, "every message settled", settled)
		// MESSAGE_SENT is tracked once Telegram took the message: the
		// admin's and the broadcast's two.
		waitFor(t, "MESSAGE_SENT tracked", func() bool {
			return s.count(t, db.Table(pulse.OutboxTable), "event = ?", pulse.EventMessageSent) == 3
		})

		// An ORDER_CREATED stored by an older version, whose key held the
		// Telegram id.
		if _, err := s.tc.Pulse().Track(ctx, pulse.Event{Name: pulse.EventOrderCreated, CampaignID: "erase",
			IdempotencyKey: fmt.Sprintf("order:%d:legacy-order-key", erasedTelegramID), TrackingID: c.TrackingID,
			Payload: map[string]any{"order_id": "H0", "total": 100, "currency": "RUB"}}); err != nil {
			t.Fatal(err)
		}

		// Ensure every event emitted carries allowed payload fields only,
		// and the flow emitted each server event, MESSAGE_SENT of both
		// kinds.
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
			if name == pulse.EventMessageSent {
				var p struct{ Kind string }
				if err := json.Unmarshal([]byte(payload), &p); err != nil {
					t.Fatal(err)
				}
				seen[name+":"+p.Kind] = true
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{pulse.EventWebAppOpen, pulse.EventProductView, pulse.EventAddToCart, pulse.EventCheckoutStart,
			pulse.EventPrivacyConsent, pulse.EventOrderCreated, pulse.EventMessageSent + ":" + outbox.KindAdmin,
			pulse.EventMessageSent + ":" + outbox.KindBroadcast} {
			if !seen[name] {
				t.Errorf("the flow emitted no %s (saw %v)", name, seen)
			}
		}
		if got := mustCustomer(t, s, c.ID); got.HostCustomerID != 42 || got.OrdersCount != 1 {
			t.Fatalf("before erasure: %+v", got)
		}

		// The funnel folded, Pulse drained: nothing moves the figures now
		// but the erasure.
		if n, err := s.tc.Campaigns().Fold(ctx); err != nil || n == 0 {
			t.Fatalf("Fold = %d, %v", n, err)
		}
		waitFor(t, "Pulse drained", func() bool {
			return s.count(t, db.Table(pulse.OutboxTable), "status IN (?, ?)", pulse.StatusPending, pulse.StatusSending) == 0
		})
		figures := func() (dashboard, funnel any) {
			s.must(t, "GET", "/admin/api/dashboard?fresh=1", "", true, nil, http.StatusOK, &dashboard)
			s.must(t, "GET", "/admin/api/campaigns/funnel", "", true, nil, http.StatusOK, &funnel)
			return withoutComputedAt(dashboard), funnel
		}
		dashBefore, funnelBefore := figures()
		var check struct {
			OrdersCount    int64 `json:"orders_count"`
			Revenue        int64 `json:"revenue"`
			CustomersCount int64 `json:"customers_count"`
			Pulse          struct {
				Sent int64 `json:"sent"`
			} `json:"pulse"`
		}
		var fcheck struct {
			Campaigns []struct {
				ID         string `json:"id"`
				Attributed int64  `json:"attributed"`
				Revenue    int64  `json:"revenue"`
				Steps      []struct {
					Customers int64 `json:"customers"`
				} `json:"steps"`
			} `json:"campaigns"`
		}
		remarshal(t, dashBefore, &check)
		remarshal(t, funnelBefore, &fcheck)
		if check.OrdersCount != 2 || check.CustomersCount != 2 || check.Revenue == 0 || check.Pulse.Sent == 0 {
			t.Fatalf("dashboard before erasure %+v", check)
		}
		if len(fcheck.Campaigns) != 1 || fcheck.Campaigns[0].ID != "erase" || fcheck.Campaigns[0].Attributed == 0 ||
			fcheck.Campaigns[0].Revenue == 0 || fcheck.Campaigns[0].Steps[4].Customers != 2 {
			t.Fatalf("funnel before erasure %+v", fcheck)
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

		// Ensure no TeleCart table holds anything that identifies them, and
		// the scan read rows in every table.
		hits, counts := scanTables(t, db, erasedNeedles)
		for _, hit := range hits {
			t.Error(hit)
		}
		for table, n := range counts {
			if why, ok := emptyAfterErasure[strings.TrimPrefix(table, db.Prefix)]; n == 0 && !ok {
				t.Errorf("table %s is empty: the scan proves nothing there", table)
			} else if n > 0 && ok {
				t.Errorf("table %s has rows though listed as empty (%s)", table, why)
			}
		}
		// Ensure the whole dashboard (orders, revenues, days, Pulse) and the
		// campaign funnel (counts and revenue) stay.
		dashAfter, funnelAfter := figures()
		if !reflect.DeepEqual(dashAfter, dashBefore) {
			t.Errorf("dashboard after erasure\n%v\nbefore\n%v", dashAfter, dashBefore)
		}
		if !reflect.DeepEqual(funnelAfter, funnelBefore) {
			t.Errorf("funnel after erasure\n%v\nbefore\n%v", funnelAfter, funnelBefore)
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
		if row == nil || row["erased_at"] == nil || row["orders_count"] != float64(1) {
			t.Fatalf("admin list row after erasure: %v", row)
		}
		for _, f := range []string{"first_name", "last_name", "username", "photo_url", "language_code"} {
			if v, ok := row[f]; ok && v != "" && v != nil {
				t.Errorf("admin list row after erasure: %s = %v", f, v)
			}
		}
		if v, ok := row["telegram_user_id"]; ok && v != float64(0) && v != nil {
			t.Errorf("admin list row after erasure: telegram_user_id = %v", v)
		}
		if rowJSON, err := json.Marshal(row); err != nil {
			t.Fatal(err)
		} else {
			for _, needle := range erasedNeedles {
				if strings.Contains(strings.ToLower(string(rowJSON)), strings.ToLower(needle)) {
					t.Errorf("admin list row after erasure holds %q: %s", needle, rowJSON)
				}
			}
		}
		// Ensure the ETL export sends the erased row again, empty.
		etl := httptest.NewRequest("GET", "/pulse/etl/customers", nil)
		etl.Header.Set("X-Api-Key", "pulse-key")
		w := httptest.NewRecorder()
		s.tc.Handler().ServeHTTP(w, etl)
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

		// Ensure the same Telegram user coming back, whose first request is
		// the storefront's events (the ingest held the erased customer in
		// its cache), is a new customer with a new tracking id, and their
		// old orders stay with the erased one.
		zinaAgain := telegram.SignInitData(plugBotToken, telegram.SignParams{QueryID: "AAHagain", User: &telegram.User{
			ID: erasedTelegramID, FirstName: erasedFirst, AllowsWriteToPM: true}}, s.clock.Now())
		oldEvents := s.count(t, db.Table(pulse.OutboxTable), "tracking_id = ?", c.TrackingID)
		s.must(t, "POST", "/api/ingest", zinaAgain, false, map[string]any{"events": []any{
			map[string]any{"id": "pv-again", "event": pulse.EventProductView, "payload": map[string]any{"product_id": "p1"}},
		}}, http.StatusOK, nil)
		again, err := s.tc.Customers().GetByTelegramID(ctx, erasedTelegramID)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID == c.ID || again.TrackingID == c.TrackingID || again.OrdersCount != 0 || again.Consented() {
			t.Fatalf("returning user %+v; erased customer was %d", again, c.ID)
		}
		if n := s.count(t, db.Table(pulse.OutboxTable), "tracking_id = ?", c.TrackingID); n != oldEvents {
			t.Errorf("%d events under the erased tracking id, want the %d from before", n, oldEvents)
		}
		var same telegram.Customer
		s.must(t, "POST", "/api/customers", zinaAgain, false, nil, http.StatusOK, &same)
		if same.ID != again.ID || same.TrackingID != again.TrackingID {
			t.Fatalf("POST /api/customers answered %+v, want the new customer %d", same, again.ID)
		}
		// The same order_key is a new order for the new customer.
		s.must(t, "POST", "/api/orders", zinaAgain, false, map[string]any{"order_key": "e1a5e000-0000-4000-8000-000000000001",
			"items": []any{item("p2", 1)}, "fields": validFields()}, http.StatusCreated, nil)

		// Ensure TeleCart's log lines named the erased customer by id only,
		// the refused message by its ids, and no log line of the whole
		// flow held their personal data.
		out := logs.String()
		if !strings.Contains(out, fmt.Sprintf("customer_id=%d", c.ID)) || !strings.Contains(out, "erased") {
			t.Errorf("the erasure was not logged with the customer id:\n%s", out)
		}
		if !strings.Contains(out, "outbox: message not sent") {
			t.Errorf("the refused message was not logged:\n%s", out)
		}
		for _, n := range erasedNeedles {
			if strings.Contains(strings.ToLower(out), strings.ToLower(n)) {
				t.Errorf("a log line holds %q:\n%s", n, out)
			}
		}
	})
}

// remarshal decodes the JSON value v into dst.
func remarshal(t *testing.T, v, dst any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		t.Fatal(err)
	}
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
// as text, and returns a line for each needle found, case-insensitively,
// and how many rows each table has.
func scanTables(tb testing.TB, db migrator.DB, needles []string) ([]string, map[string]int) {
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
	counts := map[string]int{}
	for _, table := range tables {
		counts[table] = 0 // an empty table is reported as such
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			tb.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			counts[table]++
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
	return hits, counts
}
