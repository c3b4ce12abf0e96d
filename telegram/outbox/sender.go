package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/internal/queue"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
)

// horizon is how far ahead a claim hands out slots: the budget of the
// current second, so that a claim never holds more than a second's worth
// of messages and the rest stay in the queue for any replica.
const horizon = time.Second

// Start checks that the outbox's tables answer and starts the background
// sender: woken by Enqueue (and Wake), and swept every SweepInterval. Start
// after Start is a no-op; Start after Stop returns ErrStopped.
func (o *Outbox) Start(ctx context.Context) error {
	o.lifeMu.Lock()
	defer o.lifeMu.Unlock()
	switch {
	case o.stopping:
		return ErrStopped
	case o.started:
		return nil
	}
	var n int
	if err := o.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+o.pace).Scan(&n); err != nil || n != 1 {
		return fmt.Errorf("outbox: checking the table %s (run the migrations of outbox.MigrationSource first): %v", o.pace, err)
	}
	o.soft, o.cancel = context.WithCancel(context.WithoutCancel(ctx))
	o.loopDone = make(chan struct{})
	o.started = true
	go o.loop()
	return nil
}

// Stop stops the background sender: no new claim; the message in flight
// (at most one) finishes and is recorded, the rest of its batch goes back
// to the queue. Stop may be called more than once, and before Start.
func (o *Outbox) Stop(ctx context.Context) error {
	o.lifeMu.Lock()
	started := o.started && !o.stopping
	o.stopping = true
	o.lifeMu.Unlock()
	if !started {
		return nil
	}
	o.cancel()
	select {
	case <-o.loopDone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("outbox: stopping: %w (the message in flight is recorded when its answer comes, or retried when its lease expires)", ctx.Err())
	}
}

