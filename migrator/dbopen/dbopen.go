// Package dbopen opens a TeleCart database from one string, for programs that
// let the operator choose the engine (the demo server's -db flag). It links
// both drivers; a library host that knows its engine imports migrator/mysql
// or migrator/sqlite instead.
package dbopen

import (
	"context"
	"fmt"
	"strings"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/mysql"
	"github.com/telecart-go/telecart/migrator/sqlite"
)

// Open opens "sqlite:PATH", "sqlite::memory:" or "mysql:{go-sql-driver DSN}"
// and returns the handle with its dialect and the given table prefix
// (migrator.PrefixDefault when empty).
func Open(ctx context.Context, dsn, prefix string) (migrator.DB, error) {
	if prefix == "" {
		prefix = migrator.PrefixDefault
	}
	if err := migrator.ValidatePrefix(prefix); err != nil {
		return migrator.DB{}, err
	}
	scheme, rest, ok := strings.Cut(dsn, ":")
	if !ok || rest == "" {
		return migrator.DB{}, fmt.Errorf("dbopen: %q: want one of sqlite:PATH, mysql:DSN or sqlite::memory: (in memory)", dsn)
	}
	switch scheme {
	case "sqlite":
		db, err := sqlite.Open(ctx, rest)
		if err != nil {
			return migrator.DB{}, err
		}
		return migrator.DB{DB: db, Dialect: migrator.SQLite, Prefix: prefix}, nil
	case "mysql":
		db, err := mysql.Open(ctx, rest)
		if err != nil {
			return migrator.DB{}, err
		}
		return migrator.DB{DB: db, Dialect: migrator.MySQL, Prefix: prefix}, nil
	default:
		return migrator.DB{}, fmt.Errorf("dbopen: unknown scheme %q in %q: want sqlite or mysql", scheme, dsn)
	}
}
