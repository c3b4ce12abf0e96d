package pulsetest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an answer other than 200: a status and the error body of the
// Pulse API, {"error": {"code", "message"}}. The fake keeps its own rather
// than sharing the library's HTTP error type, so that it speaks the protocol
// of docs/pulse-protocol.md whatever the handlers of the shop answer.
type apiError struct {
	status  int
	code    string // snake_case, e.g. "bad_signature"
	message string
}

func (e *apiError) Error() string { return e.message }

// errorf returns an *apiError with a formatted message.
func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// badRequest is a 400 with code "bad_request".
func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "bad_request", format, args...)
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers e as JSON with its status.
func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, errorBody{Error: errorDetail{Code: e.code, Message: e.message}})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
