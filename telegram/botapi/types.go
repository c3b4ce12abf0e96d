package botapi

import "time"

// MaxMessageLength is the longest text sendMessage accepts, in characters.
const MaxMessageLength = 4096

// Parse modes for SendMessageParams.ParseMode.
const (
	ParseModeHTML       = "HTML"
	ParseModeMarkdownV2 = "MarkdownV2"
)

// Chat types.
const (
	ChatTypePrivate    = "private"
	ChatTypeGroup      = "group"
	ChatTypeSupergroup = "supergroup"
	ChatTypeChannel    = "channel"
)

// Chat member statuses (ChatMember.Status).
const (
	MemberStatusCreator       = "creator"
	MemberStatusAdministrator = "administrator"
	MemberStatusMember        = "member"
	MemberStatusRestricted    = "restricted"
	MemberStatusLeft          = "left"
	MemberStatusKicked        = "kicked"
)

// Update kinds, for AllowedUpdates.
const (
	UpdateMessage      = "message"
	UpdateMyChatMember = "my_chat_member"
)

// User is a Telegram user or bot.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot,omitempty"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
	IsPremium    bool   `json:"is_premium,omitempty"`
	// CanJoinGroups, CanReadAllGroupMessages and SupportsInlineQueries are
	// answered by getMe only.
	CanJoinGroups           bool `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages bool `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   bool `json:"supports_inline_queries,omitempty"`
}

// Chat is a private chat, a group, a supergroup or a channel.
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"` // ChatTypePrivate, ChatTypeGroup, …
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

// MessageEntity is a special part of a message's text, such as a
// bot_command. Offset and Length count UTF-16 code units.
type MessageEntity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
}

// Message is a message, as Telegram sends it in updates and answers to
// sendMessage.
type Message struct {
	MessageID int64 `json:"message_id"`
	// MessageThreadID is the forum topic the message belongs to.
	MessageThreadID int   `json:"message_thread_id,omitempty"`
	From            *User `json:"from,omitempty"`
	// SenderChat is the chat a message was sent on behalf of (a channel, or
	// an anonymous group admin).
	SenderChat     *Chat           `json:"sender_chat,omitempty"`
	Date           int64           `json:"date"` // Unix time, seconds
	Chat           Chat            `json:"chat"`
	IsTopicMessage bool            `json:"is_topic_message,omitempty"`
	Text           string          `json:"text,omitempty"` // as Telegram stored it, markup removed
	Entities       []MessageEntity `json:"entities,omitempty"`
}

// Time returns Date as a UTC time.
func (m Message) Time() time.Time { return time.Unix(m.Date, 0).UTC() }

// ChatMember is one member's status in a chat. Telegram sends one of six
// shapes told apart by Status; the fields here are common to all.
type ChatMember struct {
	Status    string `json:"status"` // MemberStatusMember, MemberStatusKicked, …
	User      User   `json:"user"`
	UntilDate int64  `json:"until_date,omitempty"`
}

// ChatMemberUpdated is a change of a member's status: for my_chat_member,
// the bot's own status in a chat (kicked when a user blocks the bot, member
// when they start it again).
type ChatMemberUpdated struct {
	Chat          Chat       `json:"chat"`
	From          User       `json:"from"`
	Date          int64      `json:"date"`
	OldChatMember ChatMember `json:"old_chat_member"`
	NewChatMember ChatMember `json:"new_chat_member"`
}

// Update is one incoming update. At most one of the optional fields is set;
// an update of a kind this type does not name has none set.
type Update struct {
	UpdateID      int64              `json:"update_id"`
	Message       *Message           `json:"message,omitempty"`
	EditedMessage *Message           `json:"edited_message,omitempty"`
	MyChatMember  *ChatMemberUpdated `json:"my_chat_member,omitempty"`
}

// WebAppInfo is a Mini App to open: its HTTPS URL.
type WebAppInfo struct {
	URL string `json:"url"`
}

// InlineKeyboardButton is one button of an inline keyboard: exactly one of
// URL, WebApp and CallbackData is set.
type InlineKeyboardButton struct {
	Text         string      `json:"text"`
	URL          string      `json:"url,omitempty"`
	WebApp       *WebAppInfo `json:"web_app,omitempty"`
	CallbackData string      `json:"callback_data,omitempty"`
}

// InlineKeyboardMarkup is an inline keyboard: rows of buttons.
type InlineKeyboardMarkup struct {
	InlineKeyboard [][]InlineKeyboardButton `json:"inline_keyboard"`
}

