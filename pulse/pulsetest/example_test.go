package pulsetest_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// A host's test starts the fake Pulse API, points its Pulse at it, tracks
// an event, and checks what the API received, without sleeping. In a real
// test, t is the test's *testing.T and db the host's test database.
func Example() {
	t, db := exampleSetup()
	defer t.cleanup()
	ctx := context.Background()

	srv := pulsetest.NewServer(t, pulsetest.Config{})
	p, err := pulse.New(db, pulse.Config{URL: srv.URL, APIKey: srv.APIKey, Secret: srv.Secret,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(ctx)

	_, err = p.Track(ctx, pulse.Event{
		Name:           pulse.EventOrderCreated,
		IdempotencyKey: "order-1001",
		CampaignID:     "spring24",
		TrackingID:     "7f1c2b9e",
		Payload:        map[string]any{"total": "19.90", "currency": "EUR"},
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, ev := range srv.MustWaitForEvents(t, 1, 10*time.Second) {
		fmt.Println(ev.Event, ev.IdempotencyKey, ev.CampaignID, ev.TrackingID, string(ev.Payload))
	}
	for _, r := range srv.Requests() {
		fmt.Printf("attempt %s: %d, %d event(s)\n", r.Attempt, r.Status, r.Events)
	}
	// Output:
	// ORDER_CREATED order-1001 spring24 7f1c2b9e {"currency":"EUR","total":"19.90"}
	// attempt 1: 200, 1 event(s)
}

// Faults are scripted: here the Pulse API is down, answering 503 with
// Retry-After, and the event waits in the outbox, its next attempt not
// before the time the API asked for.
func ExampleReceiver_SetFaults() {
	t, db := exampleSetup()
	defer t.cleanup()
	ctx := context.Background()

	srv := pulsetest.NewServer(t, pulsetest.Config{})
	if err := srv.SetFaults(pulsetest.Faults{Outage: true, RetryAfter: time.Minute}); err != nil {
		t.Fatal(err)
	}
	p, err := pulse.New(db, pulse.Config{URL: srv.URL, APIKey: srv.APIKey, Secret: srv.Secret,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Track(ctx, pulse.Event{Name: pulse.EventWebAppOpen, IdempotencyKey: "initdata-hash-5f2b",
		CampaignID: "spring24", TrackingID: "7f1c2b9e"})
	if err != nil {
		t.Fatal(err)
	}

	rep, err := p.SendOnce(ctx) // one pass of the sender, in the foreground
	fmt.Printf("%+v %v\n", rep, err)
	r := srv.Requests()[0]
	fmt.Printf("the API answered %d (fault %s); accepted %d\n", r.Status, r.Fault, len(srv.Events()))
	ev, err := p.Lookup(ctx, "initdata-hash-5f2b")
	fmt.Println(ev.Status, ev.LastHTTPStatus, "next attempt in", time.Until(ev.NextAttemptAt).Round(time.Minute), err)
	// Output:
	// {Claimed:1 Sent:0 Failed:0 Retried:1 Released:0} <nil>
	// the API answered 503 (fault outage); accepted 0
	// pending 503 next attempt in 1m0s <nil>
}
