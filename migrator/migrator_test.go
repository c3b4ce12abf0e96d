package migrator_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// source builds a Source whose files are the same for both dialects except
// where a body differs; bodies use the {prefix} placeholder.
func source(name string, files map[string]string) migrator.Source {
	fsys := fstest.MapFS{}
	for n, body := range files {
		fsys["migrations/mysql/"+n] = &fstest.MapFile{Data: []byte(body)}
		fsys["migrations/sqlite/"+n] = &fstest.MapFile{Data: []byte(body)}
	}
	return migrator.Source{Name: name, FS: fsys}
}

func mustNew(tb testing.TB, db migrator.DB, cfg migrator.Config) *migrator.Migrator {
	tb.Helper()
	cfg.Dialect = db.Dialect
	m, err := migrator.New(db.DB, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func tableNames(t *testing.T, db migrator.DB) []string {
	t.Helper()
	var q string
	if db.Dialect == migrator.MySQL {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
	} else {
		q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	}
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestMigrator(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Run("ApplyThenNothing", func(t *testing.T) { testApplyThenNothing(t, d) })
			t.Run("DeterministicOrder", func(t *testing.T) { testDeterministicOrder(t, d) })
			t.Run("ConcurrentRunners", func(t *testing.T) { testConcurrentRunners(t, d) })
			t.Run("ErrChecksumMismatch", func(t *testing.T) { testEdited(t, d) })
			t.Run("BrokenStatementThenFix", func(t *testing.T) { testBrokenThenFix(t, d) })
			t.Run("TimesRoundTrip", func(t *testing.T) { testTimesRoundTrip(t, d) })
			t.Run("Status", func(t *testing.T) { testStatus(t, d) })
		})
	}
}

// Ensure a fresh database gets every file, with the prefix substituted, and
// a second run applies nothing.
func testApplyThenNothing(t *testing.T, d migrator.Dialect) {
	ctx := context.Background()
	db := migratortest.MustOpenEmpty(t, d)
	src := source("shop", map[string]string{
		"001_a.sql": "CREATE TABLE {prefix}a (id INT NOT NULL PRIMARY KEY);\n-- comment; with a semicolon\nINSERT INTO {prefix}a (id) VALUES (1);",
		"002_b.sql": "CREATE TABLE {prefix}b (id INT NOT NULL PRIMARY KEY, note VARCHAR(20));",
	})
	m := mustNew(t, db, migrator.Config{Prefix: "shop_", Sources: []migrator.Source{src}})
	applied, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(applied, ","), "shop/001_a.sql,shop/002_b.sql"; got != want {
		t.Fatalf("applied %s, want %s", got, want)
	}
	// On MySQL the migration lock is a row of the locks table (a lease
	// that holds on a Galera cluster too); SQLite locks the database file.
	want := "shop_a,shop_b,shop_migrations"
	if d == migrator.MySQL {
		want = "shop_a,shop_b,shop_locks,shop_migrations"
	}
	if got := strings.Join(tableNames(t, db), ","); got != want {
		t.Fatalf("tables %s, want %s", got, want)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop_a").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows in shop_a = %d, %v; want 1", n, err)
	}
	again, err := m.Up(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second Up applied %v, %v; want nothing", again, err)
	}
}

