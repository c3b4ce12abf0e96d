package telecart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
)

// ImageWidth is the width, in CSS pixels, of every product image in the
// storefront; the height follows the products feed's AspectRatio.
const ImageWidth = 300

// AspectRatio is the width:height ratio of product images in a products feed,
// one of the AspectRatio constants.
type AspectRatio string

// The aspect ratios the products feed offers.
const (
	AspectRatio1x1 AspectRatio = "1:1"
	AspectRatio4x5 AspectRatio = "4:5"
	AspectRatio3x4 AspectRatio = "3:4"
	AspectRatio2x3 AspectRatio = "2:3"
)

// AspectRatioDefault is the ratio of the products feed block that the first
// migration installs: square suits the widest range of product photos
// (packshots crop least), and the admin can pick a portrait ratio later.
const AspectRatioDefault = AspectRatio1x1

// PerPageDefault is a products feed block's page size when none is set.
const PerPageDefault = 20

// PerPageMax is the largest page size of the products feed.
const PerPageMax = 50

// BlockProductsFeed is the type of the products feed block.
const BlockProductsFeed = "products_feed"

// TimeZoneDefault is the shop's time zone when none is set.
const TimeZoneDefault = "UTC"

// SettingsCacheTTL bounds how long a SettingsStore serves settings from
// memory. A write through the same store invalidates its cache at once; the
// TTL is for other processes sharing the database (replicas of the shop).
const SettingsCacheTTL = 30 * time.Second

// ErrInvalidAspectRatio is returned by ParseAspectRatio.
var ErrInvalidAspectRatio = errors.New("telecart: invalid aspect ratio")

var aspectRatios = []struct {
	ratio AspectRatio
	w, h  int
	help  string
}{
	{AspectRatio1x1, 1, 1, "1:1 — square; suits most product photos and crops packshots the least"},
	{AspectRatio4x5, 4, 5, "4:5 — portrait, Instagram-style; a little taller than square"},
	{AspectRatio3x4, 3, 4, "3:4 — portrait, classic photo format; taller, good for clothing and bottles"},
	{AspectRatio2x3, 2, 3, "2:3 — tall portrait; the tallest option, for fashion and full-length shots"},
}

// ParseAspectRatio returns s as an AspectRatio, or an error wrapping
// ErrInvalidAspectRatio when s is not one of "1:1", "4:5", "3:4", "2:3".
func ParseAspectRatio(s string) (AspectRatio, error) {
	for _, a := range aspectRatios {
		if string(a.ratio) == s {
			return a.ratio, nil
		}
	}
	return "", fmt.Errorf("%w %q; want one of %s", ErrInvalidAspectRatio, s, aspectRatioList())
}

func aspectRatioList() string {
	names := make([]string, len(aspectRatios))
	for i, a := range aspectRatios {
		names[i] = string(a.ratio)
	}
	return strings.Join(names, ", ")
}

// Height returns the height of an image of the given width at ratio a, in
// whole pixels rounded down: 300 → 300 (1:1), 375 (4:5), 400 (3:4), 450 (2:3).
// It is 0 for a ratio ParseAspectRatio refuses.
func (a AspectRatio) Height(width int) int {
	for _, r := range aspectRatios {
		if r.ratio == a {
			return width * r.h / r.w
		}
	}
	return 0
}

// Help is the English help text for the ratio in the admin panel's dropdown.
func (a AspectRatio) Help() string {
	for _, r := range aspectRatios {
		if r.ratio == a {
			return r.help
		}
	}
	return ""
}

// AspectRatioOption is one entry of the admin panel's aspect ratio dropdown.
type AspectRatioOption struct {
	Value AspectRatio `json:"value"`
	Label string      `json:"label"`
	Help  string      `json:"help"`
}

// AspectRatioOptions lists every aspect ratio, squarest first.
func AspectRatioOptions() []AspectRatioOption {
	opts := make([]AspectRatioOption, len(aspectRatios))
	for i, a := range aspectRatios {
		opts[i] = AspectRatioOption{Value: a.ratio, Label: string(a.ratio), Help: a.help}
	}
	return opts
}

