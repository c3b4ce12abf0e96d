package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// broadcastEnv is a running outbox, n customers and a started broadcast to
// them, at rate messages a second: slow enough to act on mid-way.
type broadcastEnv struct {
	*env
	o     *outbox.Outbox
	cs    []telegram.Customer
	id    int64
	chats map[int64]bool
}

func startBroadcast(t *testing.T, db migrator.DB, n int, rate float64, base int64, before func(*broadcastEnv)) *broadcastEnv {
	t.Helper()
	e := &broadcastEnv{env: newEnv(t, db)}
	ctx := context.Background()
	e.o = e.mustOutbox(t, outbox.Config{GlobalRate: rate})
	e.cs = e.mustCustomers(t, n, base)
	e.chats = map[int64]bool{}
	for _, c := range e.cs {
		e.chats[c.TelegramUserID] = true
	}
	if before != nil {
		before(e)
	}
	b, err := e.o.CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "<b>Sale</b> today"})
	if err != nil {
		t.Fatal(err)
	}
	// Ensure a draft's progress is all queued, with a time to wait.
	if b.Status != outbox.BroadcastStatusDraft || b.Recipients != int64(n) || b.Queued != int64(n) || b.ETASeconds <= 0 {
		t.Fatalf("draft = %+v", b)
	}
	e.id = b.ID
	if err := e.o.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.o.Stop(context.Background()) })
	if b, err = e.o.StartBroadcast(ctx, b.ID); err != nil || b.Status != outbox.BroadcastStatusRunning {
		t.Fatalf("StartBroadcast = %+v, %v", b, err)
	}
	return e
}

// delivered counts the broadcast's messages the fake accepted, per chat.
func (e *broadcastEnv) delivered() (int, map[int64]int) {
	per := map[int64]int{}
	n := 0
	for _, m := range e.api.Sent() {
		if e.chats[m.Params.ChatID] {
			per[m.Params.ChatID]++
			n++
		}
	}
	return n, per
}

