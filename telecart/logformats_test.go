package telecart_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/telecart-go/telecart/telecart"
)

// logsFormatFixtures are testdata/logs' files of one logger each, with the
// entries they parse into, in file order (see testdata/logs/README.md).
var logsFormatFixtures = map[string][]logsWant{
	"zap.txt": {
		{level: "INFO", channel: "shop", message: "server started", time: "2026-11-26T07:00:00.123456Z",
			context: `{"caller":"shop/main.go:42","addr":":8080"}`},
		{level: "WARN", message: "slow cart", time: "2026-11-26T07:00:01.500000Z",
			context: `{"caller":"shop/cart.go:17","took":0.75,"items":[1,2]}`},
		{level: "ERROR", message: "payment failed", time: "2026-11-26T07:00:02.000000Z",
			context: `{"caller":"shop/pay.go:9","error":"card declined","stacktrace":"main.pay\n\tshop/pay.go:9"}`},
		{level: "ERROR", message: "impossible state", time: "2026-11-26T07:00:03.000001Z", context: `{}`},
		{level: "DEBUG", message: "iso8601 encoder", time: "2026-11-26T10:00:04.250000+03:00", context: `{"n":1}`},
	},
	"zerolog.txt": {
		{level: "INFO", message: "server started", time: "2026-11-26T10:00:00.000000+03:00", context: `{"port":8080}`},
		{level: "DEBUG", channel: "cache", message: "cache miss", time: "2026-11-26T10:00:01.500000+03:00", context: `{"key":"p1"}`},
		{level: "ERROR", message: "pulse batch failed", time: "2026-11-26T10:00:02.000000+03:00", context: `{"error":"timeout"}`},
		{level: "ERROR", message: "unix seconds", time: "2026-11-26T07:00:03.000000Z", context: `{}`},
		{level: "WARN", message: "unix milliseconds", time: "2026-11-26T07:00:04.250000Z", context: `{}`},
		{level: "ERROR", message: "unix microseconds", time: "2026-11-26T07:00:05.000001Z", context: `{}`},
		{level: "UNKNOWN", message: "no level", time: "2026-11-26T10:00:06.000000+03:00", context: `{}`},
	},
	"logfmt.txt": {
		{level: "INFO", message: "server started", time: "2026-11-26T10:00:00.123000+03:00", context: `{"addr":"127.0.0.1:8080"}`},
		{level: "WARN", message: "disk almost full", time: "2026-11-26T10:00:01.000000+03:00", context: `{"free":"5%","path":"/var"}`},
		{level: "ERROR", message: "query failed", time: "2026-11-26T07:00:02.500000Z",
			context: `{"caller":"main.go:12","err":"syntax error at \"FROM\"","retry":true}`},
		{level: "DEBUG", message: "skipped", time: "2026-11-26T10:00:03.000000+03:00", context: `{}`},
		{level: "INFO", message: "log15 style", time: "2026-11-26T10:00:04.000000+03:00", context: `{"module":"pulse"}`},
		{level: "DEBUG", raw: "level=debug msg= empty=", context: `{"empty":""}`},
	},
	"monolog.txt": {
		{level: "INFO", channel: "app", message: "Order placed", time: "2026-11-26T10:00:00.123456+03:00",
			context: `{"order_id":42,"total":"1 314,52 ₽"}`},
		{level: "WARN", channel: "telecart", message: "Pulse is slow", time: "2026-11-26T10:00:01.000000+03:00",
			context: `{"extra":{"uid":"a1b2c3"}}`},
		{level: "ERROR", channel: "request", message: "Uncaught Exception: division by zero", time: "2026-11-26T10:00:02.000000Z",
			context: `{"exception":"[object] (DivisionByZeroError(code: 0): Division by zero at /var/www/index.php:12)","extra":{"url":"/checkout?x=[1]","ip":"127.0.0.1"}}`},
		{level: "INFO", channel: "app", message: "Message with {braces} and [brackets]", time: "2026-11-26T10:00:03.000000+03:00",
			context: `{"context":["a","b"]}`},
		{level: "DEBUG", channel: "app", message: "no context at all", time: "2026-11-26T10:00:04.000000+03:00", context: `{}`},
		{level: "ERROR", channel: "security", message: `quote \" and }] inside`, time: "2026-11-26T10:00:05.000000+03:00",
			context: `{"s":"x\\\"}]"}`},
		{level: "ERROR", channel: "app", raw: "[2026-11-26T10:00:06+03:00] app.EMERGENCY:  [] []", time: "2026-11-26T10:00:06.000000+03:00", context: `{}`},
		{level: "UNKNOWN", message: "[not a date] app.UNKNOWNLEVEL: not monolog [] []", context: `{}`},
	},
}

