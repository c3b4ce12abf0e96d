package pulse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
)

const ingestBotToken = "777000:AAE-ingest_Test"

// ingestSources are the migrations of the ingest and ETL tests: the
// customers and the outbox.
func ingestSources() []migrator.Source {
	return []migrator.Source{telegram.MigrationSource(), pulse.MigrationSource()}
}

// ingestServer is the ingest route mounted as the demo server mounts it:
// under /api behind the init data middleware.
type ingestServer struct {
	http.Handler
	db        migrator.DB
	pulse     *pulse.Pulse
	customers *telegram.CustomerStore
	clock     *clock
	links     *pulse.StartParamSerializer // mints the campaign links
	base      int64                       // events in the outbox before this server
}

// newIngestServer returns an ingest server over db with Pulse configured
// (but not started, so events stay in the outbox) and campaign links
// signed with a secret.
func newIngestServer(tb testing.TB, db migrator.DB) *ingestServer {
	tb.Helper()
	return newIngestServerWith(tb, db, nil)
}

// newIngestServerWith is newIngestServer with IngestConfig.OnResult set.
func newIngestServerWith(tb testing.TB, db migrator.DB, onResult func(pulse.IngestReport)) *ingestServer {
	tb.Helper()
	return newIngestServerCfg(tb, db, func(c *pulse.IngestConfig) { c.OnResult = onResult })
}

// newIngestServerCfg is newIngestServer with the IngestConfig edited.
func newIngestServerCfg(tb testing.TB, db migrator.DB, edit func(*pulse.IngestConfig)) *ingestServer {
	tb.Helper()
	clk := newClock()
	cfg := testConfig("http://127.0.0.1:9") // never started: nothing is sent
	cfg.Now = clk.Now
	p := MustNew(tb, db, cfg)
	store, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	links := pulse.NewStartParamSerializer("link-secret")
	icfg := pulse.IngestConfig{
		Pulse:       p,
		Customers:   store,
		Attribution: pulse.Attribution{StartParams: links},
		Logger:      slog.New(slog.DiscardHandler),
		Now:         clk.Now,
	}
	if edit != nil {
		edit(&icfg)
	}
	h, err := pulse.NewIngestHandler(icfg)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: ingestBotToken, Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	api := r.PathPrefix("/api").Subrouter()
	api.Use(v.Middleware)
	h.RegisterStorefrontRoutes(api)
	s := &ingestServer{Handler: r, db: db, pulse: p, customers: store, clock: clk, links: links}
	s.base = s.stored(tb) // subtests share the database
	return s
}

// link returns a signed start_param for campaign.
func (s *ingestServer) link(tb testing.TB, campaign string) string {
	tb.Helper()
	sp, err := s.links.Encode(pulse.StartParam{CampaignID: campaign, Source: "tg"})
	if err != nil {
		tb.Fatal(err)
	}
	return sp
}

// initData signs a launch of the Mini App by user userID with startParam;
// launch tells launches apart (the query_id), as Telegram does.
func (s *ingestServer) initData(userID int64, startParam, launch string) string {
	return telegram.SignInitData(ingestBotToken, telegram.SignParams{
		QueryID:    "AAH" + launch,
		User:       &telegram.User{ID: userID, FirstName: "Ann", LanguageCode: "en"},
		StartParam: startParam,
	}, s.clock.Now())
}

// post sends body to POST /api/ingest with initData ("" for none).
func (s *ingestServer) post(tb testing.TB, initData, body string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/ingest", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if initData != "" {
		r.Header.Set(telegram.HeaderInitData, initData)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// mustIngest posts body and returns the 200 answer, failing otherwise.
func (s *ingestServer) mustIngest(tb testing.TB, initData, body string) pulse.IngestResponse {
	tb.Helper()
	w := s.post(tb, initData, body)
	if w.Code != http.StatusOK {
		tb.Fatalf("status %d, want 200: %s", w.Code, w.Body)
	}
	var res pulse.IngestResponse
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		tb.Fatalf("decoding %s: %v", w.Body, err)
	}
	return res
}