// loop is the background sender: it sends batch after batch while messages
// are due, and otherwise sleeps until the next one falls due, a wake-up,
// or the sweep.
func (o *Outbox) loop() {
	defer close(o.loopDone)
	errs := 0
	for o.soft.Err() == nil {
		if _, err := o.EnqueueBroadcasts(o.soft); err != nil && o.soft.Err() == nil {
			o.cfg.Logger.Warn("outbox: queueing broadcasts", "err", err)
		}
		n, wait, err := o.sendBatch(o.soft)
		switch {
		case o.soft.Err() != nil:
			return
		case err != nil:
			errs++
			o.cfg.Logger.Warn("outbox: sending", "err", err)
			wait = queue.Backoff(errs, 100*time.Millisecond, 30*time.Second, 0.5)
		case n > 0 && wait == 0:
			errs = 0
			continue
		case wait == 0:
			errs = 0
			wait = o.nextWait()
		}
		t := time.NewTimer(wait)
		select {
		case <-o.soft.Done():
			t.Stop()
			return
		case <-o.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// nextWait is how long the sender may sleep: until the next message falls
// due, at most SweepInterval.
func (o *Outbox) nextWait() time.Duration {
	ctx, cancel := context.WithTimeout(o.soft, queue.RecordTimeout)
	defer cancel()
	due, ok, err := o.q.NextDue(ctx)
	if err != nil || !ok {
		return o.cfg.SweepInterval
	}
	d := due.Sub(o.cfg.Now())
	switch {
	case d <= 0:
		// Due but not claimed: its chat waits (pace, retry_after) or another
		// replica holds it. Look again soon, without spinning.
		return 200 * time.Millisecond
	case d < 10*time.Millisecond:
		return 10 * time.Millisecond
	}
	return min(d, o.cfg.SweepInterval)
}

// Report counts what SendOnce did.
type Report struct {
	Claimed, Sent, Failed, Retried, Released int
}

// SendOnce sends, at the configured pace, every message that can be sent
// now and returns when none is left: for operator commands and tests. It
// works whether or not Start was called.
func (o *Outbox) SendOnce(ctx context.Context) (Report, error) {
	var total Report
	for ctx.Err() == nil {
		if _, err := o.EnqueueBroadcasts(ctx); err != nil {
			return total, err
		}
		rep, wait, err := o.sendBatchReport(ctx)
		total.add(rep)
		if err != nil {
			return total, err
		}
		if rep.Claimed == 0 && wait == 0 {
			return total, nil
		}
		if wait > 0 {
			if err := sleep(ctx, wait); err != nil {
				return total, err
			}
		}
	}
	return total, ctx.Err()
}

func (r *Report) add(o Report) {
	r.Claimed += o.Claimed
	r.Sent += o.Sent
	r.Failed += o.Failed
	r.Retried += o.Retried
	r.Released += o.Released
}

func (o *Outbox) sendBatch(ctx context.Context) (int, time.Duration, error) {
	rep, wait, err := o.sendBatchReport(ctx)
	return rep.Claimed, wait, err
}

// claimed is a leased message and its slot: when it may be sent.
type claimed struct {
	msg  Message
	slot time.Time
}

// batch is a claim.
type batch struct {
	owner string
	msgs  []claimed
	// wait: nothing was claimed because the slots of the coming second
	// are taken (by this or another replica); look again after it.
	wait time.Duration
}

// sendBatchReport claims a batch and sends it, one message at a time, each
// at its slot, recording each outcome before the next message is sent: a
// crash can then repeat at most the one message whose answer was not
// recorded yet.
func (o *Outbox) sendBatchReport(ctx context.Context) (Report, time.Duration, error) {
	b, err := o.claim(ctx)
	if err != nil || b == nil {
		return Report{}, 0, err
	}
	if len(b.msgs) == 0 {
		return Report{}, b.wait, nil
	}
	rep := Report{Claimed: len(b.msgs)}
	for i, c := range b.msgs {
		rest := b.msgs[i:]
		if err := sleep(ctx, c.slot.Sub(o.cfg.Now())); err != nil {
			rep.Released += o.release(b.owner, rest, o.cfg.Now())
			return rep, 0, nil
		}
		now := o.cfg.Now()
		if !o.cfg.NoPacing && now.Sub(c.slot) > o.cfg.SlotTolerance {
			// Late (a pause of this process): sending now could bunch up
			// with slots handed out since. Back to the queue for new slots.
			o.cfg.Logger.Debug("outbox: missed a slot; requeueing the rest of the batch", "late", now.Sub(c.slot), "messages", len(rest))
			rep.Released += o.release(b.owner, rest, now)
			return rep, 0, nil
		}
		// The message waited in memory for its slot: an erasure of its
		// recipient may have cancelled it since the claim.
		if ok, err := o.stillClaimed(ctx, b.owner, c.msg); err != nil || !ok {
			if err != nil {
				rep.Released += o.release(b.owner, rest, o.cfg.Now())
				return rep, 0, err
			}
			continue
		}
		if o.window != nil {
			if err := o.window.wait(ctx, o.cfg.Now, sleep); err != nil {
				rep.Released += o.release(b.owner, rest, o.cfg.Now())
				return rep, 0, nil
			}
		}
		began := time.Now()
		status, stop, err := o.send(b.owner, c.msg)
		o.observe(time.Since(began))
		switch status {
		case StatusSent:
			rep.Sent++
		case StatusFailed:
			rep.Failed++
		case StatusPending:
			rep.Retried++
		}
		if err != nil || stop {
			rep.Released += o.release(b.owner, b.msgs[i+1:], o.cfg.Now())
			return rep, 0, err
		}
	}
	return rep, 0, nil
}

// claim leases the next batch through the shared queue mechanism. Paced,
// every claim first writes the one pace row, so that claims run one at a
// time across replicas; it takes at most the slots left in the coming
// second (GlobalRate a second, spaced evenly from the pace row's next
// slot), at most one message per chat, and only chats whose not-before
// time has come; it moves the pace row's next slot and each chat's
// not-before time in the same transaction.
func (o *Outbox) claim(ctx context.Context) (*batch, error) {
	o.lifeMu.Lock()
	o.claimSeq++
	b := &batch{owner: o.cfg.SenderID + "#" + strconv.FormatUint(o.claimSeq, 10)}
	o.lifeMu.Unlock()
	d := o.db.Dialect
	var nextSlot time.Time
	// On a Galera cluster the claim settles before its first message may
	// go: its slots start after that.
	settle, err := o.q.Fence.Delay(ctx)
	if err != nil {
		return nil, err
	}
	c := queue.Claim{
		Candidates: func(ctx context.Context, q migrator.Execer, now time.Time, lock string) ([]int64, error) {
			// A claim that lost a conflict runs again from here: what the
			// lost attempt read was never leased to this sender.
			b.msgs, b.wait = b.msgs[:0], 0
			limit := o.cfg.UnpacedBatch
			start := now
			spacing := o.spacing()
			if !o.cfg.NoPacing {
				start = maxTime(nextSlot, now.Add(settle))
				limit = int(now.Add(horizon).Sub(start) / spacing)
				if limit <= 0 {
					b.wait = start.Add(-horizon).Sub(now) + time.Millisecond
					return nil, nil
				}
			}
			msgs, err := o.candidates(ctx, q, now, limit, lock)
			if err != nil {
				return nil, err
			}
			ids := make([]int64, len(msgs))
			for i, m := range msgs {
				slot := start
				if !o.cfg.NoPacing {
					slot = start.Add(time.Duration(i) * spacing)
				}
				b.msgs = append(b.msgs, claimed{msg: m, slot: slot})
				ids[i] = m.ID
			}
			return ids, nil
		},
		Lease: func(ctx context.Context, q migrator.Execer, now time.Time) (sq.UpdateBuilder, error) {
			last := b.msgs[len(b.msgs)-1].slot
			if !o.cfg.NoPacing {
				if err := o.movePace(ctx, q, b.msgs, last); err != nil {
					return sq.UpdateBuilder{}, err
				}
			}
			return d.Builder().Update(o.table).
				Set("status", StatusSending).
				Set("lease_owner", b.owner).
				Set("lease_expires_at", d.EncodeTime(last.Add(o.cfg.Lease))), nil
		},
	}
	if !o.cfg.NoPacing {
		c.Serialize = func(ctx context.Context, tx *sql.Tx, now time.Time) error {
			if _, err := tx.ExecContext(ctx, "UPDATE "+o.pace+" SET claimed_at = ? WHERE id = 1", d.EncodeTime(now)); err != nil {
				return fmt.Errorf("outbox: claiming a batch: %w", err)
			}
			if err := tx.QueryRowContext(ctx, "SELECT next_slot FROM "+o.pace+" WHERE id = 1").Scan(migrator.ScanTime(&nextSlot)); err != nil {
				return fmt.Errorf("outbox: claiming a batch: %w", err)
			}
			return nil
		}
	}
	won, _, err := o.q.Claim(ctx, o.cfg.Now, c)
	if err != nil {
		return nil, err
	}
	if len(b.msgs) == 0 {
		if b.wait > 0 {
			return b, nil
		}
		return nil, nil
	}
	if won, err = o.q.Confirm(ctx, b.owner, won); err != nil {
		return nil, err
	}
	if len(won) < len(b.msgs) { // SQLite unpaced, or Galera: another sender won some
		ours := make(map[int64]bool, len(won))
		for _, id := range won {
			ours[id] = true
		}
		b.msgs = slices.DeleteFunc(b.msgs, func(c claimed) bool { return !ours[c.msg.ID] })
	}
	return b, nil
}

// candidates reads up to limit claimable messages: expired leases first,
// then due pending ones in (next_attempt_at, id) order; paced, at most one
// per chat and only chats whose not-before time has come.
func (o *Outbox) candidates(ctx context.Context, q migrator.Execer, now time.Time, limit int, lock string) ([]Message, error) {
	at := o.db.Dialect.EncodeTime(now)
	var out []Message
	seen := map[int64]bool{}
	for _, s := range []struct{ status, column, op string }{
		{StatusSending, "lease_expires_at", "<"},
		{StatusPending, "next_attempt_at", "<="},
	} {
		if len(out) >= limit {
			break
		}
		var query string
		var args []any
		if o.cfg.NoPacing {
			query = "SELECT " + messageColumns + " FROM " + o.table + " WHERE status = ? AND " + s.column + " " + s.op +
				" ? ORDER BY " + s.column + ", id LIMIT ? " + lock
			args = []any{s.status, at, limit - len(out)}
		} else {
			// Read more than the budget: several due messages may share a chat.
			// Claims are serialized by the pace row, but a broadcast's pause or
			// cancel is not: the lock keeps it from changing a row between
			// this read and the lease (it waits, or the row is skipped).
			query = "SELECT " + prefixed("m.", messageColumns) + " FROM " + o.table + " m LEFT JOIN " + o.chats +
				" c ON c.chat_id = m.chat_id WHERE m.status = ? AND m." + s.column + " " + s.op +
				" ? AND (c.not_before IS NULL OR c.not_before <= ?) ORDER BY m." + s.column + ", m.id LIMIT ? " + lock
			args = []any{s.status, at, at, min(4*(limit-len(out))+16, 1000)}
		}
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("outbox: claiming a batch: %w", err)
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("outbox: claiming a batch: %w", err)
			}
			if len(out) >= limit || (!o.cfg.NoPacing && seen[m.ChatID]) {
				continue
			}
			seen[m.ChatID] = true
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("outbox: claiming a batch: %w", err)
		}
	}
	return out, nil
}

// movePace moves the pace row's next slot past the batch's last and each
// chat's not-before time past its message's slot, in the claim's
// transaction.
func (o *Outbox) movePace(ctx context.Context, q migrator.Execer, msgs []claimed, last time.Time) error {
	d := o.db.Dialect
	if _, err := q.ExecContext(ctx, "UPDATE "+o.pace+" SET next_slot = ? WHERE id = 1", d.EncodeTime(last.Add(o.spacing()))); err != nil {
		return fmt.Errorf("outbox: claiming a batch: %w", err)
	}
	ins := d.Builder().Insert(o.chats).Columns("chat_id", "not_before")
	for _, c := range msgs {
		ins = ins.Values(c.msg.ChatID, d.EncodeTime(c.slot.Add(o.cfg.chatInterval(c.msg.ChatID))))
	}
	query, args, err := d.Upsert(ins, []string{"chat_id"}, []string{"not_before"}).ToSql()
	if err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("outbox: claiming a batch: %w", err)
	}
	return nil
}

