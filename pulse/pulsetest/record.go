package pulsetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/telecart-go/telecart/pulse"
)

// Events returns the events the receiver accepted, in arrival order: each
// idempotency key once, as first accepted (a duplicate or rejected event is
// not among them), up to Config.MaxRecorded. An event is recorded when it
// is accepted, before the answer reaches the sender, which may not have
// marked it sent yet.
func (rv *Receiver) Events() []pulse.WireEvent {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	out := slices.Clone(rv.events)
	for i := range out {
		out[i].Payload = bytes.Clone(out[i].Payload)
	}
	return out
}

// Requests returns the POST /v1/events requests the receiver answered (or,
// under the timeout and drop faults, decided not to answer), in order, up
// to Config.MaxRecorded. The same values go to Config.OnRequest.
func (rv *Receiver) Requests() []Request {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.requests)
}

// WaitForEvents blocks until at least n events have been accepted and
// returns Events; Requests then holds the requests that carried them. When ctx ends first, it returns the events so far and an
// error saying how many arrived. It fails at once when n is more than
// Config.MaxRecorded keeps, as that wait could never end.
func (rv *Receiver) WaitForEvents(ctx context.Context, n int) ([]pulse.WireEvent, error) {
	if n > rv.keep {
		return nil, fmt.Errorf("pulsetest: waiting for %d events, but the receiver keeps %d; raise Config.MaxRecorded", n, rv.keep)
	}
	for {
		rv.mu.Lock()
		got, arrived := len(rv.events), rv.arrived
		rv.mu.Unlock()
		if got >= n {
			return rv.Events(), nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return rv.Events(), fmt.Errorf("pulsetest: %d of %d events arrived: %w", got, n, context.Cause(ctx))
		}
	}
}

// MustWaitForEvents is WaitForEvents for a test: it waits up to timeout and
// fails tb, with the receiver's counters and last request, when fewer than
// n events arrived. Like tb.Fatal, call it from the test's goroutine.
func (rv *Receiver) MustWaitForEvents(tb testing.TB, n int, timeout time.Duration) []pulse.WireEvent {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	evs, err := rv.WaitForEvents(ctx, n)
	if err != nil {
		last := "none"
		if reqs := rv.Requests(); len(reqs) > 0 {
			last = fmt.Sprintf("%+v", reqs[len(reqs)-1])
		}
		tb.Fatalf("%v (waited %s); receiver %+v; last request %s", err, timeout, rv.Stats(), last)
	}
	return evs
}
