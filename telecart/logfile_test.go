package telecart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telecart"
)

// logsMustOpen opens a LogFile closed at the end of the test.
func logsMustOpen(tb testing.TB, path string, maxBytes int64, keep int) *telecart.LogFile {
	tb.Helper()
	f, err := telecart.OpenLogFile(path, maxBytes, keep)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = f.Close() })
	return f
}

// logsFileLines returns the lines of path, failing unless every one ends
// with a newline and parses as a slog JSON entry.
func logsFileLines(tb testing.TB, path string) []telecart.LogEntry {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		tb.Fatalf("%s does not end with a newline", path)
	}
	var out []telecart.LogEntry
	for line := range bytes.SplitSeq(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(data) == 0 {
			break
		}
		e := telecart.ParseLogLine(line)
		if e.Level == telecart.LevelUnknown {
			tb.Fatalf("%s: not a whole entry: %q", path, line)
		}
		out = append(out, e)
	}
	return out
}

func TestLogFile(t *testing.T) {
	// Ensure a full file rotates to path.1 … path.keep, the oldest dropped,
	// no file past the limit, and no line split.
	t.Run("Rotation", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		const maxBytes = 1000
		log := telecart.NewFileLogger(logsMustOpen(t, path, maxBytes, 2), slog.LevelDebug)
		for i := range 100 {
			log.Info("hello", "i", i, "pad", strings.Repeat("x", i%50))
		}
		var seen []telecart.LogEntry
		for _, name := range []string{path + ".2", path + ".1", path} {
			st, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() > maxBytes {
				t.Errorf("%s: %d bytes, over %d", name, st.Size(), maxBytes)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v; want 0600 (logs may name customers)", name, st.Mode().Perm())
			}
			seen = append(seen, logsFileLines(t, name)...)
		}
		if _, err := os.Stat(path + ".3"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("path.3: %v", err)
		}
		// The kept entries are the newest, in order, none missing.
		for k, e := range seen {
			var c struct{ I int }
			if err := json.Unmarshal(e.Context, &c); err != nil || c.I != 100-len(seen)+k {
				t.Fatalf("entry %d of the kept files is %s, want i=%d", k, e.Context, 100-len(seen)+k)
			}
		}
		page, err := telecart.ReadLogPage(path, telecart.LogQuery{PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != len(seen) {
			t.Errorf("reader saw %d entries across the files, want %d", len(page.Entries), len(seen))
		}
	})

	// Ensure keep 0 starts the file afresh, and a write larger than the
	// limit still goes whole.
	t.Run("KeepNone", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		f := logsMustOpen(t, path, 100, 0)
		for _, s := range []string{strings.Repeat("a", 60) + "\n", strings.Repeat("b", 60) + "\n", strings.Repeat("c", 300) + "\n"} {
			if _, err := f.Write([]byte(s)); err != nil {
				t.Fatal(err)
			}
		}
		data, _ := os.ReadFile(path)
		if string(data) != strings.Repeat("c", 300)+"\n" {
			t.Errorf("file holds %q", data)
		}
		if _, err := os.Stat(path + ".1"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("path.1: %v", err)
		}
	})

	// Ensure reopening appends and counts the size already there.
	t.Run("Reopen", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		if err := os.WriteFile(path, []byte(strings.Repeat("a", 90)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f := logsMustOpen(t, path, 100, 1)
		if _, err := f.Write([]byte("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n")); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(path + ".1"); len(data) != 91 {
			t.Errorf("path.1 holds %d bytes, want the 91 there before", len(data))
		}
	})

	// Ensure concurrent writers (each with its own handler, so nothing but
	// the LogFile serializes them) leave only whole lines, none lost.
	t.Run("Concurrent", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		f := logsMustOpen(t, path, 4096, 1000)
		const writers, each = 8, 200
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				log := telecart.NewFileLogger(f, nil).With("channel", "w")
				for i := range each {
					log.Info("concurrent", "w", w, "i", i, "pad", strings.Repeat("p", (w*i)%300))
				}
			})
		}
		wg.Wait()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		names, err := filepath.Glob(path + "*")
		if err != nil {
			t.Fatal(err)
		}
		if len(names) < 10 {
			t.Fatalf("only %d files: rotation was not exercised", len(names))
		}
		total := 0
		for _, name := range names {
			total += len(logsFileLines(t, name))
		}
		if total != writers*each {
			t.Errorf("%d lines, want %d", total, writers*each)
		}
	})

	// Ensure writing after Close fails and closing twice is harmless.
	t.Run("Close", func(t *testing.T) {
		f := logsMustOpen(t, filepath.Join(t.TempDir(), "app.log"), 0, 0)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := f.Write([]byte("x\n")); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Write after Close: %v", err)
		}
	})

	// Ensure bad arguments are refused at open.
	t.Run("ErrArguments", func(t *testing.T) {
		if _, err := telecart.OpenLogFile("", 0, 0); err == nil {
			t.Error("empty path: no error")
		}
		if _, err := telecart.OpenLogFile(filepath.Join(t.TempDir(), "a.log"), 0, -1); err == nil {
			t.Error("negative keep: no error")
		}
		if _, err := telecart.OpenLogFile(filepath.Join(t.TempDir(), "no", "such", "dir.log"), 0, 0); err == nil {
			t.Error("missing directory: no error")
		}
	})
}

func TestNewFileLogger(t *testing.T) {
	// Ensure the logger writes slog JSON with microsecond times that the
	// viewer parses back, groups nested, below-level records dropped.
	var buf bytes.Buffer
	log := telecart.NewFileLogger(&buf, slog.LevelInfo)
	log.Debug("dropped")
	log.LogAttrs(context.Background(), slog.LevelWarn, "slow", slog.String("logger", "db"),
		slog.Group("query", slog.String("sql", "SELECT 1"), slog.Duration("took", 1500*time.Millisecond)))
	line := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("wrote %q", buf.Bytes())
	}
	e := telecart.ParseLogLine(line)
	logsCheck(t, 0, e, logsWant{level: "WARN", channel: "db", message: "slow", context: `{"query":{"sql":"SELECT 1","took":1500000000}}`})
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$`).MatchString(e.TimeRaw) {
		t.Errorf("time %q is not RFC 3339 with microseconds", e.TimeRaw)
	}
	if e.Time == nil || e.Time.Format(telecart.LogTimeLayout) != e.TimeRaw {
		t.Errorf("time %q parsed as %v", e.TimeRaw, e.Time)
	}
}
