package telecart

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// logsTimeLayouts are the written times ParseLogLine reads, RFC 3339 first:
// zap's ISO 8601 encoder writes the offset without a colon, Monolog 1 a
// space and no offset. A time without an offset is taken as UTC.
var logsTimeLayouts = [...]string{
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

// logsParseTime reads a written time; fractional seconds are accepted by
// every layout.
func logsParseTime(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05") || len(s) > 64 {
		return time.Time{}, false
	}
	for _, layout := range logsTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// logsEpochMax is the last second of the year 9999, the latest time the
// viewer renders in RFC 3339.
const logsEpochMax = 253402300799

// logsEpochTime reads a JSON number of epoch seconds (zap's "ts":
// 1732615200.123456), milliseconds, microseconds or nanoseconds (zerolog's
// unix formats), telling them apart by size: below 1e11 are seconds (up to
// the year 5138), below 1e14 milliseconds, below 1e17 microseconds, else
// nanoseconds. The fraction is read as decimal digits, not through a
// float, so microseconds survive. The time is UTC.
func logsEpochTime(s string) (time.Time, bool) {
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > 19 || strings.Trim(intPart, "0123456789") != "" ||
		strings.Trim(frac, "0123456789") != "" || (intPart[0] == '0' && len(intPart) > 1) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return time.Time{}, false // beyond int64's nanoseconds: the year 2262
	}
	// unit is nanoseconds per unit of the number.
	var unit int64
	switch {
	case n < 1e11:
		unit = 1e9
	case n < 1e14:
		unit = 1e6
	case n < 1e17:
		unit = 1e3
	default:
		unit = 1
	}
	perSecond := int64(1e9) / unit
	sec, rem := n/perSecond, n%perSecond
	// The fraction's first nine digits, as nanoseconds of one unit… scaled.
	var fracNanos int64
	digits := 0
	for i := 0; i < len(frac) && digits < 9; i++ {
		fracNanos = fracNanos*10 + int64(frac[i]-'0')
		digits++
	}
	for ; digits < 9; digits++ {
		fracNanos *= 10
	}
	nsec := rem*unit + fracNanos*unit/1e9
	if sec > logsEpochMax {
		return time.Time{}, false
	}
	return time.Unix(sec, nsec).UTC(), true
}

// logsIsNumber reports whether raw is a JSON number.
func logsIsNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9')
}

// logsMonologLevels are Monolog's level names.
var logsMonologLevels = map[string]string{
	"DEBUG": LevelDebug, "INFO": LevelInfo, "NOTICE": LevelInfo, "WARNING": LevelWarn, "ERROR": LevelError,
	"CRITICAL": LevelError, "ALERT": LevelError, "EMERGENCY": LevelError,
}

// logsMonolog parses Monolog's LineFormatter output,
// "[%datetime%] %channel%.%level_name%: %message% %context% %extra%", where
// context and extra are JSON ("[]" when empty) and may be left out. The
// context's members become the entry's Context, with a non-empty extra
// under "extra".
func logsMonolog(s string) (LogEntry, bool) {
	end := strings.Index(s, "] ")
	if end < 0 {
		return LogEntry{}, false
	}
	date, rest := s[1:end], s[end+2:]
	colon := strings.IndexByte(rest, ':')
	if colon < 0 || (colon+1 < len(rest) && rest[colon+1] != ' ') {
		return LogEntry{}, false
	}
	head, body := rest[:colon], ""
	if colon+2 <= len(rest) {
		body = rest[colon+2:]
	}
	dot := strings.LastIndexByte(head, '.')
	if dot <= 0 || strings.ContainsAny(head, " \t") {
		return LogEntry{}, false
	}
	level, ok := logsMonologLevels[head[dot+1:]]
	if !ok {
		return LogEntry{}, false
	}
	e := LogEntry{Level: level, Channel: head[:dot], TimeRaw: date}
	if t, ok := logsParseTime(date); ok {
		e.Time = &t
	}
	var tail []string // the trailing JSON values, last first
	for len(tail) < 2 {
		i, ok := logsTrailingJSON(body)
		if !ok {
			break
		}
		tail = append(tail, body[i:])
		body = strings.TrimSuffix(body[:i], " ")
	}
	var context, extra string
	switch len(tail) {
	case 1:
		context = tail[0]
	case 2:
		context, extra = tail[1], tail[0]
	}
	e.Message = body
	var ctx bytes.Buffer
	ctx.WriteByte('{')
	member := func(key string, raw []byte) {
		if ctx.Len() > 1 {
			ctx.WriteByte(',')
		}
		logsAppendString(&ctx, key)
		ctx.WriteByte(':')
		ctx.Write(logsCompact(raw))
	}
	if strings.HasPrefix(context, "{") {
		fields, _ := logsSplitJSON(context) // logsTrailingJSON checked it
		for _, f := range fields {
			member(f.key, f.raw)
		}
	} else if context != "" && context != "[]" {
		member("context", []byte(context))
	}
	if extra != "" && extra != "[]" && extra != "{}" {
		member("extra", []byte(extra))
	}
	ctx.WriteByte('}')
	e.Context = ctx.Bytes()
	return e, true
}

// logsTrailingJSON finds the JSON object or array that ends s and starts s
// or follows a space: it matches brackets backwards, stepping over strings
// (whose quotes inside are escaped), then checks the value once, so a long
// line costs one pass whatever brackets its message holds.
func logsTrailingJSON(s string) (int, bool) {
	n := len(s)
	if n == 0 || (s[n-1] != '}' && s[n-1] != ']') {
		return 0, false
	}
	depth := 0
	for i := n - 1; i >= 0; i-- {
		switch s[i] {
		case '"':
			j := i - 1
			for j >= 0 && (s[j] != '"' || logsEscaped(s, j)) {
				j--
			}
			if j < 0 {
				return 0, false
			}
			i = j
		case '}', ']':
			depth++
		case '{', '[':
			depth--
			if depth == 0 {
				if (i == 0 || s[i-1] == ' ') && json.Valid([]byte(s[i:])) {
					return i, true
				}
				return 0, false
			}
		}
	}
	return 0, false
}

// logsEscaped reports whether s[j] follows an odd run of backslashes.
func logsEscaped(s string, j int) bool {
	k := j - 1
	for k >= 0 && s[k] == '\\' {
		k--
	}
	return (j-k-1)%2 == 1
}
