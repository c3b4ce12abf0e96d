package telecart_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telecart"
)

// logsWriteLines writes lines to a file in dir.
func logsWriteLines(tb testing.TB, dir, name string, lines []string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func logsMessages(entries []telecart.LogEntry) string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Message)
	}
	return strings.Join(out, ",")
}

func TestReadLogPage_TimeOrder(t *testing.T) {
	dir := t.TempDir()
	at := func(sec int) string {
		return time.Date(2026, 11, 26, 10, 0, sec, 0, time.UTC).Format(time.RFC3339)
	}

	// Ensure lines of two writers interleaved out of time order come back
	// newest first across pages, each once, whatever the page size.
	t.Run("AcrossPages", func(t *testing.T) {
		// Writer A logs every second, writer B flushes late: its lines
		// land up to 3 lines after their time.
		secs := []int{1, 2, 0, 4, 3, 6, 7, 5, 9, 8, 10}
		var lines []string
		for _, s := range secs {
			lines = append(lines, fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"m%d"}`, at(s), s))
		}
		path := logsWriteLines(t, dir, "two.log", lines)
		for _, per := range []int{1, 2, 3, 4, 11, 15} {
			got := logsMessages(logsReadAll(t, telecart.LogReader{Path: path}, telecart.LogQuery{PerPage: per}))
			if got != "m10,m9,m8,m7,m6,m5,m4,m3,m2,m1,m0" {
				t.Fatalf("per page %d: %s", per, got)
			}
		}
		// The files' order without the window.
		got := logsMessages(logsReadAll(t, telecart.LogReader{Path: path, SortWindow: -1}, telecart.LogQuery{PerPage: 4}))
		if got != "m10,m8,m9,m5,m7,m6,m3,m4,m0,m2,m1" {
			t.Fatalf("file order: %s", got)
		}
	})

	// Ensure a line further out of place than the window is still listed
	// once, where the window lets it out, and pages stay consistent.
	t.Run("BeyondWindow", func(t *testing.T) {
		var lines []string
		lines = append(lines, fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"late"}`, at(50))) // oldest in the file, newest in time
		for s := range 10 {
			lines = append(lines, fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"m%d"}`, at(s), s))
		}
		path := logsWriteLines(t, dir, "far.log", lines)
		for _, per := range []int{1, 3, 20} {
			got := logsMessages(logsReadAll(t, telecart.LogReader{Path: path, SortWindow: 3}, telecart.LogQuery{PerPage: per}))
			if got != "m9,m8,m7,m6,m5,m4,m3,late,m2,m1,m0" {
				t.Fatalf("window 3, per page %d: %s", per, got)
			}
			got = logsMessages(logsReadAll(t, telecart.LogReader{Path: path, SortWindow: 20}, telecart.LogQuery{PerPage: per}))
			if got != "late,m9,m8,m7,m6,m5,m4,m3,m2,m1,m0" {
				t.Fatalf("window 20, per page %d: %s", per, got)
			}
		}
	})

	// Ensure lines without a time stay after the timed line before them
	// (a stack trace under its error), and a run longer than the window
	// keeps the newer line's time instead of growing the window.
	t.Run("Untimed", func(t *testing.T) {
		lines := []string{
			fmt.Sprintf(`{"time":%q,"level":"ERROR","msg":"boom"}`, at(5)),
			"goroutine 1 [running]:",
			"\tmain.go:1",
			fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"early"}`, at(1)),
			fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"late"}`, at(9)),
		}
		path := logsWriteLines(t, dir, "trace.log", lines)
		var raws []string
		for _, e := range logsReadAll(t, telecart.LogReader{Path: path}, telecart.LogQuery{PerPage: 2}) {
			raws = append(raws, e.Raw)
		}
		want := []string{lines[4], lines[2], lines[1], lines[0], lines[3]}
		if strings.Join(raws, "|") != strings.Join(want, "|") {
			t.Fatalf("order %q", raws)
		}

		lines = []string{fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"old"}`, at(0))}
		for i := range 6 {
			lines = append(lines, fmt.Sprintf("trace %d", i))
		}
		lines = append(lines, fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"new"}`, at(9)))
		path = logsWriteLines(t, dir, "run.log", lines)
		got := logsMessages(logsReadAll(t, telecart.LogReader{Path: path, SortWindow: 2}, telecart.LogQuery{PerPage: 3}))
		if got != "new,trace 5,trace 4,trace 3,trace 2,trace 1,trace 0,old" {
			t.Fatalf("a long untimed run: %s", got)
		}
	})

	// Ensure the window spans rotated files: a line of path.1 newer than
	// one of path (a clock stepped back at rotation) comes first.
	t.Run("Rotated", func(t *testing.T) {
		path := logsWriteLines(t, dir, "app.log", []string{fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"after"}`, at(3))})
		logsWriteLines(t, dir, "app.log.1", []string{
			fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"before"}`, at(1)),
			fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"skewed"}`, at(4)),
		})
		got := logsMessages(logsReadAll(t, telecart.LogReader{Path: path}, telecart.LogQuery{PerPage: 1}))
		if got != "skewed,after,before" {
			t.Fatalf("rotated: %s", got)
		}
	})

	// Ensure formats mix: Monolog, zap and logfmt lines of one file order
	// by their times, whatever their zones.
	t.Run("MixedFormats", func(t *testing.T) {
		path := logsWriteLines(t, dir, "mixed.log", []string{
			`[2026-11-26T13:00:02+03:00] app.INFO: monolog {} []`, // 10:00:02Z
			`{"level":"info","ts":1795680003,"msg":"zap"}`,        // 08:00:03Z
			`time=2026-11-26T10:00:01Z level=INFO msg=logfmt`,     // 10:00:01Z
		})
		got := logsMessages(logsReadAll(t, telecart.LogReader{Path: path}, telecart.LogQuery{}))
		if got != "monolog,logfmt,zap" {
			t.Fatalf("mixed: %s", got)
		}
	})
}
