package telegram_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
)

const custBotToken = "424242:AAE-customers_Test"

// custErrorAnswer is the JSON error shape of every 4xx and 5xx.
type custErrorAnswer struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// custFakeSender is a MessageSender that records what it was asked to send.
type custFakeSender struct {
	mu   sync.Mutex
	sent []telegram.SendMessageParams
	// answer decides the outcome; nil sends with message id 1000+n.
	answer func(ctx context.Context, p telegram.SendMessageParams) (telegram.Message, error)
}

func (f *custFakeSender) Send(ctx context.Context, p telegram.SendMessageParams) (telegram.Message, error) {
	f.mu.Lock()
	f.sent = append(f.sent, p)
	n := len(f.sent)
	f.mu.Unlock()
	if f.answer != nil {
		return f.answer(ctx, p)
	}
	return telegram.Message{MessageID: int64(1000 + n), Chat: telegram.MessageChat{ID: p.ChatID}}, nil
}

func (f *custFakeSender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// custServer is the customers routes mounted as the demo server mounts them:
// the storefront under /api behind the init data middleware, the admin
// under /admin/api.
type custServer struct {
	http.Handler
	db    migrator.DB
	store *telegram.CustomerStore
	clock *custClock
}

func newCustServer(t *testing.T, db migrator.DB, sender telegram.MessageSender) *custServer {
	t.Helper()
	clock := newCustClock()
	store := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})
	return newCustServerOn(t, db, store, clock, custBotToken, sender)
}

func newCustServerOn(t *testing.T, db migrator.DB, store *telegram.CustomerStore, clock *custClock, token string, sender telegram.MessageSender) *custServer {
	t.Helper()
	v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: token, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var m *telegram.Messenger
	if sender != nil {
		m, err = telegram.NewMessenger(telegram.MessengerConfig{Store: store, Sender: sender})
		if err != nil {
			t.Fatal(err)
		}
	}
	h, err := telegram.NewCustomersHandler(telegram.CustomersHandlerConfig{Store: store, Messenger: m, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	api := r.PathPrefix("/api").Subrouter()
	api.Use(v.Middleware)
	h.RegisterStorefrontRoutes(api)
	h.RegisterAdminRoutes(r.PathPrefix("/admin/api").Subrouter())
	return &custServer{Handler: r, db: db, store: store, clock: clock}
}

// do serves one request; initData goes in the header when not empty.
func (s *custServer) do(t *testing.T, method, path, initData, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	if initData != "" {
		r.Header.Set(telegram.HeaderInitData, initData)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// signUser returns init data for user, signed now, with the user object
// written exactly as userJSON (as Telegram writes it: escaped slashes,
// \u escapes), not re-marshalled.
func (s *custServer) signUser(userJSON string) string {
	v := telegram.SignParams{ChatType: "private", ChatInstance: "-42"}.Values(s.clock.Now())
	v.Set("user", userJSON)
	return telegram.Sign(v, custBotToken)
}

func custDecode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, body %s", ct, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", w.Body, err)
	}
	return v
}

func custWantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) custErrorAnswer {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	e := custDecode[custErrorAnswer](t, w)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q", e.Error, code)
	}
	return e
}

