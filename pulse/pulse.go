package pulse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/telecart-go/telecart/internal/queue"
	"github.com/telecart-go/telecart/migrator"
)

// Timing of the background sender that is not worth a Config field.
const (
	// After TrackTx woke the sender, it looks again recheckDelay1 after
	// the wake-up and recheckDelay2 after that, for an event whose
	// transaction committed after the wake-up's claim.
	recheckDelay1 = 100 * time.Millisecond
	recheckDelay2 = time.Second
	// releaseTimeout bounds the database work that must happen even when
	// the caller's context is done: recording answers, releasing rows.
	releaseTimeout = queue.RecordTimeout
	// stopReleaseWait is how long Stop waits, after cancelling in-flight
	// requests at its deadline, for their rows to be released.
	stopReleaseWait = 5 * time.Second
)

// ErrStopped is returned by Start after Stop: a stopped Pulse does not
// restart; make a new one.
var ErrStopped = errors.New("pulse: stopped; create a new Pulse with New to start again")

// Pulse is the event outbox and its sender. Track and TrackTx store events;
// Start runs the sender in the background, Stop stops it; SendOnce delivers
// synchronously. All methods are safe for concurrent use.
type Pulse struct {
	db    migrator.DB
	cfg   Config
	table string
	q     queue.Table // the shared claim, lease and record mechanism over table
	// insertSQL is Track's INSERT, built once: only its arguments change.
	insertSQL string
	// insertMany holds multi-row inserts by row count (int → string).
	insertMany sync.Map

	credsMu sync.Mutex // serializes SetCredentials
	creds   atomic.Pointer[credentials]

	wake                chan struct{} // 1-buffered: a pending wake-up
	recheck             atomic.Bool   // TrackTx stored an event: look again shortly
	dropped             atomic.Int64
	conflicts           atomic.Int64 // claims and records retried after a conflict
	limit               atomic.Int32 // background workers allowed now: Concurrency..MaxConcurrency
	notConfiguredLogged atomic.Bool
	claimSeq            atomic.Uint64

	stateMu sync.Mutex
	state   senderState

	// The background workers: up to Concurrency, each claiming and
	// delivering until nothing is due. dirty is set by every kick and
	// cleared by a worker before it looks, so a wake-up that comes while
	// all workers are busy or leaving is never lost.
	poolMu   sync.Mutex
	poolIdle *sync.Cond // broadcast when running drops to 0
	running  int
	dirty    atomic.Bool
	idle     chan struct{} // 1-buffered: the workers went idle
	workErr  atomic.Bool   // a worker failed on the database since the last idle

	lifeMu     sync.Mutex
	started    bool
	stopping   bool
	stopDone   chan struct{}
	soft       context.Context // cancelled by Stop: no new claims
	softCancel context.CancelFunc
	hard       context.Context // cancelled at Stop's deadline: in-flight requests end
	hardCancel context.CancelFunc
	cron       *cron.Cron
	loopDone   chan struct{}
}

// senderState is what State reports, guarded by stateMu.
type senderState struct {
	lastError    string
	lastErrorAt  time.Time
	lastSentAt   time.Time
	authFailing  bool
	authFailures int
	failures     int       // consecutive transient failures of whole batches
	pausedUntil  time.Time // by time.Now: the background sender waits until then
}

