package telecart_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

// TestMount proves that TeleCart answers only for its own paths: mounted at
// the root or under /telecart/, on gorilla/mux (registered before and after
// the host's routes) and on http.ServeMux, the host's own /api/ and /admin/
// routes answer the host's way, and TeleCart's routes and pages answer
// under the base path.
func TestMount(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		hostPing := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "host pong") }
		hostAdmin := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "host admin "+r.URL.Path) }
		hostHome := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "host home "+r.URL.Path) }

		gorilla := func(base string, hostFirst bool) http.Handler {
			r := mux.NewRouter()
			host := func() {
				r.HandleFunc("/api/ping", hostPing).Methods(http.MethodGet)
				r.HandleFunc("/api/settings/host", hostPing).Methods(http.MethodGet)
				r.HandleFunc("/admin/login", hostAdmin).Methods(http.MethodGet, http.MethodPost)
				r.HandleFunc("/admin/orders/{id}", hostAdmin).Methods(http.MethodGet)
				r.PathPrefix("/").HandlerFunc(hostHome)
			}
			if hostFirst {
				r.HandleFunc("/api/ping", hostPing).Methods(http.MethodGet)
				r.HandleFunc("/api/settings/host", hostPing).Methods(http.MethodGet)
				r.HandleFunc("/admin/login", hostAdmin).Methods(http.MethodGet, http.MethodPost)
				r.HandleFunc("/admin/orders/{id}", hostAdmin).Methods(http.MethodGet)
			}
			if base == "" {
				s.tc.RegisterRoutes(r)
			} else {
				s.tc.RegisterRoutes(r.PathPrefix(base).Subrouter())
			}
			if hostFirst {
				r.PathPrefix("/").HandlerFunc(hostHome)
			} else {
				host()
			}
			return r
		}
		serveMux := func(base string) http.Handler {
			m := http.NewServeMux()
			m.HandleFunc("GET /api/ping", hostPing)
			m.HandleFunc("GET /api/settings/host", hostPing)
			m.HandleFunc("/admin/login", hostAdmin)
			m.HandleFunc("GET /admin/orders/{id}", hostAdmin)
			m.HandleFunc("/", hostHome)
			s.tc.RegisterServeMux(m, base)
			return m
		}
		for _, tt := range []struct {
			name, base string
			h          http.Handler
		}{
			{"GorillaRoot", "", gorilla("", false)},
			{"GorillaRootHostFirst", "", gorilla("", true)},
			{"GorillaPrefix", "/telecart", gorilla("/telecart", false)},
			{"GorillaPrefixHostFirst", "/telecart", gorilla("/telecart", true)},
			{"ServeMuxRoot", "", serveMux("")},
			{"ServeMuxPrefix", "/telecart", serveMux("/telecart/")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				srv := httptest.NewServer(tt.h)
				defer srv.Close()
				client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				do := func(method, path string, hdr map[string]string) (*http.Response, string) {
					t.Helper()
					req, err := http.NewRequest(method, srv.URL+path, nil)
					if err != nil {
						t.Fatal(err)
					}
					for k, v := range hdr {
						req.Header.Set(k, v)
					}
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					return resp, string(b)
				}
				expect := func(method, path string, hdr map[string]string, status int, body string) *http.Response {
					t.Helper()
					resp, got := do(method, path, hdr)
					if resp.StatusCode != status || !strings.Contains(got, body) {
						t.Errorf("%s %s = %d %q; want %d containing %q", method, path, resp.StatusCode, got, status, body)
					}
					return resp
				}
				// The host's routes, whatever TeleCart's base.
				expect("GET", "/api/ping", nil, 200, "host pong")
				expect("GET", "/api/settings/host", nil, 200, "host pong")
				expect("GET", "/admin/login", nil, 200, "host admin /admin/login")
				expect("POST", "/admin/login", nil, 200, "host admin /admin/login")
				expect("GET", "/admin/orders/7", nil, 200, "host admin /admin/orders/7")
				expect("GET", "/", nil, 200, "host home /")
				if tt.base != "" {
					// Where TeleCart is not, its paths are the host's.
					expect("GET", "/api/settings", nil, 200, "host home /api/settings")
					expect("GET", "/admin/", nil, 200, "host home /admin/")
				}

				b := tt.base
				initData := s.initData(3003, "Mount", "")
				// The storefront API, behind initData.
				expect("GET", b+"/api/settings", nil, 401, "invalid_init_data")
				expect("GET", b+"/api/settings", map[string]string{telegram.HeaderInitData: initData}, 200, "shop_name")
				expect("GET", b+"/api/products/p1", map[string]string{telegram.HeaderInitData: initData}, 200, `"p1"`)
				// The admin API, behind the host's admin auth.
				resp := expect("GET", b+"/admin/api/me", nil, 401, "unauthorized")
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without a Bearer challenge: %q", resp.Header.Get("WWW-Authenticate"))
				}
				bearer := map[string]string{"Authorization": "Bearer " + plugAdminToken}
				expect("GET", b+"/admin/api/me", bearer, 200, `{"authenticated":true}`)
				expect("GET", b+"/admin/api/dashboard", bearer, 200, "customers")
				// The ETL export, behind the Pulse API key.
				expect("GET", b+"/pulse/etl/customers", map[string]string{"X-Api-Key": "pulse-key"}, 200, `"data"`)
				// The pages and their files.
				expect("GET", b+"/admin/", nil, 200, "<html")
				expect("GET", b+"/admin/js/app.js", nil, 200, "import")
				expect("GET", b+"/app/", nil, 200, "<html")
				expect("GET", b+"/app/js/api.js", nil, 200, "export")
				resp = expect("GET", b+"/admin", nil, http.StatusMovedPermanently, "")
				loc, err := url.Parse(resp.Header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				if got := resp.Request.URL.ResolveReference(loc).Path; got != b+"/admin/" {
					t.Errorf("GET %s/admin redirects to %s", b, got)
				}
			})
		}
	})
}

