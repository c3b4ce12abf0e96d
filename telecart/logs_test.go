package telecart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/telecart"
)

// logsFixture is testdata/logs/mixed.txt: see testdata/logs/README.md.
const logsFixture = "../testdata/logs/mixed.txt"

// logsWant is what a test expects of an entry; empty fields are not checked
// except Level.
type logsWant struct {
	level, channel, message, context, raw, time string
}

func logsCheck(tb testing.TB, i int, got telecart.LogEntry, want logsWant) {
	tb.Helper()
	if got.Level != want.level {
		tb.Errorf("entry %d: level %q, want %q (raw %q)", i, got.Level, want.level, got.Raw)
	}
	if want.channel != "" && got.Channel != want.channel {
		tb.Errorf("entry %d: channel %q, want %q", i, got.Channel, want.channel)
	}
	if want.message != "" && got.Message != want.message {
		tb.Errorf("entry %d: message %q, want %q", i, got.Message, want.message)
	}
	if want.context != "" && string(got.Context) != want.context {
		tb.Errorf("entry %d: context %s, want %s", i, got.Context, want.context)
	}
	if want.raw != "" && got.Raw != want.raw {
		tb.Errorf("entry %d: raw %q, want %q", i, got.Raw, want.raw)
	}
	if want.time != "" {
		if got.Time == nil {
			tb.Errorf("entry %d: no time, want %s", i, want.time)
		} else if s := got.Time.Format(telecart.LogTimeLayout); s != want.time {
			tb.Errorf("entry %d: time %s, want %s", i, s, want.time)
		}
	}
}

// logsFixtureWant is the fixture's entries, newest first.
var logsFixtureWant = []logsWant{
	{level: "UNKNOWN", raw: `{"time":"2026-11-26T10:00:09.999999+03:00","level":"ERROR","msg":"cut mid-wri`, context: `{}`},
	{level: "INFO", message: "notice", context: `{}`, time: "2026-11-26T10:00:08.000000+03:00"},
	{level: "UNKNOWN", raw: "caf\uFFFD cr\uFFFDme \uFFFD(", message: "caf\uFFFD cr\uFFFDme \uFFFD("},
	{level: "WARN", message: "bad bytes \uFFFD here", time: "2026-11-26T10:00:06.000000+03:00"},
	{level: "UNKNOWN", raw: `{"time":"2026-11-26T10:00:05Z","level":"INFO","msg":"broken",}`},
	{level: "UNKNOWN", raw: "this is not a log line", message: "this is not a log line"},
	{level: "INFO", message: `order "A-1" placed`, context: `{"user":{"id":"7","name":"Ann Lee"},"err":"x"}`, time: "2026-11-26T10:00:04.250000+03:00"},
	{level: "UNKNOWN", raw: "\t/app/main.go:42 +0x1d"},
	{level: "UNKNOWN", raw: "main.handler(0xc000012345)"},
	{level: "UNKNOWN", raw: "goroutine 42 [running]:"},
	{level: "ERROR", message: "panic recovered", context: `{"err":"runtime error: index out of range [3] with length 3"}`, time: "2026-11-26T10:00:03.000001+03:00"},
	{level: "WARN", channel: "db", message: "slow query", context: `{"query":{"sql":"SELECT 1","ms":1500},"attempt":2}`, time: "2026-11-26T10:00:02.500000Z"},
	{level: "DEBUG", channel: "cache", message: "cache warm", context: `{"keys":"42"}`, time: "2026-11-26T10:00:01.000000+03:00"},
	{level: "INFO", channel: "http", message: "server started", context: `{"addr":"127.0.0.1:8080"}`, time: "2026-11-26T10:00:00.123456+03:00"},
}

// logsFixtureOrder is the order ReadPage gives the fixture's entries
// (indexes into logsFixtureWant), newest first by time: the WARN written at
// 10:00:02.5Z is the newest (13:00:02.5 at +03:00); lines without a time
// keep their place after the timed line that follows them in the file.
var logsFixtureOrder = []int{11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13}

