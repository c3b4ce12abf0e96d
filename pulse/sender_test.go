package pulse_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// requestLog records what the receiver saw, through its OnRequest hook.
type requestLog struct {
	mu   sync.Mutex
	reqs []pulsetest.Request
}

func (l *requestLog) add(r pulsetest.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
}

func (l *requestLog) all() []pulsetest.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]pulsetest.Request(nil), l.reqs...)
}

func TestSendOnce(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		var log requestLog
		rv, url := MustNewReceiver(t, pulsetest.Config{OnRequest: log.add})
		cfg := testConfig(url)
		cfg.BatchSize, cfg.Concurrency = 50, 2
		p := MustNew(t, db, cfg)
		keys := MustTrackN(t, p, db, "ev", 120)

		// Ensure every event is delivered once, in batches of BatchSize,
		// and recorded as sent with one attempt.
		rep := MustSendOnce(t, p)
		if rep != (pulse.SendReport{Claimed: 120, Sent: 120}) {
			t.Errorf("report = %+v, want 120 claimed and sent", rep)
		}
		st := rv.Stats()
		if st.Unique != 120 || st.Batches < 3 || st.Duplicates != 0 {
			t.Errorf("receiver stats %+v, want 120 unique in 3 or more batches", st)
		}
		ids := map[string]bool{}
		for _, r := range log.all() {
			if r.Attempt != "1" || r.Events > 50 || r.Status != http.StatusOK {
				t.Errorf("request %+v, want attempt 1, ≤ 50 events, 200", r)
			}
			ids[r.BatchID] = true
		}
		if len(ids) != int(st.Batches) {
			t.Errorf("%d distinct batch ids in %d batches", len(ids), st.Batches)
		}
		for _, k := range keys {
			e := MustLookup(t, p, k)
			if e.Status != pulse.StatusSent || e.Attempts != 1 || e.SentAt == nil || e.LastHTTPStatus != 200 ||
				e.LeaseOwner != "" || e.LeaseExpiresAt != nil || !ids[e.BatchID] {
				t.Fatalf("row %+v, want sent with 1 attempt, no lease, a batch id sent", e)
			}
		}

		// Ensure a second run finds nothing to do.
		if rep := MustSendOnce(t, p); rep != (pulse.SendReport{}) {
			t.Errorf("second report = %+v, want nothing", rep)
		}
	})
}

func TestSendOnce_Wire(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		api := &fakeAPI{answer: func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch) {
			w.WriteHeader(http.StatusAccepted)
		}}
		clk := newClock()
		cfg := testConfig(MustServe(t, api))
		cfg.URL += "/base/" // a path prefix and a trailing slash
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		ev := testEvent("wire-1")
		ev.OccurredAt = time.Date(2026, 11, 25, 20, 0, 0, 123456789, time.UTC)
		ev.Payload = map[string]any{"q": "shoes"}
		MustTrack(t, p, ev)

		// Ensure the request follows the spec: path, headers, signature,
		// body with occurred_at in microseconds and Z.
		if rep := MustSendOnce(t, p); rep.Sent != 1 {
			t.Fatalf("report %+v, want 1 sent (a 202 without results accepts all)", rep)
		}
		reqs := api.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1", len(reqs))
		}
		h, body := reqs[0].Header, string(reqs[0].Body)
		want := `{"events":[{"idempotency_key":"wire-1","event":"PRODUCT_VIEW","occurred_at":"2026-11-25T20:00:00.123456Z",` +
			`"campaign_id":"spring24","tracking_id":"trk-7f1c2b9e","payload":{"q":"shoes"}}]}`
		if body != want {
			t.Errorf("body\n%s\nwant\n%s", body, want)
		}
		if reqs[0].Path != "/base/v1/events" || reqs[0].Method != http.MethodPost {
			t.Errorf("%s %s, want POST /base/v1/events", reqs[0].Method, reqs[0].Path)
		}
		if got := h.Get("Authorization"); got != "Bearer "+testAPIKey {
			t.Errorf("Authorization = %q", got)
		}
		if got := h.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := h.Get(pulse.HeaderTimestamp); got != strconv.FormatInt(clk.Now().Unix(), 10) {
			t.Errorf("%s = %q, want %d", pulse.HeaderTimestamp, got, clk.Now().Unix())
		}
		signer, err := pulse.NewPayloadSigner(pulse.SignerConfig{Secret: testSecret, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		if err := signer.Verify(h.Get(pulse.HeaderTimestamp), h.Get(pulse.HeaderSignature), reqs[0].Body); err != nil {
			t.Errorf("signature: %v", err)
		}
		if h.Get(pulse.HeaderAttempt) != "1" || len(h.Get(pulse.HeaderBatchID)) != 36 {
			t.Errorf("attempt %q batch id %q", h.Get(pulse.HeaderAttempt), h.Get(pulse.HeaderBatchID))
		}
	})
}

