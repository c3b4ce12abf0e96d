package telecart

import (
	"context"
	"errors"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// CustomerMetricsSourceConfig configures a CustomerMetricsSource.
type CustomerMetricsSourceConfig struct {
	// Customers is the Telegram customers store. Required.
	Customers *telegram.CustomerStore
}

// CustomerMetricsSource is the Pulse ETL's customers with order metrics:
// the customers page from the Telegram customers store, then one grouped
// query over the order meta of just those customers. An order bumps its
// customer's updated_at (IncrementOrders), so updated_since also finds
// customers whose metrics changed.
type CustomerMetricsSource struct {
	customers *pulse.CustomersTableSource
	db        migrator.DB
}

// NewCustomerMetricsSource returns the ETL source with orders_count,
// total_spent, currency and first and last order times from the order meta
// table in db, or an error naming what to fix.
func NewCustomerMetricsSource(db migrator.DB, cfg CustomerMetricsSourceConfig) (*CustomerMetricsSource, error) {
	if db.DB == nil {
		return nil, errors.New("telecart: NewCustomerMetricsSource: db.DB is nil; pass the opened database")
	}
	if err := db.Dialect.Validate(); err != nil {
		return nil, fmt.Errorf("telecart: NewCustomerMetricsSource: %w", err)
	}
	if err := migrator.ValidatePrefix(db.Prefix); err != nil {
		return nil, fmt.Errorf("telecart: NewCustomerMetricsSource: %w", err)
	}
	customers, err := pulse.NewCustomersTableSource(pulse.CustomersTableSourceConfig{Customers: cfg.Customers})
	if err != nil {
		return nil, fmt.Errorf("telecart: NewCustomerMetricsSource: %w", err)
	}
	return &CustomerMetricsSource{customers: customers, db: db}, nil
}

// CustomersSince reads a page of customers and fills in their metrics.
func (s *CustomerMetricsSource) CustomersSince(ctx context.Context, q pulse.ETLQuery) ([]pulse.ETLCustomer, error) {
	page, err := s.customers.CustomersSince(ctx, q)
	if err != nil || len(page) == 0 {
		return page, err
	}
	index := make(map[int64]int, len(page))
	ids := make([]int64, len(page))
	for i := range page {
		index[page[i].ID], ids[i] = i, page[i].ID
	}
	query, args, err := s.db.Dialect.Builder().
		Select("customer_id", "currency", "COUNT(*)", "SUM(total)", "MIN(created_at)", "MAX(created_at)").
		From(s.db.Table(OrderMetaTable)).Where(sq.Eq{"customer_id": ids}).
		GroupBy("customer_id", "currency").ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("telecart: reading order metrics: %w", err)
	}
	defer rows.Close()
	// With several currencies, total_spent is in the one with most orders.
	best := map[int64]int64{}
	for rows.Next() {
		var (
			id, count, total int64
			currency         string
			first, last      time.Time
		)
		if err := rows.Scan(&id, &currency, &count, &total, migrator.ScanTime(&first), migrator.ScanTime(&last)); err != nil {
			return nil, fmt.Errorf("telecart: reading order metrics: %w", err)
		}
		c := &page[index[id]]
		if count > best[id] {
			best[id] = count
			c.TotalSpent, c.Currency = total, currency
		}
		if c.FirstOrderAt == nil || first.Before(*c.FirstOrderAt) {
			c.FirstOrderAt = &first
		}
		if c.LastOrderAt == nil || last.After(*c.LastOrderAt) {
			c.LastOrderAt = &last
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("telecart: reading order metrics: %w", err)
	}
	return page, nil
}

// CountSince counts customers as the table source does.
func (s *CustomerMetricsSource) CountSince(ctx context.Context, since time.Time) (int64, error) {
	return s.customers.CountSince(ctx, since)
}
