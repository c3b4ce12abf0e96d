package telecart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/telecart-go/telecart/migrator"
)

// TaskTimeoutDefault bounds one run of a task whose Timeout is zero.
const TaskTimeoutDefault = 30 * time.Minute

// Why a run of a task did not happen, as TaskStatus.LastSkipped shows it.
const (
	// SkipLocked: another replica (or process) holds the task's lock.
	SkipLocked = "locked by another replica"
	// SkipDone: another replica already ran this scheduled run of the task.
	SkipDone = "ran on another replica"
	// SkipRunning: the previous run in this process has not finished.
	SkipRunning = "still running"
	// SkipDisabled: the task is turned off (Task.Enabled or the settings'
	// disabled_tasks).
	SkipDisabled = "disabled"
)

// Errors returned by Scheduler; check them with errors.Is.
var (
	// ErrTaskNotFound means no task of that name is registered.
	ErrTaskNotFound = errors.New("telecart: no such scheduler task")
	// ErrTaskRunning means the task is already running in this process.
	ErrTaskRunning = errors.New("telecart: scheduler task is still running")
	// ErrTaskLocked means another replica is running the task.
	ErrTaskLocked = errors.New("telecart: scheduler task is locked by another replica")
	// ErrSchedulerStopped means Stop was called; create a new Scheduler.
	ErrSchedulerStopped = errors.New("telecart: scheduler is stopped")
)

// schedNamePattern is the task name rule, the same as for the settings'
// disabled_tasks.
var schedNamePattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	// DB holds the tasks' locks (rows of DB.Prefix+"locks", see
	// migrator.Locker). Required.
	DB migrator.DB
	// LockLease is the lease of a task's lock: a replica that dies while
	// running a task holds it that long after its last renewal. Defaults
	// to migrator.LeaseTTLDefault (30s).
	LockLease time.Duration
	// Logger receives a line per run, failure and skip. Defaults to a
	// discarding logger.
	Logger *slog.Logger
	// Now is the clock for the recorded run times and durations. Defaults to
	// time.Now.
	Now func() time.Time
	// Location is the time zone cron schedules are read in ("0 3 * * *" is
	// 03:00 there). Defaults to time.UTC.
	Location *time.Location
}

func (c SchedulerConfig) withDefaults() SchedulerConfig {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	return c
}

func (c SchedulerConfig) validate() error {
	if c.DB.DB == nil {
		return errors.New("telecart: SchedulerConfig.DB is nil; set it to the database the other stores use")
	}
	if err := c.DB.Dialect.Validate(); err != nil {
		return fmt.Errorf("telecart: SchedulerConfig.DB: %w", err)
	}
	if c.LockLease < 0 {
		return fmt.Errorf("telecart: SchedulerConfig.LockLease must not be negative, got %s", c.LockLease)
	}
	return migrator.ValidatePrefix(c.DB.Prefix)
}

// Task is a named piece of scheduled maintenance.
type Task struct {
	// Name identifies the task in the status, the settings' disabled_tasks
	// and RunNow: [a-z0-9_]{1,64}, unique within a Scheduler.
	Name string
	// Schedule is a standard five-field cron spec or a descriptor such as
	// "@hourly" or "@every 1m", read in SchedulerConfig.Location.
	Schedule string
	// Run does the work. Its context ends at Timeout or when Stop gives up
	// waiting; an error (or a panic) is recorded as the task's last error.
	Run func(ctx context.Context) error
	// Enabled is the task's state unless the settings disable it. A task
	// registered with Enabled false never runs on its schedule, only through
	// RunNow (an operator's explicit request).
	Enabled bool
	// Timeout bounds one run. Defaults to TaskTimeoutDefault.
	Timeout time.Duration
}

