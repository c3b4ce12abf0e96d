package outbox

import (
	"context"
	"database/sql"
	"time"
)

// sentTxError is an error of Config.OnSentTx, told apart from the record's
// own so that the message can be recorded as sent without it.
type sentTxError struct{ err error }

func (e *sentTxError) Error() string { return "outbox: OnSentTx: " + e.err.Error() }
func (e *sentTxError) Unwrap() error { return e.err }

// onSentTx calls Config.OnSentTx in tx, the transaction recording m as
// sent at now as Telegram's message tgID, with m as it is being recorded.
func (o *Outbox) onSentTx(ctx context.Context, tx *sql.Tx, m Message, now time.Time, tgID int64) error {
	if o.cfg.OnSentTx == nil {
		return nil
	}
	at := now.UTC()
	m.Status, m.Attempts, m.SentAt, m.TelegramMessageID = StatusSent, m.Attempts+1, &at, tgID
	m.Reason, m.ErrorCode = "", 0
	if err := o.cfg.OnSentTx(ctx, tx, m); err != nil {
		return &sentTxError{err: err}
	}
	return nil
}
