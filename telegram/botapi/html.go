package botapi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HTMLError is the first place where a text leaves Telegram's HTML subset
// (ParseModeHTML): Telegram would refuse the message with 400 "can't parse
// entities".
type HTMLError struct {
	// Offset is the problem's byte offset in the text; Char is the same
	// place as a 1-based character (rune) position, for people.
	Offset, Char int
	// Problem says what is wrong, e.g. `unsupported tag <img>`.
	Problem string
}

func (e *HTMLError) Error() string {
	return fmt.Sprintf("%s at character %d", e.Problem, e.Char)
}

// htmlTags are the tags of Telegram's HTML style, with their aliases.
var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "tg-emoji": true, "code": true, "pre": true, "blockquote": true,
}

// htmlEntities are the only named entities Telegram decodes.
var htmlEntities = map[string]bool{"lt": true, "gt": true, "amp": true, "quot": true}

// linkSchemes are the schemes Telegram opens from a link; a link without a
// scheme is taken as http.
var linkSchemes = map[string]bool{"http": true, "https": true, "tg": true, "ton": true}

// CheckHTML reports whether text is valid in Telegram's HTML style, as
// Telegram's Bot API documents it, and returns an *HTMLError naming the
// first problem and its position when it is not:
//
//   - only the tags b, strong, i, em, u, ins, s, strike, del, tg-spoiler,
//     span class="tg-spoiler", a href, tg-emoji emoji-id, code (with an
//     optional class="language-…"), pre and blockquote (with an optional
//     expandable);
//   - every tag closed, in order (no overlap);
//   - no tag inside code or pre (but code directly inside pre), no link in
//     a link, no blockquote in a blockquote;
//   - a bare <, > or & outside a tag written &lt;, &gt; or &amp;: the only
//     named entities are &lt; &gt; &amp; &quot;, numeric ones (&#8381;,
//     &#x20BD;) are all allowed;
//   - some text besides the tags.
//
// Telegram itself forgives a little more (a lone & or >); the documented
// rules are what it promises to accept. Values put into a template through
// EscapeHTML never break these rules, inside or between tags.
func CheckHTML(text string) error {
	p := htmlChecker{text: text}
	return p.check()
}

type htmlChecker struct {
	text    string
	stack   []openTag
	visible bool // some text besides tags and white space
}

type openTag struct {
	name string
	at   int
}

func (p *htmlChecker) fail(at int, format string, args ...any) error {
	return &HTMLError{Offset: at, Char: utf8.RuneCountInString(p.text[:at]) + 1, Problem: fmt.Sprintf(format, args...)}
}

func (p *htmlChecker) check() error {
	s := p.text
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			n, err := p.tag(i)
			if err != nil {
				return err
			}
			i = n
		case '>':
			return p.fail(i, `unescaped ">"; write &gt;`)
		case '&':
			n, err := p.entity(i)
			if err != nil {
				return err
			}
			p.visible = true
			i = n
		default:
			if !isHTMLSpace(s[i]) {
				p.visible = true
			}
			i++
		}
	}
	if len(p.stack) > 0 {
		top := p.stack[len(p.stack)-1]
		return p.fail(top.at, "<%s> is never closed; add </%s>", top.name, top.name)
	}
	if !p.visible {
		return p.fail(len(s), "no text besides the tags")
	}
	return nil
}

// entity reads the entity at s[i] == '&' and returns the offset after it.
func (p *htmlChecker) entity(i int) (int, error) {
	s := p.text
	end := strings.IndexByte(s[i:], ';')
	// The longest valid entity, &#x10FFFF;, has 10 bytes.
	if end < 0 || end > 10 {
		return 0, p.fail(i, `unescaped "&"; write &amp;`)
	}
	name := s[i+1 : i+end]
	switch {
	case htmlEntities[name]:
		return i + end + 1, nil
	case strings.HasPrefix(name, "#"):
		if _, ok := entityRune(name); !ok {
			return 0, p.fail(i, "&%s; is not a character", name)
		}
		return i + end + 1, nil
	case isTagName(name):
		return 0, p.fail(i, "unsupported entity &%s;: only &lt; &gt; &amp; &quot; and numeric ones", name)
	}
	return 0, p.fail(i, `unescaped "&"; write &amp;`)
}

