package telegram_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telegram"
)

// hmacHex computes the init data hash for a data-check-string written by hand,
// without the package: the independent half of these tests.
func hmacHex(botToken, dataCheckString string) string {
	secret := hmac.New(sha256.New, []byte("WebAppData"))
	secret.Write([]byte(botToken))
	mac := hmac.New(sha256.New, secret.Sum(nil))
	mac.Write([]byte(dataCheckString))
	return hex.EncodeToString(mac.Sum(nil))
}

// Ensure awkward values ('+', '%', unicode, JSON with escaped slashes) keep
// their exact bytes through Sign and Validate, and the hash is the one of the
// data-check-string written out by hand.
func TestSignRoundTrip(t *testing.T) {
	const user = `{"id":5000131393,"first_name":"Anna + Maria 100% ✓","last_name":"Müller-Łukasz 🛒","username":"anna_m","photo_url":"https:\/\/t.me\/i\/userpic\/320\/a+b%2Fc.svg"}`
	vals := url.Values{
		"auth_date":     {"1735689600"},
		"chat_instance": {"-92233720368547758089"},
		"chat_type":     {"sender"},
		"query_id":      {"AAE+/q="},
		"start_param":   {"c 42+%"},
		"user":          {user},
	}
	raw := telegram.Sign(vals, testToken)

	const dcs = "auth_date=1735689600\n" +
		"chat_instance=-92233720368547758089\n" +
		"chat_type=sender\n" +
		"query_id=AAE+/q=\n" +
		"start_param=c 42+%\n" +
		"user=" + user
	if got, want := mustQuery(t, raw).Get("hash"), hmacHex(testToken, dcs); got != want {
		t.Fatalf("hash = %s, want %s (of the hand-written data-check-string)", got, want)
	}

	d, err := MustNewValidator(t, testToken, testNow).Validate(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := telegram.User{ID: 5000131393, FirstName: "Anna + Maria 100% ✓", LastName: "Müller-Łukasz 🛒", Username: "anna_m", PhotoURL: "https://t.me/i/userpic/320/a+b%2Fc.svg"}
	if *d.User != want {
		t.Fatalf("user = %+v, want %+v", *d.User, want)
	}
	if d.ChatInstance != "-92233720368547758089" || d.StartParam != "c 42+%" || d.QueryID != "AAE+/q=" || d.ChatType != "sender" {
		t.Fatalf("got %+v", d)
	}
	if !d.AuthDate.Equal(testNow) || d.AuthDate.Location() != time.UTC {
		t.Fatalf("AuthDate = %v", d.AuthDate)
	}
	if d.Raw != raw {
		t.Fatal("Raw changed")
	}
	if len(vals) != 6 || vals.Has("hash") {
		t.Fatal("Sign modified its argument")
	}
}

// Ensure SignInitData carries every SignParams field through Validate.
func TestSignInitData(t *testing.T) {
	p := telegram.SignParams{
		QueryID:      "QUERY",
		User:         &telegram.User{ID: 222, IsBot: true, FirstName: "user-first-name", LastName: "user-last-name", Username: "user-username", LanguageCode: "en", IsPremium: true, AddedToAttachmentMenu: true, AllowsWriteToPM: true, PhotoURL: "https://t.me/i/userpic/320/u.svg"},
		Receiver:     &telegram.User{ID: 991, FirstName: "receiver", IsBot: true},
		Chat:         &telegram.Chat{ID: -1001234567890, Type: "supergroup", Title: "chat-title", Username: "my_chat", PhotoURL: "https://t.me/c.jpg"},
		ChatType:     "supergroup",
		ChatInstance: "18446744073709551616",
		StartParam:   "debug",
		CanSendAfter: 10000,
	}
	raw := telegram.SignInitData(testToken, p, testNow)
	d, err := MustNewValidator(t, testToken, testNow).Validate(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := telegram.SignParams{QueryID: d.QueryID, User: d.User, Receiver: d.Receiver, Chat: d.Chat, ChatType: d.ChatType, ChatInstance: d.ChatInstance, StartParam: d.StartParam, CanSendAfter: d.CanSendAfter}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("got %+v\nwant %+v", got, p)
	}

	// Zero fields are left out.
	vals := telegram.SignParams{}.Values(testNow)
	if len(vals) != 1 || vals.Get("auth_date") != "1735689600" {
		t.Fatalf("Values of zero SignParams = %v", vals)
	}
}

// Ensure a key given twice to Sign makes init data that Validate refuses.
func TestSignDuplicateKey(t *testing.T) {
	vals := testParams().Values(testNow)
	vals.Add("start_param", "other")
	_, err := MustNewValidator(t, testToken, testNow).Validate(telegram.Sign(vals, testToken))
	if !errors.Is(err, telegram.ErrDuplicateKey) {
		t.Fatalf("err = %v", err)
	}
}

// Ensure SignThirdParty signs "<bot_id>:WebAppData\n" and the fields but hash
// and signature, and leaves its argument alone.
func TestSignThirdParty(t *testing.T) {
	key := testKey()
	vals := url.Values{"auth_date": {"1735689600"}, "user": {`{"id":1,"first_name":"A"}`}, "hash": {"old"}, "signature": {"old"}}
	signed := telegram.SignThirdParty(vals, 42, key)
	if signed.Has("hash") || vals.Get("signature") != "old" {
		t.Fatalf("signed = %v, vals = %v", signed, vals)
	}
	sig, err := base64.RawURLEncoding.DecodeString(signed.Get("signature"))
	if err != nil {
		t.Fatal(err)
	}
	msg := "42:WebAppData\nauth_date=1735689600\nuser={\"id\":1,\"first_name\":\"A\"}"
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), []byte(msg), sig) {
		t.Fatal("signature is not over the hand-written data-check-string")
	}
}
