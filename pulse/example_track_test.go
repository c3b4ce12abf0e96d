package pulse_test

import (
	"context"
	"fmt"

	"github.com/telecart-go/telecart/pulse"
)

// Track stores an event once, drops one without attribution, and the
// sender delivers what was stored. A real host calls Start instead of
// SendOnce and lets the background sender deliver.
func ExamplePulse_Track() {
	ctx := context.Background()
	db, url, cleanup := exampleSetup() // a migrated SQLite database and a reference receiver
	defer cleanup()

	p, err := pulse.New(db, pulse.Config{URL: url, APIKey: testAPIKey, Secret: testSecret})
	if err != nil {
		panic(err)
	}
	ev := pulse.Event{
		Name:           pulse.EventWebAppOpen,
		IdempotencyKey: "initdata-hash-5f2b", // reloading the Mini App sends the same hash
		CampaignID:     "spring24",
		TrackingID:     "7f1c2b9e",
		Payload:        map[string]any{"platform": "ios"},
	}
	for range 2 {
		res, err := p.Track(ctx, ev)
		fmt.Println(res.Outcome, err)
	}
	ev.IdempotencyKey, ev.TrackingID = "initdata-hash-9a01", "" // a visitor without a tracking_id
	res, err := p.Track(ctx, ev)
	fmt.Println(res.Outcome, res.Reason, err)

	rep, err := p.SendOnce(ctx)
	fmt.Printf("%+v %v\n", rep, err)
	counts, err := p.Counts(ctx)
	fmt.Printf("%+v %v\n", counts, err)
	fmt.Println("dropped:", p.Dropped())
	// Output:
	// stored <nil>
	// duplicate <nil>
	// dropped missing or malformed tracking_id <nil>
	// {Claimed:1 Sent:1 Failed:0 Retried:0 Released:0} <nil>
	// {Pending:0 Sending:0 Sent:1 Failed:0} <nil>
	// dropped: 1
}
