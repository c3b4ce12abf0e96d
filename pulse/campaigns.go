package pulse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
)

// CampaignsTable holds the shop's campaigns (prefixed).
const CampaignsTable = "pulse_campaigns"

// Telegram's limits on what a t.me link carries after start= and
// startapp=.
const (
	StartLinkMaxLen    = 64  // characters of ?start= (the bot link)
	StartAppLinkMaxLen = 512 // characters of ?startapp= (the Mini App link)
)

// Limits of a campaign's free-text fields, in characters.
const (
	CampaignNameMaxLen    = 255
	CampaignContentMaxLen = 255
	CampaignNotesMaxLen   = 4000
)

// Campaign is a campaign the owner made: its ID is the campaign_id its
// links carry and events are credited to. Source and Medium go into the
// link's start_param (s and m); Content and Notes stay in the shop.
type Campaign struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	Medium    string    `json:"medium"`
	Content   string    `json:"content"`
	Notes     string    `json:"notes"`
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StartParam is the campaign's attribution as its links carry it.
func (c Campaign) StartParam() StartParam {
	return StartParam{CampaignID: c.ID, Source: c.Source, Medium: c.Medium}
}

// CampaignLinks are a campaign's t.me links, signed with the shop's
// start_param secret.
type CampaignLinks struct {
	StartParam string `json:"start_param"`
	// StartAppURL opens the Mini App: https://t.me/{bot}?startapp=…, or
	// the direct link https://t.me/{bot}/{short name}?startapp=… when the
	// Mini App's short name is set.
	StartAppURL string `json:"startapp_url"`
	// StartURL opens the chat with the bot: https://t.me/{bot}?start=….
	StartURL string `json:"start_url"`
}

// Link kinds of CampaignLinks, as the QR routes name them.
const (
	LinkStartApp = "startapp"
	LinkStart    = "start"
)

// URL returns the link of kind (LinkStartApp or LinkStart), "" for another
// kind.
func (l CampaignLinks) URL(kind string) string {
	switch kind {
	case LinkStartApp:
		return l.StartAppURL
	case LinkStart:
		return l.StartURL
	}
	return ""
}

// BotLink is what a campaign link points at: the bot's username (without
// "@") and, optionally, the Mini App's short name from @BotFather.
type BotLink struct {
	Username  string
	ShortName string
}

// AttributionCounter counts customers by the campaign that brought them
// first (telegram.CustomerStore implements it): first_campaign_at in
// [from, to).
type AttributionCounter interface {
	CountFirstCampaigns(ctx context.Context, from, to time.Time) (map[string]int64, error)
}

// ErrCampaignNotFound is returned for an id that is not a campaign.
var ErrCampaignNotFound = &tcerr.Error{Kind: tcerr.NotFound, Code: "campaign_not_found", Message: "no such campaign"}

// ErrBotUsernameUnknown is returned by Links while the bot's username is
// not known: no token checked with Telegram, nothing in the settings.
var ErrBotUsernameUnknown = &tcerr.Error{Kind: tcerr.Conflict, Code: "bot_username_unknown",
	Message: "The bot's username is not known yet: save the bot token (TeleCart asks Telegram) or set the bot username in the settings."}

