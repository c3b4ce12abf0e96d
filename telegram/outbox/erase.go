package outbox

import (
	"context"
	"database/sql"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/telegram"
)

// EraseCustomerTx is the outbox's part of erasing a customer's personal data
// (telegram.CustomerStore.Erase, in its transaction): messages to them not
// sent yet are cancelled, the text and buttons of every message to them are
// blanked and their chat id replaced, and their chat's pacing row goes.
//
// A message a sender has claimed but not sent yet is cancelled too: the
// sender checks its claim just before each call to Telegram and leaves it.
// Only a message whose call to Telegram had begun may still reach the
// person; its outcome is then not recorded (the row is no longer the
// sender's claim), so nothing writes their chat id back. Counts of sent and
// failed messages stay.
func (o *Outbox) EraseCustomerTx(ctx context.Context, tx *sql.Tx, c telegram.Customer) error {
	d := o.db.Dialect
	to := sq.Or{sq.Eq{"customer_id": c.ID}}
	if c.TelegramUserID > 0 {
		to = append(to, sq.Eq{"chat_id": c.TelegramUserID})
	}
	steps := []sq.Sqlizer{
		d.Builder().Update(o.table).Set("status", StatusCancelled).Set("reason", "the recipient's personal data was erased").
			Set("lease_owner", nil).Set("lease_expires_at", nil).
			Where(sq.And{to, sq.Eq{"status": []string{StatusPending, StatusPaused, StatusSending}}}),
		d.Builder().Update(o.table).Set("text", "").Set("buttons", nil).Set("chat_id", -c.ID).Where(to),
	}
	if c.TelegramUserID > 0 {
		steps = append(steps, d.Builder().Delete(o.chats).Where(sq.Eq{"chat_id": c.TelegramUserID}))
	}
	for _, s := range steps {
		q, args, err := s.ToSql()
		if err != nil {
			return fmt.Errorf("outbox: erasing a customer's messages: %w", err)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("outbox: erasing a customer's messages: %w", err)
		}
	}
	return nil
}

// EraseKeysTx blanks the text and buttons of the messages with these
// idempotency keys, for an owner of messages about a person that are not to
// them (the shop owner's notice of their order names them). Empty keys do
// nothing.
func (o *Outbox) EraseKeysTx(ctx context.Context, tx *sql.Tx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	q, args, err := o.db.Dialect.Builder().Update(o.table).Set("text", "").Set("buttons", nil).
		Where(sq.Eq{"idempotency_key": keys}).ToSql()
	if err != nil {
		return fmt.Errorf("outbox: erasing messages: %w", err)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("outbox: erasing messages: %w", err)
	}
	return nil
}
