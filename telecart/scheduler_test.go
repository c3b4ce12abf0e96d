package telecart_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

// schedNew returns a scheduler on db, stopped when the test ends.
func schedNew(tb testing.TB, db migrator.DB) *telecart.Scheduler {
	tb.Helper()
	s, err := telecart.NewScheduler(telecart.SchedulerConfig{DB: db})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			tb.Errorf("stopping the scheduler: %v", err)
		}
	})
	return s
}

// schedMustRegister registers t or fails the test.
func schedMustRegister(tb testing.TB, s *telecart.Scheduler, t telecart.Task) {
	tb.Helper()
	if err := s.Register(t); err != nil {
		tb.Fatal(err)
	}
}

// schedMustStart starts s or fails the test.
func schedMustStart(tb testing.TB, s *telecart.Scheduler) {
	tb.Helper()
	if err := s.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// schedStatus returns the status of the named task or fails the test.
func schedStatus(tb testing.TB, s *telecart.Scheduler, name string) telecart.TaskStatus {
	tb.Helper()
	for _, st := range s.Tasks() {
		if st.Name == name {
			return st
		}
	}
	tb.Fatalf("no task %q in %+v", name, s.Tasks())
	return telecart.TaskStatus{}
}

// schedWaitFor polls cond until it holds or timeout passes, then fails
// saying what was awaited.
func schedWaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// schedOverlap counts the executions of a task body that are in progress
// at once, across every scheduler that runs it.
type schedOverlap struct {
	cur, max, runs atomic.Int64
}

func (o *schedOverlap) enter() {
	o.runs.Add(1)
	n := o.cur.Add(1)
	for {
		m := o.max.Load()
		if n <= m || o.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (o *schedOverlap) leave() { o.cur.Add(-1) }

// TestSchedulerRegister proves that Register refuses bad tasks up front.
func TestSchedulerRegister(t *testing.T) {
	t.Parallel()
	db := migratortest.MustOpenEmpty(t, migrator.SQLite)
	ok := func(context.Context) error { return nil }

	// Ensure every kind of schedule robfig/cron knows is accepted.
	t.Run("OK", func(t *testing.T) {
		s := schedNew(t, db)
		for i, spec := range []string{"@every 1m", "@hourly", "@daily", "0 3 * * *", "*/5 * * * 1-5", "CRON_TZ=UTC 0 9 * * *"} {
			name := "task_" + string(rune('a'+i))
			if err := s.Register(telecart.Task{Name: name, Schedule: spec, Run: ok, Enabled: true}); err != nil {
				t.Errorf("Register(%q): %v", spec, err)
			}
		}
		if got := len(s.Tasks()); got != 6 {
			t.Fatalf("Tasks() has %d tasks, want 6", got)
		}
	})

	// Ensure invalid names, schedules, duplicates and missing functions are
	// refused with an error naming the problem.
	tests := []struct {
		name string
		task telecart.Task
		want string
	}{
		{"ErrNameEmpty", telecart.Task{Name: "", Schedule: "@hourly", Run: ok}, "must match"},
		{"ErrNameUpper", telecart.Task{Name: "Pulse_Sweep", Schedule: "@hourly", Run: ok}, "must match"},
		{"ErrNameDash", telecart.Task{Name: "pulse-sweep", Schedule: "@hourly", Run: ok}, "must match"},
		{"ErrNameTooLong", telecart.Task{Name: strings.Repeat("a", 65), Schedule: "@hourly", Run: ok}, "must match"},
		{"ErrScheduleEmpty", telecart.Task{Name: "t", Schedule: "", Run: ok}, "not a cron spec"},
		{"ErrScheduleWords", telecart.Task{Name: "t", Schedule: "every minute", Run: ok}, "not a cron spec"},
		{"ErrScheduleSixFields", telecart.Task{Name: "t", Schedule: "0 0 3 * * *", Run: ok}, "not a cron spec"},
		{"ErrScheduleBadDescriptor", telecart.Task{Name: "t", Schedule: "@fortnightly", Run: ok}, "not a cron spec"},
		{"ErrScheduleBadEvery", telecart.Task{Name: "t", Schedule: "@every soon", Run: ok}, "not a cron spec"},
		{"ErrRunNil", telecart.Task{Name: "t", Schedule: "@hourly"}, "Run is nil"},
		{"ErrTimeoutNegative", telecart.Task{Name: "t", Schedule: "@hourly", Run: ok, Timeout: -time.Second}, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := schedNew(t, db)
			err := s.Register(tt.task)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Register = %v, want an error containing %q", err, tt.want)
			}
			if got := len(s.Tasks()); got != 0 {
				t.Fatalf("a refused task was registered: %+v", s.Tasks())
			}
		})
	}

	// Ensure a name can be registered once.
	t.Run("ErrDuplicate", func(t *testing.T) {
		s := schedNew(t, db)
		schedMustRegister(t, s, telecart.Task{Name: "pulse_sweep", Schedule: "@every 1m", Run: ok})
		err := s.Register(telecart.Task{Name: "pulse_sweep", Schedule: "@hourly", Run: ok})
		if err == nil || !strings.Contains(err.Error(), "already registered") {
			t.Fatalf("Register duplicate = %v, want already registered", err)
		}
		if st := schedStatus(t, s, "pulse_sweep"); st.Schedule != "@every 1m" {
			t.Fatalf("the duplicate replaced the task: %+v", st)
		}
	})

	// Ensure a config without a database is refused at construction.
	t.Run("ErrNoDB", func(t *testing.T) {
		if _, err := telecart.NewScheduler(telecart.SchedulerConfig{}); err == nil || !strings.Contains(err.Error(), "DB") {
			t.Fatalf("NewScheduler without DB = %v, want an error naming DB", err)
		}
	})

	// Ensure RunNow of an unknown task says so.
	t.Run("ErrTaskNotFound", func(t *testing.T) {
		s := schedNew(t, db)
		if err := s.RunNow(context.Background(), "nope"); !errors.Is(err, telecart.ErrTaskNotFound) {
			t.Fatalf("RunNow(nope) = %v, want ErrTaskNotFound", err)
		}
	})
}

// TestSchedulerOneReplicaAtATime proves that a task never runs twice at
// once: on MariaDB across two schedulers on two handles (two replicas),
// through both RunNow and cron ticks; on SQLite, which is single-replica,
// within one scheduler.
func TestSchedulerOneReplicaAtATime(t *testing.T) {
	t.Parallel()
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			dsn := migratortest.FreshDSN(t, d)
			t.Parallel()
			var overlap schedOverlap
			var hold atomic.Pointer[chan struct{}] // when set, the body blocks on it
			entered := make(chan struct{}, 1)
			task := telecart.Task{Name: "pulse_sweep", Schedule: "@every 1s", Enabled: true, Run: func(ctx context.Context) error {
				overlap.enter()
				defer overlap.leave()
				if h := hold.Load(); h != nil {
					select {
					case entered <- struct{}{}:
					default:
					}
					<-*h
					return nil
				}
				time.Sleep(250 * time.Millisecond)
				return nil
			}}

			// Two replicas on MariaDB; SQLite deployments have one.
			a := schedNew(t, migratortest.MustOpenDSN(t, d, dsn))
			replicas := []*telecart.Scheduler{a}
			if d == migrator.MySQL {
				replicas = append(replicas, schedNew(t, migratortest.MustOpenDSN(t, d, dsn)))
			}
			for _, s := range replicas {
				schedMustRegister(t, s, task)
			}
			b := replicas[len(replicas)-1]

			// Ensure a run while another is in progress is refused and
			// recorded: as locked by another replica on MariaDB, as still
			// running within one process.
			h := make(chan struct{})
			hold.Store(&h)
			release := sync.OnceFunc(func() { hold.Store(nil); close(h) })
			t.Cleanup(release) // before the schedulers' Stop, should a check fail
			first := make(chan error, 1)
			go func() { first <- a.RunNow(context.Background(), task.Name) }()
			select {
			case <-entered:
			case <-time.After(5 * time.Second):
				t.Fatal("the first run did not start")
			}
			wantErr, wantSkip := telecart.ErrTaskRunning, telecart.SkipRunning
			if d == migrator.MySQL {
				wantErr, wantSkip = telecart.ErrTaskLocked, telecart.SkipLocked
			}
			second := make(chan error, 1)
			go func() { second <- b.RunNow(context.Background(), task.Name) }()
			select {
			case err := <-second:
				if !errors.Is(err, wantErr) {
					t.Errorf("second RunNow = %v, want %v", err, wantErr)
				}
			case <-entered:
				release()
				t.Fatalf("a second run started while the first held the task; %v", <-second)
			case <-time.After(5 * time.Second):
				t.Fatal("the second RunNow neither ran nor returned")
			}
			if st := schedStatus(t, b, task.Name); st.LastSkipped != wantSkip || st.Skips != 1 || st.LastSkippedAt == nil || st.Runs != 0 {
				t.Errorf("second scheduler's status = %+v, want one skip %q and no run", st, wantSkip)
			}
			if err := a.RunNow(context.Background(), task.Name); !errors.Is(err, telecart.ErrTaskRunning) {
				t.Errorf("RunNow on the running scheduler = %v, want ErrTaskRunning", err)
			}
			if st := schedStatus(t, a, task.Name); !st.Running {
				t.Errorf("running task's status = %+v, want Running", st)
			}
			release()
			if err := <-first; err != nil {
				t.Fatalf("first RunNow = %v", err)
			}

			// Ensure cron ticks on every replica plus concurrent RunNow
			// calls from each never overlap, and that every attempt is
			// either a recorded run or a recorded skip.
			phase1Skips := int64(0)
			for _, s := range replicas {
				phase1Skips += schedStatus(t, s, task.Name).Skips
				schedMustStart(t, s)
			}
			stop := time.Now().Add(2500 * time.Millisecond)
			var wg sync.WaitGroup
			var refused, locked atomic.Int64
			for _, s := range append(replicas, replicas...) {
				wg.Go(func() {
					for time.Now().Before(stop) {
						err := s.RunNow(context.Background(), task.Name)
						switch {
						case errors.Is(err, telecart.ErrTaskLocked):
							refused.Add(1)
							locked.Add(1)
						case errors.Is(err, telecart.ErrTaskRunning):
							refused.Add(1)
						case err != nil:
							t.Errorf("RunNow = %v", err)
						}
						time.Sleep(70 * time.Millisecond)
					}
				})
			}
			wg.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for _, s := range replicas {
				if err := s.Stop(ctx); err != nil {
					t.Fatal(err)
				}
			}

			if got := overlap.max.Load(); got != 1 {
				t.Fatalf("%d runs of the task overlapped, want at most 1", got)
			}
			var runs, skips int64
			for i, s := range replicas {
				st := schedStatus(t, s, task.Name)
				t.Logf("replica %d: %d runs, %d skips, last skipped %q", i, st.Runs, st.Skips, st.LastSkipped)
				if st.Runs == 0 && st.Skips == 0 {
					t.Errorf("replica %d neither ran nor skipped the task: %+v", i, st)
				}
				if st.Failures != 0 || st.LastError != "" {
					t.Errorf("replica %d recorded a failure: %+v", i, st)
				}
				runs += st.Runs
				skips += st.Skips
			}
			if runs != overlap.runs.Load() {
				t.Errorf("statuses count %d runs, the task body ran %d times", runs, overlap.runs.Load())
			}
			if runs < 3 || skips-phase1Skips < refused.Load() {
				t.Errorf("%d runs and %d skips after %d refused RunNow calls; want at least 3 runs and every refusal recorded", runs, skips-phase1Skips, refused.Load())
			}
			if refused.Load() == 0 || (d == migrator.MySQL && locked.Load() == 0) {
				t.Errorf("%d RunNow calls refused, %d as locked by another replica; the test did not exercise the lock", refused.Load(), locked.Load())
			}
		})
	}
}

