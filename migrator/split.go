package migrator

import "strings"

// SplitStatements splits the text of a migration file into statements at
// semicolons outside quotes ('…', "…", `…`) and comments (--, #, /* */).
// Pieces that hold only whitespace and comments are dropped. Statements are
// returned trimmed and without their terminating semicolon.
func SplitStatements(text string) []string {
	var (
		out     []string
		start   int
		content bool // the current piece has something besides comments
	)
	flush := func(end int) {
		if content {
			if s := strings.TrimSpace(text[start:end]); s != "" {
				out = append(out, s)
			}
		}
		content = false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			content = true
			i = skipQuoted(text, i)
		case c == '-' && i+1 < len(text) && text[i+1] == '-', c == '#':
			i = skipLine(text, i)
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				i = len(text)
			} else {
				i += 2 + end + 1
			}
		case c == ';':
			flush(i)
			start = i + 1
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			content = true
		}
	}
	flush(len(text))
	return out
}

// skipQuoted returns the index of the quote closing the one at i (or the last
// index when unterminated). Backslash escapes are honoured inside '…' and
// "…", as MySQL does; a doubled quote closes and reopens, which works out the
// same.
func skipQuoted(text string, i int) int {
	q := text[i]
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			return j
		}
	}
	return len(text) - 1
}

func skipLine(text string, i int) int {
	if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(text) - 1
}
