package forms

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
)

// CacheTTL bounds how long a Store serves a form from memory. A Put through
// the same store invalidates the form at once; the TTL is for other
// processes sharing the database (replicas of the shop).
const CacheTTL = 30 * time.Second

// Errors returned by Store; check them with errors.Is.
var (
	// ErrFormNotFound means no form has the alias.
	ErrFormNotFound = errors.New("forms: form not found")
	// ErrInvalidAlias means an alias does not match [a-z0-9_-]{1,64}.
	ErrInvalidAlias = errors.New("forms: invalid alias")
	// ErrInvalidTitle means a form's title is empty, too long or not UTF-8.
	ErrInvalidTitle = errors.New("forms: invalid title")
	// ErrValidation is a submission that fails its form's rules: a
	// *tcerr.Error of kind Validation whose Fields hold a message per
	// field. errors.Is matches every such error.
	ErrValidation = &tcerr.Error{Kind: tcerr.Validation, Code: "validation_failed", Message: "the form's rules fail"}
)

var aliasPattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// ValidateAlias returns nil when alias may name a form (1 to 64 of a-z, 0-9,
// "_" and "-"), and an error wrapping ErrInvalidAlias otherwise.
func ValidateAlias(alias string) error {
	if aliasPattern.MatchString(alias) {
		return nil
	}
	shown := alias
	if len(shown) > 64 {
		shown = shown[:64] + "…"
	}
	return fmt.Errorf("%w %q: an alias is 1 to 64 characters of a-z, 0-9, _ and -", ErrInvalidAlias, shown)
}

// titleProblem returns why title (already trimmed) cannot be stored, as a
// message for the admin panel, or "".
func titleProblem(title string) string {
	switch {
	case title == "":
		return "Title is required."
	case !utf8.ValidString(title):
		return "Title is not valid UTF-8."
	case utf8.RuneCountInString(title) > MaxLabelLength:
		return fmt.Sprintf("Title is %d characters long; at most %d are allowed.", utf8.RuneCountInString(title), MaxLabelLength)
	}
	return ""
}

// titleError is ErrInvalidTitle with the message for the admin panel.
type titleError struct{ msg string }

func (e *titleError) Error() string        { return ErrInvalidTitle.Error() + ": " + e.msg }
func (e *titleError) Is(target error) bool { return target == ErrInvalidTitle }

// Store reads and writes forms in the forms table (created by
// MigrationSource). Forms are read on every checkout, so Get serves them
// from memory until a Put of the same alias through this store, or CacheTTL
// passes. It is safe for concurrent use.
type Store struct {
	db       migrator.DB
	now      func() time.Time
	location func(context.Context) (*time.Location, error)

	mu    sync.RWMutex
	cache map[string]cachedForm // only forms that exist: a miss is never cached
	gen   uint64                // bumped by every Put, so a load that raced one is not cached
}

type cachedForm struct {
	form Form
	at   time.Time
}

// StoreConfig configures a Store.
type StoreConfig struct {
	// Now is the clock for created_at, updated_at and the cache. Defaults
	// to time.Now.
	Now func() time.Time
	// Location answers the shop's time zone, in which the date rules of a
	// submission read "today"; it is asked on every ValidateSubmission and
	// storefront read, so a changed setting applies at once. Defaults to
	// UTC.
	Location func(context.Context) (*time.Location, error)
}