func (e *broadcastEnv) waitDelivered(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, _ := e.delivered(); got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d delivered after 30s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// get returns the broadcast and checks that its progress adds up.
func (e *broadcastEnv) get(t *testing.T) outbox.Broadcast {
	t.Helper()
	b, err := e.o.Broadcast(context.Background(), e.id)
	if err != nil {
		t.Fatal(err)
	}
	if sum := b.Queued + b.Sent + b.Failed + b.Blocked; b.Status != outbox.BroadcastStatusCancelled && sum != b.Recipients {
		t.Errorf("%s: queued %d + sent %d + failed %d + blocked %d = %d, want the %d recipients",
			b.Status, b.Queued, b.Sent, b.Failed, b.Blocked, sum, b.Recipients)
	}
	return b
}

// settled waits until no message of the broadcast is in a sender's hands:
// the ones claimed before a pause or a cancel are sent (or back).
func (e *broadcastEnv) settled(t *testing.T) outbox.Counts {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := e.o.Count(context.Background(), e.id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Sending == 0 {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages still sending after 30s: %+v", c)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *broadcastEnv) waitDone(t *testing.T) outbox.Broadcast {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b := e.get(t)
		if b.Status == outbox.BroadcastStatusDone {
			return b
		}
		if b.Status == outbox.BroadcastStatusRunning && b.ETASeconds <= 0 && b.Queued > 0 {
			t.Errorf("running with %d queued and ETA %d", b.Queued, b.ETASeconds)
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after 60s: %+v", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ensure a paused broadcast sends nothing new (only the messages a sender
// had claimed finish), keeps its queued messages with a time left, and
// resumes to done with every recipient served once.
func TestBroadcast_PauseResume(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		const n = 60
		e := startBroadcast(t, db, n, 20, 40_000, nil)
		ctx := context.Background()
		e.waitDelivered(t, 10)
		b, err := e.o.PauseBroadcast(ctx, e.id)
		if err != nil || b.Status != outbox.BroadcastStatusPaused {
			t.Fatalf("PauseBroadcast = %+v, %v", b, err)
		}
		atPause, err := e.o.Count(ctx, e.id)
		if err != nil {
			t.Fatal(err)
		}
		// What was sent, or claimed and may still go: nothing else may.
		bound := int(atPause.Sent + atPause.Sending)
		e.settled(t)
		sent, _ := e.delivered()
		time.Sleep(1500 * time.Millisecond) // several slots and a sweep
		if again, _ := e.delivered(); again != sent || sent > bound {
			t.Fatalf("paused: %d delivered at the pause (%d sent or claimed), %d after it settled, %d 1.5 s later", sent, bound, sent, again)
		}
		if sent >= n {
			t.Fatalf("all %d delivered before the pause took effect", n)
		}
		b = e.get(t)
		if b.Status != outbox.BroadcastStatusPaused || b.Queued != int64(n-sent) || b.Sent != int64(sent) || b.ETASeconds <= 0 {
			t.Errorf("paused broadcast after %d sent: %+v", sent, b)
		}
		// Ensure a paused broadcast cannot be paused again.
		if _, err := e.o.PauseBroadcast(ctx, e.id); !errors.Is(err, outbox.ErrBroadcastState) || tcerr.KindOf(err) != tcerr.Conflict {
			t.Errorf("second PauseBroadcast = %v", err)
		}

		if b, err = e.o.StartBroadcast(ctx, e.id); err != nil || b.Status != outbox.BroadcastStatusRunning {
			t.Fatalf("resume = %+v, %v", b, err)
		}
		b = e.waitDone(t)
		time.Sleep(300 * time.Millisecond) // a repeat would show now
		total, per := e.delivered()
		if total != n || len(per) != n {
			t.Errorf("%d messages to %d recipients after resuming, want %d to %d", total, len(per), n, n)
		}
		for chat, k := range per {
			if k != 1 {
				t.Errorf("chat %d got %d messages", chat, k)
			}
		}
		if b.Sent != n || b.Queued != 0 || b.ETASeconds != 0 || b.FinishedAt == nil {
			t.Errorf("done: %+v", b)
		}
	})
}

// Ensure cancelling a running broadcast cancels every message not sent:
// after the ones a sender had claimed, nothing more goes out, and the
// broadcast cannot be started again.
func TestBroadcast_CancelRunning(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		const n = 60
		e := startBroadcast(t, db, n, 20, 41_000, nil)
		ctx := context.Background()
		e.waitDelivered(t, 10)
		b, err := e.o.CancelBroadcast(ctx, e.id)
		if err != nil || b.Status != outbox.BroadcastStatusCancelled {
			t.Fatalf("CancelBroadcast = %+v, %v", b, err)
		}
		atCancel, err := e.o.Count(ctx, e.id)
		if err != nil {
			t.Fatal(err)
		}
		bound := int(atCancel.Sent + atCancel.Sending)
		c := e.settled(t)
		sent, _ := e.delivered()
		time.Sleep(1500 * time.Millisecond)
		if again, _ := e.delivered(); again != sent || sent > bound {
			t.Fatalf("cancelled: %d sent or claimed at the cancel, %d delivered once settled, %d 1.5 s later", bound, sent, again)
		}
		if c.Pending+c.Paused != 0 || c.Cancelled != int64(n-sent) || c.Sent != int64(sent) || c.Cancelled == 0 {
			t.Errorf("counts after the cancel with %d sent: %+v", sent, c)
		}
		b = e.get(t)
		if b.Status != outbox.BroadcastStatusCancelled || b.Queued != 0 || b.ETASeconds != 0 || b.Sent != int64(sent) || b.FinishedAt == nil {
			t.Errorf("cancelled broadcast: %+v", b)
		}
		for _, control := range []func(context.Context, int64) (outbox.Broadcast, error){e.o.StartBroadcast, e.o.PauseBroadcast, e.o.CancelBroadcast} {
			if _, err := control(ctx, e.id); !errors.Is(err, outbox.ErrBroadcastState) {
				t.Errorf("a control after the cancel = %v, want ErrBroadcastState", err)
			}
		}
		if got, _ := e.delivered(); got != sent {
			t.Errorf("%d delivered after the controls, want %d", got, sent)
		}
	})
}

// Ensure a broadcast's progress adds up at every moment (queued + sent +
// failed + blocked = recipients), its ETA is positive while messages wait
// and 0 once done, and refusals land in failed (400) and blocked (403).
func TestBroadcast_Progress(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		const n, blocked, refused = 40, 5, 3
		e := startBroadcast(t, db, n, 40, 42_000, func(e *broadcastEnv) {
			for _, c := range e.cs[:blocked] {
				e.api.FailChat(c.TelegramUserID, botapitest.Fault{Code: 403, Description: "Forbidden: bot was blocked by the user", Times: -1})
			}
			for _, c := range e.cs[blocked : blocked+refused] {
				e.api.FailChat(c.TelegramUserID, botapitest.BadRequest("Bad Request: chat not found"))
			}
		})
		b := e.waitDone(t) // checks every sample on the way
		if b.Sent != n-blocked-refused || b.Failed != refused || b.Blocked != blocked || b.Queued != 0 || b.ETASeconds != 0 {
			t.Errorf("done: %+v", b)
		}
		if b.EstimatedSeconds != 1 {
			t.Errorf("EstimatedSeconds = %d, want 1 (40 at 40 a second)", b.EstimatedSeconds)
		}
	})
}

