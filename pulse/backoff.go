package pulse

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
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

// ParseRetryAfter reads a Retry-After header value: delay-seconds (a
// non-negative integer) or an HTTP date, taken relative to now (a date in
// the past means 0). It reports false for an empty or unparsable value.
// The result is not clamped; callers apply their own maximum.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return time.Duration(1<<63 - 1), true // absurdly long: the caller's clamp decides
			}
			return 0, false
		}
		if n > int64((1<<63-1)/time.Second) {
			return time.Duration(1<<63 - 1), true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
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