// New returns a Pulse storing events in db, which must hold the tables of
// MigrationSource. It checks cfg but not the database; Start does.
func New(db migrator.DB, cfg Config) (*Pulse, error) {
	if db.DB == nil {
		return nil, errors.New("pulse: db is nil; pass a migrator.DB with an open *sql.DB")
	}
	if err := db.Dialect.Validate(); err != nil {
		return nil, fmt.Errorf("pulse: %w", err)
	}
	if err := migrator.ValidatePrefix(db.Prefix); err != nil {
		return nil, fmt.Errorf("pulse: %w", err)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	creds, _ := newCredentials(cfg.URL, cfg.APIKey, cfg.Secret) // validated above
	p := &Pulse{
		db:    db,
		cfg:   cfg,
		table: db.Table(OutboxTable),
		q: queue.Table{DB: db, Name: db.Table(OutboxTable), Pkg: "pulse", Item: "event",
			Fence: migrator.NewFence(db, cfg.ClusterSettle)},
		wake:     make(chan struct{}, 1),
		idle:     make(chan struct{}, 1),
		stopDone: make(chan struct{}),
	}
	p.poolIdle = sync.NewCond(&p.poolMu)
	p.q.OnConflict = func(error) { p.conflicts.Add(1) }
	p.limit.Store(int32(cfg.Concurrency))
	p.creds.Store(creds)
	q, err := p.buildInsert()
	if err != nil {
		return nil, err
	}
	p.insertSQL = q
	return p, nil
}

// SetCredentials replaces the URL, API key and secret at run time (the
// shop's settings page), effective for the next request; in-flight
// requests finish with the old ones. All three empty turns Pulse off: Track
// drops events and the sender idles. It clears a pause caused by refused
// credentials and wakes the sender.
func (p *Pulse) SetCredentials(url, apiKey, secret string) error {
	c, err := newCredentials(url, apiKey, secret)
	if err != nil {
		return err
	}
	p.credsMu.Lock()
	c.gen = p.creds.Load().gen + 1
	p.creds.Store(c)
	p.credsMu.Unlock()

	running := p.isRunning()
	p.stateMu.Lock()
	resumed := p.state.authFailing
	if resumed {
		p.state.authFailing, p.state.authFailures = false, 0
		p.state.pausedUntil = time.Time{}
	}
	st := p.stateLocked(running)
	p.stateMu.Unlock()
	if c.configured() {
		p.notConfiguredLogged.Store(false)
	}
	if resumed {
		p.stateChanged(st)
	}
	p.Wake()
	return nil
}

// Wake makes the background sender look for due events now, without
// blocking. Track calls it; a host that used TrackTx may call it after its
// commit for immediate delivery (otherwise the sender looks again shortly
// after TrackTx, and on SweepSchedule).
func (p *Pulse) Wake() {
	select {
	case p.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Start checks that the outbox table answers and starts the background
// sender: woken by Track, and swept on SweepSchedule unless NoSweep is
// set. ctx bounds the check only; the sender runs until Stop. Start after
// Start is a no-op returning nil; Start after Stop (or during it) returns
// ErrStopped.
func (p *Pulse) Start(ctx context.Context) error {
	p.lifeMu.Lock()
	defer p.lifeMu.Unlock()
	switch {
	case p.stopping:
		return ErrStopped
	case p.started:
		return nil
	}
	var n int
	if err := p.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+p.table+" WHERE id = 0").Scan(&n); err != nil {
		return fmt.Errorf("pulse: checking the outbox table %s (run the migrations of pulse.MigrationSource first): %w", p.table, err)
	}
	if !p.cfg.NoSweep {
		logger := cronLogger{p.cfg.Logger}
		p.cron = cron.New(cron.WithLogger(logger), cron.WithChain(cron.SkipIfStillRunning(logger)))
		if _, err := p.cron.AddFunc(p.cfg.SweepSchedule, p.sweep); err != nil {
			return fmt.Errorf("pulse: SweepSchedule %q: %w", p.cfg.SweepSchedule, err)
		}
	}
	// The sender outlives Start's ctx (keeping its values for logging);
	// only Stop ends it.
	base := context.WithoutCancel(ctx)
	p.soft, p.softCancel = context.WithCancel(base)
	p.hard, p.hardCancel = context.WithCancel(base)
	p.loopDone = make(chan struct{})
	go p.loop()
	if p.cron != nil {
		p.cron.Start()
	}
	p.started = true
	return nil
}

// Stop stops the background sender gracefully: no new claims; in-flight
// batches finish and are recorded. When ctx's deadline comes first, their
// requests are cancelled shortly before it and their events go back to
// pending with attempts unchanged, so no row is left in 'sending'. Stop
// may be called more than once, and before Start.
func (p *Pulse) Stop(ctx context.Context) error {
	p.lifeMu.Lock()
	if p.stopping {
		p.lifeMu.Unlock()
		select {
		case <-p.stopDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.stopping = true
	started := p.started
	p.lifeMu.Unlock()
	defer close(p.stopDone)
	if !started {
		return nil
	}

	p.softCancel()
	var cronDone <-chan struct{} // nil: no sweep to wait for
	if p.cron != nil {
		cronDone = p.cron.Stop().Done()
	}
	done := make(chan struct{})
	go func() {
		<-p.loopDone
		if cronDone != nil {
			<-cronDone
		}
		p.waitIdle()
		close(done)
	}()
	defer p.hardCancel()

	// Cut in-flight requests a little before the deadline, so that
	// releasing their rows fits inside it.
	var cut <-chan time.Time // nil: no deadline, wait for ctx.Done
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		t := time.NewTimer(left - min(left/5, 500*time.Millisecond))
		defer t.Stop()
		cut = t.C
	}
	select {
	case <-done:
		return nil
	case <-cut:
	case <-ctx.Done():
	}
	p.cfg.Logger.WarnContext(ctx, "pulse: stop deadline reached; cancelling in-flight requests and releasing their events")
	p.hardCancel()
	select {
	case <-done:
		return nil
	case <-time.After(stopReleaseWait):
		return errors.New("pulse: stopping: in-flight batches were not released in time; their leases will expire and another sender will retry them")
	}
}

// loop is the background sender's dispatcher: it starts workers when
// woken, when a retry, a lease or a pause falls due, and shortly after a
// TrackTx; and it works out the next of those when the workers go idle.
func (p *Pulse) loop() {
	defer close(p.loopDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var (
		armed    time.Time   // when timer fires; zero: not armed
		rechecks []time.Time // by time.Now
		errs     int
	)
	arm := func(at time.Time) { // fire at at, unless armed sooner
		if armed.IsZero() || at.Before(armed) {
			armed = at
			timer.Reset(time.Until(at))
		}
	}
	dropPast := func(now time.Time) {
		for len(rechecks) > 0 && !rechecks[0].After(now) {
			rechecks = rechecks[1:]
		}
	}
	p.kick() // deliver what an earlier run left behind
	for {
		select {
		case <-p.soft.Done():
			return
		case <-p.wake:
			if p.recheck.Swap(false) {
				now := time.Now()
				rechecks = []time.Time{now.Add(recheckDelay1), now.Add(recheckDelay1 + recheckDelay2)}
				arm(rechecks[0])
			}
			p.kick()
			continue
		case <-timer.C:
			armed = time.Time{}
			dropPast(time.Now())
			if len(rechecks) > 0 {
				arm(rechecks[0])
			}
			p.kick()
			continue
		case <-p.idle:
		}

		// The workers went idle: sleep until the next thing falls due.
		now := time.Now()
		dropPast(now)
		wait := time.Duration(-1) // none: wait for a wake-up or the sweep
		if p.workErr.Swap(false) {
			errs++
			wait = Backoff(errs, time.Second, time.Minute, 0.5)
		} else {
			errs = 0
			if w, ok := p.nextWait(); ok {
				wait = w
			}
		}
		timer.Stop()
		armed = time.Time{}
		if wait >= 0 {
			arm(now.Add(wait))
		}
		if len(rechecks) > 0 {
			arm(rechecks[0])
		}
	}
}

// kick makes sure a worker will look for due events: it starts one when
// fewer than Concurrency run, and otherwise leaves dirty set for a worker
// to see.
func (p *Pulse) kick() {
	p.dirty.Store(true)
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	if p.running >= int(p.limit.Load()) || p.soft.Err() != nil {
		return
	}
	p.running++
	go p.worker()
}

// worker claims and delivers batches until nothing is due, the sender
// pauses, or Stop. A claim that may have left more due events behind
// kicks another worker, so parallelism follows the backlog.
func (p *Pulse) worker() {
	for p.soft.Err() == nil {
		p.dirty.Store(false)
		if _, paused := p.pausedFor(); paused {
			break
		}
		_, next, err := p.sendBatch(p.soft, p.hard, p.kick)
		if err != nil && p.soft.Err() == nil && !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrNotConfigured) {
			p.cfg.Logger.Warn("pulse: sending", "err", err)
			p.recordError(err.Error())
			p.workErr.Store(true)
			break
		}
		if next != flowMore {
			break
		}
	}
	p.poolMu.Lock()
	p.running--
	idle := p.running == 0
	if idle {
		p.poolIdle.Broadcast()
	}
	p.poolMu.Unlock()
	if p.dirty.Load() && !p.workErr.Load() {
		p.kick() // woken after this worker last looked
		return
	}
	if idle {
		select {
		case p.idle <- struct{}{}:
		default:
		}
	}
}

// waitIdle returns when no worker runs.
func (p *Pulse) waitIdle() {
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	for p.running > 0 {
		p.poolIdle.Wait()
	}
}

// sweep is the SweepSchedule job: it drains until nothing is due (with
// cron.SkipIfStillRunning, sweeps never pile up).
func (p *Pulse) sweep() {
	if !p.creds.Load().configured() {
		return
	}
	p.kick()
	p.waitIdle()
}

// nextWait returns how long the background sender may sleep before
// something falls due: the end of a pause, the next retry, or the next
// lease expiry. false: nothing is scheduled.
func (p *Pulse) nextWait() (time.Duration, bool) {
	if !p.creds.Load().configured() {
		return 0, false
	}
	if d, paused := p.pausedFor(); paused {
		return d, true
	}
	ctx, cancel := context.WithTimeout(p.soft, releaseTimeout)
	defer cancel()
	due, ok, err := p.nextDue(ctx)
	if err != nil || !ok {
		return 0, false
	}
	d := due.Sub(p.cfg.Now())
	switch {
	case d <= 0:
		// Due but not claimed: another sender holds it. Look again soon,
		// without spinning.
		return 500 * time.Millisecond, true
	case d < 10*time.Millisecond:
		return 10 * time.Millisecond, true
	case d > time.Minute:
		return time.Minute, true
	}
	return d, true
}

// SenderState is the live state of the sender, for stats and health checks.
type SenderState struct {
	Configured bool // URL, API key and secret are set
	Running    bool // started and not stopped

	// AuthFailing: the Pulse API refused the credentials (401/403).
	// Sending is paused with backoff, without counting attempts, until it
	// accepts them or SetCredentials changes them.
	AuthFailing bool

	// PausedUntil: the background sender waits until then after refused
	// credentials or a failing API (zero when not paused).
	PausedUntil time.Time

	LastError   string    // the last delivery problem, "" when none yet
	LastErrorAt time.Time // by Config.Now
	LastSentAt  time.Time // the last accepted batch, by Config.Now
}

// State returns the sender's live state.
func (p *Pulse) State() SenderState {
	running := p.isRunning()
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.stateLocked(running)
}

// isRunning reports whether Start was called and Stop was not.
func (p *Pulse) isRunning() bool {
	p.lifeMu.Lock()
	defer p.lifeMu.Unlock()
	return p.started && !p.stopping
}

// stateLocked is State with stateMu held.
func (p *Pulse) stateLocked(running bool) SenderState {
	st := SenderState{
		Configured:  p.creds.Load().configured(),
		Running:     running,
		AuthFailing: p.state.authFailing,
		LastError:   p.state.lastError,
		LastErrorAt: p.state.lastErrorAt,
		LastSentAt:  p.state.lastSentAt,
	}
	if time.Now().Before(p.state.pausedUntil) {
		st.PausedUntil = p.state.pausedUntil
	}
	return st
}

// pausedFor reports whether the background sender is paused, and for how
// much longer.
func (p *Pulse) pausedFor() (time.Duration, bool) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	d := time.Until(p.state.pausedUntil)
	return d, d > 0
}

// authPaused reports whether sending is paused after refused credentials,
// and until when.
func (p *Pulse) authPaused() (time.Time, bool) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.state.pausedUntil, p.state.authFailing && time.Now().Before(p.state.pausedUntil)
}

func (p *Pulse) recordError(reason string) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	p.state.lastError = truncateError(reason)
	p.state.lastErrorAt = p.cfg.Now()
}

