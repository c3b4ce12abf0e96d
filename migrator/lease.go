package migrator

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"
)

// LeaseTTLDefault is how long a lease lasts without renewal.
const LeaseTTLDefault = 30 * time.Second

// Errors of Locker and Lease; check them with errors.Is.
var (
	// ErrLocked means another owner holds the lock.
	ErrLocked = errors.New("migrator: the lock is held by another owner")
	// ErrLeaseLost means another owner took the lock over, or the lease
	// could not be renewed before it ran out: the holder must stop the work
	// it guards.
	ErrLeaseLost = errors.New("migrator: the lease of the lock was lost")
)

// maxLockName bounds lock names: the key column is VARCHAR(191).
const maxLockName = 191

// LockerConfig configures a Locker.
type LockerConfig struct {
	// Owner names this process in the lock rows, for operators who look
	// at who holds a lock. Each acquisition adds a random suffix, so that
	// two holders in one process are told apart. Defaults to
	// "hostname:pid".
	Owner string
	// TTL is how long a lease lasts unless renewed. A holder renews it
	// every TTL/3, so a lock whose holder died is free again within TTL.
	// Defaults to LeaseTTLDefault (30s).
	TTL time.Duration
	// Now is the clock of lease expiries. Holders on different machines
	// compare their clocks through the expiries, so keep them in sync
	// (NTP) to well within TTL. Defaults to time.Now.
	Now func() time.Time
	// Logger receives a line when a lease is lost. Defaults to a
	// discarding logger.
	Logger *slog.Logger
}

// Locker takes named locks that hold across every process sharing the
// database, whether that is one server or a cluster whose nodes each lock
// their own rows and sessions (MariaDB Galera, where GET_LOCK and row locks
// are node-local). A lock is a row of <prefix>locks with an owner and a
// lease expiry, taken and renewed in short committed transactions. On
// Galera two nodes that take the same lock at once are told apart by the
// cluster: usually certification fails the later commit, and where both
// commit the later write stands and a Fence has the earlier taker let go.
// The table is created on first use (CREATE TABLE IF NOT EXISTS), like the
// migration history, because the lock is needed before any migration runs.
//
// A holder that dies keeps its lock until the lease runs out (TTL after its
// last renewal). Safe for concurrent use.
type Locker struct {
	db    DB
	cfg   LockerConfig
	table string

	mu    sync.Mutex
	ready bool            // the table exists
	rows  map[string]bool // names whose row exists

	fence *Fence // on Galera, a take-over stands once no other node's overwrote it
}

