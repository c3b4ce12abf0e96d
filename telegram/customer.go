package telegram

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"
	"github.com/google/uuid"

	"github.com/telecart-go/telecart/migrator"
)

// CustomersTable is the unprefixed name of the customers table. The
// CustomerStore is its only reader and writer; other packages go through the
// store's methods (tests may seed it directly).
const CustomersTable = "customers"

// ErrCustomerNotFound is returned when no customer has the id, Telegram user
// id or tracking id asked for.
var ErrCustomerNotFound = errors.New("telegram: customer not found")

// Customer is a Telegram user who opened the shop's Mini App. All times are
// UTC; the optional ones are nil until they happen.
type Customer struct {
	ID             int64 `json:"id"`
	TelegramUserID int64 `json:"telegram_user_id"`
	// TrackingID is a UUID the store issues on the first Save and never
	// changes; Pulse events identify the customer by it.
	TrackingID      string `json:"tracking_id"`
	FirstName       string `json:"first_name"`
	LastName        string `json:"last_name"`
	Username        string `json:"username"`
	LanguageCode    string `json:"language_code"`
	IsPremium       bool   `json:"is_premium"`
	AllowsWriteToPM bool   `json:"allows_write_to_pm"`
	PhotoURL        string `json:"photo_url"`
	// HostCustomerID is the host shop's own customer id, 0 when none.
	HostCustomerID     int64      `json:"host_customer_id"`
	OrdersCount        int        `json:"orders_count"`
	PrivacyConsentedAt *time.Time `json:"privacy_consented_at"`
	LastSeenAt         time.Time  `json:"last_seen_at"`
	// FirstCampaignID is the campaign that brought the customer first, ""
	// when none; LastCampaignID the latest one.
	FirstCampaignID string     `json:"first_campaign_id"`
	FirstCampaignAt *time.Time `json:"first_campaign_at"`
	LastCampaignID  string     `json:"last_campaign_id"`
	LastCampaignAt  *time.Time `json:"last_campaign_at"`
	// BotBlocked is set when Telegram refused a message because the user
	// blocked the bot, deleted the account or never started the bot.
	BotBlocked   bool       `json:"bot_blocked"`
	BotBlockedAt *time.Time `json:"bot_blocked_at"`
	// ErasedAt is when the customer's personal data was erased (Erase),
	// nil for a customer who was not. An erased customer has no names,
	// username, photo, language, Telegram id (0) or host link.
	ErasedAt  *time.Time `json:"erased_at"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Consented reports whether the customer accepted the privacy policy.
func (c Customer) Consented() bool { return c.PrivacyConsentedAt != nil }

// Erased reports whether the customer's personal data was erased.
func (c Customer) Erased() bool { return c.ErasedAt != nil }

// CustomerStoreConfig configures a CustomerStore.
type CustomerStoreConfig struct {
	// Now is the clock for created_at and updated_at. Defaults to time.Now.
	Now func() time.Time
	// Logger receives errors of the hooks. Defaults to a discarding logger.
	Logger *slog.Logger
	// OnConsent, when set, is called after a customer's first privacy
	// consent was recorded (not on repeated ones), for example to track a
	// PRIVACY_CONSENT event.
	OnConsent func(ctx context.Context, c Customer)
	// OnErase, when set, is called after a customer was erased for the
	// first time (not on repeated erasures), outside the transaction.
	OnErase func(ctx context.Context, e Erasure)
}

// CustomerStore keeps the Telegram customers in the customers table. It is
// safe for concurrent use.
type CustomerStore struct {
	db        migrator.DB
	table     string
	now       func() time.Time
	logger    *slog.Logger
	onConsent func(ctx context.Context, c Customer)
	onErase   func(ctx context.Context, e Erasure)

	erasersMu sync.Mutex
	erasers   []CustomerEraser // see AddEraser
	erasures  atomic.Uint64    // see Erasures

	stmtMu    sync.Mutex
	listAfter [2]*sql.Stmt // see listAfterStmt
}

// NewCustomerStore returns a store over db, whose migrations must include
// MigrationSource().
func NewCustomerStore(db migrator.DB, cfg CustomerStoreConfig) (*CustomerStore, error) {
	if db.DB == nil {
		return nil, errors.New("telegram: NewCustomerStore: db.DB is nil; pass the opened database")
	}
	if err := db.Dialect.Validate(); err != nil {
		return nil, fmt.Errorf("telegram: NewCustomerStore: %w", err)
	}
	if err := migrator.ValidatePrefix(db.Prefix); err != nil {
		return nil, fmt.Errorf("telegram: NewCustomerStore: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &CustomerStore{
		db:        db,
		table:     db.Table(CustomersTable),
		now:       cfg.Now,
		logger:    cfg.Logger,
		onConsent: cfg.OnConsent,
		onErase:   cfg.OnErase,
	}, nil
}

// Now returns the store's clock reading, in UTC.
func (s *CustomerStore) Now() time.Time { return s.now().UTC() }

// customerColumns is the select list scanned by scanCustomer, in order.
const customerColumns = "id, telegram_user_id, tracking_id, first_name, last_name, username, language_code, " +
	"is_premium, allows_write_to_pm, photo_url, host_customer_id, orders_count, privacy_consented_at, " +
	"last_seen_at, first_campaign_id, first_campaign_at, last_campaign_id, last_campaign_at, " +
	"bot_blocked, bot_blocked_at, erased_at, created_at, updated_at"

type rowScanner interface{ Scan(dest ...any) error }

func scanCustomer(r rowScanner) (Customer, error) {
	var c Customer
	err := r.Scan(&c.ID, &c.TelegramUserID, &c.TrackingID, &c.FirstName, &c.LastName, &c.Username,
		&c.LanguageCode, &c.IsPremium, &c.AllowsWriteToPM, &c.PhotoURL, &c.HostCustomerID, &c.OrdersCount,
		migrator.ScanNullTime(&c.PrivacyConsentedAt), migrator.ScanTime(&c.LastSeenAt),
		&c.FirstCampaignID, migrator.ScanNullTime(&c.FirstCampaignAt),
		&c.LastCampaignID, migrator.ScanNullTime(&c.LastCampaignAt),
		&c.BotBlocked, migrator.ScanNullTime(&c.BotBlockedAt), migrator.ScanNullTime(&c.ErasedAt),
		migrator.ScanTime(&c.CreatedAt), migrator.ScanTime(&c.UpdatedAt))
	if c.TelegramUserID < 0 {
		c.TelegramUserID = 0 // an erased row's placeholder (see Erase) is no one's id
	}
	return c, err
}

// Column limits, matching the migrations. Telegram's own limits are lower
// (64 characters for names, 32 for usernames); these only keep a strict
// MySQL from refusing a row.
const (
	maxNameRunes     = 255
	maxUsernameRunes = 64
	maxLanguageRunes = 35
	maxPhotoURLRunes = 1024
	maxLowerRunes    = 600
	maxSearchRunes   = 1300
	maxCampaignRunes = 64
)

// profile is the part of a customer that Save takes from Telegram.
type profile struct {
	firstName, lastName, username, languageCode, photoURL string
	isPremium, allowsWriteToPM                            bool
	firstNameLC, lastNameLC, searchText                   string
}

func newProfile(u User) profile {
	p := profile{
		firstName:       cleanText(u.FirstName, maxNameRunes),
		lastName:        cleanText(u.LastName, maxNameRunes),
		username:        cleanText(strings.TrimPrefix(u.Username, "@"), maxUsernameRunes),
		languageCode:    cleanText(u.LanguageCode, maxLanguageRunes),
		photoURL:        cleanText(u.PhotoURL, maxPhotoURLRunes+1),
		isPremium:       u.IsPremium,
		allowsWriteToPM: u.AllowsWriteToPM,
	}
	if utf8.RuneCountInString(p.photoURL) > maxPhotoURLRunes {
		p.photoURL = "" // a truncated URL is worse than none
	}
	p.firstNameLC = truncateRunes(foldCase(p.firstName), maxLowerRunes)
	p.lastNameLC = truncateRunes(foldCase(p.lastName), maxLowerRunes)
	p.searchText = truncateRunes(searchText(p.firstName, p.lastName, p.username), maxSearchRunes)
	return p
}

// searchText is what the admin list's global search matches: the lower-cased
// names and "@username" joined by spaces, so "anna smith" and "@anna" match.
func searchText(first, last, username string) string {
	parts := make([]string, 0, 3)
	for _, s := range []string{first, last} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if username != "" {
		parts = append(parts, "@"+username)
	}
	return foldCase(strings.Join(parts, " "))
}

// foldCase is the case folding of the _lc columns and of the patterns
// matched against them.
func foldCase(s string) string { return strings.ToLower(s) }

// cleanText makes s storable on both dialects: valid UTF-8 (MySQL refuses
// anything else), no NUL (SQLite's LIKE stops at it), at most max runes.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	return truncateRunes(s, max)
}

func truncateRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// Save creates or updates the customer for the Telegram user u, as seen at
// seenAt (the store's clock when zero): the profile fields (names, username,
// language, premium, write access, photo) are replaced by u's and
// last_seen_at set. A new customer gets a random UUID tracking_id, which
// later saves never change. Only pass users from validated init data.
func (s *CustomerStore) Save(ctx context.Context, u User, seenAt time.Time) (Customer, error) {
	if u.ID <= 0 {
		return Customer{}, fmt.Errorf("telegram: saving customer: user id %d is not positive", u.ID)
	}
	if seenAt.IsZero() {
		seenAt = s.now()
	}
	p := newProfile(u)
	now := s.now()
	d := s.db.Dialect

	// Look before inserting: an INSERT … ON DUPLICATE KEY UPDATE would burn
	// an AUTO_INCREMENT value on MySQL at every Mini App launch.
	existing, err := s.get(ctx, s.db, "telegram_user_id", u.ID)
	switch {
	case err == nil:
		_, err = d.Builder().Update(s.table).
			SetMap(p.setMap()).
			Set("last_seen_at", d.EncodeTime(seenAt)).
			Set("updated_at", d.EncodeTime(now)).
			Where(sq.Eq{"id": existing.ID}).
			RunWith(s.db).ExecContext(ctx)
		if err != nil {
			return Customer{}, fmt.Errorf("telegram: updating customer %d: %w", existing.ID, err)
		}
	case errors.Is(err, ErrCustomerNotFound):
		values := p.setMap()
		values["telegram_user_id"] = u.ID
		values["tracking_id"] = uuid.NewString()
		values["last_seen_at"] = d.EncodeTime(seenAt)
		values["created_at"] = d.EncodeTime(now)
		values["updated_at"] = d.EncodeTime(now)
		// Another request for the same user may insert first: the upsert
		// then updates its row and keeps its tracking_id.
		update := append(profileColumns(), "last_seen_at", "updated_at")
		_, err = d.Upsert(d.Builder().Insert(s.table).SetMap(values), []string{"telegram_user_id"}, update).
			RunWith(s.db).ExecContext(ctx)
		if err != nil {
			return Customer{}, fmt.Errorf("telegram: inserting a customer: %w", err)
		}
	default:
		return Customer{}, err
	}
	return s.GetByTelegramID(ctx, u.ID)
}

func profileColumns() []string {
	return []string{"first_name", "last_name", "username", "language_code", "is_premium",
		"allows_write_to_pm", "photo_url", "first_name_lc", "last_name_lc", "search_text"}
}

func (p profile) setMap() map[string]any {
	return map[string]any{
		"first_name":         p.firstName,
		"last_name":          p.lastName,
		"username":           p.username,
		"language_code":      p.languageCode,
		"is_premium":         boolInt(p.isPremium),
		"allows_write_to_pm": boolInt(p.allowsWriteToPM),
		"photo_url":          p.photoURL,
		"first_name_lc":      p.firstNameLC,
		"last_name_lc":       p.lastNameLC,
		"search_text":        p.searchText,
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Get returns the customer with the id.
func (s *CustomerStore) Get(ctx context.Context, id int64) (Customer, error) {
	return s.get(ctx, s.db, "id", id)
}

// GetByTelegramID returns the customer of the Telegram user tgID.
func (s *CustomerStore) GetByTelegramID(ctx context.Context, tgID int64) (Customer, error) {
	return s.get(ctx, s.db, "telegram_user_id", tgID)
}

// GetByTrackingID returns the customer with the tracking id.
func (s *CustomerStore) GetByTrackingID(ctx context.Context, trackingID string) (Customer, error) {
	return s.get(ctx, s.db, "tracking_id", trackingID)
}

// GetTx is Get inside the host's transaction (or on any Execer).
func (s *CustomerStore) GetTx(ctx context.Context, exec migrator.Execer, id int64) (Customer, error) {
	return s.get(ctx, exec, "id", id)
}

// lookupKey names what a customer was looked up by, for an error: the
// column, and its value unless it is a Telegram user id, which names a
// person (errors end up in logs).
func lookupKey(column string, value any) string {
	if column == "telegram_user_id" {
		return "by Telegram user id"
	}
	return fmt.Sprintf("%s %v", column, value)
}

// get reads one customer by a unique column, a constant from this file.
func (s *CustomerStore) get(ctx context.Context, exec migrator.Execer, column string, value any) (Customer, error) {
	q, args, err := s.db.Dialect.Builder().Select(customerColumns).From(s.table).
		Where(sq.Eq{column: value}).ToSql()
	if err != nil {
		return Customer{}, fmt.Errorf("telegram: building customer query: %w", err)
	}
	c, err := scanCustomer(exec.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, fmt.Errorf("%w: %s", ErrCustomerNotFound, lookupKey(column, value))
	}
	if err != nil {
		return Customer{}, fmt.Errorf("telegram: reading customer by %s: %w", column, err)
	}
	return c, nil
}

// Consent records that the Telegram user tgID accepted the privacy policy at
// at (the store's clock when zero). Only the first consent is kept: a repeated
// call changes nothing and returns the customer as it is. OnConsent is called
// after a first consent only.
func (s *CustomerStore) Consent(ctx context.Context, tgID int64, at time.Time) (Customer, error) {
	if at.IsZero() {
		at = s.now()
	}
	d := s.db.Dialect
	res, err := d.Builder().Update(s.table).
		Set("privacy_consented_at", d.EncodeTime(at)).
		Set("updated_at", d.EncodeTime(s.now())).
		Where(sq.Eq{"telegram_user_id": tgID, "privacy_consented_at": nil}).
		RunWith(s.db).ExecContext(ctx)
	if err != nil {
		return Customer{}, fmt.Errorf("telegram: recording consent: %w", err)
	}
	// NULL to a time always changes the row, so MySQL's "changed rows"
	// count is reliable here.
	first, err := res.RowsAffected()
	if err != nil {
		return Customer{}, fmt.Errorf("telegram: recording consent: %w", err)
	}
	c, err := s.GetByTelegramID(ctx, tgID)
	if err != nil {
		return Customer{}, err
	}
	if first > 0 && s.onConsent != nil {
		s.onConsent(ctx, c)
	}
	return c, nil
}

// GetMany returns the customers with ids, keyed by id; ids that name no
// customer are left out. Lists of other tables (orders, say) use it to show
// who each row belongs to without joining this table.
func (s *CustomerStore) GetMany(ctx context.Context, ids []int64) (map[int64]Customer, error) {
	found := make(map[int64]Customer, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	list, err := s.query(ctx, s.db.Dialect.Builder().Select(customerColumns).From(s.table).Where(sq.Eq{"id": ids}))
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		found[c.ID] = c
	}
	return found, nil
}

// MarkUnreachable records that Telegram refused to deliver to the customer
// (bot blocked, account deleted, bot never started). The first time is kept.
func (s *CustomerStore) MarkUnreachable(ctx context.Context, id int64, at time.Time) error {
	return s.MarkUnreachableTx(ctx, s.db, id, at)
}

// MarkUnreachableTx is MarkUnreachable on exec, e.g. the host's *sql.Tx.
func (s *CustomerStore) MarkUnreachableTx(ctx context.Context, exec migrator.Execer, id int64, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	d := s.db.Dialect
	return s.update(ctx, exec, "marking customer unreachable", id, d.Builder().Update(s.table).
		Set("bot_blocked", 1).
		Set("bot_blocked_at", d.EncodeTime(at)).
		Set("updated_at", d.EncodeTime(s.now())).
		Where(sq.Eq{"id": id, "bot_blocked": 0}))
}

// ClearUnreachable clears the bot_blocked flag, for when the host learns that
// the user can be written to again (for example a my_chat_member update
// saying the bot was unblocked).
func (s *CustomerStore) ClearUnreachable(ctx context.Context, id int64) error {
	d := s.db.Dialect
	return s.update(ctx, s.db, "clearing unreachable", id, d.Builder().Update(s.table).
		Set("bot_blocked", 0).
		Set("bot_blocked_at", nil).
		Set("updated_at", d.EncodeTime(s.now())).
		Where(sq.Eq{"id": id, "bot_blocked": 1}))
}

// RecordCampaign attributes the Telegram user tgID to campaignID at at: the
// first campaign is set only while there is none, the last one always.
func (s *CustomerStore) RecordCampaign(ctx context.Context, exec migrator.Execer, tgID int64, campaignID string, at time.Time) error {
	if campaignID == "" || utf8.RuneCountInString(campaignID) > maxCampaignRunes || !utf8.ValidString(campaignID) {
		return fmt.Errorf("telegram: recording campaign: campaign id %.80q must be 1 to %d characters", campaignID, maxCampaignRunes)
	}
	if at.IsZero() {
		at = s.now()
	}
	d := s.db.Dialect
	atv := d.EncodeTime(at)
	// MySQL evaluates SET assignments left to right with the new values, so
	// first_campaign_at must come before first_campaign_id; SQLite reads the
	// old values throughout, which gives the same result in this order.
	q, args, err := d.Builder().Update(s.table).
		Set("first_campaign_at", sq.Expr("CASE WHEN first_campaign_id = '' THEN ? ELSE first_campaign_at END", atv)).
		Set("first_campaign_id", sq.Expr("CASE WHEN first_campaign_id = '' THEN ? ELSE first_campaign_id END", campaignID)).
		Set("last_campaign_id", campaignID).
		Set("last_campaign_at", atv).
		Set("updated_at", d.EncodeTime(s.now())).
		Where(sq.Eq{"telegram_user_id": tgID}).ToSql()
	if err != nil {
		return fmt.Errorf("telegram: building campaign update: %w", err)
	}
	res, err := exec.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("telegram: recording campaign: %w", err)
	}
	return s.checkFound(ctx, exec, res, "telegram_user_id", tgID)
}

// IncrementOrders adds by (negative for a cancelled order) to the customer's
// orders_count, never below zero. Pass the host's transaction as exec so the
// count changes if and only if the order is stored.
func (s *CustomerStore) IncrementOrders(ctx context.Context, exec migrator.Execer, customerID int64, by int) error {
	d := s.db.Dialect
	return s.update(ctx, exec, "counting orders", customerID, d.Builder().Update(s.table).
		Set("orders_count", sq.Expr("CASE WHEN orders_count + ? < 0 THEN 0 ELSE orders_count + ? END", by, by)).
		Set("updated_at", d.EncodeTime(s.now())).
		Where(sq.Eq{"id": customerID}))
}

// SetHostCustomerID links the customer to the host shop's customer hostID (0
// unlinks).
func (s *CustomerStore) SetHostCustomerID(ctx context.Context, exec migrator.Execer, id, hostID int64) error {
	if hostID < 0 {
		return fmt.Errorf("telegram: host customer id %d is negative", hostID)
	}
	d := s.db.Dialect
	return s.update(ctx, exec, "linking host customer", id, d.Builder().Update(s.table).
		Set("host_customer_id", hostID).
		Set("updated_at", d.EncodeTime(s.now())).
		Where(sq.Eq{"id": id}))
}

// update runs b on exec and turns "no row" into ErrCustomerNotFound.
func (s *CustomerStore) update(ctx context.Context, exec migrator.Execer, what string, id int64, b sq.UpdateBuilder) error {
	q, args, err := b.ToSql()
	if err != nil {
		return fmt.Errorf("telegram: %s: building query: %w", what, err)
	}
	res, err := exec.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("telegram: %s of customer %d: %w", what, id, err)
	}
	return s.checkFound(ctx, exec, res, "id", id)
}

// checkFound returns ErrCustomerNotFound when an update touched no row and no
// customer matches. MySQL counts changed rows, not matched ones, and some
// updates are no-ops by design (an already blocked customer), so zero rows
// alone proves nothing.
func (s *CustomerStore) checkFound(ctx context.Context, exec migrator.Execer, res sql.Result, column string, value int64) error {
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	q, args, err := s.db.Dialect.Builder().Select("1").From(s.table).Where(sq.Eq{column: value}).ToSql()
	if err != nil {
		return fmt.Errorf("telegram: building customer query: %w", err)
	}
	var one int
	err = exec.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrCustomerNotFound, lookupKey(column, value))
	}
	if err != nil {
		return fmt.Errorf("telegram: reading customer by %s: %w", column, err)
	}
	return nil
}

// SaveFromChat creates or updates, on exec, the customer for the Telegram
// user u who wrote to the bot in a private chat (a /start): names, username,
// language and premium are replaced by u's, last_seen_at is set to at, and,
// since the user opened a chat with the bot, the bot may write to them
// (allows_write_to_pm) and they are reachable (bot_blocked cleared). The
// photo is kept: a message's sender carries none. A new customer gets a
// random tracking_id. Only pass users from updates Telegram sent.
func (s *CustomerStore) SaveFromChat(ctx context.Context, exec migrator.Execer, u User, at time.Time) (Customer, error) {
	if u.ID <= 0 {
		return Customer{}, fmt.Errorf("telegram: saving customer: user id %d is not positive", u.ID)
	}
	if at.IsZero() {
		at = s.now()
	}
	u.AllowsWriteToPM = true
	p := newProfile(u)
	values := p.setMap()
	delete(values, "photo_url")
	now := s.now()
	d := s.db.Dialect

	existing, err := s.get(ctx, exec, "telegram_user_id", u.ID)
	switch {
	case err == nil:
		err = execBuilt(ctx, exec, d.Builder().Update(s.table).
			SetMap(values).
			Set("bot_blocked", 0).
			Set("bot_blocked_at", nil).
			Set("last_seen_at", d.EncodeTime(at)).
			Set("updated_at", d.EncodeTime(now)).
			Where(sq.Eq{"id": existing.ID}))
		if err != nil {
			return Customer{}, fmt.Errorf("telegram: updating customer %d: %w", existing.ID, err)
		}
	case errors.Is(err, ErrCustomerNotFound):
		values["telegram_user_id"] = u.ID
		values["tracking_id"] = uuid.NewString()
		values["last_seen_at"] = d.EncodeTime(at)
		values["created_at"] = d.EncodeTime(now)
		values["updated_at"] = d.EncodeTime(now)
		update := []string{"first_name", "last_name", "username", "language_code", "is_premium",
			"allows_write_to_pm", "first_name_lc", "last_name_lc", "search_text", "last_seen_at", "updated_at"}
		err = execBuilt(ctx, exec, d.Upsert(d.Builder().Insert(s.table).SetMap(values), []string{"telegram_user_id"}, update))
		if err != nil {
			return Customer{}, fmt.Errorf("telegram: inserting a customer: %w", err)
		}
	default:
		return Customer{}, err
	}
	return s.get(ctx, exec, "telegram_user_id", u.ID)
}

// execBuilt runs a built statement on exec.
func execBuilt(ctx context.Context, exec migrator.Execer, b sq.Sqlizer) error {
	q, args, err := b.ToSql()
	if err != nil {
		return err
	}
	_, err = exec.ExecContext(ctx, q, args...)
	return err
}

// SetBotBlockedTx records, on exec, what Telegram said about the bot's
// private chat with the Telegram user tgID at at: blocked (the user blocked
// the bot) or reachable again (they restarted it, which also lets the bot
// write to them). Blocking keeps the first bot_blocked_at. It returns
// ErrCustomerNotFound for a user who is not a customer.
func (s *CustomerStore) SetBotBlockedTx(ctx context.Context, exec migrator.Execer, tgID int64, blocked bool, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	d := s.db.Dialect
	b := d.Builder().Update(s.table).Set("updated_at", d.EncodeTime(s.now()))
	if blocked {
		b = b.Set("bot_blocked", 1).Set("bot_blocked_at", d.EncodeTime(at)).
			Where(sq.Eq{"telegram_user_id": tgID, "bot_blocked": 0})
	} else {
		b = b.Set("bot_blocked", 0).Set("bot_blocked_at", nil).Set("allows_write_to_pm", 1).
			Where(sq.Eq{"telegram_user_id": tgID})
	}
	q, args, err := b.ToSql()
	if err != nil {
		return fmt.Errorf("telegram: building bot-blocked update: %w", err)
	}
	res, err := exec.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("telegram: recording the bot blocked=%t: %w", blocked, err)
	}
	return s.checkFound(ctx, exec, res, "telegram_user_id", tgID)
}
