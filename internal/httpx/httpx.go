// Package httpx holds the one JSON error shape and the request/response
// helpers every TeleCart handler shares, so that each package maps its domain
// errors to statuses in one place and bad input never becomes a 500.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// MaxBodyDefault is the request body limit of the storefront API (64 KiB).
const MaxBodyDefault = 64 << 10

// Error is an error with an HTTP status and a stable machine-readable code.
// Domain packages return it (or wrap sentinels in it) and WriteError renders
// it as {"error": {"code", "message", "fields"}}.
type Error struct {
	Status  int               // HTTP status, 4xx or 5xx
	Code    string            // snake_case, e.g. "invalid_init_data"
	Message string            // safe to show to the caller
	Fields  map[string]string // per-field messages for 422 answers
	Err     error             // the cause, for errors.Is; never rendered
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 with code "bad_request".
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "bad_request", format, args...)
}

// NotFound is a 404 with code "not_found".
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "not_found", format, args...)
}

// Unprocessable is a 422 with per-field messages.
func Unprocessable(msg string, fields map[string]string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: msg, Fields: fields}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// WriteError renders err as JSON. An *Error keeps its status, code and
// message; anything else is an internal error: logged (when logger is not
// nil) and answered 500 "Internal error." without leaking its text.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) {
		if logger != nil {
			logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "Internal error."}
	} else if e.Status >= 500 && logger != nil {
		logger.ErrorContext(r.Context(), "server error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	WriteJSON(w, e.Status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Fields: e.Fields}})
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DecodeJSON reads one JSON value of at most maxBytes (MaxBodyDefault when
// 0) into dst, refusing unknown fields and trailing data. Errors are *Error:
// 413 for an oversized body, 400 otherwise, with a message naming the cause.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = MaxBodyDefault
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json")
	}
	body := http.MaxBytesReader(w, r.Body, maxBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			if e := decodeError(err); e.Status == http.StatusRequestEntityTooLarge {
				return e
			}
		}
		return BadRequest("request body must hold a single JSON value")
	}
	return nil
}

func decodeError(err error) *Error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds %d bytes", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return BadRequest("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("request body is truncated JSON")
	case errors.As(err, &syntaxErr):
		return BadRequest("malformed JSON at offset %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return BadRequest("field %q must be %s", typeErr.Field, typeErr.Type.String())
		}
		return BadRequest("body must be %s", typeErr.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return BadRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return BadRequest("invalid JSON: %v", err)
	}
}
