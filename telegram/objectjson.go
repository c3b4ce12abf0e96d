package telegram

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The user, receiver and chat fields of init data are small flat JSON
// objects. Decoding them with encoding/json was about half of a validation,
// so flatObject decodes the shapes Telegram sends: an object whose values are
// strings, integers, booleans or null. Anything else it does not try to
// understand — nested values, exponents, surrogate escapes, invalid UTF-8,
// keys that differ from a field's name only in case — and the caller falls
// back to encoding/json, so the result is always encoding/json's. A fuzz
// test holds the two to the same answers.

// jsonValue is one member's value as flatObject saw it.
type jsonValue struct {
	kind jsonKind
	str  string // jsonString: the unescaped text
	num  int64  // jsonInt
	b    bool   // jsonBool
}

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonString
	jsonInt
	jsonBool
)

// flatObject walks the object s and calls set for each member, in order.
// set answers false when it cannot take the value (a type encoding/json
// would refuse, or an unknown key that folds to a known one); flatObject
// then stops and answers false, and so does it for any input it does not
// handle or that is not valid JSON.
func flatObject(s string, set func(key string, v jsonValue) bool) bool {
	if !utf8.ValidString(s) {
		return false // encoding/json replaces invalid bytes with U+FFFD
	}
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return skipSpace(s, i+1) == len(s)
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return false
		}
		key, n, escaped := readString(s, i)
		if n < 0 || escaped {
			return false // an escaped key could spell a field's name
		}
		i = skipSpace(s, n)
		if i >= len(s) || s[i] != ':' {
			return false
		}
		i = skipSpace(s, i+1)
		var v jsonValue
		if i >= len(s) {
			return false
		}
		switch c := s[i]; {
		case c == '"':
			v.kind = jsonString
			v.str, n, _ = readString(s, i)
		case c == '-' || (c >= '0' && c <= '9'):
			v.kind = jsonInt
			v.num, n = readInteger(s, i)
		case strings.HasPrefix(s[i:], "true"):
			v.kind, v.b, n = jsonBool, true, i+4
		case strings.HasPrefix(s[i:], "false"):
			v.kind, n = jsonBool, i+5
		case strings.HasPrefix(s[i:], "null"):
			n = i + 4
		default:
			return false // an object or array: not Telegram's shape
		}
		if n < 0 || !set(key, v) {
			return false
		}
		i = skipSpace(s, n)
		if i >= len(s) {
			return false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return skipSpace(s, i+1) == len(s)
		default:
			return false
		}
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// readString reads the string that opens at s[i] == '"' and answers its
// text, the index after its closing quote (or -1 when it is not one this
// decoder takes), and whether it had escapes. Without escapes the text is a
// substring of s: no copy.
func readString(s string, i int) (string, int, bool) {
	start := i + 1
	j := start
	for j < len(s) {
		c := s[j]
		if c == '"' {
			return s[start:j], j + 1, false
		}
		if c == '\\' {
			return jsonUnescape(s, start, j)
		}
		if c < 0x20 {
			return "", -1, false
		}
		j++
	}
	return "", -1, false
}

// jsonUnescape finishes a string with escapes that readString found at
// s[j]. Telegram escapes '/' in photo URLs; \u escapes of surrogates are
// left to encoding/json.
func jsonUnescape(s string, start, j int) (string, int, bool) {
	// The text is no longer than the quoted string: find its end first, so
	// the copy is sized to it rather than to the rest of the object.
	end := j
	for end < len(s) && s[end] != '"' {
		if s[end] == '\\' {
			end++
		}
		end++
	}
	b := make([]byte, 0, end-start)
	b = append(b, s[start:j]...)
	for j < len(s) {
		c := s[j]
		switch {
		case c == '"':
			return string(b), j + 1, true
		case c < 0x20:
			return "", -1, true
		case c != '\\':
			b = append(b, c)
			j++
			continue
		}
		if j+1 >= len(s) {
			return "", -1, true
		}
		switch e := s[j+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if j+6 > len(s) {
				return "", -1, true
			}
			r, err := strconv.ParseUint(s[j+2:j+6], 16, 32)
			if err != nil || s[j+2] == '+' || utf8.RuneLen(rune(r)) < 0 || (r >= 0xD800 && r < 0xE000) {
				return "", -1, true
			}
			b = utf8.AppendRune(b, rune(r))
			j += 6
			continue
		default:
			return "", -1, true
		}
		j += 2
	}
	return "", -1, true
}

