package telecart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults and limits of the logs viewer.
const (
	LogPerPageDefault    = 15       // entries per page when LogQuery.PerPage is 0
	LogPerPageMax        = 100      // the most entries a page may ask for
	LogChunkSizeDefault  = 64 << 10 // bytes read from the end at a time
	LogLineMaxDefault    = 1 << 20  // longer lines are cut to this many bytes
	LogRotatedDefault    = 10       // rotated files (path.1 …) read after path
	LogSortWindowDefault = 256      // entries held to put lines out of time order in place
)

// The levels of a LogEntry. slog's offsets ("INFO+2", "DEBUG-4") fall into
// the level they are offset from; anything else is LevelUnknown.
const (
	LevelDebug   = "DEBUG"
	LevelInfo    = "INFO"
	LevelWarn    = "WARN"
	LevelError   = "ERROR"
	LevelUnknown = "UNKNOWN"
)

// ErrInvalidLogQuery is wrapped by the errors ReadPage returns for a query
// it refuses.
var ErrInvalidLogQuery = errors.New("telecart: invalid log query")

// LogEntry is one line of a log file, parsed.
//
// Each physical line is its own entry: a line that is neither a slog JSON
// nor a slog text entry (a Go stack trace, a panic, a cut or garbled line)
// comes back with LevelUnknown, its text as Message, and Context {}.
// Reading from the end, a line cannot be known to continue an older one
// without reading further back, so no attempt is made to join them.
type LogEntry struct {
	// Time is the entry's "time", keeping its zone's offset; nil when absent
	// or not RFC 3339. JSON renders it with microseconds (LogTimeLayout).
	Time *time.Time `json:"time"`
	// TimeRaw is the "time" attribute as written.
	TimeRaw string `json:"time_raw"`
	// Level is LevelDebug, LevelInfo, LevelWarn, LevelError or LevelUnknown.
	Level string `json:"level"`
	// Channel is the "channel", "logger" or "component" attribute, the first
	// of them in the line, else "".
	Channel string `json:"channel"`
	// Message is "msg" (or "message" when there is no "msg"); the whole line
	// for an entry of unknown format.
	Message string `json:"message"`
	// Context holds every other attribute as a JSON object, in the line's
	// order, groups as nested objects; {} when there are none. Values of
	// text lines are strings: the text format does not say which were numbers.
	Context json.RawMessage `json:"context"`
	// Raw is the line without its line ending, invalid UTF-8 replaced by
	// U+FFFD.
	Raw string `json:"raw"`
	// Truncated is set by LogReader on a line longer than its MaxLineBytes:
	// Raw then holds only the line's first MaxLineBytes bytes.
	Truncated bool `json:"truncated"`
}

// MarshalJSON renders Time in LogTimeLayout (microseconds and the offset)
// rather than encoding/json's RFC 3339 with nanoseconds, trailing zeros
// dropped.
func (e LogEntry) MarshalJSON() ([]byte, error) {
	var t *string
	if e.Time != nil {
		s := e.Time.Format(LogTimeLayout)
		t = &s
	}
	ctx := e.Context
	if len(ctx) == 0 {
		ctx = json.RawMessage("{}")
	}
	return json.Marshal(struct {
		Time      *string         `json:"time"`
		TimeRaw   string          `json:"time_raw"`
		Level     string          `json:"level"`
		Channel   string          `json:"channel"`
		Message   string          `json:"message"`
		Context   json.RawMessage `json:"context"`
		Raw       string          `json:"raw"`
		Truncated bool            `json:"truncated"`
	}{t, e.TimeRaw, e.Level, e.Channel, e.Message, ctx, e.Raw, e.Truncated})
}

