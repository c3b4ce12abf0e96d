package telecart

import (
	"context"
	"database/sql"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// erasedOrderFields is what an erased customer's orders keep of their
// checkout fields: the shape, without the values.
const erasedOrderFields = `{"fields":{},"custom":{}}`

// orderMetaEraser is the CustomerEraser of the order meta table: an erased
// customer's orders lose the Telegram user id, the host link and the
// checkout fields (name, phone, e-mail, address, comment, custom fields),
// and keep their totals, currency, campaign, the host's order id and the
// customer id, so that the dashboard's counts and revenue and the customer's
// orders count stay. The Telegram user id becomes the customer id negated,
// as in the customers table: unique with the order_key, never a real id.
type orderMetaEraser struct{ db migrator.DB }

func (e orderMetaEraser) EraseCustomerTx(ctx context.Context, tx *sql.Tx, c telegram.Customer) error {
	q, args, err := e.db.Dialect.Builder().Update(e.db.Table(OrderMetaTable)).
		Set("telegram_user_id", -c.ID).
		Set("host_customer_id", 0).
		Set("fields", erasedOrderFields).
		Where(sq.Eq{"customer_id": c.ID}).ToSql()
	if err != nil {
		return fmt.Errorf("telecart: erasing order meta: building query: %w", err)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("telecart: erasing order meta: %w", err)
	}
	return nil
}

// orderNoticeEraser blanks the shop owner's notices of an erased customer's
// orders: they are to the owner's chat, not to the customer, but name them.
type orderNoticeEraser struct {
	db     migrator.DB
	outbox *outbox.Outbox
}

func (e orderNoticeEraser) EraseCustomerTx(ctx context.Context, tx *sql.Tx, c telegram.Customer) error {
	q, args, err := e.db.Dialect.Builder().Select("host_order_id").From(e.db.Table(OrderMetaTable)).
		Where(sq.Eq{"customer_id": c.ID}).ToSql()
	if err != nil {
		return fmt.Errorf("telecart: erasing order notices: building query: %w", err)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("telecart: erasing order notices: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("telecart: erasing order notices: %w", err)
		}
		keys = append(keys, "order:"+id+":owner", "order:"+id+":buyer")
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("telecart: erasing order notices: %w", err)
	}
	return e.outbox.EraseKeysTx(ctx, tx, keys)
}
