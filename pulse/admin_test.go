package pulse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// adminRouter mounts h under /admin/api, as the demo server does.
// mustStatsCache returns a stats cache over p with ttl and now, or fails
// the test.
func mustStatsCache(tb testing.TB, p *pulse.Pulse, ttl time.Duration, now func() time.Time) *pulse.StatsCache {
	tb.Helper()
	c, err := pulse.NewStatsCache(pulse.StatsCacheConfig{Pulse: p, TTL: ttl, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustAdminHandler returns the admin handler over p and stats (nil for a
// new cache), or fails the test.
func mustAdminHandler(tb testing.TB, p *pulse.Pulse, stats *pulse.StatsCache) *pulse.AdminHandler {
	tb.Helper()
	h, err := pulse.NewAdminHandler(pulse.AdminConfig{Pulse: p, Stats: stats})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func adminRouter(h *pulse.AdminHandler) http.Handler {
	r := mux.NewRouter()
	h.RegisterAdminRoutes(r.PathPrefix("/admin/api").Subrouter())
	return r
}

// adminDo serves one request and returns the status and body.
func adminDo(tb testing.TB, h http.Handler, method, target, body string) (int, []byte) {
	tb.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// adminGet serves a GET that must answer 200 and decodes its body into v.
func adminGet(tb testing.TB, h http.Handler, target string, v any) {
	tb.Helper()
	code, body := adminDo(tb, h, http.MethodGet, target, "")
	if code != http.StatusOK {
		tb.Fatalf("GET %s = %d %s", target, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		tb.Fatalf("GET %s: %v in %s", target, err, body)
	}
}

// adminRetry posts body to the retry route, which must answer 200, and
// returns requeued.
func adminRetry(tb testing.TB, h http.Handler, body string) int64 {
	tb.Helper()
	code, out := adminDo(tb, h, http.MethodPost, "/admin/api/pulse/events/retry", body)
	if code != http.StatusOK {
		tb.Fatalf("retry %s = %d %s", body, code, out)
	}
	var got map[string]int64
	if err := json.Unmarshal(out, &got); err != nil {
		tb.Fatal(err)
	}
	n, ok := got["requeued"]
	if !ok || len(got) != 1 {
		tb.Fatalf("retry answered %s, want {\"requeued\": n}", out)
	}
	return n
}

// wantBadRequest checks a 400 with the JSON error shape.
func wantBadRequest(tb testing.TB, code int, body []byte, what string) {
	tb.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Error.Code != "bad_request" || e.Error.Message == "" {
		tb.Errorf("%s = %d %s, want 400 bad_request", what, code, body)
	}
}

type listAnswer struct {
	Data []map[string]any `json:"data"`
	Meta struct {
		Page    int   `json:"page"`
		PerPage int   `json:"per_page"`
		Total   int64 `json:"total"`
		Pages   int64 `json:"pages"`
	} `json:"meta"`
}

func keysOf(l listAnswer) []string {
	keys := []string{}
	for _, e := range l.Data {
		keys = append(keys, e["idempotency_key"].(string))
	}
	return keys
}

func TestAdminStats(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		clk := newClock()
		cfg := testConfig("https://pulse.example.com")
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		h := adminRouter(mustAdminHandler(t, p, mustStatsCache(t, p, time.Hour, clk.Now)))
		mustSeed(t, db,
			seedRow{Key: "p1", CreatedAt: clk.Now().Add(-90 * time.Second)},
			seedRow{Key: "f1", Status: pulse.StatusFailed, LastError: "rejected: bad payload", CreatedAt: clk.Now().Add(-time.Hour)},
		)

		// Ensure the answer has the spec's fields, times in RFC 3339 UTC.
		var st map[string]any
		adminGet(t, h, "/admin/api/pulse/stats", &st)
		for _, k := range []string{"pending", "sending", "sent", "failed", "oldest_pending_age_seconds", "last_error", "computed_at"} {
			if _, ok := st[k]; !ok {
				t.Errorf("stats lack %q: %v", k, st)
			}
		}
		if st["pending"] != 1.0 || st["failed"] != 1.0 || st["oldest_pending_age_seconds"] != 90.0 || st["last_error"] != "rejected: bad payload" {
			t.Errorf("stats = %v", st)
		}
		if s, _ := st["computed_at"].(string); !strings.HasSuffix(s, "Z") {
			t.Errorf("computed_at = %v, want RFC 3339 in UTC", st["computed_at"])
		}

		// Ensure the counts are cached and fresh=1 bypasses the cache.
		mustSeed(t, db, seedRow{Key: "p2", CreatedAt: clk.Now()})
		clk.Advance(10 * time.Second)
		adminGet(t, h, "/admin/api/pulse/stats", &st)
		if st["pending"] != 1.0 || st["oldest_pending_age_seconds"] != 100.0 {
			t.Errorf("cached stats = %v, want 1 pending, age 100", st)
		}
		adminGet(t, h, "/admin/api/pulse/stats?fresh=1", &st)
		if st["pending"] != 2.0 {
			t.Errorf("fresh stats = %v, want 2 pending", st)
		}

		// Ensure a bad fresh is a 400.
		code, body := adminDo(t, h, http.MethodGet, "/admin/api/pulse/stats?fresh=perhaps", "")
		wantBadRequest(t, code, body, "fresh=perhaps")
	})
}

func TestAdminEvents(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		clk := newClock()
		cfg := testConfig("https://pulse.example.com")
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		h := adminRouter(mustAdminHandler(t, p, nil))
		var rows []seedRow
		for i := range 5 {
			rows = append(rows, seedRow{Key: "f" + strconv.Itoa(i), Status: pulse.StatusFailed, Attempts: i + 1,
				LastError: "reason-" + strconv.Itoa(i), HTTPStatus: 422, CreatedAt: clk.Now().Add(-time.Hour)})
		}
		rows = append(rows,
			seedRow{Key: "p0", CreatedAt: clk.Now()},
			seedRow{Key: "p1", CreatedAt: clk.Now()},
			seedRow{Key: "s0", Status: pulse.StatusSent, CreatedAt: clk.Now(), SentAt: clk.Now()},
		)
		ids := mustSeed(t, db, rows...)

		// Ensure failed is the default status, newest first, paginated.
		var l listAnswer
		adminGet(t, h, "/admin/api/pulse/events?per_page=2", &l)
		if got := keysOf(l); !reflect.DeepEqual(got, []string{"f4", "f3"}) {
			t.Errorf("page 1 = %v, want [f4 f3]", got)
		}
		if l.Meta.Page != 1 || l.Meta.PerPage != 2 || l.Meta.Total != 5 || l.Meta.Pages != 3 {
			t.Errorf("meta = %+v, want page 1 of 3, 2 per page, 5 in all", l.Meta)
		}
		adminGet(t, h, "/admin/api/pulse/events?status=failed&page=3&per_page=2", &l)
		if got := keysOf(l); !reflect.DeepEqual(got, []string{"f0"}) {
			t.Errorf("page 3 = %v, want [f0]", got)
		}
		adminGet(t, h, "/admin/api/pulse/events?page=4&per_page=2", &l)
		if l.Data == nil || len(l.Data) != 0 || l.Meta.Total != 5 {
			t.Errorf("past the end = %+v, want an empty list and the total", l)
		}

		// Ensure a failed event shows its attempts, reason and answer,
		// and no next attempt.
		adminGet(t, h, "/admin/api/pulse/events", &l)
		if len(l.Data) != 5 || l.Meta.PerPage != pulse.EventsPerPageDefault {
			t.Fatalf("default page = %d events, meta %+v", len(l.Data), l.Meta)
		}
		e := l.Data[0]
		want := map[string]any{
			"id": float64(ids[4]), "idempotency_key": "f4", "event": pulse.EventProductView, "campaign_id": "spring24",
			"tracking_id": "trk-7f1c2b9e", "status": "failed", "attempts": 5.0, "last_error": "reason-4",
			"last_http_status": 422.0, "next_attempt_at": nil, "sent_at": nil,
			"created_at": clk.Now().Add(-time.Hour).Format(time.RFC3339), "payload": map[string]any{"product_id": 42.0},
		}
		for k, v := range want {
			if !reflect.DeepEqual(e[k], v) {
				t.Errorf("%s = %#v, want %#v", k, e[k], v)
			}
		}

		// Ensure other statuses list only their own events.
		adminGet(t, h, "/admin/api/pulse/events?status=pending", &l)
		if got := keysOf(l); !reflect.DeepEqual(got, []string{"p1", "p0"}) || l.Data[0]["next_attempt_at"] == nil || l.Data[0]["last_error"] != nil {
			t.Errorf("pending = %v (%v)", got, l.Data)
		}
		adminGet(t, h, "/admin/api/pulse/events?status=sent", &l)
		if got := keysOf(l); !reflect.DeepEqual(got, []string{"s0"}) || l.Data[0]["sent_at"] == nil {
			t.Errorf("sent = %v (%v)", got, l.Data)
		}
		adminGet(t, h, "/admin/api/pulse/events?status=sending", &l)
		if len(l.Data) != 0 || l.Meta.Total != 0 || l.Meta.Pages != 0 {
			t.Errorf("sending = %+v, want none", l)
		}

		// Ensure bad parameters are 400s, never 500s.
		for _, q := range []string{"status=bogus", "status=FAILED", "page=0", "page=-1", "page=x", "page=99999999999999999999",
			"per_page=0", "per_page=101", "per_page=1.5", "per_page=abc"} {
			code, body := adminDo(t, h, http.MethodGet, "/admin/api/pulse/events?"+q, "")
			wantBadRequest(t, code, body, q)
		}

		// Ensure a huge page is empty rather than an overflow.
		adminGet(t, h, fmt.Sprintf("/admin/api/pulse/events?page=%d&per_page=100", 1<<31-1), &l)
		if len(l.Data) != 0 {
			t.Errorf("huge page = %d events", len(l.Data))
		}

		// Ensure the Go API checks its arguments too.
		for _, tc := range []struct {
			status        string
			page, perPage int
		}{{"bogus", 1, 10}, {pulse.StatusFailed, 0, 10}, {pulse.StatusFailed, 1, 0}, {pulse.StatusFailed, 1, 101}} {
			if _, _, err := p.ListEvents(context.Background(), tc.status, tc.page, tc.perPage); err == nil {
				t.Errorf("ListEvents(%q, %d, %d) succeeded", tc.status, tc.page, tc.perPage)
			}
		}
	})
}

func TestAdminRetry(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clk := newClock()
		cfg := testConfig("https://pulse.example.com")
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		stats := mustStatsCache(t, p, time.Hour, clk.Now)
		h := adminRouter(mustAdminHandler(t, p, stats))
		old := clk.Now().Add(-2 * time.Hour)
		ids := mustSeed(t, db,
			seedRow{Key: "f1", Status: pulse.StatusFailed, Attempts: 20, LastError: "HTTP 503", HTTPStatus: 503,
				BatchID: "6f9619ff-8b86-d011-b42d-00cf4fc964ff", CreatedAt: old, NextAt: old.Add(time.Hour)},
			seedRow{Key: "f2", Status: pulse.StatusFailed, Attempts: 3, LastError: "rejected", CreatedAt: old},
			seedRow{Key: "f3", Status: pulse.StatusFailed, Attempts: 3, LastError: "rejected", CreatedAt: old},
			seedRow{Key: "p1", Attempts: 2, CreatedAt: old, NextAt: clk.Now().Add(time.Minute)},
			seedRow{Key: "s1", Status: pulse.StatusSent, Attempts: 1, CreatedAt: old, SentAt: old},
			seedRow{Key: "w1", Status: pulse.StatusSending, Attempts: 1, CreatedAt: old},
		)
		f1, p1, s1, w1 := ids[0], ids[3], ids[4], ids[5]
		before := map[string]pulse.StoredEvent{}
		for _, k := range []string{"p1", "s1", "w1"} {
			before[k] = MustLookup(t, p, k)
		}
		if st := MustStats(t, stats, false); st.Failed != 3 {
			t.Fatalf("Failed = %d, want 3", st.Failed)
		}
		clk.Advance(time.Minute)

		// Ensure requeue by ids moves only failed events, starting them
		// over, keeping the reason, and invalidates the cached stats.
		body := fmt.Sprintf(`{"ids": [%d, %d, %d, %d, 999999, %d]}`, f1, p1, s1, w1, f1)
		if n := adminRetry(t, h, body); n != 1 {
			t.Errorf("requeued %d, want 1", n)
		}
		e := MustLookup(t, p, "f1")
		if e.Status != pulse.StatusPending || e.Attempts != 0 || !e.NextAttemptAt.Equal(clk.Now()) || e.BatchID != "" {
			t.Errorf("requeued f1 = %+v, want pending, 0 attempts, due now, no batch", e)
		}
		if e.LastError != "HTTP 503" || e.LastHTTPStatus != 503 || !e.CreatedAt.Equal(old) {
			t.Errorf("requeued f1 = %+v, want its reason and created_at kept", e)
		}
		for k, b := range before {
			if a := MustLookup(t, p, k); !reflect.DeepEqual(a, b) {
				t.Errorf("%s changed:\n%+v\n%+v", k, b, a)
			}
		}
		if st := MustStats(t, stats, false); st.Failed != 2 || st.Pending != 2 {
			t.Errorf("stats after requeue = %+v, want 2 failed and 2 pending (cache invalidated)", countsOf(st))
		}

		// Ensure bad bodies are 400s and change nothing.
		for _, b := range []string{
			`{}`, `{"ids": []}`, `{"ids": null}`, `{"all_failed": false}`, `{"ids": [1], "all_failed": true}`,
			`{"ids": [], "all_failed": true}`, `{"ids": [0]}`, `{"ids": [-3]}`, `{"ids": "1"}`, `{"ids": [1.5]}`,
			`{"all_failed": "yes"}`, `{"other": 1}`, `not json`, ``, `[1, 2]`,
			`{"ids": [` + strings.Repeat("1, ", pulse.RequeueMaxIDs) + `1]}`,
		} {
			code, out := adminDo(t, h, http.MethodPost, "/admin/api/pulse/events/retry", b)
			wantBadRequest(t, code, out, "retry "+abbrev(b))
		}
		if c := MustCounts(t, p); c.Failed != 2 {
			t.Errorf("Failed = %d after bad requests, want 2", c.Failed)
		}

		// Ensure 1000 ids are accepted.
		many := make([]string, pulse.RequeueMaxIDs)
		for i := range many {
			many[i] = strconv.Itoa(1000000 + i)
		}
		if n := adminRetry(t, h, `{"ids": [`+strings.Join(many, ",")+`]}`); n != 0 {
			t.Errorf("requeued %d unknown ids", n)
		}

		// Ensure all_failed requeues every failed event, and only those.
		if n := adminRetry(t, h, `{"all_failed": true}`); n != 2 {
			t.Errorf("all_failed requeued %d, want 2", n)
		}
		if c := MustCounts(t, p); c != (pulse.Counts{Pending: 4, Sending: 1, Sent: 1}) {
			t.Errorf("counts after all_failed = %+v", c)
		}
		if st := MustStats(t, stats, false); st.Failed != 0 {
			t.Errorf("cached Failed = %d after all_failed, want 0", st.Failed)
		}
		if n := adminRetry(t, h, `{"all_failed": true}`); n != 0 {
			t.Errorf("all_failed with none failed requeued %d", n)
		}

		// Ensure RequeueAllFailed works through more rows than one batch,
		// and Requeue through more ids than one statement takes.
		var rows []seedRow
		for i := range 2345 {
			rows = append(rows, seedRow{Key: "bulk-" + strconv.Itoa(i), Status: pulse.StatusFailed, LastError: "x", CreatedAt: old})
		}
		bulk := mustSeed(t, db, rows...)
		n, err := p.Requeue(ctx, bulk[:1500])
		if err != nil || n != 1500 {
			t.Errorf("Requeue(1500 ids) = %d, %v", n, err)
		}
		if n, err := p.RequeueAllFailed(ctx); err != nil || n != 845 {
			t.Errorf("RequeueAllFailed = %d, %v; want 845", n, err)
		}
		for i := range rows {
			rows[i].Key = "bulk2-" + strconv.Itoa(i)
		}
		mustSeed(t, db, rows...)
		if n, err := p.RequeueAllFailed(ctx); err != nil || n != 2345 {
			t.Errorf("RequeueAllFailed = %d, %v; want 2345", n, err)
		}
		if c := MustCounts(t, p); c.Failed != 0 || c.Pending != 4+2*2345 {
			t.Errorf("counts = %+v, want none failed", c)
		}
		if n, err := p.Requeue(ctx, nil); err != nil || n != 0 {
			t.Errorf("Requeue(nil) = %d, %v", n, err)
		}
	})
}

// abbrev shortens a request body for a test message.
func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestAdminRetry_WakesSender(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		_, url := MustNewReceiver(t, pulsetest.Config{})
		p := MustNew(t, db, testConfig(url))
		h := adminRouter(mustAdminHandler(t, p, nil))
		now := time.Now()
		ids := mustSeed(t, db,
			seedRow{Key: "warm-up", CreatedAt: now},
			seedRow{Key: "failed", Status: pulse.StatusFailed, Attempts: 20, LastError: "HTTP 503", CreatedAt: now},
		)
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The sender delivers what is due at start, then sleeps: nothing
		// else is due and the sweep is a minute away.
		waitFor(t, 5*time.Second, "the warm-up event to be sent", func() bool {
			return MustLookup(t, p, "warm-up").Status == pulse.StatusSent
		})

		// Ensure a requeue wakes the sender at once.
		if n := adminRetry(t, h, fmt.Sprintf(`{"ids": [%d]}`, ids[1])); n != 1 {
			t.Fatalf("requeued %d, want 1", n)
		}
		waitFor(t, 5*time.Second, "the requeued event to be sent", func() bool {
			return MustLookup(t, p, "failed").Status == pulse.StatusSent
		})
		if e := MustLookup(t, p, "failed"); e.Attempts != 1 || e.LastError != "" {
			t.Errorf("sent after requeue = %+v, want 1 attempt and no error", e)
		}
	})
}
