package host

import (
	"embed"

	"github.com/telecart-go/telecart/migrator"
)

// migrations holds migrations/mysql/*.sql and migrations/sqlite/*.sql: the
// shop's products (seeded with a small catalog), orders and order_items.
//
//go:embed migrations
var migrations embed.FS

// MigrationSource returns the shop's migrations, named "stdhost" in the
// migration history. The shop hands it to TeleCart as
// Config.ExtraMigrations, so one run, under one lock, creates TeleCart's
// tables and the shop's.
func MigrationSource() migrator.Source {
	return migrator.Source{Name: "stdhost", FS: migrations}
}
