package telegram

import (
	"context"
	"errors"
	"net/http"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// HeaderInitData is the request header that carries the raw init data
// (Telegram.WebApp.initData) on every storefront API call.
const HeaderInitData = "X-Telegram-Init-Data"

// contextKey is a pointer type, so no other package can collide with it.
type contextKey struct{ name string }

var initDataKey = &contextKey{"telegram init data"}

// WithInitData returns a copy of ctx that carries d; the middleware uses it,
// and tests of handlers behind the middleware can too.
func WithInitData(ctx context.Context, d InitData) context.Context {
	return context.WithValue(ctx, initDataKey, d)
}

// InitDataFrom returns the validated init data that Middleware stored in ctx.
func InitDataFrom(ctx context.Context) (InitData, bool) {
	d, ok := ctx.Value(initDataKey).(InitData)
	return d, ok
}

// Middleware validates the X-Telegram-Init-Data header of each request and
// passes the parsed InitData to next in the request context (InitDataFrom).
// Missing or invalid init data is answered 401
// {"error": {"code": "invalid_init_data", "message": "<the rule that failed>"}}.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	if next == nil {
		panic("telegram: Middleware: next handler is nil")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.Header.Values(HeaderInitData)
		switch {
		case len(raw) == 0 || raw[0] == "":
			v.reject(r, RejectMissing)
			unauthorized(w, r, HeaderInitData+" header is missing", nil)
			return
		case len(raw) > 1:
			v.reject(r, RejectMalformed)
			unauthorized(w, r, HeaderInitData+" header is repeated", nil)
			return
		}
		d, err := v.validate(raw[0])
		if errors.Is(err, ErrExpired) && d.User != nil {
			// Authentic but old: a page kept open (Telegram Desktop) may
			// go on with its session token, for its own user only.
			if tok := r.Header.Get(HeaderSession); tok != "" && v.CheckSession(tok, d.User.ID) == nil {
				ctx := context.WithValue(WithInitData(r.Context(), d), sessionAuthKey, true)
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
		}
		if err != nil {
			var ie *invalidError
			if !errors.As(err, &ie) {
				httpx.WriteError(w, r, nil, err) // a setup mistake: 500
				return
			}
			v.reject(r, RejectReason(err))
			unauthorized(w, r, ie.message(), err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithInitData(r.Context(), d)))
	})
}

// reject reports a rejection to ValidatorConfig.OnReject.
func (v *Validator) reject(r *http.Request, reason string) {
	if v.onReject != nil {
		v.onReject(r, reason)
	}
}

func unauthorized(w http.ResponseWriter, r *http.Request, msg string, err error) {
	httpx.WriteError(w, r, nil, &tcerr.Error{
		Kind:    tcerr.Unauthenticated,
		Code:    "invalid_init_data",
		Message: msg,
		Err:     err,
	})
}
