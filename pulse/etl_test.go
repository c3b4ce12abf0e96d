package pulse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"
	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

const etlKey = "etl-key-0123456789"

// etlFakeSource is a CustomerSource over a slice, recording the queries.
type etlFakeSource struct {
	mu        sync.Mutex
	customers []pulse.ETLCustomer // by id ascending
	queries   []pulse.ETLQuery
	err       error
}

func (f *etlFakeSource) CustomersSince(_ context.Context, q pulse.ETLQuery) ([]pulse.ETLCustomer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	var out []pulse.ETLCustomer
	for _, c := range f.customers {
		if c.ID > q.AfterID && !c.UpdatedAt.Before(q.UpdatedSince) && len(out) < q.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *etlFakeSource) CountSince(_ context.Context, since time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	var n int64
	for _, c := range f.customers {
		if !c.UpdatedAt.Before(since) {
			n++
		}
	}
	return n, nil
}

func (f *etlFakeSource) lastQuery() pulse.ETLQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[len(f.queries)-1]
}

// etlServer is the ETL routes mounted under /pulse/etl, with a key that
// tests can change at run time.
type etlServer struct {
	http.Handler
	key atomic.Pointer[string]
}

func newETLServer(tb testing.TB, src pulse.CustomerSource, maxLimit, defaultLimit int) *etlServer {
	tb.Helper()
	s := &etlServer{}
	key := etlKey
	s.key.Store(&key)
	h, err := pulse.NewETLHandler(pulse.ETLConfig{
		Source:       src,
		APIKey:       func() string { return *s.key.Load() },
		Logger:       slog.New(slog.DiscardHandler),
		MaxLimit:     maxLimit,
		DefaultLimit: defaultLimit,
	})
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	h.RegisterRoutes(r.PathPrefix("/pulse/etl").Subrouter())
	s.Handler = r
	return s
}

func (s *etlServer) setKey(k string) { s.key.Store(&k) }

