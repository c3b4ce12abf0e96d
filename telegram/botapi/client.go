package botapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/telecart-go/telecart/internal/httpx"
)

// Defaults of Config.
const (
	// BaseURLDefault is Telegram's Bot API server.
	BaseURLDefault = "https://api.telegram.org"
	// TimeoutDefault bounds one call, getUpdates's long-polling time aside.
	TimeoutDefault = 10 * time.Second
)

// maxAnswer bounds how much of an answer is read: a getUpdates answer of 100
// updates is well under it, and a misbehaving proxy must not make the client
// buffer more.
const maxAnswer = 8 << 20

// Config configures a Client. Only Token is required.
type Config struct {
	// Token is the bot token from @BotFather. It is never logged nor put in
	// an error message. Change it at run time with Client.SetToken.
	Token string

	// BaseURL is the Bot API server, e.g. a local telegram-bot-api server or
	// a fake one in tests (botapitest). Defaults to BaseURLDefault.
	BaseURL string

	// HTTPClient sends the requests. A Timeout set on it must exceed the
	// long-polling timeout given to GetUpdates. Defaults to a client without
	// a timeout of its own: every call is bounded by Timeout.
	HTTPClient *http.Client

	// Timeout bounds one call, on top of the caller's context; getUpdates
	// gets its long-polling timeout on top. Defaults to TimeoutDefault
	// (10 s).
	Timeout time.Duration

	// Logger receives one debug line per call (method, duration, outcome);
	// never the token. Defaults to a discarding logger.
	Logger *slog.Logger

	// Now is the clock Retry-After dates are read against. Defaults to
	// time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = BaseURLDefault
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Timeout == 0 {
		c.Timeout = TimeoutDefault
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	if err := CheckTokenSyntax(c.Token); err != nil {
		return err
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("botapi: BaseURL %q is not an absolute http(s) URL", c.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("botapi: BaseURL %q must not have a query or fragment", c.BaseURL)
	}
	if c.Timeout < 0 {
		return errors.New("botapi: Timeout must not be negative")
	}
	return nil
}

// CheckTokenSyntax refuses tokens that would change the request URL's
// meaning. It never quotes the token.
func CheckTokenSyntax(token string) error {
	if token == "" {
		return errors.New("botapi: Token is empty; set it to the bot token from @BotFather")
	}
	if strings.ContainsAny(token, "/?#%") || strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return errors.New("botapi: Token has a character a bot token cannot have (/, ?, #, %, space or control); copy it again from @BotFather")
	}
	return nil
}

// Client calls the Bot API. It is safe for concurrent use and starts no
// goroutines. Each call is one HTTP request: it neither paces nor retries.
type Client struct {
	cfg   Config
	token atomic.Pointer[string]
}

// New validates cfg, fills in its defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg}
	c.token.Store(&cfg.Token)
	return c, nil
}

// SetToken replaces the bot token; calls started afterwards use it. It is
// safe to call while other calls are in flight.
func (c *Client) SetToken(token string) error {
	if err := CheckTokenSyntax(token); err != nil {
		return err
	}
	c.token.Store(&token)
	return nil
}

// BotID returns the bot's user id, the number before the colon in its
// token, or 0 when the token does not start with one. It tells the updates
// of one bot from another's without a call to getMe.
func (c *Client) BotID() int64 {
	head, _, ok := strings.Cut(*c.token.Load(), ":")
	if !ok {
		return 0
	}
	id, err := strconv.ParseInt(head, 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// BaseURL returns the Bot API server the client calls, without a trailing
// slash.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// GetMe asks Telegram who the bot is: a check of the token, and the bot's
// username for links.
func (c *Client) GetMe(ctx context.Context) (User, error) {
	var u User
	err := c.Call(ctx, "getMe", struct{}{}, &u)
	return u, err
}

// CheckToken asks Telegram, with getMe, whether token is a bot token it
// knows, without using it for anything else, e.g. before a new token is
// saved. An invalid token is an *Error with Code 401 (or 404 for one that
// is not a token at all); a network failure is an error that is not an
// *Error.
func (c *Client) CheckToken(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, errors.New("telegram: the bot token is empty")
	}
	var u User
	err := c.call(ctx, token, "getMe", struct{}{}, &u, c.cfg.Timeout)
	return u, err
}

// SendMessage sends a text message and returns it as Telegram stored it.
// The text is refused before anything is sent when it is empty or white
// space (ErrMessageEmpty) or longer than MaxMessageLength runes
// (ErrMessageTooLong). Telegram counts characters after parsing the markup,
// so a text with markup may be refused here that Telegram would take.
func (c *Client) SendMessage(ctx context.Context, p SendMessageParams) (Message, error) {
	if strings.TrimSpace(p.Text) == "" {
		return Message{}, ErrMessageEmpty
	}
	if utf8.RuneCountInString(p.Text) > MaxMessageLength {
		return Message{}, ErrMessageTooLong
	}
	var m Message
	err := c.Call(ctx, "sendMessage", p, &m)
	return m, err
}

// SetWebhook asks Telegram to POST updates to p.URL.
func (c *Client) SetWebhook(ctx context.Context, p SetWebhookParams) error {
	var ok bool
	return c.Call(ctx, "setWebhook", p, &ok)
}

// DeleteWebhook removes the webhook, so that getUpdates may be used.
func (c *Client) DeleteWebhook(ctx context.Context, p DeleteWebhookParams) error {
	var ok bool
	return c.Call(ctx, "deleteWebhook", p, &ok)
}

// GetWebhookInfo returns the webhook's state.
func (c *Client) GetWebhookInfo(ctx context.Context) (WebhookInfo, error) {
	var info WebhookInfo
	err := c.Call(ctx, "getWebhookInfo", struct{}{}, &info)
	return info, err
}

// GetUpdates returns the updates from p.Offset on, waiting up to p.Timeout
// for one when none is waiting. Telegram answers 409 while a webhook is set.
func (c *Client) GetUpdates(ctx context.Context, p GetUpdatesParams) ([]Update, error) {
	if p.Timeout < 0 {
		return nil, errors.New("botapi: GetUpdatesParams.Timeout must not be negative")
	}
	secs := int64((p.Timeout + time.Second - 1) / time.Second)
	req := getUpdatesRequest{Offset: p.Offset, Limit: p.Limit, Timeout: secs, AllowedUpdates: p.AllowedUpdates}
	var us []Update
	err := c.call(ctx, *c.token.Load(), "getUpdates", req, &us, c.cfg.Timeout+time.Duration(secs)*time.Second)
	return us, err
}

// SetChatMenuButton sets the menu button of a private chat, or the bot's
// default one when p.ChatID is 0.
func (c *Client) SetChatMenuButton(ctx context.Context, p SetChatMenuButtonParams) error {
	var ok bool
	return c.Call(ctx, "setChatMenuButton", p, &ok)
}

// Call calls any Bot API method: params is marshalled to JSON as the
// request body and the answer's result is decoded into result (a pointer).
// It is the typed methods' common path, for methods they do not cover.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	return c.call(ctx, *c.token.Load(), method, params, result, c.cfg.Timeout)
}

