// Command pulse-receiver runs the fake Pulse API of pulse/pulsetest
// (docs/pulse-protocol.md) as a server of its own, with optional injected
// faults:
//
//	go run ./examples/pulse-receiver -addr 127.0.0.1:9090 -api-key k -secret s
//	go run ./examples/pulse-receiver -api-key k -secret s -error-rate 0.2 -too-many-rate 0.1 -retry-after 2s
//
// It serves POST /v1/events and GET /stats, and stops gracefully on SIGINT
// or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/telecart"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "pulse-receiver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pulse-receiver", flag.ContinueOnError)
	var (
		addr    = fs.String("addr", "127.0.0.1:9090", "listen address")
		apiKey  = fs.String("api-key", os.Getenv("PULSE_API_KEY"), "expected Bearer API key (default $PULSE_API_KEY)")
		secret  = fs.String("secret", os.Getenv("PULSE_SECRET"), "shared signing secret (default $PULSE_SECRET)")
		maxBody = fs.Int64("max-body", pulsetest.MaxBodyDefault, "largest request body in bytes; larger gets 413")
		window  = fs.Duration("window", 0, "allowed clock skew of X-Pulse-Timestamp (0: the library default, 300s)")
		seed    = fs.Uint64("seed", 0, "seed of the random source deciding the rate faults")
		verbose = fs.Bool("v", false, "log every request")

		f               pulsetest.Faults
		outageAfter     = fs.Duration("outage-after", 0, "start an outage (503) this long after start-up (with -outage-for)")
		outageFor       = fs.Duration("outage-for", 0, "length of the outage window; 0: no window")
		rejectPattern   = fs.String("reject-pattern", "", "regexp on idempotency_key or payload: matching events are answered \"rejected\"")
		badBatchPattern = fs.String("bad-batch-pattern", "", "regexp on idempotency_key or payload: a batch holding a matching event gets 400")
	)
	fs.DurationVar(&f.Latency, "latency", 0, "delay before answering each request")
	fs.BoolVar(&f.Outage, "outage", false, "answer 503 to every request")
	fs.BoolVar(&f.Unauthorized, "unauthorized", false, "answer 401 to every request")
	fs.Float64Var(&f.ErrorRate, "error-rate", 0, "fraction of requests answered 500/502/503")
	fs.Float64Var(&f.TooManyRate, "too-many-rate", 0, "fraction of requests answered 429")
	fs.DurationVar(&f.RetryAfter, "retry-after", 0, "Retry-After sent with 429 and outage 503 answers")
	fs.BoolVar(&f.RetryAfterDate, "retry-after-date", false, "send Retry-After as an HTTP date instead of seconds")
	fs.Float64Var(&f.TimeoutRate, "timeout-rate", 0, "fraction of batches recorded but never answered (hang until the client gives up)")
	fs.Float64Var(&f.DropRate, "drop-rate", 0, "fraction of batches recorded, then the connection closed without an answer")
	fs.IntVar(&f.MaxEvents, "max-events", 0, "answer 413 to batches of more events (0: no limit)")
	fs.BoolVar(&f.RejectAll400, "reject-all-400", false, "answer 400 to every batch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	var err error
	if f.RejectPattern, err = compileOptional("reject-pattern", *rejectPattern); err != nil {
		return err
	}
	if f.BadBatchPattern, err = compileOptional("bad-batch-pattern", *badBatchPattern); err != nil {
		return err
	}
	if *outageFor > 0 {
		f.OutageStart = time.Now().Add(*outageAfter)
		f.OutageEnd = f.OutageStart.Add(*outageFor)
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	rv, err := pulsetest.New(pulsetest.Config{
		APIKey:  *apiKey,
		Secret:  *secret,
		Logger:  logger,
		MaxBody: *maxBody,
		Window:  *window,
		Seed:    *seed,
		// Nothing reads the events back, and a load run sends millions:
		// dedupe by key hashes alone.
		MaxRecorded: -1,
	})
	if err != nil {
		return fmt.Errorf("%w (flags -api-key and -secret)", err)
	}
	if err := rv.SetFaults(f); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := telecart.NewHTTPServer(telecart.HTTPServerConfig{Handler: rv})
	logger.Info("pulse-receiver listening", "url", "http://"+ln.Addr().String(), "routes", "POST /v1/events, GET /stats")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process
	logger.Info("pulse-receiver stopping")
	_ = rv.Close() // release requests held by the timeout fault
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	st := rv.Stats()
	logger.Info("pulse-receiver stopped", "requests", st.Requests, "batches", st.Batches, "received", st.Received, "unique", st.Unique, "duplicates", st.Duplicates, "rejected", st.Rejected)
	return nil
}

func compileOptional(flagName, expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("-%s: %w", flagName, err)
	}
	return re, nil
}
