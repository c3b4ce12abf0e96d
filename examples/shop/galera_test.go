package main

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Ensure three demo servers started at once on a fresh database, each
// through a different node of a Galera cluster, all start: one applies
// every migration, once, and the others wait for it and find them applied.
// (GET_LOCK is node-local on Galera: with it, two of the three crashed on
// "table already exists" and on duplicate history rows.)
func TestGaleraMigrateThreeProcesses(t *testing.T) {
	bin := buildShop(t)
	dsns := migratortest.FreshGaleraDSNs(t)
	type proc struct {
		cmd  *exec.Cmd
		addr string
		out  syncBuffer
		done chan error
	}
	procs := make([]*proc, len(dsns))
	for i, dsn := range dsns {
		p := &proc{addr: freeAddr(t), done: make(chan error, 1)}
		p.cmd = exec.Command(bin, "-addr", p.addr, "-db", "mysql:"+dsn)
		p.cmd.Dir, p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = t.TempDir(), cleanEnv(), &p.out, &p.out
		procs[i] = p
	}
	start := time.Now()
	for _, p := range procs {
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.done <- p.cmd.Wait() }()
		t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	}
	for i, p := range procs {
		for {
			resp, err := http.Get("http://" + p.addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case err := <-p.done:
				t.Fatalf("server %d (node %d) exited at start: %v\n%s", i+1, i+1, err, p.out.String())
			default:
			}
			if time.Since(start) > 90*time.Second {
				t.Fatalf("server %d (node %d): /healthz did not answer 200 within 90s:\n%s", i+1, i+1, p.out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("three servers on three nodes healthy after %s", time.Since(start).Round(time.Millisecond))

	// Every file is recorded once and whole. The unique name index makes a
	// second row impossible, so what proves one run is that the rows hold
	// one batch, and that no server failed to record a file.
	db := migratortest.MustOpenDSN(t, migrator.MySQL, dsns[0])
	var files, batches, partial int
	err := db.QueryRowContext(context.Background(), "SELECT COUNT(*), COUNT(DISTINCT batch), "+
		"COALESCE(SUM(statements_applied <> statements_total), 0) FROM telecart_migrations").Scan(&files, &batches, &partial)
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 || batches != 1 || partial != 0 {
		t.Errorf("history: %d files in %d batches, %d partial; want every file applied in one batch", files, batches, partial)
	}

	for i, p := range procs {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("server %d: exit after SIGTERM: %v\n%s", i+1, err, p.out.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("server %d: no graceful stop within 30s:\n%s", i+1, p.out.String())
		}
		if out := p.out.String(); strings.Contains(out, "Error 1050") || strings.Contains(out, "Error 1062") {
			t.Errorf("server %d met a migration race:\n%s", i+1, out)
		}
	}
}
