package server_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/internal/browsertest"
	"github.com/telecart-go/telecart/migrator"
)

// domBattery builds elements with the h() that the page's js/dom.js
// exports and reports what came out: the attributes each URL left, the
// markup of text, and the class, style and handler rules.
const domBattery = `import(new URL('js/dom.js', location.href).href).then(({ h, safeURL }) => {
  const href = (v) => h('a', { href: v }).getAttribute('href');
  const src = (v) => h('img', { src: v }).getAttribute('src');
  const out = {
    js: href('javascript:alert(1)'),
    jsUpper: href('JavaScript:alert(1)'),
    jsSpaced: href('  javascript:alert(1)'),
    jsTab: href('java\tscript:alert(1)'),
    jsEntity: href('javascript&colon;alert(1)'),
    vbscript: href('vbscript:msgbox(1)'),
    dataHTML: href('data:text/html,<script>alert(1)</script>'),
    srcJS: src('javascript:alert(1)'),
    srcDataHTML: src('data:text/html;base64,PHNjcmlwdD4='),
    srcDataImage: src('data:image/png;base64,iVBORw0KGgo='),
    formAction: h('form', { action: 'javascript:alert(1)' }).getAttribute('action'),
    hash: href('#/pulse'),
    https: href('https://example.com/a?b=1'),
    safeURL: safeURL('javascript:alert(1)'),
    stringHandler: h('button', { onclick: 'alert(1)' }).getAttribute('onclick'),
    text: h('b', {}, '<img src=x onerror=alert(1)>').innerHTML,
    textAttr: h('b', { text: '<i>x</i>' }).innerHTML,
    classList: h('i', { class: ['a', false, 'b'] }).className,
    style: h('i', { style: { '--w': '3px', width: '2px' } }).style.cssText,
    flat: h('p', null, ['a', ['b', null, false], 1]).textContent,
  };
  for (const k of Object.keys(out)) out[k] = out[k] === null ? '<null>' : String(out[k]);
  return out;
})`

// Ensure the admin panel and the storefront build elements with one h():
// the same verdicts on the same input, and in the admin panel too a
// javascript: (or otherwise unsafe) URL never reaches an href or a src.
func TestDOMBuilderBothPages(t *testing.T) {
	ctx := browsertest.New(t, 40*time.Second)
	_, base := MustStart(t, migrator.SQLite, nil)
	want := map[string]string{
		"js": "<null>", "jsUpper": "<null>", "jsSpaced": "<null>", "jsTab": "<null>", "vbscript": "<null>",
		"dataHTML": "<null>", "srcJS": "<null>", "srcDataHTML": "<null>", "formAction": "<null>", "safeURL": "",
		"srcDataImage":  "data:image/png;base64,iVBORw0KGgo=",
		"https":         "https://example.com/a?b=1",
		"stringHandler": "<null>",
		"text":          "&lt;img src=x onerror=alert(1)&gt;",
		"textAttr":      "&lt;i&gt;x&lt;/i&gt;",
		"classList":     "a b",
		"style":         "--w: 3px; width: 2px;",
		"flat":          "ab1",
	}
	var answers []map[string]string
	for _, page := range []string{"/admin/", "/app/"} {
		appDo(t, ctx, "opening "+page, chromedp.Navigate(base+page))
		got := appEval[map[string]string](t, ctx, domBattery)
		// A relative link resolves against the page; a javascript: one
		// with an entity stays a harmless relative path.
		for _, k := range []string{"hash", "jsEntity"} {
			if !strings.HasPrefix(got[k], base+page) {
				t.Errorf("%s: %s = %q, want a URL under %s", page, k, got[k], base+page)
			}
		}
		if !strings.HasSuffix(got["hash"], "#/pulse") {
			t.Errorf("%s: hash link = %q", page, got["hash"])
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Errorf("%s: %s = %q, want %q", page, k, got[k], want[k])
			}
		}
		delete(got, "hash")
		delete(got, "jsEntity")
		answers = append(answers, got)
	}
	if !maps.Equal(answers[0], answers[1]) {
		t.Errorf("the pages' h() differ:\nadmin %v\napp   %v", answers[0], answers[1])
	}
}
