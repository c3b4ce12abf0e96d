package pulse

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
)

// Defaults of Config.
const (
	RetryBaseDefault     = time.Second
	RetryMaxDefault      = 5 * time.Minute
	MaxAttemptsDefault   = 20
	MaxAgeDefault        = 72 * time.Hour
	LeaseDefault         = 60 * time.Second
	BatchSizeDefault     = 500
	MaxBatchBytesDefault = 1 << 20
	ConcurrencyDefault   = 2
	// MaxConcurrencyDefault lets the background sender drain a backlog
	// against a 20 ms receiver in about two thirds of the time of
	// Concurrency 2 (BENCHMARKS.md).
	MaxConcurrencyDefault = 8
	HTTPTimeoutDefault    = 15 * time.Second
	MaxRetryAfterDefault  = 10 * time.Minute
	SweepScheduleDefault  = "@every 1m"
)

// senderIDMaxLen leaves room in lease_owner (128 characters) for the
// per-claim suffix.
const senderIDMaxLen = 100

// Config configures a Pulse. The zero value is valid and leaves Pulse
// unconfigured: Track stores nothing until URL, APIKey and Secret are set,
// here or later with SetCredentials.
type Config struct {
	// URL is the base URL of the Pulse API; events are POSTed to
	// URL + "/v1/events". Set URL, APIKey and Secret together, or none of
	// them. Defaults to "" (not configured).
	URL string

	// APIKey is sent as "Authorization: Bearer {APIKey}". Defaults to "".
	APIKey string

	// Secret signs every body (PayloadSigner). Defaults to "".
	Secret string

	// RetryBase is the backoff before the second attempt; it doubles with
	// every attempt, with jitter. Defaults to RetryBaseDefault (1s).
	RetryBase time.Duration

	// RetryMax caps the backoff. Defaults to RetryMaxDefault (5m).
	RetryMax time.Duration

	// MaxAttempts is how many counted attempts an event gets before it is
	// marked failed. Defaults to MaxAttemptsDefault (20).
	MaxAttempts int

	// MaxAge is how long after it was stored an event may still be
	// retried; a transient failure after that marks it failed. Defaults to
	// MaxAgeDefault (72h).
	MaxAge time.Duration

	// Lease is how long a claimed batch belongs to its sender. A sender
	// that dies leaves its rows in 'sending'; another claims them once the
	// lease expires. It must exceed HTTPTimeout. Defaults to LeaseDefault
	// (60s).
	Lease time.Duration
	// ClusterSettle is how long a claim waits, on a MariaDB Galera cluster
	// only, before it confirms that no other node's claim of the same
	// events overtook it: Galera can let both claims commit, and then the
	// later one holds the events (see migrator.Fence). It must exceed how
	// long a claim's transaction takes. Off a cluster claims never wait.
	// Defaults to migrator.SettleDefault (100ms).
	ClusterSettle time.Duration

	// BatchSize is the most events in one request. Defaults to
	// BatchSizeDefault (500).
	BatchSize int

	// MaxBatchBytes is the largest request body; a batch stops growing
	// before it would exceed it. Defaults to MaxBatchBytesDefault (1 MiB).
	MaxBatchBytes int

	// Concurrency is how many batches may be in flight at once. Defaults
	// to ConcurrencyDefault (2).
	Concurrency int

	// MaxConcurrency is how far the background sender may raise the
	// batches in flight above Concurrency while a backlog drains against a
	// receiver whose latency, not the database, is what each batch waits
	// on; any batch that is not fully accepted (a 429, a 5xx, a network
	// error) drops it back to Concurrency at once. SendOnce always uses
	// Concurrency. Defaults to MaxConcurrencyDefault (8), or Concurrency
	// when that is higher; set it to Concurrency to turn adapting off.
	MaxConcurrency int

	// HTTPTimeout bounds one request, answer included. Defaults to
	// HTTPTimeoutDefault (15s).
	HTTPTimeout time.Duration

	// MaxRetryAfter clamps a Retry-After answer, so that a misconfigured
	// server cannot park events for days. Defaults to MaxRetryAfterDefault
	// (10m).
	MaxRetryAfter time.Duration

	// SweepSchedule is the robfig/cron schedule (five fields or a
	// descriptor such as "@every 30s") on which Start's sender looks for
	// due events even when nothing woke it. Defaults to
	// SweepScheduleDefault ("@every 1m").
	SweepSchedule string

	// NoSweep turns Start's own sweep off, for a host whose scheduler
	// runs SendOnce on a schedule instead (telecart's pulse_sweep task
	// does, so that turning that task off stops the sweep). Wake-ups, and
	// retries, leases and pauses falling due, still start the background
	// sender. Defaults to false: Start sweeps on SweepSchedule.
	NoSweep bool

	// HTTPClient sends the requests; each is bounded by HTTPTimeout
	// through its context. Defaults to a new http.Client.
	HTTPClient *http.Client

	// Logger receives delivery problems and lifecycle events. Defaults to
	// slog.Default().
	Logger *slog.Logger

	// Now is the clock for stored times (created_at, next_attempt_at,
	// leases) and signature timestamps. Defaults to time.Now.
	Now func() time.Time

	// SenderID names this process in lease_owner, up to 100 printable
	// characters. Defaults to hostname-pid-random.
	SenderID string

	// OnDelivery and OnStateChange let a host observe the sender without
	// polling (metrics, alerts). They are called synchronously on the
	// goroutine that did the work (a background worker, SendOnce's
	// caller's, or SetCredentials' caller's), possibly on several at once,
	// never inside a transaction or a lock. The sender waits for them, so
	// they must return quickly and hand slow work (a network call) to a
	// goroutine of their own. Both default to nil.

	// OnDelivery is called once for every claimed batch, after what
	// became of its events is stored.
	OnDelivery func(DeliveryReport)

	// OnStateChange is called when sending pauses because the Pulse API
	// refused the credentials (401/403: the state's AuthFailing is true,
	// LastError holds the answer, PausedUntil the next try), and when it
	// resumes (AuthFailing false) after an accepted batch or
	// SetCredentials. It gets the state after the change.
	OnStateChange func(SenderState)
}

