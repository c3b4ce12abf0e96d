package telegram

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SignParams is the content of init data to sign with SignInitData. Zero
// fields are left out.
type SignParams struct {
	QueryID      string
	User         *User
	Receiver     *User
	Chat         *Chat
	ChatType     string
	ChatInstance string
	StartParam   string
	CanSendAfter int
}

// Values returns p as init data fields with auth_date set to authDate; the
// objects are marshalled with encoding/json. Add or change fields before
// passing the result to Sign.
func (p SignParams) Values(authDate time.Time) url.Values {
	v := url.Values{}
	v.Set("auth_date", strconv.FormatInt(authDate.Unix(), 10))
	set := func(key, value string) {
		if value != "" {
			v.Set(key, value)
		}
	}
	set("query_id", p.QueryID)
	set("user", marshalObject(p.User))
	set("receiver", marshalObject(p.Receiver))
	set("chat", marshalObject(p.Chat))
	set("chat_type", p.ChatType)
	set("chat_instance", p.ChatInstance)
	set("start_param", p.StartParam)
	if p.CanSendAfter != 0 {
		v.Set("can_send_after", strconv.Itoa(p.CanSendAfter))
	}
	return v
}

func marshalObject[T User | Chat](o *T) string {
	if o == nil {
		return ""
	}
	b, err := json.Marshal(o)
	if err != nil {
		panic(err) // plain structs of strings, ints and bools always marshal
	}
	return string(b)
}

// SignInitData returns init data for p, dated authDate, that a Validator
// with botToken accepts. Tests and the demo's dev mode use it to stand in for
// Telegram.
func SignInitData(botToken string, p SignParams, authDate time.Time) string {
	return Sign(p.Values(authDate), botToken)
}

// Sign returns values as an init data query string with the hash Telegram
// would compute for botToken: HMAC-SHA-256 over every field but hash
// (signature included), sorted by key. values is not modified; a hash in it
// is replaced. A key with several values yields init data that Validate
// rejects with ErrDuplicateKey, which tests can use.
func Sign(values url.Values, botToken string) string {
	v := cloneWithout(values, "hash")
	mac := hmac.New(sha256.New, webAppSecret(botToken)[:])
	mac.Write(dataCheckString("", sortedPairs(v), false))
	v.Set("hash", hex.EncodeToString(mac.Sum(nil)))
	return v.Encode()
}

// SignThirdParty returns a copy of values with the signature field Telegram
// would add for the bot botID, signed with key (Telegram's secret; tests use a
// key of their own and validate with its public half). Pass the result to
// Sign to add the hash too, as Telegram does.
func SignThirdParty(values url.Values, botID int64, key ed25519.PrivateKey) url.Values {
	v := cloneWithout(values, "hash", "signature")
	prefix := strconv.FormatInt(botID, 10) + ":WebAppData\n"
	sig := ed25519.Sign(key, dataCheckString(prefix, sortedPairs(v), true))
	v.Set("signature", base64.RawURLEncoding.EncodeToString(sig))
	return v
}

func cloneWithout(values url.Values, keys ...string) url.Values {
	v := make(url.Values, len(values)+1)
	for k, vs := range values {
		if !slices.Contains(keys, k) {
			v[k] = slices.Clone(vs)
		}
	}
	return v
}

func sortedPairs(v url.Values) pairs {
	var ps pairs
	for k, vs := range v {
		for _, s := range vs {
			ps = append(ps, pair{k, s})
		}
	}
	slices.SortStableFunc(ps, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	return ps
}
