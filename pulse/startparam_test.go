package pulse_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/pulse"
)

// startParamVectors is testdata/startparam/vectors.json.
type startParamVectors struct {
	Valid []struct {
		Name       string `json:"name"`
		Secret     string `json:"secret"`
		Param      struct{ C, T, S, M string }
		Canonical  string `json:"canonical"`
		StartParam string `json:"start_param"`
		DecodeOnly bool   `json:"decode_only"`
	} `json:"valid"`
	Invalid []struct {
		Name       string `json:"name"`
		Secret     string `json:"secret"`
		StartParam string `json:"start_param"`
		Error      string `json:"error"`
	} `json:"invalid"`
}

// MustLoadStartParamVectors reads the shared golden vectors.
func MustLoadStartParamVectors(tb testing.TB) startParamVectors {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "startparam", "vectors.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var v startParamVectors
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatal(err)
	}
	if len(v.Valid) == 0 || len(v.Invalid) == 0 {
		tb.Fatal("vectors.json holds no vectors")
	}
	return v
}

// handMAC is h by the spec: the first 6 bytes, lowercase hex, of
// HMAC-SHA256(secret, canonical), computed without the code under test.
func handMAC(secret, canonical string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(canonical))
	return hex.EncodeToString(m.Sum(nil))[:12]
}

func TestStartParamVectors(t *testing.T) {
	vectors := MustLoadStartParamVectors(t)

	for _, v := range vectors.Valid {
		t.Run("OK/"+v.Name, func(t *testing.T) {
			// Ensure the vector is self-consistent by the spec alone: the
			// start_param is the base64url of the canonical string, and h is
			// the MAC of the canonical string without h.
			if got := base64.RawURLEncoding.EncodeToString([]byte(v.Canonical)); got != v.StartParam {
				t.Fatalf("vector: base64url(canonical) = %s, want %s", got, v.StartParam)
			}
			if v.Secret != "" {
				var rest []string
				var h string
				for _, kv := range strings.Split(v.Canonical, "&") {
					if after, ok := strings.CutPrefix(kv, "h="); ok {
						h = after
					} else {
						rest = append(rest, kv)
					}
				}
				if want := handMAC(v.Secret, strings.Join(rest, "&")); h != want {
					t.Fatalf("vector: h = %s, want %s", h, want)
				}
			}

			s := pulse.NewStartParamSerializer(v.Secret)
			want := pulse.StartParam{CampaignID: v.Param.C, TrackingID: v.Param.T, Source: v.Param.S, Medium: v.Param.M}
			if !v.DecodeOnly {
				got, err := s.Encode(want)
				if err != nil {
					t.Fatal(err)
				}
				if got != v.StartParam {
					t.Fatalf("Encode = %s, want %s", got, v.StartParam)
				}
			}
			got, err := s.Decode(v.StartParam)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("Decode = %+v, want %+v", got, want)
			}
		})
	}

	sentinels := map[string]error{
		"format":   pulse.ErrStartParamFormat,
		"campaign": pulse.ErrStartParamCampaign,
		"value":    pulse.ErrStartParamValue,
		"too_long": pulse.ErrStartParamTooLong,
		"mac":      pulse.ErrStartParamMAC,
	}
	for _, v := range vectors.Invalid {
		t.Run("Err/"+v.Name, func(t *testing.T) {
			want, ok := sentinels[v.Error]
			if !ok {
				t.Fatalf("vector: unknown error %q", v.Error)
			}
			_, err := pulse.NewStartParamSerializer(v.Secret).Decode(v.StartParam)
			if !errors.Is(err, want) || !errors.Is(err, pulse.ErrInvalidStartParam) {
				t.Fatalf("err = %v, want %v", err, want)
			}
		})
	}
}