func (c Config) withDefaults() Config {
	if c.RetryBase == 0 {
		c.RetryBase = RetryBaseDefault
	}
	if c.RetryMax == 0 {
		c.RetryMax = max(RetryMaxDefault, c.RetryBase)
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = MaxAttemptsDefault
	}
	if c.MaxAge == 0 {
		c.MaxAge = MaxAgeDefault
	}
	if c.Lease == 0 {
		c.Lease = LeaseDefault
	}
	if c.BatchSize == 0 {
		c.BatchSize = BatchSizeDefault
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = MaxBatchBytesDefault
	}
	if c.Concurrency == 0 {
		c.Concurrency = ConcurrencyDefault
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = max(MaxConcurrencyDefault, c.Concurrency)
	}
	if c.HTTPTimeout == 0 {
		c.HTTPTimeout = HTTPTimeoutDefault
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = MaxRetryAfterDefault
	}
	if c.SweepSchedule == "" {
		c.SweepSchedule = SweepScheduleDefault
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
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

// minBatchBytes is the smallest MaxBatchBytes that still fits an event with
// maximal ids and a small payload.
const minBatchBytes = 1024

func (c Config) validate() error {
	if _, err := newCredentials(c.URL, c.APIKey, c.Secret); err != nil {
		return err
	}
	switch {
	case c.RetryBase < time.Millisecond:
		return fmt.Errorf("pulse: RetryBase must be at least 1ms, got %s", c.RetryBase)
	case c.RetryMax < c.RetryBase:
		return fmt.Errorf("pulse: RetryMax (%s) must not be shorter than RetryBase (%s)", c.RetryMax, c.RetryBase)
	case c.MaxAttempts < 1:
		return fmt.Errorf("pulse: MaxAttempts must be at least 1, got %d", c.MaxAttempts)
	case c.MaxAge <= 0:
		return fmt.Errorf("pulse: MaxAge must be positive, got %s", c.MaxAge)
	case c.HTTPTimeout <= 0:
		return fmt.Errorf("pulse: HTTPTimeout must be positive, got %s", c.HTTPTimeout)
	case c.ClusterSettle < 0 || c.ClusterSettle > c.Lease/4:
		return fmt.Errorf("pulse: ClusterSettle must be between 0 and a quarter of Lease (%s), got %s", c.Lease, c.ClusterSettle)
	case c.Lease <= c.HTTPTimeout:
		return fmt.Errorf("pulse: Lease (%s) must exceed HTTPTimeout (%s), or another sender could claim a batch still in flight", c.Lease, c.HTTPTimeout)
	case c.BatchSize < 1 || c.BatchSize > 10000:
		return fmt.Errorf("pulse: BatchSize must be between 1 and 10000, got %d", c.BatchSize)
	case c.MaxBatchBytes < minBatchBytes:
		return fmt.Errorf("pulse: MaxBatchBytes must be at least %d, got %d", minBatchBytes, c.MaxBatchBytes)
	case c.Concurrency < 1 || c.Concurrency > 64:
		return fmt.Errorf("pulse: Concurrency must be between 1 and 64, got %d", c.Concurrency)
	case c.MaxConcurrency < c.Concurrency || c.MaxConcurrency > 64:
		return fmt.Errorf("pulse: MaxConcurrency must be between Concurrency (%d) and 64, got %d", c.Concurrency, c.MaxConcurrency)
	case c.MaxRetryAfter < 0:
		return fmt.Errorf("pulse: MaxRetryAfter must not be negative, got %s", c.MaxRetryAfter)
	}
	if _, err := cron.ParseStandard(c.SweepSchedule); err != nil {
		return fmt.Errorf("pulse: SweepSchedule %q is not a cron schedule: %v", c.SweepSchedule, err)
	}
	if len(c.SenderID) > senderIDMaxLen || strings.IndexFunc(c.SenderID, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("pulse: SenderID must be up to %d printable characters, got %q", senderIDMaxLen, c.SenderID)
	}
	return nil
}

// defaultSenderID is unique per process, and readable in lease_owner when
// an operator wonders who holds a batch.
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

// credentials are what SetCredentials changes at run time. The zero value
// (all empty) means not configured.
type credentials struct {
	endpoint string // URL + "/v1/events"
	apiKey   string
	signer   *PayloadSigner
	gen      uint64 // increases with every SetCredentials
}

func (c *credentials) configured() bool { return c != nil && c.signer != nil }

// newCredentials validates a URL, API key and secret: all three, or none.
func newCredentials(rawURL, apiKey, secret string) (*credentials, error) {
	if rawURL == "" && apiKey == "" && secret == "" {
		return &credentials{}, nil
	}
	const all = "; set URL, APIKey and Secret together, or leave all three empty to disable Pulse"
	switch {
	case rawURL == "":
		return nil, errors.New("pulse: URL is empty" + all)
	case apiKey == "":
		return nil, errors.New("pulse: APIKey is empty" + all)
	case secret == "":
		return nil, errors.New("pulse: Secret is empty" + all)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("pulse: URL %q must be an absolute http or https URL without query, e.g. https://pulse.example.com", rawURL)
	}
	if strings.ContainsAny(apiKey, "\r\n") {
		return nil, errors.New("pulse: APIKey must not contain line breaks")
	}
	signer, err := NewPayloadSigner(SignerConfig{Secret: secret})
	if err != nil {
		return nil, err
	}
	return &credentials{
		endpoint: strings.TrimRight(rawURL, "/") + "/v1/events",
		apiKey:   apiKey,
		signer:   signer,
	}, nil
}
