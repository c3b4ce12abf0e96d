package pulsetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

const (
	testAPIKey  = "test-key"
	testSecret  = "s3cret"
	testBatchID = "5b0c7c2e-8d1f-4a35-9b0e-2f1d3c4b5a69"
)

var t0 = time.Unix(1764100000, 0)

// clock is a settable Now.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.Set(t); return c }
func (c *clock) Now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) Set(t time.Time)  { c.ns.Store(t.UnixNano()) }

// harness is a receiver in an httptest.Server plus a sender-side signer.
type harness struct {
	rv     *pulsetest.Receiver
	srv    *httptest.Server
	clock  *clock
	signer *pulse.PayloadSigner
}

// MustStart runs a receiver for cfg (APIKey, Secret and Now filled in when
// empty) and stops it when the test ends.
func MustStart(tb testing.TB, cfg pulsetest.Config) *harness {
	tb.Helper()
	h := &harness{clock: newClock(t0)}
	if cfg.APIKey == "" {
		cfg.APIKey = testAPIKey
	}
	if cfg.Secret == "" {
		cfg.Secret = testSecret
	}
	if cfg.Now == nil {
		cfg.Now = h.clock.Now
	}
	rv, err := pulsetest.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	h.rv = rv
	h.srv = httptest.NewServer(rv)
	tb.Cleanup(h.srv.Close)
	tb.Cleanup(func() { _ = rv.Close() }) // runs first: releases hanging requests
	h.signer, err = pulse.NewPayloadSigner(pulse.SignerConfig{Secret: testSecret})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// MustSetFaults sets f or fails the test.
func MustSetFaults(tb testing.TB, rv *pulsetest.Receiver, f pulsetest.Faults) {
	tb.Helper()
	if err := rv.SetFaults(f); err != nil {
		tb.Fatal(err)
	}
}

func event(key string) pulse.WireEvent {
	return pulse.WireEvent{
		IdempotencyKey: key, Event: pulse.EventWebAppOpen, OccurredAt: t0,
		CampaignID: "spring24", TrackingID: "trk-1", Payload: json.RawMessage(`{"product_id":42}`),
	}
}

func events(keys ...string) []pulse.WireEvent {
	out := make([]pulse.WireEvent, len(keys))
	for i, k := range keys {
		out[i] = event(k)
	}
	return out
}

func mustMarshal(tb testing.TB, evs []pulse.WireEvent) []byte {
	tb.Helper()
	b, err := json.Marshal(pulse.WireBatch{Events: evs})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// newRequest returns a correctly authenticated and signed request for body;
// edit changes it afterwards.
func (h *harness) newRequest(tb testing.TB, body []byte, edit ...func(*http.Request)) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/events", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	ts := h.clock.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	req.Header.Set(pulse.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(pulse.HeaderSignature, h.signer.Sign(ts, body))
	req.Header.Set(pulse.HeaderBatchID, testBatchID)
	req.Header.Set(pulse.HeaderAttempt, "1")
	for _, e := range edit {
		e(req)
	}
	return req
}

// do sends req and returns the status and body, failing on a network error.
func (h *harness) do(tb testing.TB, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}

// send posts evs and returns the per-event statuses of a 200 answer. It
// returns errors instead of failing, so goroutines can call it.
func (h *harness) send(evs []pulse.WireEvent) ([]string, error) {
	body, err := json.Marshal(pulse.WireBatch{Events: evs})
	if err != nil {
		return nil, err
	}
	ts := h.clock.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	req.Header.Set(pulse.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(pulse.HeaderSignature, h.signer.Sign(ts, body))
	req.Header.Set(pulse.HeaderBatchID, testBatchID)
	req.Header.Set(pulse.HeaderAttempt, "1")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var wr pulse.WireResponse
	if err := json.Unmarshal(b, &wr); err != nil {
		return nil, err
	}
	if len(wr.Results) != len(evs) {
		return nil, fmt.Errorf("%d results for %d events", len(wr.Results), len(evs))
	}
	out := make([]string, len(wr.Results))
	for i, r := range wr.Results {
		if r.IdempotencyKey != evs[i].IdempotencyKey {
			return nil, fmt.Errorf("result %d is for %q, want %q", i, r.IdempotencyKey, evs[i].IdempotencyKey)
		}
		out[i] = r.Status
	}
	return out, nil
}

// MustSend posts evs and returns the per-event statuses of a 200 answer.
func (h *harness) MustSend(tb testing.TB, evs []pulse.WireEvent) []string {
	tb.Helper()
	out, err := h.send(evs)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// statusOf sends evs and returns the answer's status and error code.
func (h *harness) statusOf(tb testing.TB, evs []pulse.WireEvent, edit ...func(*http.Request)) (int, string) {
	tb.Helper()
	resp, body := h.do(tb, h.newRequest(tb, mustMarshal(tb, evs), edit...))
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return resp.StatusCode, e.Error.Code
}

func TestNew(t *testing.T) {
	// Ensure a receiver cannot run open or unsigned.
	for name, cfg := range map[string]pulsetest.Config{
		"ErrAPIKey":  {Secret: "s"},
		"ErrSecret":  {APIKey: "k"},
		"ErrMaxBody": {APIKey: "k", Secret: "s", MaxBody: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pulsetest.New(cfg)
			field := strings.TrimPrefix(name, "Err")
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Fatalf("err = %v, want one naming %s", err, field)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		got := h.MustSend(t, events("a", "b", "c"))
		for i, s := range got {
			if s != pulse.ResultAccepted {
				t.Errorf("event %d: %s, want accepted", i, s)
			}
		}
		if !h.rv.Seen("a") || h.rv.Seen("zzz") {
			t.Error("Seen is wrong")
		}
		if st, want := h.rv.Stats(), (pulsetest.Stats{Received: 3, Unique: 3, Batches: 1, Requests: 1}); st != want {
			t.Errorf("Stats = %+v, want %+v", st, want)
		}
	})

	t.Run("OKEmptyBatch", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		resp, body := h.do(t, h.newRequest(t, []byte(`{"events":[]}`)))
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"results":[]}` {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		// Ensure a retried batch is answered duplicate, and a key repeated
		// inside one batch counts once.
		h := MustStart(t, pulsetest.Config{})
		h.MustSend(t, events("a", "b"))
		got := h.MustSend(t, events("b", "c", "c"))
		if want := []string{"duplicate", "accepted", "duplicate"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("statuses %v, want %v", got, want)
		}
		if st, want := h.rv.Stats(), (pulsetest.Stats{Received: 5, Unique: 3, Duplicates: 2, Batches: 2, Requests: 2}); st != want {
			t.Errorf("Stats = %+v, want %+v", st, want)
		}
	})

	t.Run("ErrUnauthorized", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		cases := map[string]struct {
			edit func(*http.Request)
			code string
		}{
			"WrongKey":       {func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, "unauthorized"},
			"KeyPrefix":      {func(r *http.Request) { r.Header.Set("Authorization", "Bearer test-ke") }, "unauthorized"},
			"NoHeader":       {func(r *http.Request) { r.Header.Del("Authorization") }, "unauthorized"},
			"BasicScheme":    {func(r *http.Request) { r.Header.Set("Authorization", "Basic "+testAPIKey) }, "unauthorized"},
			"BadSignature":   {func(r *http.Request) { r.Header.Set(pulse.HeaderSignature, "v1="+strings.Repeat("0", 64)) }, "bad_signature"},
			"NoSignature":    {func(r *http.Request) { r.Header.Del(pulse.HeaderSignature) }, "bad_signature"},
			"MovedTimestamp": {func(r *http.Request) { r.Header.Set(pulse.HeaderTimestamp, strconv.FormatInt(t0.Unix()+1, 10)) }, "bad_signature"},
		}
		for name, c := range cases {
			if status, code := h.statusOf(t, events("a"), c.edit); status != http.StatusUnauthorized || code != c.code {
				t.Errorf("%s: %d %s, want 401 %s", name, status, code, c.code)
			}
		}
		// Ensure a correctly signed but old request is refused as stale.
		body := mustMarshal(t, events("a"))
		req := h.newRequest(t, body)
		h.clock.Set(t0.Add(301 * time.Second))
		if resp, b := h.do(t, req); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "stale_timestamp") {
			t.Errorf("stale: %d %s", resp.StatusCode, b)
		}
		if h.rv.Seen("a") {
			t.Error("an unauthenticated event was recorded")
		}
		if st := h.rv.Stats(); st.Unauthorized != int64(len(cases))+1 || st.Batches != 0 {
			t.Errorf("Stats = %+v", st)
		}
	})

	t.Run("ErrBadRequest", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		bodies := map[string]string{
			"MalformedJSON":   `{"events":[`,
			"NoEvents":        `{}`,
			"NullEvents":      `{"events":null}`,
			"NotObject":       `[]`,
			"MissingKey":      `{"events":[{"event":"SEARCH"}]}`,
			"MissingEvent":    `{"events":[{"idempotency_key":"k"}]}`,
			"LongKey":         `{"events":[{"idempotency_key":"` + strings.Repeat("k", 129) + `","event":"SEARCH"}]}`,
			"BadOccurredAt":   `{"events":[{"idempotency_key":"k","event":"SEARCH","occurred_at":"today"}]}`,
			"PayloadNotObj":   `{"events":[{"idempotency_key":"k","event":"SEARCH","payload":[1]}]}`,
			"KeyWrongType":    `{"events":[{"idempotency_key":1,"event":"SEARCH"}]}`,
			"TrailingGarbage": `{"events":[]} x`,
		}
		for name, body := range bodies {
			resp, b := h.do(t, h.newRequest(t, []byte(body)))
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"error"`) {
				t.Errorf("%s: %d %s, want 400 with a JSON error", name, resp.StatusCode, b)
			}
		}
		headers := map[string]func(*http.Request){
			"NoBatchID":    func(r *http.Request) { r.Header.Del(pulse.HeaderBatchID) },
			"BadBatchID":   func(r *http.Request) { r.Header.Set(pulse.HeaderBatchID, "batch-1") },
			"NoAttempt":    func(r *http.Request) { r.Header.Del(pulse.HeaderAttempt) },
			"ZeroAttempt":  func(r *http.Request) { r.Header.Set(pulse.HeaderAttempt, "0") },
			"WordyAttempt": func(r *http.Request) { r.Header.Set(pulse.HeaderAttempt, "two") },
		}
		for name, edit := range headers {
			if status, _ := h.statusOf(t, events("a"), edit); status != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", name, status)
			}
		}
		if st := h.rv.Stats(); st.Batches != 0 || st.Received != 0 {
			t.Errorf("Stats = %+v, want nothing recorded", st)
		}
	})

	t.Run("ErrTooLarge", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{MaxBody: 200})
		if status, code := h.statusOf(t, events("a", "b", "c")); status != http.StatusRequestEntityTooLarge || code != "body_too_large" {
			t.Fatalf("%d %s, want 413 body_too_large", status, code)
		}
	})

	t.Run("ErrContentType", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		if status, _ := h.statusOf(t, events("a"), func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }); status != http.StatusUnsupportedMediaType {
			t.Fatalf("%d, want 415", status)
		}
	})

	t.Run("ErrMethod", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		resp, err := h.srv.Client().Get(h.srv.URL + "/v1/events")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("%d, want 405", resp.StatusCode)
		}
	})
}

