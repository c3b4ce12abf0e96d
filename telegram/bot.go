package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/telecart-go/telecart/telegram/botapi"
)

// Defaults of BotConfig.
const (
	// BotBaseURLDefault is the Bot API server used when BotConfig.BaseURL is empty.
	BotBaseURLDefault = botapi.BaseURLDefault
	// BotHTTPTimeoutDefault is the timeout of the HTTP client NewBot builds
	// when BotConfig.HTTPClient is nil.
	BotHTTPTimeoutDefault = 10 * time.Second
	// BotGlobalRateDefault is Telegram's documented broadcast limit, in
	// messages per second across all chats.
	BotGlobalRateDefault = 30.0
	// BotPerChatIntervalDefault is Telegram's advice for one chat: no more
	// than one message per second.
	BotPerChatIntervalDefault = time.Second
	// BotMaxRetriesDefault is how many times a message answered 429 is sent again.
	BotMaxRetriesDefault = 3
	// BotMaxRetryAfterDefault bounds one wait asked for by a 429 answer.
	BotMaxRetryAfterDefault = time.Minute
)

// MaxMessageLength is the longest text sendMessage accepts, in characters.
const MaxMessageLength = botapi.MaxMessageLength

// Parse modes for SendMessageParams.ParseMode.
const (
	ParseModeHTML       = botapi.ParseModeHTML
	ParseModeMarkdownV2 = botapi.ParseModeMarkdownV2
	// ParseModeNone sends the text as is, without any parse_mode.
	ParseModeNone = "none"
)

// The errors of the Bot API client, under the names this package has
// always given them.
var (
	// ErrMessageEmpty is returned, before anything is sent, for a text that is
	// empty or only white space.
	ErrMessageEmpty = botapi.ErrMessageEmpty
	// ErrMessageTooLong is returned, before anything is sent, for a text of
	// more than MaxMessageLength runes.
	ErrMessageTooLong = botapi.ErrMessageTooLong

	// ErrRecipientUnreachable matches every error that means the user cannot
	// receive messages from the bot until they act: ErrBotBlocked,
	// ErrUserDeactivated and ErrCantInitiate. Mark the customer unreachable
	// instead of retrying.
	ErrRecipientUnreachable = botapi.ErrRecipientUnreachable
	// ErrBotBlocked is a 403 "bot was blocked by the user".
	ErrBotBlocked = botapi.ErrBotBlocked
	// ErrUserDeactivated is a 403 "user is deactivated" (the account was deleted).
	ErrUserDeactivated = botapi.ErrUserDeactivated
	// ErrCantInitiate is a 403 "bot can't initiate conversation with a user":
	// the user never pressed Start in the bot's chat.
	ErrCantInitiate = botapi.ErrCantInitiate
)

// APIError is an answer of the Bot API with "ok": false, or an HTTP error
// status without a Bot API body: botapi.Error under this package's name.
type APIError = botapi.Error

// BotConfig configures a Bot. Only Token (or Client) is required.
type BotConfig struct {
	// Token is the bot token from @BotFather. It is never logged nor put in
	// an error message. Change it at run time with Bot.SetToken.
	Token string

	// Client, when set, is the Bot API client the Bot sends through, shared
	// with the rest of the shop (the updates intake); Token, BaseURL and
	// HTTPClient are then ignored.
	Client *botapi.Client

	// BaseURL is the Bot API server, e.g. a local telegram-bot-api server or
	// a fake one in tests. Defaults to BotBaseURLDefault.
	BaseURL string

	// HTTPClient sends the requests. Defaults to a client with a
	// BotHTTPTimeoutDefault (10 s) timeout.
	HTTPClient *http.Client

	// GlobalRate is the most messages per second sent across all chats, with
	// no burst. Defaults to BotGlobalRateDefault (30).
	GlobalRate float64

	// PerChatInterval is the shortest time between two messages to one chat,
	// counted from the answer to the previous one. Defaults to
	// BotPerChatIntervalDefault (1 s).
	PerChatInterval time.Duration

	// MaxRetries is how many times a message answered 429 (flood control) is
	// sent again after waiting retry_after. Defaults to BotMaxRetriesDefault
	// (3); set -1 to never retry.
	MaxRetries int

	// MaxRetryAfter bounds one wait asked for by a 429 answer; a longer
	// retry_after is clamped to it. Defaults to BotMaxRetryAfterDefault (1 min).
	MaxRetryAfter time.Duration

	// Logger receives retries and refused recipients; never the token.
	// Defaults to slog.Default().
	Logger *slog.Logger

	// Now is the clock for pacing. Defaults to time.Now.
	Now func() time.Time

	// Sleep waits d or until ctx is done, whichever comes first, and returns
	// ctx.Err() in the latter case. Pacing and 429 waits go through it, so
	// tests can replace it together with Now. Defaults to a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c BotConfig) withDefaults() BotConfig {
	if c.BaseURL == "" {
		c.BaseURL = BotBaseURLDefault
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: BotHTTPTimeoutDefault}
	}
	if c.GlobalRate == 0 {
		c.GlobalRate = BotGlobalRateDefault
	}
	if c.PerChatInterval == 0 {
		c.PerChatInterval = BotPerChatIntervalDefault
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = BotMaxRetriesDefault
	} else if c.MaxRetries == -1 {
		c.MaxRetries = 0
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = BotMaxRetryAfterDefault
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = botSleep
	}
	return c
}