// Ensure each logger's fixture parses line by line into level, time,
// message, channel and context.
func TestParseLogLine_Formats(t *testing.T) {
	for name, want := range logsFormatFixtures {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("../testdata/logs/" + name)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
			if len(lines) != len(want) {
				t.Fatalf("%d lines, want %d", len(lines), len(want))
			}
			for i, line := range lines {
				e := telecart.ParseLogLine(line)
				logsCheck(t, i, e, want[i])
				if want[i].time == "" && e.Time != nil {
					t.Errorf("entry %d: time %v, want none", i, e.Time)
				}
				if want[i].message == "" && want[i].level != "UNKNOWN" && e.Message != "" {
					t.Errorf("entry %d: message %q, want none", i, e.Message)
				}
			}
		})
	}
}

// Ensure the edges of the formats: times the viewer cannot place, levels it
// does not know, JSON that does not end a Monolog line.
func TestParseLogLine_FormatEdges(t *testing.T) {
	for _, tt := range []struct {
		name string
		line string
		want logsWant
	}{
		{"EpochNegative", `{"level":"info","ts":-1,"msg":"m"}`, logsWant{level: "INFO", context: `{}`}},
		{"EpochExponent", `{"level":"info","ts":1.7e9,"msg":"m"}`, logsWant{level: "INFO", context: `{}`}},
		{"EpochNanoseconds", `{"level":"info","ts":1795676400123456789,"msg":"m"}`, logsWant{level: "INFO", time: "2026-11-26T07:00:00.123456Z"}},
		{"EpochZero", `{"level":"info","time":0,"msg":"m"}`, logsWant{level: "INFO", time: "1970-01-01T00:00:00.000000Z"}},
		{"EpochHuge", `{"level":"info","ts":99999999999999999999,"msg":"m"}`, logsWant{level: "INFO", context: `{}`}},
		{"TimeKeyFirstWins", `{"ts":1795676400,"time":"2026-11-26T10:00:00+03:00","level":"info","msg":"m"}`,
			logsWant{level: "INFO", time: "2026-11-26T07:00:00.000000Z", context: `{"time":"2026-11-26T10:00:00+03:00"}`}},
		{"ZoneLessIsUTC", `level=info msg=m time="2026-11-26 10:00:00"`, logsWant{level: "INFO", time: "2026-11-26T10:00:00.000000Z"}},
		{"ShortTNotATime", `level=info msg=m t=5`, logsWant{level: "INFO", context: `{"t":"5"}`}},
		{"Log15Eror", `lvl=eror msg=m`, logsWant{level: "ERROR"}},
		{"SeverityKey", `{"severity":"WARNING","message":"gcp"}`, logsWant{level: "WARN", message: "gcp"}},
		{"LevelNameTooLong", `{"level":"emergencyyy","msg":"m"}`, logsWant{level: "UNKNOWN", message: "m"}},
		{"BareKeysOnly", `this is not a log line`, logsWant{level: "UNKNOWN", message: "this is not a log line"}},
		{"BareLevelKey", `level error happened`, logsWant{level: "UNKNOWN", message: "level error happened"}},
		{"MonologNoSpaceAfterColon", `[2026-11-26 10:00:00] app.INFO:x`, logsWant{level: "UNKNOWN"}},
		{"MonologChannelWithSpace", `[2026-11-26 10:00:00] my app.INFO: m`, logsWant{level: "UNKNOWN"}},
		{"MonologLowercaseLevel", `[2026-11-26 10:00:00] app.info: m`, logsWant{level: "UNKNOWN"}},
		{"MonologBadTrailingJSON", `[2026-11-26 10:00:00] app.INFO: m {"a":} []`, logsWant{level: "INFO", message: `m {"a":}`, time: "2026-11-26T10:00:00.000000Z", context: `{}`}},
		{"MonologJSONGlued", `[2026-11-26 10:00:00] app.INFO: m{"a":1}`, logsWant{level: "INFO", message: `m{"a":1}`, time: "2026-11-26T10:00:00.000000Z", context: `{}`}},
		{"MonologUnbalanced", `[2026-11-26 10:00:00] app.INFO: m "]`, logsWant{level: "INFO", message: `m "]`, time: "2026-11-26T10:00:00.000000Z", context: `{}`}},
		{"MonologEmptyChannel", `[2026-11-26 10:00:00] .INFO: m`, logsWant{level: "UNKNOWN"}},
		{"MonologBadDate", `[yesterday] app.ERROR: m`, logsWant{level: "ERROR", channel: "app", message: "m", context: `{}`}},
		{"SlogTextLogfmtBare", `level=INFO msg=m oops`, logsWant{level: "INFO", context: `{"oops":true}`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := telecart.ParseLogLine([]byte(tt.line))
			logsCheck(t, 0, e, tt.want)
			if tt.want.time == "" && e.Time != nil {
				t.Errorf("time %v, want none", e.Time)
			}
		})
	}
}
