package httpx

import (
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/tcerr"
)

func TestQueryInt(t *testing.T) {
	for _, tt := range []struct {
		name  string
		query string
		want  int
		msg   string // "" when no error
	}{
		// Ensure an absent or empty parameter gives the default, which
		// may lie outside the range.
		{"Absent", "", -7, ""},
		{"Empty", "page=", -7, ""},
		{"Spaces", "page=%20%20", -7, ""},
		{"OK", "page=3", 3, ""},
		{"Low", "page=1", 1, ""},
		{"High", "page=10", 10, ""},
		{"Trimmed", "page=%204%20", 4, ""},
		{"Plus", "page=%2B5", 5, ""},
		// Ensure every refusal names the parameter and the range.
		{"BelowRange", "page=0", 0, `page must be a whole number from 1 to 10, got "0"`},
		{"Negative", "page=-2", 0, `page must be a whole number from 1 to 10, got "-2"`},
		{"AboveRange", "page=11", 0, `page must be a whole number from 1 to 10, got "11"`},
		{"NotNumber", "page=ten", 0, `page must be a whole number from 1 to 10, got "ten"`},
		{"Fraction", "page=1.5", 0, `page must be a whole number from 1 to 10, got "1.5"`},
		{"Overflow", "page=99999999999999999999999", 0, `page must be a whole number from 1 to 10, got "99999999999999999999999"`},
		{"Long", "page=" + strings.Repeat("9", 100), 0, `got "` + strings.Repeat("9", 40) + `"`}, // cut to 40 characters,
		{"Repeated", "page=1&page=2", 0, "page is given more than once"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := QueryInt(q, "page", -7, 1, 10)
			if tt.msg == "" {
				if err != nil || got != tt.want {
					t.Fatalf("QueryInt(%q) = %d, %v; want %d", tt.query, got, err, tt.want)
				}
				return
			}
			var e *tcerr.Error
			if !errors.As(err, &e) || e.Kind != tcerr.Invalid || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("QueryInt(%q) = %d, %v; want an Invalid error containing %q", tt.query, got, err, tt.msg)
			}
		})
	}
}

// Ensure QueryInt never panics, returns a number in range or the default,
// agrees with strconv.Atoi, and refuses everything else with an Invalid
// error naming the parameter.
func FuzzQueryInt(f *testing.F) {
	for _, s := range []string{"", "1", " 42 ", "-1", "+3", "0x10", "1e3", "99999999999999999999", "١٢", "\x00", "5\n"} {
		f.Add(s, 1, 100)
	}
	f.Add("7", math.MinInt, math.MaxInt)
	f.Fuzz(func(t *testing.T, v string, lo, hi int) {
		const def = -12345
		got, err := QueryInt(url.Values{"n": {v}}, "n", def, lo, hi)
		s := strings.TrimSpace(v)
		n, atoiErr := strconv.Atoi(s)
		switch {
		case s == "":
			if err != nil || got != def {
				t.Fatalf("QueryInt(%q) = %d, %v; want the default", v, got, err)
			}
		case atoiErr == nil && lo <= n && n <= hi:
			if err != nil || got != n {
				t.Fatalf("QueryInt(%q, %d, %d) = %d, %v; want %d", v, lo, hi, got, err, n)
			}
		default:
			if tcerr.KindOf(err) != tcerr.Invalid || !strings.HasPrefix(err.Error(), "n must be a whole number from ") {
				t.Fatalf("QueryInt(%q, %d, %d) = %d, %v; want an Invalid error", v, lo, hi, got, err)
			}
		}
	})
}
