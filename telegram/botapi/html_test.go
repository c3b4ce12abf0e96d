package botapi_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/telecart-go/telecart/telegram/botapi"
)

// Ensure every form Telegram's HTML style documents is accepted.
func TestCheckHTML_OK(t *testing.T) {
	for _, text := range []string{
		"plain text",
		"<b>bold</b>, <strong>bold</strong>, <i>italic</i>, <em>italic</em>",
		"<u>underline</u>, <ins>underline</ins>, <s>s</s>, <strike>s</strike>, <del>s</del>",
		`<span class="tg-spoiler">spoiler</span>, <tg-spoiler>spoiler</tg-spoiler>`,
		`<b>bold <i>italic bold <s>italic bold strikethrough <span class="tg-spoiler">all four</span></s> <u>underline italic bold</u></i> bold</b>`,
		`<a href="http://www.example.com/">inline URL</a>`,
		`<a href="tg://user?id=123456789">inline mention of a user</a>`,
		`<a href='https://example.com/?a=1&b=2'>single quotes, a bare &amp; in a value</a>`,
		`<a href=https://example.com/x>unquoted</a>`,
		`<a href="example.com">no scheme</a>`,
		`<A HREF="https://example.com">upper case</A>`,
		`<a href="https://example.com" target="_blank">an attribute Telegram ignores</a>`,
		`<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`,
		"<code>inline fixed-width code</code>",
		"<pre>pre-formatted fixed-width code block</pre>",
		`<pre><code class="language-python">print("hi")</code></pre>`,
		"<blockquote>Block quotation started\nBlock quotation continued</blockquote>",
		"<blockquote expandable>Expandable block quotation</blockquote>",
		"<b>bold <a href=\"https://example.com\">link <i>in</i></a></b>",
		"<blockquote><b>bold</b> in a quote</blockquote>",
		"1 &lt; 2 &gt; 0 &amp;&amp; &quot;quoted&quot;",
		"&#8381; &#x20BD; &#X20bd;",
		"<b \n>spaces in a tag</b >",
		"Привет, <b>мир</b>! 🛒",
	} {
		if err := botapi.CheckHTML(text); err != nil {
			t.Errorf("CheckHTML(%q) = %v, want nil", text, err)
		}
	}
}

// Ensure each departure from the subset is refused with a message naming
// the problem and the character where it is.
func TestCheckHTML_Invalid(t *testing.T) {
	for _, tt := range []struct {
		text string
		want string // the whole message
	}{
		{"<img src=x>", "unsupported tag <img> at character 1"},
		{"Hi <script>alert(1)</script>", "unsupported tag <script> at character 4"},
		{"Привет <h1>x</h1>", "unsupported tag <h1> at character 8"},
		{"a < b", `unescaped "<"; write &lt; at character 3`},
		{"a <3", `unescaped "<"; write &lt; at character 3`},
		{"a > b", `unescaped ">"; write &gt; at character 3`},
		{"Tom & Jerry", `unescaped "&"; write &amp; at character 5`},
		{"AT&T;", "unsupported entity &T;: only &lt; &gt; &amp; &quot; and numeric ones at character 3"},
		{"a&nbsp;b", "unsupported entity &nbsp;: only &lt; &gt; &amp; &quot; and numeric ones at character 2"},
		{"&#0; zero", "&#0; is not a character at character 1"},
		{"&#xD800; a surrogate", "&#xD800; is not a character at character 1"},
		{"&#x110000; too big", "&#x110000; is not a character at character 1"},
		{"<b>bold", "<b> is never closed; add </b> at character 1"},
		{"<b>bold</i>", "</i> where </b> was expected at character 8"},
		{"<b><i>overlap</b></i>", "</b> where </i> was expected at character 14"},
		{"bold</b>", "</b> without a start tag at character 5"},
		{"</>", "an end tag needs a name at character 1"},
		{"<b", "<b> is not closed with > at character 1"},
		{"<b>x</b", "end tag </b> is not closed with > at character 5"},
		{"<b/>x", `unexpected '/' in <b> at character 3`},
		{`<a href="https://x>y</a>`, `the value of href in <a> has no closing " at character 9`},
		{"<a>link</a>", `<a> needs an href, e.g. <a href="https://example.com"> at character 1`},
		{`<a href="javascript:alert(3)">x</a>`, "a link to javascript: is not allowed; use http, https or tg at character 1"},
		{`<span>x</span>`, `<span> needs class="tg-spoiler" at character 1`},
		{`<span class="spoiler">x</span>`, `<span> needs class="tg-spoiler" at character 1`},
		{`<tg-emoji>👍</tg-emoji>`, "<tg-emoji> needs a numeric emoji-id at character 1"},
		{`<code class="python">x</code>`, `the class of <code> must be language-NAME, e.g. class="language-go" at character 1`},
		{`<b expandable>x</b>`, "attribute expandable of <b> needs a value at character 4"},
		{"<code><b>x</b></code>", "<b> cannot be inside <code> at character 7"},
		{"<pre><i>x</i></pre>", "<i> cannot be inside <pre> at character 6"},
		{`<a href="https://a"><a href="https://b">x</a></a>`, "<a> cannot be inside another <a> at character 21"},
		{"<blockquote><blockquote>x</blockquote></blockquote>", "<blockquote> cannot be inside another <blockquote> at character 13"},
		{"<b> </b>", "no text besides the tags at character 9"},
		{"", "no text besides the tags at character 1"},
	} {
		err := botapi.CheckHTML(tt.text)
		var he *botapi.HTMLError
		if !errors.As(err, &he) {
			t.Errorf("CheckHTML(%q) = %v, want an *HTMLError", tt.text, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("CheckHTML(%q) = %q, want %q", tt.text, err, tt.want)
		}
		if he.Char != utf8.RuneCountInString(tt.text[:he.Offset])+1 {
			t.Errorf("CheckHTML(%q): offset %d and character %d disagree", tt.text, he.Offset, he.Char)
		}
	}
}

// FuzzCheckHTML holds the checker to its promises on any input: it never
// panics; a refusal points inside the text; escaped text is always valid,
// alone and in every tag; and a valid text stays valid inside <b>…</b> and
// invalid once an unsupported tag is added.
func FuzzCheckHTML(f *testing.F) {
	for _, s := range []string{"plain", "<b>x</b>", `<a href="https://e.com">x</a>`, "a < b", "&amp;", "&#x20BD;",
		"<pre><code class=\"language-go\">x</code></pre>", "<b><i>x</b></i>", "<blockquote expandable>q</blockquote>",
		`<span class="tg-spoiler">s</span>`, "<tg-emoji emoji-id=\"1\">👍</tg-emoji>", "&nbsp;", "<", "&#0;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := botapi.CheckHTML(s)
		if err != nil {
			var he *botapi.HTMLError
			if !errors.As(err, &he) || he.Offset < 0 || he.Offset > len(s) || he.Problem == "" {
				t.Fatalf("CheckHTML(%q) = %#v", s, err)
			}
		}
		if strings.TrimSpace(s) != "" && utf8.ValidString(s) {
			esc := botapi.EscapeHTML(s)
			for _, text := range []string{esc, "<b>" + esc + "</b>", `<a href="https://e.com/?q=` + esc + `">` + esc + "</a>",
				`<code class="language-` + strings.Map(tagSafe, s) + `x">` + esc + "</code>"} {
				if err := botapi.CheckHTML(text); err != nil {
					t.Fatalf("escaped text %q refused: %v", text, err)
				}
			}
		}
		if err == nil {
			if err := botapi.CheckHTML("<b>" + s + "</b>"); err != nil {
				t.Fatalf("%q is valid but not inside <b>: %v", s, err)
			}
			if botapi.CheckHTML(s+"<img>") == nil {
				t.Fatalf("%q with <img> added is valid", s)
			}
		}
	})
}