func TestCustomersHandlerSave(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		srv := newCustServer(t, db, nil)

		// Ensure '+', '%', \u escapes (a surrogate pair too), raw unicode
		// and escaped slashes arrive exactly, through real signed init data,
		// the middleware and the handler; and that the body is ignored.
		const userJSON = `{"id":5000131393,"first_name":"\u017dofie \ud83d\ude80","last_name":"Anna+Maria 100%","username":"zofie_n","language_code":"cs","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/a+b%2Fc.svg"}`
		raw := srv.signUser(userJSON)
		if !strings.Contains(raw, "%2B") || !strings.Contains(raw, "%25") || !strings.Contains(raw, "%5C%2F") {
			t.Fatalf("init data does not exercise the encodings: %s", raw)
		}
		w := srv.do(t, http.MethodPost, "/api/customers", raw,
			`{"first_name":"Mallory","telegram_user_id":1,"tracking_id":"forged","bot_blocked":true}`)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		c := custDecode[telegram.Customer](t, w)
		if _, err := uuid.Parse(c.TrackingID); err != nil {
			t.Fatalf("tracking_id %q: %v", c.TrackingID, err)
		}
		want := telegram.Customer{ID: c.ID, TelegramUserID: 5000131393, TrackingID: c.TrackingID, FirstName: "Žofie 🚀",
			LastName: "Anna+Maria 100%", Username: "zofie_n", LanguageCode: "cs", IsPremium: true, AllowsWriteToPM: true,
			PhotoURL: "https://t.me/i/userpic/320/a+b%2Fc.svg", LastSeenAt: custStart, CreatedAt: custStart, UpdatedAt: custStart}
		if !custEqual(c, want) {
			t.Fatalf("answered\n%+v\nwant\n%+v", c, want)
		}
		if stored := mustGetCustomer(t, srv.store, c.ID); !custEqual(stored, want) {
			t.Fatalf("stored\n%+v\nwant\n%+v", stored, want)
		}
		if !strings.Contains(w.Body.String(), `"tracking_id":"`+c.TrackingID+`"`) {
			t.Fatalf("answer without tracking_id: %s", w.Body)
		}

		// Ensure a second launch keeps the tracking_id and updates names.
		srv.clock.Advance(time.Hour)
		w = srv.do(t, http.MethodPost, "/api/customers", srv.signUser(`{"id":5000131393,"first_name":"Zofie","last_name":"N."}`), "")
		c2 := custDecode[telegram.Customer](t, w)
		if w.Code != http.StatusOK || c2.ID != c.ID || c2.TrackingID != c.TrackingID || c2.FirstName != "Zofie" || c2.LastName != "N." {
			t.Fatalf("second save: %d %+v", w.Code, c2)
		}

		// Ensure bodies that are not empty or a JSON object are refused.
		for _, tt := range []struct {
			body   string
			status int
			code   string
		}{
			{"not json", http.StatusBadRequest, "bad_request"},
			{"[1,2]", http.StatusBadRequest, "bad_request"},
			{`{"a":`, http.StatusBadRequest, "bad_request"},
			{`"str"`, http.StatusBadRequest, "bad_request"},
			{`{"pad":"` + strings.Repeat("x", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, "body_too_large"},
		} {
			w := srv.do(t, http.MethodPost, "/api/customers", raw, tt.body)
			custWantError(t, w, tt.status, tt.code)
		}
		for _, body := range []string{"", "  \n", "{}"} {
			if w := srv.do(t, http.MethodPost, "/api/customers", raw, body); w.Code != http.StatusOK {
				t.Errorf("body %q: %d %s", body, w.Code, w.Body)
			}
		}

		// Ensure a request without init data never reaches the store.
		custWantError(t, srv.do(t, http.MethodPost, "/api/customers", "", ""), http.StatusUnauthorized, "invalid_init_data")
		custWantError(t, srv.do(t, http.MethodPost, "/api/customers", strings.Replace(raw, "Anna", "Anne", 1), ""),
			http.StatusUnauthorized, "invalid_init_data")
	})
}

// Ensure a real Telegram launch (a published vector with Telegram's own
// signature: '+', '?', an escaped slash in the name, escaped slashes in the
// photo URL) is stored exactly.
func TestCustomersHandlerSaveTelegramVector(t *testing.T) {
	b, err := os.ReadFile("../testdata/initdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []struct {
			Name, Raw string
			BotToken  string `json:"bot_token"`
			Now       int64
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var raw, token string
	var now int64
	for _, v := range doc.Vectors {
		if v.Name == "tma_third_party_hmac" {
			raw, token, now = v.Raw, v.BotToken, v.Now
		}
	}
	if raw == "" {
		t.Fatal("vector tma_third_party_hmac is missing")
	}
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		clock := newCustClock()
		clock.Set(time.Unix(now, 0).UTC())
		store := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})
		srv := newCustServerOn(t, db, store, clock, token, nil)
		w := srv.do(t, http.MethodPost, "/api/customers", raw, "")
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		c := mustGetCustomer(t, store, custDecode[telegram.Customer](t, w).ID)
		if c.TelegramUserID != 279058397 || c.FirstName != "Vladislav + - ? /" || c.LastName != "Kibenko" ||
			c.Username != "vdkfrost" || !c.IsPremium || !c.AllowsWriteToPM ||
			c.PhotoURL != "https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg" {
			t.Fatalf("stored %+v", c)
		}
	})
}

