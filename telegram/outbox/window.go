package outbox

import (
	"context"
	"math"
	"sync"
	"time"
)

// windowMargin is how much more than a second the sliding window asks
// between a send and the one limit sends before it: a little room for a
// call's trip to Telegram, small enough that sends at their slots never
// wait (at 29 a second, 31 slots span 1.03 s).
const windowMargin = 20 * time.Millisecond

// sendWindow holds this process's sends to at most limit in any second,
// whatever their slots say. Slots alone allow one more in a second when a
// send goes late (within SlotTolerance) and the next on time: at 29 a
// second, a send 25 ms late and thirty on time after it fit 31 calls in a
// second. The window closes that gap for one process; replicas share the
// slots but not this window.
type sendWindow struct {
	mu    sync.Mutex
	times []time.Time // the last limit sends' times, a ring from next
	next  int
	limit int
}

// newSendWindow returns the window for a pace of rate messages a second:
// as many a second as exact slots can put in one (30 at 29 a second).
func newSendWindow(rate float64) *sendWindow {
	limit := int(math.Floor(rate)) + 1
	return &sendWindow{times: make([]time.Time, 0, limit), limit: limit}
}

// wait returns when a send may start without making limit+1 in a second,
// and records it; sleep waits (the sender's sleep, or a test's clock). It
// returns ctx's error when ctx is done first, and records nothing then.
func (w *sendWindow) wait(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(w.times) == w.limit {
		if d := w.times[w.next].Add(time.Second + windowMargin).Sub(now()); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	t := now()
	if len(w.times) < w.limit {
		w.times = append(w.times, t)
		return nil
	}
	w.times[w.next] = t
	w.next = (w.next + 1) % w.limit
	return nil
}
