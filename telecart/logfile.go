package telecart

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
)

// LogTimeLayout is how NewFileLogger writes times: RFC 3339 with
// microseconds and the zone's offset, the form the logs viewer shows.
const LogTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// LogFile is an io.Writer that appends to a file and rotates it by size:
// when a write would take the file past maxBytes, the file becomes path.1,
// path.1 becomes path.2, and so on up to path.keep, and a fresh file is
// started. Rotation happens only between writes, so a line written by one
// Write (as every slog handler does) is never split across two files.
// It is safe for concurrent use.
type LogFile struct {
	path     string
	maxBytes int64
	keep     int

	mu     sync.Mutex
	f      *os.File
	size   int64
	closed bool
}

// OpenLogFile opens (or creates) the log file at path for appending. A
// maxBytes of 0 or less never rotates; keep is how many rotated files are
// kept (0 truncates the file when it is full).
func OpenLogFile(path string, maxBytes int64, keep int) (*LogFile, error) {
	if path == "" {
		return nil, errors.New("telecart: OpenLogFile: path is empty")
	}
	if keep < 0 {
		return nil, fmt.Errorf("telecart: OpenLogFile: keep must not be negative, got %d", keep)
	}
	l := &LogFile{path: path, maxBytes: maxBytes, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *LogFile) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("telecart: opening log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("telecart: opening log file: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends p to the file, rotating first when p would take a non-empty
// file past its size limit. A single write larger than the limit still goes
// whole into a fresh file.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, os.ErrClosed
	}
	if l.maxBytes > 0 && l.size > 0 && l.size+int64(len(p)) > l.maxBytes {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate shifts path.i to path.i+1 (dropping path.keep), path to path.1, and
// opens a fresh path. It is called with l.mu held.
func (l *LogFile) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("telecart: rotating log file: %w", err)
	}
	if l.keep == 0 {
		if err := os.Truncate(l.path, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("telecart: rotating log file: %w", err)
		}
		return l.open()
	}
	if err := os.Remove(l.rotated(l.keep)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("telecart: rotating log file: %w", err)
	}
	for i := l.keep - 1; i >= 1; i-- {
		if err := os.Rename(l.rotated(i), l.rotated(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("telecart: rotating log file: %w", err)
		}
	}
	if err := os.Rename(l.path, l.rotated(1)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("telecart: rotating log file: %w", err)
	}
	return l.open()
}

func (l *LogFile) rotated(i int) string { return l.path + "." + strconv.Itoa(i) }

// Close closes the file; later writes fail with os.ErrClosed. Closing twice
// is harmless.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.f.Close()
}

// NewFileLogger returns a logger writing slog's JSON lines to w (a LogFile,
// typically) with times in LogTimeLayout, at level and above (INFO when
// level is nil).
func NewFileLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				return slog.String(slog.TimeKey, a.Value.Time().Format(LogTimeLayout))
			}
			return a
		},
	}))
}

// Ensure a LogFile can be shut down like the host's other resources.
var _ io.WriteCloser = (*LogFile)(nil)
