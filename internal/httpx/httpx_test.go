package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/tcerr"
)

func TestDecodeJSON(t *testing.T) {
	type Embedded struct {
		Tags []string `json:"tags"`
	}
	type body struct {
		Embedded
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	tests := []struct {
		name   string
		in     string
		status int
		msg    string
	}{
		{"OK", `{"name":"a","n":1}`, 0, ""},
		{"Empty", ``, 400, "empty"},
		{"Malformed", `{"name":`, 400, "truncated"},
		{"Syntax", `{"name" 1}`, 400, "malformed JSON"},
		{"WrongType", `{"n":"x"}`, 400, `field "n" must be an integer`},
		{"WrongTypeString", `{"name":1}`, 400, `field "name" must be a string`},
		{"WrongTypeEmbedded", `{"tags":{"a":1}}`, 400, `field "tags" must be an array`},
		{"WrongTypeBody", `[]`, 400, `body must be an object`},
		{"UnknownField", `{"other":1}`, 400, `unknown field "other"`},
		{"Trailing", `{"n":1} {"n":2}`, 400, "single JSON value"},
		{"TooLarge", `{"name":"` + strings.Repeat("x", 200) + `"}`, 413, "exceeds 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.in))
			var b body
			err := DecodeJSON(httptest.NewRecorder(), r, &b, 100)
			if tt.status == 0 {
				if err != nil || b.Name != "a" || b.N != 1 {
					t.Fatalf("DecodeJSON = %v, %+v", err, b)
				}
				return
			}
			var e *tcerr.Error
			if !errors.As(err, &e) || Status(err) != tt.status || !strings.Contains(e.Message, tt.msg) ||
				strings.Contains(e.Message, "httpx") || strings.Contains(e.Message, "Embedded") {
				t.Fatalf("DecodeJSON = %v; want %d containing %q", err, tt.status, tt.msg)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	// Ensure a coded error keeps its status, code, fields and details, and
	// anything else becomes a 500 that does not leak its text.
	for _, tt := range []struct {
		err    error
		status int
		code   string
		leak   string
	}{
		{tcerr.Fields("bad", map[string]string{"name": "Name is required."}), 422, "validation_failed", ""},
		{tcerr.NotFoundf("customer %d not found", 7), 404, "not_found", ""},
		{errors.New("dial tcp: secret-host"), 500, "internal", "secret-host"},
		{fmt.Errorf("placing: %w", &tcerr.Error{Kind: tcerr.Conflict, Code: "out_of_stock", Message: "Tea is sold out",
			Details: map[string]string{"product_id": "p1", "product_name": "Tea"}}), 409, "out_of_stock", ""},
		{&tcerr.Error{Kind: tcerr.Internal, Code: "db", Message: "secret-table"}, 500, "internal", "secret-table"},
		{&tcerr.Error{Kind: "no-such-kind", Code: "x", Message: "secret-kind"}, 500, "internal", "secret-kind"},
	} {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest("GET", "/", nil), nil, tt.err)
		var got struct {
			Error struct {
				Code    string            `json:"code"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
				Details map[string]string `json:"details"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if w.Code != tt.status || got.Error.Code != tt.code || got.Error.Message == "" {
			t.Fatalf("WriteError(%v) = %d %+v", tt.err, w.Code, got)
		}
		if tt.leak != "" && strings.Contains(w.Body.String(), tt.leak) {
			t.Fatalf("internal error leaked: %s", w.Body.String())
		}
		if tt.status == 422 && got.Error.Fields["name"] == "" {
			t.Fatalf("fields lost: %s", w.Body.String())
		}
		if want := tcerr.DetailsOf(tt.err); tt.status < 500 && fmt.Sprint(got.Error.Details) != fmt.Sprint(want) {
			t.Fatalf("details %v, want %v", got.Error.Details, want)
		}
		if tt.status != 409 && strings.Contains(w.Body.String(), `"details"`) {
			t.Fatalf("details without any: %s", w.Body.String())
		}
	}
}

func TestStatusEveryKind(t *testing.T) {
	// Ensure every kind has its own status, so no domain error becomes a
	// 500 by omission.
	kinds := []tcerr.Kind{tcerr.Invalid, tcerr.Unauthenticated, tcerr.Forbidden, tcerr.NotFound,
		tcerr.MethodNotAllowed, tcerr.Conflict, tcerr.TooLarge, tcerr.Unsupported, tcerr.Validation,
		tcerr.RateLimited, tcerr.Unavailable, tcerr.Upstream}
	seen := map[int]tcerr.Kind{}
	for _, k := range kinds {
		s := Status(&tcerr.Error{Kind: k})
		if s == http.StatusInternalServerError {
			t.Errorf("kind %q has no status", k)
		}
		if prev, ok := seen[s]; ok {
			t.Errorf("kinds %q and %q share status %d", prev, k, s)
		}
		seen[s] = k
	}
	if len(statuses) != len(kinds)+1 {
		t.Errorf("statuses has %d kinds, the test knows %d and Internal", len(statuses), len(kinds))
	}
}