// TestStartParamByHand builds start_params literally from the spec (canonical
// string by hand, encoding/base64, crypto/hmac) and compares them with the
// serializer, so a bug shared by the code and vectors.json cannot hide.
func TestStartParamByHand(t *testing.T) {
	cases := []struct {
		name     string
		secret   string
		param    pulse.StartParam
		unsigned string // canonical without h
		signed   func(h string) string
	}{
		{
			name:     "SpecSigned",
			secret:   "s3cret",
			param:    pulse.StartParam{CampaignID: "spring24", Source: "tg"},
			unsigned: "c=spring24&s=tg",
			signed:   func(h string) string { return "c=spring24&h=" + h + "&s=tg" },
		},
		{
			name:     "TrackingAfterMAC",
			secret:   "another secret",
			param:    pulse.StartParam{CampaignID: "bf-2026", TrackingID: "u_123", Medium: "bot"},
			unsigned: "c=bf-2026&m=bot&t=u_123",
			signed:   func(h string) string { return "c=bf-2026&h=" + h + "&m=bot&t=u_123" },
		},
		{
			name:     "Escapes",
			secret:   "k",
			param:    pulse.StartParam{CampaignID: "x", Source: "a b+c/d", Medium: "100%"},
			unsigned: "c=x&m=100%25&s=a+b%2Bc%2Fd",
			signed:   func(h string) string { return "c=x&h=" + h + "&m=100%25&s=a+b%2Bc%2Fd" },
		},
		{
			name:     "Unsigned",
			param:    pulse.StartParam{CampaignID: "x", Source: "a b+c/d", Medium: "100%"},
			unsigned: "c=x&m=100%25&s=a+b%2Bc%2Fd",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			canonical := c.unsigned
			if c.secret != "" {
				canonical = c.signed(handMAC(c.secret, c.unsigned))
			}
			want := base64.RawURLEncoding.EncodeToString([]byte(canonical))
			s := pulse.NewStartParamSerializer(c.secret)
			got, err := s.Encode(c.param)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("Encode = %s, want %s (canonical %s)", got, want, canonical)
			}
			back, err := s.Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if back != c.param {
				t.Fatalf("Decode = %+v, want %+v", back, c.param)
			}
		})
	}
}