// TestSchedulerPanic proves that a panicking task is recorded as a failure
// and that the scheduler keeps running it.
func TestSchedulerPanic(t *testing.T) {
	t.Parallel()
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		t.Parallel()
		s := schedNew(t, db)
		var calls atomic.Int64
		schedMustRegister(t, s, telecart.Task{Name: "stats_refresh", Schedule: "@every 1s", Enabled: true, Run: func(ctx context.Context) error {
			if calls.Add(1) == 1 {
				panic("boom")
			}
			return nil
		}})
		var nowCalls atomic.Int64
		schedMustRegister(t, s, telecart.Task{Name: "customer_counters", Schedule: "@hourly", Enabled: true, Run: func(ctx context.Context) error {
			if nowCalls.Add(1) == 1 {
				panic(errors.New("counter overflow")) // an error, not a string
			}
			return nil
		}})

		// Ensure RunNow reports the panic and the next RunNow runs.
		err := s.RunNow(context.Background(), "customer_counters")
		if err == nil || !strings.Contains(err.Error(), "panic: counter overflow") {
			t.Fatalf("RunNow of a panicking task = %v, want the panic", err)
		}
		if err := s.RunNow(context.Background(), "customer_counters"); err != nil {
			t.Fatalf("RunNow after a panic = %v", err)
		}
		st := schedStatus(t, s, "customer_counters")
		if st.Runs != 2 || st.Failures != 1 || !strings.HasPrefix(st.LastError, "panic: ") || st.LastStatus != "ok" {
			t.Fatalf("status after a panic and a run = %+v", st)
		}

		// Ensure a panic on a cron tick is recorded and a later tick runs.
		schedMustStart(t, s)
		schedWaitFor(t, 4*time.Second, "a run after the panic", func() bool { return schedStatus(t, s, "stats_refresh").Runs >= 2 })
		st = schedStatus(t, s, "stats_refresh")
		if st.Failures != 1 || st.LastError != "panic: boom" || st.LastErrorAt == nil {
			t.Fatalf("status = %+v, want one failure \"panic: boom\"", st)
		}
		if st.LastStatus != "ok" || st.LastRunAt == nil || !st.LastRunAt.After(*st.LastErrorAt) {
			t.Fatalf("status = %+v, want a successful run after the panic", st)
		}
	})
}