// send sends one claimed message and records the outcome. stop: the rest
// of the batch should not be tried now (Telegram is failing).
func (o *Outbox) send(owner string, m Message) (status string, stop bool, err error) {
	p := botapi.SendMessageParams{ChatID: m.ChatID, MessageThreadID: int(m.ThreadID), Text: m.Text, ParseMode: m.ParseMode}
	if len(m.Buttons) > 0 {
		kb := &botapi.InlineKeyboardMarkup{}
		for _, b := range m.Buttons {
			btn := botapi.InlineKeyboardButton{Text: b.Text, URL: b.URL}
			if b.WebAppURL != "" {
				btn.WebApp = &botapi.WebAppInfo{URL: b.WebAppURL}
			}
			kb.InlineKeyboard = append(kb.InlineKeyboard, []botapi.InlineKeyboardButton{btn})
		}
		p.ReplyMarkup = kb
	}
	start := time.Now()
	// The call is not cut short by Stop: its answer must be recorded, or
	// the message would be sent again after the lease expires.
	ctx, cancel := context.WithTimeout(context.Background(), o.cfg.Lease/2)
	sent, sendErr := o.cfg.Bot.SendMessage(ctx, p)
	cancel()
	now := o.cfg.Now()
	d := o.db.Dialect
	u := o.q.Release(StatusPending)
	blocked := false
	var notBefore time.Time // a 429's wait for the chat, stored with the outcome
	var migratedTo int64
	var apiErr *botapi.Error
	switch {
	case sendErr == nil:
		status = StatusSent
		u = o.q.Release(StatusSent).Set("attempts", sq.Expr("attempts + 1")).Set("sent_at", d.EncodeTime(now)).
			Set("telegram_message_id", sent.MessageID).Set("reason", nil).Set("error_code", nil)
	case errors.As(sendErr, &apiErr) && apiErr.Code == http.StatusTooManyRequests:
		// Flood control: the chat waits retry_after, stored so that every
		// replica and a restart honour it; no attempt is counted.
		status = StatusPending
		wait := min(max(apiErr.RetryAfter, time.Second), o.cfg.MaxRetryAfter)
		notBefore = now.Add(wait)
		u = u.Set("next_attempt_at", d.EncodeTime(notBefore)).Set("reason", truncate(sendErr.Error())).Set("error_code", apiErr.Code)
	case errors.As(sendErr, &apiErr) && apiErr.MigrateToChatID != 0 && apiErr.MigrateToChatID != m.ChatID &&
		m.Attempts+1 < o.cfg.MaxAttempts:
		// The group became a supergroup: the message is re-targeted to its
		// new id and sent again, at once. The attempt counts, so that chats
		// pointing at each other cannot keep a message going round.
		status, migratedTo = StatusPending, apiErr.MigrateToChatID
		u = u.Set("chat_id", migratedTo).Set("next_attempt_at", d.EncodeTime(now)).
			Set("attempts", sq.Expr("attempts + 1")).Set("reason", truncate(sendErr.Error())).Set("error_code", apiErr.Code)
	case botapi.IsBlocked(sendErr):
		status, blocked = StatusFailed, true
		u = o.q.Release(StatusFailed).Set("attempts", sq.Expr("attempts + 1")).
			Set("reason", truncate(apiErr.Description)).Set("error_code", apiErr.Code)
	case errors.As(sendErr, &apiErr) && apiErr.Code < 500:
		status = StatusFailed
		u = o.q.Release(StatusFailed).Set("attempts", sq.Expr("attempts + 1")).
			Set("reason", truncate(apiErr.Description)).Set("error_code", apiErr.Code)
	case errors.Is(sendErr, botapi.ErrMessageEmpty) || errors.Is(sendErr, botapi.ErrMessageTooLong):
		status = StatusFailed
		u = o.q.Release(StatusFailed).Set("reason", truncate(sendErr.Error()))
	default:
		// 5xx, network: Telegram may or may not have the message. Retry with
		// backoff, or give up when out of attempts or age.
		stop = true
		status = StatusPending
		code := 0
		if apiErr != nil {
			code = apiErr.Code
		}
		if m.Attempts+1 >= o.cfg.MaxAttempts || now.Sub(m.CreatedAt) >= o.cfg.MaxAge {
			status = StatusFailed
			u = o.q.Release(StatusFailed)
		} else {
			retry := queue.Retry{Base: o.cfg.RetryBase, Max: o.cfg.RetryMax, MaxRetryAfter: o.cfg.MaxRetryAfter}
			u = u.Set("next_attempt_at", d.EncodeTime(now.Add(retry.Delay(m.Attempts+1, 0, false))))
		}
		u = u.Set("attempts", sq.Expr("attempts + 1")).Set("reason", truncate(sendErr.Error())).Set("error_code", nullID(int64(code)))
	}
	var changed bool
	onSent := status == StatusSent
	record := func(ctx context.Context, tx *sql.Tx) error {
		guard := func() error {
			res, err := o.q.Guard(u, owner, []int64{m.ID}).RunWith(tx).ExecContext(ctx)
			if err == nil {
				n, _ := res.RowsAffected()
				changed = n == 1
			}
			return err
		}
		var err error
		if status == StatusPending {
			err = o.handBack(ctx, tx, []claimed{{msg: m}}, guard)
		} else {
			err = guard()
		}
		if err != nil {
			return err
		}
		// With the outcome, and only while the row is still the claim's: a
		// recipient erased meanwhile gets no pacing row with their chat id.
		if changed && !notBefore.IsZero() {
			if err := o.setNotBeforeTx(ctx, tx, m.ChatID, notBefore); err != nil {
				return err
			}
		}
		if changed && migratedTo != 0 {
			// The rest of the old chat's queue goes to the new id too,
			// rather than each message learning it from Telegram.
			if _, err := d.Builder().Update(o.table).Set("chat_id", migratedTo).
				Where(sq.Eq{"chat_id": m.ChatID, "status": []string{StatusPending, StatusPaused}}).RunWith(tx).ExecContext(ctx); err != nil {
				return err
			}
		}
		if changed && blocked && m.CustomerID != 0 {
			if err := o.cfg.Customers.MarkUnreachableTx(ctx, tx, m.CustomerID, now); err != nil && !errors.Is(err, telegram.ErrCustomerNotFound) {
				return err
			}
		}
		if changed && onSent {
			return o.onSentTx(ctx, tx, m, now, sent.MessageID)
		}
		return nil
	}
	rerr := o.q.Record(record)
	var hookErr *sentTxError
	if errors.As(rerr, &hookErr) {
		// Telegram has the message: sending it again to store what OnSentTx
		// writes would repeat it to the recipient.
		o.cfg.Logger.Error("outbox: OnSentTx failed; recording the message as sent without it", "message_id", m.ID, "err", hookErr.err)
		onSent = false
		rerr = o.q.Record(record)
	}
	if rerr != nil {
		return status, true, fmt.Errorf("outbox: recording the outcome of message %d (it is retried when its lease expires): %w", m.ID, rerr)
	}
	if !changed {
		o.cfg.Logger.Warn("outbox: a message's row was no longer this sender's when its outcome came (another sender took over its expired lease, or its recipient was erased); the outcome is not recorded",
			"message_id", m.ID)
		return status, stop, err
	}
	if migratedTo != 0 && o.cfg.OnChatMigrated != nil {
		ctx, cancel := context.WithTimeout(context.Background(), queue.RecordTimeout)
		o.cfg.OnChatMigrated(ctx, m.ChatID, migratedTo)
		cancel()
	}
	if sendErr != nil {
		// Ids the shop issued, not the chat id, which is the person's
		// Telegram id.
		o.cfg.Logger.Info("outbox: message not sent", "message_id", m.ID, "customer_id", m.CustomerID, "status", status, "reason", sendErr)
	}
	if o.cfg.OnDelivery != nil {
		if stored, gerr := o.Get(context.Background(), m.ID); gerr == nil {
			o.cfg.OnDelivery(Delivery{Message: stored, Status: status, Blocked: blocked, Duration: time.Since(start)})
		}
	}
	return status, stop, err
}

