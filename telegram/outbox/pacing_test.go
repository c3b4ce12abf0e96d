package outbox_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// Ensure a broadcast to 300 customers, with a second message to some of
// them, never makes more than 30 calls in any 1-second window, nor two to
// one private chat within 1 s; and every recipient gets it once.
func TestPacing_Broadcast300(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		o := e.mustOutbox(t, outbox.Config{WebAppURL: "https://shop.example/app/"})
		ctx := context.Background()
		const n, extra = 300, 20
		cs := e.mustCustomers(t, n, 10_000)
		b, err := o.CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "<b>Sale</b>", ButtonText: "Open shop"})
		if err != nil || b.Recipients != n || b.EstimatedSeconds < 10 {
			t.Fatalf("CreateBroadcast = %+v, %v", b, err)
		}
		for _, c := range cs[:extra] {
			mustEnqueue(t, o, outbox.Message{IdempotencyKey: "admin:x:" + c.TrackingID, ChatID: c.TelegramUserID, CustomerID: c.ID, Text: "also"})
		}
		if _, err := o.StartBroadcast(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer o.Stop(ctx)
		sent := e.api.WaitForSent(t, n+extra, 60*time.Second)
		checkPace(t, e.api.CallsTo("sendMessage"), 30, time.Second)
		perChat := map[int64]int{}
		for _, s := range sent {
			perChat[s.Params.ChatID]++
		}
		for i, c := range cs {
			want := 1
			if i < extra {
				want = 2
			}
			if perChat[c.TelegramUserID] != want {
				t.Errorf("customer %d got %d messages, want %d", i, perChat[c.TelegramUserID], want)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, err = o.Broadcast(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if b.Status == outbox.BroadcastStatusDone || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if b.Status != outbox.BroadcastStatusDone || b.Sent != n || b.Queued != 0 || b.ETASeconds != 0 {
			t.Errorf("broadcast after sending: %+v", b)
		}
	})
}

// checkPace fails t when more than perSecond calls fall in any window of
// one second, or two calls to one private chat are closer than chatGap.
func checkPace(t *testing.T, calls []botapitest.Call, perSecond int, chatGap time.Duration) {
	t.Helper()
	times := make([]time.Time, len(calls))
	for i, c := range calls {
		times[i] = c.Time
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	worst := 0
	for i := range times {
		j := i
		for j < len(times) && times[j].Sub(times[i]) < time.Second {
			j++
		}
		worst = max(worst, j-i)
	}
	if worst > perSecond {
		t.Errorf("%d calls within one second, want at most %d", worst, perSecond)
	}
	last := map[int64]time.Time{}
	for _, c := range calls {
		chat := c.ChatID()
		if prev, ok := last[chat]; ok && chat > 0 && c.Time.Sub(prev) < chatGap {
			t.Errorf("chat %d: two calls %s apart", chat, c.Time.Sub(prev))
		}
		last[chat] = c.Time
	}
	t.Logf("%d calls; at most %d in one second", len(calls), worst)
}

// Ensure a 429 with retry_after 3 keeps every message to that chat back for
// 3 s, also when the sender restarts in between, while other chats go on.
func TestPacing_RetryAfterSurvivesRestart(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		cs := e.mustCustomers(t, 3, 20_000)
		flooded := cs[0].TelegramUserID
		e.api.FailChat(flooded, botapitest.TooManyRequests(3*time.Second))
		first := e.mustOutbox(t, outbox.Config{})
		for i := range 2 {
			mustEnqueue(t, first, outbox.Message{IdempotencyKey: fmt.Sprintf("m%d", i), ChatID: flooded, CustomerID: cs[0].ID, Text: "hi"})
		}
		if err := first.Start(ctx); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(e.api.CallsTo("sendMessage")) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if err := first.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		second := e.mustOutbox(t, outbox.Config{})
		for i, c := range cs[1:] {
			mustEnqueue(t, second, outbox.Message{IdempotencyKey: fmt.Sprintf("other%d", i), ChatID: c.TelegramUserID, CustomerID: c.ID, Text: "hi"})
		}
		if err := second.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer second.Stop(ctx)
		e.api.WaitForSent(t, 4, 20*time.Second)
		calls := e.api.CallsTo("sendMessage")
		var toFlooded []time.Time
		var others []time.Time
		for _, c := range calls {
			if c.ChatID() == flooded {
				toFlooded = append(toFlooded, c.Time)
			} else {
				others = append(others, c.Time)
			}
		}
		if len(toFlooded) != 3 {
			t.Fatalf("%d calls to the flooded chat, want 3 (the 429, then two)", len(toFlooded))
		}
		for _, at := range toFlooded[1:] {
			if gap := at.Sub(toFlooded[0]); gap < 3*time.Second {
				t.Errorf("a call to the flooded chat %s after the 429, want at least 3s", gap)
			}
		}
		for _, at := range others {
			if at.Sub(toFlooded[0]) > 2500*time.Millisecond {
				t.Errorf("another chat waited for the flooded one: %s", at.Sub(toFlooded[0]))
			}
		}
	})
}