// Block is a block of the storefront's home page.
type Block struct {
	// Type is the kind of block; only BlockProductsFeed exists for now.
	Type string `json:"type"`
	// Title is shown above the block; may be empty.
	Title string `json:"title"`
	// Titles is Title in other storefront languages ({"ru": "Товары"}); a
	// language without one shows Title.
	Titles map[string]string `json:"titles,omitempty"`
	// AspectRatio of the feed's product images. Required.
	AspectRatio AspectRatio `json:"aspect_ratio"`
	// PerPage is the feed's page size, 1..PerPageMax. Defaults to
	// PerPageDefault.
	PerPage int `json:"per_page"`
}

// DefaultProductsFeed is the products feed block the first migration
// installs, and the one the products feed falls back to when the settings
// hold none.
func DefaultProductsFeed() Block {
	return Block{Type: BlockProductsFeed, Title: "Products", Titles: map[string]string{"ru": "Товары"},
		AspectRatio: AspectRatioDefault, PerPage: PerPageDefault}
}

// Settings are the shop's settings, edited in the admin panel and stored in
// the settings table; each field is a row named after its JSON name. Values
// stored in the database override the host's defaults (NewSettingsStore).
type Settings struct {
	// ShopName is shown in the storefront.
	ShopName string `json:"shop_name"`
	// PrivacyPolicyLink is an https URL, or empty for no consent prompt.
	PrivacyPolicyLink string `json:"privacy_policy_link"`
	// TimeZone is an IANA name (time.LoadLocation) the admin panel shows
	// times in. Defaults to TimeZoneDefault.
	TimeZone string `json:"time_zone"`
	// BotToken is the Telegram bot token. Secret.
	BotToken string `json:"bot_token"`
	// BotUsername is the bot's username without "@", for links to the bot.
	// The admin API fills it from Telegram's getMe when a new token is
	// saved.
	BotUsername string `json:"bot_username"`
	// MiniAppShortName is the Mini App's short name from @BotFather
	// (/newapp), or empty. When set, campaign links open the Mini App
	// directly (https://t.me/{bot}/{short name}?startapp=…); otherwise
	// they open the bot's main Mini App (https://t.me/{bot}?startapp=…).
	MiniAppShortName string `json:"mini_app_short_name"`
	// StartParamSecret signs campaign links (the start_param's h): a
	// start_param without a valid h attributes nothing. Secret. When
	// neither the host nor the admin set one, TeleCart generates one at
	// Start and keeps it in the settings table, so every replica signs and
	// checks links with the same secret. Changing it voids links already
	// shared.
	StartParamSecret string `json:"start_param_secret"`
	// PulseURL is the http(s) URL of the Pulse API, or empty.
	PulseURL string `json:"pulse_url"`
	// PulseAPIKey authenticates the shop to Pulse. Secret.
	PulseAPIKey string `json:"pulse_api_key"`
	// PulseSecret signs Pulse payloads. Secret.
	PulseSecret string `json:"pulse_secret"`
	// Blocks of the storefront's home page, in order.
	Blocks []Block `json:"blocks"`
	// DisabledTasks names the scheduler tasks turned off ([a-z0-9_]{1,64}).
	DisabledTasks []string `json:"disabled_tasks"`
	// StorefrontTexts are the shop's own words in the storefront, by
	// language (one of StorefrontLanguages). A text left empty, or a
	// language left out, shows DefaultStorefrontTexts.
	StorefrontTexts map[string]StorefrontTexts `json:"storefront_texts"`
	// OwnerChat receives new-order notifications: a chat id (a group's is
	// negative), or CHAT_ID:THREAD_ID for a forum topic; empty for none.
	OwnerChat string `json:"owner_chat"`
	// Notifications are the new-order notices' switches and templates.
	Notifications Notifications `json:"notifications"`
	// WebhookSecret is the secret token Telegram sends with every update
	// to POST /telegram/webhook. Secret. Generated at the first Start and
	// kept, like StartParamSecret; after changing it, register the webhook
	// again ("bot webhook set").
	WebhookSecret string `json:"webhook_secret"`
	// BotGreeting is the bot's answer to /start per language ("en", "ru",
	// …; a customer whose language has none gets "en"), plain text with the
	// placeholders {first_name} and {shop_name}. An empty or missing entry
	// falls back to BotGreetingDefaults.
	BotGreeting map[string]string `json:"bot_greeting"`
}

