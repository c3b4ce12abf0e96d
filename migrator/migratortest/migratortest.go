// Package migratortest gives tests a fresh database on every dialect in one
// call: SQLite in a temporary directory, and MariaDB/MySQL as a uniquely
// named database created and dropped per test from the DSN in
// TELECART_TEST_MYSQL_DSN (for example root@tcp(127.0.0.1:3306)/test).
// Without that variable the MySQL cases skip, saying how to enable them;
// TELECART_TEST_REQUIRE=mysql turns the skip into a failure. Tests of
// replicas on the nodes of a MariaDB Galera cluster take their databases
// from FreshGaleraDSNs (TELECART_TEST_GALERA_DSNS, feature "galera").
package migratortest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/internal/testenv"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/mysql"
	"github.com/telecart-go/telecart/migrator/sqlite"
)

// MySQLDSNVar names the variable holding the MariaDB/MySQL DSN for tests.
const MySQLDSNVar = "TELECART_TEST_MYSQL_DSN"

// Dialects lists the dialects every storage test runs on.
var Dialects = []migrator.Dialect{migrator.SQLite, migrator.MySQL}

// Each runs fn as the subtests "sqlite" and "mysql", each on a fresh database
// migrated with sources.
func Each(t *testing.T, sources []migrator.Source, fn func(t *testing.T, db migrator.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, MustOpenDB(t, d, sources...))
		})
	}
}

// MustOpenDB returns a fresh database of dialect d with the default prefix,
// migrated with sources, closed (and dropped on MySQL) when the test ends.
func MustOpenDB(tb testing.TB, d migrator.Dialect, sources ...migrator.Source) migrator.DB {
	tb.Helper()
	db := MustOpenEmpty(tb, d)
	if len(sources) > 0 {
		MustMigrate(tb, db, sources...)
	}
	return db
}

// MustMigrate applies sources to db or fails the test.
func MustMigrate(tb testing.TB, db migrator.DB, sources ...migrator.Source) {
	tb.Helper()
	m, err := migrator.New(db.DB, migrator.Config{Dialect: db.Dialect, Prefix: db.Prefix, NoPrefix: db.Prefix == "", Sources: sources})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		tb.Fatalf("migrating: %v", err)
	}
}

// MustOpenEmpty returns a fresh, unmigrated database of dialect d.
func MustOpenEmpty(tb testing.TB, d migrator.Dialect) migrator.DB {
	tb.Helper()
	dsn := FreshDSN(tb, d)
	return MustOpenDSN(tb, d, dsn)
}

// MustOpenDSN opens another handle on a database made by FreshDSN (as a
// second process would), closed when the test ends.
func MustOpenDSN(tb testing.TB, d migrator.Dialect, dsn string) migrator.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var db migrator.DB
	var err error
	switch d {
	case migrator.SQLite:
		db.DB, err = sqlite.Open(ctx, dsn)
	case migrator.MySQL:
		db.DB, err = mysql.Open(ctx, dsn)
	default:
		tb.Fatalf("unknown dialect %q", d)
	}
	if err != nil {
		tb.Fatal(err)
	}
	db.Dialect, db.Prefix = d, migrator.PrefixDefault
	tb.Cleanup(func() { db.Close() })
	return db
}

// FreshDSN creates an empty database of dialect d and returns its DSN
// without the scheme (a file path for SQLite, a go-sql-driver DSN for
// MySQL). It is removed when the test ends. Use it to hand a database to a
// subprocess; Scheme(d)+":"+dsn is the form the demo server's -db flag takes.
func FreshDSN(tb testing.TB, d migrator.Dialect) string {
	tb.Helper()
	if d == migrator.SQLite {
		return filepath.Join(tb.TempDir(), "test.db")
	}
	base := testenv.Lookup(tb, MySQLDSNVar, "mysql",
		"Set it to a MariaDB/MySQL DSN whose user may create databases, e.g. "+MySQLDSNVar+"='root@tcp(127.0.0.1:3306)/test'.")
	name := createDatabase(tb, base)
	return withDatabase(tb, base, name)
}