// TaskStatus is what the admin panel shows of a task, as seen by this
// process: each replica keeps its own counters in memory.
type TaskStatus struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"`
	// Enabled is false when the task is registered disabled or listed in
	// the settings' disabled_tasks.
	Enabled bool `json:"enabled"`
	// Running is true while this process runs the task.
	Running bool `json:"running"`
	// LastRunAt is when the last run started (UTC), nil before the first.
	LastRunAt *time.Time `json:"last_run_at"`
	// LastDuration is how long the last run took; JSON last_duration_ms.
	LastDuration time.Duration `json:"-"`
	// LastStatus is "ok" or "error" for the last run, "" before the first.
	LastStatus string `json:"last_status"`
	// LastError is the most recent failure ("panic: …" for a panic); it is
	// kept after later successes, so compare LastErrorAt with LastRunAt.
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
	// NextRunAt is the next scheduled run (UTC), nil when the scheduler is
	// not running or the task is disabled.
	NextRunAt *time.Time `json:"next_run_at"`
	// Runs counts finished runs, failed ones included; Failures counts the
	// failed ones; Skips counts runs that did not happen.
	Runs     int64 `json:"runs"`
	Failures int64 `json:"failures"`
	Skips    int64 `json:"skips"`
	// LastSkipped is why the most recent run attempt was skipped (SkipLocked,
	// SkipRunning or SkipDisabled), "" when it ran.
	LastSkipped   string     `json:"last_skipped"`
	LastSkippedAt *time.Time `json:"last_skipped_at"`
}

// MarshalJSON renders LastDuration as whole milliseconds in
// last_duration_ms.
func (s TaskStatus) MarshalJSON() ([]byte, error) {
	type plain TaskStatus
	return json.Marshal(struct {
		plain
		LastDurationMS int64 `json:"last_duration_ms"`
	}{plain(s), s.LastDuration.Milliseconds()})
}

// Scheduler runs named maintenance tasks on cron schedules (robfig/cron).
// A task never overlaps itself: in this process a run is skipped while the
// previous one is still going, and a run takes the task's lock in the
// database (a migrator.Locker lease, which holds across the nodes of a
// Galera cluster too) so that only one replica runs a task at a time; the
// others skip it. Each scheduled run happens once across the replicas: the
// lock row notes the last scheduled time run, and a replica whose cron
// fires for a time already run elsewhere skips it (SkipDone). "@every"
// schedules are aligned on multiples of their period, so that every
// replica fires at the same times. A task that fails or panics is recorded
// and the scheduler goes on.
//
// The settings' disabled_tasks reach the scheduler through SetDisabled and
// apply from the next run, without a restart.
type Scheduler struct {
	cfg    SchedulerConfig
	cron   *cron.Cron
	locker *migrator.Locker
	// hard ends every run's context when Stop gives up waiting.
	hard       context.Context
	hardCancel context.CancelFunc

	mu       sync.Mutex
	tasks    map[string]*schedEntry
	disabled map[string]bool
	base     context.Context // Start's context without its cancellation
	started  bool
	stopped  bool
	inflight int
	idle     chan struct{} // closed while inflight is 0
}

// schedEntry is a registered task and its status, guarded by Scheduler.mu.
type schedEntry struct {
	task   Task
	ticks  *schedTicks
	id     cron.EntryID
	status TaskStatus
}

// NewScheduler returns a scheduler with no tasks; Register them, then Start.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	locker, err := migrator.NewLocker(cfg.DB, migrator.LockerConfig{TTL: cfg.LockLease, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("telecart: scheduler: %w", err)
	}
	s := &Scheduler{
		cfg:      cfg,
		locker:   locker,
		tasks:    map[string]*schedEntry{},
		disabled: map[string]bool{},
		base:     context.Background(),
		idle:     make(chan struct{}),
	}
	close(s.idle)
	s.hard, s.hardCancel = context.WithCancel(context.Background())
	s.cron = cron.New(cron.WithLocation(cfg.Location), cron.WithLogger(schedCronLogger{cfg.Logger}))
	return s, nil
}