// mustTableSource returns the ETL source over the customers store.
func mustTableSource(tb testing.TB, store *telegram.CustomerStore) *pulse.CustomersTableSource {
	tb.Helper()
	src, err := pulse.NewCustomersTableSource(pulse.CustomersTableSourceConfig{Customers: store})
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// get serves GET path with headers (name, value pairs).
func (s *etlServer) get(path string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// etlPage is the answer of /customers with the data kept raw too.
type etlPage struct {
	Data       []pulse.ETLCustomer `json:"data"`
	NextCursor *string             `json:"next_cursor"`
}

// mustPage gets one page with the right key and decodes it.
func (s *etlServer) mustPage(tb testing.TB, q url.Values) (etlPage, string) {
	tb.Helper()
	w := s.get("/pulse/etl/customers?"+q.Encode(), pulse.HeaderAPIKey, etlKey)
	if w.Code != http.StatusOK {
		tb.Fatalf("GET customers?%s: status %d: %s", q.Encode(), w.Code, w.Body)
	}
	var p etlPage
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		tb.Fatalf("decoding %s: %v", w.Body, err)
	}
	if p.Data == nil {
		tb.Fatalf("data is not an array: %s", w.Body)
	}
	return p, w.Body.String()
}

// walk fetches every page from the start and returns the ids in order,
// calling between (when not nil) after each page.
func (s *etlServer) walk(tb testing.TB, q url.Values, between func()) []int64 {
	tb.Helper()
	q = etlCloneValues(q)
	var ids []int64
	for pages := 0; ; pages++ {
		if pages > 100000 {
			tb.Fatal("the walk does not end")
		}
		p, _ := s.mustPage(tb, q)
		for _, c := range p.Data {
			ids = append(ids, c.ID)
		}
		if p.NextCursor == nil {
			return ids
		}
		q.Set("cursor", *p.NextCursor)
		if between != nil {
			between()
		}
	}
}

func etlCloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// fakeCustomers returns n customers with ids 1..n, updated a minute apart
// from base.
func fakeCustomers(n int, base time.Time) []pulse.ETLCustomer {
	out := make([]pulse.ETLCustomer, n)
	for i := range out {
		at := base.Add(time.Duration(i) * time.Minute)
		out[i] = pulse.ETLCustomer{Customer: telegram.Customer{ID: int64(i + 1), TelegramUserID: int64(5000 + i),
			TrackingID: fmt.Sprintf("trk-%d", i+1), CreatedAt: at, UpdatedAt: at}}
	}
	return out
}

func TestETLAuth(t *testing.T) {
	src := &etlFakeSource{customers: fakeCustomers(3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	s := newETLServer(t, src, 0, 0)
	for _, path := range []string{"/pulse/etl/customers", "/pulse/etl/customers/meta"} {
		t.Run(path, func(t *testing.T) {
			// Ensure both headers work, the scheme in any case.
			for _, h := range [][]string{
				{pulse.HeaderAPIKey, etlKey},
				{"Authorization", "Bearer " + etlKey},
				{"Authorization", "bearer " + etlKey},
			} {
				if w := s.get(path, h...); w.Code != http.StatusOK {
					t.Errorf("%v: status %d: %s", h, w.Code, w.Body)
				}
			}
			// Ensure a wrong, missing, or malformed key is 401 JSON.
			for _, h := range [][]string{
				nil,
				{pulse.HeaderAPIKey, ""},
				{pulse.HeaderAPIKey, etlKey + "x"},
				{pulse.HeaderAPIKey, etlKey[:len(etlKey)-1]},
				{pulse.HeaderAPIKey, strings.ToUpper(etlKey)},
				{pulse.HeaderAPIKey, etlKey, pulse.HeaderAPIKey, etlKey},
				{"Authorization", etlKey},
				{"Authorization", "Basic " + etlKey},
				{"Authorization", "Bearer"},
				{"Authorization", "Bearer wrong"},
				// X-Api-Key decides when present, even beside a right Bearer.
				{pulse.HeaderAPIKey, "wrong", "Authorization", "Bearer " + etlKey},
			} {
				w := s.get(path, h...)
				e := wantIngestError(t, w, http.StatusUnauthorized)
				if e.Error.Code != "unauthorized" || w.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%v: code %q, WWW-Authenticate %q", h, e.Error.Code, w.Header().Get("WWW-Authenticate"))
				}
			}
		})
	}

	// Ensure a key changed in the settings applies at once.
	s.setKey("new-key")
	wantIngestError(t, s.get("/pulse/etl/customers", pulse.HeaderAPIKey, etlKey), http.StatusUnauthorized)
	if w := s.get("/pulse/etl/customers", pulse.HeaderAPIKey, "new-key"); w.Code != http.StatusOK {
		t.Fatalf("new key: status %d", w.Code)
	}

	// Ensure an empty configured key refuses everything, an empty
	// presented key included.
	s.setKey("")
	for _, h := range [][]string{nil, {pulse.HeaderAPIKey, ""}, {"Authorization", "Bearer "}, {pulse.HeaderAPIKey, etlKey}} {
		for _, path := range []string{"/pulse/etl/customers", "/pulse/etl/customers/meta"} {
			wantIngestError(t, s.get(path, h...), http.StatusUnauthorized)
		}
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.queries) != 4 {
		t.Fatalf("the source was asked for %d pages, want 4 (the authorized requests only)", len(src.queries))
	}
}

func TestETLParams(t *testing.T) {
	src := &etlFakeSource{customers: fakeCustomers(10, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	s := newETLServer(t, src, 5, 3)

	// Ensure the defaults and the parameters reach the source: one row
	// more than the limit (to know whether a page follows), updated_since
	// in UTC whatever its offset, and the cursor's id.
	p, _ := s.mustPage(t, url.Values{})
	if q := src.lastQuery(); q != (pulse.ETLQuery{Limit: 4}) || len(p.Data) != 3 || p.NextCursor == nil {
		t.Fatalf("default page: query %+v, %d rows, cursor %v", q, len(p.Data), p.NextCursor)
	}
	p, _ = s.mustPage(t, url.Values{"limit": {"5"}, "updated_since": {"2026-01-01T03:02:00+03:00"}, "cursor": {*p.NextCursor}})
	want := pulse.ETLQuery{UpdatedSince: time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC), AfterID: 3, Limit: 6}
	if q := src.lastQuery(); q != want || q.UpdatedSince.Location() != time.UTC {
		t.Fatalf("query %+v, want %+v", q, want)
	}
	if len(p.Data) != 5 || p.Data[0].ID != 4 {
		t.Fatalf("page %+v", p.Data)
	}
	// Ensure an unescaped '+' in the offset (a space after decoding) is
	// understood.
	if w := s.get("/pulse/etl/customers?updated_since=2026-01-01T03:02:00+03:00", pulse.HeaderAPIKey, etlKey); w.Code != http.StatusOK {
		t.Fatalf("unescaped +: %d %s", w.Code, w.Body)
	}
	if q := src.lastQuery(); !q.UpdatedSince.Equal(want.UpdatedSince) {
		t.Fatalf("unescaped +: since %s", q.UpdatedSince)
	}

	// Ensure bad parameters are 400 JSON naming the parameter, on both
	// routes where they apply, and never reach the source.
	asked := len(src.queries)
	for _, tt := range []struct {
		query, word string
		meta        bool
	}{
		{"updated_since=yesterday", "updated_since", true},
		{"updated_since=2026-01-01", "updated_since", true},
		{"updated_since=2026-01-01T00:00:00Z&updated_since=2026-01-02T00:00:00Z", "updated_since", true},
		{"limit=0", "limit", true},
		{"limit=-1", "limit", true},
		{"limit=6", "limit", true},
		{"limit=abc", "limit", true},
		{"limit=1.5", "limit", true},
		{"limit=99999999999999999999", "limit", true},
		{"cursor=x", "cursor", false},
		{"cursor=v1.", "cursor", false},
		{"cursor=v2.AAAAAAAAAAM", "cursor", false},    // an unknown version
		{"cursor=v1.AAAAAAAAAAA", "cursor", false},    // id 0
		{"cursor=v1.gAAAAAAAAAA", "cursor", false},    // beyond int64
		{"cursor=v1.AAAAAAAAAAM%3D", "cursor", false}, // padded
		{"cursor=v1.AAAAAAAAAAN", "cursor", false},    // non-canonical trailing bits
		{"cursor=v1.AAAAAAAAAAAAAw", "cursor", false}, // too long
		{"cursor=v1.AAAAAAAAAAM&cursor=v1.AAAAAAAAAAQ", "cursor", false},
	} {
		paths := []string{"/pulse/etl/customers"}
		if tt.meta {
			paths = append(paths, "/pulse/etl/customers/meta")
		}
		for _, path := range paths {
			e := wantIngestError(t, s.get(path+"?"+tt.query, pulse.HeaderAPIKey, etlKey), http.StatusBadRequest)
			if !strings.Contains(e.Error.Message, tt.word) {
				t.Errorf("%s?%s: message %q, want one about %s", path, tt.query, e.Error.Message, tt.word)
			}
		}
	}
	if len(src.queries) != asked {
		t.Fatal("a bad request reached the source")
	}

	// Ensure a well-formed cursor (id 3) is taken, and the walk ends with
	// a null cursor, also when the last page is full.
	if w := s.get("/pulse/etl/customers?cursor=v1.AAAAAAAAAAM", pulse.HeaderAPIKey, etlKey); w.Code != http.StatusOK || src.lastQuery().AfterID != 3 {
		t.Fatalf("cursor v1.AAAAAAAAAAM: %d, query %+v", w.Code, src.lastQuery())
	}
	p, raw := s.mustPage(t, url.Values{"limit": {"5"}, "cursor": {"v1.AAAAAAAAAAU"}}) // after id 5: 6..10, a full last page
	if len(p.Data) != 5 || p.NextCursor != nil || !strings.Contains(raw, `"next_cursor":null`) {
		t.Fatalf("last page: %s", raw)
	}
	if ids := s.walk(t, url.Values{"limit": {"4"}}, nil); !slices.Equal(ids, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Fatalf("walk: %v", ids)
	}

	// Ensure meta counts pages by the limit.
	for _, tt := range []struct {
		query string
		want  pulse.ETLMeta
	}{
		{"", pulse.ETLMeta{Total: 10, Limit: 3, Pages: 4}},
		{"limit=5", pulse.ETLMeta{Total: 10, Limit: 5, Pages: 2}},
		{"limit=5&updated_since=2026-01-01T00:06:00Z", pulse.ETLMeta{Total: 4, Limit: 5, Pages: 1}},
		{"updated_since=2027-01-01T00:00:00Z", pulse.ETLMeta{Total: 0, Limit: 3, Pages: 0}},
	} {
		w := s.get("/pulse/etl/customers/meta?"+tt.query, pulse.HeaderAPIKey, etlKey)
		var m pulse.ETLMeta
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || w.Code != http.StatusOK || m != tt.want {
			t.Errorf("meta?%s: %d %s, want %+v", tt.query, w.Code, w.Body, tt.want)
		}
	}

	// Ensure a failing source is a 500 that does not leak its error.
	src.mu.Lock()
	src.err = errors.New("connection refused to db.internal:3306")
	src.mu.Unlock()
	for _, path := range []string{"/pulse/etl/customers", "/pulse/etl/customers/meta"} {
		w := s.get(path, pulse.HeaderAPIKey, etlKey)
		if e := wantIngestError(t, w, http.StatusInternalServerError); strings.Contains(e.Error.Message, "db.internal") {
			t.Fatalf("leaked: %s", w.Body)
		}
	}
}

// etlTimeRE matches every JSON string that looks like a time.
var etlTimeRE = regexp.MustCompile(`"(\d{4}-\d\d-\d\dT[^"]*)"`)

func TestETLTimesUTC(t *testing.T) {
	// Ensure times are answered in UTC with Z, whatever zone the source
	// returned them in, and absent ones as null.
	msk := time.FixedZone("MSK", 3*3600)
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456000, msk)
	src := &etlFakeSource{customers: []pulse.ETLCustomer{
		{Customer: telegram.Customer{ID: 1, TrackingID: "a", OrdersCount: 2, PrivacyConsentedAt: &at, CreatedAt: at, UpdatedAt: at},
			TotalSpent: 1990, Currency: "EUR", FirstOrderAt: &at, LastOrderAt: &at},
		{Customer: telegram.Customer{ID: 2, TrackingID: "b", CreatedAt: at, UpdatedAt: at}},
	}}
	s := newETLServer(t, src, 0, 0)
	p, raw := s.mustPage(t, url.Values{})
	times := etlTimeRE.FindAllStringSubmatch(raw, -1)
	if len(times) != 7 {
		t.Fatalf("%d times in %s, want 7", len(times), raw)
	}
	for _, m := range times {
		if m[1] != "2026-03-01T09:30:00.123456Z" {
			t.Errorf("time %s, want 2026-03-01T09:30:00.123456Z", m[1])
		}
	}
	if !strings.Contains(raw, `"first_order_at":null,"last_order_at":null,"privacy_consented_at":null`) {
		t.Errorf("absent times are not null: %s", raw)
	}
	// Ensure the field names are the API's.
	var obj []map[string]any
	var page struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(raw), &page); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(page.Data, &obj); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range obj[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"allows_write_to_pm", "created_at", "currency", "first_campaign_id", "first_name", "first_order_at",
		"host_customer_id", "id", "is_premium", "language_code", "last_campaign_id", "last_name", "last_order_at",
		"orders_count", "photo_url", "privacy_consented_at", "telegram_user_id", "total_spent", "tracking_id", "updated_at", "username"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v\nwant %v", keys, want)
	}
	if p.Data[0].TotalSpent != 1990 || p.Data[0].Currency != "EUR" {
		t.Errorf("metrics %+v", p.Data[0])
	}
}

// etlGolden is one consenting customer of the export as the ETL API
// writes it: the fields, their order and their encodings.
const etlGolden = `{"id":7,"telegram_user_id":4001,"tracking_id":"0b5e1c5e-9a51-4f9e-8e40-0d6b8a9b2c11",` +
	`"first_name":"Anna","last_name":"Smith","username":"anna","photo_url":"https://t.me/i/userpic/1.jpg",` +
	`"language_code":"ru","is_premium":true,` +
	`"allows_write_to_pm":true,"host_customer_id":77,"orders_count":3,"total_spent":5997,"currency":"RUB",` +
	`"first_order_at":"2026-03-01T09:00:00Z","last_order_at":"2026-03-02T09:00:00.5Z",` +
	`"privacy_consented_at":"2026-02-01T00:00:00Z","first_campaign_id":"spring","last_campaign_id":"summer",` +
	`"created_at":"2026-01-01T00:00:00.123456Z","updated_at":"2026-03-02T09:00:00.5Z"}`

// Ensure an ETLCustomer, which is a telegram.Customer with metrics, is
// written exactly as the export writes it, through json.Marshal and
// through the handler alike: the customer's last visit, campaign times and
// bot state stay out, times are UTC, and the JSON reads back.
func TestETLCustomerJSON(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	consented, first, last := at("2026-02-01T03:00:00+03:00"), at("2026-03-01T09:00:00Z").In(msk), at("2026-03-02T09:00:00.5Z")
	campaignAt, blockedAt := at("2026-02-02T00:00:00Z"), at("2026-02-03T00:00:00Z")
	c := pulse.ETLCustomer{
		Customer: telegram.Customer{ID: 7, TelegramUserID: 4001, TrackingID: "0b5e1c5e-9a51-4f9e-8e40-0d6b8a9b2c11",
			FirstName: "Anna", LastName: "Smith", Username: "anna", LanguageCode: "ru", IsPremium: true,
			AllowsWriteToPM: true, PhotoURL: "https://t.me/i/userpic/1.jpg", HostCustomerID: 77, OrdersCount: 3,
			PrivacyConsentedAt: &consented, LastSeenAt: last, FirstCampaignID: "spring", FirstCampaignAt: &campaignAt,
			LastCampaignID: "summer", LastCampaignAt: &campaignAt, BotBlocked: true, BotBlockedAt: &blockedAt,
			CreatedAt: at("2026-01-01T03:00:00.123456+03:00"), UpdatedAt: last},
		TotalSpent: 5997, Currency: "RUB", FirstOrderAt: &first, LastOrderAt: &last,
	}
	b, err := json.Marshal(c)
	if err != nil || string(b) != etlGolden {
		t.Fatalf("json.Marshal = %s, %v\nwant %s", b, err, etlGolden)
	}
	p, raw := newETLServer(t, &etlFakeSource{customers: []pulse.ETLCustomer{c}}, 0, 0).mustPage(t, url.Values{})
	if want := `{"data":[` + etlGolden + `],"next_cursor":null}` + "\n"; raw != want {
		t.Fatalf("handler wrote %s\nwant %s", raw, want)
	}
	// Only the exported fields come back.
	want := c
	want.LastSeenAt, want.FirstCampaignAt, want.LastCampaignAt = time.Time{}, nil, nil
	want.BotBlocked, want.BotBlockedAt = false, nil
	if got, want := etlTimesUTC(p.Data[0]), etlTimesUTC(want); !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}
}

