package telecart

import (
	"context"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
)

// metricsSource is the Pulse ETL's customers with order metrics: the
// customers page from the Telegram customers table, then one grouped query
// over the order meta of just those customers. An order bumps its
// customer's updated_at (IncrementOrders), so updated_since also finds
// customers whose metrics changed.
type metricsSource struct {
	customers pulse.CustomerSource
	db        migrator.DB
}

// NewCustomerMetricsSource returns the ETL source with orders_count,
// total_spent, currency and first and last order times from the order meta
// table.
func NewCustomerMetricsSource(db migrator.DB) pulse.CustomerSource {
	return &metricsSource{customers: pulse.NewCustomersTableSource(db), db: db}
}

// CustomersSince reads a page of customers and fills in their metrics.
func (s *metricsSource) CustomersSince(ctx context.Context, q pulse.ETLQuery) ([]pulse.ETLCustomer, error) {
	page, err := s.customers.CustomersSince(ctx, q)
	if err != nil || len(page) == 0 {
		return page, err
	}
	index := make(map[int64]int, len(page))
	ids := make([]int64, len(page))
	for i, c := range page {
		index[c.ID], ids[i] = i, c.ID
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
func (s *metricsSource) CountSince(ctx context.Context, since time.Time) (int64, error) {
	return s.customers.CountSince(ctx, since)
}
