// Command shop is the TeleCart demo server: a small shop with its own
// catalog and order tables, wired with the TeleCart plugin, on SQLite by
// default. See the flags in ../../README.md or run it with -h.
//
//	go run ./examples/shop                       # serve
//	go run ./examples/shop migrate status        # operator commands
//	go run ./examples/shop migrate up
//	go run ./examples/shop pulse send
//	go run ./examples/shop schedule list
//	go run ./examples/shop schedule run NAME
//	go run ./examples/shop customers recount
//	go run ./examples/shop bot webhook set|delete|info
//	go run ./examples/shop bot menu-button set
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/telecart"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, rest, err := server.ParseFlags(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "shop: %v\n%s\n", err, usage)
		return 2
	}
	cfg.Stdout = stdout
	if len(rest) > 0 {
		// Operator commands log to the file only, keeping stdout for answers.
		cfg.Stdout = io.Discard
		if err := command(ctx, cfg, rest, stdout); err != nil {
			fmt.Fprintf(stderr, "shop: %v\n", err)
			return 1
		}
		return 0
	}
	if err := serve(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "shop: %v\n", err)
		return 1
	}
	return 0
}

const usage = `usage: shop [flags] [command]

flags (each also read from its variable; the flag wins):
  -addr ADDR               TELECART_ADDR               listen address (127.0.0.1:8080)
  -db DSN                  TELECART_DB                 sqlite:PATH, sqlite::memory: or mysql:DSN (sqlite:telecart-demo.db)
  -bot-token T             TELECART_BOT_TOKEN          Telegram bot token (a random demo token, printed)
  -admin-token T           TELECART_ADMIN_TOKEN        admin API token (random, printed)
  -pulse-url URL           TELECART_PULSE_URL          Pulse API (the built-in reference receiver)
  -pulse-api-key K         TELECART_PULSE_API_KEY      Pulse API key, also the ETL key (random, printed)
  -pulse-secret S          TELECART_PULSE_SECRET       Pulse signing secret (random)
  -owner-chat ID           TELECART_OWNER_CHAT chat receiving new-order notices (CHAT_ID or CHAT_ID:THREAD_ID)
  -start-param-secret S    TELECART_START_PARAM_SECRET signs campaign links (generated once, kept in the database)
  -dev[=false]             TELECART_DEV                sign a demo buyer's initData for plain browsers (on for a
                                                       loopback -addr with the generated bot token; loopback only)
  -demo-activity           TELECART_DEMO_ACTIVITY      fill an empty database with a month of demo life (off)
  -pulse-retry-base D      TELECART_PULSE_RETRY_BASE   first retry delay (1s)
  -pulse-retry-max D       TELECART_PULSE_RETRY_MAX    longest retry delay (5m)
  -pulse-max-attempts N    TELECART_PULSE_MAX_ATTEMPTS attempts before an event fails (20)
  -pulse-lease D           TELECART_PULSE_LEASE        lease on a claimed batch (1m)
  -log-file PATH           TELECART_LOG_FILE           JSON log file (telecart-demo.log beside the database)
  -ingest-rate N           TELECART_INGEST_RATE        client events per customer per minute on /api/ingest (300)
  -public-url URL          TELECART_PUBLIC_URL         the shop's public base URL for the bot's buttons and webhook (http://{addr})
  -bot-api-url URL         TELECART_BOT_API_URL        Telegram's Bot API (https://api.telegram.org)
  -bot-updates MODE        TELECART_BOT_UPDATES        Telegram updates: off, poll (getUpdates) or webhook (off)
  -read-timeout D          TELECART_READ_TIMEOUT       longest time to read a request, body included (30s)
  -write-timeout D         TELECART_WRITE_TIMEOUT      longest time to write an answer (1m)
  -idle-timeout D          TELECART_IDLE_TIMEOUT       longest idle keep-alive (1m)

commands (none: serve):
  migrate status | migrate up
  pulse send
  schedule list | schedule run NAME
  customers recount
  bot webhook set | bot webhook delete | bot webhook info
  bot menu-button set`

