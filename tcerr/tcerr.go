// Package tcerr is TeleCart's one error type: a transport-neutral Kind a
// host can switch on, a stable machine-readable Code, a message safe to show
// to a shop's visitor or admin, and per-field messages for validation.
//
// The domain packages export their errors as values of this type (for
// example telecart.ErrOutOfStock, forms.ErrValidation,
// telegram.ErrCustomerNotFound), so a host tells them apart with errors.Is
// and reads the details with errors.As:
//
//	_, err := tc.Orders().PlaceOrder(ctx, initData, req)
//	switch {
//	case errors.Is(err, telecart.ErrOutOfStock):
//		// say so to the buyer
//	case tcerr.KindOf(err) == tcerr.Validation:
//		var e *tcerr.Error
//		errors.As(err, &e) // e.Fields holds a message per form field
//	}
//
// errors.Is matches two *Error values by Code, so a sentinel matches every
// error of its kind whatever its message. TeleCart's HTTP handlers turn a
// Kind into a status in one place; nothing in this package knows HTTP.
package tcerr

import (
	"errors"
	"fmt"
)

// Kind says what sort of failure an error is, independent of the transport.
type Kind string

// The kinds. An error that is not an *Error is Internal.
const (
	Internal         Kind = "internal"           // a failure of the shop, not of the caller
	Invalid          Kind = "invalid"            // malformed input: a bad query, body or id
	Unauthenticated  Kind = "unauthenticated"    // missing or wrong credentials or initData
	Forbidden        Kind = "forbidden"          // authenticated, but not allowed
	NotFound         Kind = "not_found"          // the thing asked for does not exist
	MethodNotAllowed Kind = "method_not_allowed" // the resource exists but not the operation
	Conflict         Kind = "conflict"           // the request clashes with the current state
	TooLarge         Kind = "too_large"          // the request is bigger than allowed
	Unsupported      Kind = "unsupported"        // an unsupported media type
	Validation       Kind = "validation"         // well-formed, but fails rules; see Fields
	RateLimited      Kind = "rate_limited"       // too many requests; try later
	Unavailable      Kind = "unavailable"        // a dependency is down; try later
	Upstream         Kind = "upstream"           // a service the shop called (Telegram) failed
)

// Error is an error a caller can act on.
type Error struct {
	Kind    Kind              // what sort of failure
	Code    string            // stable, snake_case, e.g. "out_of_stock"
	Message string            // safe to show to the caller
	Fields  map[string]string // per-field messages, for Validation
	// Details are facts about the failure a client may word its own
	// message with, in its own language: the product an out-of-stock
	// error is about ("product_id", "product_name"). Safe to show.
	Details map[string]string
	Err     error // the cause, for errors.Is/As; never shown
}

// Error returns the message and, after a colon, the cause.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same non-empty Code, so
// that errors.Is(err, ErrOutOfStock) holds for every out-of-stock error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// Errorf returns an *Error of kind with code and a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf is an Invalid error with code "bad_request".
func Invalidf(format string, args ...any) *Error {
	return Errorf(Invalid, "bad_request", format, args...)
}

// NotFoundf is a NotFound error with code "not_found".
func NotFoundf(format string, args ...any) *Error {
	return Errorf(NotFound, "not_found", format, args...)
}

// Fields is a Validation error with code "validation_failed" and a message
// per field.
func Fields(msg string, fields map[string]string) *Error {
	return &Error{Kind: Validation, Code: "validation_failed", Message: msg, Fields: fields}
}

// KindOf returns the Kind of the first *Error in err's chain: Internal when
// there is none, "" for a nil err.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != "" {
		return e.Kind
	}
	return Internal
}

// CodeOf returns the Code of the first *Error in err's chain, or "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// FieldsOf returns the per-field messages of the first *Error in err's
// chain, or nil.
func FieldsOf(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// DetailsOf returns the details of the first *Error in err's chain, or nil.
func DetailsOf(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}
