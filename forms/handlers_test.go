package forms_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/migrator"
)

// MustNewRouter mounts the forms handlers over db as the demo server does:
// the storefront routes under /api, the admin routes under /admin/api.
func MustNewRouter(tb testing.TB, db migrator.DB) http.Handler {
	tb.Helper()
	h, err := forms.NewHandler(forms.HandlerConfig{Store: MustNewStore(tb, db, nil)})
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	h.RegisterStorefrontRoutes(r.PathPrefix("/api").Subrouter())
	h.RegisterAdminRoutes(r.PathPrefix("/admin/api").Subrouter())
	return r
}

// serve sends one request and returns the recorded answer.
func serve(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

type errorAnswer struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// mustError checks that w is a JSON error with the given status and code.
func mustError(tb testing.TB, w *httptest.ResponseRecorder, status int, code string) errorAnswer {
	tb.Helper()
	var e errorAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		tb.Fatalf("status %d, body %q: %v", w.Code, w.Body, err)
	}
	if w.Code != status || e.Error.Code != code || e.Error.Message == "" {
		tb.Fatalf("got %d %q, want %d %q; body %s", w.Code, e.Error.Code, status, code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("Content-Type %q", ct)
	}
	return e
}

// mustForm checks that w is a 200 with a form and returns it.
func mustForm(tb testing.TB, w *httptest.ResponseRecorder) forms.Form {
	tb.Helper()
	if w.Code != http.StatusOK {
		tb.Fatalf("status %d, body %s", w.Code, w.Body)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &keys); err != nil {
		tb.Fatal(err)
	}
	// The storefront's answer adds the shop's time zone.
	want := 3
	if keys["time_zone"] != nil {
		want = 4
	}
	if len(keys) != want || keys["alias"] == nil || keys["title"] == nil || keys["schema"] == nil {
		tb.Fatalf("body %s, want alias, title and schema", w.Body)
	}
	var f forms.Form
	if err := json.Unmarshal(w.Body.Bytes(), &f); err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestHandler_Storefront(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		h := MustNewRouter(t, db)

		// Ensure the checkout form is served as {"alias", "title", "schema"}
		// in FormKit's format.
		t.Run("OK", func(t *testing.T) {
			w := serve(h, http.MethodGet, "/api/forms/checkout", "")
			if got := mustForm(t, w); !reflect.DeepEqual(got, forms.DefaultCheckout()) {
				t.Fatalf("got %#v", got)
			}
			if !strings.Contains(w.Body.String(), `{"$formkit":"text","name":"name","label":"Name"`) {
				t.Fatalf("body %s", w.Body)
			}
		})

		// Ensure the answer names the shop's time zone, in which the
		// storefront reads "today" for the date rules as the server does.
		t.Run("TimeZone", func(t *testing.T) {
			if w := serve(h, http.MethodGet, "/api/forms/checkout", ""); !strings.Contains(w.Body.String(), `"time_zone":"UTC"`) {
				t.Fatalf("body %s", w.Body)
			}
			moscow, err := time.LoadLocation("Europe/Moscow")
			if err != nil {
				t.Fatal(err)
			}
			store, err := forms.NewStore(db, forms.StoreConfig{
				Location: func(context.Context) (*time.Location, error) { return moscow, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			fh, err := forms.NewHandler(forms.HandlerConfig{Store: store})
			if err != nil {
				t.Fatal(err)
			}
			r := mux.NewRouter()
			fh.RegisterStorefrontRoutes(r.PathPrefix("/api").Subrouter())
			w := serve(r, http.MethodGet, "/api/forms/checkout", "")
			if !strings.Contains(w.Body.String(), `"time_zone":"Europe/Moscow"`) {
				t.Fatalf("body %s", w.Body)
			}
		})

		// Ensure an unknown form is a JSON 404.
		t.Run("ErrNotFound", func(t *testing.T) {
			mustError(t, serve(h, http.MethodGet, "/api/forms/nope", ""), http.StatusNotFound, "not_found")
		})

		// Ensure an alias no form can have is a 400.
		t.Run("ErrInvalidAlias", func(t *testing.T) {
			for _, alias := range []string{"Checkout", "a.b", "%D1%84", strings.Repeat("a", 65)} {
				mustError(t, serve(h, http.MethodGet, "/api/forms/"+alias, ""), http.StatusBadRequest, "invalid_alias")
			}
		})

		// Ensure the storefront cannot write forms.
		t.Run("ErrNoPut", func(t *testing.T) {
			w := serve(h, http.MethodPut, "/api/forms/checkout", `{"title":"x","schema":[]}`)
			if w.Code != http.StatusMethodNotAllowed {
				t.Fatalf("status %d", w.Code)
			}
		})
	})
}

func TestHandler_Admin(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		h := MustNewRouter(t, db)
		put := func(alias, body string) *httptest.ResponseRecorder {
			return serve(h, http.MethodPut, "/admin/api/forms/"+alias, body)
		}
		// checkoutUnchanged fails the test when a refused PUT changed the form.
		checkoutUnchanged := func(t *testing.T) {
			t.Helper()
			if got := mustForm(t, serve(h, http.MethodGet, "/api/forms/checkout", "")); !reflect.DeepEqual(got, forms.DefaultCheckout()) {
				t.Fatalf("checkout changed: %#v", got)
			}
		}

		// Ensure the admin GET answers the form, uncached by the browser.
		t.Run("Get", func(t *testing.T) {
			w := serve(h, http.MethodGet, "/admin/api/forms/checkout", "")
			if got := mustForm(t, w); !reflect.DeepEqual(got, forms.DefaultCheckout()) {
				t.Fatalf("got %#v", got)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control %q", cc)
			}
			mustError(t, serve(h, http.MethodGet, "/admin/api/forms/nope", ""), http.StatusNotFound, "not_found")
		})

		// Ensure a PUT to a new alias creates the form, and the storefront
		// serves it at once.
		t.Run("PutCreates", func(t *testing.T) {
			body := `{"title": " Обратная связь ✉️ ", "schema": [
				{"$formkit": "textarea", "name": "message", "label": "Сообщение", "validation": "required|length:1,2000"},
				{"$formkit": "radio", "name": "channel", "label": "Канал", "options": {"tg": "Telegram", "mail": "E-mail"}}
			]}`
			want := forms.Form{Alias: "feedback", Title: "Обратная связь ✉️", Schema: []forms.Node{
				{Type: "textarea", Name: "message", Label: "Сообщение", Validation: "required|length:1,2000"},
				{Type: "radio", Name: "channel", Label: "Канал", Options: []forms.Option{{Label: "Telegram", Value: "tg"}, {Label: "E-mail", Value: "mail"}}},
			}}
			if got := mustForm(t, put("feedback", body)); !reflect.DeepEqual(got, want) {
				t.Fatalf("PUT answered %#v", got)
			}
			if got := mustForm(t, serve(h, http.MethodGet, "/api/forms/feedback", "")); !reflect.DeepEqual(got, want) {
				t.Fatalf("GET answered %#v", got)
			}
		})

		// Ensure a PUT replaces a form the handler has already served (and
		// cached), and that the body may carry back GET's alias.
		t.Run("PutReplaces", func(t *testing.T) {
			f := forms.DefaultCheckout()
			mustForm(t, serve(h, http.MethodGet, "/api/forms/checkout", ""))
			f.Title = "Оформление"
			f.Schema[0].Label = "Имя"
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			mustForm(t, put("checkout", string(b)))
			if got := mustForm(t, serve(h, http.MethodGet, "/api/forms/checkout", "")); !reflect.DeepEqual(got, f) {
				t.Fatalf("GET after PUT answered %#v", got)
			}
			b, _ = json.Marshal(forms.DefaultCheckout())
			mustForm(t, put("checkout", string(b)))
			checkoutUnchanged(t)
		})

		// Ensure a schema failing validation is a 422 with a message per
		// title and node property, keyed like schema[3].name, and the
		// stored form is kept.
		t.Run("ErrInvalidSchema", func(t *testing.T) {
			w := put("checkout", `{"title": "", "schema": [
				{"$formkit": "text", "name": "ok", "label": "OK"},
				{"$formkit": "text", "name": "a", "validation": "required|phone"},
				{"$formkit": "select", "name": "b"},
				{"$formkit": "text", "name": "c", "classes": {}},
				{"$formkit": "text", "label": "No name"},
				{"$formkit": "text", "name": "ok"}
			]}`)
			e := mustError(t, w, http.StatusUnprocessableEntity, "validation_failed")
			for k, msg := range e.Error.Fields {
				if msg == "" || !strings.HasSuffix(msg, ".") || strings.ToUpper(msg[:1]) != msg[:1] {
					t.Errorf("%s: message %q is not a sentence", k, msg)
				}
			}
			want := map[string]string{
				"title":                "Title is required.",
				"schema[1].validation": `Validation: unknown rule "phone"; known rules are ` + strings.Join(forms.RuleNames(), ", ") + ".",
				"schema[2].options":    "A select node needs options.",
				"schema[3].classes":    `Unknown field "classes".`,
				"schema[4].name":       "Missing name.",
				"schema[5].name":       `Duplicate name "ok" (also used by node 0).`,
			}
			if !reflect.DeepEqual(e.Error.Fields, want) {
				t.Fatalf("fields:\n got %q\nwant %q", e.Error.Fields, want)
			}
			for _, part := range []string{"Title is required", "node 2 (b): a select node needs options", "node 4: missing name"} {
				if !strings.Contains(e.Error.Message, part) {
					t.Errorf("message %q does not mention %q", e.Error.Message, part)
				}
			}
			checkoutUnchanged(t)
		})

		// Ensure every kind of schema problem gets the key of the property
		// it is about.
		t.Run("ErrFieldKeys", func(t *testing.T) {
			long := strings.Repeat("x", forms.MaxHelpLength+1)
			tests := []struct{ node, key string }{
				{`{"name": "a"}`, "schema[0].$formkit"},
				{`{"$formkit": "password", "name": "a"}`, "schema[0].$formkit"},
				{`{"$formkit": 5, "name": "a"}`, "schema[0].$formkit"},
				{`{"$formkit": "text", "name": "1a"}`, "schema[0].name"},
				{`{"$formkit": "text", "name": "a", "label": 5}`, "schema[0].label"},
				{`{"$formkit": "text", "name": "a", "placeholder": "` + long + `"}`, "schema[0].placeholder"},
				{`{"$formkit": "text", "name": "a", "help": "` + long + `"}`, "schema[0].help"},
				{`{"$formkit": "text", "name": "a", "validation": "length:x"}`, "schema[0].validation"},
				{`{"$formkit": "text", "name": "a", "validation": "accepted"}`, "schema[0].validation"},
				{`{"$formkit": "text", "name": "a", "options": ["x"]}`, "schema[0].options"},
				{`{"$formkit": "select", "name": "a", "options": ["x", "x"]}`, "schema[0].options"},
				{`{"$formkit": "select", "name": "a", "options": [{"label": "A"}]}`, "schema[0].options"},
				{`{"$formkit": "select", "name": "a", "options": 7}`, "schema[0].options"},
				{`{"$formkit": "select", "name": "a", "options": ["x"], "value": "y"}`, "schema[0].value"},
				{`{"$formkit": "checkbox", "name": "a", "value": "maybe"}`, "schema[0].value"},
				{`7`, "schema[0]"},
			}
			for _, tt := range tests {
				w := put("keys", `{"title": "Keys", "schema": [`+tt.node+`]}`)
				e := mustError(t, w, http.StatusUnprocessableEntity, "validation_failed")
				if _, ok := e.Error.Fields[tt.key]; !ok || len(e.Error.Fields) != 1 {
					t.Errorf("%s: fields %q, want the key %q", tt.node, e.Error.Fields, tt.key)
				}
			}
			w := put("keys", `{"title": "Keys", "schema": [`+strings.Repeat(`{"$formkit": "text"},`, forms.MaxNodes)+`{}]}`)
			e := mustError(t, w, http.StatusUnprocessableEntity, "validation_failed")
			if want := "The schema has 101 nodes; at most 100 are allowed."; e.Error.Fields["schema"] != want || len(e.Error.Fields) != 1 {
				t.Errorf("too many nodes: fields %q", e.Error.Fields)
			}
			mustError(t, serve(h, http.MethodGet, "/api/forms/keys", ""), http.StatusNotFound, "not_found")
		})

		// Ensure a title alone can fail a PUT.
		t.Run("ErrInvalidTitle", func(t *testing.T) {
			w := put("checkout", `{"title": "`+strings.Repeat("й", forms.MaxLabelLength+1)+`", "schema": []}`)
			e := mustError(t, w, http.StatusUnprocessableEntity, "validation_failed")
			if want := map[string]string{"title": "Title is 201 characters long; at most 200 are allowed."}; !reflect.DeepEqual(e.Error.Fields, want) {
				t.Fatalf("fields %q", e.Error.Fields)
			}
			checkoutUnchanged(t)
		})

		// Ensure bodies that are not a form at all are a 400 (or 413, 415),
		// never a 422 or a 500.
		t.Run("ErrBadRequest", func(t *testing.T) {
			tests := []struct {
				name, body string
				status     int
				code       string
			}{
				{"Malformed", `{"title": "x", "schema": [}`, http.StatusBadRequest, "bad_request"},
				{"Truncated", `{"title": "x", "schema": [`, http.StatusBadRequest, "bad_request"},
				{"Empty", ``, http.StatusBadRequest, "bad_request"},
				{"UnknownField", `{"title": "x", "schema": [], "fields": []}`, http.StatusBadRequest, "bad_request"},
				{"TitleNotString", `{"title": 5, "schema": []}`, http.StatusBadRequest, "bad_request"},
				{"SchemaMissing", `{"title": "x"}`, http.StatusBadRequest, "bad_request"},
				{"SchemaNull", `{"title": "x", "schema": null}`, http.StatusBadRequest, "bad_request"},
				{"SchemaObject", `{"title": "x", "schema": {"nodes": []}}`, http.StatusBadRequest, "bad_request"},
				{"TrailingData", `{"title": "x", "schema": []} {}`, http.StatusBadRequest, "bad_request"},
				{"AliasMismatch", `{"alias": "other", "title": "x", "schema": []}`, http.StatusBadRequest, "bad_request"},
				{"Oversized", `{"title": "x", "schema": [], "pad": "` + strings.Repeat("x", forms.MaxFormBodySize) + `"}`,
					http.StatusRequestEntityTooLarge, "body_too_large"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustError(t, put("checkout", tt.body), tt.status, tt.code)
				})
			}
			req := httptest.NewRequest(http.MethodPut, "/admin/api/forms/checkout", strings.NewReader(`{"title": "x", "schema": []}`))
			req.Header.Set("Content-Type", "text/plain")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			mustError(t, w, http.StatusUnsupportedMediaType, "unsupported_media_type")
			mustError(t, put("Bad.Alias", `{"title": "x", "schema": []}`), http.StatusBadRequest, "invalid_alias")
			checkoutUnchanged(t)
		})

		// Ensure a schema just under the body limit is accepted: the limit is
		// the admin's, not the storefront's 64 KiB.
		t.Run("PutLarge", func(t *testing.T) {
			nodes := make([]forms.Node, forms.MaxNodes)
			for i := range nodes {
				nodes[i] = forms.Node{Type: "textarea", Name: "f_" + strconv.Itoa(i),
					Label: strings.Repeat("Ж", forms.MaxLabelLength), Help: strings.Repeat("ю", 300)}
			}
			b, err := json.Marshal(forms.Form{Title: "Large", Schema: nodes})
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 100<<10 || len(b) > forms.MaxFormBodySize {
				t.Fatalf("body is %d bytes", len(b))
			}
			got := mustForm(t, serve(h, http.MethodPut, "/admin/api/forms/large", strings.Replace(string(b), `"alias":"",`, "", 1)))
			if len(got.Schema) != forms.MaxNodes {
				t.Fatalf("%d nodes", len(got.Schema))
			}
			if got := mustForm(t, serve(h, http.MethodGet, "/api/forms/large", "")); !reflect.DeepEqual(got.Schema, nodes) {
				t.Fatal("large form changed on the way through the database")
			}
		})
	})
}
