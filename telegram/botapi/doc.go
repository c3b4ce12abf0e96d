// Package botapi is a typed client of the Telegram Bot API: the calls a shop
// makes (getMe, sendMessage with inline keyboards and web_app buttons,
// setWebhook, deleteWebhook, getWebhookInfo, getUpdates, setChatMenuButton),
// Telegram's error answers as *Error, and the bot token kept out of every
// error and log line.
//
//	c, err := botapi.New(botapi.Config{Token: token})
//	if err != nil {
//		return err
//	}
//	_, err = c.SendMessage(ctx, botapi.SendMessageParams{
//		ChatID: chatID,
//		Text:   "Welcome!",
//		ReplyMarkup: &botapi.InlineKeyboardMarkup{InlineKeyboard: [][]botapi.InlineKeyboardButton{{
//			{Text: "Open shop", WebApp: &botapi.WebAppInfo{URL: "https://shop.example/app/"}},
//		}}},
//	})
//	switch {
//	case botapi.IsBlocked(err):
//		// the user blocked the bot: stop writing to them
//	case botapi.RetryAfter(err) > 0:
//		// flood control: wait, then send again
//	}
//
// CheckHTML tells, before anything is sent, whether a text is valid in
// Telegram's HTML style (ParseModeHTML), naming the first problem and where
// it is; Telegram refuses the whole message for one mistake. EscapeHTML
// makes any text safe to put between tags.
//
// The client neither paces nor retries: it makes one HTTP request per call.
// The callers that send many messages (the message outbox) own the pacing,
// since Telegram's limits hold per bot, across every process that sends.
//
// Package botapitest is a fake Bot API server for tests.
package botapi