// logsByTime is the reference order of ReadPage's pages: entries (one
// filter's matches, newest first in the files) stably sorted newest first
// by time, an entry without one taking the time of the next entry that has
// one (the older neighbour in the file), or coming first when none has.
func logsByTime(entries []telecart.LogEntry) []telecart.LogEntry {
	keys := make([]time.Time, len(entries))
	next, has := time.Time{}, false
	for i := len(entries) - 1; i >= 0; i-- {
		if t := entries[i].Time; t != nil {
			next, has = *t, true
		}
		switch {
		case entries[i].Time != nil:
			keys[i] = *entries[i].Time
		case has:
			keys[i] = next
		default:
			keys[i] = time.Unix(1<<62, 0)
		}
	}
	idx := make([]int, len(entries))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return keys[b].Compare(keys[a]) })
	out := make([]telecart.LogEntry, len(entries))
	for i, j := range idx {
		out[i] = entries[j]
	}
	return out
}

func TestParseLogLine(t *testing.T) {
	for _, tt := range []struct {
		name string
		line string
		want logsWant
	}{
		{"JSON", `{"time":"2026-11-26T10:00:00.123456+03:00","level":"INFO","msg":"hi","a":1}`,
			logsWant{level: "INFO", message: "hi", context: `{"a":1}`, time: "2026-11-26T10:00:00.123456+03:00"}},
		{"JSONGroupsKeptNested", `{"level":"DEBUG","msg":"m","req":{"id":"r1","headers":{"ua":"x"}},"n":[1, 2]}`,
			logsWant{level: "DEBUG", context: `{"req":{"id":"r1","headers":{"ua":"x"}},"n":[1,2]}`}},
		{"JSONOrderAndDuplicatesKept", `{"msg":"m","level":"WARN","z":1,"a":2,"z":3}`,
			logsWant{level: "WARN", context: `{"z":1,"a":2,"z":3}`}},
		{"JSONMessageKey", `{"level":"error","message":"from zerolog"}`, logsWant{level: "ERROR", message: "from zerolog", context: `{}`}},
		{"JSONMsgNotString", `{"level":"INFO","msg":{"k":1}}`, logsWant{level: "INFO", message: `{"k":1}`}},
		{"JSONLoggerIsChannel", `{"level":"INFO","msg":"m","logger":"pulse","component":"sender"}`,
			logsWant{level: "INFO", channel: "pulse", context: `{"component":"sender"}`}},
		{"JSONLevelOffsets", `{"level":"ERROR+4","msg":"m"}`, logsWant{level: "ERROR"}},
		{"JSONLevelWarning", `{"level":"Warning","msg":"m"}`, logsWant{level: "WARN"}},
		{"JSONLevelUnknownName", `{"level":"verbose","msg":"m"}`, logsWant{level: "UNKNOWN", message: "m"}},
		{"JSONLevelEscaped", `{"level":"\u0049NFO","msg":"m"}`, logsWant{level: "UNKNOWN", message: "m"}},
		{"JSONTimeUnparseable", `{"time":"yesterday","level":"INFO","msg":"m"}`, logsWant{level: "INFO", context: `{}`}},
		{"JSONWithoutLevelOrMsg", `{"a":1}`, logsWant{level: "UNKNOWN", message: `{"a":1}`, context: `{}`}},
		{"JSONTrailingData", `{"level":"INFO","msg":"m"} x`, logsWant{level: "UNKNOWN"}},
		{"JSONNotObject", `["level","INFO"]`, logsWant{level: "UNKNOWN"}},
		{"JSONTruncated", `{"level":"INFO","msg":"m`, logsWant{level: "UNKNOWN", message: `{"level":"INFO","msg":"m`}},
		{"Text", `time=2026-11-26T10:00:00.123+03:00 level=INFO msg="hello world" user.id=7 err="x"`,
			logsWant{level: "INFO", message: "hello world", context: `{"user":{"id":"7"},"err":"x"}`, time: "2026-11-26T10:00:00.123000+03:00"}},
		{"TextEscapes", `level=WARN msg="tab\there \"q\" \u00e9" "odd key"="v=1"`,
			logsWant{level: "WARN", message: "tab\there \"q\" é", context: `{"odd key":"v=1"}`}},
		{"TextDeepGroups", `level=INFO msg=m a.b.c=1 a.b.d=2 a.e=3`, logsWant{level: "INFO", context: `{"a":{"b":{"c":"1","d":"2"},"e":"3"}}`}},
		{"TextGroupClashKeptFlat", `level=INFO msg=m user=bob user.id=7`, logsWant{level: "INFO", context: `{"user":"bob","user.id":"7"}`}},
		{"TextEmptyValue", `level=INFO msg="" k=`, logsWant{level: "INFO", message: "", context: `{"k":""}`}},
		{"TextNoLevelNorMsg", `a=1 b=2`, logsWant{level: "UNKNOWN", message: "a=1 b=2"}},
		{"TextBareKey", `level=INFO msg=m oops`, logsWant{level: "INFO", context: `{"oops":true}`}},
		{"TextOpenQuote", `level=INFO msg="never closed`, logsWant{level: "UNKNOWN"}},
		{"TextJunkAfterQuote", `level=INFO msg="a"b`, logsWant{level: "UNKNOWN"}},
		{"CRLF", "level=INFO msg=m\r\n", logsWant{level: "INFO", raw: "level=INFO msg=m"}},
		{"StackTrace", "\tmain.go:12 +0x1d", logsWant{level: "UNKNOWN", message: "\tmain.go:12 +0x1d", context: `{}`}},
		{"InvalidUTF8", "level=INFO msg=\xff\xfe", logsWant{level: "INFO", message: "\uFFFD", raw: "level=INFO msg=\uFFFD"}},
		{"QuotedInvalidUTF8Escape", `level=INFO msg="a\xffb"`, logsWant{level: "INFO", message: "a\uFFFDb"}},
		{"Empty", "", logsWant{level: "UNKNOWN", context: `{}`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logsCheck(t, 0, telecart.ParseLogLine([]byte(tt.line)), tt.want)
		})
	}

	// Ensure JSON renders the time with microseconds and the original offset,
	// and null when there is none.
	t.Run("JSONTime", func(t *testing.T) {
		e := telecart.ParseLogLine([]byte(`{"time":"2026-11-26T10:00:00.5+03:00","level":"INFO","msg":"m"}`))
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw, []byte(`"time":"2026-11-26T10:00:00.500000+03:00","time_raw":"2026-11-26T10:00:00.5+03:00"`)) {
			t.Errorf("JSON %s", raw)
		}
		raw, _ = json.Marshal(telecart.ParseLogLine([]byte("garbage")))
		if !bytes.Contains(raw, []byte(`"time":null`)) || !bytes.Contains(raw, []byte(`"context":{}`)) {
			t.Errorf("JSON %s", raw)
		}
	})
}

