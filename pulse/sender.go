package pulse

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sq "github.com/Masterminds/squirrel"
	"github.com/google/uuid"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/internal/queue"
	"github.com/telecart-go/telecart/migrator"
)

// Errors of SendOnce. Check them with errors.Is.
var (
	// ErrNotConfigured: URL, APIKey and Secret are not set.
	ErrNotConfigured = errors.New("pulse: not configured; set URL, APIKey and Secret in Config or with SetCredentials")

	// ErrUnauthorized: the Pulse API answered 401 or 403. No attempt was
	// counted; the events are pending again.
	ErrUnauthorized = errors.New("pulse: the Pulse API refused the credentials; check the API key and secret in the Pulse settings")
)

// The body of a request is batchOpen + events joined by commas + batchClose.
const (
	batchOpen  = `{"events":[`
	batchClose = `]}`
)

// maxAnswerBytes bounds how much of an answer is read; results for a full
// batch are far smaller.
const maxAnswerBytes = 4 << 20

// SendReport counts what SendOnce did, in events.
type SendReport struct {
	Claimed  int // claimed for sending (an event split off and resent counts once)
	Sent     int // marked sent: accepted, or a duplicate of one accepted before
	Failed   int // marked failed: rejected, or out of attempts or age
	Retried  int // back to pending with a later next_attempt_at, one attempt counted
	Released int // back to pending without an attempt counted: refused credentials, stop, or a failure of another part of the batch
}

// DeliveryReport is what became of one claimed batch, for
// Config.OnDelivery.
type DeliveryReport struct {
	// BatchID is the X-Pulse-Batch-Id of the batch's first request; the
	// parts of a batch the API's answer split get ids of their own.
	BatchID string
	// Attempt is the X-Pulse-Attempt of the first request.
	Attempt int
	// Requests is how many requests the batch took: more than one when
	// the API's answers split it, none when no event could be sent at all.
	Requests int
	// SendReport counts the batch's events as stored: Claimed, Sent,
	// Retried, Failed and Released.
	SendReport
	// HTTPStatus is the status of the last answer; 0 when none came (a
	// network error, a timeout, Stop) or no request was made.
	HTTPStatus int
	// Reason says why not every event was sent: the last refusal (the
	// HTTP status and the API's message, a rejected event's reason, the
	// network error); "" when all were sent.
	Reason string
	// Duration is from the claim to the stored outcome.
	Duration time.Duration
}

func (r *SendReport) add(o SendReport) {
	r.Claimed += o.Claimed
	r.Sent += o.Sent
	r.Failed += o.Failed
	r.Retried += o.Retried
	r.Released += o.Released
}

// SendOnce delivers due events synchronously until none is due, with up to
// Concurrency batches in flight, and reports what it did. It works whether
// or not Start was called (an operator command, a scheduler, tests) and
// does not wait out the pause that follows a transient failure. It stops
// early when the API fails transiently (the events are retried later), and
// returns ErrUnauthorized when the API refuses the credentials,
// ErrNotConfigured without credentials, and ctx's error when ctx ends:
// in-flight events then go back to pending without an attempt counted.
//
// After the API refused the credentials, sending stays paused (with
// backoff, until SetCredentials changes them): SendOnce then sends nothing
// and returns ErrUnauthorized at once, so that a scheduled sweep does not
// hammer the API with a key it already refused.
func (p *Pulse) SendOnce(ctx context.Context) (SendReport, error) {
	if until, paused := p.authPaused(); paused {
		return SendReport{}, fmt.Errorf("%w (sending is paused until %s, or until the credentials change)",
			ErrUnauthorized, until.UTC().Format(time.RFC3339))
	}
	return p.drain(ctx)
}

// flow tells a drain worker what to do after a batch.
type flow int

const (
	flowMore flow = iota // claim the next batch
	flowDone             // nothing was due: this worker is done
	flowHalt             // stop the whole drain: an error, or the API is failing
)