// Register adds a task. It fails on an invalid or duplicate name, a schedule
// cron cannot parse, a nil Run or a negative Timeout. Tasks registered after
// Start are scheduled at once.
func (s *Scheduler) Register(t Task) error {
	if !schedNamePattern.MatchString(t.Name) {
		return fmt.Errorf("telecart: task name %q must match [a-z0-9_]{1,64}", t.Name)
	}
	sched, err := cron.ParseStandard(t.Schedule)
	if err != nil {
		return fmt.Errorf("telecart: task %s: Schedule %q is not a cron spec (five fields or a descriptor such as @hourly or @every 1m): %v", t.Name, t.Schedule, err)
	}
	if t.Run == nil {
		return fmt.Errorf("telecart: task %s: Run is nil", t.Name)
	}
	if t.Timeout < 0 {
		return fmt.Errorf("telecart: task %s: Timeout must not be negative", t.Name)
	}
	if t.Timeout == 0 {
		t.Timeout = TaskTimeoutDefault
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tasks[t.Name]; ok {
		return fmt.Errorf("telecart: task %s is already registered", t.Name)
	}
	e := &schedEntry{task: t, ticks: newSchedTicks(sched), status: TaskStatus{Name: t.Name, Schedule: t.Schedule}}
	// SkipIfStillRunning keeps cron from stacking up runs of a slow task;
	// run() repeats the check so that RunNow and cron never overlap either.
	job := cron.NewChain(cron.SkipIfStillRunning(schedSkipLogger{s, e})).Then(cron.FuncJob(func() {
		_ = s.run(s.baseContext(), e, e.ticks.tick(time.Now()))
	}))
	// cron.Schedule does not block on the scheduler's loop, so holding mu
	// here is safe.
	e.id = s.cron.Schedule(e.ticks, job)
	s.tasks[t.Name] = e
	return nil
}

// Start checks that the database answers and starts running tasks on their
// schedules. It returns at once. Start after Start is a no-op returning
// nil; Start after Stop returns ErrSchedulerStopped. Scheduled runs keep
// ctx's values but not its cancellation: only Stop ends them.
func (s *Scheduler) Start(ctx context.Context) error {
	if done, err := s.startState(); done {
		return err
	}
	if err := s.cfg.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("telecart: scheduler: the database does not answer: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return ErrSchedulerStopped
	case s.started:
		return nil
	}
	s.started = true
	s.base = context.WithoutCancel(ctx)
	s.cron.Start()
	s.cfg.Logger.InfoContext(ctx, "scheduler started", "tasks", len(s.tasks))
	return nil
}

// startState tells Start, before it pings the database, whether there is
// nothing to start: already started (nil) or stopped (ErrSchedulerStopped).
func (s *Scheduler) startState() (done bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return true, ErrSchedulerStopped
	case s.started:
		return true, nil
	}
	return false, nil
}

// Stop stops scheduling runs and waits for the running ones (RunNow's
// included) to finish, or until ctx is done: then it cancels their contexts
// and returns ctx's error. It may be called again, also to wait once more
// after a deadline.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	first := !s.stopped
	s.stopped = true
	s.mu.Unlock()
	// cron's context ends when the jobs it started have returned. Then no
	// run can begin (RunNow refuses once stopped), so idle covers the rest:
	// RunNow's runs.
	cronDone := s.cron.Stop()
	select {
	case <-cronDone.Done():
	case <-ctx.Done():
		s.hardCancel()
		return fmt.Errorf("telecart: scheduler: stopping: %w", ctx.Err())
	}
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
		s.hardCancel()
		return fmt.Errorf("telecart: scheduler: stopping: %w", ctx.Err())
	}
	if first {
		s.cfg.Logger.InfoContext(ctx, "scheduler stopped")
	}
	return nil
}

// RunNow runs the task once, at once, and returns its error; it is what an
// operator's "schedule run NAME" does. It takes the same locks as a
// scheduled run and is recorded the same way, but runs a disabled task too.
// It returns ErrTaskRunning when the task is running in this process and
// ErrTaskLocked when another replica holds it.
func (s *Scheduler) RunNow(ctx context.Context, name string) error {
	s.mu.Lock()
	e, ok := s.tasks[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrTaskNotFound, name)
	}
	return s.run(ctx, e, time.Time{})
}

// SetDisabled replaces the list of tasks turned off by the settings
// (disabled_tasks). It applies from the next run; names of unknown tasks are
// ignored.
func (s *Scheduler) SetDisabled(names []string) {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	s.mu.Lock()
	s.disabled = m
	s.mu.Unlock()
}