// etlLegacyCustomer is the export's customer as a plain struct (as
// ETLCustomer was before it embedded telegram.Customer), encoded by
// encoding/json: the reference the export's JSON must match byte for byte.
type etlLegacyCustomer struct {
	ID                 int64      `json:"id"`
	TelegramUserID     int64      `json:"telegram_user_id"`
	TrackingID         string     `json:"tracking_id"`
	FirstName          string     `json:"first_name"`
	LastName           string     `json:"last_name"`
	Username           string     `json:"username"`
	PhotoURL           string     `json:"photo_url"`
	LanguageCode       string     `json:"language_code"`
	IsPremium          bool       `json:"is_premium"`
	AllowsWriteToPM    bool       `json:"allows_write_to_pm"`
	HostCustomerID     int64      `json:"host_customer_id"`
	OrdersCount        int64      `json:"orders_count"`
	TotalSpent         int64      `json:"total_spent"`
	Currency           string     `json:"currency"`
	FirstOrderAt       *time.Time `json:"first_order_at"`
	LastOrderAt        *time.Time `json:"last_order_at"`
	PrivacyConsentedAt *time.Time `json:"privacy_consented_at"`
	FirstCampaignID    string     `json:"first_campaign_id"`
	LastCampaignID     string     `json:"last_campaign_id"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// Ensure the export's hand-written JSON is byte for byte what
// encoding/json wrote for the export's customers, whatever the strings
// hold (markup, quotes, control characters, invalid UTF-8, U+2028) and
// whatever the numbers and times.
func FuzzETLCustomerJSON(f *testing.F) {
	f.Add(int64(7), int64(4001), "Anna", "<b>Smith</b> & co", "anna", "ru\"\n", "\xff\u2028\u2029\x00\x1f\x7f", int64(3),
		int64(-5), true, false, int64(1_700_000_000_123_456_789), uint8(5))
	f.Add(int64(0), int64(-1), "", "", "", "", "", int64(0), int64(0), false, true, int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, id, tgID int64, first, last, username, lang, campaign string, orders, spent int64,
		premium, pm bool, nanos int64, nulls uint8) {
		id = id&(1<<62-1) + 1 // the export's ids are positive
		at := time.Unix(0, nanos).In(time.FixedZone("X", 5*3600+1800))
		ptr := func(bit uint8) *time.Time {
			if nulls&bit != 0 {
				return nil
			}
			t := at.Add(time.Duration(bit) * time.Hour)
			return &t
		}
		c := pulse.ETLCustomer{
			Customer: telegram.Customer{ID: id, TelegramUserID: tgID, TrackingID: campaign + first, FirstName: first,
				LastName: last, Username: username, LanguageCode: lang, IsPremium: premium, AllowsWriteToPM: pm,
				PhotoURL: username + last, HostCustomerID: orders * 3, OrdersCount: int(int32(orders)), PrivacyConsentedAt: ptr(1),
				LastSeenAt: at, FirstCampaignID: campaign, LastCampaignID: last + campaign, BotBlocked: premium,
				CreatedAt: at, UpdatedAt: at.Add(time.Second)},
			TotalSpent: spent, Currency: lang + last, FirstOrderAt: ptr(2), LastOrderAt: ptr(4),
		}
		utc := func(t *time.Time) *time.Time {
			if t == nil {
				return nil
			}
			u := t.UTC()
			return &u
		}
		legacy := etlLegacyCustomer{ID: c.ID, TelegramUserID: c.TelegramUserID, TrackingID: c.TrackingID,
			FirstName: c.FirstName, LastName: c.LastName, Username: c.Username, PhotoURL: c.PhotoURL, LanguageCode: c.LanguageCode,
			IsPremium: c.IsPremium, AllowsWriteToPM: c.AllowsWriteToPM, HostCustomerID: c.HostCustomerID,
			OrdersCount: int64(c.OrdersCount), TotalSpent: c.TotalSpent, Currency: c.Currency,
			FirstOrderAt: utc(c.FirstOrderAt), LastOrderAt: utc(c.LastOrderAt), PrivacyConsentedAt: utc(c.PrivacyConsentedAt),
			FirstCampaignID: c.FirstCampaignID, LastCampaignID: c.LastCampaignID, CreatedAt: c.CreatedAt.UTC(),
			UpdatedAt: c.UpdatedAt.UTC()}
		if c.PrivacyConsentedAt == nil { // no consent: no personal fields, no ids that lead to the person
			legacy.TelegramUserID, legacy.HostCustomerID = 0, 0
			legacy.FirstName, legacy.LastName, legacy.Username, legacy.PhotoURL, legacy.LanguageCode = "", "", "", "", ""
		}
		want, err := json.Marshal(legacy)
		if err != nil {
			t.Fatal(err)
		}
		s := newETLServer(t, &etlFakeSource{customers: []pulse.ETLCustomer{c}}, 0, 0)
		w := s.get("/pulse/etl/customers", pulse.HeaderAPIKey, etlKey)
		// Byte for byte where the input is valid UTF-8; for invalid bytes
		// Go versions differ in how they spell U+FFFD (escaped or not), so
		// there the JSON must mean the same.
		same := func(got, want string) bool {
			if got == want {
				return true
			}
			replaced := func(s string) bool { // U+FFFD, raw or escaped
				return strings.ContainsRune(s, utf8.RuneError) || strings.Contains(strings.ToLower(s), "\\ufffd")
			}
			if !replaced(got) && !replaced(want) {
				return false
			}
			var g, w any
			return json.Unmarshal([]byte(got), &g) == nil && json.Unmarshal([]byte(want), &w) == nil && reflect.DeepEqual(g, w)
		}
		if page := `{"data":[` + string(want) + `],"next_cursor":null}` + "\n"; w.Code != http.StatusOK || !same(w.Body.String(), page) {
			t.Fatalf("handler wrote %d %s\nwant %s", w.Code, w.Body, page)
		}
		if got, err := json.Marshal(c); err != nil || !same(string(got), string(want)) {
			t.Fatalf("json.Marshal = %s, %v\nwant %s", got, err, want)
		}
	})
}

// Ensure a time RFC 3339 cannot hold is a 500, not a 200 with a cut body.
func TestETLTimeOutOfRange(t *testing.T) {
	c := fakeCustomers(1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))[0]
	c.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newETLServer(t, &etlFakeSource{customers: []pulse.ETLCustomer{c}}, 0, 0).get("/pulse/etl/customers", pulse.HeaderAPIKey, etlKey)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"code":"internal"`) {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// etlTimesUTC returns c with its times in UTC, for comparisons.
func etlTimesUTC(c pulse.ETLCustomer) pulse.ETLCustomer {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	c.PrivacyConsentedAt, c.FirstOrderAt, c.LastOrderAt = utc(c.PrivacyConsentedAt), utc(c.FirstOrderAt), utc(c.LastOrderAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c
}

func TestNewETLHandler(t *testing.T) {
	src := &etlFakeSource{}
	key := func() string { return "k" }
	// Ensure setup mistakes are named after the field at fault.
	for _, tt := range []struct {
		cfg  pulse.ETLConfig
		want string
	}{
		{pulse.ETLConfig{APIKey: key}, "Source"},
		{pulse.ETLConfig{Source: src}, "APIKey"},
		{pulse.ETLConfig{Source: src, APIKey: key, MaxLimit: -1}, "MaxLimit"},
		{pulse.ETLConfig{Source: src, APIKey: key, MaxLimit: 10, DefaultLimit: 11}, "DefaultLimit"},
		{pulse.ETLConfig{Source: src, APIKey: key, DefaultLimit: -1}, "DefaultLimit"},
	} {
		if _, err := pulse.NewETLHandler(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewETLHandler = %v, want an error about %s", err, tt.want)
		}
	}
	// Ensure a small MaxLimit lowers the default limit with it.
	s := newETLServer(t, src, 10, 0)
	s.mustPage(t, url.Values{})
	if q := src.lastQuery(); q.Limit != 11 {
		t.Fatalf("limit asked %d, want 10+1", q.Limit)
	}
}

// etlSeed inserts customers for the Telegram users from..to-1 with
// multi-row INSERTs in one transaction, created and updated at
// at(i); it is what a large shop's table looks like without the cost of
// Save per row.
func etlSeed(tb testing.TB, db migrator.DB, from, to int, at func(i int) time.Time) {
	tb.Helper()
	ctx := context.Background()
	d := db.Dialect
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	const batch = 500
	for start := from; start < to; start += batch {
		ins := d.Builder().Insert(db.Table(telegram.CustomersTable)).Columns("telegram_user_id", "tracking_id",
			"first_name", "last_name", "username", "language_code", "is_premium", "allows_write_to_pm",
			"orders_count", "privacy_consented_at", "last_seen_at", "first_campaign_id", "last_campaign_id",
			"first_name_lc", "search_text", "created_at", "updated_at")
		for i := start; i < min(start+batch, to); i++ {
			t := d.EncodeTime(at(i))
			var consented any
			if i%3 == 0 {
				consented = t
			}
			campaign := ""
			if i%4 == 0 {
				campaign = fmt.Sprintf("camp%d", i%7)
			}
			name := fmt.Sprintf("Name%d", i)
			ins = ins.Values(int64(7_000_000+i), fmt.Sprintf("00000000-0000-4000-8000-%012d", i), name, "Last",
				fmt.Sprintf("user_%d", i), "en", i%5 == 0, i%2 == 0, i%6, consented, t, campaign, campaign,
				strings.ToLower(name), strings.ToLower(name+" last @user_"+fmt.Sprint(i)), t, t)
		}
		q, args, err := ins.ToSql()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

func TestETLCustomersTable(t *testing.T) {
	migratortest.Each(t, ingestSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clk := newClock()
		start := clk.Now()
		store, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		var saved []telegram.Customer
		for i := range 5 {
			c, err := store.Save(ctx, telegram.User{ID: int64(900 + i), FirstName: fmt.Sprintf("C%d", i), Username: "u" + fmt.Sprint(i),
				LanguageCode: "de", IsPremium: i == 1, AllowsWriteToPM: true}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			saved = append(saved, c)
			clk.Advance(time.Minute)
		}
		// Customer 1 gets campaigns, consent, an order and a host id
		// later, which moves its updated_at.
		if err := store.RecordCampaign(ctx, db, 901, "first", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := store.RecordCampaign(ctx, db, 901, "second", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Consent(ctx, 901, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := store.IncrementOrders(ctx, db, saved[1].ID, 2); err != nil {
			t.Fatal(err)
		}
		if err := store.SetHostCustomerID(ctx, db, saved[1].ID, 77); err != nil {
			t.Fatal(err)
		}
		s := newETLServer(t, mustTableSource(t, store), 0, 0)

		// Ensure the walk returns every customer once, by id, with the
		// table's fields and zero order metrics.
		ids := s.walk(t, url.Values{"limit": {"2"}}, nil)
		if len(ids) != 5 || !slices.IsSorted(ids) || ids[0] != saved[0].ID || ids[4] != saved[4].ID {
			t.Fatalf("walk %v", ids)
		}
		p, raw := s.mustPage(t, url.Values{"limit": {"5"}})
		got := p.Data[1]
		wantAt := start.Add(5 * time.Minute)
		want := pulse.ETLCustomer{Customer: telegram.Customer{ID: saved[1].ID, TelegramUserID: 901,
			TrackingID: saved[1].TrackingID, FirstName: "C1", Username: "u1", LanguageCode: "de", IsPremium: true,
			AllowsWriteToPM: true, HostCustomerID: 77, OrdersCount: 2, PrivacyConsentedAt: &wantAt,
			FirstCampaignID: "first", LastCampaignID: "second", CreatedAt: start.Add(time.Minute), UpdatedAt: wantAt}}
		if got.PrivacyConsentedAt == nil || !got.PrivacyConsentedAt.Equal(wantAt) || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Fatalf("times %+v, want %+v", got, want)
		}
		got.PrivacyConsentedAt, got.CreatedAt, got.UpdatedAt = want.PrivacyConsentedAt, want.CreatedAt, want.UpdatedAt
		if got != want {
			t.Fatalf("customer\n%+v\nwant\n%+v", got, want)
		}
		if !strings.Contains(raw, `"total_spent":0,"currency":"","first_order_at":null,"last_order_at":null`) {
			t.Fatalf("order metrics of the table source: %s", raw)
		}
		for _, m := range etlTimeRE.FindAllStringSubmatch(raw, -1) {
			if !strings.HasSuffix(m[1], "Z") {
				t.Fatalf("time %s is not UTC with Z", m[1])
			}
		}

		// Ensure updated_since keeps the customers updated at or after
		// it, the boundary included: 3, 4, and 1 (updated last).
		since := start.Add(3 * time.Minute).Format(time.RFC3339Nano)
		ids = s.walk(t, url.Values{"limit": {"1"}, "updated_since": {since}}, nil)
		if want := []int64{saved[1].ID, saved[3].ID, saved[4].ID}; !slices.Equal(ids, want) {
			t.Fatalf("since %s: %v, want %v", since, ids, want)
		}
		w := s.get("/pulse/etl/customers/meta?limit=2&updated_since="+url.QueryEscape(since), pulse.HeaderAPIKey, etlKey)
		if !strings.Contains(w.Body.String(), `{"total":3,"limit":2,"pages":2}`) {
			t.Fatalf("meta: %s", w.Body)
		}
	})
}

func TestETLWalkUnderWrites(t *testing.T) {
	migratortest.Each(t, ingestSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		const n = 600
		base := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
		// Half the customers were updated before since, half after;
		// their updated_at interleave with the ids.
		etlSeed(t, db, 0, n, func(i int) time.Time {
			if i%2 == 0 {
				return base.Add(time.Duration(i) * time.Second)
			}
			return base.Add(time.Hour + time.Duration(i)*time.Second)
		})
		since := base.Add(time.Hour)
		var atStart []int64
		q, args, err := db.Dialect.Builder().Select("id").From(db.Table(telegram.CustomersTable)).
			Where(sq.GtOrEq{"updated_at": db.Dialect.EncodeTime(since)}).OrderBy("id").ToSql()
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			atStart = append(atStart, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if len(atStart) != n/2 {
			t.Fatalf("%d customers match at the start, want %d", len(atStart), n/2)
		}

		// A writer inserts new customers and updates existing ones, ahead
		// of and behind the cursor, matching and not, all the time; the
		// walk waits for it to make progress between pages.
		store, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var writes atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Update an existing customer, cycling over all of them,
				// then insert a new one.
				old := int64(7_000_000 + (i*7919)%n)
				if _, err := store.Save(ctx, telegram.User{ID: old, FirstName: fmt.Sprintf("Upd%d", i)}, time.Time{}); err != nil {
					t.Errorf("update: %v", err)
					return
				}
				if _, err := store.Save(ctx, telegram.User{ID: int64(8_000_000 + i), FirstName: "New"}, time.Time{}); err != nil {
					t.Errorf("insert: %v", err)
					return
				}
				writes.Add(1)
			}
		}()
		s := newETLServer(t, mustTableSource(t, store), 0, 0)
		pages := 0
		ids := s.walk(t, url.Values{"limit": {"13"}, "updated_since": {since.Format(time.RFC3339)}}, func() {
			pages++
			w := writes.Load()
			for writes.Load() < w+3 && !t.Failed() {
				time.Sleep(time.Millisecond)
			}
		})
		close(stop)
		<-done
		if pages < n/2/13 {
			t.Fatalf("only %d pages", pages)
		}
		if writes.Load() < int64(pages*3) {
			t.Fatalf("only %d writes during %d pages", writes.Load(), pages)
		}

		// Ensure no id is repeated and every customer that matched at the
		// start was seen.
		seen := map[int64]int{}
		for _, id := range ids {
			seen[id]++
			if seen[id] > 1 {
				t.Fatalf("id %d returned twice", id)
			}
		}
		if !slices.IsSorted(ids) {
			t.Fatal("ids are not ascending")
		}
		for _, id := range atStart {
			if seen[id] != 1 {
				t.Fatalf("id %d matched at the start but was not returned", id)
			}
		}
		if len(ids) <= len(atStart) {
			t.Fatalf("the walk saw %d rows, no more than the %d at the start: the writes did not reach it", len(ids), len(atStart))
		}
	})
}

func FuzzETLCursor(f *testing.F) {
	src := &etlFakeSource{customers: fakeCustomers(3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	s := newETLServer(f, src, 0, 0)
	for _, c := range []string{"v1.AAAAAAAAAAE", "v1.", "v1.////", "v2.AAAAAAAAAAE", "", "v1.AAAAAAAAAAE=", "\x00"} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		// Ensure any cursor is answered 200 or 400, never a 500.
		w := s.get("/pulse/etl/customers?"+url.Values{"cursor": {cursor}}.Encode(), pulse.HeaderAPIKey, etlKey)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("cursor %q: status %d: %s", cursor, w.Code, w.Body)
		}
	})
}
