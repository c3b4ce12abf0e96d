package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/telecart-go/telecart/telegram"
)

// newFakeTelegram starts a Bot API server that prints each sendMessage it
// receives and answers like Telegram; blocked chats answer 403.
func newFakeTelegram(blocked int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ChatID    int64  `json:"chat_id"`
			Text      string `json:"text"`
			ParseMode string `json:"parse_mode"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		if req.ChatID == blocked {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
			return
		}
		fmt.Printf("Telegram got %s to %d (%s): %s\n", r.URL.Path, req.ChatID, req.ParseMode, req.Text)
		_, _ = fmt.Fprintf(w, `{"ok":true,"result":{"message_id":501,"date":1700000000,"chat":{"id":%d,"type":"private"},"text":"Order #1001 for Tom & Jerry is ready."}}`, req.ChatID)
	}))
}

// Send an HTML message, escaping the customer-supplied part.
func ExampleBot_SendMessage() {
	fake := newFakeTelegram(0)
	defer fake.Close()

	bot, err := telegram.NewBot(telegram.BotConfig{
		Token:   "123456:ABC",
		BaseURL: fake.URL, // leave empty for https://api.telegram.org
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	name := "Tom & Jerry"
	msg, err := bot.SendMessage(context.Background(), 42, "<b>Order #1001</b> for "+telegram.EscapeHTML(name)+" is ready.")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("message", msg.MessageID, "sent to chat", msg.Chat.ID, "at", msg.Time().Format("2006-01-02"))
	// Output:
	// Telegram got /bot123456:ABC/sendMessage to 42 (HTML): <b>Order #1001</b> for Tom &amp; Jerry is ready.
	// message 501 sent to chat 42 at 2023-11-14
}

// A user who blocked the bot cannot be reached until they unblock it: mark
// the customer instead of retrying.
func ExampleBot_SendMessage_unreachable() {
	fake := newFakeTelegram(7)
	defer fake.Close()

	bot, err := telegram.NewBot(telegram.BotConfig{Token: "123456:ABC", BaseURL: fake.URL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = bot.SendMessage(context.Background(), 7, "Your order has shipped.")
	fmt.Println(errors.Is(err, telegram.ErrRecipientUnreachable), errors.Is(err, telegram.ErrBotBlocked))
	var apiErr *telegram.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code, apiErr.Description)
	}
	// Output:
	// true true
	// 403 Forbidden: bot was blocked by the user
}

func ExampleEscapeHTML() {
	fmt.Println(telegram.EscapeHTML(`<Fish & "Chips">`))
	// Output: &lt;Fish &amp; &quot;Chips&quot;&gt;
}
