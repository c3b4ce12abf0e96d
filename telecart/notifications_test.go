package telecart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

const ownerChatID = -1001234

// waitOutboxIdle waits until the message outbox holds no message pending
// or being sent, as the admin's Messages list shows it, failing after 20 s.
func waitOutboxIdle(t *testing.T, s *plugShop) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		busy := int64(0)
		for _, status := range []string{outbox.StatusPending, outbox.StatusSending} {
			var list outbox.MessageList
			s.must(t, http.MethodGet, "/admin/api/messages?per_page=1&status="+status, "", true, nil, http.StatusOK, &list)
			busy += list.Meta.Total
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still pending or sending after 20 s", busy)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sentTexts returns the texts of every sendMessage call the fake Bot API
// received, by chat: each call, accepted or not, so that a repeat shows.
func sentTexts(t *testing.T, api *botapitest.Server) map[int64][]string {
	t.Helper()
	out := map[int64][]string{}
	for _, c := range api.CallsTo("sendMessage") {
		var p struct {
			ChatID   int64  `json:"chat_id"`
			ThreadID int64  `json:"message_thread_id"`
			Text     string `json:"text"`
			Mode     string `json:"parse_mode"`
		}
		if err := c.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.ChatID == ownerChatID && (p.ThreadID != 7 || p.Mode != "HTML") {
			t.Errorf("owner notice sent to thread %d with parse mode %q, want 7 and HTML", p.ThreadID, p.Mode)
		}
		out[p.ChatID] = append(out[p.ChatID], p.Text)
	}
	return out
}

// setNotifications changes the stored notification settings through the
// admin API, as the panel does.
func setNotifications(t *testing.T, s *plugShop, change func(n map[string]any)) {
	t.Helper()
	var cur map[string]any
	s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
	n, _ := cur["notifications"].(map[string]any)
	if n == nil {
		n = map[string]any{}
	}
	change(n)
	cur["notifications"] = n
	s.must(t, http.MethodPut, "/admin/api/settings", "", true, cur, http.StatusOK, nil)
}

func newNoticeShop(t *testing.T, db migrator.DB) (*plugShop, *botapitest.Server) {
	t.Helper()
	api := botapitest.NewServer(t, botapitest.Config{Token: plugBotToken})
	s := newPlugShopWith(t, db, func(c *telecart.Config) {
		c.TelegramAPIURL = api.URL
		c.Settings.OwnerChat = fmt.Sprintf("%d:7", ownerChatID)
		c.Settings.ShopName = "Tea & Co"
	})
	return s, api
}

// Ensure an order sends exactly one message to the owner chat (a forum
// topic) and one to the buyer, counted over every call Telegram received
// once the outbox is idle, and none to a buyer who has not allowed the
// bot to write.
func TestOrderNotices(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s, api := newNoticeShop(t, db)
		anna := s.initData(1001, "Anna", "")
		var got orderAnswer
		s.must(t, "POST", "/api/orders", anna, false,
			orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000001", item("p2", 3)), http.StatusCreated, &got)
		waitOutboxIdle(t, s)
		texts := sentTexts(t, api)
		if len(texts[ownerChatID]) != 1 || len(texts[1001]) != 1 || len(texts) != 2 {
			t.Fatalf("messages by chat %v; want one to the owner and one to the buyer", texts)
		}
		owner, buyer := texts[ownerChatID][0], texts[1001][0]
		for _, want := range []string{"#" + got.OrderID, "Tea &amp; Co", "Anna", got.TotalFormatted, "× 3"} {
			if !strings.Contains(owner, want) {
				t.Errorf("owner notice %q lacks %q", owner, want)
			}
		}
		if strings.Contains(owner, "{") || strings.Contains(buyer, "{") || !strings.Contains(buyer, got.OrderID) {
			t.Errorf("placeholders left: owner %q buyer %q", owner, buyer)
		}

		// A buyer who did not allow the bot to write gets nothing; the
		// owner hears of the order.
		silent := telegram.SignInitData(plugBotToken, telegram.SignParams{
			User: &telegram.User{ID: 2002, FirstName: "Boris", AllowsWriteToPM: false}}, s.clock.Now())
		s.must(t, "POST", "/api/orders", silent, false,
			orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000002", item("p2", 1)), http.StatusCreated, &got)
		waitOutboxIdle(t, s)
		texts = sentTexts(t, api)
		if len(texts[ownerChatID]) != 2 || len(texts[1001]) != 1 || len(texts[2002]) != 0 || len(texts) != 2 {
			t.Errorf("messages by chat after the second order %v; want a second to the owner, none to its buyer", texts)
		}
	})
}

// Ensure each notice can be switched off in the settings: an order then
// sends no such message, and the other one still goes.
func TestOrderNotices_Switches(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s, api := newNoticeShop(t, db)
		anna := s.initData(1001, "Anna", "")

		setNotifications(t, s, func(n map[string]any) { n["owner_off"] = true })
		s.must(t, "POST", "/api/orders", anna, false,
			orderBody("0f8c7a52-bbbb-4bbb-8ccc-000000000001", item("p2", 1)), http.StatusCreated, nil)
		waitOutboxIdle(t, s)
		if texts := sentTexts(t, api); len(texts[ownerChatID]) != 0 || len(texts[1001]) != 1 {
			t.Errorf("owner_off: messages by chat %v; want the buyer's only", texts)
		}

		setNotifications(t, s, func(n map[string]any) { n["owner_off"], n["buyer_off"] = false, true })
		s.must(t, "POST", "/api/orders", anna, false,
			orderBody("0f8c7a52-bbbb-4bbb-8ccc-000000000002", item("p2", 1)), http.StatusCreated, nil)
		waitOutboxIdle(t, s)
		if texts := sentTexts(t, api); len(texts[ownerChatID]) != 1 || len(texts[1001]) != 1 {
			t.Errorf("buyer_off: messages by chat %v; want one more to the owner, none more to the buyer", texts)
		}
	})
}

