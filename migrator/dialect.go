package migrator

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"
)

// Dialect names the SQL engine a *sql.DB talks to. Stores branch on it
// explicitly where the engines differ; everything else is shared.
type Dialect string

const (
	// MySQL is MySQL 8 or MariaDB 10.6+ through go-sql-driver/mysql with
	// parseTime=true and UTC times.
	MySQL Dialect = "mysql"
	// SQLite is SQLite through modernc.org/sqlite: WAL, a busy timeout and a
	// single connection, so there is one writer at a time.
	SQLite Dialect = "sqlite"
)

// PrefixDefault is the table name prefix used when none is configured.
const PrefixDefault = "telecart_"

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_]{0,32}$`)

// ValidatePrefix reports whether p may prefix table names. Prefixes come from
// configuration and end up in SQL text, so only [A-Za-z0-9_]{0,32} is allowed.
func ValidatePrefix(p string) error {
	if !prefixPattern.MatchString(p) {
		return fmt.Errorf("migrator: table prefix %q must match [A-Za-z0-9_]{0,32}", p)
	}
	return nil
}

// Validate reports an unknown dialect.
func (d Dialect) Validate() error {
	switch d {
	case MySQL, SQLite:
		return nil
	case "":
		return fmt.Errorf("migrator: Dialect is empty; set it to migrator.MySQL or migrator.SQLite")
	default:
		return fmt.Errorf("migrator: unknown dialect %q; want %q or %q", string(d), MySQL, SQLite)
	}
}

// DB is a database handle with the dialect and table prefix that the stores
// need to build their queries. It is a small value: copy it freely.
type DB struct {
	*sql.DB
	Dialect Dialect
	Prefix  string
}

// Table returns the prefixed name of a table. name must be a constant from
// code, never input.
func (db DB) Table(name string) string { return db.Prefix + name }

// Builder returns the squirrel statement builder for the dialect. Both
// engines use '?' placeholders.
func (d Dialect) Builder() sq.StatementBuilderType {
	return sq.StatementBuilder.PlaceholderFormat(sq.Question)
}

// Upsert turns an INSERT into an insert-or-update on the unique key made of
// conflict columns, updating the given columns from the new row. Column names
// must be constants from code.
func (d Dialect) Upsert(b sq.InsertBuilder, conflict []string, update []string) sq.InsertBuilder {
	sets := make([]string, len(update))
	switch d {
	case MySQL:
		for i, c := range update {
			sets[i] = c + " = VALUES(" + c + ")"
		}
		if len(sets) == 0 {
			sets = []string{conflict[0] + " = " + conflict[0]}
		}
		return b.Suffix("ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", "))
	default:
		for i, c := range update {
			sets[i] = c + " = excluded." + c
		}
		if len(sets) == 0 {
			return b.Suffix("ON CONFLICT(" + strings.Join(conflict, ", ") + ") DO NOTHING")
		}
		return b.Suffix("ON CONFLICT(" + strings.Join(conflict, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", "))
	}
}

// UpsertAdd turns an INSERT into one that, on a conflict on the unique key
// made of conflict columns, adds the new row's values of the add columns to
// the stored ones (counters). Column names must be constants from code.
func (d Dialect) UpsertAdd(b sq.InsertBuilder, conflict []string, add []string) sq.InsertBuilder {
	sets := make([]string, len(add))
	if d == MySQL {
		for i, c := range add {
			sets[i] = c + " = " + c + " + VALUES(" + c + ")"
		}
		return b.Suffix("ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", "))
	}
	for i, c := range add {
		sets[i] = c + " = " + c + " + excluded." + c
	}
	return b.Suffix("ON CONFLICT(" + strings.Join(conflict, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", "))
}

// InsertIgnore turns an INSERT into one that does nothing when a row with the
// same conflict key exists; RowsAffected is then 0. Unlike MySQL's INSERT
// IGNORE it does not swallow other errors (truncation, NOT NULL).
func (d Dialect) InsertIgnore(b sq.InsertBuilder, conflict ...string) sq.InsertBuilder {
	if d == MySQL {
		return b.Suffix("ON DUPLICATE KEY UPDATE " + conflict[0] + " = " + conflict[0])
	}
	return b.Suffix("ON CONFLICT(" + strings.Join(conflict, ", ") + ") DO NOTHING")
}

// SkipLocked is the locking suffix for a claim query: FOR UPDATE SKIP LOCKED
// on MySQL/MariaDB, nothing on SQLite, whose single writer already serializes
// claims.
func (d Dialect) SkipLocked() string {
	if d == MySQL {
		return "FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// sqliteTimeLayout is fixed-width so that stored times sort and compare as
// text in SQL.
const sqliteTimeLayout = "2006-01-02 15:04:05.000000"

// EncodeTime converts t to the value stored for a time column: UTC truncated
// to microseconds, as time.Time for MySQL (DATETIME(6)) and as fixed-width
// text for SQLite, so comparisons in SQL work on both.
func (d Dialect) EncodeTime(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d == MySQL {
		return t
	}
	return t.Format(sqliteTimeLayout)
}

// EncodeNullTime is EncodeTime for a nullable column: nil stays NULL.
func (d Dialect) EncodeNullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return d.EncodeTime(*t)
}

// ScanTime returns a scanner that reads a time column written by EncodeTime
// on either dialect into dst, in UTC. NULL is an error; use ScanNullTime.
func ScanTime(dst *time.Time) sql.Scanner { return timeScanner{dst: dst} }

// ScanNullTime returns a scanner that reads a nullable time column into dst:
// nil for NULL.
func ScanNullTime(dst **time.Time) sql.Scanner { return nullTimeScanner{dst: dst} }

type timeScanner struct{ dst *time.Time }

func (s timeScanner) Scan(v any) error {
	if v == nil {
		return fmt.Errorf("migrator: scanning NULL into a non-null time")
	}
	t, err := parseTime(v)
	if err != nil {
		return err
	}
	*s.dst = t
	return nil
}

type nullTimeScanner struct{ dst **time.Time }

func (s nullTimeScanner) Scan(v any) error {
	if v == nil {
		*s.dst = nil
		return nil
	}
	t, err := parseTime(v)
	if err != nil {
		return err
	}
	*s.dst = &t
	return nil
}

func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case string:
		return parseTimeText(x)
	case []byte:
		return parseTimeText(string(x))
	default:
		return time.Time{}, fmt.Errorf("migrator: cannot scan %T into a time", v)
	}
}

var timeLayouts = []string{
	sqliteTimeLayout,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-07:00",
}

func parseTimeText(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("migrator: cannot parse time %q", s)
}

// Execer is what both *sql.DB and *sql.Tx (and *sql.Conn) offer, so that a
// store's write can run alone or inside the host's transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
