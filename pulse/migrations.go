package pulse

import (
	"embed"

	"github.com/telecart-go/telecart/migrator"
)

// migrations holds migrations/mysql/*.sql and migrations/sqlite/*.sql (the
// same file names in both).
//
//go:embed migrations/mysql/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// MigrationSource returns the migrations of the Pulse tables (the outbox
// {prefix}pulse_events), named "pulse", for migrator.Config.Sources.
func MigrationSource() migrator.Source {
	return migrator.Source{Name: "pulse", FS: migrations}
}