// Ensure the messages a sender had claimed but not sent when the broadcast
// was paused or cancelled, and that it hands back (here: it stops), follow
// the broadcast: paused or cancelled, never sent by the next sender; and a
// resumed broadcast still serves everyone once.
func TestBroadcast_ReleasedFollowControl(t *testing.T) {
	for _, control := range []string{"pause", "cancel"} {
		t.Run(control, func(t *testing.T) {
			eachDB(t, func(t *testing.T, db migrator.DB) {
				const n = 60
				e := startBroadcast(t, db, n, 20, 43_000, nil)
				ctx := context.Background()
				e.waitDelivered(t, 3)
				var err error
				if control == "pause" {
					_, err = e.o.PauseBroadcast(ctx, e.id)
				} else {
					_, err = e.o.CancelBroadcast(ctx, e.id)
				}
				if err != nil {
					t.Fatal(err)
				}
				// Stop hands back what the sender holds but has not sent.
				if err := e.o.Stop(ctx); err != nil {
					t.Fatal(err)
				}
				sent, _ := e.delivered()
				c, err := e.o.Count(ctx, e.id)
				if err != nil {
					t.Fatal(err)
				}
				if c.Pending+c.Sending != 0 || c.Sent != int64(sent) {
					t.Errorf("after %s and stop, %d delivered: %+v; want nothing pending", control, sent, c)
				}
				next := e.mustOutbox(t, outbox.Config{GlobalRate: 20})
				if err := next.Start(ctx); err != nil {
					t.Fatal(err)
				}
				defer next.Stop(ctx)
				time.Sleep(1500 * time.Millisecond)
				if again, _ := e.delivered(); again != sent {
					t.Fatalf("%d delivered after %s and a restart, %d before", again, control, sent)
				}
				if control == "cancel" {
					return
				}
				e.o = next
				if _, err := next.StartBroadcast(ctx, e.id); err != nil {
					t.Fatal(err)
				}
				e.waitDone(t)
				total, per := e.delivered()
				if total != n || len(per) != n {
					t.Errorf("%d messages to %d recipients, want %d to %d", total, len(per), n, n)
				}
			})
		})
	}
}

// Ensure, on both dialects, that a broadcast goes only to customers who can
// be messaged: one who never allowed the bot to write and one who blocked it
// are not among its recipients and get nothing.
func TestBroadcast_OnlyMessageable(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		const n = 6
		var silent, blocked telegram.Customer
		e := startBroadcast(t, db, n, 40, 46_000, func(e *broadcastEnv) {
			ctx := context.Background()
			var err error
			if silent, err = e.customers.Save(ctx, telegram.User{ID: 46_900, FirstName: "Silent"}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if blocked, err = e.customers.Save(ctx, telegram.User{ID: 46_901, FirstName: "Blocked", AllowsWriteToPM: true}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := e.customers.MarkUnreachable(ctx, blocked.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}) // it checks the draft's recipients: the n messageable customers
		if b := e.waitDone(t); b.Sent != n {
			t.Errorf("done: %+v, want %d sent", b, n)
		}
		for _, m := range e.api.Sent() {
			if m.Params.ChatID == silent.TelegramUserID || m.Params.ChatID == blocked.TelegramUserID {
				t.Errorf("a broadcast message went to chat %d, who cannot be messaged", m.Params.ChatID)
			}
		}
	})
}