// customer returns the stored customer of the Telegram user.
func (s *ingestServer) customer(tb testing.TB, tgID int64) telegram.Customer {
	tb.Helper()
	c, err := s.customers.GetByTelegramID(context.Background(), tgID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// stored returns how many events were stored since the server was made.
func (s *ingestServer) stored(tb testing.TB) int64 {
	tb.Helper()
	c := MustCounts(tb, s.pulse)
	return c.Pending + c.Sending + c.Sent + c.Failed - s.base
}

// ingestError is the JSON error shape.
type ingestError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// wantIngestError checks that w is a JSON error with status and returns it.
func wantIngestError(tb testing.TB, w *httptest.ResponseRecorder, status int) ingestError {
	tb.Helper()
	if w.Code != status {
		tb.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var e ingestError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		tb.Fatalf("not a JSON error (%v): %s", err, w.Body)
	}
	return e
}

// ingestBody builds a request body of events, each a JSON object literal.
func ingestBody(events ...string) string {
	return `{"events":[` + strings.Join(events, ",") + `]}`
}

// ingestPayloads is a payload each client event may carry (PayloadFields),
// for the tests that are not about payloads.
var ingestPayloads = map[string]string{
	pulse.EventWebAppOpen:    `{"platform":"ios"}`,
	pulse.EventProductView:   `{"product_id":42}`,
	pulse.EventAddToCart:     `{"product_id":42,"quantity":1}`,
	pulse.EventCartView:      `{"items":[{"product_id":42,"quantity":1}],"total":100}`,
	pulse.EventCheckoutStart: `{"items":1,"total":100}`,
	pulse.EventSearch:        `{"query":"tea","results":3}`,
}

// ingestEv is one event object for ingestBody, with a payload the event
// may carry ({} for the others).
func ingestEv(id, name string) string {
	payload, ok := ingestPayloads[name]
	if !ok {
		payload = `{}`
	}
	return fmt.Sprintf(`{"id":%q,"event":%q,"payload":%s}`, id, name, payload)
}

// initDataHash returns the hash field of init data.
func initDataHash(tb testing.TB, raw string) string {
	tb.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return v.Get("hash")
}

func TestIngest(t *testing.T) {
	migratortest.Each(t, ingestSources(), func(t *testing.T, db migrator.DB) {
		t.Run("OK", func(t *testing.T) {
			s := newIngestServer(t, db)
			now := s.clock.Now()
			raw := s.initData(101, s.link(t, "spring24"), "ok")
			occurred := now.Add(-time.Hour).In(time.FixedZone("MSK", 3*3600))

			// Ensure a first launch saves the customer, stores both
			// events with the server's attribution, and says so.
			res := s.mustIngest(t, raw, ingestBody(
				`{"id":"0b7f3c1e-4a5b-4c6d-8e9f-0a1b2c3d4e5f","event":"WEBAPP_OPEN","payload":{}}`,
				`{"id":"pv-1","event":"PRODUCT_VIEW","occurred_at":"`+occurred.Format(time.RFC3339Nano)+`","payload":{"product_id":42}}`,
			))
			if res != (pulse.IngestResponse{Accepted: 2}) {
				t.Fatalf("answer %+v, want 2 accepted", res)
			}
			c := s.customer(t, 101)
			open := MustLookup(t, s.pulse, "open:"+initDataHash(t, raw))
			view := MustLookup(t, s.pulse, "client:"+c.TrackingID+":pv-1")
			for _, e := range []pulse.StoredEvent{open, view} {
				if e.CampaignID != "spring24" || e.TrackingID != c.TrackingID || e.Status != pulse.StatusPending {
					t.Errorf("stored %+v, want campaign spring24 and tracking id %s", e, c.TrackingID)
				}
			}
			if open.Event != pulse.EventWebAppOpen || !open.OccurredAt.Equal(now) {
				t.Errorf("open: %s at %s, want WEBAPP_OPEN at %s (no occurred_at: the request's time)", open.Event, open.OccurredAt, now)
			}
			if view.Event != pulse.EventProductView || !view.OccurredAt.Equal(occurred) || string(view.Payload) != `{"product_id":42}` {
				t.Errorf("view: %s at %s with %s", view.Event, view.OccurredAt, view.Payload)
			}

			// Ensure the open recorded the campaign visit.
			if c.FirstCampaignID != "spring24" || c.LastCampaignID != "spring24" || c.LastCampaignAt == nil || !c.LastCampaignAt.Equal(now) {
				t.Errorf("customer campaigns %q/%q at %v, want spring24 at %s", c.FirstCampaignID, c.LastCampaignID, c.LastCampaignAt, now)
			}

			// Ensure an occurred_at slightly ahead (the phone's clock) is
			// clamped to the server's now, never stored in the future.
			ahead := now.Add(2 * time.Minute).Format(time.RFC3339)
			s.mustIngest(t, raw, ingestBody(`{"id":"pv-ahead","event":"SEARCH","occurred_at":"`+ahead+`","payload":{"query":"tea"}}`))
			if e := MustLookup(t, s.pulse, "client:"+c.TrackingID+":pv-ahead"); !e.OccurredAt.Equal(now) {
				t.Errorf("occurred_at %s stored, want it clamped to %s", e.OccurredAt, now)
			}
		})

		t.Run("ForgedAttribution", func(t *testing.T) {
			s := newIngestServer(t, db)
			raw := s.initData(102, s.link(t, "real"), "forged")

			// Ensure campaign_id and tracking_id in the body are refused as
			// unknown fields, wherever they are put, and nothing is stored.
			for _, body := range []string{
				ingestBody(`{"id":"e1","event":"PRODUCT_VIEW","campaign_id":"forged","payload":{}}`),
				ingestBody(`{"id":"e1","event":"PRODUCT_VIEW","tracking_id":"forged","payload":{}}`),
				ingestBody(`{"id":"e1","event":"PRODUCT_VIEW","idempotency_key":"forged","payload":{}}`),
				`{"campaign_id":"forged","events":[{"id":"e1","event":"PRODUCT_VIEW"}]}`,
				`{"tracking_id":"forged","events":[{"id":"e1","event":"PRODUCT_VIEW"}]}`,
			} {
				e := wantIngestError(t, s.post(t, raw, body), http.StatusBadRequest)
				if !strings.Contains(e.Error.Message, "unknown field") {
					t.Errorf("%s: message %q, want one about the unknown field", body, e.Error.Message)
				}
			}
			if n := s.stored(t); n != 0 {
				t.Fatalf("%d events stored from refused requests", n)
			}

			// Ensure ids inside the payload are refused too (no event may
			// carry them), and the stored attribution is the server's.
			e := wantIngestError(t, s.post(t, raw, ingestBody(`{"id":"e2","event":"ADD_TO_CART","payload":{"campaign_id":"forged","tracking_id":"forged"}}`)), http.StatusBadRequest)
			if !strings.Contains(e.Error.Message, `events[0]: payload field "campaign_id"`) {
				t.Errorf("message %q, want one naming the payload's campaign_id", e.Error.Message)
			}
			if n := s.stored(t); n != 0 {
				t.Fatalf("%d events stored from refused requests", n)
			}
			s.mustIngest(t, raw, ingestBody(ingestEv("e2", pulse.EventAddToCart)))
			c := s.customer(t, 102)
			stored := MustLookup(t, s.pulse, "client:"+c.TrackingID+":e2")
			if stored.CampaignID != "real" || stored.TrackingID != c.TrackingID {
				t.Fatalf("stored campaign %q tracking %q, want real and %s", stored.CampaignID, stored.TrackingID, c.TrackingID)
			}

			// Ensure an unsigned link (minted by anyone) credits nothing:
			// a new customer's events are dropped.
			unsigned, err := pulse.NewStartParamSerializer("").Encode(pulse.StartParam{CampaignID: "forged"})
			if err != nil {
				t.Fatal(err)
			}
			res := s.mustIngest(t, s.initData(103, unsigned, "unsigned"), ingestBody(
				`{"id":"o","event":"WEBAPP_OPEN"}`, ingestEv("e3", "PRODUCT_VIEW")))
			if res != (pulse.IngestResponse{Dropped: 2}) {
				t.Fatalf("answer %+v, want 2 dropped", res)
			}
			if c := s.customer(t, 103); c.FirstCampaignID != "" || c.LastCampaignID != "" {
				t.Fatalf("an unsigned link recorded campaigns %q/%q", c.FirstCampaignID, c.LastCampaignID)
			}
		})

		t.Run("DroppedWithoutAttribution", func(t *testing.T) {
			s := newIngestServer(t, db)
			before := s.pulse.Dropped()

			// Ensure events of a customer no campaign brought are dropped
			// and counted, in the answer and in Pulse.Dropped.
			res := s.mustIngest(t, s.initData(104, "", "plain"), ingestBody(
				`{"id":"o","event":"WEBAPP_OPEN"}`, ingestEv("v1", "PRODUCT_VIEW"), ingestEv("v2", "CART_VIEW")))
			if res != (pulse.IngestResponse{Dropped: 3}) {
				t.Fatalf("answer %+v, want 3 dropped", res)
			}
			if got := s.pulse.Dropped() - before; got != 3 {
				t.Fatalf("Dropped grew by %d, want 3", got)
			}
			if n := s.stored(t); n != 0 {
				t.Fatalf("%d events stored, want none", n)
			}
			// Ensure the customer was saved from the init data anyway.
			if c := s.customer(t, 104); c.FirstName != "Ann" || c.TrackingID == "" {
				t.Fatalf("customer %+v", c)
			}
		})

		t.Run("DuplicateClientEvent", func(t *testing.T) {
			s := newIngestServer(t, db)
			sp := s.link(t, "dup")
			raw := s.initData(105, sp, "dup")
			body := ingestBody(ingestEv("same-id", "ADD_TO_CART"))

			// Ensure a retried request stores the event once.
			if res := s.mustIngest(t, raw, body); res != (pulse.IngestResponse{Accepted: 1}) {
				t.Fatalf("first: %+v", res)
			}
			if res := s.mustIngest(t, raw, body); res != (pulse.IngestResponse{Duplicates: 1}) {
				t.Fatalf("retry: %+v, want 1 duplicate", res)
			}
			// Ensure the same id twice in one request is stored once too.
			if res := s.mustIngest(t, raw, ingestBody(ingestEv("twice", "SEARCH"), ingestEv("twice", "SEARCH"))); res != (pulse.IngestResponse{Accepted: 1, Duplicates: 1}) {
				t.Fatalf("twice in one request: %+v", res)
			}
			// Ensure client ids are scoped to the customer: another
			// customer's "same-id" is a different event.
			if res := s.mustIngest(t, s.initData(106, sp, "other"), body); res != (pulse.IngestResponse{Accepted: 1}) {
				t.Fatalf("another customer's same id: %+v, want accepted", res)
			}
			if n := s.stored(t); n != 3 {
				t.Fatalf("%d events stored, want 3", n)
			}
		})

		t.Run("ReloadOpensOnce", func(t *testing.T) {
			s := newIngestServer(t, db)
			raw := s.initData(107, s.link(t, "reload"), "launch")
			if res := s.mustIngest(t, raw, ingestBody(`{"id":"open-a","event":"WEBAPP_OPEN"}`)); res != (pulse.IngestResponse{Accepted: 1}) {
				t.Fatalf("open: %+v", res)
			}
			first := s.customer(t, 107)

			// Ensure a reload (same init data, a new client id, later) is
			// a duplicate and changes neither the outbox nor the visit,
			// even with the hash in upper case.
			s.clock.Advance(10 * time.Minute)
			upper := strings.Replace(raw, initDataHash(t, raw), strings.ToUpper(initDataHash(t, raw)), 1)
			for _, id := range []string{raw, upper} {
				if res := s.mustIngest(t, id, ingestBody(`{"id":"open-b","event":"WEBAPP_OPEN"}`, `{"id":"open-c","event":"WEBAPP_OPEN"}`)); res != (pulse.IngestResponse{Duplicates: 2}) {
					t.Fatalf("reload: %+v, want 2 duplicates", res)
				}
			}
			if n := s.stored(t); n != 1 {
				t.Fatalf("%d events stored, want 1", n)
			}
			if c := s.customer(t, 107); !c.LastCampaignAt.Equal(*first.LastCampaignAt) {
				t.Fatalf("reload moved last_campaign_at from %s to %s", first.LastCampaignAt, c.LastCampaignAt)
			}
		})

		t.Run("FirstAndLastCampaign", func(t *testing.T) {
			s := newIngestServer(t, db)
			s.mustIngest(t, s.initData(108, s.link(t, "autumn"), "1"), ingestBody(`{"id":"o1","event":"WEBAPP_OPEN"}`))
			t1 := s.clock.Now()

			// Ensure a second campaign's launch keeps the first campaign
			// and moves the last one.
			s.clock.Advance(time.Hour)
			t2 := s.clock.Now()
			s.mustIngest(t, s.initData(108, s.link(t, "winter"), "2"), ingestBody(`{"id":"o2","event":"WEBAPP_OPEN"}`))
			c := s.customer(t, 108)
			if c.FirstCampaignID != "autumn" || !c.FirstCampaignAt.Equal(t1) || c.LastCampaignID != "winter" || !c.LastCampaignAt.Equal(t2) {
				t.Fatalf("campaigns first %q at %v, last %q at %v; want autumn at %s, winter at %s",
					c.FirstCampaignID, c.FirstCampaignAt, c.LastCampaignID, c.LastCampaignAt, t1, t2)
			}

			// Ensure a launch without a link is credited to the stored
			// campaign but does not refresh it.
			s.clock.Advance(time.Hour)
			raw := s.initData(108, "", "3")
			if res := s.mustIngest(t, raw, ingestBody(`{"id":"o3","event":"WEBAPP_OPEN"}`, ingestEv("v", "PRODUCT_VIEW"))); res != (pulse.IngestResponse{Accepted: 2}) {
				t.Fatalf("launch without a link: %+v", res)
			}
			if e := MustLookup(t, s.pulse, "open:"+initDataHash(t, raw)); e.CampaignID != "winter" {
				t.Fatalf("credited to %q, want the stored winter", e.CampaignID)
			}
			if c := s.customer(t, 108); !c.LastCampaignAt.Equal(t2) {
				t.Fatalf("a launch without a link moved last_campaign_at to %s", c.LastCampaignAt)
			}
		})

		t.Run("BadEventAtIndex3", func(t *testing.T) {
			s := newIngestServer(t, db)
			raw := s.initData(109, s.link(t, "bad"), "bad")
			now := s.clock.Now()
			for _, tt := range []struct {
				name, event, reason string
			}{
				{"ServerEvent", `{"id":"x","event":"ORDER_CREATED","payload":{}}`, "server event"},
				{"UnknownEvent", `{"id":"x","event":"PAGE_VIEW","payload":{}}`, "not a known event"},
				{"MissingEvent", `{"id":"x","payload":{}}`, "event is missing"},
				{"MissingID", `{"event":"SEARCH"}`, "id is missing"},
				{"BadID", `{"id":"a b","event":"SEARCH"}`, "id must be"},
				{"LongID", `{"id":"` + strings.Repeat("a", 65) + `","event":"SEARCH"}`, "id must be"},
				{"BadTime", `{"id":"x","event":"SEARCH","occurred_at":"yesterday"}`, "occurred_at is not"},
				{"OldTime", `{"id":"x","event":"SEARCH","occurred_at":"` + now.Add(-31*24*time.Hour).Format(time.RFC3339) + `"}`, "in the past"},
				{"FutureTime", `{"id":"x","event":"SEARCH","occurred_at":"` + now.Add(10*time.Minute).Format(time.RFC3339) + `"}`, "in the future"},
				{"PayloadArray", `{"id":"x","event":"SEARCH","payload":[1]}`, "JSON object"},
				{"PayloadString", `{"id":"x","event":"SEARCH","payload":"{}"}`, "JSON object"},
				{"PayloadTooLarge", `{"id":"x","event":"SEARCH","payload":{"query":"` + strings.Repeat("a", 4100) + `"}}`, "at most 4096"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					// Ensure the answer names index 3 and the reason, and
					// nothing of the request is stored: not the good
					// events before and after it, not the open's visit,
					// not even the customer.
					body := ingestBody(`{"id":"o","event":"WEBAPP_OPEN"}`, ingestEv("g1", "PRODUCT_VIEW"),
						ingestEv("g2", "CART_VIEW"), tt.event, ingestEv("g4", "CHECKOUT_START"))
					e := wantIngestError(t, s.post(t, raw, body), http.StatusBadRequest)
					if !strings.Contains(e.Error.Message, "events[3]") || !strings.Contains(e.Error.Message, tt.reason) {
						t.Errorf("message %q, want events[3] and %q", e.Error.Message, tt.reason)
					}
					if len(e.Error.Fields) != 1 || !strings.Contains(e.Error.Fields["events[3]"], tt.reason) {
						t.Errorf("fields %v, want events[3] only", e.Error.Fields)
					}
				})
			}
			// Ensure several bad events are all listed, the first named.
			e := wantIngestError(t, s.post(t, raw, ingestBody(ingestEv("g0", "SEARCH"), ingestEv("b1", "MESSAGE_SENT"),
				ingestEv("g2", "SEARCH"), ingestEv("b 3", "SEARCH"))), http.StatusBadRequest)
			if !strings.HasPrefix(e.Error.Message, "events[1]: ") || len(e.Error.Fields) != 2 || e.Error.Fields["events[3]"] == "" {
				t.Errorf("several bad events: %+v", e.Error)
			}
			if n := s.stored(t); n != 0 {
				t.Fatalf("%d events stored from refused requests", n)
			}
			if _, err := s.customers.GetByTelegramID(context.Background(), 109); err == nil {
				t.Fatal("a refused request saved the customer")
			}
		})

		t.Run("PersonalDataInPayload", func(t *testing.T) {
			s := newIngestServer(t, db)
			raw := s.initData(113, s.link(t, "pii"), "pii")
			for _, tt := range []struct {
				name, event, field string
			}{
				{"TopLevel", `{"id":"x","event":"PRODUCT_VIEW","payload":{"product_id":42,"name":"Zinaida","phone":"+7 900"}}`, `payload field "name"`},
				{"Escaped", `{"id":"x","event":"SEARCH","payload":{"query":"tea","n\u0061me":"Zinaida"}}`, `payload field "name"`},
				{"Nested", `{"id":"x","event":"CART_VIEW","payload":{"items":[{"product_id":42,"name":"Zinaida"}]}}`, `payload field "items[].name"`},
				{"InsideListedField", `{"id":"x","event":"CHECKOUT_START","payload":{"items":[{"name":"Zinaida"}]}}`, `payload field "items" must hold a string`},
				{"InsideNestedField", `{"id":"x","event":"CART_VIEW","payload":{"items":[{"product_id":{"name":"Zinaida"}}]}}`, `payload field "items[].product_id" must hold`},
				{"ObjectForArray", `{"id":"x","event":"CART_VIEW","payload":{"items":{"name":"Zinaida"}}}`, `payload field "items"`},
				{"OtherEventsField", `{"id":"x","event":"WEBAPP_OPEN","payload":{"platform":"ios","query":"Zinaida"}}`, `payload field "query"`},
				{"RepeatedKey", `{"id":"x","event":"SEARCH","payload":{"query":{"name":"Zinaida","phone":"+7 900"},"query":"tea"}}`, `payload field "query" appears twice`},
				{"RepeatedNestedKey", `{"id":"x","event":"CART_VIEW","payload":{"items":[{"product_id":"Zinaida","product_id":42}]}}`, `payload field "product_id" appears twice`},
			} {
				t.Run(tt.name, func(t *testing.T) {
					// Ensure a payload field off the event's list is a 400
					// naming the event's index and the field, and nothing
					// of the request is stored: not the good events around
					// it, not the customer.
					body := ingestBody(ingestEv("o", pulse.EventWebAppOpen), ingestEv("g1", pulse.EventProductView), tt.event,
						ingestEv("g3", pulse.EventSearch))
					e := wantIngestError(t, s.post(t, raw, body), http.StatusBadRequest)
					if e.Error.Code != "invalid_event" || !strings.HasPrefix(e.Error.Message, "events[2]: "+tt.field) ||
						!strings.Contains(e.Error.Message, "nothing was stored") {
						t.Errorf("%s %q, want invalid_event naming events[2] and %s", e.Error.Code, e.Error.Message, tt.field)
					}
					if len(e.Error.Fields) != 1 || !strings.HasPrefix(e.Error.Fields["events[2]"], tt.field) {
						t.Errorf("fields %v, want events[2] only", e.Error.Fields)
					}
				})
			}
			if n := s.stored(t); n != 0 {
				t.Fatalf("%d events stored from refused requests", n)
			}
			if _, err := s.customers.GetByTelegramID(context.Background(), 113); err == nil {
				t.Fatal("a refused request saved the customer")
			}
			var n int
			if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+db.Table(pulse.OutboxTable)+
				" WHERE payload LIKE ?", "%Zinaida%").Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d stored payloads name the person (%v)", n, err)
			}
			// Ensure the allowed fields pass, every client event's.
			res := s.mustIngest(t, raw, ingestBody(ingestEv("o", pulse.EventWebAppOpen), ingestEv("a1", pulse.EventProductView),
				ingestEv("a2", pulse.EventAddToCart), ingestEv("a3", pulse.EventCartView), ingestEv("a4", pulse.EventCheckoutStart),
				ingestEv("a5", pulse.EventSearch)))
			if res.Accepted != 6 {
				t.Fatalf("allowed payloads: %+v", res)
			}
		})

		t.Run("ErasedCustomer", func(t *testing.T) {
			s := newIngestServer(t, db)
			ctx := context.Background()
			raw := s.initData(114, s.link(t, "erase"), "before")
			s.mustIngest(t, raw, ingestBody(ingestEv("o", pulse.EventWebAppOpen), ingestEv("e1", pulse.EventProductView)))
			old := s.customer(t, 114)
			// The handler now holds the customer in its cache; the clock
			// stands still, so only the erasure can end the entry.
			s.mustIngest(t, raw, ingestBody(ingestEv("e2", pulse.EventProductView)))
			if _, err := s.customers.Erase(ctx, old.ID); err != nil {
				t.Fatal(err)
			}

			// Ensure the same person's next events, from a new launch, make
			// a new customer with a new tracking id and are stored under it,
			// and none lands on the erased one.
			res := s.mustIngest(t, s.initData(114, s.link(t, "erase"), "after"),
				ingestBody(ingestEv("o", pulse.EventWebAppOpen), ingestEv("e3", pulse.EventProductView)))
			if res.Accepted != 2 {
				t.Fatalf("answer %+v, want 2 accepted", res)
			}
			again := s.customer(t, 114)
			if again.ID == old.ID || again.TrackingID == old.TrackingID || again.Erased() {
				t.Fatalf("returning user %+v; the erased customer was %d (%s)", again, old.ID, old.TrackingID)
			}
			MustLookup(t, s.pulse, "client:"+again.TrackingID+":e3")
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+db.Table(pulse.OutboxTable)+" WHERE tracking_id = ?",
				old.TrackingID).Scan(&n); err != nil || n != 3 {
				t.Fatalf("%d events under the erased tracking id, want the 3 from before the erasure (%v)", n, err)
			}
			// The same launch's events from a page left open also go to the
			// new customer.
			s.mustIngest(t, raw, ingestBody(ingestEv("e4", pulse.EventProductView)))
			MustLookup(t, s.pulse, "client:"+again.TrackingID+":e4")
		})

		t.Run("Bounds", func(t *testing.T) {
			s := newIngestServer(t, db)
			raw := s.initData(110, s.link(t, "bounds"), "bounds")
			events := func(prefix string, n int) string {
				evs := make([]string, n)
				for i := range evs {
					evs[i] = ingestEv(fmt.Sprintf("%s-%d", prefix, i), "PRODUCT_VIEW")
				}
				return ingestBody(evs...)
			}
			// Ensure 1 and 50 events are taken, 0 and 51 refused.
			if res := s.mustIngest(t, raw, events("one", 1)); res.Accepted != 1 {
				t.Fatalf("1 event: %+v", res)
			}
			if res := s.mustIngest(t, raw, events("fifty", 50)); res.Accepted != 50 {
				t.Fatalf("50 events: %+v", res)
			}
			for _, body := range []string{events("none", 0), events("many", 51), `{}`, `{"events":null}`} {
				e := wantIngestError(t, s.post(t, raw, body), http.StatusBadRequest)
				if !strings.Contains(e.Error.Message, "1 to 50") {
					t.Errorf("%.40s: message %q", body, e.Error.Message)
				}
			}
			if n := s.stored(t); n != 51 {
				t.Fatalf("%d events stored, want 51", n)
			}

			// Ensure bodies that are not one JSON object are refused.
			for _, body := range []string{"", "not json", `{"events":[`, `[]`, `{"events":[]} {}`, `{"events":{}}`} {
				wantIngestError(t, s.post(t, raw, body), http.StatusBadRequest)
			}
		})

		t.Run("TooLarge", func(t *testing.T) {
			s := newIngestServer(t, db)
			raw := s.initData(111, s.link(t, "big"), "big")
			// Ensure a body over 64 KiB is 413, even made of valid events.
			var evs []string
			for i := range 20 {
				evs = append(evs, fmt.Sprintf(`{"id":"big-%d","event":"SEARCH","payload":{"query":%q}}`, i, strings.Repeat("q", 3500)))
			}
			body := ingestBody(evs...)
			if len(body) <= 64<<10 {
				t.Fatalf("body is only %d bytes", len(body))
			}
			if e := wantIngestError(t, s.post(t, raw, body), http.StatusRequestEntityTooLarge); e.Error.Code != "body_too_large" {
				t.Fatalf("code %q", e.Error.Code)
			}
			if n := s.stored(t); n != 0 {
				t.Fatalf("%d events stored", n)
			}
		})

		t.Run("Unauthorized", func(t *testing.T) {
			s := newIngestServer(t, db)
			body := ingestBody(ingestEv("u", "PRODUCT_VIEW"))
			// Ensure no init data, a wrong signature, and init data of
			// another bot are all 401 and store nothing.
			other := telegram.SignInitData("1:other", telegram.SignParams{User: &telegram.User{ID: 112, FirstName: "M"}}, s.clock.Now())
			tampered := strings.Replace(s.initData(112, "", "t"), "Ann", "Bob", 1)
			for _, raw := range []string{"", other, tampered} {
				if e := wantIngestError(t, s.post(t, raw, body), http.StatusUnauthorized); e.Error.Code != "invalid_init_data" {
					t.Errorf("code %q", e.Error.Code)
				}
			}
			// Ensure init data without a user is 401 too.
			noUser := telegram.SignInitData(ingestBotToken, telegram.SignParams{QueryID: "q"}, s.clock.Now())
			wantIngestError(t, s.post(t, noUser, body), http.StatusUnauthorized)
			if n := s.stored(t); n != 0 {
				t.Fatalf("%d events stored", n)
			}
		})

		t.Run("Concurrent", func(t *testing.T) {
			s := newIngestServer(t, db)
			raw := s.initData(113, s.link(t, "race"), "race")
			// Ensure concurrent requests of one customer with the same
			// events in opposite orders neither fail (no deadlock escapes)
			// nor store an event twice.
			fwd := ingestBody(`{"id":"o","event":"WEBAPP_OPEN"}`, ingestEv("a", "PRODUCT_VIEW"), ingestEv("b", "PRODUCT_VIEW"), ingestEv("c", "ADD_TO_CART"))
			rev := ingestBody(ingestEv("c", "ADD_TO_CART"), ingestEv("b", "PRODUCT_VIEW"), ingestEv("a", "PRODUCT_VIEW"), `{"id":"o","event":"WEBAPP_OPEN"}`)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var accepted, dups int
			for i := range 8 {
				body := fwd
				if i%2 == 1 {
					body = rev
				}
				wg.Go(func() {
					w := s.post(t, raw, body)
					if w.Code != http.StatusOK {
						t.Errorf("status %d: %s", w.Code, w.Body)
						return
					}
					var res pulse.IngestResponse
					_ = json.Unmarshal(w.Body.Bytes(), &res)
					mu.Lock()
					accepted += res.Accepted
					dups += res.Duplicates
					mu.Unlock()
				})
			}
			wg.Wait()
			if accepted != 4 || dups != 28 {
				t.Fatalf("accepted %d, duplicates %d; want 4 and 28", accepted, dups)
			}
			if n := s.stored(t); n != 4 {
				t.Fatalf("%d events stored, want 4", n)
			}
		})
	})
}

