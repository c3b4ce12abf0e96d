package telecart

import (
	"context"
	"database/sql"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
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
