package pulse

import (
	"math/rand/v2"
	"time"
)

// Backoff returns the wait before the next try after attempt counted
// attempts (1 for the first failure): base doubled attempt-1 times, capped
// at maxDelay, with "equal jitter": half of it fixed and the other half scaled by
// jitter, a number in [0, 1). Keeping half fixed means the wait never
// collapses to nothing, so a failing server sees retries spread out and
// growing; the random half keeps many senders from retrying in step.
func Backoff(attempt int, base, maxDelay time.Duration, jitter float64) time.Duration {
	if base <= 0 {
		return 0
	}
	maxDelay = max(maxDelay, base)
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	if d > maxDelay || d <= 0 { // d <= 0: overflow
		d = maxDelay
	}
	switch {
	case jitter < 0 || jitter != jitter: // NaN
		jitter = 0
	case jitter >= 1:
		jitter = 1
	}
	half := d / 2
	return half + time.Duration(float64(d-half)*jitter)
}

// backoff is Backoff with the configured base and cap and a random jitter.
func (c Config) backoff(attempt int) time.Duration {
	return Backoff(attempt, c.RetryBase, c.RetryMax, rand.Float64())
}

// retryDelay is how long to wait after a transient failure: the backoff for
// attempt, but never less than Retry-After clamped to MaxRetryAfter.
func (c Config) retryDelay(attempt int, retryAfter time.Duration, hasRetryAfter bool) time.Duration {
	d := c.backoff(attempt)
	if hasRetryAfter {
		retryAfter = min(retryAfter, c.MaxRetryAfter)
		d = max(d, retryAfter)
	}
	return d
}
