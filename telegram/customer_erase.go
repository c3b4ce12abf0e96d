package telegram

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
)

// ErrCustomerErased is returned when a customer's personal data was erased
// and the work asked needs it, such as sending them a message.
var ErrCustomerErased = errors.New("telegram: customer's personal data was erased")

// CustomerEraser is implemented by every owner of rows about a customer
// outside the customers table, so that Erase cleans them in its own
// transaction: the order metadata, the message outbox (cancel what is
// queued, blank what was sent), the updates log, a host's own tables.
// Register one with CustomerStore.AddEraser.
//
// EraseCustomerTx gets c as it was before the erasure, with its Telegram
// user id, tracking id and host link, so that it can find its rows by
// whichever it keys them on (when the customer was erased before, its
// TelegramUserID and HostCustomerID are already 0). It must do all its work through tx (SQLite has
// a single connection, and the erasure must be all or nothing), make no
// network calls, and be safe to call again for a customer already erased:
// erasing twice runs every eraser again. An error rolls the whole erasure
// back and is returned by Erase.
type CustomerEraser interface {
	EraseCustomerTx(ctx context.Context, tx *sql.Tx, c Customer) error
}

// CustomerEraserFunc adapts a function to a CustomerEraser.
type CustomerEraserFunc func(ctx context.Context, tx *sql.Tx, c Customer) error

// EraseCustomerTx calls f.
func (f CustomerEraserFunc) EraseCustomerTx(ctx context.Context, tx *sql.Tx, c Customer) error {
	return f(ctx, tx, c)
}

// Erasure is what CustomerStoreConfig.OnErase hears after a customer was
// erased for the first time.
type Erasure struct {
	// Customer is the row as the erasure left it: ids, counts, campaigns
	// and times, with no personal data.
	Customer Customer
	// HostCustomerID is the host link the erasure removed, 0 when there
	// was none, so that the host can erase its own records of the person.
	HostCustomerID int64
}

// AddEraser adds e to the erasers Erase runs, in the order they were added,
// after the customers row is blanked. Add them while wiring the shop,
// before the first Erase; a nil e panics, as a wiring mistake should.
func (s *CustomerStore) AddEraser(e CustomerEraser) {
	if e == nil {
		panic("telegram: AddEraser: nil CustomerEraser")
	}
	s.erasersMu.Lock()
	defer s.erasersMu.Unlock()
	s.erasers = append(s.erasers, e)
}

func (s *CustomerStore) eraserList() []CustomerEraser {
	s.erasersMu.Lock()
	defer s.erasersMu.Unlock()
	return append([]CustomerEraser(nil), s.erasers...)
}

// Erase erases the personal data of the customer id, at a person's
// request, in one transaction: the names, username, photo, language, the
// premium and write-access flags, the Telegram user id and the host link are
// blanked, erased_at set, and every eraser added with AddEraser cleans its
// own rows. What stays is what identifies no one: the id, the tracking id,
// the orders count, campaigns, consent and the times, so that the shop's
// counts and revenue do not change. The Telegram user id is replaced by a
// placeholder that no Telegram user has (Customer.TelegramUserID reads 0):
// the same person opening the Mini App again becomes a new customer.
//
// Erasing an erased customer runs the erasers again and keeps the first
// erased_at; OnErase is called after the first erasure only. It returns the
// erased customer, or ErrCustomerNotFound. The log gets the customer id only.
func (s *CustomerStore) Erase(ctx context.Context, id int64) (Customer, error) {
	before, err := s.erase(ctx, id)
	if err != nil {
		return Customer{}, err
	}
	c, err := s.Get(ctx, id)
	if err != nil {
		return Customer{}, err
	}
	first := before.ErasedAt == nil
	s.logger.InfoContext(ctx, "telegram: customer's personal data erased", "customer_id", id, "first", first)
	if first && s.onErase != nil {
		s.onErase(ctx, Erasure{Customer: c, HostCustomerID: before.HostCustomerID})
	}
	return c, nil
}

// erase runs the erasure's transaction and returns the customer as it was.
func (s *CustomerStore) erase(ctx context.Context, id int64) (Customer, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Customer{}, fmt.Errorf("telegram: erasing customer %d: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	d := s.db.Dialect
	b := d.Builder().Select(customerColumns).From(s.table).Where(sq.Eq{"id": id})
	if d == migrator.MySQL {
		// Holds off a concurrent Save of the same row until the commit.
		b = b.Suffix("FOR UPDATE")
	}
	q, args, err := b.ToSql()
	if err != nil {
		return Customer{}, fmt.Errorf("telegram: erasing customer %d: building query: %w", id, err)
	}
	before, err := scanCustomer(tx.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, fmt.Errorf("%w: id %d", ErrCustomerNotFound, id)
	}
	if err != nil {
		return Customer{}, fmt.Errorf("telegram: erasing customer %d: %w", id, err)
	}
	now := d.EncodeTime(s.now())
	blank := profile{}.setMap()
	// -id: unique as the index wants, and never a Telegram user's id, which
	// Save requires to be positive.
	blank["telegram_user_id"] = -id
	blank["host_customer_id"] = 0
	blank["updated_at"] = now // the ETL export sends the blanked row again
	q, args, err = d.Builder().Update(s.table).SetMap(blank).
		Set("erased_at", sq.Expr("COALESCE(erased_at, ?)", now)).
		Where(sq.Eq{"id": id}).ToSql()
	if err != nil {
		return Customer{}, fmt.Errorf("telegram: erasing customer %d: building query: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return Customer{}, fmt.Errorf("telegram: erasing customer %d: %w", id, err)
	}
	for _, e := range s.eraserList() {
		if err := e.EraseCustomerTx(ctx, tx, before); err != nil {
			return Customer{}, fmt.Errorf("telegram: erasing customer %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Customer{}, fmt.Errorf("telegram: erasing customer %d: %w", id, err)
	}
	s.erasures.Add(1)
	return before, nil
}

// Erasures counts the erasures this store committed since it was made.
// A cache of customers keyed on their Telegram ids (the ingest handler
// keeps one) notes the count before it reads a customer and drops what it
// cached under an older count: the Telegram id of an erased customer must
// lead to a new customer at once, not to the erased one until the entry
// expires. The count is this process's: other replicas count their own.
func (s *CustomerStore) Erasures() uint64 { return s.erasures.Load() }