// stillClaimed reports whether m, claimed by owner, may be sent now: its row
// is still the claim's, to the chat the claim read. An erasure of the
// recipient cancels the row, which takes it from the claim: this is where a
// claimed message to an erased person stops. A row still the claim's but
// to another chat is not sent from the stale copy; when its chat bears the
// erasure's mark (the customer id negated: a claim leased a row an erasure
// had blanked, which the claim's locks are there to prevent) it is
// cancelled, and the pacing row the claim wrote for the person's chat goes,
// as the erasure deleted the one before; any other row waits for its lease
// to run out and is claimed afresh.
func (o *Outbox) stillClaimed(ctx context.Context, owner string, m Message) (bool, error) {
	q, args, err := o.db.Dialect.Builder().Select("chat_id").From(o.table).
		Where(sq.Eq{"id": m.ID, "lease_owner": owner}).Where(o.q.StatusIs(StatusSending)).ToSql()
	if err != nil {
		return false, err
	}
	var chatID int64
	switch err := o.db.QueryRowContext(ctx, q, args...).Scan(&chatID); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("outbox: checking the claim of message %d: %w", m.ID, err)
	case chatID == m.ChatID:
		return true, nil
	case m.CustomerID == 0 || chatID != -m.CustomerID:
		return false, nil
	}
	err = o.q.Record(func(ctx context.Context, tx *sql.Tx) error {
		if _, err := o.q.Guard(o.q.Release(StatusCancelled), owner, []int64{m.ID}).RunWith(tx).ExecContext(ctx); err != nil {
			return err
		}
		_, err := o.db.Dialect.Builder().Delete(o.chats).Where(sq.Eq{"chat_id": m.ChatID}).RunWith(tx).ExecContext(ctx)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("outbox: cancelling message %d, whose recipient was erased: %w", m.ID, err)
	}
	return false, nil
}

