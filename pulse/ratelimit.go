package pulse

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// IngestRateDefault is how many client events one customer may send to the
// ingest endpoint per minute, in bursts of up to as many. A Mini App sends a
// handful a minute; a script replaying one initData is held to this.
const IngestRateDefault = 300

// customerLimiter holds one token bucket per customer, in memory: each
// replica of a shop limits on its own, so a customer spread over n replicas
// gets at most n times the rate.
type customerLimiter struct {
	perMinute int

	mu      sync.Mutex
	buckets map[int64]*bucket
}

type bucket struct {
	limiter *rate.Limiter
	last    time.Time
}

// customerLimiterMax is how many buckets are kept before idle ones are
// swept: a bucket idle for a minute has refilled and is like a new one.
const customerLimiterMax = 10000

func newCustomerLimiter(perMinute int) *customerLimiter {
	return &customerLimiter{perMinute: perMinute, buckets: map[int64]*bucket{}}
}

// take takes n events for customer at now. When the bucket has too few, it
// takes nothing and says how long to wait.
func (l *customerLimiter) take(customer int64, n int, now time.Time) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[customer]
	if b == nil {
		if len(l.buckets) >= customerLimiterMax {
			l.sweep(now)
		}
		b = &bucket{limiter: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.buckets[customer] = b
	}
	b.last = now
	r := b.limiter.ReserveN(now, n)
	if !r.OK() {
		return time.Minute, false // more than a whole burst in one request
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// sweep drops the buckets idle for a minute or more.
func (l *customerLimiter) sweep(now time.Time) {
	for id, b := range l.buckets {
		if now.Sub(b.last) >= time.Minute {
			delete(l.buckets, id)
		}
	}
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1, for the
// Retry-After header.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