func TestStartParamSerializer(t *testing.T) {
	signed := pulse.NewStartParamSerializer("s3cret")
	plain := pulse.NewStartParamSerializer("")

	t.Run("OKTypicalLinkIsShort", func(t *testing.T) {
		// Ensure the spec's promise: c and s fit in 64 characters.
		sp, err := plain.Encode(pulse.StartParam{CampaignID: strings.Repeat("c", 20), Source: "telegram"})
		if err != nil {
			t.Fatal(err)
		}
		if len(sp) > 64 {
			t.Fatalf("len = %d, want <= 64", len(sp))
		}
	})

	t.Run("OKUnsignedIgnoresMAC", func(t *testing.T) {
		// Ensure a serializer without a secret reads signed links too.
		sp, err := signed.Encode(pulse.StartParam{CampaignID: "spring24"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := plain.Decode(sp)
		if err != nil || p.CampaignID != "spring24" {
			t.Fatalf("Decode = %+v, %v", p, err)
		}
	})

	t.Run("OKNonCanonicalSpelling", func(t *testing.T) {
		// Ensure unsorted keys and other escapes decode, and the MAC is over
		// the canonical form.
		raw := "s=t%20g&h=" + handMAC("s3cret", "c=spring24&s=t+g") + "&c=spring24"
		p, err := signed.Decode(base64.RawURLEncoding.EncodeToString([]byte(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if want := (pulse.StartParam{CampaignID: "spring24", Source: "t g"}); p != want {
			t.Fatalf("Decode = %+v, want %+v", p, want)
		}
	})

	t.Run("ErrEncode", func(t *testing.T) {
		cases := map[string]struct {
			p    pulse.StartParam
			want error
		}{
			"NoCampaign":     {pulse.StartParam{Source: "tg"}, pulse.ErrStartParamCampaign},
			"LongCampaign":   {pulse.StartParam{CampaignID: strings.Repeat("a", 33)}, pulse.ErrStartParamCampaign},
			"CampaignChars":  {pulse.StartParam{CampaignID: "a b"}, pulse.ErrStartParamCampaign},
			"LongTracking":   {pulse.StartParam{CampaignID: "a", TrackingID: strings.Repeat("a", 65)}, pulse.ErrStartParamValue},
			"TrackingChars":  {pulse.StartParam{CampaignID: "a", TrackingID: "a=b"}, pulse.ErrStartParamValue},
			"LongSource":     {pulse.StartParam{CampaignID: "a", Source: strings.Repeat("я", 33)}, pulse.ErrStartParamValue},
			"LongMedium":     {pulse.StartParam{CampaignID: "a", Medium: strings.Repeat("m", 33)}, pulse.ErrStartParamValue},
			"ControlChar":    {pulse.StartParam{CampaignID: "a", Medium: "a\x00"}, pulse.ErrStartParamValue},
			"InvalidUTF8":    {pulse.StartParam{CampaignID: "a", Source: "\xff"}, pulse.ErrStartParamValue},
			"EncodedTooLong": {pulse.StartParam{CampaignID: "a", Source: strings.Repeat("я", 32), Medium: strings.Repeat("я", 32)}, pulse.ErrStartParamTooLong},
		}
		for name, c := range cases {
			if _, err := signed.Encode(c.p); !errors.Is(err, c.want) || !errors.Is(err, pulse.ErrInvalidStartParam) {
				t.Errorf("%s: err = %v, want %v", name, err, c.want)
			}
		}
		// Ensure Source and Medium count characters, not bytes.
		if _, err := plain.Encode(pulse.StartParam{CampaignID: "a", Source: strings.Repeat("я", 32)}); err != nil {
			t.Errorf("32 Cyrillic characters: %v", err)
		}
	})

	t.Run("ErrDecodeLenientButTooLong", func(t *testing.T) {
		// Ensure raw UTF-8 that only fits unescaped is refused, so that
		// Encode(Decode(x)) cannot fail.
		raw := "c=a&m=" + strings.Repeat("я", 32) + "&s=" + strings.Repeat("я", 32)
		_, err := plain.Decode(base64.RawURLEncoding.EncodeToString([]byte(raw)))
		if !errors.Is(err, pulse.ErrStartParamTooLong) {
			t.Fatalf("err = %v, want ErrStartParamTooLong", err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, v := range MustLoadStartParamVectors(f).Valid {
		f.Add(v.StartParam)
	}
	for _, v := range MustLoadStartParamVectors(f).Invalid {
		f.Add(v.StartParam)
	}
	serializers := []*pulse.StartParamSerializer{pulse.NewStartParamSerializer(""), pulse.NewStartParamSerializer("s3cret")}
	f.Fuzz(func(t *testing.T, x string) {
		for _, s := range serializers {
			p, err := s.Decode(x)
			if err != nil {
				if !errors.Is(err, pulse.ErrInvalidStartParam) {
					t.Fatalf("Decode(%q): error %v does not wrap ErrInvalidStartParam", x, err)
				}
				continue
			}
			// Ensure what decodes encodes again, decodes to the same value,
			// and is stable from then on.
			y, err := s.Encode(p)
			if err != nil {
				t.Fatalf("Encode(Decode(%q) = %+v): %v", x, p, err)
			}
			q, err := s.Decode(y)
			if err != nil {
				t.Fatalf("Decode(Encode(%+v) = %q): %v", p, y, err)
			}
			if q != p {
				t.Fatalf("round trip %+v -> %q -> %+v", p, y, q)
			}
			if z, err := s.Encode(q); err != nil || z != y {
				t.Fatalf("unstable: %q then %q (%v)", y, z, err)
			}
		}
	})
}
