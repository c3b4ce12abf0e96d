package telecart

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// The admin panel and the Mini App storefront are hand-written HTML, CSS and
// JavaScript modules embedded in the library: no build step for hosts, and
// nothing loaded from a CDN (Telegram's own telegram-web-app.js aside).
//
//go:embed all:web
var webFiles embed.FS

// registerPages serves the admin panel at /admin/ and the storefront at
// /app/. The pages themselves are public; the admin API they call is not.
func registerPages(r *mux.Router) {
	for _, p := range []struct{ prefix, dir, csp string }{
		{"/admin/", "web/admin", adminCSP},
		{"/app/", "web/app", appCSP},
	} {
		sub, err := fs.Sub(webFiles, p.dir)
		if err != nil {
			panic(err) // the embedded tree is fixed at build time
		}
		files := http.StripPrefix(p.prefix, http.FileServerFS(withShared(sub)))
		csp := p.csp
		r.PathPrefix(p.prefix).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, ".html") {
				h.Set("Cache-Control", "no-cache")
			}
			files.ServeHTTP(w, r)
		}))
		prefix := p.prefix
		r.Handle(strings.TrimSuffix(prefix, "/"), http.RedirectHandler(prefix, http.StatusMovedPermanently))
	}
}

// withShared lays the files of web/shared over a page's directory: both
// pages serve the one copy of a shared module (js/h.js, the DOM builder)
// under their own prefix, so each keeps script-src 'self'.
func withShared(page fs.FS) fs.FS {
	shared, err := fs.Sub(webFiles, "web/shared")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return overlayFS{top: shared, base: page}
}

// overlayFS serves a file of top when top has it, and base otherwise.
type overlayFS struct{ top, base fs.FS }

func (o overlayFS) Open(name string) (fs.File, error) {
	if f, err := o.top.Open(name); err == nil {
		if st, err := f.Stat(); err == nil && !st.IsDir() {
			return f, nil
		}
		f.Close()
	}
	return o.base.Open(name)
}

// Content-Security-Policy of each page: scripts only from the page's own
// files (the storefront also from Telegram), no inline script, images from
// anywhere over https (product images live on the host's CDN).
const (
	adminCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'"
	appCSP   = "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; frame-ancestors https://web.telegram.org https://*.telegram.org 'self'"
)
