package botapitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telegram/botapi"
)

// TokenDefault is the token the fake accepts when Config.Token is empty.
const TokenDefault = "123456:TEST-fake-bot-token"

// Config configures a Server. The zero value is ready to use.
type Config struct {
	// Token is the only bot token the fake accepts; others get 401.
	// Defaults to TokenDefault.
	Token string
	// Bot is getMe's answer. Defaults to a bot with ID 100000001 and the
	// username "telecart_test_bot".
	Bot botapi.User
	// Now stamps calls and sent messages. Defaults to time.Now.
	Now func() time.Time
	// Latency delays every answer, as a slow network would.
	Latency time.Duration
}

// Call is one request the fake received.
type Call struct {
	Method string
	// Params are the JSON parameters as decoded into a map (numbers are
	// float64); Decode reads them into a typed value.
	Params map[string]any
	Body   []byte
	Time   time.Time
	// Status is the HTTP status of the answer; Fault is the fault that
	// answered it, or nil.
	Status int
	Fault  *Fault
}

// Decode unmarshals the call's parameters into v, e.g. a
// *botapi.SendMessageParams.
func (c Call) Decode(v any) error { return json.Unmarshal(c.Body, v) }

// ChatID returns the call's chat_id parameter, or 0.
func (c Call) ChatID() int64 {
	var p struct {
		ChatID int64 `json:"chat_id"`
	}
	_ = json.Unmarshal(c.Body, &p)
	return p.ChatID
}

// SentMessage is a message the fake accepted.
type SentMessage struct {
	Time      time.Time
	MessageID int64
	Params    botapi.SendMessageParams
}

// Webhook is the webhook the fake was given with setWebhook.
type Webhook struct {
	URL            string
	SecretToken    string
	AllowedUpdates []string
	MaxConnections int
}

// Server is a running fake Bot API. Its methods are safe for concurrent
// use.
type Server struct {
	// URL is the base URL to use as botapi.Config.BaseURL.
	URL string
	// Token is the bot token the fake accepts.
	Token string

	cfg Config
	srv *httptest.Server

	mu          sync.Mutex
	calls       []Call
	sent        []SentMessage
	nextMessage int64
	updates     []queuedUpdate
	lastUpdate  int64
	newUpdate   chan struct{} // closed and replaced when an update is queued
	webhook     Webhook
	menuButtons map[int64]botapi.MenuButton
	faults      []*scripted
	faultFunc   func(Call) *Fault
	closed      chan struct{}
}

type queuedUpdate struct {
	id  int64
	raw json.RawMessage
}

type scripted struct {
	method string // "" for any method
	chatID int64  // 0 for any chat
	byChat bool
	fault  Fault
	left   int // -1 for ever
}

