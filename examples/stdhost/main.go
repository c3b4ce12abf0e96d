// Command stdhost is a second example host: a small shop on the standard
// library alone (net/http and http.ServeMux), with its own routes, its own
// admin login and its own products and orders tables, that mounts TeleCart
// under /telecart/ and lets its own login guard TeleCart's admin panel. See
// package host for what it demonstrates.
//
//	go run ./examples/stdhost                      # SQLite in telecart-stdhost.db
//	go run ./examples/stdhost -db 'mysql:root@tcp(127.0.0.1:3306)/test'
//	go run ./examples/stdhost -admin-password secret -pulse-url http://127.0.0.1:9090 -pulse-api-key k -pulse-secret s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/telecart-go/telecart/examples/stdhost/host"
	"github.com/telecart-go/telecart/telecart"
)

// Defaults of the flags.
const (
	AddrDefault = "127.0.0.1:8081"
	DBDefault   = "sqlite:telecart-stdhost.db"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `usage: stdhost [flags]

flags (each also read from its variable; the flag wins):
  -addr ADDR           STDHOST_ADDR            listen address (127.0.0.1:8081)
  -db DSN              STDHOST_DB              sqlite:PATH or mysql:DSN (sqlite:telecart-stdhost.db)
  -bot-token T         STDHOST_BOT_TOKEN       Telegram bot token (a random demo token, printed)
  -admin-user U        STDHOST_ADMIN_USER      the shop admin's username (admin)
  -admin-password P    STDHOST_ADMIN_PASSWORD  the shop admin's password (random, printed)
  -pulse-url URL       STDHOST_PULSE_URL       Pulse API (none: Pulse off)
  -pulse-api-key K     STDHOST_PULSE_API_KEY   Pulse API key
  -pulse-secret S      STDHOST_PULSE_SECRET    Pulse signing secret`

// options are the parsed flags.
type options struct {
	addr string
	host host.Config
}

// parseFlags reads the flags in args, each falling back to its environment
// variable and then to its default.
func parseFlags(args []string, getenv func(string) string) (options, error) {
	fs := flag.NewFlagSet("stdhost", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var o options
	fs.StringVar(&o.addr, "addr", env("STDHOST_ADDR", AddrDefault), "listen address")
	fs.StringVar(&o.host.DB, "db", env("STDHOST_DB", DBDefault), "database")
	fs.StringVar(&o.host.BotToken, "bot-token", env("STDHOST_BOT_TOKEN", ""), "Telegram bot token")
	fs.StringVar(&o.host.AdminUser, "admin-user", env("STDHOST_ADMIN_USER", host.AdminUserDefault), "admin username")
	fs.StringVar(&o.host.AdminPassword, "admin-password", env("STDHOST_ADMIN_PASSWORD", ""), "admin password")
	fs.StringVar(&o.host.PulseURL, "pulse-url", env("STDHOST_PULSE_URL", ""), "Pulse API URL")
	fs.StringVar(&o.host.PulseAPIKey, "pulse-api-key", env("STDHOST_PULSE_API_KEY", ""), "Pulse API key")
	fs.StringVar(&o.host.PulseSecret, "pulse-secret", env("STDHOST_PULSE_SECRET", ""), "Pulse signing secret")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "stdhost: %v\n%s\n", err, usage)
		return 2
	}
	o.host.Logger = slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := serve(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "stdhost: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, o options, stdout io.Writer) error {
	h, err := host.New(ctx, o.host)
	if err != nil {
		return err
	}
	if err := h.Start(ctx); err != nil {
		_ = h.Stop(context.Background())
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		_ = h.Stop(context.Background())
		return err
	}
	// The zero http.Server waits forever on slow clients; TeleCart's
	// ready configuration bounds them.
	srv := telecart.NewHTTPServer(telecart.HTTPServerConfig{Handler: h.Handler()})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	h.PrintBanner(stdout, "http://"+ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-errc:
		_ = h.Stop(context.Background())
		return err
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(stopCtx), h.Stop(stopCtx))
}
