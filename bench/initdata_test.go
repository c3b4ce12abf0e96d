package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	tu "github.com/mymmrac/telego/telegoutil"

	"github.com/telecart-go/telecart/telegram"
)

// vector is the real 500-byte init data the library's own benchmark uses.
type vector struct {
	Name     string `json:"name"`
	BotToken string `json:"bot_token"`
	Raw      string `json:"raw"`
	Now      int64  `json:"now"`
}

func loadVector(tb testing.TB) vector {
	tb.Helper()
	b, err := os.ReadFile("../testdata/initdata/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct{ Vectors []vector }
	if err := json.Unmarshal(b, &doc); err != nil {
		tb.Fatal(err)
	}
	for _, v := range doc.Vectors {
		if v.Name == "tma_third_party_hmac" {
			return v
		}
	}
	tb.Fatal("vector tma_third_party_hmac not found")
	return vector{}
}

// BenchmarkInitData runs the three validators over the same vector, so their
// ratio comes from one run on one machine.
func BenchmarkInitData(b *testing.B) {
	vec := loadVector(b)
	b.Run("telecart", func(b *testing.B) {
		v, err := telegram.NewValidator(telegram.ValidatorConfig{
			BotToken: vec.BotToken,
			Now:      func() time.Time { return time.Unix(vec.Now, 0) },
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			d, err := v.Validate(vec.Raw)
			if err != nil || d.User == nil || d.User.ID == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("telego", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tu.ValidateWebAppData(vec.BotToken, vec.Raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib-minimal", func(b *testing.B) {
		secret := webAppSecret(vec.BotToken)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := minimalValidate(secret, vec.Raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// minimalValidate is the least a correct validator built on the standard
// library does: parse, sort, join, one HMAC with the secret derived once, and
// a constant-time compare. It checks neither auth_date nor the user object.
func minimalValidate(secret []byte, raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, err
	}
	want, err := hex.DecodeString(q.Get("hash"))
	if err != nil || len(want) != sha256.Size {
		return nil, errors.New("bad hash")
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "hash" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(q.Get(k))
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(b.String()))
	if !hmac.Equal(m.Sum(nil), want) {
		return nil, errors.New("hash mismatch")
	}
	return q, nil
}

func webAppSecret(token string) []byte {
	m := hmac.New(sha256.New, []byte("WebAppData"))
	m.Write([]byte(token))
	return m.Sum(nil)
}

// TestPeersAgree makes sure the peers accept the vector and refuse a
// tampered copy, so the benchmark compares validators that work.
func TestPeersAgree(t *testing.T) {
	vec := loadVector(t)
	tampered := strings.Replace(vec.Raw, "auth_date=", "auth_date=1", 1)
	if _, err := tu.ValidateWebAppData(vec.BotToken, vec.Raw); err != nil {
		t.Fatalf("telego refuses the vector: %v", err)
	}
	if _, err := tu.ValidateWebAppData(vec.BotToken, tampered); err == nil {
		t.Fatal("telego accepts a tampered vector")
	}
	secret := webAppSecret(vec.BotToken)
	if _, err := minimalValidate(secret, vec.Raw); err != nil {
		t.Fatalf("minimal validator refuses the vector: %v", err)
	}
	if _, err := minimalValidate(secret, tampered); err == nil {
		t.Fatal("minimal validator accepts a tampered vector")
	}
}
