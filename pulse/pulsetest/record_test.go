package pulsetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

func keysOf(evs []pulse.WireEvent) string {
	keys := make([]string, len(evs))
	for i, e := range evs {
		keys[i] = e.IdempotencyKey
	}
	return strings.Join(keys, ",")
}

func TestRecord(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// Ensure accepted events are kept whole, once each, in arrival
		// order; duplicates and rejected events are not.
		h := MustStart(t, pulsetest.Config{})
		MustSetFaults(t, h.rv, pulsetest.Faults{RejectPattern: regexp.MustCompile(`^bad$`)})
		first := events("a", "b")
		first[1].Event, first[1].CampaignID, first[1].TrackingID = pulse.EventSearch, "c-42", "trk-2"
		first[1].OccurredAt = t0.Add(1500 * time.Microsecond)
		first[1].Payload = json.RawMessage(`{"q":"socks"}`)
		h.MustSend(t, first)
		h.MustSend(t, events("b", "bad", "c"))

		got := h.rv.Events()
		if keysOf(got) != "a,b,c" {
			t.Fatalf("Events = %s, want a,b,c", keysOf(got))
		}
		b := got[1]
		if b.Event != pulse.EventSearch || b.CampaignID != "c-42" || b.TrackingID != "trk-2" ||
			!b.OccurredAt.Equal(first[1].OccurredAt) || string(b.Payload) != `{"q":"socks"}` {
			t.Errorf("event b = %+v, want it as sent: %+v", b, first[1])
		}
		// Ensure a caller cannot change what the receiver holds.
		got[0].Payload[2] = 'X'
		if p := h.rv.Events()[0].Payload; string(p) != `{"product_id":42}` {
			t.Errorf("payload after a caller's edit: %s", p)
		}
	})

	t.Run("Requests", func(t *testing.T) {
		// Ensure every request is recorded in order with its answer and the
		// fault that decided it, the same values OnRequest gets.
		h := MustStart(t, pulsetest.Config{})
		h.MustSend(t, events("a", "b"))
		MustSetFaults(t, h.rv, pulsetest.Faults{TooManyRate: 1, RetryAfter: time.Second})
		h.statusOf(t, events("c"), func(r *http.Request) { r.Header.Set(pulse.HeaderAttempt, "2") })
		MustSetFaults(t, h.rv, pulsetest.Faults{})
		h.statusOf(t, events("c"), func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") })

		want := []pulsetest.Request{
			{BatchID: testBatchID, Attempt: "1", Events: 2, Status: 200},
			{BatchID: testBatchID, Attempt: "2", Status: 429, Fault: pulsetest.FaultTooMany},
			{BatchID: testBatchID, Attempt: "1", Status: 401},
		}
		if got := h.rv.Requests(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Requests =\n%+v\nwant\n%+v", got, want)
		}
	})

	t.Run("MaxRecorded", func(t *testing.T) {
		// Ensure recording stops at the bound while dedupe and counters go
		// on, and a wait past the bound fails at once instead of hanging.
		h := MustStart(t, pulsetest.Config{MaxRecorded: 2})
		h.MustSend(t, events("a", "b", "c"))
		if got := h.MustSend(t, events("c")); got[0] != pulse.ResultDuplicate {
			t.Fatalf("c again: %s, want duplicate", got[0])
		}
		if got := keysOf(h.rv.Events()); got != "a,b" {
			t.Errorf("Events = %s, want a,b", got)
		}
		if n := len(h.rv.Requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
		h.MustSend(t, events("d"))
		if n := len(h.rv.Requests()); n != 2 {
			t.Errorf("%d requests kept, want 2", n)
		}
		if st := h.rv.Stats(); st.Unique != 4 {
			t.Errorf("Stats = %+v, want 4 unique", st)
		}
		if _, err := h.rv.WaitForEvents(context.Background(), 3); err == nil || !strings.Contains(err.Error(), "MaxRecorded") {
			t.Errorf("WaitForEvents(3) = %v, want an error naming MaxRecorded", err)
		}
	})

	t.Run("Off", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{MaxRecorded: -1})
		h.MustSend(t, events("a"))
		if evs, reqs := h.rv.Events(), h.rv.Requests(); len(evs) != 0 || len(reqs) != 0 {
			t.Fatalf("kept %d events and %d requests, want none", len(evs), len(reqs))
		}
		if !h.rv.Seen("a") {
			t.Fatal("dedupe stopped with recording")
		}
	})

	t.Run("Reset", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		h.MustSend(t, events("a"))
		h.rv.Reset()
		if len(h.rv.Events()) != 0 || len(h.rv.Requests()) != 0 {
			t.Fatal("Reset kept recorded events or requests")
		}
	})
}

func TestWaitForEvents(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// Ensure a waiter wakes when the events arrive, from another
		// goroutine, without polling.
		h := MustStart(t, pulsetest.Config{})
		errc := make(chan error, 1)
		go func() {
			time.Sleep(20 * time.Millisecond)
			if _, err := h.send(events("a")); err != nil {
				errc <- err
				return
			}
			_, err := h.send(events("a", "b", "c"))
			errc <- err
		}()
		got := h.rv.MustWaitForEvents(t, 3, 10*time.Second)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if keysOf(got) != "a,b,c" {
			t.Fatalf("got %s, want a,b,c", keysOf(got))
		}
		if n := len(h.rv.Requests()); n != 2 {
			t.Fatalf("%d requests, want the 2 that carried the events", n)
		}
	})

	t.Run("ErrDeadline", func(t *testing.T) {
		// Ensure a wait that cannot be met ends with ctx, saying how many
		// arrived, and returns those.
		h := MustStart(t, pulsetest.Config{})
		h.MustSend(t, events("a"))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		got, err := h.rv.WaitForEvents(ctx, 2)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 of 2") {
			t.Fatalf("err = %v, want a deadline saying 1 of 2", err)
		}
		if keysOf(got) != "a" {
			t.Fatalf("got %s, want a", keysOf(got))
		}
	})

	t.Run("AlreadyThere", func(t *testing.T) {
		h := MustStart(t, pulsetest.Config{})
		h.MustSend(t, events("a", "b"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // no wait is needed, so a done ctx does not matter
		if got, err := h.rv.WaitForEvents(ctx, 2); err != nil || len(got) != 2 {
			t.Fatalf("WaitForEvents = %d events, %v", len(got), err)
		}
	})
}
