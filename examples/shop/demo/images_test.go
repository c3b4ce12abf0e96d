package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/examples/shop/demo"
	"github.com/telecart-go/telecart/telecart"
)

func get(tb testing.TB, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// mustPNG decodes the answer as a PNG and checks its size.
func mustPNG(tb testing.TB, w *httptest.ResponseRecorder, width, height int) {
	tb.Helper()
	if w.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "image/png" {
		tb.Fatalf("Content-Type %q", ct)
	}
	img, err := png.Decode(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		tb.Fatalf("decoding PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		tb.Fatalf("image is %d×%d, want %d×%d", b.Dx(), b.Dy(), width, height)
	}
}

func TestImagesHandler(t *testing.T) {
	h := demo.ImagesHandler()

	// Ensure an image comes back as a PNG of exactly the size asked for,
	// cacheable for a day.
	t.Run("OK", func(t *testing.T) {
		for _, size := range [][2]int{{300, 375}, {16, 16}, {1200, 1200}, {1200, 16}, {17, 999}} {
			target := "/demo/images/p1.png?w=" + strconv.Itoa(size[0]) + "&h=" + strconv.Itoa(size[1])
			w := get(t, h, http.MethodGet, target)
			mustPNG(t, w, size[0], size[1])
			if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=86400" {
				t.Errorf("Cache-Control %q", cc)
			}
		}
	})

	// Ensure a missing side defaults to ImageSizeDefault.
	t.Run("DefaultSize", func(t *testing.T) {
		mustPNG(t, get(t, h, http.MethodGet, "/demo/images/p2.png"), demo.ImageSizeDefault, demo.ImageSizeDefault)
		mustPNG(t, get(t, h, http.MethodGet, "/demo/images/p2.png?w=100"), 100, demo.ImageSizeDefault)
	})

	// Ensure every image URL the catalog links is served at its size, also
	// behind http.StripPrefix.
	t.Run("CatalogURLs", func(t *testing.T) {
		stripped := http.StripPrefix(demo.ImagesPath, demo.ImagesHandler())
		page, err := demo.NewCatalog("").Products(context.Background(),
			telecart.ProductQuery{Page: 1, PerPage: 50, Image: telecart.ImageSize{Width: 32, Height: 40}})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range page.Products {
			img := p.Images[0]
			handler := h
			if i%2 == 1 {
				handler = stripped
			}
			mustPNG(t, get(t, handler, http.MethodGet, img.URL), img.Width, img.Height)
		}
	})

	// Ensure products get different pictures and a repeated request gets
	// the same bytes.
	t.Run("Deterministic", func(t *testing.T) {
		a := get(t, h, http.MethodGet, "/demo/images/p5.png?w=64&h=80").Body.Bytes()
		b := get(t, demo.ImagesHandler(), http.MethodGet, "/demo/images/p5.png?w=64&h=80").Body.Bytes()
		c := get(t, h, http.MethodGet, "/demo/images/p6.png?w=64&h=80").Body.Bytes()
		if !bytes.Equal(a, b) {
			t.Error("the same image differs between requests")
		}
		if bytes.Equal(a, c) {
			t.Error("p5 and p6 have the same image")
		}
	})

	// Ensure HEAD and conditional requests work as for a static file.
	t.Run("HeadAndETag", func(t *testing.T) {
		w := get(t, h, http.MethodHead, "/demo/images/p1.png?w=300&h=375")
		if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
			t.Fatalf("HEAD: %d, %d bytes, headers %v", w.Code, w.Body.Len(), w.Header())
		}
		etag := w.Header().Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if w := get(t, h, http.MethodGet, "/demo/images/p1.png?w=300&h=375", "If-None-Match", etag); w.Code != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", w.Code)
		}
	})

	// Ensure sizes outside 16..1200 or not numbers are a JSON 400.
	t.Run("ErrBadSize", func(t *testing.T) {
		for _, q := range []string{"w=15&h=100", "w=100&h=1201", "w=0&h=0", "w=-5&h=100", "w=abc&h=100",
			"w=100&h=", "w=1e3&h=100", "w=100&h=100&h=200", "w=99999999999999999999&h=100"} {
			w := get(t, h, http.MethodGet, "/demo/images/p1.png?"+q)
			mustJSONError(t, w, http.StatusBadRequest, "bad_request")
		}
	})

	// Ensure unknown ids and other paths are a JSON 404.
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, path := range []string{"/demo/images/p37.png", "/demo/images/p0.png", "/demo/images/p1.jpg",
			"/demo/images/p1", "/demo/images/", "/demo/images/x/p1.png", "/demo/images/p01.png", "/demo/images/.png"} {
			w := get(t, h, http.MethodGet, path+"?w=100&h=100")
			mustJSONError(t, w, http.StatusNotFound, "not_found")
		}
	})

	// Ensure writes are refused.
	t.Run("ErrMethod", func(t *testing.T) {
		w := get(t, h, http.MethodPost, "/demo/images/p1.png")
		mustJSONError(t, w, http.StatusMethodNotAllowed, "method_not_allowed")
		if allow := w.Header().Get("Allow"); !strings.Contains(allow, "GET") {
			t.Errorf("Allow %q", allow)
		}
	})
}

func mustJSONError(tb testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	tb.Helper()
	if w.Code != status {
		tb.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != code || body.Error.Message == "" {
		tb.Fatalf("body %s (%v), want error code %q", w.Body, err, code)
	}
}

// BenchmarkImagesHandlerUncached measures generating the largest image, as
// on a cold cache.
func BenchmarkImagesHandlerUncached(b *testing.B) {
	for b.Loop() {
		w := get(b, demo.ImagesHandler(), http.MethodGet, "/demo/images/p1.png?w=1200&h=1200")
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
