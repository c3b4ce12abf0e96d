package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrWriteNotAllowed is returned, before anything is sent, for a customer
// who has not allowed the bot to write to them (allows_write_to_pm false in
// their init data).
var ErrWriteNotAllowed = errors.New("telegram: the customer has not allowed the bot to write to them")

// MessageSender sends a text message to a Telegram chat. *Bot implements it;
// tests use a fake.
type MessageSender interface {
	Send(ctx context.Context, p SendMessageParams) (Message, error)
}

// MessageQueue queues a message to a customer for the background sender:
// the durable message outbox (telegram/outbox), which paces, retries and
// records it.
type MessageQueue interface {
	QueueToCustomer(ctx context.Context, c Customer, text string) (QueuedMessage, error)
}

// QueuedMessage is a message stored in the outbox, as the admin API answers
// it: sent later, in the background.
type QueuedMessage struct {
	ID         int64     `json:"id"`
	Status     string    `json:"status"`
	CustomerID int64     `json:"customer_id"`
	ChatID     int64     `json:"chat_id"`
	Text       string    `json:"text"`
	CreatedAt  time.Time `json:"created_at"`
}

// MessengerConfig configures a Messenger.
type MessengerConfig struct {
	// Store is where customers are looked up and marked unreachable.
	// Required.
	Store *CustomerStore
	// Queue, when set, takes the messages instead of Sender: Queue then
	// stores them and answers at once. Set one of Queue and Sender.
	Queue MessageQueue
	// Sender sends the messages synchronously: the *Bot made by NewBot.
	Sender MessageSender
	// Now is the clock for bot_blocked_at. Defaults to the store's clock.
	Now func() time.Time
	// Logger receives customers found unreachable and failed marks. Defaults
	// to a discarding logger.
	Logger *slog.Logger
	// OnSent, when set, is called after a message was delivered to Telegram,
	// for example to track a MESSAGE_SENT event.
	OnSent func(ctx context.Context, c Customer, messageID int64)
	// MarkTimeout bounds the database write that marks a customer
	// unreachable after Telegram refused a message; it runs even when the
	// caller's context was cancelled meanwhile. Defaults to
	// MarkTimeoutDefault.
	MarkTimeout time.Duration
}

// MarkTimeoutDefault is MessengerConfig.MarkTimeout's default.
const MarkTimeoutDefault = 5 * time.Second

// MessageResult is the outcome of a sent message.
type MessageResult struct {
	MessageID int64 `json:"message_id"`
}

// Messenger sends admin messages to customers through the Bot API, refusing
// customers Telegram would refuse, and remembering those it does refuse.
type Messenger struct {
	store  *CustomerStore
	sender MessageSender
	cfg    MessengerConfig
}