// ParseLogLine parses one line of a common logger's output:
//
//   - JSON objects, as slog's JSON handler, zap and zerolog write them: the
//     time is "time", "ts" or "timestamp" (a string, or a number of epoch
//     seconds, milliseconds, microseconds or nanoseconds told apart by
//     size), the level "level", "lvl" or "severity", the message "msg" or
//     "message";
//   - logfmt, as slog's text handler, logrus, go-kit and log15 write it
//     (time=… level=… msg="…" k=v), with the same keys; a bare key is true;
//   - Monolog's line format, [date] channel.LEVEL: message {context} [extra].
//
// A JSON or logfmt line is an entry when it parses whole and has a level or
// a message; any other line is an entry of LevelUnknown with the line as its
// Message. It never fails.
func ParseLogLine(line []byte) LogEntry {
	line = bytes.TrimRight(line, "\r\n")
	raw := strings.ToValidUTF8(string(line), "\uFFFD")
	s := strings.TrimSpace(raw)
	var (
		fields []logsField
		ok     bool
		text   bool
	)
	switch {
	case strings.HasPrefix(s, "{"):
		fields, ok = logsSplitJSON(s)
	case strings.HasPrefix(s, "["):
		if e, ok := logsMonolog(s); ok {
			e.Raw = raw
			return e
		}
	default:
		fields, ok = logsSplitText(s)
		text = true
	}
	if ok {
		if e, ok := logsEntry(fields, text); ok {
			e.Raw = raw
			return e
		}
	}
	return LogEntry{Level: LevelUnknown, Message: raw, Context: json.RawMessage("{}"), Raw: raw}
}

// logsField is one attribute of a line.
type logsField struct {
	key     string
	raw     json.RawMessage // the value as JSON (JSON lines only)
	str     string          // the value decoded, when it is a string
	isStr   bool
	literal bool // the string was written without escapes
	bare    bool // a logfmt key written without "=value"
}

// logsSplitJSON splits a JSON object into its members, in order, keeping
// duplicates. It fails on anything but exactly one object.
func logsSplitJSON(s string) ([]logsField, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var fields []logsField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		f := logsField{key: key, raw: raw}
		if len(raw) > 0 && raw[0] == '"' {
			if err := json.Unmarshal(raw, &f.str); err != nil {
				return nil, false
			}
			f.isStr, f.literal = true, bytes.IndexByte(raw, '\\') < 0
		}
		fields = append(fields, f)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return fields, true
}

