package telegram_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/telecart-go/telecart/telegram"
)

// A Validator built from the bot token checks the hash of init data. Here the
// init data comes from SignInitData, as in tests and the demo's dev mode.
func ExampleValidator_Validate() {
	const token = "1234567890:TeleCart-example-token"
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	v, err := telegram.NewValidator(telegram.ValidatorConfig{
		BotToken: token,
		Now:      func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}

	raw := telegram.SignInitData(token, telegram.SignParams{
		User:       &telegram.User{ID: 279058397, FirstName: "Anna + Maria", LanguageCode: "de"},
		StartParam: "campaign_7",
	}, now.Add(-time.Hour))

	d, err := v.Validate(raw)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.User.ID, d.User.FirstName, d.StartParam, d.AuthDate)

	// A day later the same init data has expired.
	now = now.Add(24 * time.Hour)
	_, err = v.Validate(raw)
	fmt.Println(errors.Is(err, telegram.ErrExpired), errors.Is(err, telegram.ErrInvalidInitData))
	// Output:
	// 279058397 Anna + Maria campaign_7 2025-01-01 11:00:00 +0000 UTC
	// true true
}

// A third party checks Telegram's Ed25519 signature with the bot id and
// Telegram's public key, without the bot token. This init data was issued by
// Telegram (published in the Telegram Mini Apps community docs).
func ExampleValidator_ValidateThirdParty() {
	const raw = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6"
	key, err := telegram.ParsePublicKey(telegram.PublicKeyProduction)
	if err != nil {
		panic(err)
	}
	v, err := telegram.NewValidator(telegram.ValidatorConfig{
		PublicKey: key,
		BotID:     7342037359,
		Now:       func() time.Time { return time.Unix(1733584787, 0).Add(time.Minute) },
	})
	if err != nil {
		panic(err)
	}
	d, err := v.Validate(raw)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.User.FirstName, d.User.PhotoURL)
	fmt.Println(d.ChatType, d.ChatInstance, d.AuthDate)
	// Output:
	// Vladislav + - ? / https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg
	// private 8134722200314281151 2024-12-07 15:19:47 +0000 UTC
}

// The middleware answers 401 JSON to requests without valid init data and
// hands the parsed InitData to the handler otherwise.
func ExampleValidator_Middleware() {
	const token = "1234567890:TeleCart-example-token"
	v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: token})
	if err != nil {
		panic(err)
	}
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := telegram.InitDataFrom(r.Context())
		fmt.Fprintf(w, "hello, %s\n", d.User.FirstName)
	}))

	for _, raw := range []string{
		"",
		telegram.SignInitData("9:another-bot", telegram.SignParams{User: &telegram.User{ID: 1, FirstName: "Eve"}}, time.Now()),
		telegram.SignInitData(token, telegram.SignParams{User: &telegram.User{ID: 2, FirstName: "Anna"}}, time.Now()),
	} {
		r := httptest.NewRequest(http.MethodGet, "/api/settings", nil)
		r.Header.Set(telegram.HeaderInitData, raw)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Print(w.Code, " ")
		_, _ = w.Body.WriteTo(os.Stdout)
	}
	// Output:
	// 401 {"error":{"code":"invalid_init_data","message":"X-Telegram-Init-Data header is missing"}}
	// 401 {"error":{"code":"invalid_init_data","message":"init data signature does not match"}}
	// 200 hello, Anna
}
