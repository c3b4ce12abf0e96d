package queue

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

// Retry is a retry policy: the backoff's base and cap, and the longest
// Retry-After honoured.
type Retry struct {
	Base, Max     time.Duration
	MaxRetryAfter time.Duration
}

// Backoff is Backoff with the policy's base and cap and a random jitter.
func (r Retry) Backoff(attempt int) time.Duration {
	return Backoff(attempt, r.Base, r.Max, rand.Float64())
}

// Delay is how long to wait after a transient failure: the backoff for
// attempt, but never less than a Retry-After (when the answer had one)
// clamped to MaxRetryAfter, so that a misconfigured server cannot park
// rows for days.
func (r Retry) Delay(attempt int, retryAfter time.Duration, hasRetryAfter bool) time.Duration {
	d := r.Backoff(attempt)
	if hasRetryAfter {
		d = max(d, min(retryAfter, r.MaxRetryAfter))
	}
	return d
}