// tag reads the tag at s[i] == '<' and returns the offset after it.
func (p *htmlChecker) tag(i int) (int, error) {
	s := p.text
	j := i + 1
	closing := j < len(s) && s[j] == '/'
	if closing {
		j++
	}
	start := j
	for j < len(s) && isTagNameByte(s[j]) && (j > start || isLetter(s[j])) {
		j++
	}
	if j == start {
		if closing {
			return 0, p.fail(i, "an end tag needs a name")
		}
		return 0, p.fail(i, `unescaped "<"; write &lt;`)
	}
	name := strings.ToLower(s[start:j])
	if !htmlTags[name] {
		if closing {
			return 0, p.fail(i, "unsupported tag </%s>", name)
		}
		return 0, p.fail(i, "unsupported tag <%s>", name)
	}
	if closing {
		for j < len(s) && isHTMLSpace(s[j]) {
			j++
		}
		if j >= len(s) || s[j] != '>' {
			return 0, p.fail(i, "end tag </%s> is not closed with >", name)
		}
		if len(p.stack) == 0 {
			return 0, p.fail(i, "</%s> without a start tag", name)
		}
		top := p.stack[len(p.stack)-1]
		if top.name != name {
			return 0, p.fail(i, "</%s> where </%s> was expected", name, top.name)
		}
		p.stack = p.stack[:len(p.stack)-1]
		return j + 1, nil
	}
	attrs, next, err := p.attributes(i, name, j)
	if err != nil {
		return 0, err
	}
	if err := p.allowed(i, name, attrs); err != nil {
		return 0, err
	}
	if err := p.nesting(i, name); err != nil {
		return 0, err
	}
	if name == "tg-emoji" {
		p.visible = true // the emoji stands in for the custom one
	}
	p.stack = append(p.stack, openTag{name: name, at: i})
	return next, nil
}

// attributes reads a start tag's attributes from s[j] to its '>' and
// returns them (names lower-cased; a value-less attribute maps to "") with
// the offset after the '>'.
func (p *htmlChecker) attributes(i int, tag string, j int) (map[string]string, int, error) {
	s := p.text
	attrs := map[string]string{}
	for {
		sp := j
		for j < len(s) && isHTMLSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return nil, 0, p.fail(i, "<%s> is not closed with >", tag)
		}
		if s[j] == '>' {
			return attrs, j + 1, nil
		}
		if j == sp {
			return nil, 0, p.fail(j, "unexpected %q in <%s>", s[j], tag)
		}
		start := j
		for j < len(s) && (isTagNameByte(s[j]) || s[j] == '_') {
			j++
		}
		if j == start {
			return nil, 0, p.fail(j, "unexpected %q in <%s>", s[j], tag)
		}
		name := strings.ToLower(s[start:j])
		if j >= len(s) || s[j] != '=' {
			// Telegram takes a value-less attribute only for blockquote's
			// expandable.
			if tag != "blockquote" || name != "expandable" {
				return nil, 0, p.fail(start, "attribute %s of <%s> needs a value", name, tag)
			}
			attrs[name] = ""
			continue
		}
		j++
		if j >= len(s) {
			return nil, 0, p.fail(i, "<%s> is not closed with >", tag)
		}
		var value string
		if q := s[j]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[j+1:], q)
			if end < 0 {
				return nil, 0, p.fail(j, "the value of %s in <%s> has no closing %c", name, tag, q)
			}
			value = s[j+1 : j+1+end]
			j += end + 2
		} else {
			vs := j
			for j < len(s) && !isHTMLSpace(s[j]) && s[j] != '>' {
				j++
			}
			value = s[vs:j]
		}
		attrs[name] = decodeEntities(value)
	}
}

