package pulse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/telecart-go/telecart/migrator"
)

// StatsTTLDefault is how long a StatsCache keeps the counts it read.
const StatsTTLDefault = time.Hour

// Bounds of Hourly.
const (
	// HourlyBucketsDefault is how many hours Hourly covers for a zero since:
	// the current hour and the 23 before it.
	HourlyBucketsDefault = 24
	// HourlyBucketsMax is the longest range Hourly answers (31 days).
	HourlyBucketsMax = 31 * 24
)

// Stats is the state of the outbox for the admin dashboard and health
// checks. The counts and the last failed event are read from the database
// at ComputedAt and may be up to the cache's TTL old; everything else is
// live, so that an outage never hides behind the cache.
type Stats struct {
	// Rows by status, as of ComputedAt.
	Pending int64 `json:"pending"`
	Sending int64 `json:"sending"`
	Sent    int64 `json:"sent"`
	Failed  int64 `json:"failed"`

	// OldestPendingAgeSeconds is the age of the oldest event not yet
	// delivered (pending or sending), 0 when none; always live. It grows
	// during an outage however many events wait: the number to alert on.
	OldestPendingAgeSeconds float64 `json:"oldest_pending_age_seconds"`

	// LastError is the newest of the reason of the newest failed event (as
	// of ComputedAt) and the sender's live last error; "" when neither.
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`

	// The live state of this process's sender (see SenderState).
	Configured  bool       `json:"configured"`
	Running     bool       `json:"running"`
	AuthFailing bool       `json:"auth_failing"`
	PausedUntil *time.Time `json:"paused_until"`

	// Dropped counts the events Track dropped in this process (see
	// Pulse.Dropped); live.
	Dropped int64 `json:"dropped"`

	// ConflictsRetried counts the claims and delivery records this
	// process ran again after a conflict with another sender (see
	// Pulse.ConflictsRetried); live.
	ConflictsRetried int64 `json:"conflicts_retried"`

	// ComputedAt is when the counts were read, so the UI can say "as of".
	ComputedAt time.Time `json:"computed_at"`
}

// HourBucket is one UTC hour of Hourly.
type HourBucket struct {
	Hour   time.Time `json:"hour"`   // the start of the hour, UTC
	Sent   int64     `json:"sent"`   // events sent in the hour, by sent_at
	Failed int64     `json:"failed"` // events marked failed in the hour (see Hourly)
}

// StatsCache serves Stats with the expensive part (counting every row)
// cached for a TTL: the dashboard is opened often, the outbox may hold
// millions of rows. The age of the oldest pending event and the sender's
// state are read on every call. Safe for concurrent use.
type StatsCache struct {
	p   *Pulse
	ttl time.Duration
	now func() time.Time

	refreshMu sync.Mutex // one refresh at a time: no stampede when the TTL runs out

	mu     sync.Mutex
	gen    uint64 // bumped by Invalidate, so a refresh begun before it is not kept
	snap   *statsSnapshot
	hourly map[hourlyKey]hourlyEntry
}

// statsSnapshot is the cached, database-wide part of Stats.
type statsSnapshot struct {
	counts      Counts
	lastError   string
	lastErrorAt *time.Time
	at          time.Time
}

// hourlyKey is the range of hours of an Hourly answer, [from, to), in Unix
// seconds (time.Time values are poor map keys).
type hourlyKey struct{ from, to int64 }

type hourlyEntry struct {
	buckets []HourBucket
	at      time.Time
}

// hourlyCacheMax bounds the cached Hourly ranges (a dashboard asks for one
// or two); the cache starts over when it is full.
const hourlyCacheMax = 8

// StatsCacheConfig configures a StatsCache.
type StatsCacheConfig struct {
	// Pulse is the outbox whose stats are cached. Required.
	Pulse *Pulse
	// TTL is how long counts are kept. Defaults to StatsTTLDefault (1h).
	TTL time.Duration
	// Now is the clock of the TTL and of ComputedAt. Defaults to the
	// Pulse's Config.Now.
	Now func() time.Time
}

// NewStatsCache returns a cache of cfg.Pulse's stats, or an error naming
// the field to fix.
func NewStatsCache(cfg StatsCacheConfig) (*StatsCache, error) {
	switch {
	case cfg.Pulse == nil:
		return nil, errors.New("pulse: StatsCacheConfig.Pulse is nil; pass the Pulse made by pulse.New")
	case cfg.TTL < 0:
		return nil, fmt.Errorf("pulse: StatsCacheConfig.TTL must not be negative, got %s", cfg.TTL)
	}
	if cfg.TTL == 0 {
		cfg.TTL = StatsTTLDefault
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Pulse.cfg.Now
	}
	return &StatsCache{p: cfg.Pulse, ttl: cfg.TTL, now: cfg.Now}, nil
}

// TTL returns how long the cache keeps counts.
func (c *StatsCache) TTL() time.Duration { return c.ttl }

// Invalidate drops the cached counts and hourly buckets; the next call reads
// them again. Admin actions that change statuses call it.
func (c *StatsCache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.snap, c.hourly = nil, nil
}

// Stats returns the outbox stats: the counts and the last failed event from
// the cache, read again when older than the TTL or when fresh is true (the
// admin's refresh button, which also drops the cached hourly buckets); the
// oldest pending age, the sender's state and its last error always live.
func (c *StatsCache) Stats(ctx context.Context, fresh bool) (Stats, error) {
	snap, err := c.snapshot(ctx, fresh)
	if err != nil {
		return Stats{}, err
	}
	age, err := c.p.OldestPending(ctx)
	if err != nil {
		return Stats{}, err
	}
	return c.p.assembleStats(snap, age), nil
}

// Stats returns the outbox stats read from the database now, without a
// cache: for health checks and tests. Counting every row is not cheap on a
// large outbox; the dashboard uses a StatsCache.
func (p *Pulse) Stats(ctx context.Context) (Stats, error) {
	snap, err := p.readSnapshot(ctx, p.cfg.Now)
	if err != nil {
		return Stats{}, err
	}
	age, err := p.OldestPending(ctx)
	if err != nil {
		return Stats{}, err
	}
	return p.assembleStats(snap, age), nil
}

// assembleStats merges a snapshot with what is always live.
func (p *Pulse) assembleStats(snap *statsSnapshot, age time.Duration) Stats {
	st := Stats{
		Pending: snap.counts.Pending, Sending: snap.counts.Sending,
		Sent: snap.counts.Sent, Failed: snap.counts.Failed,
		OldestPendingAgeSeconds: age.Round(time.Millisecond).Seconds(),
		LastError:               snap.lastError,
		Dropped:                 p.Dropped(),
		ConflictsRetried:        p.ConflictsRetried(),
		ComputedAt:              snap.at,
	}
	if snap.lastErrorAt != nil {
		at := *snap.lastErrorAt // a copy: the snapshot is shared
		st.LastErrorAt = &at
	}
	live := p.State()
	// The sender's own error (an outage, refused credentials) is usually
	// newer than any failed event: show it at once, not after the TTL.
	if live.LastError != "" && (st.LastErrorAt == nil || live.LastErrorAt.After(*st.LastErrorAt)) {
		at := live.LastErrorAt.UTC()
		st.LastError, st.LastErrorAt = live.LastError, &at
	}
	st.Configured, st.Running, st.AuthFailing = live.Configured, live.Running, live.AuthFailing
	if !live.PausedUntil.IsZero() {
		until := live.PausedUntil.UTC()
		st.PausedUntil = &until
	}
	return st
}

// snapshot returns the cached snapshot, reading a new one when there is
// none, it is older than the TTL, or fresh is set.
func (c *StatsCache) snapshot(ctx context.Context, fresh bool) (*statsSnapshot, error) {
	if !fresh {
		if s := c.valid(); s != nil {
			return s, nil
		}
	}
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	if !fresh {
		if s := c.valid(); s != nil { // refreshed while this call waited
			return s, nil
		}
	}
	c.mu.Lock()
	gen := c.gen
	if fresh {
		c.hourly = nil
	}
	c.mu.Unlock()
	s, err := c.p.readSnapshot(ctx, c.now)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.snap = s
	}
	c.mu.Unlock()
	return s, nil
}

// valid returns the cached snapshot while it is younger than the TTL.
func (c *StatsCache) valid() *statsSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != nil && c.now().Sub(c.snap.at) < c.ttl {
		return c.snap
	}
	return nil
}

// readSnapshot reads the counts and the newest failed event.
func (p *Pulse) readSnapshot(ctx context.Context, now func() time.Time) (*statsSnapshot, error) {
	at := now().UTC()
	counts, err := p.Counts(ctx)
	if err != nil {
		return nil, err
	}
	s := &statsSnapshot{counts: counts, at: at}
	// A failed row keeps next_attempt_at from its final attempt: the
	// newest failure is the last row of the claim index's failed range.
	q := "SELECT last_error, next_attempt_at FROM " + p.table +
		" WHERE status = ? ORDER BY next_attempt_at DESC, id DESC LIMIT 1"
	var (
		reason sql.NullString
		failed time.Time
	)
	err = p.db.QueryRowContext(ctx, q, StatusFailed).Scan(&reason, migrator.ScanTime(&failed))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("pulse: reading the last failed event: %w", err)
	default:
		s.lastError, s.lastErrorAt = reason.String, &failed
	}
	return s, nil
}

// Hourly returns the events sent and failed per UTC hour, oldest first, one
// bucket for every hour from the one that holds since through the current
// one (zero-filled); a zero since means the last HourlyBucketsDefault (24)
// hours, the current one included. A since more than HourlyBucketsMax hours
// back is an error. The buckets are cached like the counts, for the TTL,
// and dropped by Invalidate and by Stats with fresh.
//
// Sent events count in the hour of their sent_at. The outbox has no column
// for when an event failed; a failed row keeps the next_attempt_at of its
// final attempt, which is when that attempt fell due (at most a claim's
// delay before the failure, and created_at for an event failed at its first
// attempt), so failed events count in the hour of next_attempt_at.
func (c *StatsCache) Hourly(ctx context.Context, since time.Time) ([]HourBucket, error) {
	now := c.now().UTC()
	to := now.Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-HourlyBucketsDefault * time.Hour)
	if !since.IsZero() {
		from = since.UTC().Truncate(time.Hour)
	}
	n := int(to.Sub(from) / time.Hour)
	switch {
	case n <= 0:
		return []HourBucket{}, nil
	case n > HourlyBucketsMax:
		return nil, fmt.Errorf("pulse: Hourly covers at most %d hours; since %s is %d hours back", HourlyBucketsMax, since.UTC().Format(time.RFC3339), n)
	}

	key := hourlyKey{from.Unix(), to.Unix()}
	c.mu.Lock()
	if h, ok := c.hourly[key]; ok && now.Sub(h.at) < c.ttl {
		c.mu.Unlock()
		return append([]HourBucket(nil), h.buckets...), nil
	}
	gen := c.gen
	c.mu.Unlock()

	buckets, err := c.p.hourly(ctx, from, n)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.hourly == nil || len(c.hourly) >= hourlyCacheMax {
			c.hourly = map[hourlyKey]hourlyEntry{}
		}
		c.hourly[key] = hourlyEntry{buckets: buckets, at: now}
	}
	c.mu.Unlock()
	return append([]HourBucket(nil), buckets...), nil
}

// hourly counts sent and failed events in the n hours from from.
func (p *Pulse) hourly(ctx context.Context, from time.Time, n int) ([]HourBucket, error) {
	buckets := make([]HourBucket, n)
	for i := range buckets {
		buckets[i].Hour = from.Add(time.Duration(i) * time.Hour)
	}
	to := from.Add(time.Duration(n) * time.Hour)
	for _, s := range []struct {
		status, column string
		add            func(b *HourBucket, n int64)
	}{
		{StatusSent, "sent_at", func(b *HourBucket, n int64) { b.Sent += n }},
		{StatusFailed, "next_attempt_at", func(b *HourBucket, n int64) { b.Failed += n }},
	} {
		// Both expressions give "YYYY-MM-DD HH" in UTC: MySQL DATETIME
		// values are stored in UTC and DATE_FORMAT converts nothing;
		// SQLite stores EncodeTime's fixed-width text.
		hour := "substr(" + s.column + ", 1, 13)"
		if p.db.Dialect == migrator.MySQL {
			hour = "DATE_FORMAT(" + s.column + ", '%Y-%m-%d %H')"
		}
		q := "SELECT " + hour + ", COUNT(*) FROM " + p.table +
			" WHERE status = ? AND " + s.column + " >= ? AND " + s.column + " < ? GROUP BY " + hour
		rows, err := p.db.QueryContext(ctx, q, s.status, p.db.Dialect.EncodeTime(from), p.db.Dialect.EncodeTime(to))
		if err != nil {
			return nil, fmt.Errorf("pulse: counting %s events per hour: %w", s.status, err)
		}
		for rows.Next() {
			var (
				label string
				count int64
			)
			if err := rows.Scan(&label, &count); err != nil {
				rows.Close()
				return nil, fmt.Errorf("pulse: counting %s events per hour: %w", s.status, err)
			}
			h, err := time.ParseInLocation("2006-01-02 15", label, time.UTC)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("pulse: counting %s events per hour: unexpected hour %q", s.status, label)
			}
			if i := int(h.Sub(from) / time.Hour); i >= 0 && i < n {
				s.add(&buckets[i], count)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("pulse: counting %s events per hour: %w", s.status, err)
		}
	}
	return buckets, nil
}
