package telegram

import (
	"embed"

	"github.com/telecart-go/telecart/migrator"
)

// migrations holds the package's tables: migrations/mysql/*.sql and
// migrations/sqlite/*.sql, with the same file names in both.
//
//go:embed migrations/mysql/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// MigrationSourceName is the name the package's migrations are recorded
// under in the migration history.
const MigrationSourceName = "telegram"

// MigrationSource returns the package's migrations (the customers table) for
// migrator.Config.Sources.
func MigrationSource() migrator.Source {
	return migrator.Source{Name: MigrationSourceName, FS: migrations}
}
