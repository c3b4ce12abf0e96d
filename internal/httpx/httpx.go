// Package httpx holds the one JSON error shape and the request/response
// helpers every TeleCart handler shares, so that each package maps its domain
// errors to statuses in one place and bad input never becomes a 500.
package httpx

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/telecart-go/telecart/tcerr"
)

// MaxBodyDefault is the request body limit of the storefront API (64 KiB).
const MaxBodyDefault = 64 << 10

// statuses maps each kind of error to its HTTP status: the one place where
// TeleCart's errors meet HTTP.
var statuses = map[tcerr.Kind]int{
	tcerr.Internal:         http.StatusInternalServerError,
	tcerr.Invalid:          http.StatusBadRequest,
	tcerr.Unauthenticated:  http.StatusUnauthorized,
	tcerr.Forbidden:        http.StatusForbidden,
	tcerr.NotFound:         http.StatusNotFound,
	tcerr.MethodNotAllowed: http.StatusMethodNotAllowed,
	tcerr.Conflict:         http.StatusConflict,
	tcerr.TooLarge:         http.StatusRequestEntityTooLarge,
	tcerr.Unsupported:      http.StatusUnsupportedMediaType,
	tcerr.Validation:       http.StatusUnprocessableEntity,
	tcerr.RateLimited:      http.StatusTooManyRequests,
	tcerr.Unavailable:      http.StatusServiceUnavailable,
	tcerr.Upstream:         http.StatusBadGateway,
}

// Status is the HTTP status of err: the status of its *tcerr.Error's kind,
// 500 for anything else.
func Status(err error) int {
	var e *tcerr.Error
	if errors.As(err, &e) {
		if s, ok := statuses[e.Kind]; ok {
			return s
		}
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

// WriteError renders err as JSON with the status of its kind. A
// *tcerr.Error keeps its code, message and fields; anything else is an
// internal error: logged (when logger is not nil) and answered 500
// "Internal error." without leaking its text. Server-side failures (5xx) are
// logged with their cause.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var e *tcerr.Error
	status := Status(err)
	if !errors.As(err, &e) || status == http.StatusInternalServerError {
		if logger != nil {
			logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		e = &tcerr.Error{Kind: tcerr.Internal, Code: "internal", Message: "Internal error."}
	} else if status >= 500 && logger != nil {
		logger.ErrorContext(r.Context(), "server error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	WriteJSON(w, status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Fields: e.Fields, Details: e.Details}})
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	WriteJSONHeader(w, status)
	_ = json.NewEncoder(w).Encode(v)
}

// Tagged is an encoded JSON answer and its ETag, ready to be written any
// number of times (a cached answer).
type Tagged struct {
	Body []byte // the JSON, newline-terminated
	Tag  string // the quoted ETag, a hash of Body
}

// EncodeTagged encodes v for WriteTagged.
func EncodeTagged(v any) (Tagged, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Tagged{}, fmt.Errorf("httpx: encoding the answer: %w", err)
	}
	sum := sha256.Sum256(body)
	return Tagged{Body: append(body, '\n'), Tag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

// WriteJSONTagged writes v as a 200 JSON answer with an ETag of its
// bytes, or answers 304 without a body when the request's If-None-Match
// holds that tag: a storefront asking again for settings or a feed page
// that did not change gets no body back. The answer is private (it is
// behind the initData check) and must be revalidated each time.
func WriteJSONTagged(w http.ResponseWriter, r *http.Request, v any) {
	t, err := EncodeTagged(v)
	if err != nil {
		WriteError(w, r, nil, err)
		return
	}
	WriteTagged(w, r, t)
}

// WriteTagged writes t as WriteJSONTagged writes an answer.
func WriteTagged(w http.ResponseWriter, r *http.Request, t Tagged) {
	h := w.Header()
	h.Set("ETag", t.Tag)
	h.Set("Cache-Control", "private, no-cache")
	if etagMatches(r.Header.Get("If-None-Match"), t.Tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	WriteJSONHeader(w, http.StatusOK)
	_, _ = w.Write(t.Body)
}

// etagMatches reports whether the If-None-Match header value lists tag
// (weakly compared, as RFC 9110 asks for If-None-Match) or is "*".
func etagMatches(header, tag string) bool {
	for header != "" {
		var t string
		t, header, _ = strings.Cut(header, ",")
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// WriteJSONHeader sends the headers and status WriteJSON would, for a
// caller that writes the JSON body itself.
func WriteJSONHeader(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
}

// DecodeJSON reads one JSON value of at most maxBytes (MaxBodyDefault when
// 0) into dst, refusing unknown fields and trailing data. Errors are
// *tcerr.Error: TooLarge for an oversized body, Invalid otherwise, with a
// message naming the cause.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = MaxBodyDefault
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return tcerr.Errorf(tcerr.Unsupported, "unsupported_media_type", "Content-Type must be application/json")
	}
	body := http.MaxBytesReader(w, r.Body, maxBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			if e := decodeError(err); e.Kind == tcerr.TooLarge {
				return e
			}
		}
		return tcerr.Invalidf("request body must hold a single JSON value")
	}
	return nil
}

func decodeError(err error) *tcerr.Error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return tcerr.Errorf(tcerr.TooLarge, "body_too_large", "request body exceeds %d bytes", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return tcerr.Invalidf("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tcerr.Invalidf("request body is truncated JSON")
	case errors.As(err, &syntaxErr):
		return tcerr.Invalidf("malformed JSON at offset %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		if f := jsonFieldPath(typeErr.Field); f != "" {
			return tcerr.Invalidf("field %q must be %s", f, jsonKind(typeErr.Type))
		}
		return tcerr.Invalidf("body must be %s", jsonKind(typeErr.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return tcerr.Invalidf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return tcerr.Invalidf("invalid JSON: %v", err)
	}
}

// jsonKind names what a Go type accepts in JSON terms: the API's callers
// see JSON, never the server's type names.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another JSON type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return "another JSON type"
	}
}

// jsonFieldPath drops the Go names encoding/json puts in a field path for
// embedded structs ("Settings.shop_name" → "shop_name"): the API's JSON
// names are snake_case, so a segment starting with a capital is Go's.
func jsonFieldPath(path string) string {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		if seg == "" || (seg[0] >= 'A' && seg[0] <= 'Z') {
			continue
		}
		out = append(out, seg)
	}
	return strings.Join(out, ".")
}