func (c BotConfig) validate() error {
	if c.Client != nil {
		return c.validatePacing()
	}
	if err := botCheckToken(c.Token); err != nil {
		return err
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("telegram: BaseURL %q is not an absolute http(s) URL", c.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("telegram: BaseURL %q must not have a query or fragment", c.BaseURL)
	}
	return c.validatePacing()
}

func (c BotConfig) validatePacing() error {
	if c.GlobalRate < 0 {
		return errors.New("telegram: GlobalRate must not be negative")
	}
	if c.PerChatInterval < 0 {
		return errors.New("telegram: PerChatInterval must not be negative")
	}
	if c.MaxRetries < 0 {
		return errors.New("telegram: MaxRetries must be -1 (never retry) or more")
	}
	if c.MaxRetryAfter < 0 {
		return errors.New("telegram: MaxRetryAfter must not be negative")
	}
	return nil
}

// botCheckToken refuses tokens that would change the request URL's meaning.
// It never quotes the token.
func botCheckToken(token string) error {
	if token == "" {
		return errors.New("telegram: Token is empty; set BotConfig.Token to the bot token from @BotFather")
	}
	if err := botapi.CheckTokenSyntax(token); err != nil {
		return errors.New("telegram: Token has a character a bot token cannot have (/, ?, #, %, space or control); copy it again from @BotFather")
	}
	return nil
}

// Bot is a Telegram Bot API client that sends messages at a pace Telegram
// accepts. It is safe for concurrent use; it starts no goroutines.
type Bot struct {
	cfg    BotConfig
	client *botapi.Client
	global *rate.Limiter

	mu        sync.Mutex
	chats     map[int64]*botChat
	lastSweep time.Time
}

// botChat paces one chat. sem (capacity 1) serializes the chat's sends;
// last is only touched by the holder of sem. refs counts holders and
// waiters, under Bot.mu, so an idle entry can be evicted safely.
type botChat struct {
	sem  chan struct{}
	last time.Time
	refs int
}

// NewBot validates cfg, fills in its defaults and returns a Bot.
func NewBot(cfg BotConfig) (*Bot, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	client := cfg.Client
	if client == nil {
		var err error
		client, err = botapi.New(botapi.Config{Token: cfg.Token, BaseURL: cfg.BaseURL, HTTPClient: cfg.HTTPClient,
			Timeout: max(cfg.HTTPClient.Timeout, botapi.TimeoutDefault), Logger: cfg.Logger, Now: cfg.Now})
		if err != nil {
			return nil, err
		}
	}
	return &Bot{
		cfg:    cfg,
		client: client,
		global: rate.NewLimiter(rate.Limit(cfg.GlobalRate), 1),
		chats:  make(map[int64]*botChat),
	}, nil
}

// Client returns the Bot API client the Bot sends through.
func (b *Bot) Client() *botapi.Client { return b.client }

// SetToken replaces the bot token; requests started afterwards use it. It is
// safe to call while messages are being sent.
func (b *Bot) SetToken(token string) error {
	if err := botCheckToken(token); err != nil {
		return err
	}
	return b.client.SetToken(token)
}

// Message is a sent Bot API message: botapi.Message under this package's
// name.
type Message = botapi.Message

// MessageChat is the chat a Message was sent to: botapi.Chat.
type MessageChat = botapi.Chat

// SendMessageParams are the arguments of sendMessage.
type SendMessageParams struct {
	ChatID int64
	// Text is 1 to MaxMessageLength characters. With ParseModeHTML, escape
	// untrusted parts with EscapeHTML.
	Text string
	// ParseMode is ParseModeHTML, ParseModeMarkdownV2 or ParseModeNone.
	// Defaults to ParseModeHTML.
	ParseMode string
	// DisableWebPagePreview hides the link preview (sent as
	// link_preview_options.is_disabled).
	DisableWebPagePreview bool
	// DisableNotification delivers the message silently.
	DisableNotification bool
	// ReplyMarkup is marshalled to JSON as is, e.g. an inline keyboard
	// map[string]any{"inline_keyboard": ...}. Nil sends none.
	ReplyMarkup any
}

// SendMessage sends text to chatID with ParseModeHTML. See Send.
func (b *Bot) SendMessage(ctx context.Context, chatID int64, text string) (Message, error) {
	return b.Send(ctx, SendMessageParams{ChatID: chatID, Text: text})
}

// Send sends a text message and returns it as Telegram stored it.
//
// The text is refused before anything is sent when it is empty or white
// space (ErrMessageEmpty) or longer than MaxMessageLength runes
// (ErrMessageTooLong). Telegram counts characters after parsing the markup,
// so counting the raw text's runes refuses some texts Telegram would take
// (markup counts) and, for texts of many characters outside the Basic
// Multilingual Plane, may let through one Telegram then refuses with a 400.
//
// Send waits, honouring ctx, until the chat's PerChatInterval has passed and
// the GlobalRate allows one more message. A 429 answer is retried after its
// retry_after (clamped to MaxRetryAfter) up to MaxRetries times; when ctx
// would expire before that wait ends, the 429 *APIError is returned at once.
// Messages to one chat are sent one at a time, in about the order Send was
// called, so later ones also wait out a 429 of an earlier one.
// Network errors and 5xx answers are not retried: Telegram may have delivered
// the message already, and sending it again would duplicate it.
//
// Errors: *APIError for Bot API answers; a 403 from a user who blocked the
// bot, deleted the account or never started it also matches
// ErrRecipientUnreachable.
func (b *Bot) Send(ctx context.Context, p SendMessageParams) (Message, error) {
	if strings.TrimSpace(p.Text) == "" {
		return Message{}, ErrMessageEmpty
	}
	if utf8.RuneCountInString(p.Text) > MaxMessageLength {
		return Message{}, ErrMessageTooLong
	}
	req := botapi.SendMessageParams{
		ChatID:              p.ChatID,
		Text:                p.Text,
		ParseMode:           p.ParseMode,
		DisableNotification: p.DisableNotification,
	}
	switch req.ParseMode {
	case "":
		req.ParseMode = ParseModeHTML
	case ParseModeNone:
		req.ParseMode = ""
	}
	if p.DisableWebPagePreview {
		req.LinkPreviewOptions = &botapi.LinkPreviewOptions{IsDisabled: true}
	}
	if p.ReplyMarkup != nil {
		markup, err := botInlineKeyboard(p.ReplyMarkup)
		if err != nil {
			return Message{}, err
		}
		req.ReplyMarkup = markup
	}

	chat, err := b.acquireChat(ctx, p.ChatID)
	if err != nil {
		return Message{}, err
	}
	defer b.releaseChat(chat)

	for attempt := 0; ; attempt++ {
		if err := b.pace(ctx, chat); err != nil {
			return Message{}, err
		}
		msg, err := b.client.SendMessage(ctx, req)
		chat.last = b.cfg.Now()
		if err == nil {
			return msg, nil
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			return Message{}, err
		}
		if apiErr.Code != http.StatusTooManyRequests {
			if errors.Is(apiErr, ErrRecipientUnreachable) {
				// Not the chat id: a private chat's id is the person's
				// Telegram id. The caller, who knows whose chat it is, has
				// the error.
				b.cfg.Logger.InfoContext(ctx, "telegram: recipient unreachable", "description", apiErr.Description)
			}
			return Message{}, err
		}
		if attempt >= b.cfg.MaxRetries {
			if b.cfg.MaxRetries == 0 {
				return Message{}, err
			}
			return Message{}, fmt.Errorf("%w; gave up after %d retries", err, b.cfg.MaxRetries)
		}
		wait := min(apiErr.RetryAfter, b.cfg.MaxRetryAfter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return Message{}, err
		}
		b.cfg.Logger.WarnContext(ctx, "telegram: flood control, retrying", "method", "sendMessage",
			"retry_after", apiErr.RetryAfter, "wait", wait, "retry", attempt+1)
		if err := b.cfg.Sleep(ctx, wait); err != nil {
			return Message{}, fmt.Errorf("telegram: sendMessage: waiting %s after 429: %w", wait, err)
		}
	}
}

// pace waits for the chat's interval and then for the global limiter.
// The chat is waited for first so that a message stuck behind its own chat
// does not hold a global slot other chats could use.
func (b *Bot) pace(ctx context.Context, chat *botChat) error {
	if !chat.last.IsZero() {
		if d := chat.last.Add(b.cfg.PerChatInterval).Sub(b.cfg.Now()); d > 0 {
			if err := b.cfg.Sleep(ctx, d); err != nil {
				return fmt.Errorf("telegram: sendMessage: waiting for the chat's interval: %w", err)
			}
		}
	}
	now := b.cfg.Now()
	r := b.global.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := b.cfg.Sleep(ctx, d); err != nil {
			r.CancelAt(b.cfg.Now())
			return fmt.Errorf("telegram: sendMessage: waiting for the global rate: %w", err)
		}
	}
	return nil
}