// StorefrontTexts are the shop's own words in the storefront in one
// language. The storefront's other words (search, cart, errors) are its own
// and not settings.
type StorefrontTexts struct {
	// Greeting is shown under the shop's name on the home page. Empty by
	// default: no greeting.
	Greeting string `json:"greeting"`
	// ConsentText asks for the privacy consent; the link to the policy
	// follows it.
	ConsentText string `json:"consent_text"`
	// ConsentButton accepts the privacy policy.
	ConsentButton string `json:"consent_button"`
	// CheckoutTitle heads the checkout page.
	CheckoutTitle string `json:"checkout_title"`
	// CheckoutButton is the cart's main button (the total follows it).
	CheckoutButton string `json:"checkout_button"`
	// PlaceOrderButton is the checkout's main button (the total follows it).
	PlaceOrderButton string `json:"place_order_button"`
	// SuccessText follows the order number once the order is placed.
	SuccessText string `json:"success_text"`
}

// StorefrontLanguages returns the languages the storefront speaks, English
// (the fallback) first. The storefront picks one from the buyer's Telegram
// language_code: ru, uk, be and kk get Russian, every other code English.
func StorefrontLanguages() []string { return []string{"en", "ru"} }

// DefaultStorefrontTexts returns the texts the storefront shows in lang
// where the shop set none: English for a language it does not speak.
func DefaultStorefrontTexts(lang string) StorefrontTexts {
	if lang == "ru" {
		return StorefrontTexts{
			ConsentText:      "Чтобы продолжить, прочитайте и примите политику конфиденциальности магазина. Мы используем ваше имя в Telegram и данные заказов, чтобы обслуживать вас.",
			ConsentButton:    "Принять и продолжить",
			CheckoutTitle:    "Оформление заказа",
			CheckoutButton:   "Оформить заказ",
			PlaceOrderButton: "Подтвердить заказ",
			SuccessText:      "Мы свяжемся с вами, чтобы уточнить детали.",
		}
	}
	return StorefrontTexts{
		ConsentText:      "To continue, please read and accept the shop’s privacy policy. We use your Telegram name and your orders’ details to serve you.",
		ConsentButton:    "Accept and continue",
		CheckoutTitle:    "Checkout",
		CheckoutButton:   "Checkout",
		PlaceOrderButton: "Place order",
		SuccessText:      "We will contact you to confirm the details.",
	}
}

// WithDefaults returns t with every empty text taken from d.
func (t StorefrontTexts) WithDefaults(d StorefrontTexts) StorefrontTexts {
	fill := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	fill(&t.Greeting, d.Greeting)
	fill(&t.ConsentText, d.ConsentText)
	fill(&t.ConsentButton, d.ConsentButton)
	fill(&t.CheckoutTitle, d.CheckoutTitle)
	fill(&t.CheckoutButton, d.CheckoutButton)
	fill(&t.PlaceOrderButton, d.PlaceOrderButton)
	fill(&t.SuccessText, d.SuccessText)
	return t
}

// StorefrontTextsFor returns the texts the storefront shows in lang: the
// shop's, with the defaults where it set none.
func (s Settings) StorefrontTextsFor(lang string) StorefrontTexts {
	return s.StorefrontTexts[lang].WithDefaults(DefaultStorefrontTexts(lang))
}

// storefrontTextLimits bounds each text, in characters: the consent text is
// a paragraph, the rest are a line.
var storefrontTextLimits = map[string]int{"consent_text": 1000, "greeting": 500}

