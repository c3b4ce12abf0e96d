// Package sqlite opens SQLite databases for TeleCart through the pure-Go
// modernc.org/sqlite driver. It is a package of its own so that a host on
// MySQL never compiles SQLite.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/telecart-go/telecart/migrator"
)

// BusyTimeoutDefault is how long a writer waits for the write lock.
const BusyTimeoutDefault = 10 * time.Second

// Open opens the SQLite database at path (":memory:" for an in-memory one) in
// WAL mode with a busy timeout, foreign keys on, and a single connection:
// SQLite has one writer at a time, and one pooled connection makes that
// explicit instead of a source of "database is locked" errors. It pings the
// database before returning.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: empty path; use a file name, or :memory: for an in-memory database")
	}
	if path != ":memory:" {
		// The database holds the bot token and the Pulse secrets: a file
		// made here is the owner's alone. SQLite gives its -wal and -shm
		// files the database's mode.
		if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			f.Close()
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("sqlite: creating %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeoutDefault.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	q.Set("_time_format", "sqlite")
	dsn := "file:" + strings.ReplaceAll(path, "?", "%3F") + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	return db, nil
}

// Dialect is migrator.SQLite, for symmetry with the mysql package.
const Dialect = migrator.SQLite
