package httpx

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Thu, 26 Nov 2026 12:01:30 GMT", 90 * time.Second, true},
		{"Thursday, 26-Nov-26 12:00:10 GMT", 10 * time.Second, true}, // RFC 850
		{"Thu Nov 26 12:00:05 2026", 5 * time.Second, true},          // ANSI C
		{"Thu, 26 Nov 2026 11:00:00 GMT", 0, true},                   // in the past
		{"99999999999999999999", time.Duration(math.MaxInt64), true}, // huge: the caller clamps
		{"9223372036854775807", time.Duration(math.MaxInt64), true},  // overflows as a Duration
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"12abc", 0, false},
	} {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// Ensure ParseRetryAfter never panics, never returns a negative wait, reads
// every whole number of seconds exactly, and every date it accepts as the
// time until that date.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", " 7 ", "-1", "1e3", "Thu, 26 Nov 2026 12:01:30 GMT",
		"Thursday, 26-Nov-26 12:00:10 GMT", "99999999999999999999", "0x10", "\t3\n"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %s, %v", v, d, ok)
		}
		s := strings.TrimSpace(v)
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			if !ok || d != time.Duration(n)*time.Second {
				t.Fatalf("ParseRetryAfter(%q) = %s, %v; want %ds", v, d, ok, n)
			}
		}
		if at, err := http.ParseTime(s); err == nil && s != "" && (s[0] < '0' || s[0] > '9') {
			if want := max(at.Sub(now), 0); !ok || d != want {
				t.Fatalf("ParseRetryAfter(%q) = %s, %v; want %s", v, d, ok, want)
			}
		}
	})
}
