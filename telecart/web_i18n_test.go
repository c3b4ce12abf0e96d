package telecart_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Ensure every text key the admin panel and the storefront ask for by name
// (t('key')) is in both their dictionaries, and that the English and
// Russian dictionaries hold the same keys: a missing key shows as the raw
// key on the page.
func TestWebTextKeys(t *testing.T) {
	used := regexp.MustCompile(`\bt\('([A-Za-z0-9_.]+)'\s*[,)]`)
	defined := regexp.MustCompile(`(?m)^\s*'([A-Za-z0-9_.]+)'\s*:`)
	plural := regexp.MustCompile(`\.(one|few|many|other)$`)
	for _, dir := range []string{"web/admin/js", "web/app/js"} {
		t.Run(dir, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(dir, "i18n.js"))
			if err != nil {
				t.Fatal(err)
			}
			dict := map[string]map[string]bool{}
			for _, lang := range []string{"en", "ru"} {
				// The dictionary and the later Object.assign blocks that
				// add to it.
				body := between(t, string(src), "const "+lang+" = {", "\n};")
				for rest := string(src); ; {
					var ok bool
					if _, rest, ok = strings.Cut(rest, "Object.assign("+lang+", {"); !ok {
						break
					}
					more, _, _ := strings.Cut(rest, "\n});")
					body += more
				}
				dict[lang] = map[string]bool{}
				for _, m := range defined.FindAllStringSubmatch(body, -1) {
					dict[lang][m[1]] = true
				}
				if len(dict[lang]) < 10 {
					t.Fatalf("%s: found %d keys in %s; the dictionary was not read", dir, len(dict[lang]), lang)
				}
			}
			for key := range dict["en"] {
				if !dict["ru"][key] {
					t.Errorf("%s: %q is in en, not in ru", dir, key)
				}
			}
			for key := range dict["ru"] {
				// Russian plurals have forms English lacks, and words
				// only Russian declines.
				if plural.MatchString(key) {
					continue
				}
				if !dict["en"][key] {
					t.Errorf("%s: %q is in ru, not in en", dir, key)
				}
			}
			var files []string
			err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasSuffix(path, ".js") && filepath.Base(path) != "i18n.js" {
					files = append(files, path)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			uses := 0
			for _, f := range files {
				js, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range used.FindAllStringSubmatch(string(js), -1) {
					uses++
					if !dict["en"][m[1]] {
						t.Errorf("%s asks for text %q, which the dictionaries lack", f, m[1])
					}
				}
			}
			if uses == 0 {
				t.Fatalf("%s: no t('…') calls found in %d files", dir, len(files))
			}
		})
	}
}

// between returns the text of s after start up to the first end after it.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		t.Fatalf("%q not found", start)
	}
	body, _, ok := strings.Cut(rest, end)
	if !ok {
		t.Fatalf("%q not found after %q", end, start)
	}
	return body
}