// TestSchedulerDisabled proves that the settings' disabled_tasks skip a
// task's scheduled runs, and that re-enabling it needs no restart.
func TestSchedulerDisabled(t *testing.T) {
	t.Parallel()
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		t.Parallel()
		s := schedNew(t, db)
		var runs, manual atomic.Int64
		schedMustRegister(t, s, telecart.Task{Name: "pulse_purge", Schedule: "@every 1s", Enabled: true, Run: func(context.Context) error {
			runs.Add(1)
			return nil
		}})
		schedMustRegister(t, s, telecart.Task{Name: "manual_only", Schedule: "@every 1s", Run: func(context.Context) error {
			manual.Add(1)
			return nil
		}})
		s.SetDisabled([]string{"pulse_purge", "not_registered"})
		schedMustStart(t, s)

		// Ensure a disabled task's tick is skipped and shown as disabled.
		schedWaitFor(t, 3*time.Second, "a skipped tick", func() bool {
			return schedStatus(t, s, "pulse_purge").LastSkipped == telecart.SkipDisabled &&
				schedStatus(t, s, "manual_only").LastSkipped == telecart.SkipDisabled
		})
		if n := runs.Load() + manual.Load(); n != 0 {
			t.Fatalf("disabled tasks ran %d times", n)
		}
		st := schedStatus(t, s, "pulse_purge")
		if st.Enabled || st.NextRunAt != nil || st.Runs != 0 {
			t.Fatalf("disabled task's status = %+v", st)
		}

		// Ensure clearing the list applies without a restart, while a task
		// registered disabled stays off.
		s.SetDisabled(nil)
		schedWaitFor(t, 3*time.Second, "a run once enabled", func() bool { return runs.Load() > 0 })
		st = schedStatus(t, s, "pulse_purge")
		if !st.Enabled || st.NextRunAt == nil || st.NextRunAt.Location() != time.UTC {
			t.Fatalf("enabled task's status = %+v", st)
		}
		if st := schedStatus(t, s, "manual_only"); st.Enabled || manual.Load() != 0 {
			t.Fatalf("a task registered disabled ran on its schedule: %+v", st)
		}

		// Ensure an operator may still run a task registered disabled.
		if err := s.RunNow(context.Background(), "manual_only"); err != nil || manual.Load() != 1 {
			t.Fatalf("RunNow(manual_only) = %v after %d runs", err, manual.Load())
		}
	})
}