func TestNewIngestHandler(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, ingestSources()...)
	p := MustNew(t, db, pulse.Config{})
	store, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// Ensure setup mistakes are named after the field at fault.
	for _, tt := range []struct {
		cfg  pulse.IngestConfig
		want string
	}{
		{pulse.IngestConfig{Customers: store}, "Pulse"},
		{pulse.IngestConfig{Pulse: p}, "Customers"},
		{pulse.IngestConfig{Pulse: p, Customers: store, Attribution: pulse.Attribution{Window: -time.Hour}}, "Window"},
	} {
		if _, err := pulse.NewIngestHandler(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewIngestHandler = %v, want an error about %s", err, tt.want)
		}
	}
	if _, err := pulse.NewIngestHandler(pulse.IngestConfig{Pulse: p, Customers: store}); err != nil {
		t.Fatal(err)
	}
}

func TestIngestPulseOff(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, ingestSources()...)
	s := newIngestServer(t, db)
	if err := s.pulse.SetCredentials("", "", ""); err != nil {
		t.Fatal(err)
	}
	// Ensure that with Pulse off the events are dropped and counted, but
	// the launch's campaign is still recorded on the customer: it is the
	// shop's own data.
	res := s.mustIngest(t, s.initData(120, s.link(t, "off"), "off"), ingestBody(`{"id":"o","event":"WEBAPP_OPEN"}`))
	if res != (pulse.IngestResponse{Dropped: 1}) {
		t.Fatalf("answer %+v, want 1 dropped", res)
	}
	if c := s.customer(t, 120); c.FirstCampaignID != "off" {
		t.Fatalf("first campaign %q, want off", c.FirstCampaignID)
	}
}

