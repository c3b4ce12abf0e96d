package migrator

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"
	"time"
)

// LockTimeoutDefault is how long Up waits for another process's migration.
const LockTimeoutDefault = 60 * time.Second

// Placeholder is replaced by the table prefix in migration files.
const Placeholder = "{prefix}"

// Errors returned by the runner; check them with errors.Is.
var (
	// ErrChecksumMismatch means an applied migration file was edited.
	ErrChecksumMismatch = errors.New("migrator: applied migration was edited")
	// ErrLockTimeout means another process held the migration lock too long.
	ErrLockTimeout = errors.New("migrator: timed out waiting for the migration lock")
)

// Source is one package's migrations. FS holds migrations/mysql/*.sql and
// migrations/sqlite/*.sql (an embed.FS at the package root is typical); Dir
// overrides the "migrations" folder name.
type Source struct {
	Name string // recorded in the history as Name/file.sql; must be unique
	FS   fs.FS
	Dir  string // Defaults to "migrations".
}

// Config configures a Migrator.
type Config struct {
	// Dialect of the database. Required.
	Dialect Dialect
	// Prefix of every table name, the history table included. Defaults to
	// PrefixDefault; set NoPrefix to use none.
	Prefix   string
	NoPrefix bool
	// Sources run in the order given; files within a source by name.
	Sources []Source
	// LockTimeout bounds the wait for another process's migration. Defaults
	// to LockTimeoutDefault.
	LockTimeout time.Duration
	// LockLease is the lease of the MySQL migration lock (see Locker): a
	// process that dies while migrating holds the lock that long after
	// its last renewal. On Galera, a single DDL statement that runs longer
	// than LockLease holds back the renewals (DDL is applied in total
	// order), so raise it before altering very large tables. Defaults to
	// LeaseTTLDefault (30s).
	LockLease time.Duration
	// Logger receives a line per applied file. Defaults to a discarding logger.
	Logger *slog.Logger
	// Now is the clock for executed_at. Defaults to time.Now.
	Now func() time.Time
}

// Migrator applies migrations to one database.
type Migrator struct {
	db  *sql.DB
	cfg Config
}

// New validates cfg and returns a Migrator over db.
func New(db *sql.DB, cfg Config) (*Migrator, error) {
	if db == nil {
		return nil, errors.New("migrator: db is nil")
	}
	if err := cfg.Dialect.Validate(); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" && !cfg.NoPrefix {
		cfg.Prefix = PrefixDefault
	}
	if err := ValidatePrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	if cfg.LockTimeout <= 0 {
		cfg.LockTimeout = LockTimeoutDefault
	}
	if cfg.LockLease < 0 {
		return nil, fmt.Errorf("migrator: LockLease must not be negative, got %s", cfg.LockLease)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	seen := map[string]bool{}
	for i, s := range cfg.Sources {
		if s.Name == "" || strings.ContainsAny(s.Name, "/\\") {
			return nil, fmt.Errorf("migrator: Sources[%d].Name %q must be non-empty and hold no slash", i, s.Name)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("migrator: two sources are named %q", s.Name)
		}
		seen[s.Name] = true
		if s.FS == nil {
			return nil, fmt.Errorf("migrator: Sources[%d] (%s) has a nil FS", i, s.Name)
		}
	}
	return &Migrator{db: db, cfg: cfg}, nil
}

// State of a migration in Status.
type State string

const (
	StateApplied State = "applied"
	StatePending State = "pending"
	// StatePartial: a MySQL run stopped inside the file; the next Up goes on.
	StatePartial State = "partial"
	// StateModified: applied, but the file has changed since.
	StateModified State = "modified"
	// StateMissing: recorded in the history, but no file has that name.
	StateMissing State = "missing"
)

// MigrationStatus is one line of Status.
type MigrationStatus struct {
	Name              string // Source/file.sql
	State             State
	Batch             int
	Checksum          string // of the file as applied
	ExecutedAt        *time.Time
	StatementsApplied int
	StatementsTotal   int
}

// MigrationError reports the file and statement that failed.
type MigrationError struct {
	File      string // Source/file.sql
	Index     int    // 1-based statement number
	Total     int
	Statement string
	Err       error
}

func (e *MigrationError) Error() string {
	return fmt.Sprintf("migrator: %s, statement %d of %d failed: %v\n\t%s", e.File, e.Index, e.Total, e.Err, e.Statement)
}