// normalizeTexts trims t, validates it (problems keyed by the text's JSON
// name) and empties every text equal to its default, so that a text the
// shop did not change follows the defaults of later versions.
func normalizeTexts(t StorefrontTexts, d StorefrontTexts, problem func(name, msg string)) StorefrontTexts {
	check := func(name string, s *string, def string) {
		*s = strings.TrimSpace(*s)
		max := maxTextLen
		if m, ok := storefrontTextLimits[name]; ok {
			max = m
		}
		if utf8.RuneCountInString(*s) > max {
			problem(name, fmt.Sprintf("Must be at most %d characters.", max))
		}
		if *s == def {
			*s = ""
		}
	}
	check("greeting", &t.Greeting, d.Greeting)
	check("consent_text", &t.ConsentText, d.ConsentText)
	check("consent_button", &t.ConsentButton, d.ConsentButton)
	check("checkout_title", &t.CheckoutTitle, d.CheckoutTitle)
	check("checkout_button", &t.CheckoutButton, d.CheckoutButton)
	check("place_order_button", &t.PlaceOrderButton, d.PlaceOrderButton)
	check("success_text", &t.SuccessText, d.SuccessText)
	return t
}

// ProductsFeed returns the first products feed block, or
// DefaultProductsFeed when there is none.
func (s Settings) ProductsFeed() Block {
	for _, b := range s.Blocks {
		if b.Type == BlockProductsFeed {
			return b
		}
	}
	return DefaultProductsFeed()
}

// clone returns a deep copy, so that callers never share slices with the
// store's cache.
func (s Settings) clone() Settings {
	c := s
	c.Blocks = append([]Block(nil), s.Blocks...)
	c.DisabledTasks = append([]string(nil), s.DisabledTasks...)
	for i := range c.Blocks {
		c.Blocks[i].Titles = maps.Clone(c.Blocks[i].Titles)
	}
	c.StorefrontTexts = maps.Clone(s.StorefrontTexts)
	c.Notifications = s.Notifications.clone()
	if s.BotGreeting != nil {
		c.BotGreeting = make(map[string]string, len(s.BotGreeting))
		for k, v := range s.BotGreeting {
			c.BotGreeting[k] = v
		}
	}
	return c
}

// secretMark starts a masked secret.
const secretMark = "••••"

// MaskSecret returns how the admin API shows a secret: secretMark when it is
// set, empty when it is not. Nothing of the secret itself, not even its
// last characters or its length, leaves the server.
func MaskSecret(secret string) string {
	if secret == "" {
		return ""
	}
	return secretMark
}

// Masked returns a copy of s with every secret replaced by MaskSecret.
func (s Settings) Masked() Settings {
	c := s.clone()
	c.BotToken = MaskSecret(s.BotToken)
	c.PulseAPIKey = MaskSecret(s.PulseAPIKey)
	c.PulseSecret = MaskSecret(s.PulseSecret)
	c.StartParamSecret = MaskSecret(s.StartParamSecret)
	c.WebhookSecret = MaskSecret(s.WebhookSecret)
	return c
}

var taskNamePattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

var botUsernamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{5,32}$`)

// miniAppShortNamePattern is @BotFather's rule for a Mini App's short name.
var miniAppShortNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{3,30}$`)

// maxTextLen bounds free-text settings (shop name, block titles), in
// characters.
const maxTextLen = 255

// Validate reports every invalid field as a 422 *tcerr.Error whose Fields are
// keyed by JSON path ("privacy_policy_link", "blocks[0].aspect_ratio").
func (s Settings) Validate() error {
	_, err := s.normalize()
	return err
}

