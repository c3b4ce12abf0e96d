package dbopen_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/telecart-go/telecart/internal/testenv"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/dbopen"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	// Ensure each accepted form opens with the right dialect and prefix.
	for dsn, want := range map[string]migrator.Dialect{
		"sqlite::memory:": migrator.SQLite,
		"sqlite:" + filepath.Join(t.TempDir(), "a.db"): migrator.SQLite,
	} {
		db, err := dbopen.Open(ctx, dsn, "")
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if db.Dialect != want || db.Prefix != migrator.PrefixDefault {
			t.Fatalf("Open(%q) = %s/%q", dsn, db.Dialect, db.Prefix)
		}
		var mode string
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if dsn != "sqlite::memory:" && mode != "wal" {
			t.Fatalf("journal_mode = %s; want wal", mode)
		}
		db.Close()
	}
	// Ensure malformed strings and prefixes are refused with an error.
	for _, bad := range []string{"", "sqlite:", "postgres://x", "nocolon", "mysql:not a dsn"} {
		if db, err := dbopen.Open(ctx, bad, ""); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	if _, err := dbopen.Open(ctx, "sqlite::memory:", "bad-prefix"); err == nil {
		t.Error("a prefix with a dash was accepted")
	}
}

func TestOpenMySQL(t *testing.T) {
	// Ensure a mysql: DSN opens with UTC times on the session.
	base := testenv.Lookup(t, migratortest.MySQLDSNVar, "mysql", "Set it to a MariaDB DSN.")
	db, err := dbopen.Open(context.Background(), "mysql:"+base, "shop_")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tz string
	if err := db.QueryRow("SELECT @@session.time_zone").Scan(&tz); err != nil || tz != "+00:00" {
		t.Fatalf("session time_zone = %q, %v", tz, err)
	}
	if db.Dialect != migrator.MySQL || db.Table("x") != "shop_x" {
		t.Fatalf("got %s %s", db.Dialect, db.Table("x"))
	}
}

// Ensure an SQLite database file the project creates, and its WAL files,
// are readable by the owner only, and an existing file keeps its mode.
func TestOpenSQLiteFileMode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "shop.db")
	db, err := dbopen.Open(ctx, "sqlite:"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES ('secret')"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v; want 0600", filepath.Base(f), st.Mode().Perm())
		}
	}
	db.Close()

	shared := filepath.Join(dir, "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o640); err != nil {
		t.Fatal(err)
	}
	db, err = dbopen.Open(ctx, "sqlite:"+shared, "")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, err := os.Stat(shared); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("an existing file's mode changed: %v %v", st.Mode().Perm(), err)
	}
}
