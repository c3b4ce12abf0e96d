package telegram

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MaxAgeDefault is how old init data may be before Validate rejects it with
// ErrExpired.
const MaxAgeDefault = 24 * time.Hour

// clockSkewMax is how far in the future auth_date may lie: the user's phone
// and this server do not share a clock.
const clockSkewMax = time.Minute

// Telegram's Ed25519 public keys for third-party validation, in hex, as
// Telegram's Mini Apps documentation publishes them ("Validating data for
// third-party use").
// Decode them with ParsePublicKey.
const (
	PublicKeyProduction = "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
	PublicKeyTest       = "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"
)

// ParsePublicKey decodes a hex Ed25519 public key such as PublicKeyProduction.
func ParsePublicKey(hexKey string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(hexKey)
	if err != nil {
		return nil, fmt.Errorf("telegram: public key is not hex: %w", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("telegram: public key has %d bytes, want %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

var productionKey = sync.OnceValue(func() ed25519.PublicKey {
	k, err := ParsePublicKey(PublicKeyProduction)
	if err != nil {
		panic(err) // a constant: only an edit of this file can break it
	}
	return k
})

// ValidatorConfig configures a Validator. Set BotToken to validate with the
// bot's token (HMAC-SHA-256), or PublicKey and BotID to validate Telegram's
// Ed25519 signature without the token (third-party use).
type ValidatorConfig struct {
	// BotToken is the token from @BotFather. When set, Validate checks the
	// hash with it. It can be replaced later with SetBotToken.
	BotToken string

	// PublicKey is Telegram's Ed25519 key (see PublicKeyProduction and
	// ParsePublicKey). Validate uses it when BotToken is empty.
	PublicKey ed25519.PublicKey

	// BotID is the numeric id of the bot, the part of its token before ':'.
	// Required with PublicKey.
	BotID int64

	// MaxAge is how old auth_date may be. Defaults to MaxAgeDefault (24h).
	MaxAge time.Duration

	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time

	// OnReject, when set, is called by Middleware for every request it
	// answers 401, with why (one of the RejectXxx labels), before it
	// answers, on the request's goroutine: it must return quickly.
	// Defaults to nil.
	OnReject func(r *http.Request, reason string)

	// SessionTTL is how long a session token (IssueSession) lets a page
	// whose init data has expired keep working. Defaults to
	// SessionTTLDefault (7 days).
	SessionTTL time.Duration
}

// Validator checks init data. It is safe for concurrent use, including
// SetBotToken while requests are being validated.
type Validator struct {
	publicKey  ed25519.PublicKey
	botID      int64
	maxAge     time.Duration
	now        func() time.Time
	onReject   func(r *http.Request, reason string)
	sessionTTL time.Duration

	// token holds the HMAC key derived from the bot token; nil when there is
	// no token.
	token atomic.Pointer[tokenKey]
}

// tokenKey is computed once per bot token, so that a validation costs one
// HMAC over the data-check-string and nothing more.
type tokenKey struct {
	secret  [sha256.Size]byte // HMAC-SHA-256 keyed "WebAppData" of the token
	scratch sync.Pool         // of *hmacScratch keyed with secret
}

// hmacScratch is what one validation needs to hash: a keyed HMAC whose Reset
// restores the precomputed key state, and buffers reused across calls, so a
// validation allocates nothing to hash.
type hmacScratch struct {
	mac hash.Hash
	dcs []byte // the data-check-string
	sum [sha256.Size]byte
}

func newTokenKey(botToken string) *tokenKey {
	k := &tokenKey{secret: *webAppSecret(botToken)}
	k.scratch.New = func() any {
		return &hmacScratch{mac: hmac.New(sha256.New, k.secret[:]), dcs: make([]byte, 0, 1024)}
	}
	return k
}

// maxPooledDCS keeps an odd huge init data from pinning its buffer.
const maxPooledDCS = 8 << 10

// verify says whether want is the HMAC of the data-check-string of ps,
// comparing in constant time.
func (k *tokenKey) verify(ps pairs, want *[sha256.Size]byte) bool {
	sc := k.scratch.Get().(*hmacScratch)
	sc.dcs = appendDataCheckString(sc.dcs[:0], "", ps, false)
	sc.mac.Reset()
	sc.mac.Write(sc.dcs)
	ok := hmac.Equal(want[:], sc.mac.Sum(sc.sum[:0]))
	if cap(sc.dcs) <= maxPooledDCS {
		k.scratch.Put(sc)
	}
	return ok
}

// NewValidator returns a Validator for cfg, or an error saying which field to
// fix.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	if cfg.BotToken == "" && cfg.PublicKey == nil {
		return nil, errors.New("telegram: BotToken and PublicKey are both empty; set ValidatorConfig.BotToken to the bot token from @BotFather, or PublicKey and BotID to validate without the token")
	}
	if cfg.PublicKey != nil {
		if len(cfg.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("telegram: PublicKey has %d bytes, want %d; decode Telegram's key with ParsePublicKey(PublicKeyProduction)", len(cfg.PublicKey), ed25519.PublicKeySize)
		}
		if cfg.BotID <= 0 {
			return nil, errors.New("telegram: BotID must be positive with PublicKey; set it to the part of the bot token before ':'")
		}
	}
	if cfg.MaxAge < 0 {
		return nil, fmt.Errorf("telegram: MaxAge must not be negative, got %s", cfg.MaxAge)
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = MaxAgeDefault
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL < 0 {
		return nil, fmt.Errorf("telegram: SessionTTL must not be negative, got %s", cfg.SessionTTL)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = SessionTTLDefault
	}
	v := &Validator{
		sessionTTL: cfg.SessionTTL,
		publicKey:  cfg.PublicKey,
		botID:      cfg.BotID,
		maxAge:     cfg.MaxAge,
		now:        cfg.Now,
		onReject:   cfg.OnReject,
	}
	if cfg.BotToken != "" {
		v.token.Store(newTokenKey(cfg.BotToken))
	}
	return v, nil
}

// SetBotToken replaces the bot token, for example after the shop settings
// changed it; validations already running finish with the old one. An empty
// token switches Validate to the public key, and is refused when there is
// none.
func (v *Validator) SetBotToken(token string) error {
	if token == "" {
		if v.publicKey == nil {
			return errors.New("telegram: SetBotToken: the token is empty and the Validator has no PublicKey")
		}
		v.token.Store(nil)
		return nil
	}
	v.token.Store(newTokenKey(token))
	return nil
}

func webAppSecret(botToken string) *[sha256.Size]byte {
	m := hmac.New(sha256.New, []byte("WebAppData"))
	m.Write([]byte(botToken))
	var s [sha256.Size]byte
	m.Sum(s[:0])
	return &s
}

// Validate parses raw init data and checks it: with the bot token when the
// Validator has one (the hash), else with the public key (the signature).
// Then auth_date must be at most MaxAge old and at most a minute in the
// future. Every rejection matches ErrInvalidInitData and one of the ErrXxx
// sentinels of this package.
func (v *Validator) Validate(raw string) (InitData, error) {
	d, err := v.validate(raw)
	if err != nil {
		return InitData{}, err
	}
	return d, nil
}

// validate is Validate, except that init data that is authentic but too old
// comes back decoded beside its ErrExpired: a session token may still let
// it in.
func (v *Validator) validate(raw string) (InitData, error) {
	key := v.token.Load()
	if key == nil {
		return v.ValidateThirdParty(raw, v.botID, v.publicKey)
	}
	var buf [16]pair
	ps, err := splitQuery(raw, buf[:])
	if err != nil {
		return InitData{}, err
	}
	got, err := decodeHash(ps)
	if err != nil {
		return InitData{}, err
	}
	// Compare bytes, not hex strings: hmac.Equal takes constant time, and
	// upper-case hex is the same hash.
	if !key.verify(ps, &got) {
		return InitData{}, invalid(ErrSignatureMismatch, "", nil)
	}
	return v.decodeFresh(raw, ps)
}

// ValidateThirdParty checks raw init data against Telegram's Ed25519
// signature for the bot botID, without the bot token. A nil key means the
// Validator's PublicKey, or Telegram's production key when it has none; a
// zero botID means the Validator's BotID. The hash must be present but is not
// checked: only the bot token could.
func (v *Validator) ValidateThirdParty(raw string, botID int64, key ed25519.PublicKey) (InitData, error) {
	if key == nil {
		key = v.publicKey
	}
	if key == nil {
		key = productionKey()
	}
	if len(key) != ed25519.PublicKeySize {
		return InitData{}, fmt.Errorf("telegram: ValidateThirdParty: key has %d bytes, want %d", len(key), ed25519.PublicKeySize)
	}
	if botID == 0 {
		botID = v.botID
	}
	if botID <= 0 {
		return InitData{}, errors.New("telegram: ValidateThirdParty: botID must be positive")
	}
	var buf [16]pair
	ps, err := splitQuery(raw, buf[:])
	if err != nil {
		return InitData{}, err
	}
	if _, err := decodeHash(ps); err != nil {
		return InitData{}, err
	}
	sig64, ok := ps.get("signature")
	if !ok || sig64 == "" {
		return InitData{}, invalid(ErrMissingSignature, "", nil)
	}
	sig, err := base64.RawURLEncoding.DecodeString(sig64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return InitData{}, invalid(ErrMalformedSignature, "", nil)
	}
	prefix := strconv.FormatInt(botID, 10) + ":WebAppData\n"
	if !ed25519.Verify(key, dataCheckString(prefix, ps, true), sig) {
		return InitData{}, invalid(ErrSignatureMismatch, "", nil)
	}
	d, err := v.decodeFresh(raw, ps)
	if err != nil {
		return InitData{}, err
	}
	return d, nil
}

// decodeHash returns the bytes of the hex hash field.
func decodeHash(ps pairs) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	h, ok := ps.get("hash")
	if !ok || h == "" {
		return sum, invalid(ErrMissingHash, "", nil)
	}
	if len(h) != 2*sha256.Size {
		return sum, invalid(ErrMalformedHash, "", nil)
	}
	for i := range sum {
		hi, ok1 := fromHex(h[2*i])
		lo, ok2 := fromHex(h[2*i+1])
		if !ok1 || !ok2 {
			return sum, invalid(ErrMalformedHash, "", nil)
		}
		sum[i] = hi<<4 | lo
	}
	return sum, nil
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// dataCheckString is prefix followed by every field but hash (and signature
// when skipSignature), already sorted by key, as key=value lines joined by
// '\n'. Values are the decoded bytes as received: re-encoding the JSON
// objects would change them (Telegram escapes '/' as "\/").
func dataCheckString(prefix string, ps pairs, skipSignature bool) []byte {
	n := len(prefix)
	for _, p := range ps {
		n += len(p.key) + 1 + len(p.value) + 1
	}
	return appendDataCheckString(make([]byte, 0, n), prefix, ps, skipSignature)
}

// appendDataCheckString appends the data-check-string to b.
func appendDataCheckString(b []byte, prefix string, ps pairs, skipSignature bool) []byte {
	b = append(b, prefix...)
	first := true
	for _, p := range ps {
		if p.key == "hash" || (skipSignature && p.key == "signature") {
			continue
		}
		if !first {
			b = append(b, '\n')
		}
		first = false
		b = append(b, p.key...)
		b = append(b, '=')
		b = append(b, p.value...)
	}
	return b
}

// decodeFresh decodes the authenticated pairs and checks auth_date.
func (v *Validator) decodeFresh(raw string, ps pairs) (InitData, error) {
	d, err := decode(raw, ps)
	if err != nil {
		return InitData{}, err
	}
	now := v.now()
	if skew := d.AuthDate.Sub(now); skew > clockSkewMax {
		return InitData{}, invalid(ErrFromFuture, fmt.Sprintf("auth_date is %s ahead of the server clock", skew.Round(time.Second)), nil)
	}
	if age := now.Sub(d.AuthDate); age > v.maxAge {
		return d, invalid(ErrExpired, fmt.Sprintf("auth_date is %s old, more than %s", age.Round(time.Second), v.maxAge), nil)
	}
	return d, nil
}