// Ensure the handlers refuse a request the middleware did not vouch for,
// should a host forget to mount it.
func TestCustomersHandlerWithoutMiddleware(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, telegram.MigrationSource())
	h, err := telegram.NewCustomersHandler(telegram.CustomersHandlerConfig{Store: MustNewCustomerStore(t, db, newCustClock(), telegram.CustomerStoreConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, path string
		ctx          context.Context
	}{
		{http.MethodPost, "/customers", context.Background()},
		{http.MethodGet, "/privacy-consent", context.Background()},
		{http.MethodPost, "/privacy-consent", context.Background()},
		{http.MethodPost, "/customers", telegram.WithInitData(context.Background(), telegram.InitData{})}, // no user
	} {
		w := httptest.NewRecorder()
		h.StorefrontHandler().ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil).WithContext(tt.ctx))
		custWantError(t, w, http.StatusUnauthorized, "invalid_init_data")
	}
	if n := mustList(t, MustNewCustomerStore(t, db, nil, telegram.CustomerStoreConfig{}), "").Meta.Total; n != 0 {
		t.Fatalf("%d customers stored", n)
	}
	// Ensure a handler without a store is refused at construction, with an
	// error rather than a panic.
	if _, err := telegram.NewCustomersHandler(telegram.CustomersHandlerConfig{}); err == nil || !strings.Contains(err.Error(), "Store is nil") {
		t.Fatalf("NewCustomersHandler without a store = %v, want an error naming Store", err)
	}
}

