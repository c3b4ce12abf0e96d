package pulse_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/tcerr"
)

// recorder collects what hooks are called with; safe for concurrent use.
type recorder[T any] struct {
	mu  sync.Mutex
	got []T
}

func (r *recorder[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, v)
}

// take returns what was recorded and forgets it.
func (r *recorder[T]) take() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

func (r *recorder[T]) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// sumReports adds up the event counts of reports.
func sumReports(reports []pulse.DeliveryReport) (sum pulse.SendReport, requests int) {
	for _, r := range reports {
		sum.Claimed += r.Claimed
		sum.Sent += r.Sent
		sum.Retried += r.Retried
		sum.Failed += r.Failed
		sum.Released += r.Released
		requests += r.Requests
	}
	return sum, requests
}

func TestOnDelivery(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		clk := newClock()
		var log requestLog
		rv, url := MustNewReceiver(t, pulsetest.Config{Now: clk.Now, OnRequest: log.add})
		var reports recorder[pulse.DeliveryReport]
		cfg := testConfig(url)
		cfg.Now, cfg.OnDelivery = clk.Now, reports.add
		p := MustNew(t, db, cfg)

		// Ensure an accepted batch is reported once, after its events are
		// stored as sent, under the batch id and attempt it was sent with.
		t.Run("OK", func(t *testing.T) {
			MustTrackN(t, p, db, "ok", 5)
			MustSendOnce(t, p)
			got := reports.take()
			if len(got) != 1 {
				t.Fatalf("%d reports, want 1: %+v", len(got), got)
			}
			r, reqs := got[0], log.all()
			want := pulse.SendReport{Claimed: 5, Sent: 5}
			if r.SendReport != want || r.Requests != 1 || r.HTTPStatus != 200 || r.Reason != "" || r.Attempt != 1 ||
				r.BatchID == "" || r.BatchID != reqs[len(reqs)-1].BatchID || r.Duration <= 0 {
				t.Errorf("report %+v, want %+v in one request of batch %s", r, want, reqs[len(reqs)-1].BatchID)
			}
			if c := MustCounts(t, p); c.Sent != 5 {
				t.Errorf("counts %+v when reported", c)
			}
		})

		// Ensure a rejected event is counted failed with its reason, the
		// rest sent.
		t.Run("Rejected", func(t *testing.T) {
			MustSetFaults(t, rv, pulsetest.Faults{RejectPattern: regexp.MustCompile(`^rej-2$`)})
			MustTrackN(t, p, db, "rej", 4)
			MustSendOnce(t, p)
			got := reports.take()
			if len(got) != 1 || got[0].SendReport != (pulse.SendReport{Claimed: 4, Sent: 3, Failed: 1}) ||
				got[0].Reason != MustLookup(t, p, "rej-2").LastError || got[0].Reason == "" {
				t.Errorf("reports %+v, want 3 sent and 1 failed with its reason", got)
			}
		})

		// Ensure a batch the API calls malformed is one report with every
		// request it took to isolate the bad event.
		t.Run("Split", func(t *testing.T) {
			MustSetFaults(t, rv, pulsetest.Faults{BadBatchPattern: regexp.MustCompile(`^split-5$`)})
			MustTrackN(t, p, db, "split", 8)
			before := len(log.all())
			MustSendOnce(t, p)
			got := reports.take()
			if len(got) != 1 {
				t.Fatalf("%d reports, want 1: %+v", len(got), got)
			}
			r := got[0]
			if r.SendReport != (pulse.SendReport{Claimed: 8, Sent: 7, Failed: 1}) || r.Requests != len(log.all())-before ||
				r.Requests < 4 || !strings.Contains(r.Reason, "HTTP 400") {
				t.Errorf("report %+v, want 7 sent and 1 failed over %d requests with the 400", r, len(log.all())-before)
			}
		})

		// Ensure a transient failure reports the retry and the answer, and
		// the next attempt its number.
		t.Run("Retry", func(t *testing.T) {
			MustSetFaults(t, rv, pulsetest.Faults{Outage: true})
			MustTrackN(t, p, db, "retry", 3)
			MustSendOnce(t, p)
			got := reports.take()
			if len(got) != 1 || got[0].SendReport != (pulse.SendReport{Claimed: 3, Retried: 3}) ||
				got[0].HTTPStatus != 503 || !strings.HasPrefix(got[0].Reason, "HTTP 503") || got[0].Attempt != 1 {
				t.Fatalf("reports %+v, want 3 retried after a 503", got)
			}
			MustSetFaults(t, rv, pulsetest.Faults{})
			clk.Advance(time.Minute)
			MustSendOnce(t, p)
			got = reports.take()
			if len(got) != 1 || got[0].SendReport != (pulse.SendReport{Claimed: 3, Sent: 3}) || got[0].Attempt != 2 || got[0].Reason != "" {
				t.Errorf("reports %+v, want 3 sent at attempt 2", got)
			}
		})
	})
}

