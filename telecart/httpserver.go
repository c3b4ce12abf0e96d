package telecart

import (
	"log/slog"
	"net/http"
	"time"
)

// Timeouts of NewHTTPServer. A client that sends its headers or body
// slowly, or keeps an idle connection open, is cut off after these instead
// of holding a connection (and a goroutine) forever.
const (
	// ReadHeaderTimeoutDefault bounds reading a request's headers.
	ReadHeaderTimeoutDefault = 10 * time.Second
	// ReadTimeoutDefault bounds reading a whole request, body included: the
	// largest body TeleCart takes is 64 KiB, which needs no longer on any
	// working connection.
	ReadTimeoutDefault = 30 * time.Second
	// WriteTimeoutDefault bounds writing an answer; the largest are a page
	// of the ETL export and the logs viewer's pages.
	WriteTimeoutDefault = 60 * time.Second
	// IdleTimeoutDefault bounds how long a keep-alive connection waits for
	// its next request.
	IdleTimeoutDefault = 60 * time.Second
	// MaxHeaderBytesDefault bounds a request's headers; initData is a few
	// KiB.
	MaxHeaderBytesDefault = 64 << 10
)

// HTTPServerConfig configures NewHTTPServer. Zero fields take their
// defaults.
type HTTPServerConfig struct {
	// Addr is the listen address, as http.Server takes it.
	Addr string
	// Handler serves the requests, such as the host's mux with TeleCart's
	// routes on it.
	Handler http.Handler
	// ReadHeaderTimeout defaults to ReadHeaderTimeoutDefault (10s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout defaults to ReadTimeoutDefault (30s).
	ReadTimeout time.Duration
	// WriteTimeout defaults to WriteTimeoutDefault (60s).
	WriteTimeout time.Duration
	// IdleTimeout defaults to IdleTimeoutDefault (60s).
	IdleTimeout time.Duration
	// MaxHeaderBytes defaults to MaxHeaderBytesDefault (64 KiB).
	MaxHeaderBytes int
	// Logger receives the server's own errors (TLS handshakes, panics in
	// handlers). Defaults to slog.Default().
	Logger *slog.Logger
}

// NewHTTPServer returns an http.Server ready to face the internet: read,
// write and idle timeouts and a header limit, none of which the zero
// http.Server has. Hosts that build their own server should set the same.
func NewHTTPServer(cfg HTTPServerConfig) *http.Server {
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = MaxHeaderBytesDefault
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &http.Server{
		Addr:              cfg.Addr,
		Handler:           cfg.Handler,
		ReadHeaderTimeout: or(cfg.ReadHeaderTimeout, ReadHeaderTimeoutDefault),
		ReadTimeout:       or(cfg.ReadTimeout, ReadTimeoutDefault),
		WriteTimeout:      or(cfg.WriteTimeout, WriteTimeoutDefault),
		IdleTimeout:       or(cfg.IdleTimeout, IdleTimeoutDefault),
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
}