// NewMessenger returns a Messenger that looks customers up in cfg.Store
// and sends through cfg.Sender, or an error naming the field to fix.
func NewMessenger(cfg MessengerConfig) (*Messenger, error) {
	if cfg.Store == nil {
		return nil, errors.New("telegram: MessengerConfig.Store is nil; pass the store made by NewCustomerStore")
	}
	if cfg.Sender == nil && cfg.Queue == nil {
		return nil, errors.New("telegram: MessengerConfig.Sender is nil, and so is Queue; pass the message outbox as Queue")
	}
	if cfg.MarkTimeout < 0 {
		return nil, errors.New("telegram: MessengerConfig.MarkTimeout must not be negative")
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Store.now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MarkTimeout == 0 {
		cfg.MarkTimeout = MarkTimeoutDefault
	}
	return &Messenger{store: cfg.Store, sender: cfg.Sender, cfg: cfg}, nil
}

// Send sends text, as plain text (no markup), to the customer customerID.
//
// Errors, checked with errors.Is: ErrMessageEmpty or ErrMessageTooLong (more
// than MaxMessageLength characters) before anything else is done;
// ErrCustomerNotFound; ErrCustomerErased; ErrRecipientUnreachable for a customer already marked
// bot_blocked and ErrWriteNotAllowed for one who has not allowed the bot to
// write, in both cases without calling Telegram. When Telegram answers that
// the user blocked the bot, deleted the account or never started the bot
// (ErrBotBlocked, ErrUserDeactivated, ErrCantInitiate, all matching
// ErrRecipientUnreachable), the customer is marked unreachable and that
// error returned. Other errors come from the sender (*APIError) or the
// database.
func (m *Messenger) Send(ctx context.Context, customerID int64, text string) (MessageResult, error) {
	if strings.TrimSpace(text) == "" {
		return MessageResult{}, ErrMessageEmpty
	}
	if utf8.RuneCountInString(text) > MaxMessageLength {
		return MessageResult{}, ErrMessageTooLong
	}
	c, err := m.store.Get(ctx, customerID)
	if err != nil {
		return MessageResult{}, err
	}
	if c.Erased() {
		return MessageResult{}, fmt.Errorf("%w (customer %d)", ErrCustomerErased, c.ID)
	}
	if c.BotBlocked {
		return MessageResult{}, &unreachableError{customer: c}
	}
	if !c.AllowsWriteToPM {
		return MessageResult{}, fmt.Errorf("%w (customer %d)", ErrWriteNotAllowed, c.ID)
	}
	msg, err := m.sender.Send(ctx, SendMessageParams{ChatID: c.TelegramUserID, Text: text, ParseMode: ParseModeNone})
	if err != nil {
		if errors.Is(err, ErrRecipientUnreachable) {
			m.markUnreachable(ctx, c, err)
		}
		return MessageResult{}, &deliveryError{customerID: c.ID, err: err}
	}
	if m.cfg.OnSent != nil {
		m.cfg.OnSent(ctx, c, msg.MessageID)
	}
	return MessageResult{MessageID: msg.MessageID}, nil
}

// Queue checks the message and the customer as Send does, without calling
// Telegram, and hands the message to the configured Queue. Errors:
// ErrMessageEmpty, ErrMessageTooLong, ErrCustomerNotFound,
// ErrRecipientUnreachable, ErrWriteNotAllowed, and the queue's.
func (m *Messenger) Queue(ctx context.Context, customerID int64, text string) (QueuedMessage, error) {
	if m.cfg.Queue == nil {
		return QueuedMessage{}, errors.New("telegram: Messenger.Queue without MessengerConfig.Queue")
	}
	if strings.TrimSpace(text) == "" {
		return QueuedMessage{}, ErrMessageEmpty
	}
	if utf8.RuneCountInString(text) > MaxMessageLength {
		return QueuedMessage{}, ErrMessageTooLong
	}
	c, err := m.store.Get(ctx, customerID)
	if err != nil {
		return QueuedMessage{}, err
	}
	if c.BotBlocked {
		return QueuedMessage{}, &unreachableError{customer: c}
	}
	if !c.AllowsWriteToPM {
		return QueuedMessage{}, fmt.Errorf("%w (customer %d)", ErrWriteNotAllowed, c.ID)
	}
	return m.cfg.Queue.QueueToCustomer(ctx, c, text)
}

// markUnreachable records Telegram's refusal. Telegram has answered by now,
// so the write must not be lost to a caller that hung up meanwhile.
func (m *Messenger) markUnreachable(ctx context.Context, c Customer, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.MarkTimeout)
	defer cancel()
	m.cfg.Logger.InfoContext(ctx, "telegram: customer unreachable", "customer_id", c.ID, "reason", cause)
	if err := m.store.MarkUnreachable(ctx, c.ID, m.cfg.Now()); err != nil {
		m.cfg.Logger.ErrorContext(ctx, "telegram: marking customer unreachable", "customer_id", c.ID, "err", err)
	}
}

// unreachableError is the refusal of a customer already marked unreachable.
type unreachableError struct{ customer Customer }

func (e *unreachableError) Error() string {
	s := fmt.Sprintf("telegram: customer %d is marked unreachable", e.customer.ID)
	if at := e.customer.BotBlockedAt; at != nil {
		s += " since " + at.Format(time.RFC3339)
	}
	return s
}

func (e *unreachableError) Is(target error) bool { return target == ErrRecipientUnreachable }

// deliveryError is a failure of the sender (Telegram's answer or the network),
// as opposed to the database.
type deliveryError struct {
	customerID int64
	err        error
}

func (e *deliveryError) Error() string {
	return fmt.Sprintf("telegram: sending a message to customer %d: %v", e.customerID, e.err)
}

func (e *deliveryError) Unwrap() error { return e.err }
