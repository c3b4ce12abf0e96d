package pulse

import (
	"testing"
	"time"
)

// TestCustomerLimiterBounded ensures the buckets of customers idle for a
// minute are dropped once customerLimiterMax are kept, so a stream of new
// customers cannot grow memory without bound, while busy buckets stay.
func TestCustomerLimiterBounded(t *testing.T) {
	l := newCustomerLimiter(10)
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if _, ok := l.take(1, 10, t0); !ok {
		t.Fatal("a full burst was refused")
	}
	for id := int64(2); id <= customerLimiterMax; id++ {
		l.take(id, 1, t0)
	}
	later := t0.Add(2 * time.Minute)
	l.take(1, 1, later) // customer 1 is busy again
	l.take(customerLimiterMax+1, 1, later)
	if n := len(l.buckets); n != 2 {
		t.Fatalf("%d buckets after the sweep; want the 2 used since", n)
	}
	if wait, ok := l.take(1, 10, later); ok || wait <= 0 {
		t.Fatalf("customer 1's bucket was reset by the sweep: ok=%v wait=%v", ok, wait)
	}
	if wait, ok := l.take(3, 11, later); ok || wait != time.Minute {
		t.Fatalf("more than a burst: ok=%v wait=%v", ok, wait)
	}
}
