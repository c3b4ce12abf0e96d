// Command pulse-bench measures how fast the Pulse sender drains a backlog,
// and how much memory it takes doing so:
//
//	go run ./examples/pulse-bench -events 100000 -latency 20ms
//	go run ./examples/pulse-bench -events 100000 -latency 20ms -concurrency 4
//	go run ./examples/pulse-bench -events 1000000 -latency 0
//	go run ./examples/pulse-bench -db 'mysql:root@tcp(127.0.0.1:3306)/bench' -reset -events 100000
//
// It seeds the outbox with multi-row INSERTs (bypassing Track), starts the
// fake Pulse API of pulse/pulsetest in process (or uses -receiver), drains
// with the background sender (Start) or SendOnce loops, and prints the
// events, the seconds, events/s, and the peak RSS (VmHWM) of the drain. The seeding's
// rate is printed too, as a baseline of what the database does with the
// same rows without the sender.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/dbopen"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/telecart"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "pulse-bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	db          string
	events      int
	latency     time.Duration
	concurrency int
	maxConc     int
	batch       int
	mode        string
	reset       bool
	receiverURL string
	apiKey      string
	secret      string
	seedTx      int
	cpuProfile  string
	memProfile  string
}

func run(args []string) error {
	fs := flag.NewFlagSet("pulse-bench", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.db, "db", "", "database: sqlite:PATH or mysql:DSN (default: a new SQLite file in a temporary directory)")
	fs.IntVar(&o.events, "events", 100000, "events to seed and drain")
	fs.DurationVar(&o.latency, "latency", 20*time.Millisecond, "the in-process receiver's latency per request")
	fs.IntVar(&o.concurrency, "concurrency", 0, "Config.Concurrency: batches in flight (0: the default, 2)")
	fs.IntVar(&o.maxConc, "max-concurrency", 0, "Config.MaxConcurrency: how far the background sender may raise it (0: the default, 8; the -concurrency value: fixed)")
	fs.IntVar(&o.batch, "batch", 0, "Config.BatchSize: events per request (0: the default, 500)")
	fs.StringVar(&o.mode, "mode", "start", "how to drain: start (the background sender) or sendonce (SendOnce in a loop)")
	fs.BoolVar(&o.reset, "reset", false, "delete the outbox's rows first (required when it holds any)")
	fs.StringVar(&o.receiverURL, "receiver", "", "send to this Pulse API instead of an in-process receiver, e.g. a separate go run ./examples/pulse-receiver")
	fs.StringVar(&o.apiKey, "api-key", "bench-key", "API key for -receiver")
	fs.StringVar(&o.secret, "secret", "bench-secret", "signing secret for -receiver")
	fs.IntVar(&o.seedTx, "seed-tx", 50000, "rows per seeding transaction")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the drain to this file (go tool pprof -top FILE)")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile at the end of the drain to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.events < 1:
		return errors.New("-events must be positive")
	case o.mode != "start" && o.mode != "sendonce":
		return fmt.Errorf("-mode %q: want start or sendonce", o.mode)
	case o.seedTx < 1:
		return errors.New("-seed-tx must be positive")
	}
	ctx := context.Background()

	if o.db == "" {
		dir, err := os.MkdirTemp("", "pulse-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.db = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	db, err := dbopen.Open(ctx, o.db, "")
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := migrator.New(db.DB, migrator.Config{Dialect: db.Dialect, Prefix: db.Prefix, Sources: []migrator.Source{pulse.MigrationSource()}})
	if err != nil {
		return err
	}
	if _, err := m.Up(ctx); err != nil {
		return err
	}
	table := db.Table(pulse.OutboxTable)
	if o.reset {
		if _, err := db.ExecContext(ctx, "DELETE FROM "+table); err != nil {
			return fmt.Errorf("clearing %s: %w", table, err)
		}
	}
	var rows int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&rows); err != nil {
		return err
	}
	if rows > 0 {
		return fmt.Errorf("%s holds %d rows; pass -reset to delete them, or use another database", table, rows)
	}

	// The receiver: in process unless -receiver names one.
	url := o.receiverURL
	var rv *pulsetest.Receiver
	if url == "" {
		o.apiKey, o.secret = "bench-key", "bench-secret"
		// MaxRecorded -1: the peak RSS measured includes the receiver,
		// which then holds key hashes alone, not a million events.
		if rv, err = pulsetest.New(pulsetest.Config{APIKey: o.apiKey, Secret: o.secret, MaxRecorded: -1}); err != nil {
			return err
		}
		defer rv.Close()
		if err := rv.SetFaults(pulsetest.Faults{Latency: o.latency}); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := telecart.NewHTTPServer(telecart.HTTPServerConfig{Handler: rv})
		go srv.Serve(ln)
		defer srv.Close()
		url = "http://" + ln.Addr().String()
	}

	cfg := pulse.Config{
		URL: url, APIKey: o.apiKey, Secret: o.secret,
		Concurrency: o.concurrency, MaxConcurrency: o.maxConc, BatchSize: o.batch,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	p, err := pulse.New(db, cfg)
	if err != nil {
		return err
	}
	latency := o.latency.String()
	if o.receiverURL != "" {
		latency = "that of " + o.receiverURL
	}
	fmt.Printf("db %s; %d events; batch %d; concurrency %d; latency %s; mode %s; %s, GOMAXPROCS %d\n",
		db.Dialect, o.events, orDefault(o.batch, pulse.BatchSizeDefault), orDefault(o.concurrency, pulse.ConcurrencyDefault),
		latency, o.mode, runtime.Version(), runtime.GOMAXPROCS(0))

	// Seed, then forget the seeding's memory, so that the peak measured
	// next is the drain's.
	start := time.Now()
	if err := seed(ctx, db, o.events, o.seedTx); err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Printf("seed:  %d rows in %.2fs = %.0f rows/s (multi-row INSERTs, %d rows per transaction); peak RSS %s\n",
		o.events, took.Seconds(), float64(o.events)/took.Seconds(), min(o.seedTx, o.events), peakRSS())
	runtime.GC()
	debug.FreeOSMemory()
	resetNote := ""
	if err := resetPeakRSS(); err != nil {
		resetNote = " (seeding included: " + err.Error() + ")"
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start = time.Now()
	err = drain(ctx, p, db, o.mode)
	took = time.Since(start)
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return err
		}
	}
	fmt.Printf("drain: %d events in %.2fs = %.0f events/s; peak RSS %s%s\n",
		o.events, took.Seconds(), float64(o.events)/took.Seconds(), peakRSS(), resetNote)

	c, err := p.Counts(ctx)
	if err != nil {
		return err
	}
	check := fmt.Sprintf("outbox %+v", c)
	if rv != nil {
		st := rv.Stats()
		check += fmt.Sprintf("; receiver %d unique of %d received in %d requests", st.Unique, st.Received, st.Requests)
		if st.Unique != int64(o.events) {
			return fmt.Errorf("%s: want %d unique", check, o.events)
		}
	}
	if c.Sent != int64(o.events) {
		return fmt.Errorf("%s: want %d sent", check, o.events)
	}
	fmt.Println("check: " + check)
	return nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// seed stores n due events with multi-row INSERTs, perTx rows per
// transaction.
func seed(ctx context.Context, db migrator.DB, n, perTx int) error {
	const rowsPerInsert = 500 // 5,000 placeholders: within both engines' limits
	d := db.Dialect
	at := d.EncodeTime(time.Now().Add(-time.Second))
	payload, err := json.Marshal(map[string]any{"product_id": 42, "price": 1990, "currency": "RUB"}) // PRODUCT_VIEW's fields only
	if err != nil {
		return err
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for lo := 0; lo < n; lo += perTx {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for i := lo; i < min(lo+perTx, n); i += rowsPerInsert {
			ins := d.Builder().Insert(db.Table(pulse.OutboxTable)).
				Columns("idempotency_key", "event", "campaign_id", "tracking_id", "payload", "status",
					"attempts", "next_attempt_at", "occurred_at", "created_at")
			for j := i; j < min(i+rowsPerInsert, lo+perTx, n); j++ {
				ins = ins.Values("bench-"+run+"-"+strconv.Itoa(j), pulse.EventProductView, "spring24", "trk-7f1c2b9e",
					string(payload), pulse.StatusPending, 0, at, at, at)
			}
			if _, err := ins.RunWith(tx).ExecContext(ctx); err != nil {
				tx.Rollback()
				return fmt.Errorf("seeding: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("seeding: %w", err)
		}
	}
	return nil
}

// drain delivers every due event: with the background sender (Start,
// then waiting until nothing is pending or sending), or with SendOnce until
// it finds nothing due.
func drain(ctx context.Context, p *pulse.Pulse, db migrator.DB, mode string) error {
	if mode == "sendonce" {
		for {
			rep, err := p.SendOnce(ctx)
			if err != nil {
				return fmt.Errorf("SendOnce: %w (report %+v)", err, rep)
			}
			if rep.Claimed == 0 {
				return nil
			}
		}
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = p.Stop(stopCtx)
	}()
	// One index probe per look: counting a million rows would compete
	// with the sender for SQLite's single connection.
	q := "SELECT COUNT(*) FROM (SELECT 1 FROM " + db.Table(pulse.OutboxTable) + " WHERE status IN (?, ?) LIMIT 1) t"
	for {
		var left int
		if err := db.QueryRowContext(ctx, q, pulse.StatusPending, pulse.StatusSending).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
		if st := p.State(); st.LastError != "" {
			return fmt.Errorf("sender: %s", st.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peakRSS returns VmHWM from /proc/self/status, e.g. "41.3 MB", or why
// not.
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown (no /proc/self/status)"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return strings.TrimSpace(v)
			}
			return fmt.Sprintf("%.1f MB", float64(kb)/1000)
		}
	}
	return "unknown (no VmHWM)"
}

// resetPeakRSS resets VmHWM to the current RSS (Linux 4.0+).
func resetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
