package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telecart"
)

// Customers is the demo shop's customer directory in the demo_customers
// table. The migration seeds two customers: 1, Anna Petrova,
// anna@example.com, +7 (900) 123-45-67; and 2, Ivan Smirnov,
// ivan@example.com, +7 (912) 765-43-21. It implements
// telecart.CustomerDirectory and is safe for concurrent use.
type Customers struct {
	db    migrator.DB
	table string
}

var _ telecart.CustomerDirectory = (*Customers)(nil)

// NewCustomers returns the directory over db, whose migrations must include
// MigrationSource(). It panics when db is not usable (nil handle, unknown
// dialect, bad prefix).
func NewCustomers(db migrator.DB) *Customers {
	mustValidDB("NewCustomers", db)
	return &Customers{db: db, table: db.Table("demo_customers")}
}

// FindCustomer returns the id of the customer with the e-mail, ignoring case
// and surrounding spaces, or else with the phone, comparing digits only (so
// "+7 900 123-45-67" and "8(900)1234567" are the same number); 0 when
// neither matches.
func (c *Customers) FindCustomer(ctx context.Context, email, phone string) (int64, error) {
	if email = strings.ToLower(strings.TrimSpace(email)); email != "" {
		id, err := c.findBy(ctx, "email", email)
		if id != 0 || err != nil {
			return id, err
		}
	}
	if digits := phoneDigits(phone); digits != "" {
		return c.findBy(ctx, "phone_digits", digits)
	}
	return 0, nil
}

// findBy returns the lowest id whose column equals value, 0 when none.
// column is a constant from this file.
func (c *Customers) findBy(ctx context.Context, column, value string) (int64, error) {
	query, args, err := c.db.Dialect.Builder().Select("id").From(c.table).
		Where(column+" = ?", value).OrderBy("id").Limit(1).ToSql()
	if err != nil {
		return 0, fmt.Errorf("demo: building customer query: %w", err)
	}
	var id int64
	err = c.db.QueryRowContext(ctx, query, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("demo: finding customer by %s: %w", column, err)
	}
	return id, nil
}

// phoneDigits keeps the ASCII digits of phone. A Russian number dialled
// with the domestic prefix (11 digits starting with 8) is written with the
// country code 7, as the seeded numbers are.
func phoneDigits(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '8' {
		d = "7" + d[1:]
	}
	return d
}
