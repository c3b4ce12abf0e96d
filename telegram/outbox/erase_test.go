package outbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// gateBot is a Sender that records every call and holds the first call to
// one chat until released, answering it with err: a message in flight.
type gateBot struct {
	mu      sync.Mutex
	sent    []botapi.SendMessageParams
	hold    int64 // the chat whose next call is held; 0: none
	err     error // the held call's answer
	held    chan struct{}
	release chan struct{}
}

func newGateBot(hold int64, err error) *gateBot {
	return &gateBot{hold: hold, err: err, held: make(chan struct{}), release: make(chan struct{})}
}

func (g *gateBot) SendMessage(ctx context.Context, p botapi.SendMessageParams) (botapi.Message, error) {
	g.mu.Lock()
	g.sent = append(g.sent, p)
	n := len(g.sent)
	hold := g.hold != 0 && p.ChatID == g.hold
	if hold {
		g.hold = 0
	}
	g.mu.Unlock()
	if hold {
		close(g.held)
		<-g.release
		return botapi.Message{}, g.err
	}
	return botapi.Message{MessageID: int64(n), Chat: botapi.Chat{ID: p.ChatID}}, nil
}

// calls returns the texts sent to chat.
func (g *gateBot) calls(chat int64) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, p := range g.sent {
		if p.ChatID == chat {
			out = append(out, p.Text)
		}
	}
	return out
}

// The person erased in the outbox's erasure tests.
const (
	eraseTelegramID = 987650123
	eraseName       = "Zinaida"
)