// Tasks returns the status of every task, sorted by name.
func (s *Scheduler) Tasks() []TaskStatus {
	next := map[cron.EntryID]time.Time{}
	s.mu.Lock()
	running := s.started && !s.stopped
	s.mu.Unlock()
	if running {
		for _, en := range s.cron.Entries() {
			next[en.ID] = en.Next
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TaskStatus, 0, len(s.tasks))
	for _, e := range s.tasks {
		st := e.status
		st.Enabled = s.enabledLocked(e)
		st.LastRunAt = schedCopyTime(st.LastRunAt)
		st.LastErrorAt = schedCopyTime(st.LastErrorAt)
		st.LastSkippedAt = schedCopyTime(st.LastSkippedAt)
		if t, ok := next[e.id]; ok && st.Enabled && !t.IsZero() {
			t = t.UTC()
			st.NextRunAt = &t
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Scheduler) enabledLocked(e *schedEntry) bool {
	return e.task.Enabled && !s.disabled[e.task.Name]
}

// baseContext is the parent of scheduled runs' contexts.
func (s *Scheduler) baseContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base
}

// run is one attempt at running e: from cron for the scheduled time tick,
// or from RunNow (tick zero). It never panics.
func (s *Scheduler) run(ctx context.Context, e *schedEntry, tick time.Time) error {
	name := e.task.Name
	manual := tick.IsZero()
	s.mu.Lock()
	switch {
	case manual && s.stopped:
		s.mu.Unlock()
		return ErrSchedulerStopped
	case !manual && !s.enabledLocked(e):
		s.skipLocked(e, SkipDisabled)
		s.mu.Unlock()
		s.cfg.Logger.DebugContext(ctx, "scheduler: task skipped", "task", name, "reason", SkipDisabled)
		return nil
	case e.status.Running:
		s.skipLocked(e, SkipRunning)
		s.mu.Unlock()
		s.cfg.Logger.InfoContext(ctx, "scheduler: task skipped", "task", name, "reason", SkipRunning)
		return fmt.Errorf("%w: %s", ErrTaskRunning, name)
	}
	e.status.Running = true
	if s.inflight == 0 {
		s.idle = make(chan struct{})
	}
	s.inflight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		e.status.Running = false
		s.inflight--
		if s.inflight == 0 {
			close(s.idle)
		}
		s.mu.Unlock()
	}()

	ctx, cancel := context.WithTimeout(ctx, e.task.Timeout)
	defer cancel()
	stopHard := context.AfterFunc(s.hard, cancel)
	defer stopHard()

	lease, got, err := s.locker.TryAcquire(ctx, schedLockName(name))
	if err != nil {
		err = fmt.Errorf("taking the lock: %w", err)
		s.record(ctx, e, s.cfg.Now(), 0, err)
		return fmt.Errorf("telecart: task %s: %w", name, err)
	}
	if !got {
		s.skip(ctx, e, SkipLocked)
		return fmt.Errorf("%w: %s", ErrTaskLocked, name)
	}
	defer func() {
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := lease.Release(relCtx); err != nil {
			s.cfg.Logger.WarnContext(ctx, "scheduler: "+err.Error(), "task", name)
		}
	}()
	if !manual {
		// The lock row notes the last scheduled time run, by any replica.
		if last, err := time.Parse(time.RFC3339Nano, lease.Note()); err == nil && !last.Before(tick) {
			s.skip(ctx, e, SkipDone)
			return nil
		}
		if err := lease.SetNote(ctx, tick.UTC().Format(time.RFC3339Nano)); err != nil {
			err = fmt.Errorf("taking the lock: %w", err)
			s.record(ctx, e, s.cfg.Now(), 0, err)
			return fmt.Errorf("telecart: task %s: %w", name, err)
		}
	}
	// A lost lease (another replica took the lock over) ends the run.
	ctx, cancelRun := lease.Context(ctx)
	defer cancelRun()

	start := s.cfg.Now()
	s.cfg.Logger.DebugContext(ctx, "scheduler: task started", "task", name, "manual", manual)
	err = s.invoke(ctx, e.task)
	if lerr := lease.Err(); err != nil && lerr != nil {
		err = fmt.Errorf("%w (%w)", err, lerr)
	}
	s.record(ctx, e, start, s.cfg.Now().Sub(start), err)
	if err != nil {
		return fmt.Errorf("telecart: task %s: %w", name, err)
	}
	return nil
}

// schedPanicError is a recovered panic, recorded as "panic: <value>".
type schedPanicError struct{ value any }

func (p schedPanicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// invoke calls the task's Run, turning a panic into an error so that the
// locks are released and the scheduler keeps going.
func (s *Scheduler) invoke(ctx context.Context, t Task) (err error) {
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			if len(stack) > 4096 {
				stack = stack[:4096]
			}
			s.cfg.Logger.ErrorContext(ctx, "scheduler: task panicked", "task", t.Name, "panic", fmt.Sprint(v), "stack", string(stack))
			err = schedPanicError{v}
		}
	}()
	return t.Run(ctx)
}

