package demo

import (
	"embed"

	"github.com/telecart-go/telecart/migrator"
)

// migrations holds migrations/mysql/*.sql and migrations/sqlite/*.sql: the
// demo host's orders, order items and customers.
//
//go:embed migrations
var migrations embed.FS

// MigrationSource returns the demo shop's migrations, named "demo" in the
// migration history. Orders and Customers need them applied.
func MigrationSource() migrator.Source {
	return migrator.Source{Name: "demo", FS: migrations}
}

// mustValidDB panics on a database handle no store can use: a programmer
// error that must surface at start-up, not at the first order.
func mustValidDB(fn string, db migrator.DB) {
	if db.DB == nil {
		panic("demo: " + fn + ": db.DB is nil; pass the opened database")
	}
	if err := db.Dialect.Validate(); err != nil {
		panic("demo: " + fn + ": " + err.Error())
	}
	if err := migrator.ValidatePrefix(db.Prefix); err != nil {
		panic("demo: " + fn + ": " + err.Error())
	}
}
