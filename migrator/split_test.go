package migrator

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"Empty", "", nil},
		{"OnlyComments", "-- a\n/* b; */\n# c;\n", nil},
		{"Two", "CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);", []string{"CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"}},
		{"NoTrailingSemicolon", "SELECT 1", []string{"SELECT 1"}},
		{"SemicolonInString", "INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`);SELECT 2;", []string{"INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`)", "SELECT 2"}},
		{"EscapedQuote", `INSERT INTO t VALUES ('it\'s;', 'x''y;');`, []string{`INSERT INTO t VALUES ('it\'s;', 'x''y;')`}},
		{"SemicolonInComments", "SELECT 1 -- not; here\n;/* nor; here */SELECT 2 # nor; this\n;", []string{"SELECT 1 -- not; here", "/* nor; here */SELECT 2 # nor; this"}},
		{"EmptyPieces", ";;  ;\nSELECT 1;;", []string{"SELECT 1"}},
		{"UnterminatedQuote", "SELECT 'abc;", []string{"SELECT 'abc;"}},
		{"UnterminatedComment", "SELECT 1; /* open", []string{"SELECT 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SplitStatements(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SplitStatements(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Ensure the splitter never panics and never invents text: every statement
// is a substring of the input without a leading or trailing space.
func FuzzSplitStatements(f *testing.F) {
	for _, s := range []string{"SELECT 1;", "'a;b';\"", "-- x\n;", "/*", "`;`;\\", "#;\n;x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, s := range SplitStatements(in) {
			if s == "" || !strings.Contains(in, s) || strings.TrimSpace(s) != s {
				t.Fatalf("bad statement %q from %q", s, in)
			}
		}
	})
}