// GaleraDSNsVar names the variable holding the DSNs of the nodes of a
// MariaDB Galera cluster, comma-separated, one per node, for the tests
// that run replicas on different nodes (.ci/galera starts such a cluster).
// TELECART_TEST_REQUIRE=galera turns their skip into a failure.
const GaleraDSNsVar = "TELECART_TEST_GALERA_DSNS"

// FreshGaleraDSNs creates an empty database on the Galera cluster of
// TELECART_TEST_GALERA_DSNS and returns a DSN of it on each node, in the
// variable's order, once every node has it. It is dropped when the test
// ends. Without the variable the test skips, saying how to enable it.
func FreshGaleraDSNs(tb testing.TB) []string {
	tb.Helper()
	raw := testenv.Lookup(tb, GaleraDSNsVar, "galera",
		"Set it to the DSNs of a Galera cluster's nodes, comma-separated (.ci/galera start prints them), e.g. "+
			GaleraDSNsVar+"='root@tcp(127.0.0.1:3311)/test,root@tcp(127.0.0.1:3312)/test,root@tcp(127.0.0.1:3313)/test'.")
	nodes := strings.Split(raw, ",")
	if len(nodes) < 2 {
		tb.Fatalf("%s holds %d DSN; a cluster test needs at least 2 nodes", GaleraDSNsVar, len(nodes))
	}
	// DDL replicates to every node in total order; each node applies it
	// at its own pace, so wait until each sees the database.
	name := createDatabase(tb, nodes[0])
	dsns := make([]string, len(nodes))
	for i, base := range nodes {
		dsns[i] = withDatabase(tb, base, name)
		waitDatabase(tb, base, name)
	}
	return dsns
}

// MustOpenGalera returns a handle on each node of a fresh database made by
// FreshGaleraDSNs, migrated with sources through the first node.
func MustOpenGalera(tb testing.TB, sources ...migrator.Source) []migrator.DB {
	tb.Helper()
	dsns := FreshGaleraDSNs(tb)
	dbs := make([]migrator.DB, len(dsns))
	for i, dsn := range dsns {
		dbs[i] = MustOpenDSN(tb, migrator.MySQL, dsn)
	}
	if len(sources) > 0 {
		MustMigrateGalera(tb, dbs, sources...)
	}
	return dbs
}

// MustMigrateGalera migrates through the first node of dbs, then waits
// until every node has applied the same migrations: each node applies
// replicated DDL at its own pace, and a test that opens a store on another
// node at once could find its table missing.
func MustMigrateGalera(tb testing.TB, dbs []migrator.DB, sources ...migrator.Source) {
	tb.Helper()
	MustMigrate(tb, dbs[0], sources...)
	count := func(db migrator.DB) (int, error) {
		var n int
		err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+db.Table("migrations")).Scan(&n)
		return n, err
	}
	want, err := count(dbs[0])
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for i := 1; i < len(dbs); i++ {
		for {
			got, err := count(dbs[i])
			if err == nil && got == want {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("node %d has %d of %d migrations after 60 s (%v)", i+1, got, want, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// createDatabase creates a uniquely named database through the server of
// base and drops it when the test ends.
func createDatabase(tb testing.TB, base string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := mysql.Open(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "telecart_t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		tb.Fatalf("creating test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := mysql.Open(ctx, base)
		if err != nil {
			tb.Errorf("dropping test database %s: %v", name, err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Errorf("dropping test database %s: %v", name, err)
		}
	})
	return name
}

// withDatabase is base with its database set to name.
func withDatabase(tb testing.TB, base, name string) string {
	tb.Helper()
	cfg, err := mysql.Config(base)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

// waitDatabase waits until the server of base has the database name.
func waitDatabase(tb testing.TB, base, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := mysql.Open(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for {
		var n int
		err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n)
		if err == nil && n == 1 {
			return
		}
		if ctx.Err() != nil {
			tb.Fatalf("database %s did not reach the node of %s: %v", name, base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