func TestSendOnce_MaxBatchBytes(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		api := &fakeAPI{answer: func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch) {
			w.WriteHeader(http.StatusOK)
		}}
		cfg := testConfig(MustServe(t, api)) // one batch at a time, so only the last is short
		cfg.MaxBatchBytes = 4096
		p := MustNew(t, db, cfg)
		for i := range 20 {
			ev := testEvent(fmt.Sprintf("big-%02d", i))
			ev.Payload = map[string]string{"blob": strings.Repeat("x", 900)}
			MustTrack(t, p, ev)
		}

		// Ensure no body exceeds MaxBatchBytes and each is as full as it can be.
		if rep := MustSendOnce(t, p); rep.Sent != 20 {
			t.Fatalf("report %+v, want 20 sent", rep)
		}
		total := 0
		reqs := api.Requests()
		for i, r := range reqs {
			n := len(r.Batch.Events)
			if len(r.Body) > cfg.MaxBatchBytes {
				t.Errorf("body of %d bytes, more than %d", len(r.Body), cfg.MaxBatchBytes)
			}
			if i < len(reqs)-1 && len(r.Body)+len(r.Body)/n <= cfg.MaxBatchBytes {
				t.Errorf("body of %d bytes in %d events: another would have fitted", len(r.Body), n)
			}
			total += n
		}
		if total != 20 {
			t.Errorf("%d events sent, want 20", total)
		}
	})
}

func TestSendOnce_Concurrency(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		rv, err := pulsetest.New(pulsetest.Config{APIKey: testAPIKey, Secret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		MustSetFaults(t, rv, pulsetest.Faults{Latency: 100 * time.Millisecond})
		var inFlight, most atomic.Int32
		url := MustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			rv.ServeHTTP(w, r)
		}))
		cfg := testConfig(url)
		cfg.BatchSize, cfg.Concurrency = 10, 3
		p := MustNew(t, db, cfg)
		MustTrackN(t, p, db, "c", 60)

		// Ensure several batches are in flight at once, each event sent once.
		if rep := MustSendOnce(t, p); rep.Sent != 60 {
			t.Fatalf("report %+v, want 60 sent", rep)
		}
		if m := most.Load(); m < 2 || m > 3 {
			t.Errorf("at most %d requests in flight, want 2 or 3", m)
		}
		if st := rv.Stats(); st.Unique != 60 || st.Duplicates != 0 {
			t.Errorf("receiver %+v, want 60 unique, no duplicates", st)
		}
	})
}