// LinkPreviewOptions says how a message's link preview is shown.
type LinkPreviewOptions struct {
	IsDisabled       bool   `json:"is_disabled,omitempty"`
	URL              string `json:"url,omitempty"`
	PreferSmallMedia bool   `json:"prefer_small_media,omitempty"`
	PreferLargeMedia bool   `json:"prefer_large_media,omitempty"`
	ShowAboveText    bool   `json:"show_above_text,omitempty"`
}

// SendMessageParams are the arguments of sendMessage. The JSON names are
// Telegram's.
type SendMessageParams struct {
	// ChatID is a user's id for a private chat; a group's id is negative.
	ChatID int64 `json:"chat_id"`
	// MessageThreadID sends to a forum topic of a supergroup.
	MessageThreadID int `json:"message_thread_id,omitempty"`
	// Text is 1 to MaxMessageLength characters. With ParseModeHTML, escape
	// untrusted parts with EscapeHTML.
	Text string `json:"text"`
	// ParseMode is ParseModeHTML, ParseModeMarkdownV2, or empty for plain text.
	ParseMode           string                `json:"parse_mode,omitempty"`
	LinkPreviewOptions  *LinkPreviewOptions   `json:"link_preview_options,omitempty"`
	DisableNotification bool                  `json:"disable_notification,omitempty"`
	ReplyMarkup         *InlineKeyboardMarkup `json:"reply_markup,omitempty"`
}

// SetWebhookParams are the arguments of setWebhook.
type SetWebhookParams struct {
	// URL is the HTTPS URL Telegram POSTs updates to.
	URL string `json:"url"`
	// SecretToken is sent back in every update's
	// X-Telegram-Bot-Api-Secret-Token header: 1 to 256 characters of A-Z,
	// a-z, 0-9, _ and -.
	SecretToken string `json:"secret_token,omitempty"`
	// AllowedUpdates lists the update kinds to receive (UpdateMessage, …);
	// empty keeps the previous list.
	AllowedUpdates     []string `json:"allowed_updates,omitempty"`
	MaxConnections     int      `json:"max_connections,omitempty"`
	DropPendingUpdates bool     `json:"drop_pending_updates,omitempty"`
}

// DeleteWebhookParams are the arguments of deleteWebhook.
type DeleteWebhookParams struct {
	DropPendingUpdates bool `json:"drop_pending_updates,omitempty"`
}

// WebhookInfo is the answer of getWebhookInfo. URL is empty when no webhook
// is set (the bot then takes getUpdates).
type WebhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	IPAddress            string   `json:"ip_address,omitempty"`
	LastErrorDate        int64    `json:"last_error_date,omitempty"` // Unix time, seconds
	LastErrorMessage     string   `json:"last_error_message,omitempty"`
	MaxConnections       int      `json:"max_connections,omitempty"`
	AllowedUpdates       []string `json:"allowed_updates,omitempty"`
}

// GetUpdatesParams are the arguments of getUpdates.
type GetUpdatesParams struct {
	// Offset is the first update_id to return: one more than the last one
	// processed, which also confirms it and every earlier one.
	Offset int64
	// Limit is 1 to 100 updates; 0 is Telegram's default, 100.
	Limit int
	// Timeout is how long Telegram holds the request when no update is
	// waiting (long polling), in whole seconds; 0 answers at once.
	Timeout time.Duration
	// AllowedUpdates lists the update kinds to receive; empty keeps the
	// previous list.
	AllowedUpdates []string
}

type getUpdatesRequest struct {
	Offset         int64    `json:"offset,omitempty"`
	Limit          int      `json:"limit,omitempty"`
	Timeout        int64    `json:"timeout,omitempty"`
	AllowedUpdates []string `json:"allowed_updates,omitempty"`
}

// Menu button types.
const (
	MenuButtonDefault  = "default"
	MenuButtonCommands = "commands"
	MenuButtonWebApp   = "web_app"
)

// MenuButton is the button beside a chat's input field.
type MenuButton struct {
	Type   string      `json:"type"` // MenuButtonWebApp, MenuButtonCommands or MenuButtonDefault
	Text   string      `json:"text,omitempty"`
	WebApp *WebAppInfo `json:"web_app,omitempty"`
}

// SetChatMenuButtonParams are the arguments of setChatMenuButton.
type SetChatMenuButtonParams struct {
	// ChatID is the private chat to change; 0 changes the bot's default
	// button.
	ChatID     int64       `json:"chat_id,omitempty"`
	MenuButton *MenuButton `json:"menu_button,omitempty"`
}
