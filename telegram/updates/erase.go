package updates

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
)

// Eraser is the updates log's part of erasing a customer's personal data
// (register it with telegram.CustomerStore.AddEraser): every stored update
// that carries the person's Telegram user id — their messages, their
// /start, their blocking the bot — loses its body, in the erasure's
// transaction. Only the update id stays, which keeps a repeat from Telegram
// a no-op; an update not handled yet becomes empty and is skipped. It works
// on the table whether or not the shop takes updates now.
type Eraser struct{ DB migrator.DB }

// EraseCustomerTx implements telegram.CustomerEraser.
func (e Eraser) EraseCustomerTx(ctx context.Context, tx *sql.Tx, c telegram.Customer) error {
	if c.TelegramUserID <= 0 {
		return nil
	}
	// A user object is {"id":N,...} in Telegram's JSON; "message_id" and
	// "update_id" end in _id", so the quote before id keeps them out.
	id := strconv.FormatInt(c.TelegramUserID, 10)
	q, args, err := e.DB.Dialect.Builder().Update(e.DB.Table(UpdatesTable)).Set("body", "{}").
		Where(sq.Or{sq.Like{"body": `%"id":` + id + `,%`}, sq.Like{"body": `%"id":` + id + `}%`}}).ToSql()
	if err != nil {
		return fmt.Errorf("updates: erasing a customer's updates: %w", err)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("updates: erasing a customer's updates: %w", err)
	}
	return nil
}