// NewServer starts a fake Bot API closed at the end of the test.
func NewServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := Start(cfg)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake Bot API outside a test (an example, a demo); the
// caller closes it with Close.
func Start(cfg Config) *Server {
	if cfg.Token == "" {
		cfg.Token = TokenDefault
	}
	if cfg.Bot.ID == 0 {
		cfg.Bot = botapi.User{ID: 100000001, IsBot: true, FirstName: "TeleCart Test", Username: "telecart_test_bot"}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		Token:       cfg.Token,
		cfg:         cfg,
		nextMessage: 1,
		newUpdate:   make(chan struct{}),
		menuButtons: make(map[int64]botapi.MenuButton),
		closed:      make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server, waking long polls first. It may be called twice.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Calls returns every call received so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls of one method, in arrival order.
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Sent returns the messages accepted so far, in the order they were.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

// WaitForSent waits until at least n messages were accepted and returns
// them, failing the test after timeout.
func (s *Server) WaitForSent(tb testing.TB, n int, timeout time.Duration) []SentMessage {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sent := s.Sent()
		if len(sent) >= n {
			return sent
		}
		if time.Now().After(deadline) {
			tb.Fatalf("botapitest: %d messages sent after %s, want %d", len(sent), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Webhook returns the webhook set, with URL empty when none is.
func (s *Server) Webhook() Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.webhook
	w.AllowedUpdates = append([]string(nil), w.AllowedUpdates...)
	return w
}

// MenuButton returns the menu button set for chatID (0: the default one).
func (s *Server) MenuButton(chatID int64) (botapi.MenuButton, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.menuButtons[chatID]
	return b, ok
}

// QueueUpdate queues u for getUpdates and returns its update_id: u's own,
// or, when it is 0, one more than the last queued.
func (s *Server) QueueUpdate(u botapi.Update) int64 {
	raw, err := json.Marshal(u)
	if err != nil {
		panic(fmt.Sprintf("botapitest: encoding an update: %v", err))
	}
	return s.QueueRawUpdate(u.UpdateID, raw)
}

// QueueRawUpdate queues a raw update (any JSON object: the fake sets its
// update_id) for getUpdates and returns its update_id: id or, when id is
// 0, one more than the last queued.
func (s *Server) QueueRawUpdate(id int64, raw json.RawMessage) int64 {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		panic(fmt.Sprintf("botapitest: an update must be a JSON object: %v", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 {
		id = s.lastUpdate + 1
	}
	s.lastUpdate = max(s.lastUpdate, id)
	obj["update_id"], _ = json.Marshal(id)
	raw, _ = json.Marshal(obj)
	s.updates = append(s.updates, queuedUpdate{id: id, raw: raw})
	close(s.newUpdate)
	s.newUpdate = make(chan struct{})
	return id
}

// PendingUpdates returns how many queued updates getUpdates has not had
// confirmed yet.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Latency > 0 {
		select {
		case <-time.After(s.cfg.Latency):
		case <-r.Context().Done():
			return
		}
	}
	token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !ok || !strings.HasPrefix(r.URL.Path, "/bot") || r.Method != http.MethodPost {
		writeAnswer(w, http.StatusNotFound, errorAnswer(http.StatusNotFound, "Not Found"))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	call := Call{Method: method, Body: body, Time: s.cfg.Now()}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &call.Params); err != nil {
			s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: can't parse JSON: "+err.Error()))
			return
		}
	}
	if token != s.Token {
		s.answer(w, call, http.StatusUnauthorized, errorAnswer(401, "Unauthorized"))
		return
	}
	if f := s.takeFault(call); f != nil {
		call.Fault = f
		body := f.Body
		if body == "" {
			body = f.answer()
		}
		s.answer(w, call, f.Code, body)
		return
	}
	switch method {
	case "getMe":
		s.answer(w, call, http.StatusOK, okAnswer(s.cfg.Bot))
	case "sendMessage":
		s.sendMessage(w, call)
	case "setWebhook":
		s.setWebhook(w, call)
	case "deleteWebhook":
		var p botapi.DeleteWebhookParams
		_ = call.Decode(&p)
		s.mu.Lock()
		s.webhook = Webhook{}
		if p.DropPendingUpdates {
			s.updates = nil
		}
		s.mu.Unlock()
		s.answer(w, call, http.StatusOK, okAnswer(true))
	case "getWebhookInfo":
		s.mu.Lock()
		info := botapi.WebhookInfo{URL: s.webhook.URL, PendingUpdateCount: len(s.updates),
			MaxConnections: s.webhook.MaxConnections, AllowedUpdates: s.webhook.AllowedUpdates}
		s.mu.Unlock()
		s.answer(w, call, http.StatusOK, okAnswer(info))
	case "getUpdates":
		s.getUpdates(w, r, call)
	case "setChatMenuButton":
		var p botapi.SetChatMenuButtonParams
		if err := call.Decode(&p); err != nil {
			s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: "+err.Error()))
			return
		}
		b := botapi.MenuButton{Type: botapi.MenuButtonDefault}
		if p.MenuButton != nil {
			b = *p.MenuButton
		}
		if b.Type == botapi.MenuButtonWebApp && (b.WebApp == nil || b.Text == "") {
			s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: web app menu button must have text and web_app"))
			return
		}
		s.mu.Lock()
		s.menuButtons[p.ChatID] = b
		s.mu.Unlock()
		s.answer(w, call, http.StatusOK, okAnswer(true))
	default:
		s.answer(w, call, http.StatusNotFound, errorAnswer(404, "Not Found: method not found"))
	}
}

func (s *Server) sendMessage(w http.ResponseWriter, call Call) {
	var p botapi.SendMessageParams
	if err := call.Decode(&p); err != nil {
		s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: "+err.Error()))
		return
	}
	switch {
	case p.ChatID == 0:
		s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: chat_id is empty"))
		return
	case strings.TrimSpace(p.Text) == "":
		s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: message text is empty"))
		return
	case p.ParseMode == botapi.ParseModeHTML:
		// Telegram parses the markup before anything else and refuses the
		// whole message for one mistake.
		if err := botapi.CheckHTML(p.Text); err != nil {
			s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: can't parse entities: "+err.Error()))
			return
		}
	}
	chat := botapi.Chat{ID: p.ChatID, Type: botapi.ChatTypePrivate}
	if p.ChatID < 0 {
		chat.Type = botapi.ChatTypeSupergroup
	}
	s.mu.Lock()
	m := botapi.Message{MessageID: s.nextMessage, MessageThreadID: p.MessageThreadID, Date: call.Time.Unix(),
		Chat: chat, Text: p.Text, From: &s.cfg.Bot}
	s.nextMessage++
	s.sent = append(s.sent, SentMessage{Time: call.Time, MessageID: m.MessageID, Params: p})
	s.mu.Unlock()
	s.answer(w, call, http.StatusOK, okAnswer(m))
}

func (s *Server) setWebhook(w http.ResponseWriter, call Call) {
	var p botapi.SetWebhookParams
	if err := call.Decode(&p); err != nil {
		s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: "+err.Error()))
		return
	}
	if p.SecretToken != "" && !secretTokenRE.MatchString(p.SecretToken) {
		s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: secret token contains unallowed characters"))
		return
	}
	if p.URL != "" && !strings.HasPrefix(p.URL, "https://") && !strings.HasPrefix(p.URL, "http://") {
		s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"))
		return
	}
	s.mu.Lock()
	allowed := p.AllowedUpdates
	if len(allowed) == 0 {
		allowed = s.webhook.AllowedUpdates
	}
	s.webhook = Webhook{URL: p.URL, SecretToken: p.SecretToken, AllowedUpdates: allowed, MaxConnections: p.MaxConnections}
	if p.DropPendingUpdates {
		s.updates = nil
	}
	s.mu.Unlock()
	s.answer(w, call, http.StatusOK, okAnswer(true))
}

type getUpdatesParams struct {
	Offset  int64   `json:"offset"`
	Limit   int     `json:"limit"`
	Timeout float64 `json:"timeout"`
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, call Call) {
	var p getUpdatesParams
	if err := call.Decode(&p); err != nil && len(call.Body) > 0 {
		s.answer(w, call, http.StatusBadRequest, errorAnswer(400, "Bad Request: "+err.Error()))
		return
	}
	if p.Limit <= 0 || p.Limit > 100 {
		p.Limit = 100
	}
	deadline := time.NewTimer(time.Duration(p.Timeout * float64(time.Second)))
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.webhook.URL != "" {
			s.mu.Unlock()
			s.answer(w, call, http.StatusConflict, errorAnswer(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"))
			return
		}
		// An offset confirms every update before it, as Telegram does.
		if p.Offset > 0 {
			kept := s.updates[:0]
			for _, u := range s.updates {
				if u.id >= p.Offset {
					kept = append(kept, u)
				}
			}
			s.updates = kept
		}
		var out []json.RawMessage
		for _, u := range s.updates {
			if len(out) == p.Limit {
				break
			}
			out = append(out, u.raw)
		}
		wake := s.newUpdate
		s.mu.Unlock()
		if len(out) > 0 {
			s.answer(w, call, http.StatusOK, okAnswer(out))
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			s.answer(w, call, http.StatusOK, okAnswer([]json.RawMessage{}))
			return
		case <-r.Context().Done():
			s.record(call)
			return
		case <-s.closed:
			s.answer(w, call, http.StatusOK, okAnswer([]json.RawMessage{}))
			return
		}
	}
}

func (s *Server) record(call Call) {
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
}

func (s *Server) answer(w http.ResponseWriter, call Call, status int, body string) {
	call.Status = status
	s.record(call)
	writeAnswer(w, status, body)
}

func writeAnswer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func okAnswer(result any) string {
	b, err := json.Marshal(map[string]any{"ok": true, "result": result})
	if err != nil {
		panic(fmt.Sprintf("botapitest: encoding an answer: %v", err))
	}
	return string(b)
}

func errorAnswer(code int, description string) string {
	b, _ := json.Marshal(map[string]any{"ok": false, "error_code": code, "description": description})
	return string(b)
}
