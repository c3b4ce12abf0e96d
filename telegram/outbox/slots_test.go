package outbox_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// stallingClock is a clock that jumps ahead once, after the first message
// is sent, as it looks to a process that was not scheduled for a while.
type stallingClock struct {
	outbox.Sender
	stall  time.Duration
	offset atomic.Int64
}

func (c *stallingClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *stallingClock) SendMessage(ctx context.Context, p botapi.SendMessageParams) (botapi.Message, error) {
	m, err := c.Sender.SendMessage(ctx, p)
	c.offset.CompareAndSwap(0, int64(c.stall))
	return m, err
}

// Ensure a sender that missed its slot gives the rest of its batch's slots
// back from now: the next message goes out as soon as the stall ends, not
// after the second of slots the batch had taken, and the pace holds.
func TestMissedSlotGivesSlotsBack(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		clock := &stallingClock{Sender: e.client, stall: 300 * time.Millisecond}
		o := e.mustOutbox(t, outbox.Config{Bot: clock, Now: clock.Now})
		const n = 29 // one claim's worth: a second of slots
		for i := range n {
			mustEnqueue(t, o, outbox.Message{IdempotencyKey: "slot:" + strconv.Itoa(i), ChatID: int64(6000 + i), Text: "hi"})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		rep, err := o.SendOnce(ctx)
		if err != nil || rep.Sent != n || rep.Released != n-1 {
			t.Fatalf("SendOnce = %+v, %v; want %d sent, the last %d after a release", rep, err, n, n-1)
		}
		calls := e.api.CallsTo("sendMessage")
		// The batch's slots ran to 1s after the first; the stall ate 300ms
		// of them.
		if gap := calls[1].Time.Sub(calls[0].Time); gap > 400*time.Millisecond {
			t.Errorf("the second message went %s after the first, want at once", gap)
		}
		checkPace(t, calls, 30, time.Second)
	})
}
