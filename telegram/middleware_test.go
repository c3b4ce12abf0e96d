package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// Ensure the middleware reports every 401 to OnReject once, with a stable
// reason, and nothing for init data it accepts.
func TestMiddlewareOnReject(t *testing.T) {
	var reasons []string
	v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: testToken, Now: fixedClock(testNow),
		OnReject: func(r *http.Request, reason string) {
			if r.URL.Path != "/api/orders" {
				t.Errorf("OnReject got the request for %s", r.URL.Path)
			}
			reasons = append(reasons, reason)
		}})
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	valid := telegram.SignInitData(testToken, testParams(), testNow)
	q, err := url.ParseQuery(valid)
	if err != nil {
		t.Fatal(err)
	}
	q.Del("hash")
	unsigned := q.Encode()
	for _, tt := range []struct {
		name    string
		headers []string
		reason  string // "" for accepted
	}{
		{"OK", []string{valid}, ""},
		{"Missing", nil, telegram.RejectMissing},
		{"Repeated", []string{valid, valid}, telegram.RejectMalformed},
		{"Garbage", []string{"%%%"}, telegram.RejectMalformed},
		{"DuplicateKey", []string{valid + "&user=%7B%7D"}, telegram.RejectMalformed},
		{"NoHash", []string{unsigned}, telegram.RejectUnsigned},
		{"OtherBot", []string{telegram.SignInitData("1:other-bot", testParams(), testNow)}, telegram.RejectSignatureMismatch},
		{"Expired", []string{telegram.SignInitData(testToken, testParams(), testNow.Add(-25*time.Hour))}, telegram.RejectExpired},
		{"Future", []string{telegram.SignInitData(testToken, testParams(), testNow.Add(time.Hour))}, telegram.RejectFromFuture},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reasons = nil
			r := httptest.NewRequest(http.MethodPost, "/api/orders", nil)
			for _, s := range tt.headers {
				r.Header.Add(telegram.HeaderInitData, s)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			switch {
			case tt.reason == "" && (w.Code != http.StatusNoContent || len(reasons) != 0):
				t.Fatalf("status %d, reasons %v; want accepted without a report", w.Code, reasons)
			case tt.reason != "" && (w.Code != http.StatusUnauthorized || len(reasons) != 1 || reasons[0] != tt.reason):
				t.Fatalf("status %d, reasons %v; want 401 reported once as %s", w.Code, reasons, tt.reason)
			}
		})
	}
}

// Ensure RejectReason names the rules of third-party validation too, and
// nothing for errors that are not about the init data.
func TestRejectReason(t *testing.T) {
	v := MustNewValidator(t, testToken, testNow)
	_, noSignature := v.ValidateThirdParty(telegram.SignInitData(testToken, testParams(), testNow), 1, nil)
	_, badSignature := v.ValidateThirdParty(telegram.SignInitData(testToken, testParams(), testNow)+"&signature=abc", 1, nil)
	for _, tt := range []struct {
		err  error
		want string
	}{
		{noSignature, telegram.RejectUnsigned},
		{badSignature, telegram.RejectMalformed},
		{nil, ""},
		{errors.New("telegram: ValidateThirdParty: botID must be positive"), ""},
	} {
		if got := telegram.RejectReason(tt.err); got != tt.want {
			t.Errorf("RejectReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