// normalize fills defaults (time zone, block page size), trims surrounding
// space from names and links, and validates.
func (s Settings) normalize() (Settings, error) {
	n := s.clone()
	fields := map[string]string{}

	n.ShopName = strings.TrimSpace(n.ShopName)
	if utf8.RuneCountInString(n.ShopName) > maxTextLen {
		fields["shop_name"] = fmt.Sprintf("Must be at most %d characters.", maxTextLen)
	}

	n.PrivacyPolicyLink = strings.TrimSpace(n.PrivacyPolicyLink)
	if msg := checkURL(n.PrivacyPolicyLink, "https"); msg != "" {
		fields["privacy_policy_link"] = msg
	}

	n.TimeZone = strings.TrimSpace(n.TimeZone)
	if n.TimeZone == "" {
		n.TimeZone = TimeZoneDefault
	}
	// "Local" would mean the server's zone, which differs between replicas.
	if _, err := time.LoadLocation(n.TimeZone); err != nil || n.TimeZone == "Local" {
		fields["time_zone"] = "Must be an IANA time zone name such as Europe/Moscow or UTC."
	}

	n.BotUsername = strings.TrimPrefix(strings.TrimSpace(n.BotUsername), "@")
	if n.BotUsername != "" && !botUsernamePattern.MatchString(n.BotUsername) {
		fields["bot_username"] = "Must be a Telegram bot username: 5 to 32 letters, digits and underscores."
	}
	n.MiniAppShortName = strings.TrimSpace(n.MiniAppShortName)
	if n.MiniAppShortName != "" && !miniAppShortNamePattern.MatchString(n.MiniAppShortName) {
		fields["mini_app_short_name"] = "Must be the Mini App's short name from @BotFather: 3 to 30 letters, digits and underscores."
	}

	n.PulseURL = strings.TrimSpace(n.PulseURL)
	if msg := checkURL(n.PulseURL, "http", "https"); msg != "" {
		fields["pulse_url"] = msg
	}
	// The sender needs all three, and a half-set triple would switch the
	// ETL key while the sender kept the old credentials: all or none.
	pulseSet := map[string]bool{"pulse_url": n.PulseURL != "", "pulse_api_key": n.PulseAPIKey != "", "pulse_secret": n.PulseSecret != ""}
	if pulseSet["pulse_url"] || pulseSet["pulse_api_key"] || pulseSet["pulse_secret"] {
		for name, set := range pulseSet {
			if !set && fields[name] == "" {
				fields[name] = "Required with the other Pulse settings: set the Pulse URL, API key and secret together, or clear all three."
			}
		}
	}

	for i := range n.Blocks {
		b := &n.Blocks[i]
		key := fmt.Sprintf("blocks[%d].", i)
		if b.Type != BlockProductsFeed {
			fields[key+"type"] = fmt.Sprintf("Unknown block type %q; want %q.", b.Type, BlockProductsFeed)
		}
		b.Title = strings.TrimSpace(b.Title)
		if utf8.RuneCountInString(b.Title) > maxTextLen {
			fields[key+"title"] = fmt.Sprintf("Must be at most %d characters.", maxTextLen)
		}
		b.Titles = normalizeTranslations(b.Titles, key+"titles", fields)
		if _, err := ParseAspectRatio(string(b.AspectRatio)); err != nil {
			fields[key+"aspect_ratio"] = fmt.Sprintf("Must be one of %s.", aspectRatioList())
		}
		if b.PerPage == 0 {
			b.PerPage = PerPageDefault
		}
		if b.PerPage < 1 || b.PerPage > PerPageMax {
			fields[key+"per_page"] = fmt.Sprintf("Must be from 1 to %d.", PerPageMax)
		}
	}

	if len(n.StorefrontTexts) > 0 {
		texts := make(map[string]StorefrontTexts, len(n.StorefrontTexts))
		for lang, t := range n.StorefrontTexts {
			if !slices.Contains(StorefrontLanguages(), lang) {
				fields["storefront_texts."+lang] = fmt.Sprintf("Unknown language %q; the storefront speaks %s.", lang, strings.Join(StorefrontLanguages(), ", "))
				continue
			}
			t = normalizeTexts(t, DefaultStorefrontTexts(lang), func(name, msg string) {
				fields["storefront_texts."+lang+"."+name] = msg
			})
			if t != (StorefrontTexts{}) {
				texts[lang] = t
			}
		}
		n.StorefrontTexts = texts
	}
	if len(n.StorefrontTexts) == 0 {
		n.StorefrontTexts = nil
	}

	// Duplicates are dropped rather than refused: the list is a set.
	seen := map[string]bool{}
	tasks := n.DisabledTasks[:0]
	for i, t := range n.DisabledTasks {
		if !taskNamePattern.MatchString(t) {
			fields[fmt.Sprintf("disabled_tasks[%d]", i)] = "Must be a task name of 1 to 64 characters a-z, 0-9 and _."
			continue
		}
		if !seen[t] {
			seen[t] = true
			tasks = append(tasks, t)
		}
	}
	n.DisabledTasks = tasks

	n.OwnerChat = strings.TrimSpace(n.OwnerChat)
	if _, _, err := ParseOwnerChat(n.OwnerChat); err != nil {
		fields["owner_chat"] = "Must be a chat id (a group's is negative), or CHAT_ID:THREAD_ID for a forum topic."
	}
	n.Notifications.validate(fields)
	normalizeBotSettings(&n, fields)

	if len(fields) > 0 {
		return Settings{}, tcerr.Fields("The settings are invalid.", fields)
	}
	return n, nil
}