// Ensure files run by name within a source and sources in the order given,
// whatever order the files were written in.
func testDeterministicOrder(t *testing.T, d migrator.Dialect) {
	ctx := context.Background()
	db := migratortest.MustOpenEmpty(t, d)
	base := source("base", map[string]string{
		"20260102_second.sql": "INSERT INTO {prefix}log (step) VALUES ('base-2');",
		"20260101_first.sql":  "CREATE TABLE {prefix}log (n INTEGER PRIMARY KEY AUTO_INCREMENT, step VARCHAR(20) NOT NULL); INSERT INTO {prefix}log (step) VALUES ('base-1');",
	})
	if d == migrator.SQLite {
		base.FS.(fstest.MapFS)["migrations/sqlite/20260101_first.sql"].Data =
			[]byte("CREATE TABLE {prefix}log (n INTEGER PRIMARY KEY AUTOINCREMENT, step VARCHAR(20) NOT NULL); INSERT INTO {prefix}log (step) VALUES ('base-1');")
	}
	// The later source's file sorts before base's by name, but runs after it.
	ext := source("ext", map[string]string{"20250101_early.sql": "INSERT INTO {prefix}log (step) VALUES ('ext-1');"})
	m := mustNew(t, db, migrator.Config{Sources: []migrator.Source{base, ext}})
	applied, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(applied, ","), "base/20260101_first.sql,base/20260102_second.sql,ext/20250101_early.sql"; got != want {
		t.Fatalf("applied %s, want %s", got, want)
	}
	rows, err := db.QueryContext(ctx, "SELECT step FROM telecart_log ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, s)
	}
	if got, want := strings.Join(steps, ","), "base-1,base-2,ext-1"; got != want {
		t.Fatalf("steps ran %s, want %s", got, want)
	}
}

// Ensure two runners on separate connections at once never both apply: one
// applies everything, the other sees it applied, and neither fails.
func testConcurrentRunners(t *testing.T, d migrator.Dialect) {
	ctx := context.Background()
	dsn := migratortest.FreshDSN(t, d)
	// Slow enough that the runs overlap: many statements in one file.
	var b strings.Builder
	b.WriteString("CREATE TABLE {prefix}c (id INT NOT NULL PRIMARY KEY);\n")
	for i := 0; i < 40; i++ {
		b.WriteString("INSERT INTO {prefix}c (id) VALUES (" + strconv.Itoa(i) + ");\n")
	}
	src := source("c", map[string]string{"001.sql": b.String(), "002.sql": "CREATE TABLE {prefix}c2 (id INT);"})
	const runners = 4
	results := make([][]string, runners)
	errs := make([]error, runners)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range runners {
		db := migratortest.MustOpenDSN(t, d, dsn)
		m := mustNew(t, db, migrator.Config{Sources: []migrator.Source{src}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = m.Up(ctx)
		}()
	}
	close(start)
	wg.Wait()
	appliers := 0
	for i := range runners {
		if errs[i] != nil {
			t.Fatalf("runner %d: %v", i, errs[i])
		}
		if len(results[i]) > 0 {
			appliers++
			if len(results[i]) != 2 {
				t.Fatalf("runner %d applied %v; want both files in one run", i, results[i])
			}
		}
	}
	if appliers != 1 {
		t.Fatalf("%d runners applied migrations; want exactly 1 (results %v)", appliers, results)
	}
	db := migratortest.MustOpenDSN(t, d, dsn)
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM telecart_c").Scan(&n); err != nil || n != 40 {
		t.Fatalf("rows = %d, %v; want 40", n, err)
	}
}

// Ensure an applied file that was edited stops the run with an error naming
// it, before anything else is applied.
func testEdited(t *testing.T, d migrator.Dialect) {
	ctx := context.Background()
	db := migratortest.MustOpenEmpty(t, d)
	src := source("s", map[string]string{"001_a.sql": "CREATE TABLE {prefix}e (id INT);"})
	if _, err := mustNew(t, db, migrator.Config{Sources: []migrator.Source{src}}).Up(ctx); err != nil {
		t.Fatal(err)
	}
	src = source("s", map[string]string{
		"001_a.sql": "CREATE TABLE {prefix}e (id INT, extra INT);",
		"002_b.sql": "CREATE TABLE {prefix}f (id INT);",
	})
	m := mustNew(t, db, migrator.Config{Sources: []migrator.Source{src}})
	_, err := m.Up(ctx)
	if !errors.Is(err, migrator.ErrChecksumMismatch) || !strings.Contains(err.Error(), "s/001_a.sql") {
		t.Fatalf("Up = %v; want ErrChecksumMismatch naming s/001_a.sql", err)
	}
	for _, name := range tableNames(t, db) {
		if name == "telecart_f" {
			t.Fatal("002_b.sql ran although an applied file was edited")
		}
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].State != migrator.StateModified || st[1].State != migrator.StatePending {
		t.Fatalf("status %+v; want modified then pending", st)
	}
}

