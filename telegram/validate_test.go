package telegram_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telegram"
)

// testToken is a made-up bot token for init data signed in these tests.
const testToken = "1234567890:TeleCart-test-token_NOT-A-REAL-BOT"

// testNow is the fixed clock of these tests: 2025-01-01T00:00:00Z.
var testNow = time.Unix(1735689600, 0).UTC()

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// MustNewValidator returns a token Validator whose clock reads now.
func MustNewValidator(tb testing.TB, token string, now time.Time) *telegram.Validator {
	tb.Helper()
	v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: token, Now: fixedClock(now)})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// testParams is typical init data of a private chat launch.
func testParams() telegram.SignParams {
	return telegram.SignParams{
		QueryID:      "AAHdF6IQAAAAAN0XohDhrOrc",
		User:         &telegram.User{ID: 279058397, FirstName: "Vladislav", LastName: "Kibenko", Username: "vdkfrost", LanguageCode: "ru", IsPremium: true, AllowsWriteToPM: true},
		ChatType:     "private",
		ChatInstance: "8134722200314281151",
		StartParam:   "campaign_7",
	}
}

// testKey is a deterministic Ed25519 key standing in for Telegram's.
func testKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte("telecart-test-seed-32-bytes-long"))
}

type vector struct {
	Name            string `json:"name"`
	Source          string `json:"source"`
	Mode            string `json:"mode"`
	Raw             string `json:"raw"`
	BotToken        string `json:"bot_token"`
	BotID           int64  `json:"bot_id"`
	PublicKey       string `json:"public_key"`
	Now             int64  `json:"now"`
	WantError       string `json:"want_error"`
	UserID          int64  `json:"user_id"`
	UserFirstName   string `json:"user_first_name"`
	DataCheckString string `json:"data_check_string"`
}