// TestHandlerErrors ensures the standalone Handler answers JSON 404s and
// JSON 405s with Allow, and serves no directory listings.
func TestHandlerErrors(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		for _, tt := range []struct {
			method, path string
			status       int
			allow        string
		}{
			{"GET", "/nowhere", 404, ""},
			{"GET", "/app/js/", 404, ""},
			{"GET", "/admin/css/", 404, ""},
			{"GET", "/admin/nothing.js", 404, ""},
			{"DELETE", "/admin/api/settings", 405, "GET, PUT"},
			{"POST", "/app/", 405, "GET, HEAD"},
			{"PUT", "/api/orders", 405, "POST"},
			{"DELETE", "/api/privacy-consent", 405, "GET, POST"},
			{"POST", "/pulse/etl/customers", 405, "GET"},
		} {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+plugAdminToken)
			req.Header.Set(telegram.HeaderInitData, s.initData(4004, "Allow", ""))
			w := httptest.NewRecorder()
			s.tc.Handler().ServeHTTP(w, req)
			if w.Code != tt.status || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") ||
				!strings.Contains(w.Body.String(), `"error"`) {
				t.Errorf("%s %s = %d %s %q; want %d JSON", tt.method, tt.path, w.Code, w.Header().Get("Content-Type"), w.Body.String(), tt.status)
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Errorf("%s %s: Allow %q; want %q", tt.method, tt.path, got, tt.allow)
			}
		}
	})
}

// TestBearerAuth ensures the admin token is accepted with the scheme in any
// case, refused when wrong, a prefix or an extension of the right one, and
// that every refusal carries the Bearer challenge.
func TestBearerAuth(t *testing.T) {
	const token = "s3cret-admin-token"
	h := telecart.BearerAuth(token)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "in") }))
	for header, ok := range map[string]bool{
		"Bearer " + token: true, "bearer " + token: true, "BEARER  " + token: true,
		"Bearer " + token[:len(token)-1]: false, "Bearer " + token + "x": false, "Bearer ": false,
		"Basic " + token: false, token: false, "": false,
	} {
		req := httptest.NewRequest("GET", "/admin/api/me", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if got := w.Code == http.StatusOK; got != ok {
			t.Errorf("Authorization %q: %d; want ok=%v", header, w.Code, ok)
		}
		if !ok && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Authorization %q: 401 without a Bearer challenge", header)
		}
	}
}

// TestAdminAuthFailures ensures every admin request the admin auth refuses
// reaches Hooks.AdminAuthFailed, and the log reports them once a minute at
// most, not once each.
func TestAdminAuthFailures(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		var logs bytes.Buffer
		var mu sync.Mutex
		var failed int
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			c.Hooks.AdminAuthFailed = func(*http.Request) { mu.Lock(); failed++; mu.Unlock() }
		})
		for i := range 20 {
			req := httptest.NewRequest("GET", "/admin/api/me", nil)
			req.Header.Set("Authorization", fmt.Sprintf("Bearer guess-%d", i))
			s.tc.Handler().ServeHTTP(httptest.NewRecorder(), req)
		}
		req := httptest.NewRequest("GET", "/admin/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+plugAdminToken)
		s.tc.Handler().ServeHTTP(httptest.NewRecorder(), req)
		mu.Lock()
		defer mu.Unlock()
		if failed != 20 {
			t.Errorf("AdminAuthFailed called %d times; want 20", failed)
		}
		if n := strings.Count(logs.String(), "the admin API refused requests"); n != 1 {
			t.Errorf("%d log lines about refusals; want 1:\n%s", n, logs.String())
		}
	})
}