// mustScanOutbox returns, for every row of the outbox's tables that holds
// one of needles in any column, a line naming the table and the column.
func mustScanOutbox(t *testing.T, db migrator.DB, needles ...string) []string {
	t.Helper()
	var hits []string
	for _, table := range []string{outbox.MessagesTable, outbox.ChatsTable, outbox.PaceTable, outbox.BroadcastsTable} {
		rows, err := db.QueryContext(context.Background(), "SELECT * FROM "+db.Table(table))
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				for _, n := range needles {
					if strings.Contains(string(v), n) {
						hits = append(hits, fmt.Sprintf("%s.%s holds %q: %s", table, cols[i], n, v))
					}
				}
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return hits
}

// Ensure, on both dialects, that erasing a customer (the outbox's
// EraseCustomerTx, in the erasure's transaction) cancels every message to
// them that was not sent yet: pending, paused with its broadcast, and
// claimed by a sender but waiting behind the message in flight; that none
// of them is sent then or later; that the message in flight, whose answer
// comes after the erasure, writes nothing of them back (no pacing row from
// its 429, no retry); and that no stored field of the outbox holds their
// chat id or the texts to them, while a message already sent stays counted.
func TestEraseCustomer(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		zina, err := e.customers.Save(ctx, telegram.User{ID: eraseTelegramID, FirstName: eraseName, Username: "zina_q",
			LanguageCode: "ru", AllowsWriteToPM: true}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		other := e.mustCustomers(t, 1, 5000)[0]
		text := func(s string) string { return s + " for " + eraseName }

		// A message delivered through the paced outbox leaves the chat's
		// pacing row.
		bot := newGateBot(0, nil)
		paced := e.mustOutbox(t, outbox.Config{Bot: bot})
		e.customers.AddEraser(paced)
		m0 := mustEnqueue(t, paced, outbox.Message{IdempotencyKey: "m0", ChatID: zina.TelegramUserID, CustomerID: zina.ID, Text: text("sent")})
		drain(t, paced, 10*time.Second, func() bool { return statusIs(paced, m0.ID, outbox.StatusSent) })
		if n := countRows(t, db, outbox.ChatsTable, "chat_id = ?", eraseTelegramID); n != 1 {
			t.Fatalf("%d pacing rows for the chat, want 1", n)
		}

		// A broadcast to them (the one speaker of Russian), paused with its
		// message queued.
		b, err := paced.CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "Spring sale",
			Filter: outbox.BroadcastFilter{Filters: map[string]string{"language_code": "ru"}}})
		if err != nil || b.Recipients != 1 {
			t.Fatalf("CreateBroadcast = %+v, %v", b, err)
		}
		if _, err := paced.StartBroadcast(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := paced.EnqueueBroadcasts(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := paced.PauseBroadcast(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		paused := findMessage(t, paced, "broadcast:"+strconv.FormatInt(b.ID, 10)+":"+strconv.FormatInt(zina.ID, 10))
		if paused.Status != outbox.StatusPaused {
			t.Fatalf("broadcast message %+v, want paused", paused)
		}

		// An unpaced sender claims two messages to them at once: the first
		// goes in flight and is held there, the second waits behind it; a
		// third stays pending.
		gate := newGateBot(eraseTelegramID, &botapi.Error{Method: "sendMessage", Code: http.StatusTooManyRequests,
			Description: "Too Many Requests: retry after 5", RetryAfter: 5 * time.Second})
		unpaced := e.mustOutbox(t, outbox.Config{Bot: gate, NoPacing: true, UnpacedBatch: 2})
		inFlight := mustEnqueue(t, unpaced, outbox.Message{IdempotencyKey: "m1", ChatID: zina.TelegramUserID, CustomerID: zina.ID, Text: text("in flight")})
		claimed := mustEnqueue(t, unpaced, outbox.Message{IdempotencyKey: "m2", ChatID: zina.TelegramUserID, CustomerID: zina.ID, Text: text("claimed")})
		pending := mustEnqueue(t, unpaced, outbox.Message{IdempotencyKey: "m3", ChatID: zina.TelegramUserID, CustomerID: zina.ID, Text: text("pending")})
		toOther := mustEnqueue(t, unpaced, outbox.Message{IdempotencyKey: "m4", ChatID: other.TelegramUserID, CustomerID: other.ID, Text: "For C0"})
		done := make(chan error, 1)
		go func() {
			_, err := unpaced.SendOnce(ctx)
			done <- err
		}()
		select {
		case <-gate.held:
		case <-time.After(10 * time.Second):
			t.Fatal("the first message never went in flight")
		}
		if !statusIs(unpaced, claimed.ID, outbox.StatusSending) || !statusIs(unpaced, pending.ID, outbox.StatusPending) {
			t.Fatal("the second message is not claimed behind the first, or the third not pending")
		}

		if _, err := e.customers.Erase(ctx, zina.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{inFlight.ID, claimed.ID, pending.ID, paused.ID} {
			if !statusIs(unpaced, id, outbox.StatusCancelled) {
				m, _ := unpaced.Get(ctx, id)
				t.Errorf("message %d is %s after the erasure, want cancelled", id, m.Status)
			}
		}
		close(gate.release)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("SendOnce did not return")
		}
		// Any sender, any later time: nothing more goes to them.
		if _, err := paced.StartBroadcast(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		for _, o := range []*outbox.Outbox{unpaced, paced} {
			if _, err := o.SendOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := gate.calls(eraseTelegramID); len(got) != 1 || got[0] != text("in flight") {
			t.Errorf("sent to the erased person after the claim: %q; want only the message in flight", got)
		}
		if got := bot.calls(eraseTelegramID); len(got) != 1 || got[0] != text("sent") {
			t.Errorf("the paced sender sent them %q; want only the first message, before the erasure", got)
		}
		if !statusIs(unpaced, toOther.ID, outbox.StatusSent) {
			t.Error("the other customer's message was not sent")
		}
		for _, id := range []int64{inFlight.ID, claimed.ID, pending.ID, paused.ID} {
			if m, err := unpaced.Get(ctx, id); err != nil || m.Status != outbox.StatusCancelled || m.Text != "" || m.ChatID == eraseTelegramID {
				t.Errorf("message %d after the erasure: %+v, %v", id, m, err)
			}
		}
		if m, err := paced.Get(ctx, m0.ID); err != nil || m.Status != outbox.StatusSent || m.Text != "" {
			t.Errorf("the message sent before the erasure: %+v, %v; want it sent, blanked", m, err)
		}
		if c, err := paced.Count(ctx, 0); err != nil || c.Sent != 2 {
			t.Errorf("counts %+v, %v; want the 2 sent messages counted", c, err)
		}
		for _, hit := range mustScanOutbox(t, db, strconv.Itoa(eraseTelegramID), eraseName) {
			t.Error(hit)
		}
	})
}

// Ensure, on both dialects, that a claimed message whose row bears the
// erasure's blanking while still the claim's (a claim that leased a row an
// erasure had blanked, which the claim's locks are there to prevent) is not
// sent from the claim's copy, but cancelled, and that the pacing row the
// claim wrote for the person's chat goes.
func TestEraseCustomer_ClaimRace(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		zina, err := e.customers.Save(ctx, telegram.User{ID: eraseTelegramID, FirstName: eraseName, AllowsWriteToPM: true}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		other := e.mustCustomers(t, 1, 5000)[0]
		gate := newGateBot(other.TelegramUserID, nil)
		o := e.mustOutbox(t, outbox.Config{Bot: gate, NoPacing: true, UnpacedBatch: 2})
		mustEnqueue(t, o, outbox.Message{IdempotencyKey: "m1", ChatID: other.TelegramUserID, CustomerID: other.ID, Text: "For C0"})
		m := mustEnqueue(t, o, outbox.Message{IdempotencyKey: "m2", ChatID: zina.TelegramUserID, CustomerID: zina.ID, Text: "For " + eraseName})
		done := make(chan error, 1)
		go func() {
			_, err := o.SendOnce(ctx)
			done <- err
		}()
		<-gate.held
		// What such a lease leaves: the row the sender's, blanked, and the
		// claim's pacing row for the chat.
		if _, err := db.ExecContext(ctx, "UPDATE "+db.Table(outbox.MessagesTable)+" SET chat_id = ?, text = '' WHERE id = ?", -zina.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO "+db.Table(outbox.ChatsTable)+" (chat_id, not_before) VALUES (?, ?)",
			eraseTelegramID, db.Dialect.EncodeTime(time.Now())); err != nil {
			t.Fatal(err)
		}
		close(gate.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := gate.calls(eraseTelegramID); len(got) != 0 {
			t.Errorf("sent to the erased person: %q", got)
		}
		if !statusIs(o, m.ID, outbox.StatusCancelled) {
			got, _ := o.Get(ctx, m.ID)
			t.Errorf("message %+v, want cancelled", got)
		}
		if n := countRows(t, db, outbox.ChatsTable, "chat_id = ?", eraseTelegramID); n != 0 {
			t.Errorf("%d pacing rows left for the chat", n)
		}
	})
}

// Ensure, on both dialects, that a running broadcast does not queue a
// message to a recipient erased after it read its recipients and before
// its transaction: the transaction reads them again.
func TestEraseCustomer_BroadcastChunk(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		zina, err := e.customers.Save(ctx, telegram.User{ID: eraseTelegramID, FirstName: eraseName, AllowsWriteToPM: true}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		others := e.mustCustomers(t, 2, 5000)
		o := e.mustOutbox(t, outbox.Config{})
		e.customers.AddEraser(o)
		b, err := o.CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "Spring sale"})
		if err != nil || b.Recipients != 3 {
			t.Fatalf("CreateBroadcast = %+v, %v", b, err)
		}
		if _, err := o.StartBroadcast(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		erased := false
		outbox.SetAfterRecipientsForTest(o, func() {
			if !erased {
				erased = true
				if _, err := e.customers.Erase(ctx, zina.ID); err != nil {
					t.Error(err)
				}
			}
		})
		if queued, err := o.EnqueueBroadcasts(ctx); err != nil || !queued {
			t.Fatalf("EnqueueBroadcasts = %v, %v", queued, err)
		}
		if !erased {
			t.Fatal("the erasure did not run between the read and the transaction")
		}
		list, err := o.List(ctx, outbox.ListQuery{PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		to := map[int64]bool{}
		for _, m := range list.Data {
			to[m.CustomerID] = true
			if m.ChatID == eraseTelegramID {
				t.Errorf("queued to the erased person: %+v", m)
			}
		}
		if len(list.Data) != 2 || !to[others[0].ID] || !to[others[1].ID] {
			t.Fatalf("queued %+v, want the two others", list.Data)
		}
		if got, err := o.Broadcast(ctx, b.ID); err != nil || got.Recipients != 2 || got.Queued != 2 {
			t.Fatalf("broadcast %+v, %v; want 2 recipients, 2 queued", got, err)
		}
		for _, hit := range mustScanOutbox(t, db, strconv.Itoa(eraseTelegramID), eraseName) {
			t.Error(hit)
		}
	})
}

// findMessage returns the message with the idempotency key.
func findMessage(t *testing.T, o *outbox.Outbox, key string) outbox.Message {
	t.Helper()
	list, err := o.List(context.Background(), outbox.ListQuery{PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list.Data {
		if m.IdempotencyKey == key {
			return m
		}
	}
	t.Fatalf("no message %s", key)
	return outbox.Message{}
}

// countRows counts the rows of the outbox's table (unprefixed) that match
// where.
func countRows(t *testing.T, db migrator.DB, table, where string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+db.Table(table)+" WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Ensure, on both dialects, that retrying failed messages leaves those to an
// erased customer failed (they are blanked: nothing to send, nobody to send
// it to) and still retries the rest.
func TestEraseCustomer_FailedNotRetried(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		zina, err := e.customers.Save(ctx, telegram.User{ID: eraseTelegramID, FirstName: eraseName, AllowsWriteToPM: true}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		other := e.mustCustomers(t, 1, 5000)[0]
		o := e.mustOutbox(t, outbox.Config{Bot: newGateBot(0, nil)})
		e.customers.AddEraser(o)
		toZina := mustEnqueue(t, o, outbox.Message{IdempotencyKey: "z", ChatID: zina.TelegramUserID, CustomerID: zina.ID, Text: "For " + eraseName})
		toOther := mustEnqueue(t, o, outbox.Message{IdempotencyKey: "o", ChatID: other.TelegramUserID, CustomerID: other.ID, Text: "For C0"})
		if _, err := db.ExecContext(ctx, "UPDATE "+db.Table(outbox.MessagesTable)+" SET status = ?", outbox.StatusFailed); err != nil {
			t.Fatal(err)
		}
		if _, err := e.customers.Erase(ctx, zina.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := o.Retry(ctx, nil); err != nil || n != 1 {
			t.Fatalf("Retry = %d, %v; want only the other customer's message", n, err)
		}
		if n, err := o.Retry(ctx, []int64{toZina.ID}); err != nil || n != 0 {
			t.Fatalf("Retry of the erased customer's message = %d, %v; want 0", n, err)
		}
		if !statusIs(o, toZina.ID, outbox.StatusFailed) || !statusIs(o, toOther.ID, outbox.StatusPending) {
			t.Error("want the erased customer's message failed and the other's pending")
		}
	})
}