// Ensure the reports of a background run through random faults add up to
// what the outbox and the receiver saw: every counted attempt is one event
// sent, retried or failed, and every request is in some report.
func TestOnDelivery_Background(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		rv, url := MustNewReceiver(t, pulsetest.Config{Seed: 7})
		MustSetFaults(t, rv, pulsetest.Faults{ErrorRate: 0.3, TooManyRate: 0.1})
		var reports recorder[pulse.DeliveryReport]
		cfg := testConfig(url)
		cfg.BatchSize, cfg.Concurrency, cfg.OnDelivery = 7, 2, reports.add
		p := MustNew(t, db, cfg)
		keys := MustTrackN(t, p, db, "bg", 40)
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "every event sent", func() bool { return MustCounts(t, p).Sent == 40 })
		if err := p.Stop(ctx); err != nil { // no report comes after Stop
			t.Fatal(err)
		}
		sum, requests := sumReports(reports.take())
		attempts := 0
		for _, k := range keys {
			attempts += MustLookup(t, p, k).Attempts
		}
		st := rv.Stats()
		if sum.Sent != 40 || sum.Failed != 0 || sum.Sent+sum.Retried != attempts || sum.Retried == 0 ||
			requests != int(st.Requests) || sum.Claimed != sum.Sent+sum.Retried+sum.Released {
			t.Errorf("reports add up to %+v in %d requests; outbox %d attempts, receiver %+v", sum, requests, attempts, st)
		}
	})
}

func TestOnStateChange(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()

		// Ensure refused credentials report one pause with the answer, a
		// paused SendOnce nothing more, and SetCredentials the resumption.
		t.Run("SetCredentials", func(t *testing.T) {
			rv, url := MustNewReceiver(t, pulsetest.Config{})
			MustSetFaults(t, rv, pulsetest.Faults{Unauthorized: true})
			var states recorder[pulse.SenderState]
			cfg := testConfig(url)
			cfg.RetryBase, cfg.RetryMax, cfg.OnStateChange = time.Minute, time.Hour, states.add
			p := MustNew(t, db, cfg)
			MustTrack(t, p, testEvent("k1"))
			for range 2 {
				if _, err := p.SendOnce(ctx); !errors.Is(err, pulse.ErrUnauthorized) {
					t.Fatalf("SendOnce = %v, want ErrUnauthorized", err)
				}
			}
			got := states.take()
			if len(got) != 1 || !got[0].AuthFailing || !strings.Contains(got[0].LastError, "HTTP 401") || got[0].PausedUntil.IsZero() {
				t.Fatalf("states %+v, want one pause with the 401", got)
			}
			if err := p.SetCredentials(url, testAPIKey, testSecret); err != nil {
				t.Fatal(err)
			}
			if got := states.take(); len(got) != 1 || got[0].AuthFailing || !got[0].PausedUntil.IsZero() {
				t.Fatalf("states %+v, want one resumption", got)
			}
		})

		// Ensure the background sender reports the pause once however often
		// its probes are refused, and the resumption when one is accepted.
		t.Run("Background", func(t *testing.T) {
			rv, url := MustNewReceiver(t, pulsetest.Config{})
			MustSetFaults(t, rv, pulsetest.Faults{Unauthorized: true})
			var states recorder[pulse.SenderState]
			cfg := testConfig(url)
			cfg.OnStateChange = states.add
			p := MustNew(t, db, cfg)
			MustTrack(t, p, testEvent("k2"))
			if err := p.Start(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "three refused probes", func() bool { return rv.Stats().Unauthorized >= 3 })
			MustSetFaults(t, rv, pulsetest.Faults{})
			waitFor(t, 5*time.Second, "delivery", func() bool { return rv.Seen("k2") && states.len() >= 2 })
			got := states.take()
			if len(got) != 2 || !got[0].AuthFailing || got[1].AuthFailing || !got[0].Running {
				t.Errorf("states %+v, want a pause then a resumption", got)
			}
		})
	})
}

// Ensure every ingest request is reported once with the counts it was
// answered, or with why it was refused.
func TestIngestOnResult(t *testing.T) {
	migratortest.Each(t, ingestSources(), func(t *testing.T, db migrator.DB) {
		var reports recorder[pulse.IngestReport]
		s := newIngestServerWith(t, db, reports.add)
		raw := s.initData(301, s.link(t, "spring24"), "hooks")
		body := ingestBody(ingestEv("h-1", pulse.EventProductView), ingestEv("h-2", pulse.EventAddToCart))
		for i, want := range []pulse.IngestResponse{{Accepted: 2}, {Duplicates: 2}} {
			if res := s.mustIngest(t, raw, body); res != want {
				t.Fatalf("request %d answered %+v, want %+v", i, res, want)
			}
			if got := reports.take(); len(got) != 1 || got[0].IngestResponse != want || got[0].Err != nil {
				t.Fatalf("request %d reported %+v, want %+v", i, got, want)
			}
		}
		// No campaign to credit: dropped.
		noCampaign := s.initData(302, "", "hooks")
		if res := s.mustIngest(t, noCampaign, ingestBody(ingestEv("h-3", pulse.EventSearch))); res != (pulse.IngestResponse{Dropped: 1}) {
			t.Fatalf("answered %+v, want 1 dropped", res)
		}
		if got := reports.take(); len(got) != 1 || got[0].IngestResponse != (pulse.IngestResponse{Dropped: 1}) {
			t.Fatalf("reported %+v, want 1 dropped", got)
		}
		// A server event from the client: refused whole.
		wantIngestError(t, s.post(t, raw, ingestBody(ingestEv("h-4", pulse.EventOrderCreated))), http.StatusBadRequest)
		if got := reports.take(); len(got) != 1 || tcerr.KindOf(got[0].Err) != tcerr.Invalid || got[0].IngestResponse != (pulse.IngestResponse{}) {
			t.Fatalf("reported %+v, want one invalid refusal", got)
		}
		// Refused by the init data middleware: the handler never runs.
		wantIngestError(t, s.post(t, "", body), http.StatusUnauthorized)
		if n := reports.len(); n != 0 {
			t.Fatalf("%d reports for a request the middleware refused", n)
		}
	})
}