// drain claims and delivers batches with Concurrency workers until nothing
// is due, for SendOnce. (The background sender has its own workers, in
// pulse.go.)
func (p *Pulse) drain(ctx context.Context) (SendReport, error) {
	if !p.creds.Load().configured() {
		return SendReport{}, ErrNotConfigured
	}
	var (
		mu    sync.Mutex
		total SendReport
		errs  []error
		halt  atomic.Bool
		wg    sync.WaitGroup
	)
	for range p.cfg.Concurrency {
		wg.Go(func() {
			for !halt.Load() && ctx.Err() == nil {
				rep, next, err := p.sendBatch(ctx, ctx, nil)
				mu.Lock()
				total.add(rep)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				switch next {
				case flowDone:
					return
				case flowHalt:
					halt.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	// Prefer an error that says something over the context's.
	for _, err := range errs {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return total, err
		}
	}
	if len(errs) > 0 {
		return total, errs[0]
	}
	return total, ctx.Err()
}

// sendBatch claims one batch and delivers it. Claims use soft: once it is
// done no batch starts. Requests use hard: once it is done the request in
// flight ends and its rows are released. more, when not nil, is called
// after a claim that may have left more due events behind.
func (p *Pulse) sendBatch(soft, hard context.Context, more func()) (SendReport, flow, error) {
	creds := p.creds.Load()
	if !creds.configured() {
		return SendReport{}, flowHalt, ErrNotConfigured
	}
	start := time.Now()
	b, err := p.claim(soft)
	if err != nil {
		if soft.Err() != nil {
			return SendReport{}, flowHalt, soft.Err()
		}
		return SendReport{}, flowHalt, err
	}
	if b == nil {
		return SendReport{}, flowDone, nil
	}
	if len(b.rows) == 0 {
		return SendReport{}, flowMore, nil // another sender took the candidates; look again
	}
	if b.more && more != nil {
		more()
	}
	claimed := time.Since(start)
	dr := DeliveryReport{BatchID: b.id, Attempt: maxAttempts(b.rows) + 1}
	rep, next, err := p.deliver(hard, creds, b, &dr)
	rep.Claimed = len(b.rows)
	if more != nil {
		p.adapt(b, rep, err, claimed, time.Since(start)-claimed)
	}
	if p.cfg.OnDelivery != nil {
		dr.SendReport, dr.Duration = rep, time.Since(start)
		switch {
		case err != nil && dr.Reason == "":
			dr.Reason = err.Error()
		case err == nil && rep.Retried+rep.Failed+rep.Released == 0:
			dr.Reason = "" // a split (413, say) whose parts all went through
		}
		p.cfg.OnDelivery(dr)
	}
	return rep, next, err
}

// adapt sets how many background workers may run: one more while a backlog
// remains and batches are wholly accepted and spend most of their time
// waiting on the receiver rather than on the database (claimed is the
// claim's time, delivered the request's and the record's), up to
// MaxConcurrency; back to Concurrency at the first batch that is not wholly
// accepted. More batches in flight hide the receiver's latency; they do
// not help when the database is the bottleneck, nor press a receiver that
// pushes back.
func (p *Pulse) adapt(b *batch, rep SendReport, err error, claimed, delivered time.Duration) {
	base, top := int32(p.cfg.Concurrency), int32(p.cfg.MaxConcurrency)
	switch {
	case err != nil || rep.Sent != len(b.rows):
		p.limit.Store(base)
	case b.more && delivered > 4*claimed:
		for {
			n := p.limit.Load()
			if n >= top || p.limit.CompareAndSwap(n, n+1) {
				return
			}
		}
	}
}

// batch is a claim: rows leased to owner until leaseUntil.
type batch struct {
	owner      string // lease_owner: SenderID#sequence, unique per claim
	id         string // X-Pulse-Batch-Id
	leaseUntil time.Time
	rows       []outRow
	more       bool // the claim was cut by BatchSize or MaxBatchBytes: more may be due
}

// outRow is a claimed event, ready to send.
type outRow struct {
	id        int64
	key       string
	attempts  int
	createdAt time.Time
	batchID   string // batch_id before this claim
	reclaimed bool   // its lease had expired
	wire      []byte // the event as sent
	bad       string // why it cannot be sent at all (wire is nil)
}

// claimColumns are read by scanOutRow, in this order.
const claimColumns = "id, idempotency_key, event, campaign_id, tracking_id, payload, occurred_at, created_at, attempts, batch_id, status"

// claim leases the next batch through the shared queue mechanism: rows
// whose lease expired first, then pending rows in due order, up to
// BatchSize and MaxBatchBytes. It returns nil when nothing is due, and a
// batch without rows when another sender won every candidate (SQLite only).
func (p *Pulse) claim(ctx context.Context) (*batch, error) {
	var b *batch
	won, _, err := p.q.Claim(ctx, p.cfg.Now, queue.Claim{
		Candidates: func(ctx context.Context, q migrator.Execer, now time.Time, lock string) ([]int64, error) {
			cands, err := p.candidates(ctx, q, now, lock)
			if err != nil || len(cands) == 0 {
				return nil, err
			}
			b = p.newBatch(cands, now)
			return b.ids(), nil
		},
		Lease: func(_ context.Context, _ migrator.Execer, now time.Time) (sq.UpdateBuilder, error) {
			return p.leaseUpdate(b), nil
		},
	})
	if err != nil || b == nil {
		return nil, err
	}
	claimed := len(won)
	if won, err = p.q.Confirm(ctx, b.owner, won); err != nil {
		return nil, err
	}
	if len(won) < claimed {
		p.cfg.Logger.Debug("pulse: another sender's claim of the same events stood; they are its to send",
			"batch_id", b.id, "events", claimed-len(won))
	}
	ours := make(map[int64]bool, len(won))
	for _, id := range won {
		ours[id] = true
	}
	b.rows = slices.DeleteFunc(b.rows, func(r outRow) bool { return !ours[r.id] })
	p.logReclaimed(b)
	return b, nil
}

// candidates reads up to BatchSize claimable rows: expired leases first
// (the oldest expiry first), then due pending rows in (next_attempt_at, id)
// order, which the claim index serves without sorting.
func (p *Pulse) candidates(ctx context.Context, q migrator.Execer, now time.Time, lock string) ([]outRow, error) {
	at := p.db.Dialect.EncodeTime(now)
	limit := p.cfg.BatchSize
	var out []outRow
	for _, s := range []struct {
		status, column string
		op             string
	}{
		{StatusSending, "lease_expires_at", "<"},
		{StatusPending, "next_attempt_at", "<="},
	} {
		if len(out) >= limit {
			break
		}
		query := "SELECT " + claimColumns + " FROM " + p.table +
			" WHERE status = ? AND " + s.column + " " + s.op + " ? ORDER BY " + s.column + ", id LIMIT ? " + lock
		rows, err := q.QueryContext(ctx, query, s.status, at, limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("pulse: claiming a batch: %w", err)
		}
		for rows.Next() {
			r, err := scanOutRow(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("pulse: claiming a batch: %w", err)
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("pulse: claiming a batch: %w", err)
		}
	}
	return out, nil
}

func scanOutRow(rows *sql.Rows) (outRow, error) {
	var (
		r                 outRow
		key, payload      []byte
		ev, campaign, trk string
		occurred          time.Time
		batchID           sql.NullString
		status            string
	)
	if err := rows.Scan(&r.id, &key, &ev, &campaign, &trk, &payload, migrator.ScanTime(&occurred),
		migrator.ScanTime(&r.createdAt), &r.attempts, &batchID, &status); err != nil {
		return outRow{}, err
	}
	r.key, r.batchID, r.reclaimed = string(key), batchID.String, status == StatusSending
	wire, err := json.Marshal(WireEvent{
		IdempotencyKey: r.key, Event: ev, OccurredAt: occurred,
		CampaignID: campaign, TrackingID: trk, Payload: payload,
	})
	if err != nil {
		r.bad = "stored event cannot be encoded: " + err.Error()
	} else {
		r.wire = wire
	}
	return r, nil
}

// fit returns the longest prefix of rows whose body stays within
// MaxBatchBytes: at least one row, which deliver fails when it is too large
// alone.
func (p *Pulse) fit(rows []outRow) []outRow {
	size := len(batchOpen) + len(batchClose)
	for i, r := range rows {
		n := len(r.wire)
		if i > 0 {
			n++ // the comma
			if size+n > p.cfg.MaxBatchBytes {
				return rows[:i]
			}
		}
		size += n
	}
	return rows
}

// newBatch makes a claim of the candidates that fit. A batch whose rows
// all come from the same earlier batch is that batch retried and keeps its
// X-Pulse-Batch-Id.
func (p *Pulse) newBatch(cands []outRow, now time.Time) *batch {
	rows := p.fit(cands)
	id := rows[0].batchID
	for _, r := range rows {
		if r.batchID == "" || r.batchID != id {
			id = uuid.NewString()
			break
		}
	}
	return &batch{
		owner:      p.cfg.SenderID + "#" + strconv.FormatUint(p.claimSeq.Add(1), 10),
		id:         id,
		leaseUntil: now.Add(p.cfg.Lease),
		rows:       rows,
		more:       len(rows) < len(cands) || len(cands) >= p.cfg.BatchSize,
	}
}

func (b *batch) ids() []int64 {
	ids := make([]int64, len(b.rows))
	for i, r := range b.rows {
		ids[i] = r.id
	}
	return ids
}

// leaseUpdate is the UPDATE that leases b's rows, without its WHERE.
func (p *Pulse) leaseUpdate(b *batch) sq.UpdateBuilder {
	d := p.db.Dialect
	return d.Builder().Update(p.table).
		Set("status", StatusSending).
		Set("lease_owner", b.owner).
		Set("lease_expires_at", d.EncodeTime(b.leaseUntil)).
		Set("batch_id", b.id)
}

func (p *Pulse) logReclaimed(b *batch) {
	n := 0
	for _, r := range b.rows {
		if r.reclaimed {
			n++
		}
	}
	if n > 0 {
		p.cfg.Logger.Warn("pulse: reclaimed events whose sender's lease expired", "events", n, "batch_id", b.id)
	}
}

// part is a request's worth of a batch: the batch itself, or a piece split
// off after a 400, 422 or 413.
type part struct {
	id   string // X-Pulse-Batch-Id
	rows []outRow
}

func (pt part) bodySize() int {
	n := len(batchOpen) + len(batchClose) + max(len(pt.rows)-1, 0)
	for _, r := range pt.rows {
		n += len(r.wire)
	}
	return n
}

// deliver sends a claimed batch and records every answer, splitting the
// batch when the API calls it malformed or too large. Every state change is
// guarded by the claim's lease. It notes its requests, the last answer and
// the last refusal in dr.
func (p *Pulse) deliver(ctx context.Context, creds *credentials, b *batch, dr *DeliveryReport) (SendReport, flow, error) {
	var rep SendReport
	var set changeSet
	var good []outRow
	for _, r := range b.rows {
		if r.bad != "" {
			set.add(change{status: StatusFailed, setError: true, lastError: r.bad}, r.id)
			dr.Reason = r.bad
			continue
		}
		good = append(good, r)
	}
	queue := []part{{id: b.id, rows: good}}
	for len(queue) > 0 {
		pt := queue[0]
		queue = queue[1:]
		if len(pt.rows) == 0 {
			continue
		}
		if ctx.Err() != nil {
			addRows(&set, change{status: StatusPending}, pt, queue)
			r, err := p.apply(b.owner, set)
			rep.add(r)
			return rep, flowHalt, errors.Join(ctx.Err(), err)
		}
		if len(pt.rows) == 1 && pt.bodySize() > p.cfg.MaxBatchBytes {
			dr.Reason = fmt.Sprintf("event is %d bytes in a request, more than MaxBatchBytes (%d)", pt.bodySize(), p.cfg.MaxBatchBytes)
			set.add(change{status: StatusFailed, setError: true, lastError: dr.Reason}, pt.rows[0].id)
			continue
		}
		var err error
		if pt, queue, err = p.keepLease(b, pt, queue); err != nil {
			return rep, flowHalt, err
		}
		if len(pt.rows) == 0 {
			continue
		}

		ans := p.post(ctx, creds, pt)
		now := p.cfg.Now()
		dr.Requests++
		dr.HTTPStatus = ans.status
		if ans.reason != "" {
			dr.Reason = ans.reason
		}
		switch ans.kind {
		case answerResults, answerAccepted:
			sent, refused := p.recordResults(&set, pt, ans, now)
			if refused != "" {
				dr.Reason = refused
			}
			r, err := p.apply(b.owner, set)
			rep.add(r)
			set = changeSet{}
			if err != nil {
				return rep, flowHalt, err
			}
			if sent {
				p.delivered(creds.gen)
			}

		case answerSplit:
			if len(pt.rows) > 1 {
				h := len(pt.rows) / 2
				queue = append([]part{{id: uuid.NewString(), rows: pt.rows[:h]}, {id: uuid.NewString(), rows: pt.rows[h:]}}, queue...)
				p.cfg.Logger.Debug("pulse: splitting a batch", "batch_id", pt.id, "events", len(pt.rows), "status", ans.status, "reason", ans.reason)
				continue
			}
			set.add(change{status: StatusFailed, countAttempt: true, setError: true,
				lastError: ans.reason, httpStatus: ans.status, batchID: pt.id}, pt.rows[0].id)
			p.recordError(ans.reason)
			p.cfg.Logger.Warn("pulse: event rejected", "idempotency_key", pt.rows[0].key, "reason", ans.reason)

		case answerAuth:
			addRows(&set, change{status: StatusPending, setError: true, lastError: ans.reason, httpStatus: ans.status}, pt, queue)
			r, err := p.apply(b.owner, set)
			rep.add(r)
			p.authFailed(creds.gen, ans.reason)
			return rep, flowHalt, errors.Join(fmt.Errorf("%w: %s", ErrUnauthorized, ans.reason), err)

		case answerCancelled:
			dr.Reason = "stopped before the answer: " + ctx.Err().Error()
			addRows(&set, change{status: StatusPending}, pt, queue)
			r, err := p.apply(b.owner, set)
			rep.add(r)
			return rep, flowHalt, errors.Join(ctx.Err(), err)

		case answerTransient:
			delay := p.recordRetry(&set, pt, ans, now)
			// The rest of the batch was not tried: it waits as long, without
			// an attempt counted.
			addRows(&set, change{status: StatusPending, nextAt: now.Add(delay)}, part{}, queue)
			r, err := p.apply(b.owner, set)
			rep.add(r)
			p.serverFailed(ans.reason, ans.retryAfter, ans.hasRetryAfter)
			p.cfg.Logger.Warn("pulse: delivery failed; will retry", "batch_id", pt.id, "events", len(pt.rows),
				"reason", ans.reason, "retry_in", delay.Round(time.Millisecond))
			return rep, flowHalt, err
		}
	}
	r, err := p.apply(b.owner, set)
	rep.add(r)
	if err != nil {
		return rep, flowHalt, err
	}
	return rep, flowMore, nil
}

// recordResults adds the changes for a 200/202 answer and reports whether
// any event was delivered, and the reason of the last one that was not.
func (p *Pulse) recordResults(set *changeSet, pt part, ans answer, now time.Time) (bool, string) {
	sent := change{status: StatusSent, countAttempt: true, setError: true, httpStatus: ans.status, batchID: pt.id, sentAt: now}
	if ans.kind == answerAccepted {
		for _, r := range pt.rows {
			set.add(sent, r.id)
		}
		return true, ""
	}
	byKey := make(map[string]WireResult, len(ans.results))
	for _, res := range ans.results {
		if _, dup := byKey[res.IdempotencyKey]; !dup {
			byKey[res.IdempotencyKey] = res
		}
	}
	var retry []outRow
	var reasons []string
	var refused string
	delivered := false
	for _, r := range pt.rows {
		res, ok := byKey[r.key]
		switch {
		case !ok:
			retry, reasons = append(retry, r), append(reasons, "missing from the answer's results")
		case res.Status == ResultAccepted || res.Status == ResultDuplicate:
			set.add(sent, r.id)
			delivered = true
		case res.Status == ResultRejected:
			reason := res.Error
			if reason == "" {
				reason = "rejected by the Pulse API"
			}
			set.add(change{status: StatusFailed, countAttempt: true, setError: true, lastError: reason,
				httpStatus: ans.status, batchID: pt.id}, r.id)
			p.recordError(reason)
			refused = reason
		default:
			retry, reasons = append(retry, r), append(reasons, fmt.Sprintf("unknown result status %q", res.Status))
		}
	}
	if len(retry) > 0 {
		// One backoff for all, so that they stay together as one batch.
		attempt := maxAttempts(retry) + 1
		next := now.Add(p.cfg.retryDelay(attempt, 0, false))
		for i, r := range retry {
			p.retryOrFail(set, r, change{status: StatusPending, countAttempt: true, setError: true,
				lastError: reasons[i], httpStatus: ans.status, batchID: pt.id, nextAt: next}, now)
		}
		refused = reasons[len(reasons)-1]
	}
	return delivered, refused
}

// recordRetry adds the changes for a transient failure of pt: one more
// attempt, then a retry after the backoff (one for the whole part, so its
// events stay together), or failed when out of attempts or age. It returns
// the delay.
func (p *Pulse) recordRetry(set *changeSet, pt part, ans answer, now time.Time) time.Duration {
	delay := p.cfg.retryDelay(maxAttempts(pt.rows)+1, ans.retryAfter, ans.hasRetryAfter)
	c := change{status: StatusPending, countAttempt: true, setError: true, lastError: ans.reason,
		httpStatus: ans.status, batchID: pt.id, nextAt: now.Add(delay)}
	for _, r := range pt.rows {
		p.retryOrFail(set, r, c, now)
	}
	return delay
}

// retryOrFail adds retry for r, or turns it into failed (keeping the reason)
// when r has used its attempts or is older than MaxAge.
func (p *Pulse) retryOrFail(set *changeSet, r outRow, retry change, now time.Time) {
	if r.attempts+1 >= p.cfg.MaxAttempts || now.Sub(r.createdAt) >= p.cfg.MaxAge {
		retry.status, retry.nextAt = StatusFailed, time.Time{}
		p.cfg.Logger.Warn("pulse: giving up on an event", "idempotency_key", r.key, "attempts", r.attempts+1, "reason", retry.lastError)
	}
	set.add(retry, r.id)
}

func maxAttempts(rows []outRow) int {
	n := 0
	for _, r := range rows {
		n = max(n, r.attempts)
	}
	return n
}

// addRows adds c for the rows of pt and of every part in rest.
func addRows(set *changeSet, c change, pt part, rest []part) {
	for _, r := range pt.rows {
		set.add(c, r.id)
	}
	for _, q := range rest {
		for _, r := range q.rows {
			set.add(c, r.id)
		}
	}
}

// keepLease renews the lease of the rows still to send when less than a
// request's time is left on it, and drops the rows another sender took
// meanwhile.
func (p *Pulse) keepLease(b *batch, pt part, queue []part) (part, []part, error) {
	now := p.cfg.Now()
	if b.leaseUntil.Sub(now) > p.cfg.HTTPTimeout+time.Second {
		return pt, queue, nil
	}
	var ids []int64
	addIDs := func(q part) {
		for _, r := range q.rows {
			ids = append(ids, r.id)
		}
	}
	addIDs(pt)
	for _, q := range queue {
		addIDs(q)
	}
	until := now.Add(p.cfg.Lease)
	ours, err := p.q.Renew(b.owner, ids, until)
	if err != nil {
		return pt, queue, err
	}
	b.leaseUntil = until
	if len(ours) == len(ids) {
		return pt, queue, nil
	}
	if len(ours) < len(ids) {
		p.cfg.Logger.Warn("pulse: lost the lease of events to another sender", "batch_id", b.id, "events", len(ids)-len(ours))
	}
	keep := func(q part) part {
		q.rows = slices.DeleteFunc(slices.Clone(q.rows), func(r outRow) bool { return !ours[r.id] })
		return q
	}
	pt = keep(pt)
	for i := range queue {
		queue[i] = keep(queue[i])
	}
	return pt, queue, nil
}

// answerKind classifies an answer by the spec's table.
type answerKind int

const (
	answerResults   answerKind = iota // 200/202 with per-event results
	answerAccepted                    // 200/202 without results: all accepted
	answerSplit                       // 400, 422, 413: split the batch
	answerAuth                        // 401, 403
	answerTransient                   // 408, 425, 429, 5xx, network, timeout, anything else
	answerCancelled                   // the caller's context ended: no answer to judge
)

type answer struct {
	kind          answerKind
	status        int // 0 when there was no answer
	results       []WireResult
	reason        string
	retryAfter    time.Duration
	hasRetryAfter bool
}

// post sends one part, signed, and classifies the answer.
func (p *Pulse) post(ctx context.Context, creds *credentials, pt part) answer {
	body := make([]byte, 0, pt.bodySize())
	body = append(body, batchOpen...)
	for i, r := range pt.rows {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, r.wire...)
	}
	body = append(body, batchClose...)

	reqCtx, cancel := context.WithTimeout(ctx, p.cfg.HTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, creds.endpoint, bytes.NewReader(body))
	if err != nil {
		return answer{kind: answerTransient, reason: "building the request: " + err.Error()}
	}
	ts := p.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "telecart-pulse/1")
	req.Header.Set("Authorization", "Bearer "+creds.apiKey)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, creds.signer.Sign(ts, body))
	req.Header.Set(HeaderBatchID, pt.id)
	req.Header.Set(HeaderAttempt, strconv.Itoa(maxAttempts(pt.rows)+1))

	start := time.Now()
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return p.noAnswer(ctx, reqCtx, err)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	p.cfg.Logger.Debug("pulse: batch answered", "batch_id", pt.id, "events", len(pt.rows), "bytes", len(body),
		"status", resp.StatusCode, "took", time.Since(start).Round(time.Millisecond))
	if readErr != nil && ctx.Err() != nil {
		return answer{kind: answerCancelled}
	}

	st := resp.StatusCode
	switch st {
	case http.StatusOK, http.StatusAccepted:
		if readErr != nil {
			return p.noAnswer(ctx, reqCtx, readErr)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return answer{kind: answerAccepted, status: st}
		}
		var wr WireResponse
		if err := json.Unmarshal(data, &wr); err != nil {
			return answer{kind: answerTransient, status: st, reason: fmt.Sprintf("HTTP %d with an unreadable body: %v", st, err)}
		}
		if wr.Results == nil {
			return answer{kind: answerAccepted, status: st}
		}
		return answer{kind: answerResults, status: st, results: wr.Results}
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		return answer{kind: answerSplit, status: st, reason: answerReason(st, data)}
	case http.StatusUnauthorized, http.StatusForbidden:
		return answer{kind: answerAuth, status: st, reason: answerReason(st, data)}
	}
	a := answer{kind: answerTransient, status: st, reason: answerReason(st, data)}
	a.retryAfter, a.hasRetryAfter = httpx.ParseRetryAfter(resp.Header.Get("Retry-After"), p.cfg.Now())
	return a
}

// noAnswer classifies a request that got no (complete) answer.
func (p *Pulse) noAnswer(ctx, reqCtx context.Context, err error) answer {
	switch {
	case ctx.Err() != nil:
		return answer{kind: answerCancelled}
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		return answer{kind: answerTransient, reason: fmt.Sprintf("no answer within HTTPTimeout (%s)", p.cfg.HTTPTimeout)}
	}
	return answer{kind: answerTransient, reason: err.Error()}
}

// answerReason is "HTTP {status}: {message}", the message taken from a
// JSON error body ({"error": {"message"}}, {"error": "…"} or
// {"message"}), else the start of the body, else the status text.
func answerReason(status int, body []byte) string {
	var msg string
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		var detail struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &detail) == nil && detail.Message != "":
			msg = detail.Message
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			msg = s
		case e.Message != "":
			msg = e.Message
		}
	}
	if msg == "" {
		msg = abbreviate(strings.Join(strings.Fields(string(body)), " "), 200)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return fmt.Sprintf("HTTP %d: %s", status, msg)
}

