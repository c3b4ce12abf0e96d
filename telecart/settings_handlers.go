package telecart

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
)

// SettingsHandler serves the settings to the storefront (the public part)
// and to the admin panel (all of it, secrets masked).
type SettingsHandler struct {
	store  *SettingsStore
	logger *slog.Logger
	// checkBotToken asks Telegram about a new bot token before it is
	// saved; nil skips the check.
	checkBotToken func(ctx context.Context, token string) (telegram.User, error)
}

// botTokenCheckTimeout bounds the getMe call that checks a new bot token.
const botTokenCheckTimeout = 5 * time.Second

// SettingsHandlerConfig configures a SettingsHandler.
type SettingsHandlerConfig struct {
	// Store holds the settings. Required.
	Store *SettingsStore
	// Logger receives internal errors. Defaults to a discarding logger.
	Logger *slog.Logger
}

// NewSettingsHandler returns the settings handlers over cfg.Store, or an
// error naming the field to fix.
func NewSettingsHandler(cfg SettingsHandlerConfig) (*SettingsHandler, error) {
	if cfg.Store == nil {
		return nil, errors.New("telecart: SettingsHandlerConfig.Store is nil; pass the store made by NewSettingsStore")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &SettingsHandler{store: cfg.Store, logger: cfg.Logger}, nil
}

// RegisterStorefrontRoutes registers the storefront's settings route on r
// (mounted under /api by the demo server).
func (h *SettingsHandler) RegisterStorefrontRoutes(r *mux.Router) {
	r.HandleFunc("/settings", h.handleStorefrontGet).Methods(http.MethodGet)
}

// RegisterAdminRoutes registers the admin settings routes on r (mounted
// under /admin/api, behind the host's admin auth).
func (h *SettingsHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/settings", h.handleAdminGet).Methods(http.MethodGet)
	r.HandleFunc("/settings", h.handleAdminPut).Methods(http.MethodPut)
}

// storefrontSettings is what a Mini App visitor may see: no tokens, keys or
// secrets, and nothing the storefront does not use.
//
// Texts holds every storefront language, defaults filled in, rather than
// the buyer's alone: the answer is then the same for every buyer, and the
// storefront, which must speak the buyer's language before this answer
// arrives (its loading and error screens), is the one place that maps
// Telegram's language_code to a language.
type storefrontSettings struct {
	ShopName          string                     `json:"shop_name"`
	PrivacyPolicyLink string                     `json:"privacy_policy_link"`
	Blocks            []Block                    `json:"blocks"`
	Texts             map[string]StorefrontTexts `json:"texts"`
	Theme             struct{}                   `json:"theme"` // reserved for theme overrides
}

// handleStorefrontGet handles GET /api/settings.
func (h *SettingsHandler) handleStorefrontGet(w http.ResponseWriter, r *http.Request) {
	s, err := h.store.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	texts := map[string]StorefrontTexts{}
	for _, lang := range StorefrontLanguages() {
		texts[lang] = s.StorefrontTextsFor(lang)
	}
	httpx.WriteJSONTagged(w, r, storefrontSettings{
		ShopName:          s.ShopName,
		PrivacyPolicyLink: s.PrivacyPolicyLink,
		Blocks:            nonNil(s.Blocks),
		Texts:             texts,
	})
}

// adminSettings is the admin API's view: every setting with secrets masked,
// and the choices the settings form offers.
type adminSettings struct {
	Settings
	AspectRatioOptions []AspectRatioOption `json:"aspect_ratio_options"`
	// StorefrontTextDefaults are what each storefront language shows where
	// storefront_texts leaves a text empty, for the form's placeholders.
	StorefrontTextDefaults map[string]StorefrontTexts `json:"storefront_text_defaults"`
	// BotGreetingDefaults are the greetings used where BotGreeting has
	// none, for the panel to show.
	BotGreetingDefaults map[string]string `json:"bot_greeting_defaults"`
	// NotificationDefaults are the notice templates used where
	// notifications has none, by kind (owner, buyer) and language.
	NotificationDefaults map[string]map[string]string `json:"notification_defaults"`
	// Warnings are per-field notes on a save that went through, such as a
	// bot token Telegram could not be asked about.
	Warnings map[string]string `json:"warnings,omitempty"`
}

func (h *SettingsHandler) writeAdmin(w http.ResponseWriter, s Settings, warnings map[string]string) {
	m := s.Masked()
	m.Blocks, m.DisabledTasks = nonNil(m.Blocks), nonNil(m.DisabledTasks)
	if m.StorefrontTexts == nil {
		m.StorefrontTexts = map[string]StorefrontTexts{}
	}
	defaults := map[string]StorefrontTexts{}
	for _, lang := range StorefrontLanguages() {
		defaults[lang] = DefaultStorefrontTexts(lang)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, adminSettings{Settings: m, AspectRatioOptions: AspectRatioOptions(),
		StorefrontTextDefaults: defaults, BotGreetingDefaults: BotGreetingDefaults(), Warnings: warnings,
		NotificationDefaults: map[string]map[string]string{"owner": DefaultOwnerTemplates, "buyer": DefaultBuyerTemplates}})
}

// handleAdminGet handles GET /admin/api/settings.
func (h *SettingsHandler) handleAdminGet(w http.ResponseWriter, r *http.Request) {
	s, err := h.store.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.writeAdmin(w, s, nil)
}

// adminSettingsUpdate is the body of PUT /admin/api/settings: the full
// settings object. Its secret fields shadow those of Settings so that an
// omitted secret can be told from an empty one. aspect_ratio_options and
// storefront_text_defaults are accepted and ignored, so the panel may send back what GET answered.
type adminSettingsUpdate struct {
	Settings
	BotToken           *string         `json:"bot_token"`
	PulseAPIKey        *string         `json:"pulse_api_key"`
	PulseSecret        *string         `json:"pulse_secret"`
	StartParamSecret   *string         `json:"start_param_secret"`
	WebhookSecret      *string         `json:"webhook_secret"`
	AspectRatioOptions json.RawMessage `json:"aspect_ratio_options"`
	TextDefaults       json.RawMessage `json:"storefront_text_defaults"`
	Warnings           json.RawMessage `json:"warnings"`
	// BotGreetingDefaults is accepted and ignored, as aspect_ratio_options.
	BotGreetingDefaults json.RawMessage `json:"bot_greeting_defaults"`
	// NotificationDefaults is accepted and ignored, as aspect_ratio_options.
	NotificationDefaults json.RawMessage `json:"notification_defaults"`
}

// handleAdminPut handles PUT /admin/api/settings. Fields other than secrets
// replace the stored values (an omitted field takes its zero value). A secret
// is kept when omitted, null, or equal to its mask as GET shows it; an empty
// string clears it; any other value replaces it, except one that starts with
// the mask sign but is not the current mask (a stale copy), which is a 422.
func (h *SettingsHandler) handleAdminPut(w http.ResponseWriter, r *http.Request) {
	var body adminSettingsUpdate
	if err := httpx.DecodeJSON(w, r, &body, 0); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	cur, err := h.store.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	next := body.Settings
	fields := map[string]string{}
	next.BotToken = unmaskSecret(body.BotToken, cur.BotToken, "bot_token", fields)
	next.PulseAPIKey = unmaskSecret(body.PulseAPIKey, cur.PulseAPIKey, "pulse_api_key", fields)
	next.PulseSecret = unmaskSecret(body.PulseSecret, cur.PulseSecret, "pulse_secret", fields)
	next.StartParamSecret = unmaskSecret(body.StartParamSecret, cur.StartParamSecret, "start_param_secret", fields)
	if next.StartParamSecret == "" && cur.StartParamSecret != "" && fields["start_param_secret"] == "" {
		fields["start_param_secret"] = "Required: campaign links are signed with it. Type a new one to rotate it (links already shared stop counting)."
	}
	next.WebhookSecret = unmaskSecret(body.WebhookSecret, cur.WebhookSecret, "webhook_secret", fields)
	if next.WebhookSecret == "" && cur.WebhookSecret != "" && fields["webhook_secret"] == "" {
		fields["webhook_secret"] = "Required: Telegram's updates are checked with it. Type a new one to rotate it, then register the webhook again."
	}
	if err := next.Validate(); err != nil {
		if e, ok := err.(*tcerr.Error); ok {
			for k, v := range e.Fields {
				fields[k] = v
			}
		}
	}
	var warnings map[string]string
	if len(fields) == 0 && next.BotToken != "" && next.BotToken != cur.BotToken && h.checkBotToken != nil {
		warnings = h.checkNewBotToken(r.Context(), &next, fields)
	}
	if len(fields) > 0 {
		httpx.WriteError(w, r, h.logger, tcerr.Fields("The settings are invalid.", fields))
		return
	}
	saved, err := h.store.Update(r.Context(), next)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.logger.InfoContext(r.Context(), "settings updated")
	h.writeAdmin(w, saved, warnings)
}

// checkNewBotToken asks Telegram about a new bot token: a token Telegram
// refuses is a field error (nothing is saved, and the storefront keeps
// working with the old one); the bot's username fills BotUsername; when
// Telegram cannot be reached the token is saved with a warning.
func (h *SettingsHandler) checkNewBotToken(ctx context.Context, next *Settings, fields map[string]string) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, botTokenCheckTimeout)
	defer cancel()
	u, err := h.checkBotToken(ctx, next.BotToken)
	var apiErr *telegram.APIError
	switch {
	case err == nil:
		next.BotUsername = u.Username
		return nil
	case errors.As(err, &apiErr) && (apiErr.Code == http.StatusUnauthorized || apiErr.Code == http.StatusNotFound):
		fields["bot_token"] = "Telegram does not accept this token (" + apiErr.Description + "); copy it again from @BotFather."
		return nil
	default:
		h.logger.WarnContext(ctx, "settings: could not check the new bot token with Telegram", "err", err)
		return map[string]string{"bot_token": "Telegram could not be reached to check this token; it was saved unchecked. If the storefront answers 401, check the token."}
	}
}

// unmaskSecret resolves a secret sent by the admin panel against the stored
// one; see handleAdminPut.
func unmaskSecret(sent *string, stored, key string, fields map[string]string) string {
	switch {
	case sent == nil:
		return stored
	case *sent == MaskSecret(stored):
		return stored
	case strings.HasPrefix(*sent, secretMark):
		fields[key] = "Looks like a masked value that does not match the stored one; send the mask unchanged to keep it, a new value to replace it, or an empty string to clear it."
		return ""
	default:
		return *sent
	}
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
