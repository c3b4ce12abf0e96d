package pulse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureWindowDefault is how far X-Pulse-Timestamp may be from the
// verifier's clock, either way, before Verify calls it stale.
const SignatureWindowDefault = 300 * time.Second

// signaturePrefix names the signing scheme, so a future scheme can be
// announced without breaking verifiers of this one.
const signaturePrefix = "v1="

var (
	// ErrMissingSecret is returned when a signer is built without a secret:
	// signing with an empty key would look authentic to anyone.
	ErrMissingSecret = errors.New("pulse: Secret is empty; set Secret to the shared secret from the Pulse settings")

	// ErrMalformedSignature is returned by Verify for a missing or
	// malformed X-Pulse-Timestamp or X-Pulse-Signature header.
	ErrMalformedSignature = errors.New("pulse: malformed signature headers")

	// ErrBadSignature is returned by Verify when the signature does not
	// match the body and timestamp.
	ErrBadSignature = errors.New("pulse: signature does not match")

	// ErrStaleTimestamp is returned by Verify for a correctly signed request
	// whose timestamp is further than the window from the verifier's clock.
	ErrStaleTimestamp = errors.New("pulse: timestamp outside the allowed window")
)

// SignerConfig configures a PayloadSigner.
type SignerConfig struct {
	// Secret is the shared secret from the Pulse settings. Required.
	Secret string

	// Window is how far a timestamp may be from Now, either way, for
	// Verify to accept it. Whole seconds count; a fraction is dropped.
	// Defaults to SignatureWindowDefault.
	Window time.Duration

	// Now is the verifier's clock. Defaults to time.Now.
	Now func() time.Time
}

func (c SignerConfig) withDefaults() SignerConfig {
	if c.Window == 0 {
		c.Window = SignatureWindowDefault
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c SignerConfig) validate() error {
	if c.Secret == "" {
		return ErrMissingSecret
	}
	if c.Window < time.Second {
		return fmt.Errorf("pulse: Window must be at least 1s, got %s", c.Window)
	}
	return nil
}

// PayloadSigner signs and verifies Pulse request bodies: X-Pulse-Signature is
// "v1=" + lowercase hex HMAC-SHA256(secret, timestamp + "." + body). It is
// safe for concurrent use.
type PayloadSigner struct {
	secret []byte
	window int64 // seconds
	now    func() time.Time
}

// NewPayloadSigner returns a signer for cfg, or ErrMissingSecret when
// cfg.Secret is empty.
func NewPayloadSigner(cfg SignerConfig) (*PayloadSigner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &PayloadSigner{
		secret: []byte(cfg.Secret),
		window: int64(cfg.Window / time.Second),
		now:    cfg.Now,
	}, nil
}

// Sign returns the X-Pulse-Signature value for body sent with
// X-Pulse-Timestamp set to timestamp (unix seconds).
func (s *PayloadSigner) Sign(timestamp int64, body []byte) string {
	return signaturePrefix + hex.EncodeToString(s.mac(timestamp, body))
}

func (s *PayloadSigner) mac(timestamp int64, body []byte) []byte {
	m := hmac.New(sha256.New, s.secret)
	var buf [20]byte
	m.Write(strconv.AppendInt(buf[:0], timestamp, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks the X-Pulse-Timestamp and X-Pulse-Signature header values
// against body. It returns ErrMalformedSignature for unparsable headers,
// ErrBadSignature for a mismatch (compared in constant time), and
// ErrStaleTimestamp for an authentic request dated too far from the
// signer's clock. The staleness check comes last so that it never tells an
// unauthenticated caller anything about the clock.
func (s *PayloadSigner) Verify(timestampHeader, signatureHeader string, body []byte) error {
	ts, ok := parseTimestamp(timestampHeader)
	if !ok {
		return fmt.Errorf("%w: %s must be unix seconds in decimal", ErrMalformedSignature, HeaderTimestamp)
	}
	hexSig, ok := strings.CutPrefix(signatureHeader, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: %s must start with %q", ErrMalformedSignature, HeaderSignature, signaturePrefix)
	}
	if len(hexSig) != 2*sha256.Size {
		return fmt.Errorf("%w: %s must hold %d hex digits", ErrMalformedSignature, HeaderSignature, 2*sha256.Size)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: %s must hold %d hex digits", ErrMalformedSignature, HeaderSignature, 2*sha256.Size)
	}
	if !hmac.Equal(got, s.mac(ts, body)) {
		return ErrBadSignature
	}
	now := s.now().Unix()
	skew := now - ts // ts < 1e18, so this cannot overflow for any real clock
	if skew < 0 {
		skew = -skew
	}
	if skew > s.window {
		return fmt.Errorf("%w: %s is %ds from the receiver's clock, more than %ds", ErrStaleTimestamp, HeaderTimestamp, skew, s.window)
	}
	return nil
}

// parseTimestamp accepts only ASCII digits (no sign, space or exponent), so
// that one timestamp has one spelling and one signature.
func parseTimestamp(v string) (int64, bool) {
	if v == "" || len(v) > 18 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	if len(v) > 1 && v[0] == '0' {
		return 0, false
	}
	ts, err := strconv.ParseInt(v, 10, 64)
	return ts, err == nil
}
