package updates

import (
	"embed"

	"github.com/telecart-go/telecart/migrator"
)

// migrations holds the package's table: migrations/mysql/*.sql and
// migrations/sqlite/*.sql, with the same file names in both.
//
//go:embed migrations/mysql/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// MigrationSourceName is the name the package's migrations are recorded
// under in the migration history.
const MigrationSourceName = "telegram_updates"

// UpdatesTable is the unprefixed name of the table of received updates.
const UpdatesTable = "bot_updates"

// MigrationSource returns the package's migrations (the table of received
// updates) for migrator.Config.Sources; they run after the customers
// table's.
func MigrationSource() migrator.Source {
	return migrator.Source{Name: MigrationSourceName, FS: migrations}
}
