// Package activity fills an empty demo shop with about a month of
// plausible life, so that the admin panel has something to show the first
// time it opens: a few hundred customers in English and Russian, three
// campaigns with signed links, their visits with a realistic funnel,
// orders priced from the demo catalogue, a few Pulse deliveries that failed
// and wait for a requeue, new-order notices and a finished broadcast in the
// message outbox, and log lines of every level.
//
// Everything goes through the library's own code: a telecart.TeleCart over
// the shop's database whose clock the filler moves through the month,
// customers saved and consenting through telegram.CustomerStore, events
// stored with pulse.TrackTx in one transaction per simulated hour, orders
// placed through telecart.OrderService (the storefront's order flow),
// campaigns made through pulse.Campaigns and settings saved through
// telecart.SettingsStore. No SQL of its own.
//
// The history is made up, so none of it leaves the machine: Pulse events
// are delivered to an in-process pulsetest.Receiver (whose clock follows
// the month's, so signatures stay valid) and messages to an in-process
// stand-in for the Bot API. Nothing is left pending for the shop's real
// senders, which would otherwise send fake history to a real Pulse
// service or a real bot.
//
//	rep, err := activity.Fill(ctx, activity.Config{DB: db, BotToken: token, Seed: 1})
//	// rep.Customers == 300, rep.Orders ≈ 60, rep.FailedEvents ≥ 3 …
package activity
