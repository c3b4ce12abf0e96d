package telegram_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telegram"
)

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Ensure the middleware answers 401 JSON naming the failed rule, and passes
// valid init data to the handler through the context.
func TestMiddleware(t *testing.T) {
	v := MustNewValidator(t, testToken, testNow)
	var got telegram.InitData
	var called bool
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		var ok bool
		got, ok = telegram.InitDataFrom(r.Context())
		if !ok {
			t.Error("no init data in context")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	serve := func(values ...string) *httptest.ResponseRecorder {
		called = false
		r := httptest.NewRequest(http.MethodGet, "/api/settings", nil)
		for _, s := range values {
			r.Header.Add(telegram.HeaderInitData, s)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	valid := telegram.SignInitData(testToken, testParams(), testNow)

	t.Run("OK", func(t *testing.T) {
		w := serve(valid)
		if w.Code != http.StatusNoContent || !called {
			t.Fatalf("status %d, called %v: %s", w.Code, called, w.Body)
		}
		if got.User == nil || got.User.ID != 279058397 || got.Raw != valid {
			t.Fatalf("handler saw %+v", got)
		}
	})
	for _, tt := range []struct {
		name    string
		headers []string
		message string
	}{
		{"Missing", nil, "X-Telegram-Init-Data header is missing"},
		{"Empty", []string{""}, "X-Telegram-Init-Data header is missing"},
		{"Repeated", []string{valid, valid}, "X-Telegram-Init-Data header is repeated"},
		{"BadHash", []string{valid[:len(valid)-1] + "0"}, "init data signature does not match"},
		{"Expired", []string{telegram.SignInitData(testToken, testParams(), testNow.Add(-25*time.Hour))}, "init data expired: auth_date is 25h0m0s old, more than 24h0m0s"},
		{"Future", []string{telegram.SignInitData(testToken, testParams(), testNow.Add(time.Hour))}, "init data auth_date is in the future: auth_date is 1h0m0s ahead of the server clock"},
		{"DuplicateKey", []string{valid + "&user=%7B%7D"}, `init data has a duplicated key: key "user"`},
		{"Garbage", []string{"%%%"}, "init data is not a valid query string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(tt.headers...)
			if w.Code != http.StatusUnauthorized || called {
				t.Fatalf("status %d, called %v", w.Code, called)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if body.Error.Code != "invalid_init_data" || body.Error.Message != tt.message {
				t.Fatalf("error = %+v, want message %q", body.Error, tt.message)
			}
		})
	}
}

// Ensure WithInitData and InitDataFrom round trip, and an empty context has
// nothing.
func TestInitDataContext(t *testing.T) {
	if _, ok := telegram.InitDataFrom(context.Background()); ok {
		t.Fatal("empty context has init data")
	}
	want := telegram.InitData{QueryID: "q", User: &telegram.User{ID: 7}}
	got, ok := telegram.InitDataFrom(telegram.WithInitData(context.Background(), want))
	if !ok || got.QueryID != "q" || got.User.ID != 7 {
		t.Fatalf("got %+v, %v", got, ok)
	}
	// A string key with the same text does not collide.
	//lint:ignore SA1029 a string key is the point of this test
	ctx := context.WithValue(context.Background(), "telegram init data", want)
	if _, ok := telegram.InitDataFrom(ctx); ok {
		t.Fatal("string key collided")
	}
}

// Ensure a nil handler is a start-up panic, not a request-time one.
func TestMiddlewareNilHandler(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	MustNewValidator(t, testToken, testNow).Middleware(nil)
}