// Ensure two senders on one database share the queue and the pace: every
// recipient gets the broadcast once, and the pace holds across both.
func TestTwoSenders(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		const n = 120
		cs := e.mustCustomers(t, n, 30_000)
		a := e.mustOutbox(t, outbox.Config{SenderID: "a"})
		b := e.mustOutbox(t, outbox.Config{SenderID: "b"})
		bc, err := a.CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.StartBroadcast(ctx, bc.ID); err != nil {
			t.Fatal(err)
		}
		for _, o := range []*outbox.Outbox{a, b} {
			if err := o.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer o.Stop(ctx)
		}
		e.api.WaitForSent(t, n, 30*time.Second)
		time.Sleep(300 * time.Millisecond) // a repeat would show now
		got := map[int64]int{}
		for _, s := range e.api.Sent() {
			got[s.Params.ChatID]++
		}
		for _, c := range cs {
			if got[c.TelegramUserID] != 1 {
				t.Errorf("customer %d got %d messages", c.ID, got[c.TelegramUserID])
			}
		}
		checkPace(t, e.api.CallsTo("sendMessage"), 30, time.Second)
	})
}

// Ensure messages to one group (a negative chat id) keep Telegram's 20 a
// minute with the default pace, GroupIntervalDefault apart by the fake's
// recorded call times, while private chats beside them are not held back.
func TestPacing_GroupChat(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		o := e.mustOutbox(t, outbox.Config{})
		groups := []int64{-1001111, -1002222}
		const perGroup = 3
		for _, g := range groups {
			for i := range perGroup {
				mustEnqueue(t, o, outbox.Message{IdempotencyKey: fmt.Sprintf("order:%d:%d", -g, i), Kind: outbox.KindOrderOwner, ChatID: g, Text: "New order"})
			}
		}
		cs := e.mustCustomers(t, 10, 50_000)
		for _, c := range cs {
			mustEnqueue(t, o, outbox.Message{IdempotencyKey: "admin:g:" + c.TrackingID, ChatID: c.TelegramUserID, CustomerID: c.ID, Text: "hi"})
		}
		start := time.Now()
		if err := o.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer o.Stop(ctx)
		// The fake stamps a message with its call's time; no call failed.
		sent := e.api.WaitForSent(t, len(groups)*perGroup+len(cs), 30*time.Second)
		byGroup := map[int64][]time.Time{}
		for _, m := range sent {
			switch chat := m.Params.ChatID; {
			case chat < 0:
				byGroup[chat] = append(byGroup[chat], m.Time)
			case m.Time.Sub(start) > 2*time.Second:
				t.Errorf("a private chat's message went %s after the start: held back behind the groups", m.Time.Sub(start))
			}
		}
		for _, g := range groups {
			times := byGroup[g]
			if len(times) != perGroup {
				t.Fatalf("group %d: %d messages, want %d", g, len(times), perGroup)
			}
			for i := 1; i < len(times); i++ {
				if gap := times[i].Sub(times[i-1]); gap < outbox.GroupIntervalDefault {
					t.Errorf("group %d: calls %d and %d are %s apart, want at least %s", g, i-1, i, gap, outbox.GroupIntervalDefault)
				}
			}
			// The limit as Telegram states it: no minute with more than 20.
			for i := range times {
				n := 0
				for _, at := range times[i:] {
					if at.Sub(times[i]) < time.Minute {
						n++
					}
				}
				if n > 20 {
					t.Errorf("group %d: %d calls within a minute", g, n)
				}
			}
		}
		if 20*outbox.GroupIntervalDefault < time.Minute {
			t.Errorf("GroupIntervalDefault %s allows more than 20 a minute", outbox.GroupIntervalDefault)
		}
		checkPace(t, e.api.CallsTo("sendMessage"), 30, time.Second)
	})
}

// Ensure Telegram's answer that a group became a supergroup
// (parameters.migrate_to_chat_id) re-targets the message, and every other
// one queued to the old id, to the new id: they are sent there, not failed,
// the old id is asked once, and OnChatMigrated tells the host.
func TestSend_MigrateToChat(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		const oldID, newID = int64(-500123), int64(-1009998887)
		e.api.FailChat(oldID, botapitest.Fault{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat",
			MigrateToChatID: newID, Times: -1})
		type move struct{ from, to int64 }
		var moves []move
		// A short group interval: the new group's pace is not what this proves.
		o := e.mustOutbox(t, outbox.Config{GroupInterval: 100 * time.Millisecond, OnChatMigrated: func(ctx context.Context, from, to int64) {
			if ctx.Err() != nil {
				t.Errorf("OnChatMigrated got a done context: %v", ctx.Err())
			}
			moves = append(moves, move{from, to})
		}})
		var ids []int64
		for i := range 3 {
			m := mustEnqueue(t, o, outbox.Message{IdempotencyKey: fmt.Sprintf("order:%d:owner", i), Kind: outbox.KindOrderOwner,
				ChatID: oldID, Text: fmt.Sprintf("<b>Order %d</b>", i), ParseMode: "HTML"})
			ids = append(ids, m.ID)
		}
		drain(t, o, 30*time.Second, func() bool {
			for _, id := range ids {
				if !statusIs(o, id, outbox.StatusSent, outbox.StatusFailed) {
					return false
				}
			}
			return true
		})
		for _, id := range ids {
			m, err := o.Get(ctx, id)
			if err != nil || m.Status != outbox.StatusSent || m.ChatID != newID {
				t.Errorf("message %d: %+v, %v; want sent to %d", id, m, err, newID)
			}
		}
		if n := len(e.api.CallsTo("sendMessage")); n != 4 {
			t.Errorf("%d calls, want 4: one to the old id, three to the new", n)
		}
		for _, s := range e.api.Sent() {
			if s.Params.ChatID != newID {
				t.Errorf("a message went to %d", s.Params.ChatID)
			}
		}
		if len(moves) != 1 || moves[0] != (move{oldID, newID}) {
			t.Errorf("OnChatMigrated calls = %v, want one from %d to %d", moves, oldID, newID)
		}
	})
}
