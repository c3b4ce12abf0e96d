package pulse

import (
	"time"

	"github.com/telecart-go/telecart/internal/queue"
)

// Backoff returns the wait before the next try after attempt counted
// attempts (1 for the first failure): base doubled attempt-1 times, capped
// at maxDelay, with "equal jitter": half of it fixed and the other half scaled by
// jitter, a number in [0, 1). Keeping half fixed means the wait never
// collapses to nothing, so a failing server sees retries spread out and
// growing; the random half keeps many senders from retrying in step.
func Backoff(attempt int, base, maxDelay time.Duration, jitter float64) time.Duration {
	return queue.Backoff(attempt, base, maxDelay, jitter)
}

// retry is the configured retry policy, shared with the message outbox's.
func (c Config) retry() queue.Retry {
	return queue.Retry{Base: c.RetryBase, Max: c.RetryMax, MaxRetryAfter: c.MaxRetryAfter}
}

// backoff is Backoff with the configured base and cap and a random jitter.
func (c Config) backoff(attempt int) time.Duration { return c.retry().Backoff(attempt) }

// retryDelay is how long to wait after a transient failure: the backoff for
// attempt, but never less than Retry-After clamped to MaxRetryAfter.
func (c Config) retryDelay(attempt int, retryAfter time.Duration, hasRetryAfter bool) time.Duration {
	return c.retry().Delay(attempt, retryAfter, hasRetryAfter)
}