func TestAnswer_PerEventResults(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		api := &fakeAPI{answer: func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch) {
			writeJSON(w, http.StatusOK, pulse.WireResponse{Results: []pulse.WireResult{
				{IdempotencyKey: "accepted", Status: pulse.ResultAccepted},
				{IdempotencyKey: "duplicate", Status: pulse.ResultDuplicate},
				{IdempotencyKey: "rejected", Status: pulse.ResultRejected, Error: "payload.total must be a string"},
				{IdempotencyKey: "strange", Status: "maybe"},
				{IdempotencyKey: "not-ours", Status: pulse.ResultAccepted},
				// "missing" is missing
			}})
		}}
		clk := newClock()
		cfg := testConfig(MustServe(t, api))
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		for _, k := range []string{"accepted", "duplicate", "rejected", "strange", "missing"} {
			MustTrack(t, p, testEvent(k))
		}

		// Ensure accepted and duplicate → sent; rejected → failed with the
		// error; missing or unknown → retried with one attempt counted.
		rep := MustSendOnce(t, p)
		if rep != (pulse.SendReport{Claimed: 5, Sent: 2, Failed: 1, Retried: 2}) {
			t.Errorf("report %+v", rep)
		}
		for _, tc := range []struct {
			key, status, errPart string
		}{
			{"accepted", pulse.StatusSent, ""},
			{"duplicate", pulse.StatusSent, ""},
			{"rejected", pulse.StatusFailed, "payload.total must be a string"},
			{"strange", pulse.StatusPending, `unknown result status "maybe"`},
			{"missing", pulse.StatusPending, "missing from the answer's results"},
		} {
			e := MustLookup(t, p, tc.key)
			if e.Status != tc.status || e.Attempts != 1 || !strings.Contains(e.LastError, tc.errPart) || (tc.errPart == "") != (e.LastError == "") {
				t.Errorf("%s: status %s attempts %d error %q; want %s, 1, %q", tc.key, e.Status, e.Attempts, e.LastError, tc.status, tc.errPart)
			}
			if tc.status == pulse.StatusPending && !e.NextAttemptAt.After(clk.Now()) {
				t.Errorf("%s: next attempt %v, want after now %v", tc.key, e.NextAttemptAt, clk.Now())
			}
		}
	})
}

func TestAnswer_LongError(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		long := strings.Repeat("é", 3000)
		api := &fakeAPI{answer: func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch) {
			writeJSON(w, http.StatusOK, pulse.WireResponse{Results: []pulse.WireResult{
				{IdempotencyKey: b.Events[0].IdempotencyKey, Status: pulse.ResultRejected, Error: long},
			}})
		}}
		p := MustNew(t, db, testConfig(MustServe(t, api)))
		MustTrack(t, p, testEvent("verbose"))

		// Ensure a long reason is cut to LastErrorMaxLen characters, whole
		// characters only, and stored on both engines.
		if rep := MustSendOnce(t, p); rep.Failed != 1 {
			t.Fatalf("report %+v, want 1 failed", rep)
		}
		e := MustLookup(t, p, "verbose")
		if n := utf8.RuneCountInString(e.LastError); n != pulse.LastErrorMaxLen || !utf8.ValidString(e.LastError) || !strings.HasPrefix(long, strings.TrimSuffix(e.LastError, "…")) {
			t.Errorf("last_error of %d characters (valid UTF-8: %v), want %d", n, utf8.ValidString(e.LastError), pulse.LastErrorMaxLen)
		}
	})
}

func TestAnswer_NoResults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   pulse.SendReport
	}{
		{"200Empty", 200, "", pulse.SendReport{Claimed: 3, Sent: 3}},
		{"200Object", 200, `{"ok":true}`, pulse.SendReport{Claimed: 3, Sent: 3}},
		{"202Null", 202, `{"results":null}`, pulse.SendReport{Claimed: 3, Sent: 3}},
		// "results": [] names no event, so each is missing and retried.
		{"200EmptyResults", 200, `{"results":[]}`, pulse.SendReport{Claimed: 3, Retried: 3}},
		{"200NotJSON", 200, `<html>`, pulse.SendReport{Claimed: 3, Retried: 3}},
		{"204", 204, "", pulse.SendReport{Claimed: 3, Retried: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One dialect is enough: this is about reading answers.
			db := migratortest.MustOpenDB(t, migrator.SQLite, sources()...)
			api := &fakeAPI{answer: func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}}
			cfg := testConfig(MustServe(t, api))
			cfg.Now = newClock().Now // retries never fall due during SendOnce
			p := MustNew(t, db, cfg)
			MustTrackN(t, p, db, "n", 3)
			if rep := MustSendOnce(t, p); rep != tc.want {
				t.Errorf("report %+v, want %+v", rep, tc.want)
			}
		})
	}
}