// logsReadAll reads every page of path with r and returns the entries.
func logsReadAll(tb testing.TB, r telecart.LogReader, q telecart.LogQuery) []telecart.LogEntry {
	tb.Helper()
	var all []telecart.LogEntry
	for q.Page = 1; ; q.Page++ {
		page, err := r.ReadPage(context.Background(), q)
		if err != nil {
			tb.Fatalf("page %d: %v", q.Page, err)
		}
		if page.Page != q.Page || (q.PerPage != 0 && page.PerPage != q.PerPage) {
			tb.Fatalf("page %d: answered page %d per_page %d", q.Page, page.Page, page.PerPage)
		}
		if page.HasMore && len(page.Entries) != page.PerPage {
			tb.Fatalf("page %d: has_more with %d of %d entries", q.Page, len(page.Entries), page.PerPage)
		}
		all = append(all, page.Entries...)
		if !page.HasMore {
			return all
		}
		if q.Page > 1_000_000 {
			tb.Fatal("no end of pages")
		}
	}
}

func TestReadLogPage_Fixture(t *testing.T) {
	// Ensure a file of every kind of line reads newest first, one entry per
	// non-blank physical line, the bad ones raw and UNKNOWN.
	t.Run("OK", func(t *testing.T) {
		page, err := telecart.ReadLogPage(logsFixture, telecart.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Page != 1 || page.PerPage != 15 || page.HasMore {
			t.Errorf("page %d per_page %d has_more %v, want 1 15 false", page.Page, page.PerPage, page.HasMore)
		}
		if len(page.Entries) != len(logsFixtureWant) {
			t.Fatalf("%d entries, want %d", len(page.Entries), len(logsFixtureWant))
		}
		for i, e := range page.Entries {
			logsCheck(t, logsFixtureOrder[i], e, logsFixtureWant[logsFixtureOrder[i]])
			if !utf8.ValidString(e.Raw) || !json.Valid(e.Context) || e.Truncated {
				t.Errorf("entry %d: raw %q context %s truncated %v", i, e.Raw, e.Context, e.Truncated)
			}
		}
	})

	// Ensure pages split the same sequence, whatever the chunk size.
	t.Run("Paging", func(t *testing.T) {
		for _, chunk := range []int{1, 2, 3, 10, 100, 0} {
			got := logsReadAll(t, telecart.LogReader{Path: logsFixture, ChunkSize: chunk}, telecart.LogQuery{PerPage: 4})
			if len(got) != len(logsFixtureWant) {
				t.Fatalf("chunk %d: %d entries, want %d", chunk, len(got), len(logsFixtureWant))
			}
			for i, e := range got {
				logsCheck(t, logsFixtureOrder[i], e, logsFixtureWant[logsFixtureOrder[i]])
			}
		}
		// In the files' order, as before the window.
		got := logsReadAll(t, telecart.LogReader{Path: logsFixture, SortWindow: -1}, telecart.LogQuery{PerPage: 4})
		for i, e := range got {
			logsCheck(t, i, e, logsFixtureWant[i])
		}
	})

	// Ensure the level filter is exact, ignores case, and finds the
	// unparseable lines with "unknown".
	t.Run("Level", func(t *testing.T) {
		for level, want := range map[string][]int{
			"error":   {10},
			"Warn":    {11, 3},
			"warning": {11, 3},
			"INFO":    {1, 6, 13},
			"debug":   {12},
			"unknown": {0, 2, 4, 5, 7, 8, 9},
		} {
			for _, chunk := range []int{3, 0} {
				got := logsReadAll(t, telecart.LogReader{Path: logsFixture, ChunkSize: chunk}, telecart.LogQuery{PerPage: 2, Level: level})
				if len(got) != len(want) {
					t.Fatalf("level %s: %d entries, want %d", level, len(got), len(want))
				}
				for i, e := range got {
					logsCheck(t, want[i], e, logsFixtureWant[want[i]])
				}
			}
		}
	})

	// Ensure search is a case-insensitive substring of the raw line.
	t.Run("Search", func(t *testing.T) {
		for search, want := range map[string][]int{
			"a-1":         {6},
			"GOROUTINE":   {9},
			"caf":         {2},
			"SELECT 1":    {11},
			"level":       {11, 0, 1, 3, 4, 6, 10, 12, 13},
			"no such row": nil,
		} {
			got := logsReadAll(t, telecart.LogReader{Path: logsFixture}, telecart.LogQuery{Search: search})
			if len(got) != len(want) {
				t.Fatalf("search %q: %d entries, want %d", search, len(got), len(want))
			}
			for i, e := range got {
				logsCheck(t, want[i], e, logsFixtureWant[want[i]])
			}
		}
		// Both filters at once.
		got := logsReadAll(t, telecart.LogReader{Path: logsFixture}, telecart.LogQuery{Search: "level", Level: "unknown"})
		if len(got) != 2 || got[0].Raw != logsFixtureWant[0].raw || got[1].Raw != logsFixtureWant[4].raw {
			t.Errorf("search and level: %+v", got)
		}
	})
}

// logsGenerate writes n random lines of every kind to a file in dir: real
// slog JSON and text output of random lengths, stack lines, garbage, blank
// lines, CRLF endings, invalid UTF-8; the last line has no newline.
func logsGenerate(tb testing.TB, dir string, n int, seed uint64) string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	var buf bytes.Buffer
	jsonLog := telecart.NewFileLogger(&buf, slog.LevelDebug)
	textLog := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2}
	words := []string{"order", "Привет", "payment", "ok", "\"quoted\"", "a=b", "tab\t", "x"}
	for i := range n {
		msg := fmt.Sprintf("line %d", i)
		for range rng.IntN(40) {
			msg += " " + words[rng.IntN(len(words))]
		}
		switch k := rng.IntN(10); {
		case k < 4:
			jsonLog.Log(context.Background(), levels[rng.IntN(len(levels))], msg, "channel", "shop", slog.Group("user", "id", i))
		case k < 7:
			textLog.Log(context.Background(), levels[rng.IntN(len(levels))], msg, "component", "pulse", slog.Group("req", "n", i))
		case k == 7:
			fmt.Fprintf(&buf, "\tgoroutine %d [running]: %s\n", i, strings.Repeat("z", rng.IntN(200)))
		case k == 8:
			fmt.Fprintf(&buf, "garbage %d \xff\xfe %s\r\n", i, msg)
		default:
			buf.WriteString(strings.Repeat(" ", rng.IntN(3)) + "\n")
		}
	}
	data := bytes.TrimRight(buf.Bytes(), "\n")
	path := filepath.Join(dir, fmt.Sprintf("gen-%d.log", seed))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// logsForward is the reference: the file read whole, forwards, one entry a
