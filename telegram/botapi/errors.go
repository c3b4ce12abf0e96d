package botapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var (
	// ErrMessageEmpty is returned, before anything is sent, for a text that is
	// empty or only white space.
	ErrMessageEmpty = errors.New("telegram: message text is empty")
	// ErrMessageTooLong is returned, before anything is sent, for a text of
	// more than MaxMessageLength runes.
	ErrMessageTooLong = fmt.Errorf("telegram: message text is longer than %d characters", MaxMessageLength)

	// ErrRecipientUnreachable matches every error that means the user cannot
	// receive messages from the bot until they act: ErrBotBlocked,
	// ErrUserDeactivated and ErrCantInitiate.
	ErrRecipientUnreachable = errors.New("telegram: recipient unreachable")
	// ErrBotBlocked is a 403 "bot was blocked by the user".
	ErrBotBlocked error = &unreachableError{"telegram: bot was blocked by the user"}
	// ErrUserDeactivated is a 403 "user is deactivated" (the account was deleted).
	ErrUserDeactivated error = &unreachableError{"telegram: user is deactivated"}
	// ErrCantInitiate is a 403 "bot can't initiate conversation with a user":
	// the user never pressed Start in the bot's chat.
	ErrCantInitiate error = &unreachableError{"telegram: bot can't initiate conversation with a user"}
)

// unreachableError is the type of the three 403 sentinels, so that each
// also matches ErrRecipientUnreachable.
type unreachableError struct{ msg string }

func (e *unreachableError) Error() string { return e.msg }

func (e *unreachableError) Is(target error) bool { return target == ErrRecipientUnreachable }

// forbidden maps a 403 description (lower case) to its sentinel.
var forbidden = []struct {
	substr string
	err    error
}{
	{"bot was blocked by the user", ErrBotBlocked},
	{"user is deactivated", ErrUserDeactivated},
	{"bot can't initiate conversation with a user", ErrCantInitiate},
}

// Error is an answer of the Bot API with "ok": false, or an HTTP error
// status without a Bot API body. Check for it with errors.As; network
// errors are never an *Error. A 403 that means the recipient is unreachable
// also matches ErrBotBlocked, ErrUserDeactivated or ErrCantInitiate (and
// ErrRecipientUnreachable) with errors.Is.
type Error struct {
	Method      string // Bot API method, e.g. "sendMessage"
	Code        int    // error_code, or the HTTP status when the body had none
	Description string // description, e.g. "Forbidden: bot was blocked by the user"
	// RetryAfter is parameters.retry_after of a 429 answer (flood control):
	// how long to wait before the request may be repeated. A 429 without it
	// carries the Retry-After header's value, or 1 s.
	RetryAfter time.Duration
	// MigrateToChatID is parameters.migrate_to_chat_id: the group became a
	// supergroup with this ID.
	MigrateToChatID int64

	kind error // a sentinel for classified answers, or nil
}

func (e *Error) Error() string {
	s := fmt.Sprintf("telegram: %s: %d %s", e.Method, e.Code, e.Description)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.MigrateToChatID != 0 {
		s += fmt.Sprintf(" (migrated to chat %d)", e.MigrateToChatID)
	}
	return s
}

// Unwrap returns the sentinel the answer was classified as, if any.
func (e *Error) Unwrap() error { return e.kind }

// classify sets e.kind from the code and description.
func (e *Error) classify() {
	if e.Code != http.StatusForbidden {
		return
	}
	d := strings.ToLower(e.Description)
	for _, f := range forbidden {
		if strings.Contains(d, f.substr) {
			e.kind = f.err
			return
		}
	}
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsBlocked reports whether err is Telegram's 403 answer: the bot may not
// write to that chat until its user or admins act (the user blocked the bot,
// deleted the account or never started it; the bot was removed from the
// group). Sending the same message again cannot succeed.
func IsBlocked(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == http.StatusForbidden
}

// IsUnreachable reports whether err says the user behind a private chat
// cannot receive the bot's messages: it matches ErrRecipientUnreachable.
func IsUnreachable(err error) bool { return errors.Is(err, ErrRecipientUnreachable) }

// RetryAfter returns how long Telegram asked to wait before the request may
// be repeated (a 429 answer), or 0 when err is not flood control.
func RetryAfter(err error) time.Duration {
	e, ok := AsError(err)
	if !ok || e.Code != http.StatusTooManyRequests {
		return 0
	}
	return e.RetryAfter
}

// IsTemporary reports whether repeating the request later may succeed:
// flood control (429), Telegram's own failures (5xx), and failures to reach
// Telegram or read its answer (network errors, timeouts). For a message, a
// network error or a 5xx may also mean Telegram delivered it. Refusals
// before anything was sent (ErrMessageEmpty, a cancelled context) are not
// temporary.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := AsError(err); ok {
		return e.Code == http.StatusTooManyRequests || e.Code >= 500
	}
	var te *transportError
	return errors.As(err, &te)
}

// transportError marks a failure to reach Telegram or to read its answer.
// It reads and unwraps as the error it holds, so callers can still test
// (*url.Error).Timeout() or errors.Is(err, context.Canceled).
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }

func (e *transportError) Unwrap() error { return e.err }
