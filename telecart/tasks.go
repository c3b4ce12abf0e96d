package telecart

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// Names of the scheduler's tasks.
const (
	TaskPulseSweep     = "pulse_sweep"
	TaskPulseRetention = "pulse_retention"
	TaskCustomerCounts = "customers_recount"
	TaskStatsRefresh   = "stats_refresh"
)

// registerTasks registers the maintenance tasks.
func (tc *TeleCart) registerTasks() error {
	tasks := []Task{
		{Name: TaskPulseSweep, Schedule: cmp.Or(tc.cfg.Pulse.SweepSchedule, pulse.SweepScheduleDefault),
			Enabled: !tc.cfg.Pulse.NoSweep, Run: tc.sweepPulse},
		{Name: TaskPulseRetention, Schedule: "@every 1h", Enabled: true,
			Run: tc.pulse.RetentionTask(tc.cfg.SentRetention, tc.cfg.FailedRetention)},
		{Name: TaskStatsRefresh, Schedule: "@every 10m", Enabled: true, Run: func(ctx context.Context) error {
			_, err := tc.stats.Stats(ctx, true)
			return err
		}},
		{Name: TaskCustomerCounts, Schedule: "@daily", Enabled: true, Run: func(ctx context.Context) error {
			_, err := tc.RecountCustomers(ctx)
			return err
		}},
	}
	for _, t := range tasks {
		if err := tc.scheduler.Register(t); err != nil {
			return fmt.Errorf("telecart: registering task %s: %w", t.Name, err)
		}
	}
	return nil
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
// returns how many customers changed.
func (tc *TeleCart) RecountCustomers(ctx context.Context) (int64, error) {
	c := tc.db.Table(telegram.CustomersTable)
	m := tc.db.Table(OrderMetaTable)
	count := "(SELECT COUNT(*) FROM " + m + " WHERE " + m + ".customer_id = " + c + ".id)"
	res, err := tc.db.ExecContext(ctx, "UPDATE "+c+" SET orders_count = "+count+", updated_at = ? WHERE orders_count <> "+count,
		tc.db.Dialect.EncodeTime(tc.now()))
	if err != nil {
		return 0, fmt.Errorf("telecart: recounting customers: %w", err)
	}
	return res.RowsAffected()
}