// acquireChat waits, honouring ctx, until no other Send to chatID is in
// flight. Once per PerChatInterval it evicts entries nobody holds or waits
// for whose interval has passed: they carry no state a new entry would not.
func (b *Bot) acquireChat(ctx context.Context, chatID int64) (*botChat, error) {
	b.mu.Lock()
	now := b.cfg.Now()
	if now.Sub(b.lastSweep) >= b.cfg.PerChatInterval {
		b.lastSweep = now
		for id, c := range b.chats {
			if c.refs == 0 && !now.Before(c.last.Add(b.cfg.PerChatInterval)) {
				delete(b.chats, id)
			}
		}
	}
	c := b.chats[chatID]
	if c == nil {
		c = &botChat{sem: make(chan struct{}, 1)}
		b.chats[chatID] = c
	}
	c.refs++
	b.mu.Unlock()

	select {
	case c.sem <- struct{}{}:
		return c, nil
	case <-ctx.Done():
		b.mu.Lock()
		c.refs--
		b.mu.Unlock()
		return nil, fmt.Errorf("telegram: sendMessage: waiting for the chat's previous message: %w", ctx.Err())
	}
}

func (b *Bot) releaseChat(c *botChat) {
	<-c.sem
	b.mu.Lock()
	c.refs--
	b.mu.Unlock()
}