func TestRejectPattern(t *testing.T) {
	h := MustStart(t, pulsetest.Config{})
	h.MustSend(t, events("bad-1")) // accepted before the pattern existed
	MustSetFaults(t, h.rv, pulsetest.Faults{RejectPattern: regexp.MustCompile(`^bad-|"poison"`)})
	evs := events("bad-1", "bad-2", "good", "payload")
	evs[3].Payload = json.RawMessage(`{"q":"poison"}`)

	resp, body := h.do(t, h.newRequest(t, mustMarshal(t, evs)))
	var wr pulse.WireResponse
	if err := json.Unmarshal(body, &wr); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	// Ensure a key accepted earlier stays a duplicate, matching events are
	// rejected with a reason, and the rest are accepted.
	want := []string{"duplicate", "rejected", "accepted", "rejected"}
	for i, r := range wr.Results {
		if r.Status != want[i] {
			t.Errorf("%s: %s, want %s", r.IdempotencyKey, r.Status, want[i])
		}
		if (r.Status == pulse.ResultRejected) != (r.Error != "") {
			t.Errorf("%s: error %q with status %s", r.IdempotencyKey, r.Error, r.Status)
		}
	}
	if h.rv.Seen("bad-2") {
		t.Error("a rejected event was recorded as seen")
	}
	if st := h.rv.Stats(); st.Rejected != 2 || st.Unique != 2 || st.Duplicates != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestFaults(t *testing.T) {
	t.Run("ErrorRate", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{ErrorRate: 1})
		seen := map[int]bool{}
		for i := 0; i < 30; i++ {
			status, _ := h.statusOf(t, events("a"))
			seen[status] = true
		}
		if len(seen) != 3 || !seen[500] || !seen[502] || !seen[503] {
			t.Errorf("statuses %v, want 500, 502 and 503", seen)
		}
		// Ensure nothing was processed.
		if st := h.rv.Stats(); st.Batches != 0 || st.Requests != 30 || st.Faulted != 30 || h.rv.Seen("a") {
			t.Errorf("Stats = %+v", st)
		}
		MustSetFaults(t, h.rv, pulsetest.Faults{})
		h.MustSend(t, events("a"))
	})

	t.Run("ErrorRateReproducible", func(t *testing.T) {
		// Ensure the same seed gives the same sequence of answers.
		run := func(seed uint64) string {
			h := MustStart(t, pulsetest.Config{Seed: seed})
			MustSetFaults(t, h.rv, pulsetest.Faults{ErrorRate: 0.5})
			var b strings.Builder
			for i := 0; i < 40; i++ {
				status, _ := h.statusOf(t, events(fmt.Sprint(i)))
				fmt.Fprint(&b, status, " ")
			}
			return b.String()
		}
		a, b, c := run(7), run(7), run(8)
		if a != b {
			t.Errorf("seed 7 gave\n%s\n%s", a, b)
		}
		if a == c {
			t.Errorf("seeds 7 and 8 gave the same answers %s", a)
		}
		if !strings.Contains(a, "200") || strings.Count(a, "200") == 40 {
			t.Errorf("rate 0.5 gave %s", a)
		}
	})

	t.Run("TooMany", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{TooManyRate: 1, RetryAfter: 1500 * time.Millisecond})
		resp, _ := h.do(t, h.newRequest(t, mustMarshal(t, events("a"))))
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("%d Retry-After %q, want 429 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		MustSetFaults(t, h.rv, pulsetest.Faults{TooManyRate: 1, RetryAfter: time.Minute, RetryAfterDate: true})
		resp, _ = h.do(t, h.newRequest(t, mustMarshal(t, events("a"))))
		if got, want := resp.Header.Get("Retry-After"), t0.Add(time.Minute).UTC().Format(http.TimeFormat); got != want {
			t.Fatalf("Retry-After %q, want %q", got, want)
		}
		if h.rv.Seen("a") {
			t.Error("a 429 batch was recorded")
		}
	})

	t.Run("Latency", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{Latency: 60 * time.Millisecond})
		start := time.Now()
		h.MustSend(t, events("a"))
		if d := time.Since(start); d < 60*time.Millisecond {
			t.Fatalf("answered after %s, want at least 60ms", d)
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		// Ensure the events are recorded but the answer never comes, until
		// the client gives up.
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{TimeoutRate: 1})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := h.srv.Client().Do(h.newRequest(t, mustMarshal(t, events("a", "b"))).WithContext(ctx))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a client timeout", err)
		}
		if !h.rv.Seen("a") || !h.rv.Seen("b") {
			t.Fatal("the events were not recorded")
		}
		// Ensure the retry is answered duplicate once the fault is gone.
		MustSetFaults(t, h.rv, pulsetest.Faults{})
		if got := h.MustSend(t, events("a", "b")); got[0] != "duplicate" || got[1] != "duplicate" {
			t.Fatalf("retry: %v", got)
		}
	})

	t.Run("TimeoutReleasedByClose", func(t *testing.T) {
		// Ensure Close lets a server shut down while requests hang.
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{TimeoutRate: 1})
		req := h.newRequest(t, mustMarshal(t, events("a")))
		errc := make(chan error, 1)
		go func() {
			_, err := h.srv.Client().Do(req)
			errc <- err
		}()
		for !h.rv.Seen("a") {
			time.Sleep(time.Millisecond)
		}
		_ = h.rv.Close()
		select {
		case err := <-errc:
			if err == nil {
				t.Fatal("got an answer, want an aborted connection")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not release the request")
		}
	})

	t.Run("Drop", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{DropRate: 1})
		_, err := h.srv.Client().Do(h.newRequest(t, mustMarshal(t, events("a"))))
		if err == nil {
			t.Fatal("got an answer, want a closed connection")
		}
		if !h.rv.Seen("a") {
			t.Fatal("the event was not recorded before the drop")
		}
		if st := h.rv.Stats(); st.Faulted != 1 || st.Batches != 1 {
			t.Errorf("Stats = %+v", st)
		}
	})

	t.Run("Outage", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{Outage: true, RetryAfter: 30 * time.Second})
		resp, _ := h.do(t, h.newRequest(t, mustMarshal(t, events("a"))))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" {
			t.Fatalf("%d Retry-After %q, want 503 and 30", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})

	t.Run("OutageWindow", func(t *testing.T) {
		// Ensure the window follows Config.Now: answered before, 503 inside,
		// answered again after.
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{OutageStart: t0.Add(time.Minute), OutageEnd: t0.Add(2 * time.Minute)})
		for _, c := range []struct {
			at   time.Duration
			want int
		}{{0, 200}, {time.Minute, 503}, {119 * time.Second, 503}, {2 * time.Minute, 200}} {
			h.clock.Set(t0.Add(c.at))
			if status, _ := h.statusOf(t, events(fmt.Sprint(c.at))); status != c.want {
				t.Errorf("at +%s: %d, want %d", c.at, status, c.want)
			}
		}
	})

	t.Run("RejectAll400", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{RejectAll400: true})
		if status, code := h.statusOf(t, events("a")); status != http.StatusBadRequest || code != "bad_request" {
			t.Fatalf("%d %s, want 400 bad_request", status, code)
		}
		if h.rv.Seen("a") {
			t.Error("a rejected batch was recorded")
		}
	})

	t.Run("BadBatchPattern", func(t *testing.T) {
		// Ensure only batches holding the bad event are refused, so that a
		// splitting sender can isolate it.
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{BadBatchPattern: regexp.MustCompile(`^evil$`)})
		if status, _ := h.statusOf(t, events("a", "evil", "b")); status != http.StatusBadRequest {
			t.Fatalf("%d, want 400", status)
		}
		h.MustSend(t, events("a"))
		h.MustSend(t, events("b"))
		if status, _ := h.statusOf(t, events("evil")); status != http.StatusBadRequest {
			t.Fatalf("%d, want 400", status)
		}
	})

	t.Run("MaxEvents", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{MaxEvents: 2})
		if status, _ := h.statusOf(t, events("a", "b", "c")); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d, want 413", status)
		}
		h.MustSend(t, events("a", "b"))
	})

	t.Run("Unauthorized", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{Unauthorized: true})
		if status, _ := h.statusOf(t, events("a")); status != http.StatusUnauthorized {
			t.Fatalf("%d, want 401", status)
		}
	})

	t.Run("ErrValidate", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		for name, f := range map[string]pulsetest.Faults{
			"ErrorRate":   {ErrorRate: 1.5},
			"DropRate":    {DropRate: -0.1},
			"Latency":     {Latency: -time.Second},
			"OutageStart": {OutageStart: t0, OutageEnd: t0.Add(-time.Second)},
		} {
			if err := h.rv.SetFaults(f); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: err = %v", name, err)
			}
		}
		if h.rv.Faults() != (pulsetest.Faults{}) {
			t.Error("a refused SetFaults changed the faults")
		}
	})
}