// Ensure a broken statement reports its file and statement, and once the
// file is fixed the next run completes (resuming after the statements MySQL
// already committed; from scratch on SQLite, which rolled back).
func testBrokenThenFix(t *testing.T, d migrator.Dialect) {
	ctx := context.Background()
	db := migratortest.MustOpenEmpty(t, d)
	good := "CREATE TABLE {prefix}g1 (id INT);\nCREATE TABLE {prefix}g2 (id INT);\n"
	src := source("s", map[string]string{
		"001_ok.sql":  "CREATE TABLE {prefix}ok (id INT);",
		"002_bad.sql": good + "CREATE TABLEX {prefix}g3 (id INT);\nCREATE TABLE {prefix}g4 (id INT);",
	})
	m := mustNew(t, db, migrator.Config{Sources: []migrator.Source{src}})
	_, err := m.Up(ctx)
	var me *migrator.MigrationError
	if !errors.As(err, &me) {
		t.Fatalf("Up = %v; want a *MigrationError", err)
	}
	if me.File != "s/002_bad.sql" || me.Index != 3 || me.Total != 4 || !strings.Contains(me.Statement, "CREATE TABLEX telecart_g3") {
		t.Fatalf("error names %s statement %d/%d %q", me.File, me.Index, me.Total, me.Statement)
	}
	if !strings.Contains(err.Error(), "s/002_bad.sql") || !strings.Contains(err.Error(), "CREATE TABLEX") {
		t.Fatalf("message %q does not name file and statement", err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d == migrator.MySQL {
		if st[1].State != migrator.StatePartial || st[1].StatementsApplied != 2 {
			t.Fatalf("status after failure %+v; want 002 partial at 2", st[1])
		}
	} else if st[0].State != migrator.StatePending || st[1].State != migrator.StatePending {
		t.Fatalf("status after failure %+v; want all pending (rolled back)", st)
	}
	// Editing the statements that already ran is refused on MySQL.
	if d == migrator.MySQL {
		edited := source("s", map[string]string{
			"001_ok.sql":  "CREATE TABLE {prefix}ok (id INT);",
			"002_bad.sql": "CREATE TABLE {prefix}g1 (id BIGINT);\nCREATE TABLE {prefix}g2 (id INT);\nCREATE TABLE {prefix}g3 (id INT);",
		})
		if _, err := mustNew(t, db, migrator.Config{Sources: []migrator.Source{edited}}).Up(ctx); err == nil ||
			!strings.Contains(err.Error(), "first 2 statements have changed") {
			t.Fatalf("Up with edited applied statements = %v; want a refusal", err)
		}
	}
	fixed := source("s", map[string]string{
		"001_ok.sql":  "CREATE TABLE {prefix}ok (id INT);",
		"002_bad.sql": good + "CREATE TABLE {prefix}g3 (id INT);\nCREATE TABLE {prefix}g4 (id INT);",
	})
	m = mustNew(t, db, migrator.Config{Sources: []migrator.Source{fixed}})
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("Up after the fix: %v", err)
	}
	st, err = m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.State != migrator.StateApplied {
			t.Fatalf("after the fix %s is %s", s.Name, s.State)
		}
	}
	got := strings.Join(tableNames(t, db), ",")
	for _, want := range []string{"telecart_g1", "telecart_g2", "telecart_g3", "telecart_g4", "telecart_ok"} {
		if !strings.Contains(got, want) {
			t.Fatalf("tables %s lack %s", got, want)
		}
	}
}