func (e *MigrationError) Unwrap() error { return e.Err }

type file struct {
	name       string // Source/file.sql
	checksum   string
	statements []string // raw, before the prefix is substituted
}

type record struct {
	name            string
	batch           int
	checksum        string
	total, applied  int
	appliedChecksum string
	executedAt      time.Time
}

func (m *Migrator) table() string { return m.cfg.Prefix + "migrations" }

// load reads every source's files for the dialect, in run order.
func (m *Migrator) load() ([]file, error) {
	var files []file
	for _, s := range m.cfg.Sources {
		dir := s.Dir
		if dir == "" {
			dir = "migrations"
		}
		dir = path.Join(dir, string(m.cfg.Dialect))
		entries, err := fs.ReadDir(s.FS, dir)
		if err != nil {
			return nil, fmt.Errorf("migrator: reading %s of source %s: %w", dir, s.Name, err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			b, err := fs.ReadFile(s.FS, path.Join(dir, n))
			if err != nil {
				return nil, fmt.Errorf("migrator: reading %s/%s: %w", s.Name, n, err)
			}
			sum := sha256.Sum256(b)
			files = append(files, file{
				name:       s.Name + "/" + n,
				checksum:   hex.EncodeToString(sum[:]),
				statements: SplitStatements(string(b)),
			})
		}
	}
	return files, nil
}

// prefixChecksum identifies the first n statements of a file, so that a
// partially applied file may be fixed after the failing statement but not
// before it.
func prefixChecksum(statements []string, n int) string {
	h := sha256.New()
	for _, s := range statements[:min(n, len(statements))] {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Status lists every migration: applied, pending, partial, modified or
// missing, in run order (missing ones last). It takes no lock.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	files, err := m.load()
	if err != nil {
		return nil, err
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrator: connecting: %w", err)
	}
	defer conn.Close()
	exists, err := m.historyExists(ctx, conn)
	if err != nil {
		return nil, err
	}
	recs := map[string]record{}
	var order []string
	if exists {
		if recs, order, err = m.readHistory(ctx, conn); err != nil {
			return nil, err
		}
	}
	out := make([]MigrationStatus, 0, len(files))
	known := map[string]bool{}
	for _, f := range files {
		known[f.name] = true
		st := MigrationStatus{Name: f.name, State: StatePending, StatementsTotal: len(f.statements)}
		if r, ok := recs[f.name]; ok {
			st = statusOf(r)
			switch {
			case r.applied < r.total:
				st.State = StatePartial
			case r.checksum != f.checksum:
				st.State = StateModified
			}
		}
		out = append(out, st)
	}
	for _, name := range order {
		if !known[name] {
			st := statusOf(recs[name])
			st.State = StateMissing
			out = append(out, st)
		}
	}
	return out, nil
}

func statusOf(r record) MigrationStatus {
	at := r.executedAt
	return MigrationStatus{Name: r.name, State: StateApplied, Batch: r.batch, Checksum: r.checksum,
		ExecutedAt: &at, StatementsApplied: r.applied, StatementsTotal: r.total}
}

// Up applies every pending migration under the lock and returns the names
// applied (nil when the database was up to date). On SQLite a run is one
// transaction: all of it or none. On MySQL each file's progress is recorded
// per statement; a failure leaves a partial record that the next run
// explains and goes on from once the file is fixed.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	files, err := m.load()
	if err != nil {
		return nil, err
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrator: connecting: %w", err)
	}
	defer conn.Close()
	if m.cfg.Dialect == SQLite {
		return m.upSQLite(ctx, conn, files)
	}
	return m.upMySQL(ctx, conn, files)
}

func (m *Migrator) upSQLite(ctx context.Context, conn *sql.Conn, files []file) (applied []string, err error) {
	// BEGIN IMMEDIATE takes the write lock at once, so a second process
	// waits (busy timeout) and then sees this run's history.
	lockCtx, cancel := context.WithTimeout(ctx, m.cfg.LockTimeout)
	defer cancel()
	for {
		_, err = conn.ExecContext(lockCtx, "BEGIN IMMEDIATE")
		if err == nil {
			break
		}
		if !isBusy(err) {
			return nil, fmt.Errorf("migrator: BEGIN IMMEDIATE: %w", err)
		}
		select {
		case <-lockCtx.Done():
			return nil, fmt.Errorf("%w: %v", ErrLockTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	defer func() {
		if err == nil {
			_, cerr := conn.ExecContext(ctx, "COMMIT")
			if cerr == nil {
				return
			}
			err, applied = fmt.Errorf("migrator: COMMIT: %w", cerr), nil
		}
		rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, rerr := conn.ExecContext(rbCtx, "ROLLBACK"); rerr != nil {
			// A connection left inside a transaction must not go back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return m.apply(ctx, conn, files)
}

func (m *Migrator) upMySQL(ctx context.Context, conn *sql.Conn, files []file) (applied []string, err error) {
	// A lease lock row, not GET_LOCK: GET_LOCK is node-local on a Galera
	// cluster, where each node would grant it. The table prefix scopes it,
	// so that other shops in the same server don't wait.
	locker, err := NewLocker(DB{DB: m.db, Dialect: m.cfg.Dialect, Prefix: m.cfg.Prefix},
		LockerConfig{TTL: m.cfg.LockLease, Logger: m.cfg.Logger})
	if err != nil {
		return nil, err
	}
	lease, err := locker.Acquire(ctx, migrateLock, m.cfg.LockTimeout)
	if errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("%w: %v", ErrLockTimeout, err)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := lease.Release(context.WithoutCancel(ctx)); rerr != nil {
			m.cfg.Logger.WarnContext(ctx, rerr.Error())
		}
	}()
	// Losing the lease mid-run cancels the statement in flight: going on
	// would race the process that took the lock over.
	runCtx, cancel := lease.Context(ctx)
	defer cancel()
	applied, err = m.apply(runCtx, conn, files)
	if lerr := lease.Err(); err != nil && lerr != nil {
		err = fmt.Errorf("%w (%w)", err, lerr)
	}
	return applied, err
}

// migrateLock is the name of the migration lock in <prefix>locks.
const migrateLock = "migrate"

// apply runs under the lock: it creates the history table, checks applied
// files, and applies the pending ones in order.
func (m *Migrator) apply(ctx context.Context, conn *sql.Conn, files []file) ([]string, error) {
	if _, err := conn.ExecContext(ctx, m.historyDDL()); err != nil {
		return nil, fmt.Errorf("migrator: creating %s: %w", m.table(), err)
	}
	recs, _, err := m.readHistory(ctx, conn)
	if err != nil {
		return nil, err
	}
	batch := 1
	for _, r := range recs {
		batch = max(batch, r.batch+1)
	}
	// Refuse before changing anything when an applied file was edited.
	for _, f := range files {
		if r, ok := recs[f.name]; ok && r.applied >= r.total && r.checksum != f.checksum {
			return nil, fmt.Errorf("%w: %s was applied with checksum %.12s… but the file now has %.12s…; "+
				"restore the file and add a new migration for the change", ErrChecksumMismatch, f.name, r.checksum, f.checksum)
		}
	}
	var applied []string
	for _, f := range files {
		r, ok := recs[f.name]
		if ok && r.applied >= r.total {
			continue
		}
		from := 0
		if ok {
			// A partial MySQL file: go on after the statements that ran.
			if r.applied > len(f.statements) || prefixChecksum(f.statements, r.applied) != r.appliedChecksum {
				return applied, fmt.Errorf("migrator: %s stopped at statement %d of %d in an earlier run, "+
					"and its first %d statements have changed since; restore them (they are already applied) "+
					"or repair the database by hand and delete the file's row from %s",
					f.name, r.applied+1, r.total, r.applied, m.table())
			}
			from = r.applied
			m.cfg.Logger.InfoContext(ctx, "migrator: resuming partially applied migration",
				"file", f.name, "from_statement", from+1, "statements", len(f.statements))
			if err := m.updateRecord(ctx, conn, f, from, batch); err != nil {
				return applied, err
			}
		} else if err := m.insertRecord(ctx, conn, f, batch); err != nil {
			return applied, err
		}
		started := time.Now()
		for i := from; i < len(f.statements); i++ {
			stmt := strings.ReplaceAll(f.statements[i], Placeholder, m.cfg.Prefix)
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return applied, &MigrationError{File: f.name, Index: i + 1, Total: len(f.statements), Statement: stmt, Err: err}
			}
			if m.cfg.Dialect == MySQL {
				// DDL has committed: record how far the file got.
				if err := m.updateRecord(ctx, conn, f, i+1, batch); err != nil {
					return applied, err
				}
			}
		}
		if m.cfg.Dialect != MySQL {
			if err := m.updateRecord(ctx, conn, f, len(f.statements), batch); err != nil {
				return applied, err
			}
		}
		m.cfg.Logger.InfoContext(ctx, "migrator: applied", "file", f.name, "statements", len(f.statements),
			"batch", batch, "duration", time.Since(started))
		applied = append(applied, f.name)
	}
	return applied, nil
}

func (m *Migrator) historyDDL() string {
	if m.cfg.Dialect == MySQL {
		return `CREATE TABLE IF NOT EXISTS ` + m.table() + ` (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(255) NOT NULL,
	batch INT NOT NULL,
	checksum CHAR(64) NOT NULL,
	statements_total INT NOT NULL,
	statements_applied INT NOT NULL,
	applied_checksum CHAR(64) NOT NULL,
	executed_at DATETIME(6) NOT NULL,
	UNIQUE KEY ` + m.table() + `_name_uq (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
	}
	return `CREATE TABLE IF NOT EXISTS ` + m.table() + ` (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL UNIQUE,
	batch INTEGER NOT NULL,
	checksum TEXT NOT NULL,
	statements_total INTEGER NOT NULL,
	statements_applied INTEGER NOT NULL,
	applied_checksum TEXT NOT NULL,
	executed_at TEXT NOT NULL
)`
}

func (m *Migrator) historyExists(ctx context.Context, conn *sql.Conn) (bool, error) {
	var q string
	if m.cfg.Dialect == MySQL {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
	} else {
		q = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	}
	var n int
	if err := conn.QueryRowContext(ctx, q, m.table()).Scan(&n); err != nil {
		return false, fmt.Errorf("migrator: looking for %s: %w", m.table(), err)
	}
	return n > 0, nil
}

func (m *Migrator) readHistory(ctx context.Context, conn *sql.Conn) (map[string]record, []string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT name, batch, checksum, statements_total, statements_applied, "+
		"applied_checksum, executed_at FROM "+m.table()+" ORDER BY id")
	if err != nil {
		return nil, nil, fmt.Errorf("migrator: reading %s: %w", m.table(), err)
	}
	defer rows.Close()
	recs := map[string]record{}
	var order []string
	for rows.Next() {
		var r record
		if err := rows.Scan(&r.name, &r.batch, &r.checksum, &r.total, &r.applied, &r.appliedChecksum, ScanTime(&r.executedAt)); err != nil {
			return nil, nil, fmt.Errorf("migrator: reading %s: %w", m.table(), err)
		}
		recs[r.name] = r
		order = append(order, r.name)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("migrator: reading %s: %w", m.table(), err)
	}
	return recs, order, nil
}

func (m *Migrator) insertRecord(ctx context.Context, conn *sql.Conn, f file, batch int) error {
	q, args, err := m.cfg.Dialect.Builder().Insert(m.table()).
		Columns("name", "batch", "checksum", "statements_total", "statements_applied", "applied_checksum", "executed_at").
		Values(f.name, batch, f.checksum, len(f.statements), 0, prefixChecksum(f.statements, 0), m.cfg.Dialect.EncodeTime(m.cfg.Now())).
		ToSql()
	if err == nil {
		_, err = conn.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return fmt.Errorf("migrator: recording %s: %w", f.name, err)
	}
	return nil
}

func (m *Migrator) updateRecord(ctx context.Context, conn *sql.Conn, f file, applied, batch int) error {
	q, args, err := m.cfg.Dialect.Builder().Update(m.table()).
		Set("batch", batch).
		Set("checksum", f.checksum).
		Set("statements_total", len(f.statements)).
		Set("statements_applied", applied).
		Set("applied_checksum", prefixChecksum(f.statements, applied)).
		Set("executed_at", m.cfg.Dialect.EncodeTime(m.cfg.Now())).
		Where("name = ?", f.name).
		ToSql()
	if err == nil {
		_, err = conn.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return fmt.Errorf("migrator: recording %s: %w", f.name, err)
	}
	return nil
}

// isBusy reports SQLite's "database is locked" without importing the driver.
func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}