func TestOnRequest(t *testing.T) {
	var mu sync.Mutex
	var got []pulsetest.Request
	h := MustStart(t, pulsetest.Config{OnRequest: func(r pulsetest.Request) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}})
	h.MustSend(t, events("a", "b"))
	MustSetFaults(t, h.rv, pulsetest.Faults{ErrorRate: 1})
	h.statusOf(t, events("a"), func(r *http.Request) { r.Header.Set(pulse.HeaderAttempt, "2") })

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d calls, want 2", len(got))
	}
	if want := (pulsetest.Request{BatchID: testBatchID, Attempt: "1", Events: 2, Status: 200}); got[0] != want {
		t.Errorf("first = %+v, want %+v", got[0], want)
	}
	if got[1].Attempt != "2" || got[1].Fault != pulsetest.FaultError || got[1].Status < 500 {
		t.Errorf("second = %+v", got[1])
	}
}

func TestStatsEndpoint(t *testing.T) {
	h := MustStart(t, pulsetest.Config{})
	h.MustSend(t, events("a", "b"))
	h.MustSend(t, events("a"))
	resp, err := h.srv.Client().Get(h.srv.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]int64{"received": 3, "unique": 2, "duplicates": 1, "rejected": 0, "batches": 2, "requests": 2} {
		if v, ok := m[k]; !ok || v != want {
			t.Errorf("%s = %d (present %v), want %d", k, v, ok, want)
		}
	}

	// Ensure Reset forgets keys and counters.
	h.rv.Reset()
	if h.rv.Seen("a") || h.rv.Stats() != (pulsetest.Stats{}) {
		t.Fatalf("after Reset: %+v", h.rv.Stats())
	}
	if got := h.MustSend(t, events("a")); got[0] != pulse.ResultAccepted {
		t.Fatalf("after Reset: %s", got[0])
	}
}

func TestConcurrentSenders(t *testing.T) {
	// Ensure overlapping batches from many senders count each key once.
	h := MustStart(t, pulsetest.Config{})
	const senders, batches, perBatch, keySpace = 8, 10, 20, 300
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				evs := make([]pulse.WireEvent, perBatch)
				for i := range evs {
					evs[i] = event(fmt.Sprint((s*7919 + b*perBatch + i) % keySpace))
				}
				if _, err := h.send(evs); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := h.rv.Stats()
	total := int64(senders * batches * perBatch)
	if st.Received != total || st.Unique+st.Duplicates != total || st.Unique > keySpace || st.Batches != senders*batches {
		t.Fatalf("Stats = %+v", st)
	}
}

// BenchmarkEvents measures a full request of 500 fresh events.
func BenchmarkEvents(b *testing.B) {
	h := MustStart(b, pulsetest.Config{MaxRecorded: -1})
	n := 0
	for b.Loop() {
		evs := make([]pulse.WireEvent, 500)
		for i := range evs {
			evs[i] = event(fmt.Sprintf("%08d-0000-4000-8000-000000000000", n))
			n++
		}
		h.MustSend(b, evs)
	}
}
