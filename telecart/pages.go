package telecart

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
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
// /app/, one route per embedded file, so a host's own routes under /admin/
// stay the host's. The pages themselves are public; the admin API they call
// is not. Nothing here depends on where r is mounted: files are found by
// their route, and the redirect to the directory is relative.
func registerPages(r *mux.Router, mw mux.MiddlewareFunc) {
	for _, p := range []struct{ prefix, dir, csp string }{
		{"/admin/", "web/admin", adminCSP},
		{"/app/", "web/app", appCSP},
	} {
		sub, err := fs.Sub(webFiles, p.dir)
		if err != nil {
			panic(err) // the embedded tree is fixed at build time
		}
		shared, err := fs.Sub(webFiles, "web/shared")
		if err != nil {
			panic(err)
		}
		files := r.PathPrefix(p.prefix).Subrouter()
		files.Use(mw)
		// The page's own files, then the shared ones (js/h.js, the DOM
		// builder of both pages) under the same prefix: one copy of each,
		// served with the page's own CSP, so script-src 'self' holds.
		for _, fsys := range []fs.FS{sub, shared} {
			err = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				route := "/" + name
				if name == "index.html" {
					route = "/"
				}
				files.Handle(route, pageFile(fsys, name, p.csp)).Methods(http.MethodGet, http.MethodHead)
				return nil
			})
			if err != nil {
				panic(err)
			}
		}
		allowOnly(files)
		dir := path.Base(p.prefix) + "/"
		r.Handle(strings.TrimSuffix(p.prefix, "/"), mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", dir) // relative: /telecart/admin → /telecart/admin/
			w.WriteHeader(http.StatusMovedPermanently)
		}))).Methods(http.MethodGet, http.MethodHead)
	}
}

// pageFile serves one embedded file of a page with its security headers.
func pageFile(fsys fs.FS, name, csp string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if strings.HasSuffix(name, ".html") {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeFileFS(w, r, fsys, name)
	})
}

// Content-Security-Policy of each page: scripts only from the page's own
// files (the storefront also from Telegram), no inline script, images from
// anywhere over https (product images live on the host's CDN).
const (
	adminCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'"
	appCSP   = "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; frame-ancestors https://web.telegram.org https://*.telegram.org 'self'"
)
