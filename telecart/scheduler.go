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
	// SkipLocked: another replica holds the task's lock (MySQL only).
	SkipLocked = "locked by another replica"
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
	// DB holds the tasks' locks on MySQL (GET_LOCK, scoped to the database
	// and DB.Prefix). On SQLite it is only checked at Start. Required.
	DB migrator.DB
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
// previous one is still going, and on MySQL a run takes a named lock
// (GET_LOCK on a pinned connection) so that only one replica runs a task at a
// time; the others skip it. SQLite deployments are single-replica, so there
// the in-process guard is the only one. A task that fails or panics is
// recorded and the scheduler goes on.
//
// The settings' disabled_tasks reach the scheduler through SetDisabled and
// apply from the next run, without a restart.
type Scheduler struct {
	cfg  SchedulerConfig
	cron *cron.Cron
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
	id     cron.EntryID
	status TaskStatus
}

// NewScheduler returns a scheduler with no tasks; Register them, then Start.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Scheduler{
		cfg:      cfg,
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
	e := &schedEntry{task: t, status: TaskStatus{Name: t.Name, Schedule: t.Schedule}}
	// SkipIfStillRunning keeps cron from stacking up runs of a slow task;
	// run() repeats the check so that RunNow and cron never overlap either.
	job := cron.NewChain(cron.SkipIfStillRunning(schedSkipLogger{s, e})).Then(cron.FuncJob(func() {
		_ = s.run(s.baseContext(), e, false)
	}))
	// cron.Schedule does not block on the scheduler's loop, so holding mu
	// here is safe.
	e.id = s.cron.Schedule(sched, job)
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
	return s.run(ctx, e, true)
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

// run is one attempt at running e: from cron (manual false) or from RunNow.
// It never panics.
func (s *Scheduler) run(ctx context.Context, e *schedEntry, manual bool) error {
	name := e.task.Name
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

	if s.cfg.DB.Dialect == migrator.MySQL {
		release, got, err := s.lockMySQL(ctx, name)
		if err != nil {
			err = fmt.Errorf("taking the lock: %w", err)
			s.record(ctx, e, s.cfg.Now(), 0, err)
			return fmt.Errorf("telecart: task %s: %w", name, err)
		}
		if !got {
			s.mu.Lock()
			s.skipLocked(e, SkipLocked)
			s.mu.Unlock()
			s.cfg.Logger.DebugContext(ctx, "scheduler: task skipped", "task", name, "reason", SkipLocked)
			return fmt.Errorf("%w: %s", ErrTaskLocked, name)
		}
		defer release()
	}

	start := s.cfg.Now()
	s.cfg.Logger.DebugContext(ctx, "scheduler: task started", "task", name, "manual", manual)
	err := s.invoke(ctx, e.task)
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

// lockMySQL tries GET_LOCK for the task without waiting, on a connection
// pinned for the run: the lock belongs to the session, and dies with it if
// the process does. release gives it back and returns the connection.
func (s *Scheduler) lockMySQL(ctx context.Context, task string) (release func(), got bool, err error) {
	conn, err := s.cfg.DB.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	unlock, _, ok, err := migrator.MySQLLock(ctx, conn, "telecart_task", s.cfg.DB.Prefix+":"+task, 0)
	if err != nil || !ok {
		conn.Close()
		return nil, false, err
	}
	return func() {
		unlock()
		conn.Close()
	}, true, nil
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
