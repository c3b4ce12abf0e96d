// Package pulsetest is a fake Pulse API for tests: a host's tests of its
// shop and the library's own tests of the Pulse sender. It serves
// POST /v1/events as docs/pulse-protocol.md describes (it checks the API
// key and the payload signature, deduplicates events by idempotency key and
// answers a result per event) and records what it accepted, so that a test
// can check what a pulse.Pulse delivered without sleeping.
//
// A test starts one with NewServer and points its Pulse at it:
//
//	srv := pulsetest.NewServer(t, pulsetest.Config{})
//	p, err := pulse.New(db, pulse.Config{URL: srv.URL, APIKey: srv.APIKey, Secret: srv.Secret})
//	// … start p, place an order, then:
//	evs := srv.MustWaitForEvents(t, 1, 10*time.Second)
//	// evs[0].Event == pulse.EventOrderCreated, evs[0].CampaignID == "spring24", …
//
// Events returns the accepted events, whole and in arrival order, and
// Requests each request with its batch id, attempt, answer and fault. Both
// are bounded by Config.MaxRecorded; load tests turn recording off and read
// Stats and Seen, which cost 16 bytes per key.
//
// SetFaults scripts failures, effective from the next request, so that a
// test can prove that the sender loses no event and counts none twice:
//
//   - 5xx: ErrorRate (500, 502 or 503 at random), Outage, and an outage
//     window from OutageStart to OutageEnd by Config.Now;
//   - 429 with Retry-After: TooManyRate, with RetryAfter in seconds or, with
//     RetryAfterDate, as an HTTP date (also sent on outage 503s);
//   - 401: Unauthorized, as after a key rotation;
//   - rejections: RejectPattern answers "rejected" per matching event,
//     BadBatchPattern a 400 for a batch holding one, RejectAll400 a 400 for
//     every batch, MaxEvents a 413 for a batch of more events;
//   - the network: Latency before any answer; TimeoutRate records a batch
//     but never answers, until the client gives up; DropRate records it and
//     closes the connection.
//
// The rates draw from a source seeded by Config.Seed, so a run is
// reproducible; Request.Fault names the fault that decided each answer.
package pulsetest
