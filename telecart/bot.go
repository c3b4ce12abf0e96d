package telecart

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/updates"
)

// The ways of receiving Telegram's updates, for Config.BotUpdates.
const (
	BotUpdatesOff     = updates.ModeOff
	BotUpdatesPoll    = updates.ModePoll
	BotUpdatesWebhook = updates.ModeWebhook
)

// TaskBotUpdatesPrune is the scheduler task that forgets the ids of
// Telegram updates handled more than updates.RetentionDefault ago.
const TaskBotUpdatesPrune = "bot_updates_prune"

// BotGreetingDefaults returns the /start greetings used where the settings
// hold none, per language.
func BotGreetingDefaults() map[string]string {
	return map[string]string{
		"en": "Hello, {first_name}! Welcome to {shop_name}. Tap the button below to open the shop.",
		"ru": "Здравствуйте, {first_name}! Добро пожаловать в {shop_name}. Нажмите кнопку ниже, чтобы открыть магазин.",
	}
}

// botOpenShop is the label of the greeting's button per language.
var botOpenShop = map[string]string{"en": "Open shop", "ru": "Открыть магазин"}

var greetingLanguagePattern = regexp.MustCompile(`^[a-z]{2,3}$`)

// normalizeBotSettings checks the bot's settings: greetings of at most
// botapi.MaxMessageLength characters keyed by a language code; empty ones
// are dropped so that they fall back to the defaults.
func normalizeBotSettings(n *Settings, fields map[string]string) {
	n.WebhookSecret = strings.TrimSpace(n.WebhookSecret)
	if n.WebhookSecret != "" && !webhookSecretPattern.MatchString(n.WebhookSecret) {
		fields["webhook_secret"] = "Must be 1 to 256 characters A-Z, a-z, 0-9, _ and -, as Telegram requires."
	}
	var greetings map[string]string
	for lang, text := range n.BotGreeting {
		text = strings.TrimSpace(text)
		switch {
		case !greetingLanguagePattern.MatchString(lang):
			fields["bot_greeting."+lang] = "Must be keyed by a language code such as en or ru."
		case utf8.RuneCountInString(text) > botapi.MaxMessageLength:
			fields["bot_greeting."+lang] = fmt.Sprintf("Must be at most %d characters.", botapi.MaxMessageLength)
		case text != "":
			if greetings == nil {
				greetings = map[string]string{}
			}
			greetings[lang] = text
		}
	}
	n.BotGreeting = greetings
}

var webhookSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Greeting is the bot's answer to /start for the user u: the greeting in
// their language from the settings, placeholders filled, and the label of
// the button that opens the shop.
func (tc *TeleCart) Greeting(ctx context.Context, u botapi.User) (text, button string, err error) {
	s, err := tc.settings.Get(ctx)
	if err != nil {
		return "", "", err
	}
	lang := updates.Language(u.LanguageCode)
	defaults := BotGreetingDefaults()
	text = firstNonEmpty(s.BotGreeting[lang], defaults[lang], s.BotGreeting["en"], defaults["en"])
	shop := firstNonEmpty(s.ShopName, "the shop")
	text = strings.NewReplacer("{first_name}", u.FirstName, "{shop_name}", shop).Replace(text)
	return text, firstNonEmpty(botOpenShop[lang], botOpenShop["en"]), nil
}

// startParamCampaigns reads /start parameters with the shop's start_param
// serializer: only a validly signed campaign link counts.
type startParamCampaigns struct{ a pulse.Attribution }

func (c startParamCampaigns) CampaignID(sp string) (string, bool) {
	p, err := c.a.StartParams.Decode(sp)
	if err != nil {
		return "", false
	}
	return p.CampaignID, true
}

// webhookSecret is the current webhook secret from the settings.
func (tc *TeleCart) webhookSecret(ctx context.Context) (string, error) {
	s, err := tc.settings.Get(ctx)
	if err != nil {
		return "", err
	}
	return s.WebhookSecret, nil
}

// ensureGenerated generates and keeps the secrets the shop needs but
// nobody set: the start_param secret and the webhook secret.
func (tc *TeleCart) ensureGenerated(ctx context.Context) (Settings, error) {
	s, err := tc.settings.Get(ctx)
	if err != nil {
		return Settings{}, fmt.Errorf("telecart: loading settings: %w", err)
	}
	if s.StartParamSecret == "" {
		if s, err = tc.settings.keepGenerated(ctx, "start_param_secret", randomSecret()); err != nil {
			return Settings{}, err
		}
	}
	if s.WebhookSecret == "" {
		if s, err = tc.settings.keepGenerated(ctx, "webhook_secret", randomSecret()); err != nil {
			return Settings{}, err
		}
	}
	return s, nil
}

// errNoPublicURL is returned by the bot's operator calls without a public URL.
var errNoPublicURL = errors.New("telecart: Config.PublicURL is empty; set the shop's public https URL (the demo's -public-url)")

// BotClient returns the Bot API client the shop uses.
func (tc *TeleCart) BotClient() *botapi.Client { return tc.botClient }

// BotWebhookSet registers {PublicURL}/telegram/webhook with Telegram, with
// the webhook secret (generated and kept first if there is none) and the
// update kinds the shop handles. It needs the migrated database.
func (tc *TeleCart) BotWebhookSet(ctx context.Context) error {
	if tc.intake == nil {
		return errNoPublicURL
	}
	if _, err := tc.ensureGenerated(ctx); err != nil {
		return err
	}
	return tc.intake.RegisterWebhook(ctx)
}

