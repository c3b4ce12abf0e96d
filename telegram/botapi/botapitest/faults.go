package botapitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Fault is a failure answer of the Bot API.
type Fault struct {
	// Code is the HTTP status and error_code, e.g. 429, 403, 400, 502.
	Code int
	// Description is Telegram's description.
	Description string
	// RetryAfter is sent as parameters.retry_after, in whole seconds.
	RetryAfter time.Duration
	// MigrateToChatID is sent as parameters.migrate_to_chat_id.
	MigrateToChatID int64
	// Body, when set, is answered instead of Telegram's JSON error, e.g. a
	// proxy's HTML page.
	Body string
	// Times is how many calls the fault answers when scripted with FailNext
	// or FailChat: 0 means once, -1 every call.
	Times int
}

// TooManyRequests is Telegram's flood control: 429 with retry_after.
func TooManyRequests(retryAfter time.Duration) Fault {
	secs := int64((retryAfter + time.Second - 1) / time.Second)
	return Fault{Code: http.StatusTooManyRequests, Description: fmt.Sprintf("Too Many Requests: retry after %d", secs), RetryAfter: retryAfter}
}

// Blocked is the 403 of a user who blocked the bot.
func Blocked() Fault {
	return Fault{Code: http.StatusForbidden, Description: "Forbidden: bot was blocked by the user"}
}

// BadRequest is a 400 with Telegram's description, e.g. "Bad Request: chat
// not found".
func BadRequest(description string) Fault {
	return Fault{Code: http.StatusBadRequest, Description: description}
}

// ServerError is a 5xx of Telegram's: code 500, 502 (an HTML page, as from
// Telegram's proxy) or any other.
func ServerError(code int) Fault {
	f := Fault{Code: code, Description: http.StatusText(code)}
	if code == http.StatusBadGateway {
		f.Body = "<html><body><h1>502 Bad Gateway</h1></body></html>"
	}
	return f
}

// answer is the fault's JSON body.
func (f Fault) answer() string {
	m := map[string]any{"ok": false, "error_code": f.Code, "description": f.Description}
	params := map[string]any{}
	if f.RetryAfter > 0 {
		params["retry_after"] = int64((f.RetryAfter + time.Second - 1) / time.Second)
	}
	if f.MigrateToChatID != 0 {
		params["migrate_to_chat_id"] = f.MigrateToChatID
	}
	if len(params) > 0 {
		m["parameters"] = params
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// FailNext makes the next f.Times calls of method ("" for any method)
// answer f.
func (s *Server) FailNext(method string, f Fault) {
	s.script(&scripted{method: method, fault: f})
}

// FailChat makes the next f.Times sendMessage calls to chatID answer f.
func (s *Server) FailChat(chatID int64, f Fault) {
	s.script(&scripted{method: "sendMessage", chatID: chatID, byChat: true, fault: f})
}

func (s *Server) script(sc *scripted) {
	sc.left = sc.fault.Times
	if sc.left == 0 {
		sc.left = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, sc)
	s.mu.Unlock()
}

// SetFaultFunc sets a function asked first about every call (with a valid
// token); a non-nil Fault it returns answers the call. nil removes it.
func (s *Server) SetFaultFunc(fn func(Call) *Fault) {
	s.mu.Lock()
	s.faultFunc = fn
	s.mu.Unlock()
}

// ClearFaults removes the scripted faults and the FaultFunc.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults, s.faultFunc = nil, nil
	s.mu.Unlock()
}

// takeFault returns the fault that answers call, if any, and counts it.
func (s *Server) takeFault(call Call) *Fault {
	s.mu.Lock()
	fn := s.faultFunc
	s.mu.Unlock()
	if fn != nil {
		if f := fn(call); f != nil {
			return f
		}
	}
	var chatID int64
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sc := range s.faults {
		if sc.method != "" && sc.method != call.Method {
			continue
		}
		if sc.byChat {
			if chatID == 0 {
				chatID = call.ChatID()
			}
			if chatID != sc.chatID {
				continue
			}
		}
		f := sc.fault
		if sc.left > 0 {
			sc.left--
			if sc.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}