// TestIngestRateLimit ensures one customer's flood is held to the rate: a
// request over it is a 429 with Retry-After and stores nothing, other
// customers are not affected, and the bucket refills with time.
func TestIngestRateLimit(t *testing.T) {
	migratortest.Each(t, ingestSources(), func(t *testing.T, db migrator.DB) {
		const rate = 60
		var refused int
		s := newIngestServerCfg(t, db, func(c *pulse.IngestConfig) {
			c.Rate = rate
			c.OnResult = func(r pulse.IngestReport) {
				if tcerr.KindOf(r.Err) == tcerr.RateLimited {
					refused++
				}
			}
		})
		flooder := s.initData(501, s.link(t, "flood"), "a")
		batch := func(prefix string, n int) string {
			evs := make([]string, n)
			for i := range evs {
				evs[i] = ingestEv(fmt.Sprintf("%s-%d", prefix, i), pulse.EventAddToCart)
			}
			return ingestBody(evs...)
		}
		// A burst of the whole rate passes, 50 + 10.
		if res := s.mustIngest(t, flooder, batch("a", 50)); res.Accepted != 50 {
			t.Fatalf("first batch: %+v", res)
		}
		if res := s.mustIngest(t, flooder, batch("b", 10)); res.Accepted != 10 {
			t.Fatalf("second batch: %+v", res)
		}
		// The flood goes on: every request is refused whole.
		before := s.stored(t)
		for i := range 20 {
			w := s.post(t, flooder, batch(fmt.Sprintf("c%d", i), 50))
			e := wantIngestError(t, w, http.StatusTooManyRequests)
			secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
			if err != nil || secs < 1 || secs > 60 || e.Error.Code != "rate_limited" {
				t.Fatalf("429 with Retry-After %q, code %q", w.Header().Get("Retry-After"), e.Error.Code)
			}
		}
		if got := s.stored(t); got != before {
			t.Fatalf("refused requests stored %d events", got-before)
		}
		if refused != 20 {
			t.Fatalf("OnResult saw %d rate-limited requests, want 20", refused)
		}
		// Another customer is not held back by the first one's flood.
		other := s.initData(502, s.link(t, "flood"), "b")
		if res := s.mustIngest(t, other, batch("d", 5)); res.Accepted != 5 {
			t.Fatalf("another customer: %+v", res)
		}
		// After Retry-After, the flooder may send again, at the rate.
		w := s.post(t, flooder, batch("e", 30))
		secs, _ := strconv.Atoi(w.Header().Get("Retry-After"))
		s.clock.Advance(time.Duration(secs) * time.Second)
		if res := s.mustIngest(t, flooder, batch("e", 30)); res.Accepted != 30 {
			t.Fatalf("after waiting: %+v", res)
		}
	})
}
