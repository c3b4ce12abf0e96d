package telecart

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// Notifications are the new-order notices: one to the owner chat, one to
// the buyer (when they allowed the bot to write), each with a template per
// language (a language code such as "en" or "ru"). Templates are Telegram
// HTML with the placeholders {order_id}, {shop_name}, {customer}, {total},
// {items}, {fields} and {date}, whose values are HTML-escaped. A language
// without a template of its own uses "en".
type Notifications struct {
	// OwnerOff and BuyerOff switch a notice off; both are on by default.
	OwnerOff bool `json:"owner_off"`
	BuyerOff bool `json:"buyer_off"`
	// OwnerLanguage picks the owner's template. Defaults to "en".
	OwnerLanguage string `json:"owner_language"`
	// Owner and Buyer are the templates by language; empty maps take
	// DefaultNotificationTemplates.
	Owner map[string]string `json:"owner"`
	Buyer map[string]string `json:"buyer"`
}

// DefaultOwnerTemplates and DefaultBuyerTemplates are the templates a shop
// starts with.
var (
	DefaultOwnerTemplates = map[string]string{
		"en": "🛒 <b>New order #{order_id}</b> in {shop_name}\nCustomer: {customer}\nTotal: <b>{total}</b>\n\n{items}\n\n{fields}\n{date}",
		"ru": "🛒 <b>Новый заказ №{order_id}</b> в {shop_name}\nПокупатель: {customer}\nСумма: <b>{total}</b>\n\n{items}\n\n{fields}\n{date}",
	}
	DefaultBuyerTemplates = map[string]string{
		"en": "Thank you for your order #{order_id} in {shop_name}!\nTotal: <b>{total}</b>\n\n{items}\n\nWe will contact you soon.",
		"ru": "Спасибо за заказ №{order_id} в {shop_name}!\nСумма: <b>{total}</b>\n\n{items}\n\nМы скоро свяжемся с вами.",
	}
)

func (n Notifications) clone() Notifications {
	c := n
	c.Owner = maps.Clone(n.Owner)
	c.Buyer = maps.Clone(n.Buyer)
	return c
}

var languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{1,8})?$`)

// validate adds a message per invalid field to fields.
func (n *Notifications) validate(fields map[string]string) {
	n.OwnerLanguage = strings.TrimSpace(n.OwnerLanguage)
	if n.OwnerLanguage != "" && !languagePattern.MatchString(n.OwnerLanguage) {
		fields["notifications.owner_language"] = "Must be a language code such as en or ru."
	}
	for name, m := range map[string]map[string]string{"owner": n.Owner, "buyer": n.Buyer} {
		for lang, tpl := range m {
			key := "notifications." + name + "." + lang
			switch {
			case !languagePattern.MatchString(lang):
				fields[key] = "The language must be a code such as en or ru."
			case strings.TrimSpace(tpl) == "":
				fields[key] = "Must not be empty; switch the notice off instead."
			case utf8.RuneCountInString(tpl) > 3000:
				fields[key] = "Must be at most 3000 characters."
			default:
				if msg := templateHTMLProblem(tpl); msg != "" {
					fields[key] = msg
				}
			}
		}
	}
}

// placeholderZeros replaces each placeholder with as many zeros: text of
// the same length, so that a problem's position is the template's own.
var placeholderZeros = func() *strings.Replacer {
	var pairs []string
	for _, p := range []string{"{order_id}", "{shop_name}", "{customer}", "{total}", "{items}", "{fields}", "{date}"} {
		pairs = append(pairs, p, strings.Repeat("0", len(p)))
	}
	return strings.NewReplacer(pairs...)
}()

// templateHTMLProblem says why Telegram would refuse the notices a
// template makes, or "": the template must be valid Telegram HTML with its
// placeholders standing in, and filled with a sample order's values,
// escaped as a notice's are.
func templateHTMLProblem(tpl string) string {
	err := botapi.CheckHTML(placeholderZeros.Replace(tpl))
	if err == nil {
		err = botapi.CheckHTML(RenderNotification(tpl, sampleNotificationValues("Tea & Co <Moscow>", time.Now()), time.UTC))
	}
	if err != nil {
		return "Telegram would refuse it: " + err.Error() + "."
	}
	return ""
}

// sampleNotificationValues are the placeholders' values of a made-up
// order, for previews and checks.
func sampleNotificationValues(shopName string, at time.Time) NotificationValues {
	return NotificationValues{OrderID: "1042", ShopName: shopName, Customer: "Anna Smirnova (@anna)", Total: FormatPrice(349000, "RUB"),
		Items:  "Coffee beans × 2 — " + FormatPrice(249000, "RUB") + "\nMug × 1 — " + FormatPrice(100000, "RUB"),
		Fields: "address: 1 Main St\nphone: +7 900 000-00-00", Date: at}
}

// template returns the template for lang: the language's own, its base
// language's ("pt" for "pt-br"), else English.
func pickTemplate(custom, defaults map[string]string, lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	for _, m := range []map[string]string{custom, defaults} {
		if t, ok := m[strings.ToLower(lang)]; ok {
			return t
		}
		if t, ok := m[base]; ok {
			return t
		}
	}
	if t, ok := custom["en"]; ok {
		return t
	}
	return defaults["en"]
}

// ownerChatPattern is CHAT_ID or CHAT_ID:THREAD_ID.
var ownerChatPattern = regexp.MustCompile(`^(-?[1-9][0-9]{0,18})(?::([1-9][0-9]{0,9}))?$`)

// ParseOwnerChat reads an owner chat setting: a chat id, or
// CHAT_ID:THREAD_ID for a forum topic. "" is no chat (0, 0).
func ParseOwnerChat(s string) (chatID, threadID int64, err error) {
	if s == "" {
		return 0, 0, nil
	}
	m := ownerChatPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("telecart: owner chat %q is not CHAT_ID or CHAT_ID:THREAD_ID", s)
	}
	if chatID, err = strconv.ParseInt(m[1], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("telecart: owner chat %q: %w", s, err)
	}
	if m[2] != "" {
		threadID, _ = strconv.ParseInt(m[2], 10, 64)
	}
	return chatID, threadID, nil
}

// NotificationValues fill a template's placeholders, unescaped.
type NotificationValues struct {
	OrderID, ShopName, Customer, Total, Items, Fields string
	Date                                              time.Time
}

// RenderNotification fills tpl's placeholders with v, HTML-escaped, and
// the date in loc.
func RenderNotification(tpl string, v NotificationValues, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return strings.NewReplacer(
		"{order_id}", html.EscapeString(v.OrderID),
		"{shop_name}", html.EscapeString(v.ShopName),
		"{customer}", html.EscapeString(v.Customer),
		"{total}", html.EscapeString(v.Total),
		"{items}", html.EscapeString(v.Items),
		"{fields}", html.EscapeString(v.Fields),
		"{date}", html.EscapeString(v.Date.In(loc).Format("2006-01-02 15:04")),
	).Replace(tpl)
}

// orderValues are the placeholders' values for an order.
func orderValues(s Settings, orderID string, c telegram.Customer, o NewOrder, at time.Time) NotificationValues {
	name := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if o.Name != "" {
		name = o.Name
	}
	if c.Username != "" {
		name += " (@" + c.Username + ")"
	}
	var items []string
	for _, it := range o.Items {
		items = append(items, fmt.Sprintf("%s × %d — %s", it.Name, it.Quantity, FormatPrice(it.Total, o.Currency)))
	}
	var fields []string
	for _, k := range slices.Sorted(maps.Keys(o.Fields)) {
		if v := fmt.Sprint(o.Fields[k]); v != "" && v != "<nil>" {
			fields = append(fields, k+": "+v)
		}
	}
	return NotificationValues{OrderID: orderID, ShopName: s.ShopName, Customer: name,
		Total: FormatPrice(o.Total, o.Currency), Items: strings.Join(items, "\n"), Fields: strings.Join(fields, "\n"), Date: at}
}

// truncateText keeps a rendered notice within Telegram's limit, and valid
// HTML: a long list of items is cut between tags, never inside one.
func truncateText(s string) string {
	return botapi.TruncateHTML(s, botapi.MaxMessageLength)
}

// queueOrderNotices queues the new order's notices in the order's own
// transaction: the order is committed if and only if its notices are
// queued. Keys order:{id}:owner and order:{id}:buyer make a repeat a no-op.
func (tc *TeleCart) queueOrderNotices(ctx context.Context, tx *sql.Tx, s Settings, orderID string, c telegram.Customer, o NewOrder, at time.Time) error {
	loc, _ := time.LoadLocation(s.TimeZone)
	v := orderValues(s, orderID, c, o, at)
	n := s.Notifications
	if chat, thread, _ := ParseOwnerChat(s.OwnerChat); chat != 0 && !n.OwnerOff {
		lang := n.OwnerLanguage
		if lang == "" {
			lang = "en"
		}
		text := truncateText(RenderNotification(pickTemplate(n.Owner, DefaultOwnerTemplates, lang), v, loc))
		if _, _, err := tc.outbox.EnqueueTx(ctx, tx, outbox.Message{Kind: outbox.KindOrderOwner, IdempotencyKey: "order:" + orderID + ":owner",
			ChatID: chat, ThreadID: thread, Text: text, ParseMode: botapi.ParseModeHTML}); err != nil {
			return err
		}
	}
	if !n.BuyerOff && c.AllowsWriteToPM && !c.BotBlocked && c.TelegramUserID != 0 {
		text := truncateText(RenderNotification(pickTemplate(n.Buyer, DefaultBuyerTemplates, c.LanguageCode), v, loc))
		if _, _, err := tc.outbox.EnqueueTx(ctx, tx, outbox.Message{Kind: outbox.KindOrderBuyer, IdempotencyKey: "order:" + orderID + ":buyer",
			ChatID: c.TelegramUserID, CustomerID: c.ID, Text: text, ParseMode: botapi.ParseModeHTML}); err != nil {
			return err
		}
	}
	return nil
}

// messageQueue is the outbox as telegram.Messenger's queue: the admin's
// message to one customer.
type messageQueue struct{ o *outbox.Outbox }

func (q messageQueue) QueueToCustomer(ctx context.Context, c telegram.Customer, text string) (telegram.QueuedMessage, error) {
	m, _, err := q.o.Enqueue(ctx, outbox.Message{Kind: outbox.KindAdmin,
		IdempotencyKey: "admin:" + strconv.FormatInt(c.ID, 10) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36),
		ChatID:         c.TelegramUserID, CustomerID: c.ID, Text: text})
	if err != nil {
		return telegram.QueuedMessage{}, err
	}
	return telegram.QueuedMessage{ID: m.ID, Status: m.Status, CustomerID: m.CustomerID, ChatID: m.ChatID, Text: m.Text, CreatedAt: m.CreatedAt}, nil
}

// botReplies queues the bot's answers to Telegram's updates in the outbox,
// in the transaction that marks their update handled: an answer is queued
// if and only if its update was handled, and sent once.
type botReplies struct{ o *outbox.Outbox }

func (r botReplies) Reply(ctx context.Context, key string, p botapi.SendMessageParams) error {
	_, _, err := r.o.Enqueue(ctx, botReplyMessage(key, p))
	return err
}

func (r botReplies) ReplyTx(ctx context.Context, tx *sql.Tx, key string, p botapi.SendMessageParams) error {
	if _, _, err := r.o.EnqueueTx(ctx, tx, botReplyMessage(key, p)); err != nil {
		return err
	}
	// The row is visible once the intake commits, a moment from now; the
	// outbox's own sweep is the fallback if this wake comes too early.
	time.AfterFunc(botReplyWakeDelay, r.o.Wake)
	return nil
}

const botReplyWakeDelay = 50 * time.Millisecond

func botReplyMessage(key string, p botapi.SendMessageParams) outbox.Message {
	m := outbox.Message{Kind: outbox.KindBotReply, IdempotencyKey: key, ChatID: p.ChatID,
		ThreadID: int64(p.MessageThreadID), Text: p.Text, ParseMode: p.ParseMode}
	if p.ReplyMarkup != nil {
		for _, row := range p.ReplyMarkup.InlineKeyboard {
			for _, b := range row {
				btn := outbox.Button{Text: b.Text, URL: b.URL}
				if b.WebApp != nil {
					btn.WebAppURL = b.WebApp.URL
				}
				m.Buttons = append(m.Buttons, btn)
			}
		}
	}
	return m
}

// messageSentTx is the outbox's OnSentTx: it tracks MESSAGE_SENT for a
// broadcast or admin message (ids only, no text) in the transaction that
// records the message as sent, so that the event is stored if and only if
// the message is. Order notices and the bot's replies are no event.
func (tc *TeleCart) messageSentTx(ctx context.Context, tx *sql.Tx, m outbox.Message) error {
	if !tracksMessageSent(m) {
		return nil
	}
	c, err := tc.customers.GetTx(ctx, tx, m.CustomerID)
	if errors.Is(err, telegram.ErrCustomerNotFound) {
		return nil // nobody left to attribute the message to
	}
	if err != nil {
		return fmt.Errorf("telecart: tracking MESSAGE_SENT: %w", err)
	}
	payload := map[string]any{"message_id": m.ID, "kind": m.Kind}
	if m.BroadcastID != 0 {
		payload["broadcast_id"] = m.BroadcastID
	}
	if _, err := tc.pulse.TrackTx(ctx, tx, tc.serverEvent(pulse.EventMessageSent, "message:"+strconv.FormatInt(m.ID, 10), c, payload)); err != nil {
		return fmt.Errorf("telecart: tracking MESSAGE_SENT: %w", err)
	}
	return nil
}

// tracksMessageSent reports whether m, once sent, is a MESSAGE_SENT event.
func tracksMessageSent(m outbox.Message) bool {
	return m.CustomerID != 0 && (m.Kind == outbox.KindBroadcast || m.Kind == outbox.KindAdmin)
}

// messageDelivered is the outbox's OnDelivery: it calls the hosts'
// MessageDelivery hooks, after waking Pulse for the MESSAGE_SENT event
// committed with a sent message.
func (tc *TeleCart) messageDelivered(d outbox.Delivery) {
	if d.Status == outbox.StatusSent && tracksMessageSent(d.Message) {
		tc.pulse.Wake()
	}
	for _, h := range tc.hookList() {
		if h.MessageDelivery != nil {
			h.MessageDelivery(d)
		}
	}
}
