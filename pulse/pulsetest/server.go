package pulsetest

import (
	"crypto/rand"
	"net/http/httptest"
	"sync"
	"testing"
)

// Server is a Receiver on a local httptest.Server, with the URL and the
// credentials a pulse.Config needs to reach it:
//
//	pulse.Config{URL: srv.URL, APIKey: srv.APIKey, Secret: srv.Secret}
//
// The Receiver's methods (Events, WaitForEvents, SetFaults, Stats, …) are
// promoted.
type Server struct {
	*Receiver

	URL    string // the base URL, e.g. "http://127.0.0.1:41234"
	APIKey string // the API key it accepts: Config.APIKey, or a random one
	Secret string // the signing secret it verifies: Config.Secret, or a random one

	http      *httptest.Server
	closeOnce sync.Once
}

// NewServer starts a Receiver for cfg on a local httptest.Server and closes
// it when the test ends. An empty cfg.APIKey or cfg.Secret is filled with a
// random value, which the Server's fields report. A cfg that New refuses
// fails tb.
func NewServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = "pulsetest-key-" + rand.Text()
	}
	if cfg.Secret == "" {
		cfg.Secret = rand.Text()
	}
	rv, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{Receiver: rv, APIKey: cfg.APIKey, Secret: cfg.Secret, http: httptest.NewServer(rv)}
	s.URL = s.http.URL
	tb.Cleanup(s.Close)
	return s
}

// Close releases the requests held by the timeout fault and shuts the
// server down, after which connections to URL are refused: a test may call
// it early to take the Pulse API away. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		_ = s.Receiver.Close() // first, or the server would wait for them
		s.http.Close()
	})
}
