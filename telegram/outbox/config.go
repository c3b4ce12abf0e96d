package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
)

// Defaults of Config.
const (
	// GlobalRateDefault is the most messages a second in all: Telegram
	// allows about 30; one less keeps a margin for the network's jitter,
	// so that no 1-second window at Telegram's end sees more than 30.
	GlobalRateDefault = 29.0
	// PrivateIntervalDefault is the shortest time between two messages to
	// one private chat (Telegram: about one a second).
	PrivateIntervalDefault = time.Second
	// GroupIntervalDefault is the shortest time between two messages to one
	// group (Telegram: 20 a minute).
	GroupIntervalDefault = 3 * time.Second
	// SlotToleranceDefault is how late after its slot a message may still
	// be sent; a later one goes back to the queue for a new slot, so that a
	// stalled sender never bunches its messages up.
	SlotToleranceDefault = 25 * time.Millisecond
	LeaseDefault         = 30 * time.Second
	MaxAttemptsDefault   = 10
	RetryBaseDefault     = 2 * time.Second
	RetryMaxDefault      = 10 * time.Minute
	MaxRetryAfterDefault = time.Hour
	MaxAgeDefault        = 72 * time.Hour
	SweepIntervalDefault = 30 * time.Second
	// UnpacedBatchDefault is how many messages a claim takes with NoPacing.
	UnpacedBatchDefault = 100
)

// Sender sends one message to Telegram: *botapi.Client. Its errors are
// classified with botapi's helpers (403 blocked, 400 refused, 429 flood
// control, 5xx and network errors temporary).
type Sender interface {
	SendMessage(ctx context.Context, p botapi.SendMessageParams) (botapi.Message, error)
}

// Config configures an Outbox. Bot and Customers are required.
type Config struct {
	// Bot sends the messages. Required.
	Bot Sender
	// Customers marks the customers Telegram says blocked the bot (a 403),
	// the one owner of the customers table. Required.
	Customers *telegram.CustomerStore

	// WebAppURL is the storefront's URL ({public-url}/app/), opened by a
	// broadcast's button. Defaults to "": broadcasts have no button.
	WebAppURL string

	// GlobalRate is the most messages a second across all chats and all
	// replicas sharing the database. Defaults to GlobalRateDefault (29).
	GlobalRate float64
	// PrivateInterval is the shortest time between two messages to one
	// private chat (a positive chat id). Defaults to PrivateIntervalDefault (1s).
	PrivateInterval time.Duration
	// GroupInterval is the shortest time between two messages to one group
	// (a negative chat id). Defaults to GroupIntervalDefault (3s: 20 a minute).
	GroupInterval time.Duration
	// SlotTolerance is how late after its slot a message may still be sent.
	// Defaults to SlotToleranceDefault (25ms).
	SlotTolerance time.Duration
	// NoPacing turns the limits off: claims take UnpacedBatch messages side
	// by side, as Pulse's do. For benchmarks and a local Bot API server
	// without limits. Defaults to false.
	NoPacing bool
	// UnpacedBatch is a claim's size with NoPacing. Defaults to
	// UnpacedBatchDefault (100).
	UnpacedBatch int

	// Lease is how long a claimed message belongs to its sender after its
	// slot. Defaults to LeaseDefault (30s).
	Lease time.Duration
	// ClusterSettle is how long a claim waits, on a MariaDB Galera cluster
	// only, before it confirms that no other node's claim of the same
	// messages overtook it: Galera can let both claims commit, and then
	// the later one holds the messages (see migrator.Fence). Off a cluster
	// claims never wait. Defaults to migrator.SettleDefault (100ms).
	ClusterSettle time.Duration
	// MaxAttempts is how many counted attempts (5xx, network errors) a
	// message gets before it is marked failed. Defaults to
	// MaxAttemptsDefault (10).
	MaxAttempts int
	// MaxAge is how long after it was queued a message may still be retried.
	// Defaults to MaxAgeDefault (72h).
	MaxAge time.Duration
	// RetryBase and RetryMax bound the backoff after a temporary failure.
	// Default to RetryBaseDefault (2s) and RetryMaxDefault (10m).
	RetryBase, RetryMax time.Duration
	// MaxRetryAfter clamps a 429's retry_after. Defaults to
	// MaxRetryAfterDefault (1h).
	MaxRetryAfter time.Duration
	// SweepInterval is how often the background sender looks for due
	// messages when nothing woke it. Defaults to SweepIntervalDefault (30s).
	SweepInterval time.Duration

	// OnDelivery is called after the outcome of every attempt is stored:
	// synchronously on the sender's goroutine, outside every transaction
	// and lock. The sender waits for it, so it must return quickly and hand
	// slow work to a goroutine of its own. Defaults to nil.
	OnDelivery func(Delivery)
	// OnSentTx is called inside the transaction that records a message as
	// sent, with the message as it is being recorded, so that what it
	// writes through tx (a Pulse event, say) is stored if and only if the
	// message is recorded as sent. It must use tx for every database access
	// (on SQLite the transaction holds the one connection) and return
	// quickly. When it returns an error, the transaction is rolled back and
	// tried again as any record is; if it still fails, the message is
	// recorded as sent without it and the error is logged: Telegram has the
	// message, and sending it again to store what OnSentTx writes would
	// repeat it to the recipient. Defaults to nil.
	OnSentTx func(ctx context.Context, tx *sql.Tx, m Message) error

	// OnChatMigrated is called when Telegram answers that a group became a
	// supergroup with a new id (migrate_to_chat_id): the message and the
	// rest of the old id's queue now go to the new id, and the host moves
	// its own references to the chat (telecart: the owner chat setting).
	// Called after the change is stored, outside every transaction, on the
	// sender's goroutine, with a context bounded by a few seconds; it may
	// be called more than once for one chat. Defaults to nil.
	OnChatMigrated func(ctx context.Context, from, to int64)

	// Logger defaults to slog.Default(). Now defaults to time.Now.
	Logger *slog.Logger
	Now    func() time.Time
	// SenderID names this process in lease_owner. Defaults to
	// hostname-pid-random.
	SenderID string
}

