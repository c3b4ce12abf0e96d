package pulse

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
)

// Group commit. Each ingest request used to be its own transaction, and
// SQLite's single writer queued them: at 16 clients most of a request's time
// was waiting for the commits of the others. Requests that arrive while a
// transaction is running now wait for the next one together: one writer
// stores all their events in one transaction, commits once, and answers each
// request with its own outcomes. A request is answered only after the
// transaction holding its events committed, so a 200 still means stored.

// ingestGroupMax is the most requests one transaction takes (50 events
// each at most), so a backlog is committed in steps of bounded size.
const ingestGroupMax = 64

// ingestJob is one request's events waiting for a transaction.
type ingestJob struct {
	tgID   int64
	events []Event // sorted by idempotency key
	visit  string  // campaign of the launch link, "" for none
	// visited: storing the job recorded the visit (a new open with a
	// campaign), which changes the customer's stored attribution.
	visited bool
	res     IngestResponse
	err     error
	done    chan struct{}
}

// ingestGroup queues jobs and runs at most maxWriters transactions at once
// (one on SQLite, whose writer is single; a few on MySQL, where
// transactions on different rows proceed in parallel).
type ingestGroup struct {
	mu         sync.Mutex
	queue      []*ingestJob
	writers    int
	maxWriters int
	commit     func(ctx context.Context, jobs []*ingestJob)
}

// do stores job and returns when it is committed or failed. The caller's
// goroutine becomes a writer when one is free; otherwise a running writer
// takes the job with its next transaction.
func (g *ingestGroup) do(ctx context.Context, job *ingestJob) {
	job.done = make(chan struct{})
	g.mu.Lock()
	g.queue = append(g.queue, job)
	lead := g.writers < g.maxWriters
	if lead {
		g.writers++
	}
	g.mu.Unlock()
	if lead {
		g.write(context.WithoutCancel(ctx), job)
	}
	<-job.done
}

// write runs transactions over the queue until own is done; when requests
// are still queued then, a goroutine carries on, so the writer's own request
// is answered without waiting for the others'.
func (g *ingestGroup) write(ctx context.Context, own *ingestJob) {
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.writers--
			g.mu.Unlock()
			return
		}
		if own != nil && isDone(own) {
			g.mu.Unlock()
			go g.write(ctx, nil)
			return
		}
		n := min(len(g.queue), ingestGroupMax)
		jobs := make([]*ingestJob, n)
		copy(jobs, g.queue)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		g.commit(ctx, jobs)
		for _, j := range jobs {
			close(j.done)
		}
	}
}

func isDone(j *ingestJob) bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// commitJobs stores jobs in one transaction. If it fails, for one job's
// sake or a deadlock, each job is stored again in a transaction of its own,
// so one request's failure is never another's.
func (h *IngestHandler) commitJobs(ctx context.Context, jobs []*ingestJob) {
	if len(jobs) > 1 {
		if err := h.commitTogether(ctx, jobs); err == nil {
			return
		}
	}
	for _, j := range jobs {
		j.res, j.err = h.commitAlone(ctx, j)
	}
}

func (h *IngestHandler) commitTogether(ctx context.Context, jobs []*ingestJob) error {
	tx, err := h.pulse.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res := make([]IngestResponse, len(jobs))
	for i, j := range jobs {
		if res[i], err = h.storeJob(ctx, tx, j); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for i, j := range jobs {
		j.res = res[i]
		h.forgetVisit(j)
	}
	return nil
}

// commitAlone stores one job in its own transaction, run again when it
// lost to a concurrent one (a deadlock, or on a Galera cluster a
// certification failure), counted with the Pulse's other conflicts.
func (h *IngestHandler) commitAlone(ctx context.Context, j *ingestJob) (IngestResponse, error) {
	var res IngestResponse
	err := migrator.ConflictRetry{Attempts: ingestDeadlockTries, OnConflict: func(error) { h.pulse.conflicts.Add(1) }}.
		Do(ctx, func(ctx context.Context) error {
			var err error
			res, err = h.commitOne(ctx, j)
			return err
		})
	if err != nil {
		return IngestResponse{}, err
	}
	h.forgetVisit(j)
	return res, nil
}

func (h *IngestHandler) commitOne(ctx context.Context, j *ingestJob) (IngestResponse, error) {
	tx, err := h.pulse.db.BeginTx(ctx, nil)
	if err != nil {
		return IngestResponse{}, fmt.Errorf("pulse: ingest: beginning a transaction: %w", err)
	}
	defer tx.Rollback()
	res, err := h.storeJob(ctx, tx, j)
	if err != nil {
		return IngestResponse{}, err
	}
	if err := tx.Commit(); err != nil {
		return IngestResponse{}, fmt.Errorf("pulse: ingest: committing: %w", err)
	}
	return res, nil
}

// forgetVisit drops the cached customer of a job that recorded a campaign
// visit: their stored attribution changed.
func (h *IngestHandler) forgetVisit(j *ingestJob) {
	if j.visited {
		h.who.forget(j.tgID)
	}
}

// customerCache keeps the customers that ingest requests resolved, so a
// request whose initData names a known user costs no lookup. Entries live
// for a short time, long enough for a session's burst of events and short
// enough that attribution recorded by another replica is seen soon; the
// map is bounded. An entry also dies with any erasure of a customer this
// process commits after it was read (telegram.CustomerStore.Erasures):
// the erased person's next event must start a new customer, not land on
// the erased one's tracking id.
type customerCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[int64]cachedCustomer
}

type cachedCustomer struct {
	c       telegram.Customer
	gen     uint64 // the store's erasure count read before c was
	expires time.Time
}

const (
	customerCacheTTL = 30 * time.Second
	customerCacheMax = 10000
)

func newCustomerCache() *customerCache {
	return &customerCache{ttl: customerCacheTTL, max: customerCacheMax, entries: map[int64]cachedCustomer{}}
}

// get returns the customer cached for tgID, unless it expired or an
// erasure committed since it was read (gen is the store's erasure count
// now).
func (cc *customerCache) get(tgID int64, gen uint64, now time.Time) (telegram.Customer, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.entries[tgID]
	if !ok || now.After(e.expires) || e.gen != gen {
		return telegram.Customer{}, false
	}
	return e.c, true
}

// put caches c for tgID; gen is the store's erasure count read before c.
func (cc *customerCache) put(tgID int64, c telegram.Customer, gen uint64, now time.Time) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.entries) >= cc.max {
		// Full: drop the expired, and if none were, a random tenth
		// (map order), which bounds the map without an LRU's upkeep.
		drop := cc.max / 10
		for id, e := range cc.entries {
			if now.After(e.expires) {
				delete(cc.entries, id)
			} else if drop > 0 {
				delete(cc.entries, id)
				drop--
			}
		}
	}
	cc.entries[tgID] = cachedCustomer{c: c, gen: gen, expires: now.Add(cc.ttl)}
}

func (cc *customerCache) forget(tgID int64) {
	cc.mu.Lock()
	delete(cc.entries, tgID)
	cc.mu.Unlock()
}