// tagSafe keeps letters only, for a language name.
func tagSafe(r rune) rune {
	if r >= 'a' && r <= 'z' {
		return r
	}
	return -1
}

// Ensure a long valid text is cut to the limit between tags and entities,
// with its open tags closed, and stays valid.
func TestTruncateHTML(t *testing.T) {
	item := `<b>Tea &amp; "cups"</b> × 2 — <i>1 200 &#8381;</i>` + "\n"
	long := "<b>Order 42</b>\n<blockquote>" + strings.Repeat(item, 200) + "</blockquote>"
	for _, max := range []int{40, 41, 57, 100, 1000, botapi.MaxMessageLength} {
		got := botapi.TruncateHTML(long, max)
		if n := utf8.RuneCountInString(got); n > max {
			t.Errorf("max %d: %d runes", max, n)
		}
		if err := botapi.CheckHTML(got); err != nil {
			t.Errorf("max %d: %q is not valid: %v", max, got, err)
		}
		if !regexp.MustCompile(`…(</[a-z-]+>)*$`).MatchString(got) {
			t.Errorf("max %d: %q does not end in … and its closing tags", max, got)
		}
		if cut := strings.SplitN(got, "…", 2)[0]; !strings.HasPrefix(long, cut) {
			t.Errorf("max %d: the kept text %q is not the text's beginning", max, cut)
		}
	}
	if got := botapi.TruncateHTML("<b>short</b>", 100); got != "<b>short</b>" {
		t.Errorf("a short text changed: %q", got)
	}
	if got := botapi.TruncateHTML("a < b "+strings.Repeat("x", 50), 10); got != "a < b xxx…" {
		t.Errorf("invalid HTML cut to %q, want the plain cut", got)
	}
}

// Ensure truncating any valid text keeps it valid and within the limit.
func FuzzTruncateHTML(f *testing.F) {
	for _, s := range []string{"<b>bold</b> and <i>it&amp;alic</i>", "<pre><code class=\"language-go\">x := 1</code></pre>",
		`<a href="https://e.com">link</a> &#8381;`, "<blockquote expandable>q <s>w</s></blockquote>"} {
		f.Add(s, uint8(12))
	}
	f.Fuzz(func(t *testing.T, s string, max uint8) {
		if botapi.CheckHTML(s) != nil || max < 1 {
			return
		}
		got := botapi.TruncateHTML(s, int(max))
		if utf8.RuneCountInString(s) <= int(max) {
			if got != s {
				t.Fatalf("TruncateHTML(%q, %d) = %q; want it unchanged", s, max, got)
			}
			return
		}
		if n := utf8.RuneCountInString(got); n > int(max) {
			t.Fatalf("TruncateHTML(%q, %d) = %q: %d runes", s, max, got, n)
		}
		if strings.Count(got, "…") > strings.Count(s, "…")+1 {
			t.Fatalf("TruncateHTML(%q, %d) = %q", s, max, got)
		}
		if err := botapi.CheckHTML(got); err != nil && max >= 40 {
			t.Fatalf("TruncateHTML(%q, %d) = %q, not valid: %v", s, max, got, err)
		}
	})
}
