package telecart

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// logsCountingFile counts the bytes read through it.
type logsCountingFile struct {
	*os.File
	n *atomic.Int64
}

func (f logsCountingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.n.Add(int64(n))
	return n, err
}

// Ensure the newest page reads the same bounded number of bytes whatever
// the file's size: a file and one ten times larger that ends the same way
// cost the same reads, filtered or not, far less than the smaller file.
// This is the 1 GiB benchmark's flatness (BENCHMARKS.md) as a test CI runs;
// white-box, as the bytes a page reads cannot be seen from outside.
func TestReadLogPageReadsBoundedBytes(t *testing.T) {
	var block bytes.Buffer
	logger := NewFileLogger(&block, slog.LevelDebug)
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	for i := 0; block.Len() < 1<<20; i++ {
		logger.Log(context.Background(), levels[i%len(levels)], "order placed", "order_id", i,
			slog.Group("customer", "id", i*7, "tracking_id", "c2f1e0a4-5b7d-4c1e-9f3a"))
	}
	dir := t.TempDir()
	small, large := filepath.Join(dir, "small.log"), filepath.Join(dir, "large.log")
	if err := os.WriteFile(small, block.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(large, bytes.Repeat(block.Bytes(), 10), 0o600); err != nil {
		t.Fatal(err)
	}
	read := func(t *testing.T, path string, q LogQuery) (int64, LogPage) {
		t.Helper()
		var n atomic.Int64
		r := LogReader{Path: path, open: func(name string) (logsFile, error) {
			f, err := os.Open(name)
			if err != nil {
				return nil, err
			}
			return logsCountingFile{File: f, n: &n}, nil
		}}
		page, err := r.ReadPage(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != LogPerPageDefault || !page.HasMore {
			t.Fatalf("%s: %d entries, has_more %v", path, len(page.Entries), page.HasMore)
		}
		return n.Load(), page
	}
	for _, q := range []LogQuery{{}, {Level: "error"}} {
		t.Run(fmt.Sprintf("level=%q", q.Level), func(t *testing.T) {
			nSmall, pSmall := read(t, small, q)
			nLarge, pLarge := read(t, large, q)
			if nSmall != nLarge {
				t.Errorf("the newest page read %d bytes of %d and %d bytes of a file ten times larger", nSmall, block.Len(), nLarge)
			}
			if nSmall == 0 || nSmall > int64(block.Len())/2 {
				t.Errorf("the newest page read %d bytes of a %d-byte file", nSmall, block.Len())
			}
			for i := range pSmall.Entries {
				if pSmall.Entries[i].Raw != pLarge.Entries[i].Raw {
					t.Fatalf("entry %d differs: %q and %q", i, pSmall.Entries[i].Raw, pLarge.Entries[i].Raw)
				}
			}
			t.Logf("%d bytes read for the newest page", nSmall)
		})
	}
}
