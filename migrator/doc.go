// Package migrator is the storage foundation of TeleCart: the SQL dialects
// (MySQL/MariaDB and SQLite) that every store shares, and the migration
// runner that creates and evolves their tables.
//
// Each feature package embeds its own migrations as
// migrations/mysql/*.sql and migrations/sqlite/*.sql (the same file names in
// both) and hands them to the runner as a Source. Table names in the files
// are written with the {prefix} placeholder, replaced by the configured
// prefix (PrefixDefault, "telecart_", when none is set), because hosts share
// one database. A host's own tables can use the same runner: its Source is
// an embed.FS (or any fs.FS) laid out the same way.
//
// The database is opened by migrator/sqlite or migrator/mysql (each links
// only its own driver), or by migrator/dbopen from a "sqlite:PATH" or
// "mysql:DSN" string; dbopen returns a DB, the *sql.DB with its dialect and
// table prefix:
//
//	db, err := dbopen.Open(ctx, "sqlite:shop.db", "") // "": PrefixDefault
//	if err != nil { ... }
//	m, err := migrator.New(db.DB, migrator.Config{
//		Dialect: db.Dialect,
//		Prefix:  db.Prefix,
//		Sources: []migrator.Source{telegram.MigrationSource(), pulse.MigrationSource()},
//	})
//	if err != nil { ... }
//	applied, err := m.Up(ctx) // the names of the files applied, nil when up to date
//
// Status lists every file as applied, pending, partial, modified or missing,
// without taking the lock.
//
// The runner sorts files by name within each source and runs the sources in
// the order given; it records every file in <prefix>migrations with its
// batch, checksum and executed_at (UTC, microseconds), refuses to run when an
// applied file was edited, and holds a lock so that two processes never
// migrate at once (a Locker lease row on MySQL, which holds across the nodes
// of a Galera cluster too; BEGIN IMMEDIATE on SQLite). MySQL
// commits DDL implicitly, so there the history also records how many
// statements of a file were applied: a failed file can be fixed and the next
// run goes on from where it stopped.
//
// Locker is the cluster-wide lock the runner and the scheduler share: named
// lease rows in <prefix>locks. IsConflict and ConflictRetry classify and
// retry the transactions that lose to concurrent ones (deadlocks, lock wait
// timeouts, Galera certification failures), for every store's short
// transactions.
package migrator
