package telecart

import (
	"embed"

	"github.com/telecart-go/telecart/migrator"
)

// migrations holds migrations/mysql/*.sql and migrations/sqlite/*.sql: the
// tables this package owns (settings, and more as features arrive).
//
//go:embed migrations
var migrations embed.FS

// MigrationSource returns the telecart package's migrations, named
// "telecart" in the migration history. Run it after the feature packages'
// sources.
func MigrationSource() migrator.Source {
	return migrator.Source{Name: "telecart", FS: migrations}
}