func TestAnswer_Poison(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		rv, url := MustNewReceiver(t, pulsetest.Config{})
		MustSetFaults(t, rv, pulsetest.Faults{RejectPattern: regexp.MustCompile(`^ev-137$`)})
		p := MustNew(t, db, testConfig(url))
		MustTrackN(t, p, db, "ev", 500)

		// Ensure one rejected event in a batch of 500 fails alone with the
		// receiver's reason, and the other 499 are sent in one request.
		rep := MustSendOnce(t, p)
		if rep != (pulse.SendReport{Claimed: 500, Sent: 499, Failed: 1}) {
			t.Errorf("report %+v, want 499 sent and 1 failed", rep)
		}
		if c := MustCounts(t, p); c != (pulse.Counts{Sent: 499, Failed: 1}) {
			t.Errorf("counts %+v", c)
		}
		e := MustLookup(t, p, "ev-137")
		if e.Status != pulse.StatusFailed || !strings.Contains(e.LastError, "reject pattern") || e.Attempts != 1 {
			t.Errorf("poison row: status %s error %q attempts %d", e.Status, e.LastError, e.Attempts)
		}
		if st := rv.Stats(); st.Requests != 1 || st.Unique != 499 {
			t.Errorf("receiver %+v, want 1 request and 499 unique", st)
		}
	})
}

func TestAnswer_BadBatchSplit(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		var log requestLog
		rv, url := MustNewReceiver(t, pulsetest.Config{OnRequest: log.add})
		MustSetFaults(t, rv, pulsetest.Faults{BadBatchPattern: regexp.MustCompile(`^ev-41$`)})
		p := MustNew(t, db, testConfig(url))
		MustTrackN(t, p, db, "ev", 64)

		// Ensure a batch the API calls malformed is split until the bad
		// event stands alone; it fails with the answer's error, the rest
		// is sent, and no attempt beyond the deciding one is counted.
		rep := MustSendOnce(t, p)
		if rep != (pulse.SendReport{Claimed: 64, Sent: 63, Failed: 1}) {
			t.Errorf("report %+v, want 63 sent and 1 failed", rep)
		}
		e := MustLookup(t, p, "ev-41")
		if e.Status != pulse.StatusFailed || e.LastHTTPStatus != 400 || !strings.Contains(e.LastError, "is malformed (fault injected)") {
			t.Errorf("bad row: status %s http %d error %q", e.Status, e.LastHTTPStatus, e.LastError)
		}
		if e := MustLookup(t, p, "ev-40"); e.Attempts != 1 || e.Status != pulse.StatusSent {
			t.Errorf("neighbour: status %s attempts %d", e.Status, e.Attempts)
		}
		// 64 → 32 → … → 1 is 6 splits: 1 + 2·6 requests.
		if n := len(log.all()); n != 13 {
			t.Errorf("%d requests, want 13", n)
		}
		for _, r := range log.all() {
			if r.Attempt != "1" {
				t.Errorf("split request with attempt %s, want 1", r.Attempt)
			}
		}
	})
}

func TestAnswer_RejectAll400(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		rv, url := MustNewReceiver(t, pulsetest.Config{})
		MustSetFaults(t, rv, pulsetest.Faults{RejectAll400: true})
		p := MustNew(t, db, testConfig(url))
		keys := MustTrackN(t, p, db, "ev", 16)

		// Ensure a receiver answering 400 to everything gets no retries:
		// every event fails alone with the reason after one attempt.
		rep := MustSendOnce(t, p)
		if rep != (pulse.SendReport{Claimed: 16, Failed: 16}) {
			t.Errorf("report %+v, want 16 failed", rep)
		}
		for _, k := range keys {
			e := MustLookup(t, p, k)
			if e.Status != pulse.StatusFailed || e.Attempts != 1 || e.LastError != "HTTP 400: batch rejected (fault injected)" {
				t.Errorf("%s: status %s attempts %d error %q", k, e.Status, e.Attempts, e.LastError)
			}
		}
		if n := rv.Stats().Requests; n != 31 { // 16 + 8 + 4 + 2 + 1
			t.Errorf("%d requests, want 31", n)
		}
		if rep := MustSendOnce(t, p); rep != (pulse.SendReport{}) {
			t.Errorf("second report %+v, want nothing", rep)
		}
	})
}