// CampaignsConfig configures Campaigns.
type CampaignsConfig struct {
	// StartParams signs the links; its secret is the shop's. Required.
	StartParams *StartParamSerializer
	// Bot returns the bot the links point at. Required.
	Bot func(ctx context.Context) (BotLink, error)
	// Location returns the shop's time zone, in which the funnel's days
	// are counted. Defaults to UTC.
	Location func(ctx context.Context) (*time.Location, error)
	// Attribution counts the customers each campaign brought first for
	// the funnel's "attributed". Optional: without it, attributed is 0.
	Attribution AttributionCounter
	// FoldBatch is how many events one fold transaction reads. Defaults
	// to FoldBatchDefault.
	FoldBatch int
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Campaigns keeps the shop's campaigns, makes their links and QR codes,
// and counts their funnel (funnel.go).
type Campaigns struct {
	db    migrator.DB
	cfg   CampaignsConfig
	table string
}

// NewCampaigns returns the campaigns of db, whose migrations must include
// MigrationSource().
func NewCampaigns(db migrator.DB, cfg CampaignsConfig) (*Campaigns, error) {
	switch {
	case db.DB == nil:
		return nil, errors.New("pulse: NewCampaigns: db is nil; pass a migrator.DB with an open *sql.DB")
	case cfg.StartParams == nil:
		return nil, errors.New("pulse: NewCampaigns: StartParams is nil; pass the shop's StartParamSerializer")
	case cfg.Bot == nil:
		return nil, errors.New("pulse: NewCampaigns: Bot is nil; pass a function returning the bot's username")
	case cfg.FoldBatch < 0 || cfg.FoldBatch > foldBatchMax:
		return nil, fmt.Errorf("pulse: NewCampaigns: FoldBatch must be 0 to %d, got %d", foldBatchMax, cfg.FoldBatch)
	}
	if err := db.Dialect.Validate(); err != nil {
		return nil, fmt.Errorf("pulse: %w", err)
	}
	if err := migrator.ValidatePrefix(db.Prefix); err != nil {
		return nil, fmt.Errorf("pulse: %w", err)
	}
	if cfg.Location == nil {
		cfg.Location = func(context.Context) (*time.Location, error) { return time.UTC, nil }
	}
	if cfg.FoldBatch == 0 {
		cfg.FoldBatch = FoldBatchDefault
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Campaigns{db: db, cfg: cfg, table: db.Table(CampaignsTable)}, nil
}

var campaignColumns = []string{"id", "name", "source", "medium", "content", "notes", "archived", "created_at", "updated_at"}

func scanCampaign(s interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var archived int
	err := s.Scan(&c.ID, &c.Name, &c.Source, &c.Medium, &c.Content, &c.Notes, &archived,
		migrator.ScanTime(&c.CreatedAt), migrator.ScanTime(&c.UpdatedAt))
	c.Archived = archived != 0
	return c, err
}

// List returns every campaign, archived ones too, newest first.
func (s *Campaigns) List(ctx context.Context) ([]Campaign, error) {
	q, args, err := s.db.Dialect.Builder().Select(campaignColumns...).From(s.table).
		OrderBy("created_at DESC", "id").ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pulse: listing campaigns: %w", err)
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("pulse: listing campaigns: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pulse: listing campaigns: %w", err)
	}
	return out, nil
}

// Get returns the campaign id, or ErrCampaignNotFound.
func (s *Campaigns) Get(ctx context.Context, id string) (Campaign, error) {
	if !validID(id, CampaignIDMaxLen) {
		return Campaign{}, ErrCampaignNotFound
	}
	q, args, err := s.db.Dialect.Builder().Select(campaignColumns...).From(s.table).Where(sq.Eq{"id": id}).ToSql()
	if err != nil {
		return Campaign{}, err
	}
	c, err := scanCampaign(s.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, ErrCampaignNotFound
	}
	if err != nil {
		return Campaign{}, fmt.Errorf("pulse: reading campaign %s: %w", id, err)
	}
	return c, nil
}

// Create stores a new campaign. It refuses, as a 422 naming the fields,
// a campaign whose fields break their rules or whose links would not fit
// Telegram's limits, and, as a 409, an id already taken.
func (s *Campaigns) Create(ctx context.Context, c Campaign) (Campaign, error) {
	c, err := s.normalize(c)
	if err != nil {
		return Campaign{}, err
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	c.CreatedAt, c.UpdatedAt, c.Archived = now, now, false
	d := s.db.Dialect
	q, args, err := d.InsertIgnore(d.Builder().Insert(s.table).Columns(campaignColumns...).
		Values(c.ID, c.Name, c.Source, c.Medium, c.Content, c.Notes, 0, d.EncodeTime(now), d.EncodeTime(now)), "id").ToSql()
	if err != nil {
		return Campaign{}, err
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return Campaign{}, fmt.Errorf("pulse: storing campaign %s: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Campaign{}, fmt.Errorf("pulse: storing campaign %s: %w", c.ID, err)
	} else if n == 0 {
		return Campaign{}, &tcerr.Error{Kind: tcerr.Conflict, Code: "campaign_exists",
			Message: fmt.Sprintf("A campaign with the id %s exists already; pick another id.", c.ID),
			Fields:  map[string]string{"id": "This id is taken."}}
	}
	return c, nil
}

// Update replaces the campaign c.ID's fields (its id and created time stay)
// and answers the stored campaign. Archived may be set and cleared here.
func (s *Campaigns) Update(ctx context.Context, c Campaign) (Campaign, error) {
	if _, err := s.Get(ctx, c.ID); err != nil {
		return Campaign{}, err
	}
	c, err := s.normalize(c)
	if err != nil {
		return Campaign{}, err
	}
	d := s.db.Dialect
	q, args, err := d.Builder().Update(s.table).
		Set("name", c.Name).Set("source", c.Source).Set("medium", c.Medium).
		Set("content", c.Content).Set("notes", c.Notes).Set("archived", boolInt(c.Archived)).
		Set("updated_at", d.EncodeTime(s.cfg.Now())).
		Where(sq.Eq{"id": c.ID}).ToSql()
	if err != nil {
		return Campaign{}, err
	}
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return Campaign{}, fmt.Errorf("pulse: updating campaign %s: %w", c.ID, err)
	}
	return s.Get(ctx, c.ID)
}

// Archive marks the campaign archived: hidden from the list by default,
// its links still attributing and its funnel kept. Archiving twice is fine.
func (s *Campaigns) Archive(ctx context.Context, id string) (Campaign, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.Archived {
		return c, nil
	}
	d := s.db.Dialect
	q, args, err := d.Builder().Update(s.table).Set("archived", 1).Set("updated_at", d.EncodeTime(s.cfg.Now())).
		Where(sq.Eq{"id": id}).ToSql()
	if err != nil {
		return Campaign{}, err
	}
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return Campaign{}, fmt.Errorf("pulse: archiving campaign %s: %w", id, err)
	}
	return s.Get(ctx, id)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// normalize trims the text fields and checks every rule, the links' length
// included, naming each broken field.
func (s *Campaigns) normalize(c Campaign) (Campaign, error) {
	fields := map[string]string{}
	c.ID = strings.TrimSpace(c.ID)
	c.Name = strings.TrimSpace(c.Name)
	c.Source = strings.TrimSpace(c.Source)
	c.Medium = strings.TrimSpace(c.Medium)
	c.Content = strings.TrimSpace(c.Content)
	c.Notes = strings.TrimSpace(c.Notes)
	if !validID(c.ID, CampaignIDMaxLen) {
		fields["id"] = fmt.Sprintf("Must be 1 to %d characters of A-Z, a-z, 0-9, '_' and '-'.", CampaignIDMaxLen)
	} else if c.ID == "funnel" {
		fields["id"] = "This id is reserved (the funnel's address); pick another."
	}
	if c.Name == "" {
		fields["name"] = "Required."
	}
	for _, f := range []struct {
		key, v    string
		max       int
		multiline bool
	}{
		{"name", c.Name, CampaignNameMaxLen, false},
		{"source", c.Source, StartParamLabelMax, false},
		{"medium", c.Medium, StartParamLabelMax, false},
		{"content", c.Content, CampaignContentMaxLen, false},
		{"notes", c.Notes, CampaignNotesMaxLen, true},
	} {
		if msg := checkText(f.v, f.max, f.multiline); msg != "" && fields[f.key] == "" {
			fields[f.key] = msg
		}
	}
	if len(fields) == 0 {
		if msg := s.checkLinkLength(c); msg != "" {
			fields["id"] = msg
			if c.Source != "" {
				fields["source"] = msg
			}
			if c.Medium != "" {
				fields["medium"] = msg
			}
		}
	}
	if len(fields) > 0 {
		return Campaign{}, tcerr.Fields("The campaign is invalid.", fields)
	}
	return c, nil
}

// checkLinkLength says why c's links would not fit Telegram's limits, ""
// when they fit. The MAC has a fixed length, so the answer holds for
// every secret.
func (s *Campaigns) checkLinkLength(c Campaign) string {
	sp, err := s.cfg.StartParams.Encode(c.StartParam())
	if errors.Is(err, ErrStartParamTooLong) {
		return fmt.Sprintf("The link would be longer than Telegram allows for startapp (%d characters); shorten the id, source or medium.", StartAppLinkMaxLen)
	}
	if err != nil {
		return err.Error()
	}
	if len(sp) > StartLinkMaxLen {
		return fmt.Sprintf("The bot link would carry %d characters; Telegram allows %d after start=. Shorten the id, source or medium.", len(sp), StartLinkMaxLen)
	}
	return ""
}

// checkText checks a free-text field: valid UTF-8, at most max characters,
// no control characters (line breaks allowed when multiline).
func checkText(v string, max int, multiline bool) string {
	if !utf8.ValidString(v) {
		return "Must be valid text."
	}
	if n := utf8.RuneCountInString(v); n > max {
		return fmt.Sprintf("Must be at most %d characters, got %d.", max, n)
	}
	for _, r := range v {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return "Must not hold control characters."
		}
	}
	return ""
}

// Links returns the campaign id's links, signed with the shop's secret.
func (s *Campaigns) Links(ctx context.Context, id string) (CampaignLinks, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return CampaignLinks{}, err
	}
	bot, err := s.cfg.Bot(ctx)
	if err != nil {
		return CampaignLinks{}, err
	}
	if bot.Username == "" {
		return CampaignLinks{}, ErrBotUsernameUnknown
	}
	return s.links(c, bot)
}

func (s *Campaigns) links(c Campaign, bot BotLink) (CampaignLinks, error) {
	sp, err := s.cfg.StartParams.Encode(c.StartParam())
	if err != nil {
		// Saved campaigns were checked; only a changed rule gets here.
		return CampaignLinks{}, &tcerr.Error{Kind: tcerr.Conflict, Code: "campaign_link_invalid",
			Message: "This campaign's link cannot be made: " + err.Error(), Err: err}
	}
	base := "https://t.me/" + url.PathEscape(bot.Username)
	app := base
	if bot.ShortName != "" {
		app += "/" + url.PathEscape(bot.ShortName)
	}
	return CampaignLinks{
		StartParam:  sp,
		StartAppURL: app + "?startapp=" + sp,
		StartURL:    base + "?start=" + sp,
	}, nil
}