// readInteger reads -?(0|[1-9][0-9]*) at s[i] that fits an int64, and the
// index after it; -1 for anything else (fractions and exponents included:
// encoding/json refuses them for an int64, and they need no fast path).
func readInteger(s string, i int) (int64, int) {
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	digits := j
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == digits || (s[digits] == '0' && j-digits > 1) {
		return 0, -1
	}
	if j < len(s) && (s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
		return 0, -1
	}
	n, err := strconv.ParseInt(s[i:j], 10, 64)
	if err != nil {
		return 0, -1
	}
	return n, j
}

// unknownKey says whether flatObject may skip the member key, which matches
// no field exactly: not when encoding/json would match it to a field by
// folding case (it folds non-ASCII letters such as 'ſ' and 'K' too).
func unknownKey(key string, fields ...string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return false
		}
	}
	for _, f := range fields {
		if strings.EqualFold(key, f) {
			return false
		}
	}
	return true
}

var userFields = []string{"id", "is_bot", "first_name", "last_name", "username", "language_code", "is_premium", "added_to_attachment_menu", "allows_write_to_pm", "photo_url"}

// decodeUserFlat is encoding/json's decoding of s into u for the shapes
// flatObject takes; false means use encoding/json.
func decodeUserFlat(s string, u *User) bool {
	return flatObject(s, func(key string, v jsonValue) bool {
		switch key {
		case "id":
			return v.setInt(&u.ID)
		case "is_bot":
			return v.setBool(&u.IsBot)
		case "first_name":
			return v.setString(&u.FirstName)
		case "last_name":
			return v.setString(&u.LastName)
		case "username":
			return v.setString(&u.Username)
		case "language_code":
			return v.setString(&u.LanguageCode)
		case "is_premium":
			return v.setBool(&u.IsPremium)
		case "added_to_attachment_menu":
			return v.setBool(&u.AddedToAttachmentMenu)
		case "allows_write_to_pm":
			return v.setBool(&u.AllowsWriteToPM)
		case "photo_url":
			return v.setString(&u.PhotoURL)
		}
		return unknownKey(key, userFields...)
	})
}

var chatFields = []string{"id", "type", "title", "username", "photo_url"}

// decodeChatFlat is decodeUserFlat for a Chat.
func decodeChatFlat(s string, c *Chat) bool {
	return flatObject(s, func(key string, v jsonValue) bool {
		switch key {
		case "id":
			return v.setInt(&c.ID)
		case "type":
			return v.setString(&c.Type)
		case "title":
			return v.setString(&c.Title)
		case "username":
			return v.setString(&c.Username)
		case "photo_url":
			return v.setString(&c.PhotoURL)
		}
		return unknownKey(key, chatFields...)
	})
}

// The setters follow encoding/json: null leaves the field as it is, another
// type is an error (here: not handled).

func (v jsonValue) setInt(dst *int64) bool {
	switch v.kind {
	case jsonNull:
		return true
	case jsonInt:
		*dst = v.num
		return true
	}
	return false
}

func (v jsonValue) setBool(dst *bool) bool {
	switch v.kind {
	case jsonNull:
		return true
	case jsonBool:
		*dst = v.b
		return true
	}
	return false
}

func (v jsonValue) setString(dst *string) bool {
	switch v.kind {
	case jsonNull:
		return true
	case jsonString:
		*dst = v.str
		return true
	}
	return false
}