func TestAnswer_TooLarge(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		var log requestLog
		rv, url := MustNewReceiver(t, pulsetest.Config{OnRequest: log.add})
		MustSetFaults(t, rv, pulsetest.Faults{MaxEvents: 7})
		p := MustNew(t, db, testConfig(url))
		keys := MustTrackN(t, p, db, "ev", 40)

		// Ensure a 413 halves the batch until it fits, without counting
		// attempts for the refused sizes.
		if rep := MustSendOnce(t, p); rep != (pulse.SendReport{Claimed: 40, Sent: 40}) {
			t.Errorf("report %+v, want 40 sent", rep)
		}
		for _, r := range log.all() {
			if (r.Status == http.StatusOK) != (r.Events <= 7) {
				t.Errorf("request of %d events answered %d", r.Events, r.Status)
			}
		}
		for _, k := range keys {
			if e := MustLookup(t, p, k); e.Attempts != 1 {
				t.Errorf("%s: attempts %d, want 1", k, e.Attempts)
			}
		}
		if st := rv.Stats(); st.Unique != 40 || st.Duplicates != 0 {
			t.Errorf("receiver %+v", st)
		}
	})
}

func TestAnswer_RetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name          string
		faults        pulsetest.Faults
		maxRetryAfter time.Duration
		min, max      time.Duration // next_attempt_at - now
	}{
		{"429Seconds", pulsetest.Faults{TooManyRate: 1, RetryAfter: 30 * time.Second}, 0, 30 * time.Second, 31 * time.Second},
		{"503Date", pulsetest.Faults{Outage: true, RetryAfter: 40 * time.Second, RetryAfterDate: true}, 0, 39 * time.Second, 41 * time.Second},
		{"Clamped", pulsetest.Faults{TooManyRate: 1, RetryAfter: time.Hour}, 10 * time.Second, 10 * time.Second, 11 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
				clk := newClock()
				rv, url := MustNewReceiver(t, pulsetest.Config{Now: clk.Now})
				MustSetFaults(t, rv, tc.faults)
				cfg := testConfig(url)
				cfg.Now, cfg.MaxRetryAfter = clk.Now, tc.maxRetryAfter
				p := MustNew(t, db, cfg)
				keys := MustTrackN(t, p, db, "ev", 5)

				// Ensure the retry is never sooner than Retry-After (clamped to
				// MaxRetryAfter) and one attempt is counted.
				if rep := MustSendOnce(t, p); rep != (pulse.SendReport{Claimed: 5, Retried: 5}) {
					t.Errorf("report %+v, want 5 retried", rep)
				}
				for _, k := range keys {
					e := MustLookup(t, p, k)
					d := e.NextAttemptAt.Sub(clk.Now())
					if d < tc.min || d > tc.max || e.Attempts != 1 || e.Status != pulse.StatusPending {
						t.Errorf("%s: next attempt in %s (want %s..%s), attempts %d, status %s", k, d, tc.min, tc.max, e.Attempts, e.Status)
					}
				}
				// Nothing is due before then.
				clk.Advance(tc.min - time.Second)
				if rep := MustSendOnce(t, p); rep.Claimed != 0 {
					t.Errorf("claimed %d before Retry-After", rep.Claimed)
				}
			})
		})
	}
}

