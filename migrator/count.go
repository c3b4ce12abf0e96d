package migrator

import (
	"context"
	"fmt"
)

// CountByStatus counts the rows of table (a name from code, never input)
// by their status column, for the queue tables' dashboards: status → rows.
func CountByStatus(ctx context.Context, db DB, table string) (map[string]int64, error) {
	q, args, err := db.Dialect.Builder().Select("status", "COUNT(*)").From(table).GroupBy("status").ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("counting %s by status: %w", table, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("counting %s by status: %w", table, err)
		}
		out[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting %s by status: %w", table, err)
	}
	return out, nil
}