// NewLocker validates cfg and returns a Locker over db, whose Prefix
// names the table.
func NewLocker(db DB, cfg LockerConfig) (*Locker, error) {
	if db.DB == nil {
		return nil, errors.New("migrator: Locker: DB is nil")
	}
	if err := db.Dialect.Validate(); err != nil {
		return nil, err
	}
	if err := ValidatePrefix(db.Prefix); err != nil {
		return nil, err
	}
	if cfg.TTL < 0 {
		return nil, fmt.Errorf("migrator: LockerConfig.TTL must not be negative, got %s", cfg.TTL)
	}
	if cfg.TTL == 0 {
		cfg.TTL = LeaseTTLDefault
	}
	if cfg.TTL < 300*time.Millisecond {
		return nil, fmt.Errorf("migrator: LockerConfig.TTL %s is too short to renew; use 300ms or more", cfg.TTL)
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	if len(cfg.Owner) > maxLockName-16 {
		cfg.Owner = cfg.Owner[:maxLockName-16]
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Locker{db: db, cfg: cfg, table: db.Prefix + "locks", rows: map[string]bool{}, fence: NewFence(db, 0)}, nil
}

// TTL is the lease's length.
func (l *Locker) TTL() time.Duration { return l.cfg.TTL }

func (l *Locker) ddl() string {
	if l.db.Dialect == MySQL {
		return `CREATE TABLE IF NOT EXISTS ` + l.table + ` (
	name VARCHAR(191) NOT NULL,
	owner VARCHAR(191) NOT NULL DEFAULT '',
	expires_at DATETIME(6) NOT NULL,
	note VARCHAR(191) NOT NULL DEFAULT '',
	PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
	}
	return `CREATE TABLE IF NOT EXISTS ` + l.table + ` (
	name TEXT NOT NULL PRIMARY KEY,
	owner TEXT NOT NULL DEFAULT '',
	expires_at TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT ''
)`
}

// retry runs fn again on a conflict: two nodes (or sessions) writing one
// lock row at once.
func (l *Locker) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	return ConflictRetry{}.Do(ctx, fn)
}

// ensure creates the table and the row of name, once per Locker.
func (l *Locker) ensure(ctx context.Context, name string) error {
	l.mu.Lock()
	ready, row := l.ready, l.rows[name]
	l.mu.Unlock()
	if row {
		return nil
	}
	if !ready {
		if _, err := l.db.ExecContext(ctx, l.ddl()); err != nil {
			return fmt.Errorf("migrator: creating %s: %w", l.table, err)
		}
		l.mu.Lock()
		l.ready = true
		l.mu.Unlock()
	}
	d := l.db.Dialect
	q, args, err := d.InsertIgnore(d.Builder().Insert(l.table).
		Columns("name", "owner", "expires_at", "note").
		Values(name, "", d.EncodeTime(time.Unix(0, 0)), ""), "name").ToSql()
	if err != nil {
		return err
	}
	err = l.retry(ctx, func(ctx context.Context) error {
		_, err := l.db.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrator: adding lock %q to %s: %w", name, l.table, err)
	}
	l.mu.Lock()
	l.rows[name] = true
	l.mu.Unlock()
	return nil
}

// TryAcquire takes the lock name when it is free or its holder's lease
// has run out, without waiting: ok is false when another owner holds it.
// The lease is renewed in the background until Release.
func (l *Locker) TryAcquire(ctx context.Context, name string) (lease *Lease, ok bool, err error) {
	if name == "" || len(name) > maxLockName {
		return nil, false, fmt.Errorf("migrator: lock name %q must be 1 to %d bytes", name, maxLockName)
	}
	if err := l.ensure(ctx, name); err != nil {
		return nil, false, err
	}
	var suffix [6]byte
	_, _ = crand.Read(suffix[:])
	token := l.cfg.Owner + "#" + hex.EncodeToString(suffix[:])
	d := l.db.Dialect
	var expires time.Time
	err = l.retry(ctx, func(ctx context.Context) error {
		now := l.cfg.Now()
		expires = now.Add(l.cfg.TTL)
		// One statement decides: on a cluster, two nodes that both see the
		// lock free both update the row, and certification fails the later
		// commit.
		res, err := d.Builder().Update(l.table).
			Set("owner", token).
			Set("expires_at", d.EncodeTime(expires)).
			Where("name = ?", name).
			Where("(owner = '' OR expires_at < ?)", d.EncodeTime(now)).
			RunWith(l.db.DB).ExecContext(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("migrator: taking lock %q: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	// On Galera two nodes can both take a free lock and both commit; the
	// later write stands, and the earlier taker finds out here.
	_, err = l.fence.Settle(ctx, func(ctx context.Context, q Execer) error {
		var owner string
		if err := q.QueryRowContext(ctx, "SELECT owner FROM "+l.table+" WHERE name = ?", name).Scan(&owner); err != nil {
			return err
		}
		ok = owner == token
		return nil
	})
	if err != nil {
		l.release(context.WithoutCancel(ctx), name, token)
		return nil, false, fmt.Errorf("migrator: confirming lock %q: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	var note string
	if err := l.db.QueryRowContext(ctx, "SELECT note FROM "+l.table+" WHERE name = ?", name).Scan(&note); err != nil {
		l.release(context.WithoutCancel(ctx), name, token)
		return nil, false, fmt.Errorf("migrator: reading lock %q: %w", name, err)
	}
	s := &Lease{l: l, name: name, token: token, note: note, expires: expires,
		stop: make(chan struct{}), done: make(chan struct{})}
	s.lost, s.markLostCtx = context.WithCancel(context.Background())
	go s.renew()
	return s, true, nil
}

// Acquire takes the lock name, waiting up to wait for its holder to
// release it or for the holder's lease to run out. It returns an error
// wrapping ErrLocked when wait passes first.
func (l *Locker) Acquire(ctx context.Context, name string, wait time.Duration) (*Lease, error) {
	deadline := time.Now().Add(wait)
	poll := min(l.cfg.TTL/10, 250*time.Millisecond)
	for {
		s, ok, err := l.TryAcquire(ctx, name)
		if err != nil || ok {
			return s, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %q, held by %s, after waiting %s", ErrLocked, name, l.holder(ctx, name), wait)
		}
		t := time.NewTimer(poll/2 + rand.N(poll/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("migrator: waiting for lock %q: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}

// holder names the owner of lock name, for messages.
func (l *Locker) holder(ctx context.Context, name string) string {
	var owner string
	var expires time.Time
	err := l.db.QueryRowContext(ctx, "SELECT owner, expires_at FROM "+l.table+" WHERE name = ?", name).
		Scan(&owner, ScanTime(&expires))
	if err != nil {
		return "an unknown owner (" + err.Error() + ")"
	}
	return fmt.Sprintf("%s until %s", owner, expires.UTC().Format(time.RFC3339Nano))
}

// release frees the lock if token still holds it.
func (l *Locker) release(ctx context.Context, name, token string) error {
	d := l.db.Dialect
	return l.retry(ctx, func(ctx context.Context) error {
		_, err := d.Builder().Update(l.table).
			Set("owner", "").
			Set("expires_at", d.EncodeTime(time.Unix(0, 0))).
			Where("name = ?", name).Where("owner = ?", token).
			RunWith(l.db.DB).ExecContext(ctx)
		return err
	})
}

// Lease is a held lock. Its holder calls Release when done; until then it
// is renewed in the background, and Lost is closed if it is lost.
type Lease struct {
	l     *Locker
	name  string
	token string
	note  string

	mu       sync.Mutex
	expires  time.Time
	err      error // ErrLeaseLost, once lost
	released bool

	lost        context.Context // done when lost
	markLostCtx context.CancelFunc
	stop        chan struct{} // closed by Release
	done        chan struct{} // closed when renew returns
}

// Name is the lock's name.
func (s *Lease) Name() string { return s.name }

// Owner is what the lock row's owner column holds while this lease does:
// the Locker's Owner and a random suffix.
func (s *Lease) Owner() string { return s.token }

// Note is the note the lock row held when this lease was taken: what the
// previous holder left with SetNote ("" when none).
func (s *Lease) Note() string { return s.note }

// SetNote stores note (up to 191 bytes) in the lock row for the holders
// that come after this one; it stays after Release. It fails with
// ErrLeaseLost when another owner holds the lock.
func (s *Lease) SetNote(ctx context.Context, note string) error {
	if len(note) > maxLockName {
		return fmt.Errorf("migrator: a lock note must be at most %d bytes", maxLockName)
	}
	d := s.l.db.Dialect
	var n int64
	err := s.l.retry(ctx, func(ctx context.Context) error {
		res, err := d.Builder().Update(s.l.table).Set("note", note).
			Where("name = ?", s.name).Where("owner = ?", s.token).
			RunWith(s.l.db.DB).ExecContext(ctx)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("migrator: noting lock %q: %w", s.name, err)
	}
	if n == 0 {
		// MySQL counts changed rows: the same note again changes none.
		if mine, err := s.stillMine(ctx); err != nil || !mine {
			return errors.Join(fmt.Errorf("%w: %q", ErrLeaseLost, s.name), err)
		}
	}
	s.note = note
	return nil
}

// Lost is closed when the lease is lost: another owner took the lock, or
// it could not be renewed before it ran out.
func (s *Lease) Lost() <-chan struct{} { return s.lost.Done() }

// Err is nil while the lease holds (or after Release), and wraps
// ErrLeaseLost once it is lost.
func (s *Lease) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Context returns a context that ends when parent ends or the lease is
// lost (its cause then wraps ErrLeaseLost), for the work the lock guards.
func (s *Lease) Context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	stop := context.AfterFunc(s.lost, func() { cancel(s.Err()) })
	return ctx, func() {
		stop()
		cancel(context.Canceled)
	}
}

// Release stops the renewals and frees the lock, unless it was lost. A
// failure to free it is returned, and the lock then frees itself when the
// lease runs out. Release may be called more than once.
func (s *Lease) Release(ctx context.Context) error {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return nil
	}
	s.released = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	if s.Err() != nil {
		return nil
	}
	if err := s.l.release(ctx, s.name, s.token); err != nil {
		return fmt.Errorf("migrator: releasing lock %q (it frees itself when the lease runs out): %w", s.name, err)
	}
	return nil
}

// renew extends the lease every TTL/3 until Release or until the lease
// is lost. A renewal that errs is tried again at the next tick; the lease
// counts as lost once its expiry has passed without a renewal. A renewal
// that only waits (a Galera node applies DDL in total order, holding every
// commit back meanwhile) is waited for, not given up on: its commit is
// ordered before any other node's attempt to take the lock over.
func (s *Lease) renew() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-s.done:
		}
	}()
	every := s.l.cfg.TTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		mine, expires, err := s.renewOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && mine:
			s.mu.Lock()
			s.expires = expires
			s.mu.Unlock()
			continue
		case err == nil:
			s.markLost("another owner holds the lock")
			return
		}
		s.mu.Lock()
		over := !s.l.cfg.Now().Before(s.expires)
		s.mu.Unlock()
		if over {
			s.markLost("not renewed before it ran out: " + err.Error())
			return
		}
		s.l.cfg.Logger.Warn("migrator: renewing a lease failed; trying again", "lock", s.name, "err", err)
	}
}

// renewOnce extends the lease; mine is false when another owner holds the
// lock.
func (s *Lease) renewOnce(ctx context.Context) (mine bool, expires time.Time, err error) {
	d := s.l.db.Dialect
	var n int64
	err = s.l.retry(ctx, func(ctx context.Context) error {
		expires = s.l.cfg.Now().Add(s.l.cfg.TTL)
		res, err := d.Builder().Update(s.l.table).Set("expires_at", d.EncodeTime(expires)).
			Where("name = ?", s.name).Where("owner = ?", s.token).
			RunWith(s.l.db.DB).ExecContext(ctx)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, time.Time{}, err
	}
	if n == 1 {
		return true, expires, nil
	}
	// MySQL counts changed rows: a clock that stood still changes none.
	mine, err = s.stillMine(ctx)
	return mine, expires, err
}

func (s *Lease) stillMine(ctx context.Context) (bool, error) {
	var owner string
	err := s.l.db.QueryRowContext(ctx, "SELECT owner FROM "+s.l.table+" WHERE name = ?", s.name).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return owner == s.token, err
}

func (s *Lease) markLost(why string) {
	s.mu.Lock()
	s.err = fmt.Errorf("%w: %q: %s", ErrLeaseLost, s.name, why)
	s.mu.Unlock()
	s.markLostCtx()
	s.l.cfg.Logger.Error("migrator: lost the lease of a lock; stopping the work it guards", "lock", s.name, "why", why)
}
