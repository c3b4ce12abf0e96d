package pulse_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/pulse"
)

// specTimestamp and specSignature are the signature vector of
// spec/pulse-protocol.md: secret s3cret, body {"events":[]}.
const (
	specTimestamp = 1764100000
	specBody      = `{"events":[]}`
	specSignature = "v1=5885531f759853556fc7338bdcdeb8fe0ecead5df9fc0b34d0b8826c0c45821c"
)

// MustNewSigner returns a signer for secret whose clock reads now.
func MustNewSigner(tb testing.TB, secret string, now time.Time) *pulse.PayloadSigner {
	tb.Helper()
	s, err := pulse.NewPayloadSigner(pulse.SignerConfig{Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestNewPayloadSigner(t *testing.T) {
	t.Run("ErrMissingSecret", func(t *testing.T) {
		// Ensure a signer never exists with an empty key, and the error says
		// how to fix it.
		_, err := pulse.NewPayloadSigner(pulse.SignerConfig{})
		if !errors.Is(err, pulse.ErrMissingSecret) {
			t.Fatalf("err = %v, want ErrMissingSecret", err)
		}
		if !strings.Contains(err.Error(), "Secret") || !strings.Contains(err.Error(), "Pulse settings") {
			t.Errorf("unhelpful message %q", err)
		}
	})
	t.Run("ErrWindow", func(t *testing.T) {
		_, err := pulse.NewPayloadSigner(pulse.SignerConfig{Secret: "x", Window: -time.Second})
		if err == nil || !strings.Contains(err.Error(), "Window") {
			t.Fatalf("err = %v, want an error naming Window", err)
		}
	})
}

func TestPayloadSignerSign(t *testing.T) {
	s := MustNewSigner(t, "s3cret", time.Unix(specTimestamp, 0))
	// Ensure the spec's vector, byte for byte.
	if got := s.Sign(specTimestamp, []byte(specBody)); got != specSignature {
		t.Fatalf("Sign = %s, want %s", got, specSignature)
	}
	// Ensure the same result from crypto/hmac directly, for another input.
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write([]byte("42." + `{"a":1}`))
	if got, want := s.Sign(42, []byte(`{"a":1}`)), "v1="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestPayloadSignerVerify(t *testing.T) {
	now := time.Unix(specTimestamp, 0)
	ts := strconv.Itoa(specTimestamp)
	body := []byte(specBody)
	s := MustNewSigner(t, "s3cret", now)

	t.Run("OK", func(t *testing.T) {
		if err := s.Verify(ts, specSignature, body); err != nil {
			t.Fatal(err)
		}
		// Ensure hex case does not matter to the comparison.
		if err := s.Verify(ts, "v1="+strings.ToUpper(specSignature[3:]), body); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("OKAtWindowEdges", func(t *testing.T) {
		for _, d := range []time.Duration{-300 * time.Second, 300 * time.Second} {
			v := MustNewSigner(t, "s3cret", now.Add(d))
			if err := v.Verify(ts, specSignature, body); err != nil {
				t.Errorf("clock %+v: %v", d, err)
			}
		}
	})

	t.Run("ErrStaleTimestamp", func(t *testing.T) {
		for _, d := range []time.Duration{-301 * time.Second, 301 * time.Second, 24 * time.Hour} {
			v := MustNewSigner(t, "s3cret", now.Add(d))
			if err := v.Verify(ts, specSignature, body); !errors.Is(err, pulse.ErrStaleTimestamp) {
				t.Errorf("clock %+v: err = %v, want ErrStaleTimestamp", d, err)
			}
		}
		// Ensure Window is honoured.
		v, err := pulse.NewPayloadSigner(pulse.SignerConfig{Secret: "s3cret", Window: 10 * time.Second, Now: func() time.Time { return now.Add(11 * time.Second) }})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(ts, specSignature, body); !errors.Is(err, pulse.ErrStaleTimestamp) {
			t.Errorf("err = %v, want ErrStaleTimestamp", err)
		}
	})

	t.Run("ErrBadSignature", func(t *testing.T) {
		other := MustNewSigner(t, "other", now)
		cases := map[string][3]string{
			"OtherBody":      {ts, specSignature, `{"events":[{}]}`},
			"OtherTimestamp": {strconv.Itoa(specTimestamp + 1), specSignature, specBody},
			"OtherSecret":    {ts, other.Sign(specTimestamp, body), specBody},
			"FlippedDigit":   {ts, specSignature[:len(specSignature)-1] + "d", specBody},
		}
		for name, c := range cases {
			if err := s.Verify(c[0], c[1], []byte(c[2])); !errors.Is(err, pulse.ErrBadSignature) {
				t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
			}
		}
		// Ensure a forged request is reported as forged, not as stale.
		stale := MustNewSigner(t, "s3cret", now.Add(time.Hour))
		if err := stale.Verify(ts, specSignature, []byte("{}")); !errors.Is(err, pulse.ErrBadSignature) {
			t.Errorf("err = %v, want ErrBadSignature", err)
		}
	})

	t.Run("ErrMalformedSignature", func(t *testing.T) {
		cases := map[string][2]string{
			"NoTimestamp":     {"", specSignature},
			"SignedTimestamp": {"+" + ts, specSignature},
			"SpaceTimestamp":  {" " + ts, specSignature},
			"LeadingZero":     {"0" + ts, specSignature},
			"Fraction":        {ts + ".5", specSignature},
			"HugeTimestamp":   {"99999999999999999999", specSignature},
			"NoSignature":     {ts, ""},
			"NoPrefix":        {ts, specSignature[3:]},
			"OtherScheme":     {ts, "v2=" + specSignature[3:]},
			"Short":           {ts, specSignature[:len(specSignature)-2]},
			"Long":            {ts, specSignature + "00"},
			"NotHex":          {ts, specSignature[:len(specSignature)-1] + "g"},
		}
		for name, c := range cases {
			if err := s.Verify(c[0], c[1], body); !errors.Is(err, pulse.ErrMalformedSignature) {
				t.Errorf("%s: err = %v, want ErrMalformedSignature", name, err)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(specTimestamp, 0)
	s := MustNewSigner(f, "s3cret", now)
	f.Add(strconv.Itoa(specTimestamp), specSignature, []byte(specBody))
	f.Add("0", "v1=", []byte{})
	f.Add("1764100001", "v1=zz", []byte("{}"))
	f.Add("-1", specSignature, []byte(nil))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		err := s.Verify(ts, sig, body)
		if err == nil {
			// Ensure acceptance implies a canonical timestamp inside the
			// window and the exact signature.
			n, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || strconv.FormatInt(n, 10) != ts {
				t.Fatalf("accepted non-canonical timestamp %q", ts)
			}
			if d := n - now.Unix(); d > 300 || d < -300 {
				t.Fatalf("accepted stale timestamp %q", ts)
			}
			if !strings.EqualFold(sig, s.Sign(n, body)) {
				t.Fatalf("accepted signature %q for %q", sig, body)
			}
			return
		}
		if !errors.Is(err, pulse.ErrMalformedSignature) && !errors.Is(err, pulse.ErrBadSignature) && !errors.Is(err, pulse.ErrStaleTimestamp) {
			t.Fatalf("unexpected error %v", err)
		}
		// Ensure a well-formed, current, correctly signed request passes for
		// any body.
		if err := s.Verify(strconv.Itoa(specTimestamp), s.Sign(specTimestamp, body), body); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}