func TestAnswer_BackoffGrows(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		clk := newClock()
		var log requestLog
		rv, url := MustNewReceiver(t, pulsetest.Config{Now: clk.Now, OnRequest: log.add})
		MustSetFaults(t, rv, pulsetest.Faults{Outage: true})
		cfg := testConfig(url)
		cfg.Now, cfg.RetryBase, cfg.RetryMax, cfg.MaxAttempts = clk.Now, time.Second, 16*time.Second, 8
		p := MustNew(t, db, cfg)
		MustTrack(t, p, testEvent("e"))

		// Ensure each 5xx counts an attempt and waits base·2^(n-1) with
		// equal jitter (half to all of it), capped at RetryMax; and the
		// batch keeps its id across retries.
		for n := 1; n <= 7; n++ {
			if rep := MustSendOnce(t, p); rep != (pulse.SendReport{Claimed: 1, Retried: 1}) {
				t.Fatalf("try %d: report %+v", n, rep)
			}
			e := MustLookup(t, p, "e")
			full := time.Duration(math.Min(float64(time.Second)*math.Pow(2, float64(n-1)), float64(16*time.Second)))
			d := e.NextAttemptAt.Sub(clk.Now())
			if e.Attempts != n || d < full/2 || d > full || e.LastHTTPStatus != 503 || !strings.Contains(e.LastError, "HTTP 503") {
				t.Fatalf("try %d: attempts %d, wait %s (want %s..%s), http %d, error %q", n, e.Attempts, d, full/2, full, e.LastHTTPStatus, e.LastError)
			}
			clk.Advance(d)
		}
		reqs := log.all()
		for i, r := range reqs {
			if r.Attempt != strconv.Itoa(i+1) || r.BatchID != reqs[0].BatchID {
				t.Errorf("request %d: attempt %s batch %s, want attempt %d and batch %s", i, r.Attempt, r.BatchID, i+1, reqs[0].BatchID)
			}
		}

		// Ensure the event fails after MaxAttempts with the last reason.
		rep := MustSendOnce(t, p)
		if rep != (pulse.SendReport{Claimed: 1, Failed: 1}) {
			t.Errorf("last try: report %+v, want 1 failed", rep)
		}
		e := MustLookup(t, p, "e")
		if e.Status != pulse.StatusFailed || e.Attempts != 8 || !strings.Contains(e.LastError, "HTTP 503") {
			t.Errorf("after MaxAttempts: status %s attempts %d error %q", e.Status, e.Attempts, e.LastError)
		}
	})
}

func TestAnswer_MaxAge(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		clk := newClock()
		api := &fakeAPI{answer: func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch) {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": "upstream down"})
		}}
		cfg := testConfig(MustServe(t, api))
		cfg.Now, cfg.MaxAge = clk.Now, time.Hour
		p := MustNew(t, db, cfg)
		MustTrack(t, p, testEvent("young"))
		clk.Advance(2 * time.Hour)
		MustTrack(t, p, testEvent("fresh"))

		// Ensure a transient failure of an event older than MaxAge fails
		// it, with the reason, while a fresh one is retried.
		if rep := MustSendOnce(t, p); rep != (pulse.SendReport{Claimed: 2, Failed: 1, Retried: 1}) {
			t.Errorf("report %+v", rep)
		}
		if e := MustLookup(t, p, "young"); e.Status != pulse.StatusFailed || e.LastError != "HTTP 502: upstream down" {
			t.Errorf("old event: status %s error %q", e.Status, e.LastError)
		}
		if e := MustLookup(t, p, "fresh"); e.Status != pulse.StatusPending {
			t.Errorf("fresh event: status %s", e.Status)
		}
	})
}

func TestAnswer_NetworkError(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		rv, url := MustNewReceiver(t, pulsetest.Config{})
		MustSetFaults(t, rv, pulsetest.Faults{TimeoutRate: 1})
		cfg := testConfig(url)
		cfg.HTTPTimeout = 200 * time.Millisecond
		p := MustNew(t, db, cfg)
		MustTrack(t, p, testEvent("slow"))

		// Ensure a request without an answer within HTTPTimeout is a
		// transient failure, even though the receiver recorded the event;
		// the retry is then answered "duplicate" and counts as sent.
		if rep := MustSendOnce(t, p); rep.Retried != 1 {
			t.Fatalf("report %+v, want 1 retried", rep)
		}
		if e := MustLookup(t, p, "slow"); !strings.Contains(e.LastError, "HTTPTimeout") || e.LastHTTPStatus != 0 {
			t.Errorf("error %q http %d", e.LastError, e.LastHTTPStatus)
		}
		MustSetFaults(t, rv, pulsetest.Faults{})
		time.Sleep(60 * time.Millisecond) // RetryMax
		if rep := MustSendOnce(t, p); rep.Sent != 1 {
			t.Fatalf("report %+v, want 1 sent", rep)
		}
		if st := rv.Stats(); st.Unique != 1 || st.Duplicates != 1 {
			t.Errorf("receiver %+v, want the event once and one duplicate", st)
		}
	})
}

