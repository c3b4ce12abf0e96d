package telecart_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telecart"
)

// TestNewHTTPServer ensures a client sending its body a byte at a time, or
// idling on a keep-alive connection, is cut off once the timeouts pass.
func TestNewHTTPServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := telecart.NewHTTPServer(telecart.HTTPServerConfig{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			io.WriteString(w, "ok")
		}),
		ReadTimeout: 500 * time.Millisecond, IdleTimeout: 500 * time.Millisecond,
	})
	go srv.Serve(ln)
	defer srv.Close()
	if srv.WriteTimeout != telecart.WriteTimeoutDefault || srv.ReadHeaderTimeout != telecart.ReadHeaderTimeoutDefault ||
		srv.MaxHeaderBytes != telecart.MaxHeaderBytesDefault {
		t.Fatalf("defaults not applied: %+v", srv)
	}

	// closedWithin reports how long the server took to close conn.
	closedWithin := func(conn net.Conn, limit time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		conn.SetReadDeadline(start.Add(limit))
		_, err := io.Copy(io.Discard, conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("the server kept the connection open for %v", limit)
		}
		return time.Since(start)
	}

	t.Run("SlowBody", func(t *testing.T) {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
		stop := make(chan struct{})
		defer close(stop)
		go func() { // one byte every 100 ms, as a slowloris would
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					if _, err := conn.Write([]byte("x")); err != nil {
						return
					}
				}
			}
		}()
		closedWithin(conn, 5*time.Second)
	})
	t.Run("IdleKeepAlive", func(t *testing.T) {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("first request: %v %v", resp, err)
		}
		resp.Body.Close()
		closedWithin(conn, 5*time.Second)
	})
}
