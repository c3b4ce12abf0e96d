package httpx

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
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
		{"WrongType", `{"n":"x"}`, 400, `field "n" must be int`},
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
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.status || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("DecodeJSON = %v; want %d containing %q", err, tt.status, tt.msg)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	// Ensure a coded error keeps its status, code and fields, and anything
	// else becomes a 500 that does not leak its text.
	for _, tt := range []struct {
		err    error
		status int
		code   string
		leak   string
	}{
		{Unprocessable("bad", map[string]string{"name": "Name is required."}), 422, "validation_failed", ""},
		{NotFound("customer %d not found", 7), 404, "not_found", ""},
		{errors.New("dial tcp: secret-host"), 500, "internal", "secret-host"},
	} {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest("GET", "/", nil), nil, tt.err)
		var got struct {
			Error struct {
				Code    string            `json:"code"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
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
	}
}