// TestSchedulerStop proves that Stop waits for a running task, gives up at
// its context's deadline, and may be called again.
func TestSchedulerStop(t *testing.T) {
	t.Parallel()
	db := migratortest.MustOpenEmpty(t, migrator.SQLite)

	// Ensure Stop returns once the running task has finished.
	t.Run("WaitsForTask", func(t *testing.T) {
		t.Parallel()
		s := schedNew(t, db)
		entered := make(chan struct{}, 1)
		var finished atomic.Bool
		schedMustRegister(t, s, telecart.Task{Name: "slow", Schedule: "@every 1s", Enabled: true, Run: func(context.Context) error {
			select {
			case entered <- struct{}{}:
			default:
			}
			time.Sleep(400 * time.Millisecond)
			finished.Store(true)
			return nil
		}})
		schedMustStart(t, s)
		select {
		case <-entered:
		case <-time.After(3 * time.Second):
			t.Fatal("the task did not start")
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !finished.Load() {
			t.Fatal("Stop returned before the running task finished")
		}
		if st := schedStatus(t, s, "slow"); st.Running || st.Runs < 1 || st.NextRunAt != nil {
			t.Fatalf("status after Stop = %+v", st)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatalf("second Stop = %v", err)
		}
		if err := s.Start(context.Background()); !errors.Is(err, telecart.ErrSchedulerStopped) {
			t.Fatalf("Start after Stop = %v, want ErrSchedulerStopped", err)
		}
		if err := s.RunNow(context.Background(), "slow"); !errors.Is(err, telecart.ErrSchedulerStopped) {
			t.Fatalf("RunNow after Stop = %v, want ErrSchedulerStopped", err)
		}
	})

	// Ensure Stop returns by its deadline while a task hangs, cancels the
	// task's context, and a second Stop waits for the task to end.
	t.Run("Deadline", func(t *testing.T) {
		t.Parallel()
		s := schedNew(t, db)
		entered := make(chan struct{}, 1)
		release := make(chan struct{})
		cancelled := make(chan struct{})
		schedMustRegister(t, s, telecart.Task{Name: "hang", Schedule: "@hourly", Enabled: true, Run: func(ctx context.Context) error {
			entered <- struct{}{}
			<-ctx.Done()
			close(cancelled)
			<-release // a task that is slow to notice
			return ctx.Err()
		}})
		schedMustStart(t, s)
		runErr := make(chan error, 1)
		go func() { runErr <- s.RunNow(context.Background(), "hang") }()
		<-entered

		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Stop took %s past a 200ms deadline", d)
		}
		select {
		case <-cancelled:
		case <-time.After(2 * time.Second):
			t.Fatal("the task's context was not cancelled after Stop's deadline")
		}
		close(release)
		if err := s.Stop(context.Background()); err != nil {
			t.Fatalf("second Stop = %v", err)
		}
		if err := <-runErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("RunNow = %v, want context.Canceled", err)
		}
		if st := schedStatus(t, s, "hang"); st.Running || st.Failures != 1 {
			t.Fatalf("status = %+v", st)
		}
	})

	// Ensure Stop without Start, and twice, is fine.
	t.Run("NotStarted", func(t *testing.T) {
		s := schedNew(t, db)
		for range 2 {
			if err := s.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// schedListing is the answer of GET /admin/api/scheduler.
type schedListing struct {
	Data []map[string]any `json:"data"`
}

// TestSchedulerHandler proves that GET /admin/api/scheduler lists every task
// with its status, sorted by name.
func TestSchedulerHandler(t *testing.T) {
	t.Parallel()
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := schedNew(t, db)
		schedMustRegister(t, s, telecart.Task{Name: "stats_refresh", Schedule: "@hourly", Enabled: true, Run: func(context.Context) error {
			return errors.New("stats table is missing")
		}})
		schedMustRegister(t, s, telecart.Task{Name: "pulse_sweep", Schedule: "@every 1m", Enabled: true, Run: func(context.Context) error {
			time.Sleep(5 * time.Millisecond)
			return nil
		}})
		schedMustRegister(t, s, telecart.Task{Name: "pulse_retention", Schedule: "@daily", Enabled: true, Run: func(context.Context) error { return nil }})
		s.SetDisabled([]string{"pulse_retention"})
		if err := s.RunNow(context.Background(), "stats_refresh"); err == nil {
			t.Fatal("RunNow of a failing task returned nil")
		}
		if err := s.RunNow(context.Background(), "pulse_sweep"); err != nil {
			t.Fatal(err)
		}

		r := mux.NewRouter()
		sh, err := telecart.NewSchedulerHandler(telecart.SchedulerHandlerConfig{Scheduler: s})
		if err != nil {
			t.Fatal(err)
		}
		sh.RegisterAdminRoutes(r.PathPrefix("/admin/api").Subrouter())
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/admin/api/scheduler", nil))
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("GET = %d %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		var got schedListing
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, task := range got.Data {
			names = append(names, task["name"].(string))
		}
		if strings.Join(names, ",") != "pulse_retention,pulse_sweep,stats_refresh" {
			t.Fatalf("tasks %v, want sorted by name: %s", names, w.Body)
		}
		ret, sweep, stats := got.Data[0], got.Data[1], got.Data[2]
		if ret["enabled"] != false || ret["last_run_at"] != nil || ret["runs"] != 0.0 || ret["schedule"] != "@daily" {
			t.Errorf("pulse_retention = %v", ret)
		}
		if sweep["enabled"] != true || sweep["last_error"] != "" || sweep["runs"] != 1.0 || sweep["last_status"] != "ok" {
			t.Errorf("pulse_sweep = %v", sweep)
		}
		if ms, ok := sweep["last_duration_ms"].(float64); !ok || ms < 5 {
			t.Errorf("pulse_sweep last_duration_ms = %v, want >= 5", sweep["last_duration_ms"])
		}
		if at, ok := sweep["last_run_at"].(string); !ok || !strings.HasSuffix(at, "Z") {
			t.Errorf("pulse_sweep last_run_at = %v, want RFC 3339 UTC", sweep["last_run_at"])
		}
		if stats["last_error"] != "stats table is missing" || stats["failures"] != 1.0 || stats["last_status"] != "error" {
			t.Errorf("stats_refresh = %v", stats)
		}
		if _, ok := stats["last_duration"]; ok {
			t.Errorf("the duration leaked in nanoseconds: %v", stats)
		}
	})
}
