// Package pulse is TeleCart Pulse: event tracking that does not lose an
// event when the analytics service or the network is down.
//
// An interaction (the Mini App opened, an order created, …) becomes an
// Event. Track validates it and stores one row in the outbox table
// ({prefix}pulse_events, created by MigrationSource); TrackTx does the same
// inside the host's transaction, so that an event is stored if and only if
// the business write is. Events without a well-formed campaign_id and
// tracking_id are dropped and counted (Dropped), and a repeated
// idempotency key is a no-op.
//
// The sender (Start, Stop, SendOnce) delivers the outbox to the Pulse API
// as docs/pulse-protocol.md describes: it claims a batch under a lease
// (FOR UPDATE SKIP LOCKED on MySQL/MariaDB, so that several processes share
// the queue), POSTs it outside any transaction, signed with PayloadSigner,
// and records each event as sent, retried later with exponential backoff
// and jitter (never sooner than Retry-After), or failed with the reason. A
// batch the API calls malformed is split until the bad event stands alone;
// refused credentials pause sending without using up attempts. The sender
// is woken at once by Track and sweeps on a cron schedule (or, with
// NoSweep, leaves the sweep to the host's scheduler); Stop lets
// in-flight batches finish or releases them at its deadline. Counts,
// OldestPending and State feed stats and health checks.
//
// The package also holds the protocol's pieces shared with other code: the
// event names (IsKnownEvent, IsClientEvent), the wire types, PayloadSigner,
// and StartParamSerializer for the campaign links whose start_param carries
// the campaign_id. At the edges: IngestHandler (POST /api/ingest) turns the
// Mini App's client events into TrackTx with the campaign from the signed
// initData (Attribution) and the customer's tracking_id, never from the
// body; StatsCache and AdminHandler give the admin delivery health at a
// glance and requeue failed events; PurgeSent and PurgeFailed keep the
// outbox small; ETLHandler serves the customers export the Pulse service
// pulls.
//
// A host wires it like this:
//
//	p, err := pulse.New(migrator.DB{DB: sqlDB, Dialect: migrator.MySQL, Prefix: "telecart_"}, pulse.Config{
//		URL:    "https://pulse.example.com",
//		APIKey: apiKey,
//		Secret: secret,
//	})
//	if err != nil { ... }
//	if err := p.Start(ctx); err != nil { ... }
//	defer p.Stop(shutdownCtx)
//
//	// In the order flow, inside the host's transaction:
//	res, err := p.TrackTx(ctx, tx, pulse.Event{
//		Name:           pulse.EventOrderCreated,
//		IdempotencyKey: "order-" + orderID,
//		CampaignID:     attribution.CampaignID,
//		TrackingID:     customer.TrackingID,
//		Payload:        map[string]any{"total": "19.90", "currency": "EUR"},
//	})
//	// … commit, then optionally p.Wake() for delivery without delay.
package pulse