// change is one kind of row update; rows with equal changes share a
// statement.
type change struct {
	status       string
	countAttempt bool      // attempts + 1
	setError     bool      // write last_error and last_http_status
	lastError    string    // "" writes NULL
	httpStatus   int       // 0 writes NULL
	nextAt       time.Time // zero: unchanged
	batchID      string    // "": unchanged
	sentAt       time.Time // zero: unchanged
}

// changeSet groups row ids by change, in first-seen order.
type changeSet struct {
	order []change
	ids   map[change][]int64
}

func (s *changeSet) add(c change, id int64) {
	if s.ids == nil {
		s.ids = map[change][]int64{}
	}
	if _, ok := s.ids[c]; !ok {
		s.order = append(s.order, c)
	}
	s.ids[c] = append(s.ids[c], id)
}

// apply writes a change set in one short transaction. Every statement is
// guarded by the claim's lease (lease_owner and status 'sending'): when
// another sender reclaimed a row after this claim's lease expired, the row
// is theirs and this sender's late answer changes nothing. The database
// work is bounded by its own timeout, not by the caller's context: an
// answer received, or a release at stop, must be recorded.
func (p *Pulse) apply(owner string, set changeSet) (SendReport, error) {
	if len(set.order) == 0 {
		return SendReport{}, nil
	}
	var rep SendReport
	err := p.q.Record(func(ctx context.Context, tx *sql.Tx) error {
		var err error
		rep, err = p.applyTx(ctx, tx, owner, set)
		return err
	})
	if err != nil {
		err = fmt.Errorf("pulse: recording delivery results (the events stay leased and are retried when the lease expires): %w", err)
		p.cfg.Logger.Error(err.Error())
		p.recordError(err.Error())
		return SendReport{}, err
	}
	return rep, nil
}