// BotWebhookDelete removes the webhook, so that long polling may be used.
func (tc *TeleCart) BotWebhookDelete(ctx context.Context) error {
	return tc.botClient.DeleteWebhook(ctx, botapi.DeleteWebhookParams{})
}

// BotWebhookInfo returns Telegram's view of the webhook.
func (tc *TeleCart) BotWebhookInfo(ctx context.Context) (botapi.WebhookInfo, error) {
	return tc.botClient.GetWebhookInfo(ctx)
}

// BotMenuButtonSet makes the bot's default menu button open the storefront
// at {PublicURL}/app/.
func (tc *TeleCart) BotMenuButtonSet(ctx context.Context) error {
	if tc.cfg.PublicURL == "" {
		return errNoPublicURL
	}
	return tc.botClient.SetChatMenuButton(ctx, botapi.SetChatMenuButtonParams{MenuButton: &botapi.MenuButton{
		Type: botapi.MenuButtonWebApp, Text: botOpenShop["en"], WebApp: &botapi.WebAppInfo{URL: tc.appURL()}}})
}

// appURL is the storefront's public URL.
func (tc *TeleCart) appURL() string { return tc.cfg.PublicURL + "/app/" }

// validatePublicURL checks Config.PublicURL and trims its trailing slash.
func validatePublicURL(raw string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("telecart: Config.PublicURL %q is not an http(s) base URL such as https://shop.example", raw)
	}
	return raw, nil
}

// botStatus is the answer of GET /admin/api/bot.
type botStatus struct {
	// Username is the bot's, from Telegram's getMe, or the settings when
	// Telegram cannot be asked.
	Username string `json:"username"`
	// Updates is how updates arrive: off, poll or webhook.
	Updates string `json:"updates"`
	// ExpectedWebhookURL is where Telegram should POST updates.
	ExpectedWebhookURL string `json:"expected_webhook_url"`
	// Webhook is Telegram's view of the webhook, null when Telegram could
	// not be asked (Error says why).
	Webhook *botWebhook `json:"webhook"`
	// Received counts the updates received, by state.
	Received *updates.Counts `json:"received"`
	Error    string          `json:"error,omitempty"`
}

type botWebhook struct {
	URL                string     `json:"url"`
	PendingUpdateCount int        `json:"pending_update_count"`
	LastErrorAt        *time.Time `json:"last_error_at"`
	LastErrorMessage   string     `json:"last_error_message"`
}

// registerBotAdminRoutes registers GET /admin/api/bot.
func (tc *TeleCart) registerBotAdminRoutes(r *mux.Router) {
	r.HandleFunc("/bot", tc.handleBotStatus).Methods(http.MethodGet)
}

// handleBotStatus handles GET /admin/api/bot: the bot's username and the
// webhook's state as Telegram reports it. Telegram failing is reported in
// the answer, not as an error status.
func (tc *TeleCart) handleBotStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	st := botStatus{Updates: tc.cfg.BotUpdates}
	if tc.cfg.PublicURL != "" {
		st.ExpectedWebhookURL = tc.cfg.PublicURL + "/telegram/webhook"
	}
	if s, err := tc.settings.Get(ctx); err == nil {
		st.Username = s.BotUsername
	}
	var errs []string
	if me, err := tc.botClient.GetMe(ctx); err == nil {
		st.Username = me.Username
	} else {
		errs = append(errs, err.Error())
	}
	if info, err := tc.botClient.GetWebhookInfo(ctx); err == nil {
		wh := &botWebhook{URL: info.URL, PendingUpdateCount: info.PendingUpdateCount, LastErrorMessage: info.LastErrorMessage}
		if info.LastErrorDate > 0 {
			t := time.Unix(info.LastErrorDate, 0).UTC()
			wh.LastErrorAt = &t
		}
		st.Webhook = wh
	} else if !errors.Is(err, context.Canceled) {
		errs = append(errs, err.Error())
	}
	if tc.intake != nil {
		if c, err := tc.intake.Counts(ctx); err == nil {
			st.Received = &c
		}
	}
	if len(errs) > 0 {
		st.Error = "Telegram could not be asked: " + errs[0]
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, st)
}

// chatMigrated is the outbox's OnChatMigrated: when the owner chat, a
// group, became a supergroup with a new id, the owner chat setting moves to
// it (the notices queued already were moved by the outbox). A host's own
// hook, if any, is called after.
func (tc *TeleCart) chatMigrated(host func(context.Context, int64, int64)) func(context.Context, int64, int64) {
	return func(ctx context.Context, from, to int64) {
		moved, err := tc.settings.MoveOwnerChat(ctx, from, to)
		switch {
		case err != nil:
			tc.logger.ErrorContext(ctx, "telecart: moving the owner chat to the supergroup's new id; set it in the settings", "from", from, "to", to, "err", err)
		case moved:
			tc.logger.WarnContext(ctx, "telecart: the owner chat became a supergroup; the owner chat setting now holds its new id (change -owner-chat too)", "from", from, "to", to)
		}
		if host != nil {
			host(ctx, from, to)
		}
	}
}