func TestCustomersHandlerConsent(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		srv := newCustServer(t, db, nil)
		type answer struct {
			Consented   bool       `json:"consented"`
			ConsentedAt *time.Time `json:"consented_at"`
		}
		raw := srv.signUser(`{"id":77,"first_name":"Ann"}`)

		// Ensure a stranger has not consented, and answers carry a null.
		w := srv.do(t, http.MethodGet, "/api/privacy-consent", raw, "")
		if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"consented":false,"consented_at":null}` {
			t.Fatalf("before: %d %s", w.Code, w.Body)
		}
		// Ensure consent before POST /api/customers saves the customer too.
		first := srv.clock.Advance(time.Minute)
		w = srv.do(t, http.MethodPost, "/api/privacy-consent", raw, "")
		if a := custDecode[answer](t, w); w.Code != http.StatusOK || !a.Consented || !custTimeEq(a.ConsentedAt, &first) {
			t.Fatalf("consent: %d %s", w.Code, w.Body)
		}
		if !strings.Contains(w.Body.String(), `"consented_at":"2026-01-10T09:01:00Z"`) {
			t.Fatalf("consented_at is not RFC 3339 UTC: %s", w.Body)
		}
		c, err := srv.store.GetByTelegramID(context.Background(), 77)
		if err != nil || c.FirstName != "Ann" || !custTimeEq(c.PrivacyConsentedAt, &first) {
			t.Fatalf("stored %+v, %v", c, err)
		}
		// Ensure a later consent keeps the first time.
		srv.clock.Advance(24 * time.Hour)
		raw = srv.signUser(`{"id":77,"first_name":"Ann"}`)
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			w = srv.do(t, method, "/api/privacy-consent", raw, "")
			if a := custDecode[answer](t, w); w.Code != http.StatusOK || !a.Consented || !custTimeEq(a.ConsentedAt, &first) {
				t.Fatalf("%s again: %d %s", method, w.Code, w.Body)
			}
		}
		custWantError(t, srv.do(t, http.MethodPost, "/api/privacy-consent", raw, "[]"), http.StatusBadRequest, "bad_request")
		custWantError(t, srv.do(t, http.MethodGet, "/api/privacy-consent", "", ""), http.StatusUnauthorized, "invalid_init_data")
	})
}

func TestCustomersHandlerList(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		srv := newCustServer(t, db, nil)
		for i, name := range []string{"Anna", "Boris", "Anya"} {
			MustSaveCustomer(t, srv.store, telegram.User{ID: int64(i + 1), FirstName: name})
		}
		// Ensure the answer's shape: data and meta.
		w := srv.do(t, http.MethodGet, "/admin/api/customers?"+url.Values{
			"search": {"an"}, "sort": {"first_name"}, "order": {"asc"}, "per_page": {"1"}, "page": {"2"},
			"filter[is_premium]": {"false"}, "filter[created_at][from]": {"2026-01-01"},
		}.Encode(), "", "")
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		got := custDecode[struct {
			Data []map[string]any `json:"data"`
			Meta map[string]any   `json:"meta"`
		}](t, w)
		if len(got.Data) != 1 || got.Data[0]["first_name"] != "Anya" || got.Data[0]["tracking_id"] == "" {
			t.Fatalf("data %v", got.Data)
		}
		wantMeta := map[string]any{"page": 2.0, "per_page": 1.0, "total": 2.0, "pages": 2.0}
		if len(got.Meta) != 4 {
			t.Fatalf("meta %v, want %v", got.Meta, wantMeta)
		}
		for k, v := range wantMeta {
			if got.Meta[k] != v {
				t.Fatalf("meta %v, want %v", got.Meta, wantMeta)
			}
		}
		// Ensure an empty page is an empty array.
		w = srv.do(t, http.MethodGet, "/admin/api/customers?search=nobody", "", "")
		if !strings.Contains(w.Body.String(), `"data":[]`) {
			t.Fatalf("empty list: %s", w.Body)
		}
		// Ensure bad parameters are 400 JSON errors.
		for _, q := range []string{"sort=password", "filter[password]=x", "filter[created_at][from]=nope",
			"filter[is_premium]=perhaps", "per_page=1000", "order=sideways", "search=%FF"} {
			custWantError(t, srv.do(t, http.MethodGet, "/admin/api/customers?"+q, "", ""), http.StatusBadRequest, "bad_request")
		}
	})
}

func TestCustomersHandlerMessages(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		sender := &custFakeSender{}
		srv := newCustServer(t, db, sender)
		ok := MustSaveCustomer(t, srv.store, telegram.User{ID: 501, FirstName: "Ann", AllowsWriteToPM: true})
		silent := MustSaveCustomer(t, srv.store, telegram.User{ID: 502, FirstName: "Sam"})
		blocked := MustSaveCustomer(t, srv.store, telegram.User{ID: 503, FirstName: "Bea", AllowsWriteToPM: true})
		if err := srv.store.MarkUnreachable(context.Background(), blocked.ID, custStart); err != nil {
			t.Fatal(err)
		}
		path := func(id int64) string { return "/admin/api/customers/" + strconv.FormatInt(id, 10) + "/messages" }
		text := func(s string) string {
			b, _ := json.Marshal(map[string]string{"text": s})
			return string(b)
		}

		// Ensure a message is sent as plain text to the customer's chat and
		// answered with Telegram's message id.
		w := srv.do(t, http.MethodPost, path(ok.ID), "", text("Hi <b>Ann</b> & co"))
		if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"message_id":1001}` {
			t.Fatalf("send: %d %s", w.Code, w.Body)
		}
		if p := sender.sent[0]; p.ChatID != 501 || p.Text != "Hi <b>Ann</b> & co" || p.ParseMode != telegram.ParseModeNone {
			t.Fatalf("sent %+v", p)
		}
		// Ensure the longest text passes, counted in characters.
		if w := srv.do(t, http.MethodPost, path(ok.ID), "", text(strings.Repeat("ж", telegram.MaxMessageLength))); w.Code != http.StatusOK {
			t.Fatalf("4096 characters: %d %s", w.Code, w.Body)
		}

		before := sender.count()
		for _, tt := range []struct {
			name, path, body string
			status           int
			code             string
		}{
			{"UnknownCustomer", path(ok.ID + 100), text("hi"), http.StatusNotFound, "not_found"},
			{"Empty", path(ok.ID), text(""), http.StatusUnprocessableEntity, "validation_failed"},
			{"NoText", path(ok.ID), `{}`, http.StatusUnprocessableEntity, "validation_failed"},
			{"Blank", path(ok.ID), text(" \n\t "), http.StatusUnprocessableEntity, "validation_failed"},
			{"TooLong", path(ok.ID), text(strings.Repeat("ж", telegram.MaxMessageLength+1)), http.StatusUnprocessableEntity, "validation_failed"},
			{"TooLongUnknown", path(ok.ID + 100), text(strings.Repeat("a", telegram.MaxMessageLength+1)), http.StatusUnprocessableEntity, "validation_failed"},
			{"Blocked", path(blocked.ID), text("hi"), http.StatusConflict, "recipient_unreachable"},
			{"WriteNotAllowed", path(silent.ID), text("hi"), http.StatusConflict, "write_not_allowed"},
			{"BadID", "/admin/api/customers/abc/messages", text("hi"), http.StatusBadRequest, "bad_request"},
			{"ZeroID", path(0), text("hi"), http.StatusBadRequest, "bad_request"},
			{"HugeID", "/admin/api/customers/99999999999999999999/messages", text("hi"), http.StatusBadRequest, "bad_request"},
			{"UnknownField", path(ok.ID), `{"text":"hi","chat_id":1}`, http.StatusBadRequest, "bad_request"},
			{"NotJSON", path(ok.ID), `text=hi`, http.StatusBadRequest, "bad_request"},
			{"TextNotString", path(ok.ID), `{"text":5}`, http.StatusBadRequest, "bad_request"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e := custWantError(t, srv.do(t, http.MethodPost, tt.path, "", tt.body), tt.status, tt.code)
				if tt.status == http.StatusConflict && !strings.Contains(e.Error.Message, "Nothing was sent") {
					t.Errorf("409 message %q does not say nothing was sent", e.Error.Message)
				}
				if tt.status == http.StatusUnprocessableEntity && e.Error.Fields["text"] == "" {
					t.Errorf("422 without a message for text: %+v", e.Error)
				}
			})
		}
		// Ensure nothing was sent for any refusal.
		if n := sender.count(); n != before {
			t.Fatalf("%d messages sent by refused requests", n-before)
		}
	})
}