// NewStore returns a store over db's forms table (created by
// MigrationSource), or an error saying what to fix in db.
func NewStore(db migrator.DB, cfg StoreConfig) (*Store, error) {
	if db.DB == nil {
		return nil, errors.New("forms: NewStore: db.DB is nil; pass the opened database")
	}
	if err := db.Dialect.Validate(); err != nil {
		return nil, fmt.Errorf("forms: NewStore: %w", err)
	}
	if err := migrator.ValidatePrefix(db.Prefix); err != nil {
		return nil, fmt.Errorf("forms: NewStore: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = func(context.Context) (*time.Location, error) { return time.UTC, nil }
	}
	return &Store{db: db, now: cfg.Now, location: cfg.Location, cache: make(map[string]cachedForm)}, nil
}

// Get returns the form named alias, or an error wrapping ErrFormNotFound
// (ErrInvalidAlias for an alias no form can have). The form is the
// caller's: changing it does not change the store's copy.
func (s *Store) Get(ctx context.Context, alias string) (Form, error) {
	if err := ValidateAlias(alias); err != nil {
		return Form{}, err
	}
	if f, ok := s.fromCache(alias); ok {
		return f, nil
	}
	s.mu.RLock()
	gen := s.gen
	s.mu.RUnlock()
	f, err := s.load(ctx, alias)
	if err != nil {
		return Form{}, err
	}
	s.mu.Lock()
	if s.gen == gen {
		s.cache[alias] = cachedForm{form: cloneForm(f), at: s.now()}
	}
	s.mu.Unlock()
	return f, nil
}

func (s *Store) fromCache(alias string) (Form, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.cache[alias]
	if !ok {
		return Form{}, false
	}
	if age := s.now().Sub(c.at); age < 0 || age >= CacheTTL {
		return Form{}, false
	}
	return cloneForm(c.form), true
}

func (s *Store) load(ctx context.Context, alias string) (Form, error) {
	q, args, err := s.db.Dialect.Builder().
		Select("title", "`schema`").
		From(s.db.Table("forms")).
		Where("alias = ?", alias).
		ToSql()
	if err != nil {
		return Form{}, fmt.Errorf("forms: building form query: %w", err)
	}
	var title, raw string
	err = s.db.QueryRowContext(ctx, q, args...).Scan(&title, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return Form{}, fmt.Errorf("%w: %q", ErrFormNotFound, alias)
	}
	if err != nil {
		return Form{}, fmt.Errorf("forms: reading form %q: %w", alias, err)
	}
	// Plain decoding, not DecodeSchema: a stored form is served even if a
	// later version's rules would reject it, so an upgrade cannot take the
	// checkout down; Validate copes with any schema.
	var nodes []Node
	if err := json.Unmarshal([]byte(raw), &nodes); err != nil {
		return Form{}, fmt.Errorf("forms: form %q holds an invalid schema: %w", alias, err)
	}
	if nodes == nil {
		nodes = []Node{}
	}
	return Form{Alias: alias, Title: title, Schema: nodes}, nil
}

// Put validates f and creates or replaces the form with its alias. The
// title is trimmed and must be 1 to MaxLabelLength characters; the schema
// must pass ValidateSchema. Errors: one wrapping ErrInvalidAlias, one
// wrapping ErrInvalidTitle, the *SchemaError, or (when both the title and
// the schema are bad) errors.Join of the last two. It returns the form as
// stored.
func (s *Store) Put(ctx context.Context, f Form) (Form, error) {
	if err := ValidateAlias(f.Alias); err != nil {
		return Form{}, err
	}
	f = cloneForm(f)
	f.Title = strings.TrimSpace(f.Title)
	var errs []error
	if msg := titleProblem(f.Title); msg != "" {
		errs = append(errs, &titleError{msg: msg})
	}
	if err := ValidateSchema(f.Schema); err != nil {
		errs = append(errs, err)
	}
	switch len(errs) {
	case 0:
	case 1:
		return Form{}, errs[0]
	default:
		return Form{}, errors.Join(errs...)
	}

	raw, err := json.Marshal(f.Schema)
	if err != nil {
		return Form{}, fmt.Errorf("forms: encoding schema of %q: %w", f.Alias, err)
	}
	now := s.db.Dialect.EncodeTime(s.now())
	ins := s.db.Dialect.Builder().
		Insert(s.db.Table("forms")).
		Columns("alias", "title", "`schema`", "created_at", "updated_at").
		Values(f.Alias, f.Title, string(raw), now, now)
	q, args, err := s.db.Dialect.Upsert(ins, []string{"alias"}, []string{"title", "`schema`", "updated_at"}).ToSql()
	if err != nil {
		return Form{}, fmt.Errorf("forms: building form upsert: %w", err)
	}
	_, err = s.db.ExecContext(ctx, q, args...)
	// Invalidate even after an error: the write may have committed anyway.
	s.mu.Lock()
	s.gen++
	delete(s.cache, f.Alias)
	s.mu.Unlock()
	if err != nil {
		return Form{}, fmt.Errorf("forms: saving form %q: %w", f.Alias, err)
	}
	return f, nil
}

// Location answers the shop's time zone from StoreConfig.Location.
func (s *Store) Location(ctx context.Context) (*time.Location, error) {
	loc, err := s.location(ctx)
	if err != nil {
		return nil, fmt.Errorf("forms: reading the shop's time zone: %w", err)
	}
	if loc == nil {
		return time.UTC, nil
	}
	return loc, nil
}

// ValidateSubmission checks values, a submission of the form named alias
// (the order flow passes CheckoutAlias and the order's fields), with a
// Validator on the store's clock and the shop's time zone. It returns the clean values, or an error matching ErrValidation
// (a *tcerr.Error with a message per field in Fields) when the form's rules
// fail. An unknown form is an error wrapping ErrFormNotFound: a
// server-side problem, not the customer's.
func (s *Store) ValidateSubmission(ctx context.Context, alias string, values map[string]any) (clean map[string]any, err error) {
	f, err := s.Get(ctx, alias)
	if err != nil {
		return nil, err
	}
	loc, err := s.Location(ctx)
	if err != nil {
		return nil, err
	}
	clean, fieldErrors := NewValidator(ValidatorConfig{Now: s.now, Location: loc}).Validate(f.Schema, values)
	if fieldErrors != nil {
		return nil, tcerr.Fields("Some fields are filled in incorrectly.", fieldErrors)
	}
	return clean, nil
}

// cloneForm returns a deep copy of f, so that callers never share slices
// with the cache. A nil schema becomes empty, so it encodes as [].
func cloneForm(f Form) Form {
	nodes := make([]Node, len(f.Schema))
	for i, n := range f.Schema {
		n.Options = append([]Option(nil), n.Options...)
		n.Labels, n.Placeholders, n.Helps = maps.Clone(n.Labels), maps.Clone(n.Placeholders), maps.Clone(n.Helps)
		if n.OptionLabels != nil {
			ol := make(map[string]map[string]string, len(n.OptionLabels))
			for lang, m := range n.OptionLabels {
				ol[lang] = maps.Clone(m)
			}
			n.OptionLabels = ol
		}
		nodes[i] = n
	}
	f.Schema = nodes
	return f
}
