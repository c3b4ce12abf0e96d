package pulse

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/telegram"
)

// legacyOrderKeyPrefix starts the ORDER_CREATED keys of versions up to
// 0.1.0, "order:{telegram_user_id}:{order_key}", which carried the buyer's
// Telegram id; keys are now "order:{tracking_id}:{order_key}".
const legacyOrderKeyPrefix = "order:"

// EraseCustomerTx is Pulse's part of erasing a customer's personal data
// (telegram.CustomerEraser): event payloads hold none, but ORDER_CREATED
// events stored by versions up to 0.1.0 carry the customer's Telegram id in
// their idempotency key until retention purges them. Their keys become what
// the current version writes, "order:{tracking_id}:{order_key}". Events
// already sent keep what the Pulse service received; one still pending gets
// the new key, at the small risk of the service counting it twice if an
// earlier attempt reached it unanswered.
func (p *Pulse) EraseCustomerTx(ctx context.Context, tx *sql.Tx, c telegram.Customer) error {
	if c.TelegramUserID <= 0 || c.TrackingID == "" {
		return nil // erased before: nothing of the id is left to find
	}
	prefix := legacyOrderKeyPrefix + strconv.FormatInt(c.TelegramUserID, 10) + ":"
	d := p.db.Dialect
	q, args, err := d.Builder().Select("id", "idempotency_key").From(p.table).
		Where(sq.Eq{"tracking_id": c.TrackingID, "event": EventOrderCreated}).ToSql()
	if err != nil {
		return fmt.Errorf("pulse: erasing customer %d: building query: %w", c.ID, err)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("pulse: erasing customer %d: %w", c.ID, err)
	}
	keys := map[int64]string{}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return fmt.Errorf("pulse: erasing customer %d: %w", c.ID, err)
		}
		if rest, ok := strings.CutPrefix(key, prefix); ok {
			keys[id] = legacyOrderKeyPrefix + c.TrackingID + ":" + rest
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pulse: erasing customer %d: %w", c.ID, err)
	}
	for id, key := range keys {
		q, args, err := d.Builder().Update(p.table).Set("idempotency_key", key).Where(sq.Eq{"id": id}).ToSql()
		if err != nil {
			return fmt.Errorf("pulse: erasing customer %d: building query: %w", c.ID, err)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("pulse: erasing customer %d: %w", c.ID, err)
		}
	}
	return nil
}