// answer is the envelope of every Bot API answer.
type answer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter      int64 `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// call POSTs params as JSON to method with token and decodes the result
// into out. Errors never contain the token.
func (c *Client) call(ctx context.Context, token, method string, params, out any, timeout time.Duration) (err error) {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("telegram: %s: encoding parameters: %w", method, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if err != nil {
			c.cfg.Logger.DebugContext(ctx, "botapi: call failed", "method", method, "duration", time.Since(start), "err", err)
		} else {
			c.cfg.Logger.DebugContext(ctx, "botapi: call", "method", method, "duration", time.Since(start))
		}
	}()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/bot"+token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("telegram: %s: building request: %s", method, scrub(err.Error(), token))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return &transportError{scrubError(err, token, c.cfg.BaseURL+"/bot<token>/"+method)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &transportError{fmt.Errorf("telegram: %s: reading answer: %s", method, scrub(err.Error(), token))}
	}

	var ans answer
	if err := json.Unmarshal(raw, &ans); err != nil {
		if resp.StatusCode/100 == 2 {
			return &transportError{fmt.Errorf("telegram: %s: decoding answer: %w", method, err)}
		}
		ans = answer{Description: http.StatusText(resp.StatusCode)}
	}
	if ans.OK && resp.StatusCode/100 == 2 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(ans.Result, out); err != nil {
			return fmt.Errorf("telegram: %s: decoding result: %w", method, err)
		}
		return nil
	}
	apiErr := &Error{Method: method, Code: ans.ErrorCode, Description: ans.Description}
	if apiErr.Code == 0 {
		apiErr.Code = resp.StatusCode
	}
	if ans.Parameters != nil {
		apiErr.RetryAfter = time.Duration(ans.Parameters.RetryAfter) * time.Second
		apiErr.MigrateToChatID = ans.Parameters.MigrateToChatID
	}
	if apiErr.Code == http.StatusTooManyRequests && apiErr.RetryAfter <= 0 {
		// No retry_after in the body: fall back to the header, then to 1 s.
		apiErr.RetryAfter = time.Second
		if d, ok := httpx.ParseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Now()); ok && d > 0 {
			apiErr.RetryAfter = d
		}
	}
	apiErr.classify()
	return apiErr
}

// scrubError removes the token from an error of http.Client.Do, whose
// *url.Error quotes the request URL. The *url.Error shape is kept so that
// callers can still test Timeout() or errors.Is(err, context.Canceled).
func scrubError(err error, token, redactedURL string) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return errors.New(scrub(err.Error(), token))
	}
	inner := ue.Err
	if inner != nil && strings.Contains(inner.Error(), token) {
		inner = errors.New(scrub(inner.Error(), token))
	}
	return &url.Error{Op: ue.Op, URL: redactedURL, Err: inner}
}

func scrub(s, token string) string {
	s = strings.ReplaceAll(s, token, "<token>")
	if esc := url.PathEscape(token); esc != token {
		s = strings.ReplaceAll(s, esc, "<token>")
	}
	return s
}

// htmlEscaper escapes what Telegram's HTML parse mode requires.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// EscapeHTML escapes s for a text sent with ParseModeHTML: &, <, > and ",
// the only characters Telegram requires escaped (it supports just the named
// entities &lt; &gt; &amp; &quot;). Escape every untrusted piece (names,
// product titles) before putting it between tags.
func EscapeHTML(s string) string { return htmlEscaper.Replace(s) }