// non-blank line, reversed.
func logsForward(tb testing.TB, path string) []telecart.LogEntry {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []telecart.LogEntry
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			out = append(out, telecart.ParseLogLine(line))
		}
	}
	slices.Reverse(out)
	return out
}

func logsSameRaws(tb testing.TB, what string, got, want []telecart.LogEntry) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].Raw != want[i].Raw || got[i].Level != want[i].Level || !bytes.Equal(got[i].Context, want[i].Context) {
			tb.Fatalf("%s: entry %d is %q (%s), want %q (%s)", what, i, got[i].Raw, got[i].Level, want[i].Raw, want[i].Level)
		}
	}
}

func TestReadLogPage_Generated(t *testing.T) {
	dir := t.TempDir()

	// Ensure reading backwards in chunks of any size, across pages, yields
	// exactly the file's lines read forwards, filtered or not.
	t.Run("ChunkBoundaries", func(t *testing.T) {
		path := logsGenerate(t, dir, 400, 1)
		all := logsForward(t, path)
		for _, chunk := range []int{1, 5, 64, 333, 0} {
			r := telecart.LogReader{Path: path, ChunkSize: chunk}
			logsSameRaws(t, fmt.Sprintf("chunk %d", chunk), logsReadAll(t, r, telecart.LogQuery{PerPage: 37}), logsByTime(all))
			r.SortWindow = -1
			logsSameRaws(t, fmt.Sprintf("chunk %d in file order", chunk), logsReadAll(t, r, telecart.LogQuery{PerPage: 37}), all)
			r.SortWindow = 0
			for _, q := range []telecart.LogQuery{
				{PerPage: 9, Level: "warn"},
				{PerPage: 11, Level: "unknown"},
				{PerPage: 100, Search: "ПРИВЕТ"},
				{PerPage: 5, Search: "Order", Level: "info"},
			} {
				var want []telecart.LogEntry
				for _, e := range all {
					if (q.Level == "" || strings.EqualFold(e.Level, q.Level)) &&
						strings.Contains(strings.ToLower(e.Raw), strings.ToLower(q.Search)) {
						want = append(want, e)
					}
				}
				if len(want) == 0 {
					t.Fatalf("%+v matches nothing: a useless test", q)
				}
				logsSameRaws(t, fmt.Sprintf("chunk %d, %+v", chunk, q), logsReadAll(t, r, q), logsByTime(want))
			}
		}
	})

	// Ensure a file far larger than the default chunk pages right.
	t.Run("LargerThanChunk", func(t *testing.T) {
		path := logsGenerate(t, dir, 6000, 2)
		if st, err := os.Stat(path); err != nil || st.Size() < 4*telecart.LogChunkSizeDefault {
			t.Fatalf("generated file too small: %v %v", st.Size(), err)
		}
		all := logsByTime(logsForward(t, path))
		logsSameRaws(t, "all", logsReadAll(t, telecart.LogReader{Path: path}, telecart.LogQuery{PerPage: 100}), all)
		page, err := telecart.ReadLogPage(path, telecart.LogQuery{Page: 7})
		if err != nil {
			t.Fatal(err)
		}
		logsSameRaws(t, "page 7", page.Entries, all[6*15:7*15])
		if !page.HasMore {
			t.Error("page 7 has no more")
		}
	})
}

