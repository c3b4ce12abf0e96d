package updates

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
)

// handle applies one update inside tx and returns the answers to send.
// Updates the shop does not use, and malformed ones, change nothing.
func (in *Intake) handle(ctx context.Context, tx *sql.Tx, updateID int64, username string, u botapi.Update) ([]reply, error) {
	key := fmt.Sprintf("update:%d:%d", in.cfg.Client.BotID(), updateID)
	switch {
	case u.Message != nil:
		cmd, arg, ok := ParseCommand(u.Message.Text, username)
		if !ok {
			return nil, nil
		}
		switch cmd {
		case "start":
			return in.handleStart(ctx, tx, key, u.Message, arg)
		case "chatid":
			return []reply{{key: key + ":chatid", params: chatIDReply(u.Message)}}, nil
		}
	case u.MyChatMember != nil:
		return nil, in.handleMyChatMember(ctx, tx, u.MyChatMember)
	}
	return nil, nil
}

// handleStart saves the customer who sent /start in a private chat,
// records the campaign of a validly signed start parameter, and answers
// with the greeting and a button that opens the shop.
func (in *Intake) handleStart(ctx context.Context, tx *sql.Tx, key string, m *botapi.Message, arg string) ([]reply, error) {
	if m.Chat.Type != botapi.ChatTypePrivate || m.From == nil || m.From.IsBot || m.From.ID <= 0 {
		return nil, nil
	}
	at := in.cfg.Now()
	if m.Date > 0 {
		at = m.Time()
	}
	c, err := in.cfg.Customers.SaveFromChat(ctx, tx, customerUser(*m.From), at)
	if err != nil {
		return nil, err
	}
	if arg != "" && in.cfg.Campaigns != nil {
		if campaign, ok := in.cfg.Campaigns.CampaignID(arg); ok {
			if err := in.cfg.Customers.RecordCampaign(ctx, tx, c.TelegramUserID, campaign, at); err != nil {
				return nil, err
			}
		}
	}
	text, button, err := in.cfg.Greeter.Greeting(ctx, *m.From)
	if err != nil {
		return nil, fmt.Errorf("composing the greeting: %w", err)
	}
	p := botapi.SendMessageParams{ChatID: m.Chat.ID, Text: text}
	if button != "" {
		p.ReplyMarkup = &botapi.InlineKeyboardMarkup{InlineKeyboard: [][]botapi.InlineKeyboardButton{{
			{Text: button, WebApp: &botapi.WebAppInfo{URL: in.cfg.AppURL}},
		}}}
	}
	return []reply{{key: key + ":start", params: p}}, nil
}

// handleMyChatMember records a user blocking the bot (kicked) or starting
// it again (member) in their private chat. A user who is not a customer yet
// is left alone: their /start will save them.
func (in *Intake) handleMyChatMember(ctx context.Context, tx *sql.Tx, cm *botapi.ChatMemberUpdated) error {
	if cm.Chat.Type != botapi.ChatTypePrivate || cm.From.ID <= 0 {
		return nil
	}
	var blocked bool
	switch cm.NewChatMember.Status {
	case botapi.MemberStatusKicked:
		blocked = true
	case botapi.MemberStatusMember:
		blocked = false
	default:
		return nil
	}
	at := in.cfg.Now()
	if cm.Date > 0 {
		at = time.Unix(cm.Date, 0).UTC()
	}
	err := in.cfg.Customers.SetBotBlockedTx(ctx, tx, cm.From.ID, blocked, at)
	if errors.Is(err, telegram.ErrCustomerNotFound) {
		return nil
	}
	return err
}

// customerUser is the customer's profile as a message's sender shows it.
func customerUser(u botapi.User) telegram.User {
	return telegram.User{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username,
		LanguageCode: u.LanguageCode, IsPremium: u.IsPremium}
}

// chatIDReply tells the chat its id, CHAT_ID:THREAD_ID in a forum topic,
// in the form the owner chat setting takes.
func chatIDReply(m *botapi.Message) botapi.SendMessageParams {
	id := strconv.FormatInt(m.Chat.ID, 10)
	thread := 0
	if m.IsTopicMessage && m.MessageThreadID != 0 {
		thread = m.MessageThreadID
		id += ":" + strconv.Itoa(thread)
	}
	lang := ""
	if m.From != nil {
		lang = m.From.LanguageCode
	}
	var text string
	switch {
	case Language(lang) == "ru" && thread != 0:
		text = id + "\n\nЭто ID этого чата и темы (CHAT_ID:THREAD_ID). Укажите его как чат владельца (-owner-chat или в настройках), чтобы получать в эту тему уведомления о новых заказах."
	case Language(lang) == "ru":
		text = id + "\n\nЭто ID этого чата. Укажите его как чат владельца (-owner-chat или в настройках), чтобы получать сюда уведомления о новых заказах."
	case thread != 0:
		text = id + "\n\nThis is the ID of this chat and topic (CHAT_ID:THREAD_ID). Set it as the owner chat (-owner-chat, or in the settings) to receive new-order notifications in this topic."
	default:
		text = id + "\n\nThis is this chat's ID. Set it as the owner chat (-owner-chat, or in the settings) to receive new-order notifications here."
	}
	return botapi.SendMessageParams{ChatID: m.Chat.ID, MessageThreadID: thread, Text: text}
}

// Language returns the language of a Telegram language_code the shop
// speaks: "ru" for Russian ("ru", "ru-RU"), else "en".
func Language(code string) string {
	base, _, _ := strings.Cut(strings.ToLower(code), "-")
	if base == "ru" {
		return "ru"
	}
	return "en"
}

// ParseCommand reads a bot command from a message's text: "/start abc" is
// ("start", "abc"), "/chatid@shop_bot" is ("chatid", "") when username is
// "shop_bot" (any case). A command addressed to another bot, or text that
// is not a command, is ok false. With username "" (unknown), a command
// addressed to any bot is taken.
func ParseCommand(text, username string) (cmd, arg string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		rest = head[i+1:] + " " + rest
		head = head[:i]
	}
	cmd, to, addressed := strings.Cut(head, "@")
	if addressed && username != "" && !strings.EqualFold(to, username) {
		return "", "", false
	}
	if cmd == "" || len(cmd) > 32 {
		return "", "", false
	}
	for _, r := range cmd {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "", "", false
		}
	}
	return strings.ToLower(cmd), strings.TrimSpace(rest), true
}
