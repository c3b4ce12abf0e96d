package botapi_test

import (
	"context"
	"fmt"
	"time"

	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
)

// The greeting the bot answers /start with: a text and a button that opens
// the Mini App; a blocked user and flood control told apart by helpers.
func Example() {
	srv := botapitest.Start(botapitest.Config{})
	defer srv.Close()
	c, err := botapi.New(botapi.Config{Token: srv.Token, BaseURL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	greeting := botapi.SendMessageParams{
		ChatID: 42,
		Text:   "Welcome!",
		ReplyMarkup: &botapi.InlineKeyboardMarkup{InlineKeyboard: [][]botapi.InlineKeyboardButton{{
			{Text: "Open shop", WebApp: &botapi.WebAppInfo{URL: "https://shop.example/app/"}},
		}}},
	}
	m, err := c.SendMessage(ctx, greeting)
	fmt.Println(m.MessageID, m.Chat.ID, err)

	srv.FailChat(42, botapitest.Blocked())
	_, err = c.SendMessage(ctx, greeting)
	fmt.Println(botapi.IsBlocked(err), err)

	srv.FailNext("sendMessage", botapitest.TooManyRequests(3*time.Second))
	_, err = c.SendMessage(ctx, greeting)
	fmt.Println(botapi.RetryAfter(err))
	// Output:
	// 1 42 <nil>
	// true telegram: sendMessage: 403 Forbidden: bot was blocked by the user
	// 3s
}