var sentinels = map[string]error{
	"ErrMalformedQuery":     telegram.ErrMalformedQuery,
	"ErrDuplicateKey":       telegram.ErrDuplicateKey,
	"ErrMissingHash":        telegram.ErrMissingHash,
	"ErrMalformedHash":      telegram.ErrMalformedHash,
	"ErrMissingSignature":   telegram.ErrMissingSignature,
	"ErrMalformedSignature": telegram.ErrMalformedSignature,
	"ErrSignatureMismatch":  telegram.ErrSignatureMismatch,
	"ErrMissingAuthDate":    telegram.ErrMissingAuthDate,
	"ErrMalformedAuthDate":  telegram.ErrMalformedAuthDate,
	"ErrExpired":            telegram.ErrExpired,
	"ErrFromFuture":         telegram.ErrFromFuture,
	"ErrMalformedField":     telegram.ErrMalformedField,
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	b, err := os.ReadFile("../testdata/initdata/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct{ Vectors []vector }
	if err := json.Unmarshal(b, &doc); err != nil {
		tb.Fatal(err)
	}
	if len(doc.Vectors) == 0 {
		tb.Fatal("no vectors")
	}
	return doc.Vectors
}

// Ensure the published examples (real Telegram signatures) and our own
// independently computed vectors validate, or fail with the expected rule.
func TestVectors(t *testing.T) {
	for _, vec := range loadVectors(t) {
		t.Run(vec.Name, func(t *testing.T) {
			now := fixedClock(time.Unix(vec.Now, 0))
			var d telegram.InitData
			var err error
			switch vec.Mode {
			case "hmac":
				v, nerr := telegram.NewValidator(telegram.ValidatorConfig{BotToken: vec.BotToken, Now: now})
				if nerr != nil {
					t.Fatal(nerr)
				}
				d, err = v.Validate(vec.Raw)
			case "third_party":
				hexKey := map[string]string{"production": telegram.PublicKeyProduction, "test": telegram.PublicKeyTest}[vec.PublicKey]
				key, kerr := telegram.ParsePublicKey(hexKey)
				if kerr != nil {
					t.Fatal(kerr)
				}
				v, nerr := telegram.NewValidator(telegram.ValidatorConfig{PublicKey: key, BotID: vec.BotID, Now: now})
				if nerr != nil {
					t.Fatal(nerr)
				}
				d, err = v.Validate(vec.Raw)
			default:
				t.Fatalf("unknown mode %q", vec.Mode)
			}
			if vec.WantError != "" {
				want, ok := sentinels[vec.WantError]
				if !ok {
					t.Fatalf("unknown sentinel %q", vec.WantError)
				}
				if !errors.Is(err, want) || !errors.Is(err, telegram.ErrInvalidInitData) {
					t.Fatalf("err = %v, want %s", err, vec.WantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if d.User == nil || d.User.ID != vec.UserID || d.User.FirstName != vec.UserFirstName {
				t.Fatalf("user = %+v, want id %d named %q", d.User, vec.UserID, vec.UserFirstName)
			}
			if d.Raw != vec.Raw || !d.AuthDate.Equal(d.AuthDate.UTC()) || d.AuthDate.Location() != time.UTC {
				t.Fatalf("Raw or AuthDate wrong: %q %v", d.Raw, d.AuthDate)
			}
		})
	}
}

// Ensure the data-check-strings written by hand in the vectors are what
// Telegram signed: re-sign the fields with the known token and compare.
func TestVectorsDataCheckString(t *testing.T) {
	for _, vec := range loadVectors(t) {
		if vec.DataCheckString == "" || vec.Mode != "hmac" {
			continue
		}
		t.Run(vec.Name, func(t *testing.T) {
			q, err := url.ParseQuery(vec.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := hmacHex(vec.BotToken, vec.DataCheckString), q.Get("hash"); !strings.EqualFold(got, want) {
				t.Fatalf("hash of hand-written data-check-string = %s, vector has %s", got, want)
			}
		})
	}
}

// Ensure each rule is reported with its own sentinel, and all of them with
// ErrInvalidInitData.
func TestValidateRejects(t *testing.T) {
	v := MustNewValidator(t, testToken, testNow)
	good := testParams().Values(testNow)
	sign := func(edit func(url.Values)) string {
		vals := url.Values{}
		for k, vs := range good {
			vals[k] = append([]string(nil), vs...)
		}
		edit(vals)
		return telegram.Sign(vals, testToken)
	}
	valid := telegram.Sign(good, testToken)
	hash := mustQuery(t, valid).Get("hash")
	noHash := strings.Replace(valid, "hash="+hash, "", 1)

	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"ErrMissingHash", noHash, telegram.ErrMissingHash},
		{"ErrMissingHash/Empty", noHash + "&hash=", telegram.ErrMissingHash},
		{"ErrMissingHash/EmptyInput", "", telegram.ErrMissingHash},
		{"ErrMalformedHash/Short", noHash + "&hash=" + hash[:63], telegram.ErrMalformedHash},
		{"ErrMalformedHash/Long", noHash + "&hash=" + hash + "0", telegram.ErrMalformedHash},
		{"ErrMalformedHash/NotHex", noHash + "&hash=" + strings.Repeat("zz", 32), telegram.ErrMalformedHash},
		{"ErrSignatureMismatch/FirstByte", noHash + "&hash=" + flipHex(hash, 0), telegram.ErrSignatureMismatch},
		{"ErrSignatureMismatch/LastByte", noHash + "&hash=" + flipHex(hash, 63), telegram.ErrSignatureMismatch},
		{"ErrSignatureMismatch/OtherToken", telegram.Sign(good, testToken+"x"), telegram.ErrSignatureMismatch},
		{"ErrSignatureMismatch/AddedField", valid + "&is_admin=true", telegram.ErrSignatureMismatch},
		{"ErrSignatureMismatch/ChangedValue", strings.Replace(valid, "campaign_7", "campaign_8", 1), telegram.ErrSignatureMismatch},
		{"ErrSignatureMismatch/UnsignedSignature", valid + "&signature=abc", telegram.ErrSignatureMismatch},
		{"ErrDuplicateKey", valid + "&start_param=campaign_7", telegram.ErrDuplicateKey},
		{"ErrDuplicateKey/Escaped", valid + "&st%61rt_param=x", telegram.ErrDuplicateKey},
		{"ErrDuplicateKey/Hash", valid + "&hash=" + hash, telegram.ErrDuplicateKey},
		{"ErrMalformedQuery/Escape", valid + "&x=%zz", telegram.ErrMalformedQuery},
		{"ErrMalformedQuery/Semicolon", valid + ";x=1", telegram.ErrMalformedQuery},
		{"ErrMissingAuthDate", sign(func(v url.Values) { v.Del("auth_date") }), telegram.ErrMissingAuthDate},
		{"ErrMalformedAuthDate/Letters", sign(func(v url.Values) { v.Set("auth_date", "AAA") }), telegram.ErrMalformedAuthDate},
		{"ErrMalformedAuthDate/Sign", sign(func(v url.Values) { v.Set("auth_date", "+1735689600") }), telegram.ErrMalformedAuthDate},
		{"ErrMalformedAuthDate/Empty", sign(func(v url.Values) { v.Set("auth_date", "") }), telegram.ErrMalformedAuthDate},
		{"ErrMalformedAuthDate/Huge", sign(func(v url.Values) { v.Set("auth_date", "99999999999999999999") }), telegram.ErrMalformedAuthDate},
		{"ErrExpired", telegram.Sign(testParams().Values(testNow.Add(-telegram.MaxAgeDefault-time.Second)), testToken), telegram.ErrExpired},
		{"ErrExpired/Epoch", telegram.Sign(testParams().Values(time.Unix(0, 0)), testToken), telegram.ErrExpired},
		{"ErrFromFuture", telegram.Sign(testParams().Values(testNow.Add(61*time.Second)), testToken), telegram.ErrFromFuture},
		{"ErrMalformedField/User", sign(func(v url.Values) { v.Set("user", `{"id":1,"first_name":`) }), telegram.ErrMalformedField},
		{"ErrMalformedField/UserNull", sign(func(v url.Values) { v.Set("user", `null`) }), telegram.ErrMalformedField},
		{"ErrMalformedField/UserIDString", sign(func(v url.Values) { v.Set("user", `{"id":"1"}`) }), telegram.ErrMalformedField},
		{"ErrMalformedField/UserNoID", sign(func(v url.Values) { v.Set("user", `{"first_name":"A"}`) }), telegram.ErrMalformedField},
		{"ErrMalformedField/Receiver", sign(func(v url.Values) { v.Set("receiver", `[1]`) }), telegram.ErrMalformedField},
		{"ErrMalformedField/Chat", sign(func(v url.Values) { v.Set("chat", `{"id":-100,"type":1}`) }), telegram.ErrMalformedField},
		{"ErrMalformedField/CanSendAfter", sign(func(v url.Values) { v.Set("can_send_after", "-1") }), telegram.ErrMalformedField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Validate(tt.raw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, telegram.ErrInvalidInitData) {
				t.Fatalf("err = %v does not match ErrInvalidInitData", err)
			}
			for name, s := range sentinels {
				if s != tt.want && errors.Is(err, s) {
					t.Fatalf("err = %v also matches %s", err, name)
				}
			}
		})
	}
}

// Ensure the age limits are inclusive at the edges and MaxAge is honoured.
func TestValidateAge(t *testing.T) {
	raw := telegram.SignInitData(testToken, testParams(), testNow)
	for _, tt := range []struct {
		name   string
		maxAge time.Duration
		now    time.Time
		want   error
	}{
		{"OK/Now", 0, testNow, nil},
		{"OK/AtMaxAge", 0, testNow.Add(telegram.MaxAgeDefault), nil},
		{"ErrExpired/JustAfterMaxAge", 0, testNow.Add(telegram.MaxAgeDefault + time.Second), telegram.ErrExpired},
		{"OK/OneMinuteAhead", 0, testNow.Add(-time.Minute), nil},
		{"ErrFromFuture", 0, testNow.Add(-time.Minute - time.Second), telegram.ErrFromFuture},
		{"ErrExpired/CustomMaxAge", time.Hour, testNow.Add(time.Hour + time.Second), telegram.ErrExpired},
		{"OK/CustomMaxAge", 48 * time.Hour, testNow.Add(47 * time.Hour), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: testToken, MaxAge: tt.maxAge, Now: fixedClock(tt.now)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Validate(raw); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// Ensure the hash is compared as bytes with hmac.Equal: upper-case hex is
// accepted (a string compare would refuse it) and validate.go calls
// hmac.Equal rather than comparing with ==.
func TestValidateConstantTimeCompare(t *testing.T) {
	v := MustNewValidator(t, testToken, testNow)
	raw := telegram.SignInitData(testToken, testParams(), testNow)
	hash := mustQuery(t, raw).Get("hash")
	if _, err := v.Validate(strings.Replace(raw, hash, strings.ToUpper(hash), 1)); err != nil {
		t.Fatalf("upper-case hash: %v", err)
	}

	f, err := parser.ParseFile(token.NewFileSet(), "validate.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var equalCalls int
	ast.Inspect(f, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "hmac" && sel.Sel.Name == "Equal" {
					equalCalls++
				}
				if x, ok := sel.X.(*ast.Ident); ok && (x.Name == "bytes" && sel.Sel.Name == "Equal" || x.Name == "strings" && sel.Sel.Name == "EqualFold") {
					t.Errorf("validate.go calls %s.%s: compare hashes with hmac.Equal", x.Name, sel.Sel.Name)
				}
			}
		}
		return true
	})
	if equalCalls == 0 {
		t.Fatal("validate.go never calls hmac.Equal")
	}
}

// Ensure third-party validation checks the Ed25519 signature over
// "<bot_id>:WebAppData\n" and the fields but hash and signature.
func TestValidateThirdParty(t *testing.T) {
	key := testKey()
	pub := key.Public().(ed25519.PublicKey)
	const botID = 1234567890
	v, err := telegram.NewValidator(telegram.ValidatorConfig{PublicKey: pub, BotID: botID, Now: fixedClock(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	signed := telegram.SignThirdParty(testParams().Values(testNow), botID, key)
	raw := telegram.Sign(signed, testToken) // Telegram sends both
	sig := signed.Get("signature")

	t.Run("OK", func(t *testing.T) {
		d, err := v.Validate(raw)
		if err != nil {
			t.Fatal(err)
		}
		if d.User.ID != 279058397 || d.Signature != sig {
			t.Fatalf("got %+v", d)
		}
		// The hash is not authenticated in this mode, so any well-formed one passes.
		if _, err := v.Validate(strings.Replace(raw, d.Hash, strings.Repeat("ab", 32), 1)); err != nil {
			t.Fatalf("other hash: %v", err)
		}
	})
	t.Run("OK/ExplicitArguments", func(t *testing.T) {
		tv := MustNewValidator(t, "9:other", testNow)
		if _, err := tv.ValidateThirdParty(raw, botID, pub); err != nil {
			t.Fatal(err)
		}
	})
	for _, tt := range []struct {
		name string
		raw  string
		want error
	}{
		{"ErrSignatureMismatch/ChangedField", strings.Replace(raw, "campaign_7", "campaign_8", 1), telegram.ErrSignatureMismatch},
		{"ErrSignatureMismatch/OtherBot", telegram.Sign(telegram.SignThirdParty(testParams().Values(testNow), botID+1, key), testToken), telegram.ErrSignatureMismatch},
		{"ErrMissingSignature", telegram.SignInitData(testToken, testParams(), testNow), telegram.ErrMissingSignature},
		{"ErrMalformedSignature/Padded", strings.Replace(raw, sig, sig+"==", 1), telegram.ErrMalformedSignature},
		{"ErrMalformedSignature/Short", strings.Replace(raw, sig, sig[:40], 1), telegram.ErrMalformedSignature},
		{"ErrMalformedSignature/StdAlphabet", strings.Replace(raw, sig, strings.Repeat("+", 86), 1), telegram.ErrMalformedSignature},
		{"ErrMissingHash", strings.Replace(raw, "hash=", "hush=", 1), telegram.ErrMissingHash},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Validate(tt.raw); !errors.Is(err, tt.want) || !errors.Is(err, telegram.ErrInvalidInitData) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("ProductionKeyByDefault", func(t *testing.T) {
		tv := MustNewValidator(t, testToken, testNow)
		if _, err := tv.ValidateThirdParty(raw, botID, nil); !errors.Is(err, telegram.ErrSignatureMismatch) {
			t.Fatalf("err = %v, want ErrSignatureMismatch (our key is not Telegram's)", err)
		}
		if _, err := tv.ValidateThirdParty(raw, 0, nil); err == nil || errors.Is(err, telegram.ErrInvalidInitData) {
			t.Fatalf("botID 0 without a configured BotID: err = %v, want a setup error", err)
		}
	})
}

// Ensure the keys in the constants are Telegram's published ones, decoded.
func TestPublicKeys(t *testing.T) {
	for _, k := range []string{telegram.PublicKeyProduction, telegram.PublicKeyTest} {
		if pub, err := telegram.ParsePublicKey(k); err != nil || len(pub) != ed25519.PublicKeySize {
			t.Fatalf("ParsePublicKey(%s) = %x, %v", k, pub, err)
		}
	}
	if telegram.PublicKeyProduction != "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d" ||
		telegram.PublicKeyTest != "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec" {
		t.Fatal("public key constants changed")
	}
	for _, bad := range []string{"", "zz", telegram.PublicKeyTest[:62]} {
		if _, err := telegram.ParsePublicKey(bad); err == nil {
			t.Fatalf("ParsePublicKey(%q) succeeded", bad)
		}
	}
}

// Ensure setup mistakes are refused at construction with a helpful message.
func TestNewValidator(t *testing.T) {
	pub := testKey().Public().(ed25519.PublicKey)
	for _, tt := range []struct {
		name string
		cfg  telegram.ValidatorConfig
		want string
	}{
		{"NoTokenNoKey", telegram.ValidatorConfig{}, "BotToken and PublicKey are both empty"},
		{"ShortKey", telegram.ValidatorConfig{PublicKey: pub[:31], BotID: 1}, "PublicKey has 31 bytes"},
		{"KeyWithoutBotID", telegram.ValidatorConfig{PublicKey: pub}, "BotID must be positive"},
		{"NegativeMaxAge", telegram.ValidatorConfig{BotToken: testToken, MaxAge: -time.Second}, "MaxAge must not be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := telegram.NewValidator(tt.cfg)
			if err == nil || v != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewValidator = %v, %v; want error containing %q", v, err, tt.want)
			}
		})
	}
}

// Ensure SetBotToken takes effect at once, may race with Validate, and an
// empty token is refused without a public key.
func TestSetBotToken(t *testing.T) {
	v := MustNewValidator(t, "1:old", testNow)
	oldRaw := telegram.SignInitData("1:old", testParams(), testNow)
	newRaw := telegram.SignInitData("2:new", testParams(), testNow)
	if _, err := v.Validate(oldRaw); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				for _, raw := range []string{oldRaw, newRaw} {
					if _, err := v.Validate(raw); err != nil && !errors.Is(err, telegram.ErrSignatureMismatch) {
						t.Errorf("Validate during SetBotToken: %v", err)
					}
				}
			}
		})
	}
	for range 50 {
		_ = v.SetBotToken("2:new")
		_ = v.SetBotToken("1:old")
	}
	if err := v.SetBotToken("2:new"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := v.Validate(oldRaw); !errors.Is(err, telegram.ErrSignatureMismatch) {
		t.Fatalf("old token still accepted: %v", err)
	}
	if _, err := v.Validate(newRaw); err != nil {
		t.Fatalf("new token refused: %v", err)
	}
	if err := v.SetBotToken(""); err == nil {
		t.Fatal("empty token accepted without a public key")
	}

	// With a public key, an empty token switches to third-party validation.
	key := testKey()
	tv, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: "1:old", PublicKey: key.Public().(ed25519.PublicKey), BotID: 1, Now: fixedClock(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	raw := telegram.Sign(telegram.SignThirdParty(testParams().Values(testNow), 1, key), "3:unknown")
	if _, err := tv.Validate(raw); !errors.Is(err, telegram.ErrSignatureMismatch) {
		t.Fatalf("token mode: err = %v", err)
	}
	if err := tv.SetBotToken(""); err != nil {
		t.Fatal(err)
	}
	if _, err := tv.Validate(raw); err != nil {
		t.Fatalf("key mode: %v", err)
	}
}

func BenchmarkValidate(b *testing.B) {
	vec := loadVectors(b)[1] // tma_third_party_hmac: a real Telegram init data
	if vec.Name != "tma_third_party_hmac" {
		b.Fatalf("vector 1 is %s", vec.Name)
	}
	v := MustNewValidator(b, vec.BotToken, time.Unix(vec.Now, 0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(vec.Raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateBaseline is the floor under BenchmarkValidate: splitting
// the same string with url.ParseQuery and one HMAC-SHA256 over it, the work
// no validator can skip. BENCHMARKS.md reports Validate as a ratio to it.
func BenchmarkValidateBaseline(b *testing.B) {
	vec := loadVectors(b)[1]
	key := hmac.New(sha256.New, []byte("WebAppData"))
	key.Write([]byte(vec.BotToken))
	secret := key.Sum(nil)
	b.ReportAllocs()
	for b.Loop() {
		q, err := url.ParseQuery(vec.Raw)
		if err != nil || len(q) == 0 {
			b.Fatal(err)
		}
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(vec.Raw))
		_ = m.Sum(nil)
	}
}

// FuzzValidate signs init data made of fuzzed values, checks it validates and
// round trips, then mutates one byte: the result must never panic and, when it
// still validates, must carry exactly the signed values (%2B and %2b are one
// byte, so some mutations legitimately survive).
func FuzzValidate(f *testing.F) {
	f.Add("Vladislav + - ? \\/", "campaign_7", uint(10), byte('x'))
	f.Add("Anna 100% ✓", "", uint(0), byte('&'))
	f.Add("", "a=b&c", uint(200), byte('%'))
	f.Add("\x00\xff", "+", uint(63), byte('b'))
	v := MustNewValidator(f, testToken, testNow)
	f.Fuzz(func(t *testing.T, name, startParam string, pos uint, b byte) {
		p := testParams()
		p.User.FirstName = name
		p.StartParam = startParam
		raw := telegram.SignInitData(testToken, p, testNow)
		want, err := v.Validate(raw)
		if strings.ContainsRune(startParam, '\n') {
			// A newline would make the data-check-string ambiguous.
			if !errors.Is(err, telegram.ErrMalformedQuery) {
				t.Fatalf("start_param with a newline: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("signed init data refused: %v\n%s", err, raw)
		}
		// encoding/json replaces each invalid UTF-8 byte with U+FFFD, as a
		// conversion to []rune does.
		if want.StartParam != startParam || want.User.ID != p.User.ID || want.User.FirstName != string([]rune(name)) {
			t.Fatalf("round trip: got %+v", want)
		}
		if len(raw) == 0 {
			return
		}
		i := int(pos % uint(len(raw)))
		mutated := raw[:i] + string([]byte{b}) + raw[i+1:]
		got, err := v.Validate(mutated)
		if err != nil {
			if !errors.Is(err, telegram.ErrInvalidInitData) {
				t.Fatalf("error does not match ErrInvalidInitData: %v", err)
			}
			return
		}
		got.Raw, want.Raw = "", ""
		got.Hash, want.Hash = strings.ToLower(got.Hash), strings.ToLower(want.Hash)
		if !equalInitData(got, want) {
			t.Fatalf("mutated init data validated with other values:\n%q\n%+v\n%+v", mutated, got, want)
		}
	})
}

func equalInitData(a, b telegram.InitData) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func mustQuery(tb testing.TB, raw string) url.Values {
	tb.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// flipHex changes the hex digit at i.
func flipHex(h string, i int) string {
	c := byte('0')
	if h[i] == '0' {
		c = '1'
	}
	return h[:i] + string(c) + h[i+1:]
}

// TestValidateTooManyFields ensures init data with more fields than
// Telegram sends is refused before it is decoded, even when correctly
// signed, and that the limit itself still passes.
func TestValidateTooManyFields(t *testing.T) {
	v := MustNewValidator(t, testToken, testNow)
	good := testParams().Values(testNow)
	withExtra := func(n int) string {
		vals := url.Values{}
		for k, vs := range good {
			vals[k] = append([]string(nil), vs...)
		}
		for i := range n {
			vals.Set(fmt.Sprintf("x%05d", i), "v")
		}
		return telegram.Sign(vals, testToken)
	}
	fields := len(good) + 1 // and the hash
	if _, err := v.Validate(withExtra(telegram.MaxFields - fields)); err != nil {
		t.Fatalf("%d fields refused: %v", telegram.MaxFields, err)
	}
	_, err := v.Validate(withExtra(telegram.MaxFields - fields + 1))
	if !errors.Is(err, telegram.ErrMalformedQuery) || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("%d fields: %v; want ErrMalformedQuery", telegram.MaxFields+1, err)
	}
	huge := strings.Repeat("k=v&", 80000) + "hash=" + strings.Repeat("0", 64)
	if _, err := v.Validate(huge); !errors.Is(err, telegram.ErrMalformedQuery) {
		t.Fatalf("80,000 fields: %v; want ErrMalformedQuery", err)
	}
}