// Ensure every placeholder is filled in the owner's and the buyer's text,
// each value HTML-escaped, with the template of the buyer's language (and
// English for a language without one) and of the owner's language setting.
func TestOrderNotices_Placeholders(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s, api := newNoticeShop(t, db)
		const product = `Tea & "Cakes" <x>`
		s.catalog.mu.Lock()
		s.catalog.products[1].Name = product
		s.catalog.mu.Unlock()
		const all = "|{order_id}|{shop_name}|{customer}|{total}|{items}|{fields}|{date}"
		setNotifications(t, s, func(n map[string]any) {
			n["owner"] = map[string]any{"en": "OWNER-EN" + all, "ru": "OWNER-RU" + all}
			n["buyer"] = map[string]any{"en": "BUYER-EN" + all, "ru": "BUYER-RU" + all}
		})
		var cur map[string]any
		s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
		cur["time_zone"] = "Asia/Tokyo"
		s.must(t, http.MethodPut, "/admin/api/settings", "", true, cur, http.StatusOK, nil)
		tokyo, err := time.LoadLocation("Asia/Tokyo")
		if err != nil {
			t.Fatal(err)
		}

		order := func(userID int64, lang, key string) (orderAnswer, map[string]any) {
			t.Helper()
			id := telegram.SignInitData(plugBotToken, telegram.SignParams{User: &telegram.User{ID: userID, FirstName: "Ignored",
				Username: "ann_b", LanguageCode: lang, AllowsWriteToPM: true}}, s.clock.Now())
			fields := map[string]any{"name": `Ann <b>&"Co"`, "phone": "+7 900 123-45-67", "email": "ann@example.com",
				"delivery": "pickup", "comment": `Gate "7" <left> & ring`}
			var got orderAnswer
			s.must(t, "POST", "/api/orders", id, false, map[string]any{"order_key": key, "items": []any{item("p2", 3)}, "fields": fields},
				http.StatusCreated, &got)
			return got, fields
		}
		want := func(prefix string, got orderAnswer, fields map[string]any) string {
			var lines []string
			for _, k := range slices.Sorted(maps.Keys(fields)) {
				lines = append(lines, fmt.Sprintf("%s: %v", k, fields[k]))
			}
			return strings.Join([]string{prefix,
				html.EscapeString(got.OrderID),
				"Tea &amp; Co",
				"Ann &lt;b&gt;&amp;&#34;Co&#34; (@ann_b)",
				html.EscapeString(got.TotalFormatted),
				html.EscapeString(fmt.Sprintf("%s × 3 — %s", product, telecart.FormatPrice(3*1999, "RUB"))),
				html.EscapeString(strings.Join(lines, "\n")),
				s.clock.Now().In(tokyo).Format("2006-01-02 15:04"),
			}, "|")
		}
		check := func(texts map[string]string) {
			t.Helper()
			for name, text := range texts {
				if !strings.Contains(text, "&lt;") || strings.ContainsAny(text, `"{}`) || strings.Contains(text, "<b>") {
					t.Errorf("%s text %q: a value is not escaped or a placeholder is left", name, text)
				}
			}
		}

		// A ru buyer: their ru template; the owner's language is en.
		got, fields := order(3003, "ru", "0f8c7a52-cccc-4bbb-8ccc-000000000001")
		waitOutboxIdle(t, s)
		texts := sentTexts(t, api)
		if len(texts[ownerChatID]) != 1 || len(texts[3003]) != 1 {
			t.Fatalf("messages by chat %v", texts)
		}
		if w := want("OWNER-EN", got, fields); texts[ownerChatID][0] != w {
			t.Errorf("owner text\n%q\nwant\n%q", texts[ownerChatID][0], w)
		}
		if w := want("BUYER-RU", got, fields); texts[3003][0] != w {
			t.Errorf("buyer text\n%q\nwant\n%q", texts[3003][0], w)
		}
		check(map[string]string{"owner": texts[ownerChatID][0], "buyer": texts[3003][0]})

		// A de buyer, without a template of their language: English; the
		// owner's language set to ru: the owner's ru template.
		setNotifications(t, s, func(n map[string]any) { n["owner_language"] = "ru" })
		got, fields = order(4004, "de", "0f8c7a52-cccc-4bbb-8ccc-000000000002")
		waitOutboxIdle(t, s)
		texts = sentTexts(t, api)
		if len(texts[ownerChatID]) != 2 || len(texts[4004]) != 1 {
			t.Fatalf("messages by chat %v", texts)
		}
		if w := want("OWNER-RU", got, fields); texts[ownerChatID][1] != w {
			t.Errorf("owner text\n%q\nwant\n%q", texts[ownerChatID][1], w)
		}
		if w := want("BUYER-EN", got, fields); texts[4004][0] != w {
			t.Errorf("buyer text\n%q\nwant\n%q", texts[4004][0], w)
		}
	})
}

