// Package queue is the durable-queue mechanism the Pulse event outbox and the
// Telegram message outbox share: how rows of a queue table are claimed under
// a lease, how a claim's outcome is recorded only while the lease is still
// the claimer's, how leases are renewed, and how long a failed row waits
// before its next try (exponential backoff with jitter, Retry-After).
//
// Each outbox keeps its own table and its own sending rules; this package
// knows only the columns every queue table has:
//
//	id               BIGINT primary key
//	status           'pending' | 'sending' | anything final ('sent', 'failed', …)
//	next_attempt_at  when a pending row falls due
//	lease_owner      the claim that holds a 'sending' row
//	lease_expires_at when another sender may reclaim it
//
// It sits in internal/ below both telegram and pulse, so that neither
// imports the other and no host can depend on it: the outboxes' exported
// APIs stay their own.
package queue
