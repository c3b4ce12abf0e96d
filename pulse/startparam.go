package pulse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Limits of a start_param (docs/pulse-protocol.md, "start_param").
const (
	StartParamMaxLen   = 512 // characters of the encoded value; Telegram's own limit
	CampaignIDMaxLen   = 32
	TrackingIDMaxLen   = 64
	StartParamLabelMax = 32 // characters of Source and of Medium
)

// startParamMACBytes is how much of the HMAC goes into h: 48 bits keep links
// short and still make guessing a valid h for a forged campaign impractical.
const startParamMACBytes = 6

var (
	// ErrInvalidStartParam is the error every start_param failure wraps.
	ErrInvalidStartParam = errors.New("pulse: invalid start_param")

	// ErrStartParamFormat: not base64url without padding, or its content is
	// not a URL query string.
	ErrStartParamFormat = fmt.Errorf("%w: not base64url of a query string", ErrInvalidStartParam)

	// ErrStartParamTooLong: the encoded value is longer than StartParamMaxLen.
	ErrStartParamTooLong = fmt.Errorf("%w: longer than %d characters", ErrInvalidStartParam, StartParamMaxLen)

	// ErrStartParamCampaign: c (the campaign_id) is missing or malformed.
	ErrStartParamCampaign = fmt.Errorf("%w: missing or malformed campaign_id (c)", ErrInvalidStartParam)

	// ErrStartParamValue: t, s or m breaks its rule.
	ErrStartParamValue = fmt.Errorf("%w: malformed value", ErrInvalidStartParam)

	// ErrStartParamMAC: the serializer has a secret and h is missing or wrong.
	ErrStartParamMAC = fmt.Errorf("%w: missing or wrong MAC (h)", ErrInvalidStartParam)
)

// StartParam is the campaign attribution carried by a Mini App link
// (startapp={start_param}).
type StartParam struct {
	CampaignID string // c: required, [A-Za-z0-9_-]{1,32}
	TrackingID string // t: optional, [A-Za-z0-9_-]{1,64}
	Source     string // s: optional, up to 32 characters
	Medium     string // m: optional, up to 32 characters
}

// StartParamSerializer encodes and decodes start_param values. With a secret
// it writes a MAC (h) and requires a correct one; without, it writes none and
// ignores any it reads. It is safe for concurrent use.
type StartParamSerializer struct {
	secret atomic.Pointer[[]byte] // nil: unsigned
}

// NewStartParamSerializer returns a serializer. An empty secret is allowed:
// links are then unsigned, and anyone can mint one for any campaign.
func NewStartParamSerializer(secret string) *StartParamSerializer {
	s := &StartParamSerializer{}
	s.SetSecret(secret)
	return s
}

// SetSecret replaces the secret, at once for every caller: a shop loads its
// kept secret after the serializer is made. An empty secret makes links
// unsigned.
func (s *StartParamSerializer) SetSecret(secret string) {
	if secret == "" {
		s.secret.Store(nil)
		return
	}
	b := []byte(secret)
	s.secret.Store(&b)
}

// key returns the secret, nil when there is none.
func (s *StartParamSerializer) key() []byte {
	if p := s.secret.Load(); p != nil {
		return *p
	}
	return nil
}

// Encode returns the start_param for p: base64url without padding of the
// canonical query string (url.Values.Encode, keys sorted), with h added when
// the serializer has a secret. Empty optional fields are left out.
func (s *StartParamSerializer) Encode(p StartParam) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	canonical := s.canonical(p.values())
	out := base64.RawURLEncoding.EncodeToString([]byte(canonical))
	if len(out) > StartParamMaxLen {
		return "", fmt.Errorf("%w: encodes to %d", ErrStartParamTooLong, len(out))
	}
	return out, nil
}