// messageSentPayload is MESSAGE_SENT's payload.
type messageSentPayload struct {
	MessageID   int64  `json:"message_id"`
	Kind        string `json:"kind"`
	BroadcastID int64  `json:"broadcast_id"`
}

// Ensure a broadcast to N customers is N MESSAGE_SENT events, stored with
// the messages recorded as sent and delivered to Pulse once each, each
// with the broadcast's id and kind and a payload within the protocol's
// fields; the admin's message to a customer is one more, of kind admin;
// an order's notices are none.
func TestMessageSentEvents(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s, _ := newNoticeShop(t, db)
		ctx := context.Background()
		const n = 12
		tracking := map[string]bool{}
		var customers []telegram.Customer
		for i := range n {
			c, err := s.tc.Customers().Save(ctx, telegram.User{ID: 6001 + int64(i), FirstName: fmt.Sprintf("C%d", i),
				AllowsWriteToPM: true}, s.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.tc.Customers().RecordCampaign(ctx, db, c.TelegramUserID, "spring", s.clock.Now()); err != nil {
				t.Fatal(err)
			}
			tracking[c.TrackingID] = true
			customers = append(customers, c)
		}

		var b outbox.Broadcast
		s.must(t, http.MethodPost, "/admin/api/broadcasts", "", true, map[string]any{"text": "Sale <b>today</b>"}, http.StatusCreated, &b)
		if b.Recipients != n {
			t.Fatalf("broadcast recipients %d, want %d", b.Recipients, n)
		}
		s.must(t, http.MethodPost, fmt.Sprintf("/admin/api/broadcasts/%d/start", b.ID), "", true, nil, http.StatusOK, nil)
		s.must(t, http.MethodPost, fmt.Sprintf("/admin/api/customers/%d/messages", customers[0].ID), "", true,
			map[string]any{"text": "Your order is on its way"}, http.StatusAccepted, nil)
		buyer := s.initData(customers[1].TelegramUserID, "C1", "")
		s.must(t, "POST", "/api/orders", buyer, false, orderBody("0f8c7a52-dddd-4bbb-8ccc-000000000001", item("p2", 1)), http.StatusCreated, nil)

		deadline := time.Now().Add(20 * time.Second)
		for {
			s.must(t, http.MethodGet, fmt.Sprintf("/admin/api/broadcasts/%d", b.ID), "", true, nil, http.StatusOK, &b)
			if b.Status == outbox.BroadcastStatusDone {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("broadcast %+v not done after 20 s", b)
			}
			time.Sleep(20 * time.Millisecond)
		}
		waitOutboxIdle(t, s)
		if b.Sent != n {
			t.Fatalf("broadcast %+v: want %d sent", b, n)
		}

		// The events are stored with the messages: once the outbox is idle,
		// every one is there, without waiting for anything else.
		wantIDs := map[int64]string{} // message id → kind
		var list outbox.MessageList
		s.must(t, http.MethodGet, "/admin/api/messages?per_page=100&status=sent", "", true, nil, http.StatusOK, &list)
		for _, m := range list.Data {
			switch m.Kind {
			case outbox.KindBroadcast, outbox.KindAdmin:
				wantIDs[m.ID] = m.Kind
			case outbox.KindOrderOwner, outbox.KindOrderBuyer:
			default:
				t.Errorf("unexpected message %+v", m)
			}
		}
		if len(wantIDs) != n+1 || list.Meta.Total != n+3 {
			t.Fatalf("sent messages %d (%d broadcast or admin), want %d", list.Meta.Total, len(wantIDs), n+3)
		}
		if got := s.count(t, db.Table(pulse.OutboxTable), "event = ?", pulse.EventMessageSent); got != n+1 {
			t.Errorf("%d MESSAGE_SENT events stored, want %d", got, n+1)
		}

		// Each reaches Pulse once.
		var events []pulse.WireEvent
		deadline = time.Now().Add(20 * time.Second)
		for {
			events = events[:0]
			for _, ev := range s.receiver.Events() {
				if ev.Event == pulse.EventMessageSent {
					events = append(events, ev)
				}
			}
			if len(events) >= n+1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(events) != n+1 {
			t.Fatalf("Pulse received %d MESSAGE_SENT events, want %d", len(events), n+1)
		}
		kinds := map[string]int{}
		for _, ev := range events {
			if err := pulse.CheckPayload(ev.Event, ev.Payload); err != nil {
				t.Errorf("%v: %s", err, ev.Payload)
			}
			var p messageSentPayload
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			kind, ok := wantIDs[p.MessageID]
			delete(wantIDs, p.MessageID) // a second event for one message fails below
			switch {
			case !ok:
				t.Errorf("an event for message %d, not a sent broadcast or admin message (or a second one): %s", p.MessageID, ev.Payload)
			case p.Kind != kind:
				t.Errorf("event %s: kind %q, want %q", ev.Payload, p.Kind, kind)
			case kind == outbox.KindBroadcast && p.BroadcastID != b.ID, kind == outbox.KindAdmin && p.BroadcastID != 0:
				t.Errorf("event %s: broadcast_id %d (broadcast %d)", ev.Payload, p.BroadcastID, b.ID)
			}
			if ev.CampaignID != "spring" || !tracking[ev.TrackingID] {
				t.Errorf("event %+v: want campaign spring and a customer's tracking id", ev)
			}
			kinds[p.Kind]++
		}
		if kinds[outbox.KindBroadcast] != n || kinds[outbox.KindAdmin] != 1 {
			t.Errorf("events by kind %v, want %d broadcast and 1 admin", kinds, n)
		}
	})
}

// Ensure the admin's settings list the default notice templates by kind
// and language, for the panel's placeholders, and that sending them back
// with PUT is accepted and stores nothing of them.
func TestNotificationDefaultsInSettings(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite)
	s := newPlugShopWith(t, db, nil)
	var cur map[string]any
	s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
	d, _ := cur["notification_defaults"].(map[string]any)
	for _, kind := range []string{"owner", "buyer"} {
		m, _ := d[kind].(map[string]any)
		for _, lang := range []string{"en", "ru"} {
			if got, _ := m[lang].(string); !strings.Contains(got, "{order_id}") {
				t.Errorf("notification_defaults.%s.%s = %q", kind, lang, got)
			}
		}
	}
	s.must(t, http.MethodPut, "/admin/api/settings", "", true, cur, http.StatusOK, nil)
	var after map[string]any
	s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &after)
	if n, _ := after["notifications"].(map[string]any); n["owner"] != nil && len(n["owner"].(map[string]any)) > 0 {
		t.Errorf("notifications after PUT = %v", n)
	}
}
