package telecart

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram/updates"
)

// Names of the scheduler's tasks.
const (
	TaskPulseSweep     = "pulse_sweep"
	TaskPulseRetention = "pulse_retention"
	TaskCustomerCounts = "customers_recount"
)

// registerTasks registers the maintenance tasks.
func (tc *TeleCart) registerTasks() error {
	tasks := []Task{
		{Name: TaskPulseSweep, Schedule: cmp.Or(tc.cfg.Pulse.SweepSchedule, pulse.SweepScheduleDefault),
			Enabled: !tc.cfg.Pulse.NoSweep, Run: tc.sweepPulse},
		{Name: TaskPulseRetention, Schedule: "@every 1h", Enabled: true, Run: tc.retention()},
		{Name: TaskCampaignFunnel, Schedule: "@every 5m", Enabled: true, Run: tc.foldFunnel},
		{Name: TaskCustomerCounts, Schedule: "@daily", Enabled: true, Run: func(ctx context.Context) error {
			_, err := tc.RecountCustomers(ctx)
			return err
		}},
	}
	if tc.intake != nil {
		tasks = append(tasks, Task{Name: TaskBotUpdatesPrune, Schedule: "@daily", Enabled: true, Run: func(ctx context.Context) error {
			_, err := tc.intake.Prune(ctx, tc.now().Add(-updates.RetentionDefault))
			return err
		}})
	}
	for _, t := range tasks {
		if err := tc.scheduler.Register(t); err != nil {
			return fmt.Errorf("telecart: registering task %s: %w", t.Name, err)
		}
	}
	return nil
}

// retention is the pulse_retention task: it folds the campaign funnel
// first, since retention purges only folded events.
func (tc *TeleCart) retention() func(ctx context.Context) error {
	purge := tc.pulse.RetentionTask(tc.cfg.SentRetention, tc.cfg.FailedRetention)
	return func(ctx context.Context) error {
		if err := tc.foldFunnel(ctx); err != nil {
			return err
		}
		return purge(ctx)
	}
}

// sweepPulse is the pulse_sweep task, the Pulse sender's only sweep: it
// delivers what is due even when nothing woke the sender (an event another
// replica stored, say). While the API refuses the credentials SendOnce
// sends nothing; without credentials there is nothing to do.
func (tc *TeleCart) sweepPulse(ctx context.Context) error {
	_, err := tc.pulse.SendOnce(ctx)
	if errors.Is(err, pulse.ErrNotConfigured) {
		return nil
	}
	return err
}

// RecountCustomers recomputes every customer's orders_count from the order
// meta table, repairing counters after a host deleted orders by hand. It
// returns how many customers changed. The customers store walks its table
// and writes the counters; this package counts its own orders for it.
func (tc *TeleCart) RecountCustomers(ctx context.Context) (int64, error) {
	n, err := tc.customers.RecountOrders(ctx, tc.orderCounts)
	if err != nil {
		return n, fmt.Errorf("telecart: recounting customers: %w", err)
	}
	return n, nil
}

// orderCounts counts the orders of the customers ids in the order meta
// table, through exec (the recount's transaction). On MySQL the read locks
// those customers' order rows until the transaction ends, so that an order
// placed meanwhile waits and is counted by its own IncrementOrders.
func (tc *TeleCart) orderCounts(ctx context.Context, exec migrator.Execer, ids []int64) (map[int64]int, error) {
	b := tc.db.Dialect.Builder().Select("customer_id", "COUNT(*)").From(tc.db.Table(OrderMetaTable)).
		Where(sq.Eq{"customer_id": ids}).GroupBy("customer_id")
	if tc.db.Dialect == migrator.MySQL {
		b = b.Suffix("LOCK IN SHARE MODE")
	}
	query, args, err := b.ToSql()
	if err != nil {
		return nil, fmt.Errorf("building the orders count: %w", err)
	}
	rows, err := exec.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("counting orders: %w", err)
	}
	defer rows.Close()
	counts := make(map[int64]int, len(ids))
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("counting orders: %w", err)
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting orders: %w", err)
	}
	return counts, nil
}