// Ensure times written with EncodeTime come back equal, in UTC, with
// microseconds, and that executed_at is the runner's clock in UTC.
func testTimesRoundTrip(t *testing.T, d migrator.Dialect) {
	ctx := context.Background()
	db := migratortest.MustOpenEmpty(t, d)
	col := "DATETIME(6)"
	if d == migrator.SQLite {
		col = "TEXT"
	}
	src := source("s", map[string]string{"001.sql": "CREATE TABLE {prefix}tt (id INT NOT NULL PRIMARY KEY, at " + col + " NOT NULL, maybe " + col + " NULL);"})
	moscow := time.FixedZone("MSK", 3*3600)
	now := time.Date(2026, 11, 26, 15, 4, 5, 123456789, moscow)
	m := mustNew(t, db, migrator.Config{Sources: []migrator.Source{src}, Now: func() time.Time { return now }})
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 26, 12, 4, 5, 123456000, time.UTC)
	if at := st[0].ExecutedAt; at == nil || !at.Equal(want) || at.Location() != time.UTC {
		t.Fatalf("executed_at = %v; want %v", at, want)
	}
	for i, in := range []time.Time{now, time.Date(1999, 1, 2, 3, 4, 5, 999999999, time.UTC), time.Date(2030, 6, 1, 0, 0, 0, 1000, moscow)} {
		if _, err := db.ExecContext(ctx, "INSERT INTO telecart_tt (id, at, maybe) VALUES (?, ?, ?)", i, d.EncodeTime(in), d.EncodeNullTime(nil)); err != nil {
			t.Fatal(err)
		}
		var got time.Time
		var maybe *time.Time
		if err := db.QueryRowContext(ctx, "SELECT at, maybe FROM telecart_tt WHERE id = ?", i).Scan(migrator.ScanTime(&got), migrator.ScanNullTime(&maybe)); err != nil {
			t.Fatal(err)
		}
		if w := in.UTC().Truncate(time.Microsecond); !got.Equal(w) || got.Location() != time.UTC || maybe != nil {
			t.Fatalf("round trip of %v = %v (%v), maybe %v; want %v UTC", in, got, got.Location(), maybe, w)
		}
	}
	// Encoded times compare in SQL on both dialects.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM telecart_tt WHERE at < ?", d.EncodeTime(now)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows before now = %d, %v; want 1", n, err)
	}
}

// Ensure Status lists pending files before a run, applied ones after, and a
// recorded file that no longer exists as missing.
func testStatus(t *testing.T, d migrator.Dialect) {
	ctx := context.Background()
	db := migratortest.MustOpenEmpty(t, d)
	two := source("s", map[string]string{"001.sql": "CREATE TABLE {prefix}s1 (id INT);", "002.sql": "CREATE TABLE {prefix}s2 (id INT);"})
	m := mustNew(t, db, migrator.Config{Sources: []migrator.Source{two}})
	st, err := m.Status(ctx)
	if err != nil || len(st) != 2 || st[0].State != migrator.StatePending || st[1].State != migrator.StatePending {
		t.Fatalf("status before = %+v, %v", st, err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	one := source("s", map[string]string{"001.sql": "CREATE TABLE {prefix}s1 (id INT);"})
	st, err = mustNew(t, db, migrator.Config{Sources: []migrator.Source{one}}).Status(ctx)
	if err != nil || len(st) != 2 || st[0].State != migrator.StateApplied || st[0].Batch != 1 ||
		st[1].Name != "s/002.sql" || st[1].State != migrator.StateMissing {
		t.Fatalf("status after = %+v, %v", st, err)
	}
}

func TestNewValidates(t *testing.T) {
	db := migratortest.MustOpenEmpty(t, migrator.SQLite)
	for name, cfg := range map[string]migrator.Config{
		"NoDialect":   {},
		"BadDialect":  {Dialect: "postgres"},
		"BadPrefix":   {Dialect: migrator.SQLite, Prefix: "x; DROP TABLE y"},
		"NilFS":       {Dialect: migrator.SQLite, Sources: []migrator.Source{{Name: "a"}}},
		"DupSource":   {Dialect: migrator.SQLite, Sources: []migrator.Source{source("a", nil), source("a", nil)}},
		"SlashSource": {Dialect: migrator.SQLite, Sources: []migrator.Source{source("a/b", nil)}},
	} {
		if _, err := migrator.New(db.DB, cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}