// GetMe asks Telegram who the bot is: a check of the token, and the bot's
// username for links. It is not paced: it sends no message.
func (b *Bot) GetMe(ctx context.Context) (User, error) {
	u, err := b.client.GetMe(ctx)
	return botUser(u), err
}

// CheckToken asks Telegram, with getMe, whether token is a bot token it
// knows, without using it for anything else: the settings check a new token
// before they save it. An invalid token is an *APIError with Code 401 (or
// 404 for one that is not a token at all); a network failure is an error
// that is not an *APIError.
func (b *Bot) CheckToken(ctx context.Context, token string) (User, error) {
	u, err := b.client.CheckToken(ctx, token)
	return botUser(u), err
}

func botUser(u botapi.User) User {
	return User{ID: u.ID, IsBot: u.IsBot, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username,
		LanguageCode: u.LanguageCode, IsPremium: u.IsPremium}
}

// botInlineKeyboard reads a ReplyMarkup given as any JSON value into the
// inline keyboard the client sends.
func botInlineKeyboard(markup any) (*botapi.InlineKeyboardMarkup, error) {
	raw, err := json.Marshal(markup)
	if err != nil {
		return nil, fmt.Errorf("telegram: sendMessage: encoding ReplyMarkup: %w", err)
	}
	var kb botapi.InlineKeyboardMarkup
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kb); err != nil || kb.InlineKeyboard == nil {
		return nil, errors.New("telegram: sendMessage: ReplyMarkup must be an inline keyboard {\"inline_keyboard\": [[…]]}")
	}
	return &kb, nil
}

// botSleep is the default BotConfig.Sleep.
func botSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// EscapeHTML escapes s for a text sent with ParseModeHTML: &, <, > and ",
// the only characters Telegram requires escaped (it supports just the named
// entities &lt; &gt; &amp; &quot;). Escape every untrusted piece (names,
// product titles) before putting it between tags.
func EscapeHTML(s string) string { return botapi.EscapeHTML(s) }
