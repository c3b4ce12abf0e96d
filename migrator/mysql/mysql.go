// Package mysql opens MySQL and MariaDB databases for TeleCart through
// go-sql-driver/mysql. It is a package of its own so that a host on SQLite
// never compiles the MySQL driver.
package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/telecart-go/telecart/migrator"
)

// Dialect is migrator.MySQL, for symmetry with the sqlite package.
const Dialect = migrator.MySQL

// Config parses a go-sql-driver DSN and sets what TeleCart relies on:
// parseTime=true, times in UTC on both sides of the connection, utf8mb4.
func Config(dsn string) (*driver.Config, error) {
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: parsing DSN: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	if cfg.Collation == "" {
		cfg.Collation = "utf8mb4_unicode_ci"
	}
	return cfg, nil
}

// Open opens a MySQL/MariaDB database from a go-sql-driver DSN (see Config)
// and pings it.
func Open(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := Config(dsn)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig opens a database from a driver config already made by Config.
func OpenConfig(ctx context.Context, cfg *driver.Config) (*sql.DB, error) {
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxLifetime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql: connecting to %s/%s: %w", cfg.Addr, cfg.DBName, err)
	}
	return db, nil
}