func serve(ctx context.Context, cfg server.Config) error {
	s, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = s.Stop(context.Background())
		return err
	}
	srv := telecart.NewHTTPServer(telecart.HTTPServerConfig{Handler: s.Handler(), Logger: s.Logger,
		ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// Listen first so /healthz can say "starting" while migrations run.
	if err := s.Start(ctx); err != nil {
		_ = srv.Close()
		_ = s.Stop(context.Background())
		return err
	}
	s.PrintBanner("http://" + ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-errc:
		_ = s.Stop(context.Background())
		return err
	}
	s.Logger.Info("shop: stopping")
	stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(stopCtx), s.Stop(stopCtx))
}

func command(ctx context.Context, cfg server.Config, args []string, out io.Writer) error {
	s, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Stop(context.Background())
	tc := s.TeleCart
	name := strings.Join(args, " ")
	switch {
	case name == "migrate status":
		m, err := tc.Migrator()
		if err != nil {
			return err
		}
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "MIGRATION\tSTATE\tBATCH\tEXECUTED AT")
		for _, m := range st {
			at := ""
			if m.ExecutedAt != nil {
				at = m.ExecutedAt.Format(time.RFC3339Nano)
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", m.Name, m.State, m.Batch, at)
		}
		return w.Flush()
	case name == "migrate up":
		m, err := tc.Migrator()
		if err != nil {
			return err
		}
		applied, err := m.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "applied %d migrations\n", len(applied))
		for _, a := range applied {
			fmt.Fprintln(out, "  "+a)
		}
		return nil
	case name == "pulse send":
		if err := tc.Migrate(ctx); err != nil {
			return err
		}
		var total int
		for {
			rep, err := tc.Pulse().SendOnce(ctx)
			if err != nil {
				return err
			}
			total += rep.Sent
			fmt.Fprintf(out, "\rpulse send: claimed %d, sent %d, retried %d, failed %d (sent so far %d)",
				rep.Claimed, rep.Sent, rep.Retried, rep.Failed, total)
			if rep.Claimed == 0 {
				fmt.Fprintln(out)
				return nil
			}
		}
	case name == "schedule list":
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "TASK\tSCHEDULE\tENABLED")
		for _, t := range tc.Scheduler().Tasks() {
			fmt.Fprintf(w, "%s\t%s\t%v\n", t.Name, t.Schedule, t.Enabled)
		}
		return w.Flush()
	case len(args) == 3 && args[0] == "schedule" && args[1] == "run":
		if err := tc.Migrate(ctx); err != nil {
			return err
		}
		start := time.Now()
		if err := tc.Scheduler().RunNow(ctx, args[2]); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s done in %s\n", args[2], time.Since(start).Round(time.Millisecond))
		return nil
	case name == "customers recount":
		if err := tc.Migrate(ctx); err != nil {
			return err
		}
		n, err := tc.RecountCustomers(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "customers recount: %d changed\n", n)
		return nil
	case strings.HasPrefix(name, "bot "):
		return botCommand(ctx, tc, name, out)
	default:
		return fmt.Errorf("unknown command %q\n%s", name, usage)
	}
}

// botCommand runs the bot's operator commands.
func botCommand(ctx context.Context, tc *telecart.TeleCart, name string, out io.Writer) error {
	switch name {
	case "bot webhook set":
		if err := tc.Migrate(ctx); err != nil {
			return err
		}
		if err := tc.BotWebhookSet(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "bot webhook set: Telegram now POSTs updates to the shop's /telegram/webhook")
		return nil
	case "bot webhook delete":
		if err := tc.BotWebhookDelete(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "bot webhook delete: no webhook; the bot takes getUpdates (-bot-updates poll)")
		return nil
	case "bot webhook info":
		info, err := tc.BotWebhookInfo(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		url := info.URL
		if url == "" {
			url = "(none: getUpdates)"
		}
		fmt.Fprintf(w, "url\t%s\n", url)
		fmt.Fprintf(w, "pending updates\t%d\n", info.PendingUpdateCount)
		fmt.Fprintf(w, "allowed updates\t%s\n", strings.Join(info.AllowedUpdates, ", "))
		if info.LastErrorDate > 0 {
			fmt.Fprintf(w, "last error\t%s: %s\n", time.Unix(info.LastErrorDate, 0).UTC().Format(time.RFC3339), info.LastErrorMessage)
		}
		return w.Flush()
	case "bot menu-button set":
		if err := tc.BotMenuButtonSet(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "bot menu-button set: the chat menu button opens the storefront")
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", name, usage)
	}
}