// Ensure a host without a bot gets a clear 503.
func TestCustomersHandlerMessagesWithoutBot(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, telegram.MigrationSource())
	srv := newCustServer(t, db, nil)
	c := MustSaveCustomer(t, srv.store, telegram.User{ID: 1, FirstName: "Ann", AllowsWriteToPM: true})
	custWantError(t, srv.do(t, http.MethodPost, "/admin/api/customers/"+strconv.FormatInt(c.ID, 10)+"/messages", "", `{"text":"hi"}`),
		http.StatusServiceUnavailable, "bot_not_configured")
}

// custFakeTelegram is a Bot API server answering sendMessage with answer.
type custFakeTelegram struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	paths  []string
}

func newCustFakeTelegram(t *testing.T, answer func(n int) (int, string)) *custFakeTelegram {
	f := &custFakeTelegram{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		f.paths = append(f.paths, r.URL.Path)
		n := len(f.bodies)
		f.mu.Unlock()
		status, out := answer(n)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, out)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *custFakeTelegram) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

// Ensure the admin route with the real Bot against a fake Telegram: a sent
// message answers its id; a 403 refusal marks the customer unreachable and
// answers 409 saying why, after which nothing more goes to Telegram.
func TestCustomersHandlerMessagesRealBot(t *testing.T) {
	for _, tt := range []struct {
		name, description, says string
	}{
		{"BotBlocked", "Forbidden: bot was blocked by the user", "blocked the bot"},
		{"UserDeactivated", "Forbidden: user is deactivated", "deactivated"},
		{"CantInitiate", "Forbidden: bot can't initiate conversation with a user", "never started the bot"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
				tg := newCustFakeTelegram(t, func(n int) (int, string) {
					if n == 1 {
						return http.StatusOK, `{"ok":true,"result":{"message_id":321,"date":1767000000,"chat":{"id":601,"type":"private"},"text":"hello"}}`
					}
					return http.StatusForbidden, `{"ok":false,"error_code":403,"description":"` + tt.description + `"}`
				})
				bot, err := telegram.NewBot(telegram.BotConfig{Token: custBotToken, BaseURL: tg.URL,
					PerChatInterval: time.Nanosecond, GlobalRate: 1000, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				srv := newCustServer(t, db, bot)
				c := MustSaveCustomer(t, srv.store, telegram.User{ID: 601, FirstName: "Ann", AllowsWriteToPM: true})
				path := "/admin/api/customers/" + strconv.FormatInt(c.ID, 10) + "/messages"

				w := srv.do(t, http.MethodPost, path, "", `{"text":"hello <b>"}`)
				if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"message_id":321}` {
					t.Fatalf("send: %d %s", w.Code, w.Body)
				}
				if tg.paths[0] != "/bot"+custBotToken+"/sendMessage" || tg.bodies[0]["chat_id"] != 601.0 ||
					tg.bodies[0]["text"] != "hello <b>" || tg.bodies[0]["parse_mode"] != nil {
					t.Fatalf("Telegram got %s %v", tg.paths[0], tg.bodies[0])
				}

				e := custWantError(t, srv.do(t, http.MethodPost, path, "", `{"text":"again"}`), http.StatusConflict, "recipient_unreachable")
				if !strings.Contains(e.Error.Message, tt.says) || !strings.Contains(e.Error.Message, "marked unreachable") {
					t.Fatalf("409 message %q, want it to say %q", e.Error.Message, tt.says)
				}
				got := mustGetCustomer(t, srv.store, c.ID)
				if !got.BotBlocked || !custTimeEq(got.BotBlockedAt, &custStart) {
					t.Fatalf("customer after the 403: %+v", got)
				}
				e = custWantError(t, srv.do(t, http.MethodPost, path, "", `{"text":"third"}`), http.StatusConflict, "recipient_unreachable")
				if tg.calls() != 2 || !strings.Contains(e.Error.Message, "Nothing was sent") {
					t.Fatalf("after marking: %d calls to Telegram, message %q", tg.calls(), e.Error.Message)
				}
			})
		})
	}
}

// Ensure Telegram's other failures are gateway errors, never a 500, and do
// not mark the customer.
func TestCustomersHandlerMessagesTelegramFailures(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, telegram.MigrationSource())
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   int
		code   string
	}{
		{"ChatNotFound", http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, http.StatusBadGateway, "telegram_error"},
		{"FloodControl", http.StatusTooManyRequests, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}`, http.StatusTooManyRequests, "rate_limited"},
		{"ServerError", http.StatusBadGateway, `<html>bad gateway</html>`, http.StatusBadGateway, "telegram_error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := newCustFakeTelegram(t, func(int) (int, string) { return tt.status, tt.body })
			bot, err := telegram.NewBot(telegram.BotConfig{Token: custBotToken, BaseURL: tg.URL, MaxRetries: -1, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			srv := newCustServer(t, db, bot)
			c, err := srv.store.Save(context.Background(), telegram.User{ID: 700, FirstName: "Ann", AllowsWriteToPM: true}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			custWantError(t, srv.do(t, http.MethodPost, "/admin/api/customers/"+strconv.FormatInt(c.ID, 10)+"/messages", "", `{"text":"hi"}`), tt.want, tt.code)
			if got := mustGetCustomer(t, srv.store, c.ID); got.BotBlocked {
				t.Fatal("customer marked unreachable")
			}
		})
	}
	t.Run("Unreachable", func(t *testing.T) {
		tg := newCustFakeTelegram(t, func(int) (int, string) { return 200, "{}" })
		tg.Close() // connection refused
		bot, err := telegram.NewBot(telegram.BotConfig{Token: custBotToken, BaseURL: tg.URL, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		srv := newCustServer(t, db, bot)
		c := MustSaveCustomer(t, srv.store, telegram.User{ID: 701, FirstName: "Ann", AllowsWriteToPM: true})
		custWantError(t, srv.do(t, http.MethodPost, "/admin/api/customers/"+strconv.FormatInt(c.ID, 10)+"/messages", "", `{"text":"hi"}`),
			http.StatusBadGateway, "telegram_unavailable")
	})
}