// setNotBeforeTx keeps a chat's messages back until until.
func (o *Outbox) setNotBeforeTx(ctx context.Context, tx *sql.Tx, chatID int64, until time.Time) error {
	d := o.db.Dialect
	query, args, err := d.Upsert(d.Builder().Insert(o.chats).Columns("chat_id", "not_before").
		Values(chatID, d.EncodeTime(until)), []string{"chat_id"}, []string{"not_before"}).ToSql()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, query, args...)
	return err
}

// release puts claimed messages back in the queue, due at now, without an
// attempt counted. It returns how many.
func (o *Outbox) release(owner string, msgs []claimed, now time.Time) int {
	if len(msgs) == 0 {
		return 0
	}
	ids := make([]int64, len(msgs))
	for i, c := range msgs {
		ids[i] = c.msg.ID
	}
	var n int64
	err := o.q.Record(func(ctx context.Context, tx *sql.Tx) error {
		err := o.handBack(ctx, tx, msgs, func() error {
			res, err := o.q.Guard(o.q.Release(StatusPending).Set("next_attempt_at", o.db.Dialect.EncodeTime(now)), owner, ids).
				RunWith(tx).ExecContext(ctx)
			if err == nil {
				n, _ = res.RowsAffected()
			}
			return err
		})
		if err != nil {
			return err
		}
		if o.cfg.NoPacing {
			return nil
		}
		// Their chats had nothing sent in those slots: they may have new ones
		// at once rather than a chat interval later.
		// Give the unused slots back, unless another claim came since.
		first, after := msgs[0].slot, msgs[len(msgs)-1].slot.Add(o.spacing())
		if first.After(now) {
			if _, err := tx.ExecContext(ctx, "UPDATE "+o.pace+" SET next_slot = ? WHERE id = 1 AND next_slot <= ?",
				o.db.Dialect.EncodeTime(first), o.db.Dialect.EncodeTime(after)); err != nil {
				return err
			}
		}
		chats := make([]int64, len(msgs))
		for i, c := range msgs {
			chats[i] = c.msg.ChatID
		}
		_, err = o.db.Dialect.Builder().Update(o.chats).Set("not_before", o.db.Dialect.EncodeTime(now)).
			Where(sq.Eq{"chat_id": chats}).Where(sq.Gt{"not_before": o.db.Dialect.EncodeTime(now)}).
			RunWith(tx).ExecContext(ctx)
		return err
	})
	if err != nil {
		o.cfg.Logger.Warn("outbox: releasing messages (they are retried when their lease expires)", "err", err)
	}
	return int(n)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// observe keeps a moving average of how long sending one message takes
// (the call and the record), so that a claim spaces its slots no closer
// than this process can keep: slots it would miss would go back to the
// queue, and a slow sender would send a few a second.
func (o *Outbox) observe(d time.Duration) {
	old := o.sendNanos.Load()
	if old == 0 {
		o.sendNanos.Store(int64(d))
		return
	}
	o.sendNanos.Store(old + (int64(d)-old)/8)
}

// spacing is the time between this process's slots: the global interval,
// or more when sending one message takes this process longer.
func (o *Outbox) spacing() time.Duration {
	return max(o.cfg.interval(), time.Duration(o.sendNanos.Load())*5/4)
}

// prefixed qualifies every column of a select list with p ("m.").
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = p + c
	}
	return strings.Join(cols, ", ")
}

func truncate(s string) string {
	if len(s) <= 1000 {
		return s
	}
	r := []rune(s)
	for len(string(r)) > 997 {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
