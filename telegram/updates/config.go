package updates

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
)

// Modes of receiving updates (Config.Mode).
const (
	// ModeOff receives no updates from Telegram on its own; the webhook
	// route still takes updates with the right secret.
	ModeOff = "off"
	// ModePoll asks Telegram for updates with getUpdates (long polling).
	ModePoll = "poll"
	// ModeWebhook has Telegram POST updates to the webhook route; Start
	// registers Config.WebhookURL with the secret.
	ModeWebhook = "webhook"
)

// Defaults of Config.
const (
	// PollTimeoutDefault is how long one getUpdates waits for an update.
	PollTimeoutDefault = 25 * time.Second
	// SweepIntervalDefault is how often the worker looks for updates due,
	// besides being woken when one is stored.
	SweepIntervalDefault = 5 * time.Second
	// MaxAttemptsDefault is how many times the handling of an update is
	// tried before it is marked failed.
	MaxAttemptsDefault = 5
	// RetentionDefault is how long handled update ids are kept. Telegram
	// sends an update again for at most a day, so a week covers every
	// repeat with room to spare.
	RetentionDefault = 7 * 24 * time.Hour
	// MaxBodyDefault bounds a webhook request's body.
	MaxBodyDefault = 1 << 20
)

// AllowedUpdates are the update kinds the shop asks Telegram for.
var AllowedUpdates = []string{botapi.UpdateMessage, botapi.UpdateMyChatMember}

// CampaignResolver reads a /start parameter (a campaign link's start_param)
// and returns its campaign, ok false when the parameter is not a validly
// signed campaign link. The telecart package passes one over Pulse's
// StartParamSerializer, which this package cannot import.
type CampaignResolver interface {
	CampaignID(startParam string) (campaignID string, ok bool)
}

// Greeter gives the answer to /start for the user u: the greeting text
// (plain text, no markup) and the label of the button that opens the shop.
type Greeter interface {
	Greeting(ctx context.Context, u botapi.User) (text, button string, err error)
}

// Replier sends the bot's answers after the handling of their update has
// committed. key identifies the answer ("update:{bot}:{update_id}:start"),
// the same on every attempt, for an outbox that dedupes.
type Replier interface {
	Reply(ctx context.Context, key string, p botapi.SendMessageParams) error
}

// TxReplier is a Replier that queues answers in the transaction of the
// handling, as a durable outbox does: an answer is queued if and only if
// its update is marked handled. When Config.Replier implements it, Reply is
// never called.
type TxReplier interface {
	ReplyTx(ctx context.Context, tx *sql.Tx, key string, p botapi.SendMessageParams) error
}

// Config configures an Intake.
type Config struct {
	// DB is where received updates are kept (MigrationSource's table).
	// Required.
	DB migrator.DB
	// Client calls the Bot API: getUpdates, setWebhook, getMe, and the
	// answers when Replier is nil. Required.
	Client *botapi.Client
	// Customers saves the customers who start the bot and records whether
	// they blocked it. Required.
	Customers *telegram.CustomerStore
	// Campaigns reads /start parameters. Nil records no campaign.
	Campaigns CampaignResolver
	// Greeter gives the answer to /start. Required.
	Greeter Greeter
	// Replier sends the answers. Defaults to sending through Client at once.
	Replier Replier
	// AppURL is the storefront's URL, {public-url}/app/, opened by the
	// greeting's web_app button. Required; Telegram takes only https URLs
	// in web_app buttons.
	AppURL string
	// WebhookSecret returns the secret Telegram must send in
	// X-Telegram-Bot-Api-Secret-Token. Required.
	WebhookSecret func(ctx context.Context) (string, error)
	// Mode is ModeOff, ModePoll or ModeWebhook. Defaults to ModeOff.
	Mode string
	// WebhookURL is where Telegram POSTs updates in ModeWebhook,
	// {public-url}/telegram/webhook. Required in ModeWebhook.
	WebhookURL string
	// PollTimeout is how long one getUpdates waits. Defaults to
	// PollTimeoutDefault (25 s).
	PollTimeout time.Duration
	// SweepInterval is how often the worker looks for updates due.
	// Defaults to SweepIntervalDefault (5 s).
	SweepInterval time.Duration
	// MaxAttempts bounds the handling of one update. Defaults to
	// MaxAttemptsDefault (5).
	MaxAttempts int
	// Logger receives errors and refusals. Defaults to a discarding logger.
	Logger *slog.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeOff
	}
	if c.PollTimeout == 0 {
		c.PollTimeout = PollTimeoutDefault
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = SweepIntervalDefault
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = MaxAttemptsDefault
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
	switch {
	case c.DB.DB == nil:
		return errors.New("updates: Config.DB is empty; pass the opened database")
	case c.Client == nil:
		return errors.New("updates: Config.Client is nil; pass the client made by botapi.New")
	case c.Customers == nil:
		return errors.New("updates: Config.Customers is nil; pass the store made by telegram.NewCustomerStore")
	case c.Greeter == nil:
		return errors.New("updates: Config.Greeter is nil; pass what gives the /start greeting")
	case c.WebhookSecret == nil:
		return errors.New("updates: Config.WebhookSecret is nil; pass what returns the webhook's secret token")
	}
	if err := c.DB.Dialect.Validate(); err != nil {
		return fmt.Errorf("updates: %w", err)
	}
	if err := migrator.ValidatePrefix(c.DB.Prefix); err != nil {
		return fmt.Errorf("updates: %w", err)
	}
	if u, err := url.Parse(c.AppURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("updates: AppURL %q is not an absolute http(s) URL; set it to {public-url}/app/", c.AppURL)
	}
	switch c.Mode {
	case ModeOff, ModePoll:
	case ModeWebhook:
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("updates: WebhookURL %q is not an absolute http(s) URL; set it to {public-url}/telegram/webhook", c.WebhookURL)
		}
	default:
		return fmt.Errorf("updates: Mode %q is none of %q, %q, %q", c.Mode, ModeOff, ModePoll, ModeWebhook)
	}
	switch {
	case c.PollTimeout < 0 || c.PollTimeout > 10*time.Minute:
		return errors.New("updates: PollTimeout must be from 0 to 10 minutes")
	case c.SweepInterval < 0:
		return errors.New("updates: SweepInterval must not be negative")
	case c.MaxAttempts < 0:
		return errors.New("updates: MaxAttempts must not be negative")
	}
	return nil
}