// authFailed pauses sending after a 401/403, unless the credentials that
// failed have been replaced since, and reports the pause to OnStateChange
// when sending was not paused already.
func (p *Pulse) authFailed(gen uint64, reason string) {
	running := p.isRunning()
	p.stateMu.Lock()
	p.state.lastError = truncateError(reason)
	p.state.lastErrorAt = p.cfg.Now()
	if p.creds.Load().gen != gen {
		p.stateMu.Unlock()
		return
	}
	paused := !p.state.authFailing
	p.state.authFailing = true
	p.state.authFailures++
	pause := p.cfg.backoff(p.state.authFailures)
	p.state.pausedUntil = time.Now().Add(pause)
	st := p.stateLocked(running)
	p.stateMu.Unlock()
	p.cfg.Logger.Error("pulse: the Pulse API refused the credentials; sending paused",
		"reason", reason, "retry_in", pause.Round(time.Millisecond))
	if paused {
		p.stateChanged(st)
	}
}

// stateChanged calls OnStateChange, outside every lock.
func (p *Pulse) stateChanged(st SenderState) {
	if p.cfg.OnStateChange != nil {
		p.cfg.OnStateChange(st)
	}
}

// serverFailed pauses the background sender after a transient failure of
// a whole batch, for at least the Retry-After, so that a backlog does not
// hammer a failing API and burn every event's attempts; the next batch
// after the pause is the probe.
func (p *Pulse) serverFailed(reason string, retryAfter time.Duration, hasRetryAfter bool) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	p.state.lastError = truncateError(reason)
	p.state.lastErrorAt = p.cfg.Now()
	p.state.failures++
	pause := p.cfg.retryDelay(p.state.failures, retryAfter, hasRetryAfter)
	if until := time.Now().Add(pause); until.After(p.state.pausedUntil) {
		p.state.pausedUntil = until
	}
}

// delivered clears failure pauses after an answer that accepted events,
// and reports the end of an authentication pause to OnStateChange.
func (p *Pulse) delivered(gen uint64) {
	running := p.isRunning()
	p.stateMu.Lock()
	p.state.lastSentAt = p.cfg.Now()
	p.state.failures = 0
	resumed := false
	if p.creds.Load().gen == gen {
		resumed = p.state.authFailing
		p.state.authFailing, p.state.authFailures = false, 0
	}
	if !p.state.authFailing {
		p.state.pausedUntil = time.Time{}
	}
	st := p.stateLocked(running)
	p.stateMu.Unlock()
	if resumed {
		p.stateChanged(st)
	}
}

// cronLogger routes robfig/cron's logging to slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("pulse: cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("pulse: cron: "+msg, append(kv, "err", err)...)
}