// logsSplitText splits slog's text format, key=value pairs separated by
// spaces, where a key or value that needs it is Go-quoted.
func logsSplitText(s string) ([]logsField, bool) {
	var fields []logsField
	i := 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			break
		}
		var key string
		if s[i] == '"' {
			j, ok := logsQuotedEnd(s, i)
			if !ok {
				return nil, false
			}
			k, err := strconv.Unquote(s[i:j])
			if err != nil {
				return nil, false
			}
			key, i = strings.ToValidUTF8(k, "\uFFFD"), j
		} else {
			j := i
			for j < len(s) && s[j] != '=' && s[j] != ' ' && s[j] != '"' {
				j++
			}
			key, i = s[i:j], j
		}
		if key == "" {
			return nil, false
		}
		if i == len(s) || s[i] == ' ' {
			// logfmt's bare key, a flag.
			fields = append(fields, logsField{key: key, bare: true})
			continue
		}
		if s[i] != '=' {
			return nil, false
		}
		i++
		f := logsField{key: key, isStr: true, literal: true}
		if i < len(s) && s[i] == '"' {
			j, ok := logsQuotedEnd(s, i)
			if !ok || (j < len(s) && s[j] != ' ') {
				return nil, false
			}
			v, err := strconv.Unquote(s[i:j])
			if err != nil {
				return nil, false
			}
			f.str = strings.ToValidUTF8(v, "\uFFFD")
			f.literal = !strings.Contains(s[i:j], `\`)
			i = j
		} else {
			j := i
			for j < len(s) && s[j] != ' ' {
				j++
			}
			f.str, i = s[i:j], j
		}
		fields = append(fields, f)
	}
	return fields, len(fields) > 0
}

// logsQuotedEnd is the index just past the closing quote of the quoted
// string starting at s[i].
func logsQuotedEnd(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// logsEntry picks the built-in attributes out of fields and renders the
// rest as the context. A line with neither "level" nor "msg" is no entry.
func logsEntry(fields []logsField, text bool) (LogEntry, bool) {
	first := func(pred func(f logsField) bool) int {
		for i, f := range fields {
			if pred(f) {
				return i
			}
		}
		return -1
	}
	iTime := first(func(f logsField) bool {
		return (f.key == "time" || f.key == "ts" || f.key == "timestamp") && (f.isStr || logsIsNumber(f.raw))
	})
	if iTime < 0 {
		// log15's "t", only when it is a time: the short key is common.
		iTime = first(func(f logsField) bool {
			_, ok := logsParseTime(f.str)
			return f.key == "t" && f.isStr && ok
		})
	}
	iLevel := first(func(f logsField) bool {
		return (f.key == "level" || f.key == "lvl" || f.key == "severity") && f.isStr
	})
	iMsg := first(func(f logsField) bool { return f.key == "msg" && !f.bare })
	if iMsg < 0 {
		iMsg = first(func(f logsField) bool { return f.key == "message" && !f.bare })
	}
	if iLevel < 0 && iMsg < 0 {
		return LogEntry{}, false
	}
	iChan := first(func(f logsField) bool {
		return f.isStr && (f.key == "channel" || f.key == "logger" || f.key == "component")
	})

	e := LogEntry{Level: LevelUnknown}
	if iTime >= 0 {
		f := fields[iTime]
		var t time.Time
		var ok bool
		if f.isStr {
			e.TimeRaw = f.str
			t, ok = logsParseTime(f.str)
		} else {
			e.TimeRaw = string(f.raw)
			t, ok = logsEpochTime(e.TimeRaw)
		}
		if ok {
			e.Time = &t
		}
	}
	if iLevel >= 0 && fields[iLevel].literal {
		e.Level = logsLevel(fields[iLevel].str)
	}
	if iMsg >= 0 {
		if f := fields[iMsg]; f.isStr {
			e.Message = f.str
		} else {
			e.Message = string(logsCompact(f.raw))
		}
	}
	if iChan >= 0 {
		e.Channel = fields[iChan].str
	}

	var ctx bytes.Buffer
	if text {
		root := &logsObject{}
		for i, f := range fields {
			switch {
			case i == iTime || i == iLevel || i == iMsg || i == iChan:
			case f.bare:
				root.set(f.key, true)
			default:
				root.set(f.key, f.str)
			}
		}
		root.appendJSON(&ctx)
	} else {
		ctx.WriteByte('{')
		for i, f := range fields {
			if i == iTime || i == iLevel || i == iMsg || i == iChan {
				continue
			}
			if ctx.Len() > 1 {
				ctx.WriteByte(',')
			}
			logsAppendString(&ctx, f.key)
			ctx.WriteByte(':')
			ctx.Write(logsCompact(f.raw))
		}
		ctx.WriteByte('}')
	}
	e.Context = ctx.Bytes()
	return e, true
}

// logsLevelNames maps the level names common loggers write (slog, zap,
// zerolog, logrus, log15, Monolog, syslog) to the five levels.
var logsLevelNames = map[string]string{
	"debug": LevelDebug, "trace": LevelDebug, "dbug": LevelDebug,
	"info": LevelInfo, "notice": LevelInfo,
	"warn": LevelWarn, "warning": LevelWarn,
	"error": LevelError, "err": LevelError, "eror": LevelError, "dpanic": LevelError, "panic": LevelError, "fatal": LevelError,
	"critical": LevelError, "crit": LevelError, "alert": LevelError, "emergency": LevelError, "emerg": LevelError,
}

// logsLevelWords are, per level, words one of which every name of the
// level in logsLevelNames holds: ReadPage's level filter looks for them
// before it parses a line.
var logsLevelWords = map[string][][]byte{
	LevelDebug: {[]byte("debug"), []byte("trace"), []byte("dbug")},
	LevelInfo:  {[]byte("info"), []byte("notice")},
	LevelWarn:  {[]byte("warn")},
	LevelError: {[]byte("err"), []byte("eror"), []byte("panic"), []byte("fatal"), []byte("crit"), []byte("alert"), []byte("emerg")},
}

// logsLevel maps a written level to one of the five levels, ignoring ASCII
// case and slog's offsets ("INFO+2"). Only ASCII is folded so that a level
// is found by the same byte search that ReadPage's level filter runs first.
func logsLevel(s string) string {
	if i := strings.IndexAny(s, "+-"); i > 0 {
		n := s[i+1:]
		if n == "" || strings.Trim(n, "0123456789") != "" {
			return LevelUnknown
		}
		s = s[:i]
	}
	if len(s) > len("emergency") {
		return LevelUnknown
	}
	var lower [len("emergency")]byte
	for i := range len(s) {
		lower[i] = logsLowerASCII(s[i])
	}
	if l, ok := logsLevelNames[string(lower[:len(s)])]; ok {
		return l
	}
	return LevelUnknown
}

func logsEqualFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if logsLowerASCII(a[i]) != logsLowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func logsLowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func logsCompact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw // raw came from the decoder, so this does not happen
	}
	return b.Bytes()
}

func logsAppendString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

// logsObject is a JSON object of a text line's attributes, keeping their
// order; a dotted key (a slog group) becomes nested objects.
type logsObject struct {
	keys []string
	vals []any // string, bool or *logsObject
}

// set adds key=v, descending into the groups of a dotted key. When a group
// name already holds a plain value, the attribute is kept flat under its
// whole dotted key instead. Repeated keys are kept, as slog writes them.
func (o *logsObject) set(key string, v any) {
	path := strings.Split(key, ".")
	cur := o
	for _, k := range path[:len(path)-1] {
		i := cur.find(k)
		if i < 0 {
			child := &logsObject{}
			cur.keys, cur.vals = append(cur.keys, k), append(cur.vals, child)
			cur = child
			continue
		}
		child, ok := cur.vals[i].(*logsObject)
		if !ok {
			o.keys, o.vals = append(o.keys, key), append(o.vals, v)
			return
		}
		cur = child
	}
	cur.keys, cur.vals = append(cur.keys, path[len(path)-1]), append(cur.vals, v)
}

// find is the index of the last group named k, else of the last key k.
func (o *logsObject) find(k string) int {
	found := -1
	for i := len(o.keys) - 1; i >= 0; i-- {
		if o.keys[i] != k {
			continue
		}
		if _, ok := o.vals[i].(*logsObject); ok {
			return i
		}
		if found < 0 {
			found = i
		}
	}
	return found
}

func (o *logsObject) appendJSON(b *bytes.Buffer) {
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		logsAppendString(b, k)
		b.WriteByte(':')
		switch v := o.vals[i].(type) {
		case string:
			logsAppendString(b, v)
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case *logsObject:
			v.appendJSON(b)
		}
	}
	b.WriteByte('}')
}

// LogQuery asks for one page of a log file, newest entries first.
type LogQuery struct {
	// Page is 1-based. Defaults to 1.
	Page int
	// PerPage is how many entries a page holds, at most LogPerPageMax.
	// Defaults to LogPerPageDefault.
	PerPage int
	// Level keeps only entries of exactly this level, one of "debug",
	// "info", "warn" (or "warning"), "error" and "unknown", in any case; ""
	// keeps all. Exact rather than "at least" so that the viewer can single
	// out any one level, the unparseable lines included.
	Level string
	// Search keeps only entries whose raw line holds it, ignoring case.
	Search string
}

// normalized fills in the defaults and checks the bounds.
func (q LogQuery) normalized() (LogQuery, error) {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PerPage == 0 {
		q.PerPage = LogPerPageDefault
	}
	if q.PerPage < 1 || q.PerPage > LogPerPageMax {
		return q, fmt.Errorf("%w: PerPage must be from 1 to %d, got %d", ErrInvalidLogQuery, LogPerPageMax, q.PerPage)
	}
	if q.Page < 1 || q.Page > math.MaxInt/q.PerPage {
		return q, fmt.Errorf("%w: Page must be from 1 to %d, got %d", ErrInvalidLogQuery, math.MaxInt/q.PerPage, q.Page)
	}
	level, ok := logsLevelFilter(q.Level)
	if !ok {
		return q, fmt.Errorf("%w: Level must be one of debug, info, warn, error, unknown or empty, got %q", ErrInvalidLogQuery, q.Level)
	}
	q.Level = level
	return q, nil
}

// logsLevelFilter is the level a LogQuery.Level names, "" for none.
func logsLevelFilter(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	if logsEqualFoldASCII(s, LevelUnknown) {
		return LevelUnknown, true
	}
	for _, name := range [...]string{"debug", "info", "warn", "warning", "error"} {
		if logsEqualFoldASCII(s, name) {
			return logsLevel(name), true
		}
	}
	return "", false
}

// LogPage is one page of entries, newest first. HasMore tells whether an
// older page has entries: counting them all would take reading the whole
// file.
type LogPage struct {
	Entries []LogEntry
	Page    int
	PerPage int
	HasMore bool
}

// LogReader reads pages of a log file from its end, a chunk at a time, so
// that the newest page of a large file costs a few reads whatever its size,
// and no page loads the file whole: memory is bounded by ChunkSize plus
// MaxLineBytes plus the page's entries.
type LogReader struct {
	// Path is the log file. A missing file reads as no entries.
	Path string
	// ChunkSize is how many bytes each read takes, going backwards.
	// Defaults to LogChunkSizeDefault.
	ChunkSize int
	// MaxLineBytes is the longest line kept whole; a longer one is kept cut
	// to its first MaxLineBytes bytes with Truncated set (it then parses as
	// LevelUnknown, and Search sees only the part kept). Defaults to
	// LogLineMaxDefault.
	MaxLineBytes int
	// Rotated is how many rotated files (Path.1, Path.2, …, as LogFile
	// leaves them) are read, newest first, once Path runs out; the first
	// missing one ends the chain. Defaults to LogRotatedDefault; negative
	// reads Path alone.
	Rotated int
	// SortWindow is how many matching entries are held to order pages by
	// time: an entry written up to SortWindow entries away from its place
	// in time (several processes or buffered writers on one file, a clock
	// stepped back) comes out in its place; one written further away comes
	// out where the window lets it. Entries without a time take the time of
	// the entry before them in the file (a stack trace its error's).
	// Reading newest first costs SortWindow more entries than the page
	// holds, each parsed. Defaults to LogSortWindowDefault; negative keeps
	// the files' order.
	SortWindow int

	// open opens a file to read; nil is os.Open. A test counts the bytes a
	// page reads through it.
	open func(name string) (logsFile, error)
}

// logsFile is what reading a log file needs of it.
type logsFile interface {
	io.ReaderAt
	io.Closer
	Stat() (fs.FileInfo, error)
}

func (r LogReader) withDefaults() LogReader {
	if r.ChunkSize <= 0 {
		r.ChunkSize = LogChunkSizeDefault
	}
	if r.MaxLineBytes <= 0 {
		r.MaxLineBytes = LogLineMaxDefault
	}
	if r.Rotated == 0 {
		r.Rotated = LogRotatedDefault
	}
	if r.SortWindow == 0 {
		r.SortWindow = LogSortWindowDefault
	}
	if r.open == nil {
		r.open = func(name string) (logsFile, error) {
			f, err := os.Open(name)
			if err != nil {
				return nil, err // not a nil *os.File in an interface
			}
			return f, nil
		}
	}
	return r
}

// ReadLogPage reads one page of the log file at path with a LogReader's
// defaults.
func ReadLogPage(path string, q LogQuery) (LogPage, error) {
	return LogReader{Path: path}.ReadPage(context.Background(), q)
}

// ReadPage reads the page q asks for, newest first by time: it reads the
// files backwards, orders the matching entries by time within the
// SortWindow, skips (Page-1)*PerPage of them and collects PerPage, reading
// one more to know HasMore. The order depends only on the files, so pages
// of unchanged files neither repeat nor miss an entry. Blank lines are no
// entries. It stops early when ctx is done.
func (r LogReader) ReadPage(ctx context.Context, q LogQuery) (LogPage, error) {
	if r.Path == "" {
		return LogPage{}, errors.New("telecart: LogReader.Path is empty; set it to the log file's path")
	}
	q, err := q.normalized()
	if err != nil {
		return LogPage{}, err
	}
	r = r.withDefaults()
	page := LogPage{Entries: []LogEntry{}, Page: q.Page, PerPage: q.PerPage}
	c := logsCollector{
		match:  logsMatcher{level: q.Level, search: logsNewSearch(q.Search)},
		skip:   (q.Page - 1) * q.PerPage,
		want:   q.PerPage + 1,
		window: max(r.SortWindow, 0),
	}
	names := []string{r.Path}
	for i := 1; i <= r.Rotated; i++ {
		names = append(names, r.Path+"."+strconv.Itoa(i))
	}
	for i, name := range names {
		done, err := c.readFile(ctx, name, r)
		if errors.Is(err, fs.ErrNotExist) {
			if i == 0 {
				continue
			}
			break
		}
		if err != nil {
			return LogPage{}, err
		}
		if done {
			break
		}
	}
	c.drain()
	page.Entries = append(page.Entries, c.entries...)
	if len(page.Entries) > q.PerPage {
		page.Entries, page.HasMore = page.Entries[:q.PerPage], true
	}
	return page, nil
}

// logsCollector gathers a page's entries across the files it reads. With
// a window, matching entries pass through a heap of at most window entries
// that lets out the newest by time, then through skip and collect.
type logsCollector struct {
	match   logsMatcher
	skip    int
	want    int
	entries []LogEntry

	window  int
	heap    logsHeap
	pending []logsItem // entries without a time, waiting for an older one's
	newer   time.Time  // the time of the last timed entry read
	hasNew  bool
	n       int64 // entries read, the tiebreak: earlier read is newer
}

// logsItem is an entry with the time it sorts by.
type logsItem struct {
	e LogEntry
	t time.Time
	n int64
}

// logsHeap is a max-heap of items by time, then by reading order.
type logsHeap []logsItem

func (h logsHeap) newer(i, j int) bool {
	if c := h[i].t.Compare(h[j].t); c != 0 {
		return c > 0
	}
	return h[i].n < h[j].n
}

func (h *logsHeap) push(it logsItem) {
	*h = append(*h, it)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.newer(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *logsHeap) pop() logsItem {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = logsItem{}
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.newer(l, m) {
			m = l
		}
		if r < len(s) && s.newer(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// add takes the next matching entry, older in the files than the last;
// it reports whether the page is full.
func (c *logsCollector) add(e LogEntry) bool {
	if c.window == 0 {
		return c.emit(e)
	}
	c.n++
	if e.Time == nil {
		c.pending = append(c.pending, logsItem{e: e, n: c.n})
		if len(c.pending) <= c.window {
			return false
		}
		// A long run without times: they keep the newer entry's time
		// rather than hold more than the window.
		return c.flushPending(c.newer, c.hasNew)
	}
	if c.flushPending(*e.Time, true) {
		return true
	}
	c.newer, c.hasNew = *e.Time, true
	return c.pushItem(logsItem{e: e, t: *e.Time, n: c.n})
}

// flushPending gives the waiting untimed entries time t (or, without one,
// the latest time, so that at the files' newest end they come first, in
// file order) and lets them into the heap.
func (c *logsCollector) flushPending(t time.Time, ok bool) bool {
	if !ok {
		t = time.Unix(1<<62, 0)
	}
	for i, it := range c.pending {
		it.t = t
		if c.pushItem(it) {
			c.pending = c.pending[i+1:]
			return true
		}
	}
	c.pending = c.pending[:0]
	return false
}

func (c *logsCollector) pushItem(it logsItem) bool {
	c.heap.push(it)
	if len(c.heap) > c.window {
		return c.emit(c.heap.pop().e)
	}
	return false
}

// drain lets out what the window holds once the files have run out.
func (c *logsCollector) drain() {
	if c.window == 0 || len(c.entries) == c.want {
		return
	}
	if c.flushPending(c.newer, c.hasNew) {
		return
	}
	for len(c.heap) > 0 {
		if c.emit(c.heap.pop().e) {
			return
		}
	}
}

// emit skips or collects the next entry of the ordered stream; it reports
// whether the page is full.
func (c *logsCollector) emit(e LogEntry) bool {
	if c.skip > 0 {
		c.skip--
		return false
	}
	c.entries = append(c.entries, e)
	return len(c.entries) == c.want
}

// readFile reads name backwards until the page is full (done) or the file
// runs out. A missing file is an error wrapping fs.ErrNotExist.
func (c *logsCollector) readFile(ctx context.Context, name string, r LogReader) (done bool, err error) {
	f, err := r.open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		return false, fmt.Errorf("telecart: reading log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("telecart: reading log: %w", err)
	}
	if st.IsDir() {
		return false, fmt.Errorf("telecart: reading log: %s is a directory", name)
	}
	sc := logsLineScanner{r: f, bufStart: st.Size(), chunk: r.ChunkSize, maxLine: r.MaxLineBytes}
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		line, truncated, ok, err := sc.prev()
		if err != nil {
			return false, fmt.Errorf("telecart: reading log %s: %w", name, err)
		}
		if !ok {
			return false, nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, parsed, ok := c.match.match(line)
		if !ok {
			continue
		}
		if c.window == 0 && c.skip > 0 {
			c.skip-- // in file order a skipped line needs no parse
			continue
		}
		if !parsed {
			e = ParseLogLine(line)
		}
		e.Truncated = truncated
		if c.add(e) {
			return true, nil
		}
	}
}

// logsMatcher applies a query's filters to a line, parsing it only when the
// level filter needs it.
type logsMatcher struct {
	level  string
	search logsSearch
}

func (m logsMatcher) match(line []byte) (e LogEntry, parsed, ok bool) {
	if !m.search.in(line) {
		return e, false, false
	}
	if m.level == "" {
		return e, false, true
	}
	// A line of a known level holds the level's name unescaped (logsLevel
	// sees only literal strings), so the cheap search rules out most lines
	// before the parse.
	if m.level != LevelUnknown && !logsHasAnyFoldASCII(line, logsLevelWords[m.level]) {
		return e, false, false
	}
	e = ParseLogLine(line)
	return e, true, e.Level == m.level
}

// logsHasAnyFoldASCII reports whether line holds one of words (lower-case
// ASCII), ignoring ASCII case.
func logsHasAnyFoldASCII(line []byte, words [][]byte) bool {
	for _, w := range words {
		if logsIndexFoldASCII(line, w) {
			return true
		}
	}
	return false
}

// logsSearch is a case-insensitive substring search: ASCII letters fold
// byte by byte without allocating; a query with other letters compares
// lower-cased copies.
type logsSearch struct {
	lower []byte
	ascii bool
}

func logsNewSearch(q string) logsSearch {
	lower := []byte(strings.ToLower(q))
	ascii := true
	for _, c := range lower {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	return logsSearch{lower: lower, ascii: ascii}
}

func (s logsSearch) in(line []byte) bool {
	switch {
	case len(s.lower) == 0:
		return true
	case s.ascii:
		return logsIndexFoldASCII(line, s.lower)
	default:
		return bytes.Contains(bytes.ToLower(line), s.lower)
	}
}

// logsIndexFoldASCII reports whether s holds sub (lower-case ASCII) with
// ASCII letters in any case.
func logsIndexFoldASCII(s, sub []byte) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	c0, c1 := sub[0], sub[0]
	if 'a' <= c0 && c0 <= 'z' {
		c1 = c0 - ('a' - 'A')
	}
	end := len(s) - n + 1
	// next0 and next1 are where c0 and c1 next occur at or after i (end when
	// they do not), each found once so that a long line is scanned once.
	next0, next1 := -1, -1
	if c1 == c0 {
		next1 = end
	}
	for i := 0; i < end; i++ {
		if next0 < i {
			next0 = end
			if k := bytes.IndexByte(s[i:end], c0); k >= 0 {
				next0 = i + k
			}
		}
		if next1 < i {
			next1 = end
			if k := bytes.IndexByte(s[i:end], c1); k >= 0 {
				next1 = i + k
			}
		}
		i = min(next0, next1)
		if i == end {
			return false
		}
		k := 1
		for k < n && logsLowerASCII(s[i+k]) == sub[k] {
			k++
		}
		if k == n {
			return true
		}
	}
	return false
}

// logsLineScanner yields a file's lines from the last to the first. It
// holds the not yet returned part of the file's tail that has been read,
// file[bufStart:bufStart+len(buf)], at the front of back; the line
// returned is valid until the next call.
type logsLineScanner struct {
	r        io.ReaderAt
	bufStart int64
	buf      []byte
	back     []byte
	long     []byte // the head of an over-long line
	chunk    int
	maxLine  int
	done     bool
}

// prev returns the line before the last one returned, without its '\n'.
// A line longer than maxLine comes back cut to its first maxLine bytes,
// truncated set, having been scanned but never held whole.
func (s *logsLineScanner) prev() (line []byte, truncated, ok bool, err error) {
	for {
		if s.done {
			return nil, false, false, nil
		}
		if i := bytes.LastIndexByte(s.buf, '\n'); i >= 0 {
			line, s.buf = s.buf[i+1:], s.buf[:i]
			return s.cut(line)
		}
		if s.bufStart == 0 {
			s.done = true
			return s.cut(s.buf)
		}
		if len(s.buf) >= s.maxLine {
			return s.longLine()
		}
		if err := s.fill(); err != nil {
			return nil, false, false, err
		}
	}
}

// cut keeps the first maxLine bytes of a line that happens to have been
// read whole.
func (s *logsLineScanner) cut(line []byte) ([]byte, bool, bool, error) {
	if len(line) > s.maxLine {
		return line[:s.maxLine], true, true, nil
	}
	return line, false, true, nil
}

// fill reads the chunk before buf and puts it in front of it.
func (s *logsLineScanner) fill() error {
	n := int(min(int64(s.chunk), s.bufStart))
	need := n + len(s.buf)
	if cap(s.back) < need {
		nb := make([]byte, need, max(need, min(2*cap(s.back), s.chunk+s.maxLine)))
		copy(nb[n:], s.buf)
		s.back = nb
	} else {
		s.back = s.back[:need]
		copy(s.back[n:], s.buf) // buf is at the front of back: an overlapping move
	}
	if _, err := s.r.ReadAt(s.back[:n], s.bufStart-int64(n)); err != nil {
		return err
	}
	s.bufStart -= int64(n)
	s.buf = s.back[:need]
	return nil
}

// longLine finishes a line that has outgrown maxLine without a '\n': it
// scans back for the line's start, a chunk at a time and keeping nothing,
// then reads the line's first maxLine bytes.
func (s *logsLineScanner) longLine() ([]byte, bool, bool, error) {
	end := s.bufStart + int64(len(s.buf))
	start, pos := int64(0), s.bufStart
	s.buf = nil
	for pos > 0 {
		n := int(min(int64(s.chunk), pos))
		s.back = s.back[:n]
		if _, err := s.r.ReadAt(s.back, pos-int64(n)); err != nil {
			return nil, false, false, err
		}
		pos -= int64(n)
		if i := bytes.LastIndexByte(s.back, '\n'); i >= 0 {
			start = pos + int64(i) + 1
			s.buf = s.back[:i]
			break
		}
	}
	s.bufStart = pos
	if s.buf == nil {
		s.done = true // the line starts the file
	}
	size := min(end-start, int64(s.maxLine))
	if cap(s.long) < int(size) {
		s.long = make([]byte, size)
	}
	s.long = s.long[:size]
	if _, err := s.r.ReadAt(s.long, start); err != nil {
		return nil, false, false, err
	}
	return s.long, end-start > int64(s.maxLine), true, nil
}