func TestReadLogPage_LongLines(t *testing.T) {
	dir := t.TempDir()
	// Ensure a line longer than MaxLineBytes comes back cut to its head and
	// marked, whatever the chunk size, and the lines around it are intact;
	// one exactly MaxLineBytes long is whole.
	t.Run("OK", func(t *testing.T) {
		const max = 100
		long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
		lines := []string{long('a', 250), "level=INFO msg=short", long('b', max), long('c', max+1), `{"level":"INFO","msg":"` + long('d', 300) + `"}`, long('e', 1000)}
		path := filepath.Join(dir, "long.log")
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{1, 7, 99, 100, 101, 4096} {
			got := logsReadAll(t, telecart.LogReader{Path: path, ChunkSize: chunk, MaxLineBytes: max}, telecart.LogQuery{PerPage: 2})
			if len(got) != len(lines) {
				t.Fatalf("chunk %d: %d entries, want %d", chunk, len(got), len(lines))
			}
			for i, e := range got {
				line := lines[len(lines)-1-i]
				wantRaw, wantCut := line, len(line) > max
				if wantCut {
					wantRaw = line[:max]
				}
				if e.Raw != wantRaw || e.Truncated != wantCut {
					t.Fatalf("chunk %d, entry %d: raw %q truncated %v, want %q %v", chunk, i, e.Raw, e.Truncated, wantRaw, wantCut)
				}
				if wantCut && e.Level != telecart.LevelUnknown {
					t.Errorf("chunk %d, entry %d: a cut line parsed as %s", chunk, i, e.Level)
				}
			}
		}
	})

	// Ensure the default limit is 1 MiB.
	t.Run("Default", func(t *testing.T) {
		path := filepath.Join(dir, "huge.log")
		huge := `{"level":"INFO","msg":"` + strings.Repeat("x", 3<<20) + `"}`
		if err := os.WriteFile(path, []byte("level=INFO msg=before\n"+huge+"\nlevel=INFO msg=after\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		page, err := telecart.ReadLogPage(path, telecart.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != 3 || page.Entries[0].Message != "after" || page.Entries[2].Message != "before" {
			t.Fatalf("entries %d", len(page.Entries))
		}
		if e := page.Entries[1]; !e.Truncated || len(e.Raw) != telecart.LogLineMaxDefault || e.Raw != huge[:telecart.LogLineMaxDefault] {
			t.Errorf("huge line: truncated %v, %d bytes", e.Truncated, len(e.Raw))
		}
	})
}

func TestReadLogPage_Files(t *testing.T) {
	// Ensure a missing file is an empty page, not an error.
	t.Run("Missing", func(t *testing.T) {
		page, err := telecart.ReadLogPage(filepath.Join(t.TempDir(), "nope.log"), telecart.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Entries == nil || len(page.Entries) != 0 || page.HasMore {
			t.Errorf("page %+v", page)
		}
	})

	// Ensure rotated files are read on, newest first, until one is missing.
	t.Run("Rotated", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		write := func(name, msgs string) {
			var b strings.Builder
			for m := range strings.SplitSeq(msgs, ",") {
				b.WriteString("level=INFO msg=" + m + "\n")
			}
			if err := os.WriteFile(name, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write(path, "f,g")
		write(path+".1", "d,e")
		write(path+".2", "b,c")
		write(path+".4", "a") // after a gap: not read
		msgs := func(r telecart.LogReader) string {
			var out []string
			for _, e := range logsReadAll(t, r, telecart.LogQuery{PerPage: 3}) {
				out = append(out, e.Message)
			}
			return strings.Join(out, ",")
		}
		if got := msgs(telecart.LogReader{Path: path}); got != "g,f,e,d,c,b" {
			t.Errorf("rotated: %s", got)
		}
		if got := msgs(telecart.LogReader{Path: path, Rotated: 1}); got != "g,f,e,d" {
			t.Errorf("one rotated: %s", got)
		}
		if got := msgs(telecart.LogReader{Path: path, Rotated: -1}); got != "g,f" {
			t.Errorf("none rotated: %s", got)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if got := msgs(telecart.LogReader{Path: path}); got != "e,d,c,b" {
			t.Errorf("current file missing: %s", got)
		}
	})

	// Ensure bad queries, an empty path and a done context are errors.
	t.Run("Errors", func(t *testing.T) {
		for _, q := range []telecart.LogQuery{{Page: -1}, {PerPage: -1}, {PerPage: 101}, {Level: "verbose"}, {Level: "info+2"}, {Page: 1 << 62, PerPage: 100}} {
			if _, err := telecart.ReadLogPage(logsFixture, q); !errors.Is(err, telecart.ErrInvalidLogQuery) {
				t.Errorf("%+v: %v", q, err)
			}
		}
		if _, err := (telecart.LogReader{}).ReadPage(context.Background(), telecart.LogQuery{}); err == nil {
			t.Error("empty path: no error")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := (telecart.LogReader{Path: logsFixture}).ReadPage(ctx, telecart.LogQuery{}); !errors.Is(err, context.Canceled) {
			t.Errorf("canceled: %v", err)
		}
	})
}

// logsServer mounts a LogsHandler over path as the demo server does.
func logsServer(tb testing.TB, path string) *mux.Router {
	tb.Helper()
	h, err := telecart.NewLogsHandler(telecart.LogsHandlerConfig{Path: path})
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	h.RegisterAdminRoutes(r.PathPrefix("/admin/api").Subrouter())
	return r
}

// logsGet sends GET target and decodes the answer into dst.
func logsGet(tb testing.TB, h http.Handler, target string, want int, dst any) []byte {
	tb.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	if w.Code != want {
		tb.Fatalf("GET %s = %d, want %d: %s", target, w.Code, want, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		tb.Fatalf("GET %s: Content-Type %q", target, ct)
	}
	body := w.Body.Bytes()
	if !utf8.Valid(body) || !json.Valid(body) {
		tb.Fatalf("GET %s: not valid UTF-8 JSON: %q", target, body)
	}
	if dst != nil {
		if err := json.Unmarshal(body, dst); err != nil {
			tb.Fatalf("GET %s: %v", target, err)
		}
	}
	return body
}

type logsAnswer struct {
	Data []telecart.LogEntry `json:"data"`
	Meta struct {
		Page    int  `json:"page"`
		PerPage int  `json:"per_page"`
		HasMore bool `json:"has_more"`
	} `json:"meta"`
}

func TestLogsHandler(t *testing.T) {
	// Ensure the answer holds the parsed entries with times in microseconds,
	// context as JSON, and page, per_page (15 by default) and has_more.
	t.Run("OK", func(t *testing.T) {
		h := logsServer(t, logsFixture)
		var got logsAnswer
		body := logsGet(t, h, "/admin/api/logs", http.StatusOK, &got)
		if got.Meta.Page != 1 || got.Meta.PerPage != 15 || got.Meta.HasMore || len(got.Data) != len(logsFixtureWant) {
			t.Fatalf("meta %+v, %d entries", got.Meta, len(got.Data))
		}
		for i, e := range got.Data {
			logsCheck(t, logsFixtureOrder[i], e, logsFixtureWant[logsFixtureOrder[i]])
		}
		for _, s := range []string{
			`"time":"2026-11-26T10:00:02.500000Z","time_raw":"2026-11-26T10:00:02.5Z","level":"WARN","channel":"db","message":"slow query","context":{"query":{"sql":"SELECT 1","ms":1500},"attempt":2}`,
			`"time":null,"time_raw":"","level":"UNKNOWN","channel":"","message":"this is not a log line","context":{},"raw":"this is not a log line","truncated":false`,
		} {
			if !bytes.Contains(body, []byte(s)) {
				t.Errorf("answer lacks %s", s)
			}
		}
		logsGet(t, h, "/admin/api/logs?per_page=5&page=2&level=unknown", http.StatusOK, &got)
		if got.Meta.Page != 2 || got.Meta.PerPage != 5 || got.Meta.HasMore || len(got.Data) != 2 || got.Data[1].Raw != "goroutine 42 [running]:" {
			t.Errorf("level page 2: meta %+v, %+v", got.Meta, got.Data)
		}
		logsGet(t, h, "/admin/api/logs?search=ORDER%20%5C%22a", http.StatusOK, &got)
		if len(got.Data) != 1 || got.Data[0].Message != `order "A-1" placed` {
			t.Errorf("search: %+v", got.Data)
		}
	})

	// Ensure 15 per page and has_more across pages.
	t.Run("Pages", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		f, err := telecart.OpenLogFile(path, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		log := telecart.NewFileLogger(f, nil)
		for i := range 20 {
			log.Info("hello", "i", i)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		h := logsServer(t, path)
		var got logsAnswer
		logsGet(t, h, "/admin/api/logs", http.StatusOK, &got)
		if len(got.Data) != 15 || !got.Meta.HasMore || string(got.Data[0].Context) != `{"i":19}` {
			t.Errorf("page 1: %d entries, meta %+v, first %s", len(got.Data), got.Meta, got.Data[0].Context)
		}
		logsGet(t, h, "/admin/api/logs?page=2", http.StatusOK, &got)
		if len(got.Data) != 5 || got.Meta.HasMore || string(got.Data[4].Context) != `{"i":0}` {
			t.Errorf("page 2: %d entries, meta %+v", len(got.Data), got.Meta)
		}
		body := logsGet(t, h, "/admin/api/logs?page=3", http.StatusOK, &got)
		if !bytes.Contains(body, []byte(`"data":[]`)) {
			t.Errorf("page 3: %s", body)
		}
	})

	// Ensure a missing log file is an empty page.
	t.Run("MissingFile", func(t *testing.T) {
		body := logsGet(t, logsServer(t, filepath.Join(t.TempDir(), "none.log")), "/admin/api/logs", http.StatusOK, nil)
		if !bytes.Contains(body, []byte(`{"data":[],"meta":{"page":1,"per_page":15,"has_more":false}}`)) {
			t.Errorf("answer %s", body)
		}
	})

	// Ensure bad parameters are 400 with the JSON error shape.
	t.Run("ErrBadRequest", func(t *testing.T) {
		h := logsServer(t, logsFixture)
		for _, q := range []string{
			"page=0", "page=-1", "page=x", "page=100001", "per_page=0", "per_page=101", "per_page=1.5",
			"level=verbose", "level=info%2B2", "search=" + strings.Repeat("x", 201),
		} {
			var e apiError
			logsGet(t, h, "/admin/api/logs?"+q, http.StatusBadRequest, &e)
			if e.Error.Code != "bad_request" || e.Error.Message == "" {
				t.Errorf("%s: error %+v", q, e)
			}
		}
	})
}

func FuzzParseLogLine(f *testing.F) {
	data, err := os.ReadFile(logsFixture)
	if err != nil {
		f.Fatal(err)
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		f.Add(line)
	}
	for _, s := range []string{
		`{"level":"INFO","msg":"m","a":{"b":[1,{"c":null}]}}`,
		`level=INFO msg="a\"b" "k y"="v\x00" a.b.c=1 a.b=2 a=3`,
		`{"level":"\u0049NFO","msg":"\ud800"}`,
		"level=INFO+99999999999999999999 msg=x",
		"time=2026-11-26T10:00:00Z level=info msg=\xff",
		"ts=2026-11-26T07:00:02.5Z level=error msg=\"q \\\"x\\\"\" retry",
		"t=2026-11-26T10:00:03+0300 lvl=dbug msg=skipped",
		`{"level":"dpanic","ts":1795676403.000001,"msg":"m"}`,
		`{"level":"warn","time":1795676404250,"message":"m"}`,
		`{"level":"info","ts":99999999999999999999.9,"msg":"m"}`,
		`[2026-11-26 10:00:02] request.CRITICAL: m {"a":"x\\\"}]"} {"b":[1]}`,
		`[2026-11-26T10:00:03+03:00] app.NOTICE: {braces} [x] ["a"] []`,
		`[2026-11-26T10:00:04+03:00] app.EMERGENCY:  [] []`,
		`[x] a.b.WARNING: "\" [`,
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"zap.txt", "zerolog.txt", "logfmt.txt", "monolog.txt"} {
		data, err := os.ReadFile("../testdata/logs/" + name)
		if err != nil {
			f.Fatal(err)
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e := telecart.ParseLogLine(line)
		if !utf8.ValidString(e.Raw) || !utf8.ValidString(e.Message) || !utf8.ValidString(e.Channel) || !utf8.ValidString(e.TimeRaw) {
			t.Fatalf("invalid UTF-8 in %+v", e)
		}
		if want := strings.ToValidUTF8(string(bytes.TrimRight(line, "\r\n")), "\uFFFD"); e.Raw != want {
			t.Fatalf("raw %q, want %q", e.Raw, want)
		}
		if !json.Valid(e.Context) || !utf8.Valid(e.Context) || e.Context[0] != '{' {
			t.Fatalf("context %q", e.Context)
		}
		switch e.Level {
		case telecart.LevelDebug, telecart.LevelInfo, telecart.LevelWarn, telecart.LevelError:
			// The level filter's byte search relies on this.
			if !slices.ContainsFunc(logsLevelWords[e.Level], func(w string) bool {
				return bytes.Contains(logsASCIILower(line), []byte(w))
			}) {
				t.Fatalf("level %s not written in %q", e.Level, line)
			}
		case telecart.LevelUnknown:
		default:
			t.Fatalf("level %q", e.Level)
		}
		raw, err := json.Marshal(e)
		if err != nil || !json.Valid(raw) || !utf8.Valid(raw) {
			t.Fatalf("marshal: %v %q", err, raw)
		}
		var back telecart.LogEntry
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", raw, err)
		}
		if (back.Time == nil) != (e.Time == nil) || (e.Time != nil && !back.Time.Equal(e.Time.Truncate(time.Microsecond))) {
			t.Fatalf("time %v came back %v", e.Time, back.Time)
		}
	})
}

// logsLevelWords are the words the level filter looks for before it
// parses: every line of a level holds one of them, in any ASCII case.
var logsLevelWords = map[string][]string{
	telecart.LevelDebug: {"debug", "trace", "dbug"},
	telecart.LevelInfo:  {"info", "notice"},
	telecart.LevelWarn:  {"warn"},
	telecart.LevelError: {"err", "eror", "panic", "fatal", "crit", "alert", "emerg"},
}

// logsASCIILower lower-cases ASCII letters only.
func logsASCIILower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}