func (c Config) withDefaults() Config {
	if c.GlobalRate == 0 {
		c.GlobalRate = GlobalRateDefault
	}
	if c.PrivateInterval == 0 {
		c.PrivateInterval = PrivateIntervalDefault
	}
	if c.GroupInterval == 0 {
		c.GroupInterval = GroupIntervalDefault
	}
	if c.SlotTolerance == 0 {
		c.SlotTolerance = SlotToleranceDefault
	}
	if c.UnpacedBatch == 0 {
		c.UnpacedBatch = UnpacedBatchDefault
	}
	if c.Lease == 0 {
		c.Lease = LeaseDefault
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = MaxAttemptsDefault
	}
	if c.MaxAge == 0 {
		c.MaxAge = MaxAgeDefault
	}
	if c.RetryBase == 0 {
		c.RetryBase = RetryBaseDefault
	}
	if c.RetryMax == 0 {
		c.RetryMax = max(RetryMaxDefault, c.RetryBase)
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = MaxRetryAfterDefault
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = SweepIntervalDefault
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SenderID == "" {
		c.SenderID = defaultSenderID()
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Bot == nil:
		return errors.New("outbox: Config.Bot is nil; pass the *botapi.Client made by botapi.New")
	case c.Customers == nil:
		return errors.New("outbox: Config.Customers is nil; pass the store made by telegram.NewCustomerStore")
	case c.GlobalRate < 0.1 || c.GlobalRate > 1000:
		return fmt.Errorf("outbox: GlobalRate must be between 0.1 and 1000 messages a second, got %v", c.GlobalRate)
	case c.PrivateInterval < 0 || c.GroupInterval < 0 || c.SlotTolerance < 0:
		return errors.New("outbox: PrivateInterval, GroupInterval and SlotTolerance must not be negative")
	case c.UnpacedBatch < 1 || c.UnpacedBatch > 10000:
		return fmt.Errorf("outbox: UnpacedBatch must be between 1 and 10000, got %d", c.UnpacedBatch)
	case c.ClusterSettle < 0 || c.ClusterSettle > time.Second:
		return fmt.Errorf("outbox: ClusterSettle must be between 0 and 1s, got %s", c.ClusterSettle)
	case c.Lease < time.Second:
		return fmt.Errorf("outbox: Lease must be at least 1s (a sendMessage call gets half of it), got %s", c.Lease)
	case c.MaxAttempts < 1:
		return fmt.Errorf("outbox: MaxAttempts must be at least 1, got %d", c.MaxAttempts)
	case c.MaxAge <= 0:
		return fmt.Errorf("outbox: MaxAge must be positive, got %s", c.MaxAge)
	case c.RetryBase < time.Millisecond || c.RetryMax < c.RetryBase:
		return fmt.Errorf("outbox: RetryBase (%s) must be at least 1ms and RetryMax (%s) not shorter", c.RetryBase, c.RetryMax)
	case c.MaxRetryAfter < 0:
		return errors.New("outbox: MaxRetryAfter must not be negative")
	case c.SweepInterval < 10*time.Millisecond:
		return fmt.Errorf("outbox: SweepInterval must be at least 10ms, got %s", c.SweepInterval)
	case len(c.SenderID) > 100:
		return errors.New("outbox: SenderID must be up to 100 characters")
	}
	return nil
}

// interval is the time between two slots.
func (c Config) interval() time.Duration {
	return time.Duration(float64(time.Second) / c.GlobalRate)
}

// chatInterval is the shortest time between two slots of one chat: its
// interval plus the tolerance, so that a message sent at the end of its
// slot's tolerance and the chat's next one sent on time are still a whole
// interval apart.
func (c Config) chatInterval(chatID int64) time.Duration {
	if chatID < 0 {
		return c.GroupInterval + c.SlotTolerance
	}
	return c.PrivateInterval + c.SlotTolerance
}

func defaultSenderID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	if len(host) > 64 {
		host = host[:64]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}