// allowed checks the attributes a tag needs; Telegram ignores others.
func (p *htmlChecker) allowed(i int, tag string, attrs map[string]string) error {
	switch tag {
	case "a":
		href := strings.TrimSpace(attrs["href"])
		if href == "" {
			return p.fail(i, `<a> needs an href, e.g. <a href="https://example.com">`)
		}
		if scheme, _, ok := strings.Cut(href, ":"); ok && isScheme(scheme) && !linkSchemes[strings.ToLower(scheme)] {
			return p.fail(i, "a link to %s: is not allowed; use http, https or tg", strings.ToLower(scheme))
		}
	case "span":
		if attrs["class"] != "tg-spoiler" {
			return p.fail(i, `<span> needs class="tg-spoiler"`)
		}
	case "tg-emoji":
		id := attrs["emoji-id"]
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return p.fail(i, "<tg-emoji> needs a numeric emoji-id")
		}
	case "code":
		if c, ok := attrs["class"]; ok && (!strings.HasPrefix(c, "language-") || len(c) == len("language-")) {
			return p.fail(i, `the class of <code> must be language-NAME, e.g. class="language-go"`)
		}
	}
	return nil
}

// nesting checks Telegram's rules on which entities may contain which.
func (p *htmlChecker) nesting(i int, tag string) error {
	if len(p.stack) == 0 {
		return nil
	}
	parent := p.stack[len(p.stack)-1].name
	if parent == "pre" && tag == "code" {
		return nil
	}
	for _, open := range p.stack {
		switch {
		case open.name == "code" || open.name == "pre":
			return p.fail(i, "<%s> cannot be inside <%s>", tag, open.name)
		case open.name == tag && (tag == "a" || tag == "blockquote"):
			return p.fail(i, "<%s> cannot be inside another <%s>", tag, tag)
		}
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isTagNameByte(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' || c == '-' }

func isTagName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTagNameByte(s[i]) {
			return false
		}
	}
	return true
}

func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// decodeEntities decodes the entities Telegram decodes in an attribute's
// value (so that href="…?a=1&amp;b=2" is the link it means); anything else
// stays as written.
func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '&' {
			if end := strings.IndexByte(s[i:], ';'); end > 1 && end <= 10 {
				if r, ok := entityRune(s[i+1 : i+end]); ok {
					b.WriteRune(r)
					i += end + 1
					continue
				}
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func entityRune(name string) (rune, bool) {
	switch name {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	}
	base, digits := 10, strings.TrimPrefix(name, "#")
	if digits == name {
		return 0, false
	}
	if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
		base, digits = 16, digits[1:]
	}
	if digits == "" || strings.ContainsAny(digits, "+-") {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
		return 0, false
	}
	return rune(v), true
}

// TruncateHTML shortens text, valid in Telegram's HTML style, to at most max
// runes (as SendMessage counts them) and keeps it valid: it cuts between
// tags and entities, never inside one, ends the kept text with "…" and
// closes the tags still open. A text within max is returned as it is; one
// that is not valid HTML is cut at max-1 runes plus "…", as plain text
// would be (Telegram refuses it either way, and the send says why).
func TruncateHTML(text string, max int) string {
	const ellipsis = "…"
	if max < 1 || utf8.RuneCountInString(text) <= max {
		return text
	}
	if CheckHTML(text) != nil {
		return string([]rune(text)[:max-1]) + ellipsis
	}
	// closing is what the open tags need to end, in runes.
	closing := func(stack []openTag) int {
		n := 0
		for _, t := range stack {
			n += len(t.name) + 3 // </name>
		}
		return n
	}
	p := htmlChecker{text: text}
	var (
		best      = -1
		bestStack []openTag
		runes     int // runes of text[:i]
	)
	fits := func(i int) {
		if runes+1+closing(p.stack) <= max {
			best, bestStack = i, append(bestStack[:0], p.stack...)
		}
	}
	for i := 0; i < len(text) && runes < max; {
		fits(i)
		var next int
		switch text[i] {
		case '<':
			next, _ = p.tag(i) // text is valid: no error
		case '&':
			next, _ = p.entity(i)
		default:
			_, size := utf8.DecodeRuneInString(text[i:])
			next = i + size
		}
		runes += utf8.RuneCountInString(text[i:next])
		i = next
	}
	if best < 0 { // the tags open at the start leave no room
		return string([]rune(text)[:max-1]) + ellipsis
	}
	var b strings.Builder
	b.WriteString(text[:best])
	b.WriteString(ellipsis)
	for k := len(bestStack) - 1; k >= 0; k-- {
		b.WriteString("</" + bestStack[k].name + ">")
	}
	return b.String()
}
