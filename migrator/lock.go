package migrator

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"time"
)

// MySQLLock takes MySQL's named lock GET_LOCK on the pinned connection
// conn, waiting up to wait (0: not at all). The name is kind, the
// connection's database and scope ("telecart_task:shop:telecart_:sweep"),
// so that shops sharing a server never wait on one another; MySQL caps
// names at 64 characters, and longer ones are hashed. ok is false when
// another session holds the lock. release frees it even after ctx is done,
// and if that fails discards the connection, which frees it too; the lock
// also dies with the session if the process does.
func MySQLLock(ctx context.Context, conn *sql.Conn, kind, scope string, wait time.Duration) (release func(), name string, ok bool, err error) {
	var db string
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(DATABASE(), '')").Scan(&db); err != nil {
		return nil, "", false, fmt.Errorf("reading the database name: %w", err)
	}
	name = kind + ":" + db + ":" + scope
	if len(name) > 64 {
		sum := sha256.Sum256([]byte(name))
		name = kind + ":" + hex.EncodeToString(sum[:])[:min(40, 63-len(kind))]
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, int(wait/time.Second)).Scan(&got); err != nil {
		return nil, name, false, fmt.Errorf("GET_LOCK: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, name, false, nil
	}
	return func() {
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(relCtx, "DO RELEASE_LOCK(?)", name); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, name, true, nil
}
