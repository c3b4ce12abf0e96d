// Package telegram connects a shop to Telegram: it validates the init data a
// Mini App sends with every request (HMAC-SHA-256 with the bot token, or
// Telegram's Ed25519 signature for third parties), provides the HTTP
// middleware that does so, stores the shop's Telegram customers, and talks to
// the Bot API. Its subpackages hold the typed Bot API client (botapi, with a
// fake server for tests in botapi/botapitest) and the intake of the bot's
// updates by webhook or long polling (updates).
//
// A storefront API puts the middleware in front of its handlers and reads the
// validated user from the request context:
//
//	v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: token})
//	if err != nil {
//		return err
//	}
//	api := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		d, _ := telegram.InitDataFrom(r.Context())
//		fmt.Fprintf(w, "hello, %s", d.User.FirstName)
//	}))
//
// The Mini App sends Telegram.WebApp.initData, unchanged, in the
// X-Telegram-Init-Data header (HeaderInitData). Init data older than
// MaxAgeDefault (24 hours) or dated more than a minute ahead is refused; every
// refusal matches ErrInvalidInitData and names its rule (ErrExpired,
// ErrSignatureMismatch, …). Tests and the demo's dev mode make valid init data
// with SignInitData.
//
// CustomerStore.Erase erases a customer's personal data at the person's
// request, in one transaction. A package that keeps its own rows about
// customers (order metadata, a message outbox, an updates log) cleans them in
// that transaction by implementing CustomerEraser and registering with
// CustomerStore.AddEraser when the shop is wired.
package telegram