// normalizeTranslations trims the texts of m, a text per storefront
// language, drops empty ones, and reports problems keyed by key.lang.
func normalizeTranslations(m map[string]string, key string, fields map[string]string) map[string]string {
	out := map[string]string{}
	for lang, s := range m {
		s = strings.TrimSpace(s)
		switch {
		case !slices.Contains(StorefrontLanguages(), lang):
			fields[key+"."+lang] = fmt.Sprintf("Unknown language %q; the storefront speaks %s.", lang, strings.Join(StorefrontLanguages(), ", "))
		case utf8.RuneCountInString(s) > maxTextLen:
			fields[key+"."+lang] = fmt.Sprintf("Must be at most %d characters.", maxTextLen)
		case s != "":
			out[lang] = s
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// checkURL returns a message when raw is neither empty nor an absolute URL
// with one of the schemes and a host.
func checkURL(raw string, schemes ...string) string {
	if raw == "" {
		return ""
	}
	want := "Must be an " + strings.Join(schemes, " or ") + " URL, or empty."
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return want
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return ""
		}
	}
	return want
}

// settingsField maps a settings row to its field of Settings.
type settingsField struct {
	name  string // the row's name: the field's JSON name
	index int    // the field's index in Settings
}

// settingsFields lists every field of Settings by JSON name, so a field added
// to Settings is stored without further code.
var settingsFields = func() []settingsField {
	t := reflect.TypeFor[Settings]()
	fs := make([]settingsField, t.NumField())
	for i := range fs {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		fs[i] = settingsField{name: name, index: i}
	}
	return fs
}()

// SettingsStore reads and writes Settings in the settings table. Reads are
// served from memory (every storefront request may read settings) until a
// write through the store, or SettingsCacheTTL passes. It is safe for
// concurrent use.
type SettingsStore struct {
	db       migrator.DB
	defaults Settings
	now      func() time.Time

	mu       sync.RWMutex
	cached   *Settings
	cachedAt time.Time
	gen      uint64 // bumped by every write, so a load that raced one is not cached

	loading chan struct{} // a one-slot semaphore: one load from the database at a time
	writing sync.Mutex    // orders writes and their OnChange calls

	listenersMu sync.Mutex
	listeners   []func(Settings)
}

// SettingsStoreConfig configures a SettingsStore.
type SettingsStoreConfig struct {
	// Defaults are the host's configuration: a setting with no row in the
	// table takes its value from there (an empty TimeZone means
	// TimeZoneDefault).
	Defaults Settings
	// Now is the clock for updated_at and the cache. Defaults to time.Now.
	Now func() time.Time
}

// NewSettingsStore returns a store over db's settings table (created by
// MigrationSource), or an error saying what to fix in db.
func NewSettingsStore(db migrator.DB, cfg SettingsStoreConfig) (*SettingsStore, error) {
	if db.DB == nil {
		return nil, errors.New("telecart: NewSettingsStore: db.DB is nil; pass the opened database")
	}
	if err := db.Dialect.Validate(); err != nil {
		return nil, fmt.Errorf("telecart: NewSettingsStore: %w", err)
	}
	if err := migrator.ValidatePrefix(db.Prefix); err != nil {
		return nil, fmt.Errorf("telecart: NewSettingsStore: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	defaults := cfg.Defaults.clone()
	if defaults.TimeZone == "" {
		defaults.TimeZone = TimeZoneDefault
	}
	return &SettingsStore{db: db, defaults: defaults, now: cfg.Now, loading: make(chan struct{}, 1)}, nil
}

// Get returns the current settings: the host's defaults overridden by the
// values stored in the database.
func (s *SettingsStore) Get(ctx context.Context) (Settings, error) {
	if v, ok := s.fromCache(); ok {
		return v, nil
	}
	// One load at a time: when the cache expires under load, the other
	// readers wait for it instead of all querying the database.
	select {
	case s.loading <- struct{}{}:
	case <-ctx.Done():
		return Settings{}, ctx.Err()
	}
	defer func() { <-s.loading }()
	if v, ok := s.fromCache(); ok {
		return v, nil
	}
	s.mu.RLock()
	gen := s.gen
	s.mu.RUnlock()
	v, err := s.load(ctx)
	if err != nil {
		return Settings{}, err
	}
	s.mu.Lock()
	if s.gen == gen {
		c := v.clone()
		s.cached, s.cachedAt = &c, s.now()
	}
	s.mu.Unlock()
	return v, nil
}

func (s *SettingsStore) fromCache() (Settings, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cached == nil {
		return Settings{}, false
	}
	if age := s.now().Sub(s.cachedAt); age < 0 || age >= SettingsCacheTTL {
		return Settings{}, false
	}
	return s.cached.clone(), true
}

func (s *SettingsStore) load(ctx context.Context) (Settings, error) {
	q, args, err := s.db.Dialect.Builder().Select("name", "value").From(s.db.Table("settings")).ToSql()
	if err != nil {
		return Settings{}, fmt.Errorf("telecart: building settings query: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return Settings{}, fmt.Errorf("telecart: reading settings: %w", err)
	}
	defer rows.Close()
	stored := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return Settings{}, fmt.Errorf("telecart: reading settings: %w", err)
		}
		stored[name] = value
	}
	if err := rows.Err(); err != nil {
		return Settings{}, fmt.Errorf("telecart: reading settings: %w", err)
	}

	v := s.defaults.clone()
	rv := reflect.ValueOf(&v).Elem()
	for _, f := range settingsFields {
		raw, ok := stored[f.name]
		if !ok {
			continue
		}
		// Decode into a fresh value: decoding into the default's would keep
		// fields the stored JSON leaves out.
		dst := reflect.New(rv.Field(f.index).Type())
		if err := json.Unmarshal([]byte(raw), dst.Interface()); err != nil {
			return Settings{}, fmt.Errorf("telecart: setting %q holds invalid JSON: %w", f.name, err)
		}
		rv.Field(f.index).Set(dst.Elem())
	}
	return v, nil
}

// Update validates v and saves, in one transaction, the settings whose
// values differ from the current ones: a setting the admin did not change
// keeps no row, so it follows the host's default when that changes (a new
// -pulse-url after a restart, say) instead of being pinned to the value it
// had when something else was saved. Invalid settings are a Validation
// *tcerr.Error with a message per field, and nothing is saved. It returns
// the settings as saved (defaults filled in, names trimmed) and then calls
// the OnChange listeners with them.
func (s *SettingsStore) Update(ctx context.Context, v Settings) (Settings, error) {
	n, err := v.normalize()
	if err != nil {
		return Settings{}, err
	}
	s.writing.Lock()
	defer s.writing.Unlock()

	cur, err := s.load(ctx)
	if err != nil {
		return Settings{}, err
	}
	ins := s.db.Dialect.Builder().Insert(s.db.Table("settings")).Columns("name", "value", "updated_at")
	now := s.db.Dialect.EncodeTime(s.now())
	rv, cv := reflect.ValueOf(n), reflect.ValueOf(cur)
	changed := 0
	for _, f := range settingsFields {
		encode := func(fv reflect.Value) ([]byte, error) {
			if fv.Kind() == reflect.Slice && fv.IsNil() {
				fv = reflect.MakeSlice(fv.Type(), 0, 0) // store [], not null
			}
			return json.Marshal(fv.Interface())
		}
		b, err := encode(rv.Field(f.index))
		if err != nil {
			return Settings{}, fmt.Errorf("telecart: encoding setting %q: %w", f.name, err)
		}
		if old, err := encode(cv.Field(f.index)); err == nil && string(old) == string(b) {
			continue
		}
		ins = ins.Values(f.name, string(b), now)
		changed++
	}
	if changed > 0 {
		if err := s.save(ctx, ins); err != nil {
			return Settings{}, err
		}
	}

	s.changed(n)
	return n.clone(), nil
}

// changed calls the OnChange listeners with n; the caller holds s.writing.
func (s *SettingsStore) changed(n Settings) {
	s.listenersMu.Lock()
	listeners := slices.Clone(s.listeners)
	s.listenersMu.Unlock()
	for _, fn := range listeners {
		fn(n.clone())
	}
}

// MoveOwnerChat points the owner chat setting at chat to when it points at
// chat from, keeping its topic, and reports whether it did: Telegram gives
// a group that becomes a supergroup a new id, and the notices must follow.
// The new value is stored, so from then on it also overrides a host's
// default (the demo's -owner-chat). It calls the OnChange listeners as
// Update does.
func (s *SettingsStore) MoveOwnerChat(ctx context.Context, from, to int64) (bool, error) {
	if from == 0 || to == 0 || from == to {
		return false, nil
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	cur, err := s.load(ctx)
	if err != nil {
		return false, err
	}
	chat, thread, err := ParseOwnerChat(cur.OwnerChat)
	if err != nil || chat != from {
		return false, nil
	}
	cur.OwnerChat = strconv.FormatInt(to, 10)
	if thread != 0 {
		cur.OwnerChat += ":" + strconv.FormatInt(thread, 10)
	}
	b, err := json.Marshal(cur.OwnerChat)
	if err != nil {
		return false, err
	}
	ins := s.db.Dialect.Builder().Insert(s.db.Table("settings")).Columns("name", "value", "updated_at").
		Values("owner_chat", string(b), s.db.Dialect.EncodeTime(s.now()))
	if err := s.save(ctx, ins); err != nil {
		return false, err
	}
	s.changed(cur)
	return true, nil
}

// save upserts the rows of ins and drops the cache.
func (s *SettingsStore) save(ctx context.Context, ins sq.InsertBuilder) error {
	q, args, err := s.db.Dialect.Upsert(ins, []string{"name"}, []string{"value", "updated_at"}).ToSql()
	if err != nil {
		return fmt.Errorf("telecart: building settings update: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("telecart: saving settings: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("telecart: saving settings: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("telecart: saving settings: %w", err)
	}
	s.mu.Lock()
	s.gen++
	s.cached = nil
	s.mu.Unlock()
	return nil
}

// keepGenerated stores value as the setting named name unless a row for it
// exists, and returns the setting as stored: the first replica to start
// generates a secret, and every other one reads that same secret back.
func (s *SettingsStore) keepGenerated(ctx context.Context, name, value string) (Settings, error) {
	b, err := json.Marshal(value)
	if err != nil {
		return Settings{}, err
	}
	d := s.db.Dialect
	ins := d.Builder().Insert(s.db.Table("settings")).Columns("name", "value", "updated_at").
		Values(name, string(b), d.EncodeTime(s.now()))
	q, args, err := d.InsertIgnore(ins, "name").ToSql()
	if err != nil {
		return Settings{}, fmt.Errorf("telecart: building settings insert: %w", err)
	}
	s.writing.Lock()
	_, err = s.db.ExecContext(ctx, q, args...)
	s.mu.Lock()
	s.gen++
	s.cached = nil
	s.mu.Unlock()
	s.writing.Unlock()
	if err != nil {
		return Settings{}, fmt.Errorf("telecart: keeping setting %q: %w", name, err)
	}
	return s.Get(ctx)
}

// OnChange registers fn to be called with the new settings after every
// successful Update, in the order registered, on the updating goroutine; the
// host uses it to apply a new bot token or Pulse credentials without a
// restart. Listeners run while the store holds its write lock, so that they
// see writes in order: fn should return quickly and must not call Update.
// Writes made by other processes do not call it.
func (s *SettingsStore) OnChange(fn func(Settings)) {
	if fn == nil {
		panic("telecart: SettingsStore.OnChange: fn is nil")
	}
	s.listenersMu.Lock()
	defer s.listenersMu.Unlock()
	s.listeners = append(s.listeners, fn)
}