func TestAuthOutage(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		rv, url := MustNewReceiver(t, pulsetest.Config{APIKey: "the-right-key"})
		cfg := testConfig(url)
		cfg.APIKey = "a-wrong-key"
		cfg.BatchSize = 10
		p := MustNew(t, db, cfg)
		keys := MustTrackN(t, p, db, "ev", 30)

		// Ensure a 401 counts no attempt, releases the events and shows in
		// the state.
		rep, err := p.SendOnce(ctx)
		if !errors.Is(err, pulse.ErrUnauthorized) {
			t.Fatalf("SendOnce = %v, want ErrUnauthorized", err)
		}
		if rep.Sent+rep.Retried+rep.Failed != 0 || rep.Released != rep.Claimed || rep.Claimed == 0 {
			t.Errorf("report %+v, want everything claimed released", rep)
		}
		if st := p.State(); !st.AuthFailing || !strings.Contains(st.LastError, "HTTP 401") {
			t.Errorf("state %+v, want auth failing with the 401", st)
		}

		// Ensure the background sender keeps pausing without counting
		// attempts while the key is wrong …
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "more 401s", func() bool { return rv.Stats().Unauthorized >= 3 })
		if c := MustCounts(t, p); c.Pending+c.Sending != 30 {
			t.Errorf("counts %+v, want all 30 waiting", c)
		}
		for _, k := range keys {
			if e := MustLookup(t, p, k); e.Attempts != 0 {
				t.Fatalf("%s: attempts %d during the auth outage, want 0", k, e.Attempts)
			}
		}

		// … and delivers everything once the key is fixed, each event with
		// exactly one counted attempt.
		if err := p.SetCredentials(url, "the-right-key", testSecret); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "delivery after the fix", func() bool { return MustCounts(t, p).Sent == 30 })
		for _, k := range keys {
			if e := MustLookup(t, p, k); e.Attempts != 1 {
				t.Errorf("%s: attempts %d, want 1", k, e.Attempts)
			}
		}
		if st := p.State(); st.AuthFailing || !st.PausedUntil.IsZero() {
			t.Errorf("state %+v after the fix", st)
		}
		if st := rv.Stats(); st.Unique != 30 {
			t.Errorf("receiver %+v", st)
		}
	})
}

func TestSendOnce_AuthPause(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		rv, url := MustNewReceiver(t, pulsetest.Config{})
		MustSetFaults(t, rv, pulsetest.Faults{Unauthorized: true})
		cfg := testConfig(url)
		cfg.RetryBase, cfg.RetryMax = time.Minute, time.Hour // the pause outlasts the test
		p := MustNew(t, db, cfg)
		keys := MustTrackN(t, p, db, "ev", 3)
		if _, err := p.SendOnce(ctx); !errors.Is(err, pulse.ErrUnauthorized) {
			t.Fatalf("first SendOnce = %v, want ErrUnauthorized", err)
		}
		if n := rv.Stats().Requests; n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}

		// Ensure SendOnce during the pause sends nothing and says why.
		rep, err := p.SendOnce(ctx)
		if !errors.Is(err, pulse.ErrUnauthorized) || !strings.Contains(err.Error(), "paused until") {
			t.Fatalf("SendOnce during the pause = %v, want ErrUnauthorized naming the pause", err)
		}
		if rep != (pulse.SendReport{}) || rv.Stats().Requests != 1 {
			t.Fatalf("report %+v and %d requests during the pause, want nothing sent", rep, rv.Stats().Requests)
		}
		for _, k := range keys {
			if e := MustLookup(t, p, k); e.Status != pulse.StatusPending || e.Attempts != 0 {
				t.Errorf("%s: status %s attempts %d, want pending with none", k, e.Status, e.Attempts)
			}
		}

		// Ensure new credentials end the pause.
		MustSetFaults(t, rv, pulsetest.Faults{})
		if err := p.SetCredentials(url, testAPIKey, testSecret); err != nil {
			t.Fatal(err)
		}
		if rep := MustSendOnce(t, p); rep.Sent != 3 {
			t.Errorf("after new credentials: report %+v, want 3 sent", rep)
		}
	})
}

