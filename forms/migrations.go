package forms

import (
	"embed"

	"github.com/telecart-go/telecart/migrator"
)

// migrations holds migrations/mysql/*.sql and migrations/sqlite/*.sql: the
// forms table, seeded with the default checkout form.
//
//go:embed migrations
var migrations embed.FS

// MigrationSource returns the forms package's migrations, named "forms" in
// the migration history.
func MigrationSource() migrator.Source {
	return migrator.Source{Name: "forms", FS: migrations}
}
