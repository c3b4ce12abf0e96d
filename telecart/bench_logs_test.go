package telecart_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/telecart-go/telecart/telecart"
)

// logsBenchSizes are the generated log files the benchmarks read. Each is
// generated only when a benchmark asks for it (benchmarks run only with
// -bench), into os.TempDir(), and reused while it is there: delete
// telecart-bench-*.log from the temporary directory when done.
var logsBenchSizes = []struct {
	name string
	size int64
}{
	{"100MiB", 100 << 20},
	{"1GiB", 1 << 30},
}

// logsBenchBlock is how much of a bench file is generated line by line;
// the rest repeats it, so a 1 GiB file is written in seconds. The newest
// page reads the last block's tail either way.
const logsBenchBlock = 8 << 20

// logsBenchFile returns a log file of at least size bytes of realistic
// slog JSON lines (with text lines and stack traces here and there),
// generating it unless a complete one is already there.
func logsBenchFile(b *testing.B, name string, size int64) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), "telecart-bench-"+name+".log")
	if st, err := os.Stat(path); err == nil && st.Size() >= size {
		return path
	}
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var block bytes.Buffer
	cw := &logsCountingWriter{w: bufio.NewWriter(&block)}
	jsonLog := telecart.NewFileLogger(cw, slog.LevelDebug).With("channel", "shop")
	textLog := slog.New(slog.NewTextHandler(cw, nil))
	rng := rand.New(rand.NewPCG(1, 2))
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelInfo, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	ctx := context.Background()
	for i := 0; cw.n < min(size, logsBenchBlock); i++ {
		switch k := rng.IntN(100); {
		case k < 90:
			jsonLog.Log(ctx, levels[rng.IntN(len(levels))], "order placed",
				slog.Int("order_id", i), slog.Group("customer", slog.Int64("id", rng.Int64N(1e6)), slog.String("tracking_id", "c2f1e0a4-5b7d-4c1e-9f3a")),
				slog.String("total", fmt.Sprintf("%d.%02d RUB", rng.IntN(100000), rng.IntN(100))))
		case k < 98:
			textLog.Info("pulse batch sent", "events", rng.IntN(50), "took", "12.5ms", "endpoint", "https://pulse.example/ingest")
		default:
			fmt.Fprintf(cw, "goroutine %d [running]:\n\t/app/telecart/orders.go:%d +0x1d\n", i, rng.IntN(500))
		}
	}
	if err := cw.w.Flush(); err != nil {
		b.Fatal(err)
	}
	for n := int64(0); n < size; n += int64(block.Len()) {
		if _, err := w.Write(block.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

type logsCountingWriter struct {
	w *bufio.Writer
	n int64
}

func (c *logsCountingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkLogsNewestPage reads the newest page (15 entries) of each file,
// as the logs viewer's first screen does; the "error" variant keeps only
// ERROR entries, parsing the lines it has to look at.
func BenchmarkLogsNewestPage(b *testing.B) {
	for _, s := range logsBenchSizes {
		for _, level := range []string{"", "error"} {
			name := s.name
			if level != "" {
				name += "/level=" + level
			}
			b.Run(name, func(b *testing.B) {
				path := logsBenchFile(b, s.name, s.size)
				b.ReportAllocs()
				for b.Loop() {
					page, err := telecart.ReadLogPage(path, telecart.LogQuery{Level: level})
					if err != nil {
						b.Fatal(err)
					}
					if len(page.Entries) != telecart.LogPerPageDefault || !page.HasMore {
						b.Fatalf("%d entries, has_more %v", len(page.Entries), page.HasMore)
					}
				}
			})
		}
	}
}

// BenchmarkLogsReadWhole is the baseline: a bufio.Scanner over the whole
// file counting its lines, the least that reading the file whole costs.
func BenchmarkLogsReadWhole(b *testing.B) {
	for _, s := range logsBenchSizes {
		b.Run(s.name, func(b *testing.B) {
			path := logsBenchFile(b, s.name, s.size)
			b.ReportAllocs()
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				sc := bufio.NewScanner(f)
				sc.Buffer(make([]byte, 64<<10), 1<<20)
				lines := 0
				for sc.Scan() {
					lines++
				}
				if err := sc.Err(); err != nil {
					b.Fatal(err)
				}
				_ = f.Close()
				if lines == 0 {
					b.Fatal("no lines")
				}
			}
		})
	}
}