// record stores the outcome of a run that started at start.
func (s *Scheduler) record(ctx context.Context, e *schedEntry, start time.Time, d time.Duration, err error) {
	start = start.UTC()
	s.mu.Lock()
	st := &e.status
	st.LastRunAt, st.LastDuration, st.LastSkipped = &start, d, ""
	st.Runs++
	st.LastStatus = "ok"
	if err != nil {
		st.LastStatus = "error"
		st.Failures++
		st.LastError = err.Error()
		end := start.Add(d)
		st.LastErrorAt = &end
	}
	s.mu.Unlock()
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "scheduler: task failed", "task", e.task.Name, "duration", d, "err", err)
		return
	}
	s.cfg.Logger.InfoContext(ctx, "scheduler: task done", "task", e.task.Name, "duration", d)
}

// skipLocked records a skipped run; s.mu must be held.
func (s *Scheduler) skipLocked(e *schedEntry, reason string) {
	now := s.cfg.Now().UTC()
	e.status.Skips++
	e.status.LastSkipped, e.status.LastSkippedAt = reason, &now
}

// skip records a run that did not happen because of the lock.
func (s *Scheduler) skip(ctx context.Context, e *schedEntry, reason string) {
	s.mu.Lock()
	s.skipLocked(e, reason)
	s.mu.Unlock()
	s.cfg.Logger.DebugContext(ctx, "scheduler: task skipped", "task", e.task.Name, "reason", reason)
}

// schedLockName is the name of a task's lock in the locks table.
func schedLockName(task string) string { return "task:" + task }

// schedTicks is a task's schedule as cron sees it. It aligns "@every"
// schedules on multiples of their period (robfig/cron counts them from
// when each process started), so that every replica fires at the same
// times, and it remembers the times it gave cron, so that a run knows
// which scheduled time it is for.
type schedTicks struct {
	cron.Schedule
	every time.Duration // an "@every" period; 0 for a cron spec

	mu     sync.Mutex
	recent [2]time.Time // the last two times Next returned, oldest first
}

func newSchedTicks(sched cron.Schedule) *schedTicks {
	t := &schedTicks{Schedule: sched}
	if cd, ok := sched.(cron.ConstantDelaySchedule); ok {
		t.every = cd.Delay
	}
	return t
}

// Next is the next scheduled time after now.
func (t *schedTicks) Next(now time.Time) time.Time {
	var n time.Time
	if t.every > 0 {
		n = now.Truncate(t.every).Add(t.every)
	} else {
		n = t.Schedule.Next(now)
	}
	t.mu.Lock()
	t.recent[0], t.recent[1] = t.recent[1], n
	t.mu.Unlock()
	return n
}

// tick is the scheduled time a run starting at now is for: the latest
// time Next returned that is not after now. cron may have asked for the
// following one already when the run starts, hence two.
func (t *schedTicks) tick(now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.recent) - 1; i >= 0; i-- {
		if r := t.recent[i]; !r.IsZero() && !r.After(now) {
			return r
		}
	}
	return now.Truncate(time.Second) // not seen: cron fires on whole seconds
}

func schedCopyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// schedSkipLogger is the logger cron.SkipIfStillRunning reports a skip to:
// it records the skip in the task's status.
type schedSkipLogger struct {
	s *Scheduler
	e *schedEntry
}

func (l schedSkipLogger) Info(msg string, kv ...any) {
	l.s.mu.Lock()
	l.s.skipLocked(l.e, SkipRunning)
	l.s.mu.Unlock()
	l.s.cfg.Logger.Info("scheduler: task skipped", "task", l.e.task.Name, "reason", SkipRunning)
}

func (l schedSkipLogger) Error(err error, msg string, kv ...any) {
	l.s.cfg.Logger.Error("scheduler: cron: "+msg, append(kv, "task", l.e.task.Name, "err", err)...)
}

// schedCronLogger routes robfig/cron's own logging to slog.
type schedCronLogger struct{ l *slog.Logger }

func (c schedCronLogger) Info(msg string, kv ...any) { c.l.Debug("scheduler: cron: "+msg, kv...) }

func (c schedCronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("scheduler: cron: "+msg, append(kv, "err", err)...)
}
