package outbox

import (
	"embed"

	"github.com/telecart-go/telecart/migrator"
)

//go:embed migrations/mysql/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// MigrationSourceName is the name the package's migrations are recorded
// under in the migration history.
const MigrationSourceName = "telegram_outbox"

// MigrationSource returns the package's migrations (the messages, chats,
// pace and broadcasts tables) for migrator.Config.Sources. They come after
// telegram.MigrationSource.
func MigrationSource() migrator.Source {
	return migrator.Source{Name: MigrationSourceName, FS: migrations}
}