func (p *Pulse) applyTx(ctx context.Context, tx *sql.Tx, owner string, set changeSet) (SendReport, error) {
	d := p.db.Dialect
	var rep SendReport
	for _, c := range set.order {
		ids := set.ids[c]
		slices.Sort(ids) // one lock order for every sender
		u := p.q.Release(c.status)
		if c.countAttempt {
			u = u.Set("attempts", sq.Expr("attempts + 1"))
		}
		if c.setError {
			u = u.Set("last_error", nullString(truncateError(c.lastError))).Set("last_http_status", nullInt(c.httpStatus))
		}
		if !c.nextAt.IsZero() {
			u = u.Set("next_attempt_at", d.EncodeTime(c.nextAt))
		}
		if c.batchID != "" {
			u = u.Set("batch_id", c.batchID)
		}
		if !c.sentAt.IsZero() {
			u = u.Set("sent_at", d.EncodeTime(c.sentAt))
		}
		res, err := p.q.Guard(u, owner, ids).RunWith(tx).ExecContext(ctx)
		if err != nil {
			return SendReport{}, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return SendReport{}, err
		}
		if int(n) < len(ids) {
			p.cfg.Logger.Warn("pulse: another sender took over events whose lease expired; leaving them to it",
				"events", len(ids)-int(n), "status", c.status)
		}
		switch {
		case c.status == StatusSent:
			rep.Sent += int(n)
		case c.status == StatusFailed:
			rep.Failed += int(n)
		case c.countAttempt:
			rep.Retried += int(n)
		default:
			rep.Released += int(n)
		}
	}
	return rep, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// nextDue returns the earliest time a row falls due: a pending row's
// next_attempt_at or a sending row's lease expiry. false: none.
func (p *Pulse) nextDue(ctx context.Context) (time.Time, bool, error) { return p.q.NextDue(ctx) }
