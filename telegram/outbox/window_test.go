package outbox

import (
	"context"
	"testing"
	"time"
)

// Ensure the window lets sends at exact slots through without a wait and
// holds back a send that would make limit+1 in a second: a late send
// followed by sends on time.
func TestSendWindow(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := start
	var waited time.Duration
	now := func() time.Time { return clock }
	sleep := func(_ context.Context, d time.Duration) error { waited += d; clock = clock.Add(d); return nil }
	w := newSendWindow(29)
	if w.limit != 30 {
		t.Fatalf("limit %d at 29 a second, want 30", w.limit)
	}
	spacing := time.Second / 29
	var sends []time.Time
	send := func(at time.Time) {
		t.Helper()
		if at.After(clock) {
			clock = at
		}
		if err := w.wait(context.Background(), now, sleep); err != nil {
			t.Fatal(err)
		}
		sends = append(sends, clock)
	}
	// 100 sends at their slots: never a wait.
	for i := range 100 {
		send(start.Add(time.Duration(i) * spacing))
	}
	if waited != 0 {
		t.Fatalf("sends at their slots waited %v", waited)
	}
	// The next slot's send goes 25 ms late, the following thirty on time:
	// the window holds them back instead of letting 31 into one second.
	base := start.Add(100 * spacing)
	send(base.Add(25 * time.Millisecond))
	for i := 1; i <= 40; i++ {
		send(base.Add(time.Duration(i) * spacing))
	}
	if waited == 0 {
		t.Fatal("no send was held back after the late one")
	}
	for i := range sends {
		n := 0
		for _, s := range sends[i:] {
			if s.Sub(sends[i]) < time.Second+windowMargin {
				n++
			}
		}
		if n > w.limit {
			t.Fatalf("%d sends within a second from send %d at %v", n, i, sends[i].Sub(start))
		}
	}
	// A done context: no wait, no record.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stop := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	before := w.times[w.next]
	if err := w.wait(ctx, now, stop); err == nil {
		t.Fatal("wait with a done context returned nil")
	}
	if w.times[w.next] != before {
		t.Fatal("a refused wait was recorded")
	}
}