// Decode parses a start_param. It rejects invalid base64, a missing or
// malformed c, values breaking their rules, and — when the serializer has a
// secret — a missing or wrong h. Unknown keys are ignored but covered by h.
// Every error wraps ErrInvalidStartParam; Decode never panics.
//
// Decode accepts non-canonical spellings (unsorted keys, other escapes), but
// only values that Encode could have produced, so Encode(Decode(x)) always
// succeeds.
func (s *StartParamSerializer) Decode(v string) (StartParam, error) {
	if len(v) > StartParamMaxLen {
		return StartParam{}, fmt.Errorf("%w: got %d", ErrStartParamTooLong, len(v))
	}
	if v == "" || !isIDChars(v) {
		return StartParam{}, fmt.Errorf("%w: must match ^[A-Za-z0-9_-]{1,%d}$", ErrStartParamFormat, StartParamMaxLen)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil {
		return StartParam{}, fmt.Errorf("%w: %v", ErrStartParamFormat, err)
	}
	vals, err := url.ParseQuery(string(raw))
	if err != nil {
		return StartParam{}, fmt.Errorf("%w: %v", ErrStartParamFormat, err)
	}
	for _, k := range [...]string{"c", "t", "s", "m", "h"} {
		if len(vals[k]) > 1 {
			return StartParam{}, fmt.Errorf("%w: key %q appears more than once", ErrStartParamFormat, k)
		}
	}
	if key := s.key(); key != nil {
		// Check authenticity before meaning: a forged value learns nothing
		// about which of its fields would have passed.
		h := vals.Get("h")
		vals.Del("h")
		want := startParamMAC(key, vals.Encode())
		if !hmac.Equal([]byte(h), []byte(want)) {
			return StartParam{}, ErrStartParamMAC
		}
	}
	p := StartParam{
		CampaignID: vals.Get("c"),
		TrackingID: vals.Get("t"),
		Source:     vals.Get("s"),
		Medium:     vals.Get("m"),
	}
	if err := p.validate(); err != nil {
		return StartParam{}, err
	}
	// A lenient spelling (raw UTF-8 instead of %XX) can be shorter than the
	// canonical one; refuse what would not fit when encoded again.
	if n := base64.RawURLEncoding.EncodedLen(s.canonicalLen(p.values())); n > StartParamMaxLen {
		return StartParam{}, fmt.Errorf("%w: encodes to %d", ErrStartParamTooLong, n)
	}
	return p, nil
}

// values returns the non-empty fields of p under their wire keys.
func (p StartParam) values() url.Values {
	v := url.Values{"c": {p.CampaignID}}
	if p.TrackingID != "" {
		v.Set("t", p.TrackingID)
	}
	if p.Source != "" {
		v.Set("s", p.Source)
	}
	if p.Medium != "" {
		v.Set("m", p.Medium)
	}
	return v
}

func (p StartParam) validate() error {
	if p.CampaignID == "" || len(p.CampaignID) > CampaignIDMaxLen || !isIDChars(p.CampaignID) {
		return fmt.Errorf("%w: must match [A-Za-z0-9_-]{1,%d}", ErrStartParamCampaign, CampaignIDMaxLen)
	}
	if len(p.TrackingID) > TrackingIDMaxLen || !isIDChars(p.TrackingID) {
		return fmt.Errorf("%w: tracking_id (t) must match [A-Za-z0-9_-]{1,%d}", ErrStartParamValue, TrackingIDMaxLen)
	}
	if err := validateLabel("source (s)", p.Source); err != nil {
		return err
	}
	return validateLabel("medium (m)", p.Medium)
}

// validateLabel checks a free-text field: valid UTF-8 without control
// characters (they end up in logs and the admin UI), at most
// StartParamLabelMax characters.
func validateLabel(name, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrStartParamValue, name)
	}
	n := 0
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s holds a control character", ErrStartParamValue, name)
		}
		n++
	}
	if n > StartParamLabelMax {
		return fmt.Errorf("%w: %s is %d characters, at most %d", ErrStartParamValue, name, n, StartParamLabelMax)
	}
	return nil
}

// canonical returns the query string of v, plus h when there is a secret.
// h is computed over the canonical string without h, then added, and the
// result sorted again (url.Values.Encode sorts keys).
func (s *StartParamSerializer) canonical(v url.Values) string {
	key := s.key()
	if key == nil {
		return v.Encode()
	}
	v.Set("h", startParamMAC(key, v.Encode()))
	return v.Encode()
}

// canonicalLen is len(s.canonical(v)) without computing the MAC.
func (s *StartParamSerializer) canonicalLen(v url.Values) int {
	n := len(v.Encode())
	if s.key() != nil {
		n += len("&h=") + 2*startParamMACBytes
	}
	return n
}

func startParamMAC(key []byte, canonical string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(canonical))
	return hex.EncodeToString(m.Sum(nil)[:startParamMACBytes])
}

// isIDChars reports whether v holds only [A-Za-z0-9_-] (true for "").
func isIDChars(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