func TestLease(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		arrived := make(chan struct{})
		release := make(chan struct{})
		var once sync.Once
		api := &fakeAPI{answer: func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch) {
			if r.Header.Get("Authorization") == "Bearer key-a" {
				// Sender A's request hangs past its lease, then rejects
				// everything: an answer that must no longer count.
				once.Do(func() { close(arrived) })
				<-release
				res := make([]pulse.WireResult, len(b.Events))
				for i, e := range b.Events {
					res[i] = pulse.WireResult{IdempotencyKey: e.IdempotencyKey, Status: pulse.ResultRejected, Error: "late"}
				}
				writeJSON(w, http.StatusOK, pulse.WireResponse{Results: res})
				return
			}
			w.WriteHeader(http.StatusOK)
		}}
		url := MustServe(t, api)
		cfgA := testConfig(url)
		cfgA.APIKey, cfgA.SenderID = "key-a", "sender-a"
		a := MustNew(t, db, cfgA)
		cfgB := testConfig(url)
		cfgB.APIKey, cfgB.SenderID = "key-b", "sender-b"
		cfgB.Now = func() time.Time { return time.Now().Add(time.Hour) } // long after A's lease
		b := MustNew(t, db, cfgB)
		keys := MustTrackN(t, a, db, "ev", 5)

		type result struct {
			rep pulse.SendReport
			err error
		}
		done := make(chan result, 1)
		go func() {
			rep, err := a.SendOnce(ctx)
			done <- result{rep, err}
		}()
		<-arrived
		if e := MustLookup(t, a, keys[0]); e.Status != pulse.StatusSending || !strings.HasPrefix(e.LeaseOwner, "sender-a#") {
			t.Fatalf("during A's request: status %s owner %q", e.Status, e.LeaseOwner)
		}

		// Ensure a sender reclaims events whose lease expired and delivers
		// them under the same batch id.
		repB, err := b.SendOnce(ctx)
		if err != nil || repB != (pulse.SendReport{Claimed: 5, Sent: 5}) {
			t.Fatalf("B: %+v, %v; want 5 reclaimed and sent", repB, err)
		}

		// Ensure the late sender's answer changes nothing.
		close(release)
		r := <-done
		if r.err != nil || r.rep != (pulse.SendReport{Claimed: 5}) {
			t.Errorf("A: %+v, %v; want 5 claimed and nothing recorded", r.rep, r.err)
		}
		for _, k := range keys {
			if e := MustLookup(t, a, k); e.Status != pulse.StatusSent || e.LastError != "" || e.Attempts != 1 {
				t.Errorf("%s: status %s error %q attempts %d, want B's delivery", k, e.Status, e.LastError, e.Attempts)
			}
		}
		reqs := api.Requests()
		if len(reqs) != 2 || reqs[0].Header.Get(pulse.HeaderBatchID) != reqs[1].Header.Get(pulse.HeaderBatchID) {
			t.Errorf("%d requests; want 2 with one batch id", len(reqs))
		}
	})
}

func TestBackoff(t *testing.T) {
	// Ensure equal jitter: half of base·2^(n-1) fixed, the rest scaled.
	for _, tc := range []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.5, 750 * time.Millisecond},
		{3, 0, 2 * time.Second},
		{3, 1, 4 * time.Second}, // clamped jitter
		{0, 0, 500 * time.Millisecond},
		{10, 0, 5 * time.Second},            // capped at 10s
		{10, 0.99, 9950 * time.Millisecond}, // capped
		{1000, 0, 5 * time.Second},          // no overflow
		{4, -1, 4 * time.Second},            // negative jitter is 0
		{4, math.NaN(), 4 * time.Second},    // NaN jitter is 0
	} {
		if got := pulse.Backoff(tc.attempt, time.Second, 10*time.Second, tc.jitter); got != tc.want {
			t.Errorf("Backoff(%d, 1s, 10s, %v) = %s, want %s", tc.attempt, tc.jitter, got, tc.want)
		}
	}
	// Ensure a cap below base is raised to base.
	if got := pulse.Backoff(5, time.Second, time.Millisecond, 1); got != time.Second {
		t.Errorf("Backoff with max < base = %s, want 1s", got)
	}
}
