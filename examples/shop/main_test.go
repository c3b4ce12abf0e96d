package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// buildShop builds this command once per test binary run.
func buildShop(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "shop")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cleanEnv is the environment without TELECART_* variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TELECART_") {
			env = append(env, kv)
		}
	}
	return env
}

// Ensure the demo starts with no flags on SQLite in seconds, answers
// /healthz, and stops gracefully on SIGTERM; and that with -db mysql:… it
// runs on MariaDB.
func TestServeNoFlags(t *testing.T) {
	bin := buildShop(t)
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			env := cleanEnv()
			var args []string
			addr := "127.0.0.1:8080"
			if d == migrator.MySQL {
				addr = freeAddr(t)
				args = []string{"-addr", addr, "-db", "mysql:" + migratortest.FreshDSN(t, d)}
			} else if ln, err := net.Listen("tcp", addr); err != nil {
				// Something else holds the default port here; the variable
				// moves us without a flag.
				addr = freeAddr(t)
				env = append(env, "TELECART_ADDR="+addr)
			} else {
				ln.Close()
			}
			var out bytes.Buffer
			cmd := exec.Command(bin, args...)
			cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			for {
				resp, err := http.Get("http://" + addr + "/healthz")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
				if time.Since(start) > 15*time.Second {
					t.Fatalf("/healthz did not answer 200 within 15s:\n%s", out.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("%s: healthy after %s", d, time.Since(start).Round(time.Millisecond))
			if d == migrator.SQLite {
				if _, err := os.Stat(filepath.Join(dir, "telecart-demo.db")); err != nil {
					t.Fatalf("the default database was not created: %v", err)
				}
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after SIGTERM: %v\n%s", err, out.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no graceful stop within 20s:\n%s", out.String())
			}
			for _, want := range []string{"admin token", "/app/", "/admin/"} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("start-up output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// Ensure the operator commands work against a database.
func TestOperatorCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "ops.db")
	runCmd := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"-db", db}, args...), func(string) string { return "" }, &out, &errb)
		if code != 0 {
			t.Fatalf("shop %v = %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	if out := runCmd("migrate", "status"); !strings.Contains(out, "telegram/") || !strings.Contains(out, "pending") {
		t.Fatalf("migrate status before:\n%s", out)
	}
	if out := runCmd("migrate", "up"); !strings.Contains(out, "applied") || strings.Contains(out, "applied 0") {
		t.Fatalf("migrate up:\n%s", out)
	}
	if out := runCmd("migrate", "status"); strings.Contains(out, "pending") || !strings.Contains(out, "applied") {
		t.Fatalf("migrate status after:\n%s", out)
	}
	if out := runCmd("pulse", "send"); !strings.Contains(out, "pulse send:") {
		t.Fatalf("pulse send:\n%s", out)
	}
	if out := runCmd("schedule", "list"); !strings.Contains(out, "pulse_sweep") || !strings.Contains(out, "customers_recount") {
		t.Fatalf("schedule list:\n%s", out)
	}
	if out := runCmd("schedule", "run", "customers_recount"); !strings.Contains(out, "customers_recount done") {
		t.Fatalf("schedule run:\n%s", out)
	}
	if out := runCmd("customers", "recount"); !strings.Contains(out, "0 changed") {
		t.Fatalf("customers recount:\n%s", out)
	}
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"-db", db, "nonsense"}, func(string) string { return "" }, &bytes.Buffer{}, &errb); code == 0 {
		t.Fatal("an unknown command succeeded")
	}
	if code := run(context.Background(), []string{"-db", db, "schedule", "run", "nope"}, func(string) string { return "" }, &bytes.Buffer{}, &errb); code == 0 {
		t.Fatal("running an unknown task succeeded")
	}
}

// Ensure the demo cuts off a client that sends its body a byte at a time
// and one that idles on a keep-alive connection, within -read-timeout and
// -idle-timeout.
func TestServeSlowClients(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", addr, "-db", "sqlite:" + filepath.Join(t.TempDir(), "slow.db"),
			"-log-file", filepath.Join(t.TempDir(), "slow.log"), "-read-timeout", "1s", "-idle-timeout", "1s"},
			func(string) string { return "" }, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit code %d", code)
			}
		case <-time.After(20 * time.Second):
			t.Error("no graceful stop within 20s")
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz did not answer 200 within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// closedWithin fails unless the server closes conn within limit.
	closedWithin := func(conn net.Conn, limit time.Duration) {
		t.Helper()
		start := time.Now()
		conn.SetReadDeadline(start.Add(limit))
		_, err := io.Copy(io.Discard, conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("the connection was still open after %v", limit)
		}
		t.Logf("closed after %v", time.Since(start).Round(time.Millisecond))
	}
	t.Run("SlowBody", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/orders HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", addr)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
					if _, err := conn.Write([]byte("x")); err != nil {
						return
					}
				}
			}
		}()
		closedWithin(conn, 6*time.Second)
	})
	t.Run("IdleKeepAlive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("first request: %v %v", resp, err)
		}
		resp.Body.Close()
		closedWithin(conn, 6*time.Second)
	})
}

// Ensure -demo-activity on a database that already has customers exits
// with a non-zero code and says why, and fills nothing.
func TestDemoActivityRefusedExit(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-addr", freeAddr(t), "-db", "sqlite:" + filepath.Join(dir, "shop.db"), "-log-file", filepath.Join(dir, "shop.log"), "-demo-activity"}
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, func(string) string { return "" }, out, out) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "demo activity: 300 customers") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no demo activity within 30s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("the first run exited with %d:\n%s", code, out.String())
	}

	var stdout, stderr bytes.Buffer
	args[1] = freeAddr(t)
	code := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "the database already has customers (300)") {
		t.Fatalf("a second run: exit %d, stderr %q", code, stderr.String())
	}
	t.Logf("refused: %s", strings.TrimSpace(stderr.String()))
}
