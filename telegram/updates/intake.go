package updates

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram/botapi"
)

// HeaderSecretToken is the header Telegram sends the webhook's secret in.
const HeaderSecretToken = "X-Telegram-Bot-Api-Secret-Token"

// ErrStopped is returned by Start after Stop: a stopped Intake does not
// restart; make a new one with New.
var ErrStopped = errors.New("updates: stopped; make a new Intake with New to start again")

// batchSize is how many due updates the worker reads at a time.
const batchSize = 50

// Intake receives Telegram's updates, by webhook or long polling, stores
// each once, and handles them in the background: /start, /chatid and
// my_chat_member. It is safe for concurrent use.
type Intake struct {
	cfg   Config
	store *store
	wake  chan struct{}

	botMu     sync.Mutex
	botUser   botapi.User // from getMe, for commands addressed to the bot
	botFor    int64       // the BotID botUser was asked for
	botFailed time.Time   // when getMe last failed, to ask again only after a while

	lifeMu   sync.Mutex
	started  bool
	stopped  bool
	cancel   context.CancelFunc
	done     chan struct{}
	stopDone chan struct{}
}

// New validates cfg and returns an Intake; it does no I/O.
func New(cfg Config) (*Intake, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Replier == nil {
		cfg.Replier = clientReplier{cfg.Client}
	}
	return &Intake{
		cfg:      cfg,
		store:    &store{db: cfg.DB, table: cfg.DB.Table(UpdatesTable), now: cfg.Now},
		wake:     make(chan struct{}, 1),
		stopDone: make(chan struct{}),
	}, nil
}

// clientReplier answers through the Bot API client at once.
type clientReplier struct{ c *botapi.Client }

func (r clientReplier) Reply(ctx context.Context, _ string, p botapi.SendMessageParams) error {
	_, err := r.c.SendMessage(ctx, p)
	return err
}

// Mode returns the configured mode of receiving updates.
func (in *Intake) Mode() string { return in.cfg.Mode }

// Start checks the table, then starts the worker that handles stored
// updates and, in ModePoll, the long polling; in ModeWebhook it registers
// the webhook with Telegram (a failure is logged, and the operator command
// "bot webhook set" does it again). It returns at once. Start after Start is
// a no-op; Start after Stop returns ErrStopped.
func (in *Intake) Start(ctx context.Context) error {
	in.lifeMu.Lock()
	defer in.lifeMu.Unlock()
	switch {
	case in.stopped:
		return ErrStopped
	case in.started:
		return nil
	}
	if _, err := in.store.counts(ctx); err != nil {
		return fmt.Errorf("updates: checking the table %s (run the migrations of updates.MigrationSource first): %w", in.store.table, err)
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in.cancel = cancel
	in.done = make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { in.work(run) })
	switch in.cfg.Mode {
	case ModePoll:
		wg.Go(func() { in.poll(run) })
	case ModeWebhook:
		wg.Go(func() {
			if err := in.RegisterWebhook(run); err != nil && run.Err() == nil {
				in.cfg.Logger.ErrorContext(run, "updates: registering the webhook with Telegram; run \"bot webhook set\" once Telegram answers", "url", in.cfg.WebhookURL, "err", err)
			}
		})
	}
	go func() { wg.Wait(); close(in.done) }()
	in.started = true
	return nil
}

// Running reports whether the intake was started and not stopped.
func (in *Intake) Running() bool {
	in.lifeMu.Lock()
	defer in.lifeMu.Unlock()
	return in.started && !in.stopped
}

// Stop stops polling and the worker, waiting for the update in hand within
// ctx's deadline. It may be called more than once, and before Start.
func (in *Intake) Stop(ctx context.Context) error {
	in.lifeMu.Lock()
	if in.stopped {
		in.lifeMu.Unlock()
		select {
		case <-in.stopDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	in.stopped = true
	started := in.started
	in.lifeMu.Unlock()
	defer close(in.stopDone)
	if !started {
		return nil
	}
	in.cancel()
	select {
	case <-in.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("updates: stopping: %w", ctx.Err())
	}
}

// RegisterWebhook asks Telegram to POST updates to Config.WebhookURL with
// the secret token, for the update kinds the shop handles.
func (in *Intake) RegisterWebhook(ctx context.Context) error {
	if in.cfg.WebhookURL == "" {
		return errors.New("updates: no WebhookURL to register; set the public URL")
	}
	secret, err := in.cfg.WebhookSecret(ctx)
	if err != nil {
		return fmt.Errorf("updates: reading the webhook secret: %w", err)
	}
	return in.cfg.Client.SetWebhook(ctx, botapi.SetWebhookParams{URL: in.cfg.WebhookURL, SecretToken: secret, AllowedUpdates: AllowedUpdates})
}

// RegisterRoutes registers POST /telegram/webhook on r.
func (in *Intake) RegisterRoutes(r *mux.Router) {
	r.HandleFunc("/telegram/webhook", in.HandleWebhook).Methods(http.MethodPost)
}

// HandleWebhook handles POST /telegram/webhook: Telegram's updates. It
// answers 401 without the right secret token (compared in constant time),
// 400 for a body that is not an update, 413 for one over 1 MiB, and 200 once
// the update is stored, before it is handled, so that Telegram never waits
// on the shop's work; 503 when the database fails, so that Telegram sends
// the update again.
func (in *Intake) HandleWebhook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	want, err := in.cfg.WebhookSecret(ctx)
	if err != nil {
		httpx.WriteError(w, r, in.cfg.Logger, tcerr.Errorf(tcerr.Unavailable, "unavailable", "the webhook secret cannot be read: %v", err))
		return
	}
	got := r.Header.Get(HeaderSecretToken)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		httpx.WriteError(w, r, in.cfg.Logger, tcerr.Errorf(tcerr.Unauthenticated, "invalid_secret_token", "missing or wrong %s", HeaderSecretToken))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyDefault))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpx.WriteError(w, r, in.cfg.Logger, tcerr.Errorf(tcerr.TooLarge, "too_large", "an update is at most %d bytes", MaxBodyDefault))
			return
		}
		httpx.WriteError(w, r, in.cfg.Logger, tcerr.Errorf(tcerr.Invalid, "bad_request", "reading the body: %v", err))
		return
	}
	u, err := parseUpdate(body)
	if err != nil {
		httpx.WriteError(w, r, in.cfg.Logger, tcerr.Errorf(tcerr.Invalid, "invalid_update", "%v", err))
		return
	}
	if _, err := in.store.insert(ctx, in.cfg.Client.BotID(), []rawUpdate{u}); err != nil {
		in.cfg.Logger.ErrorContext(ctx, "updates: storing a webhook update", "update_id", u.id, "err", err)
		httpx.WriteError(w, r, in.cfg.Logger, tcerr.Errorf(tcerr.Unavailable, "unavailable", "the update could not be stored; send it again"))
		return
	}
	in.poke()
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// parseUpdate checks that body is a Telegram update: a JSON object with a
// non-negative integer update_id whose known fields have their types. It
// returns the id and the compacted body as stored.
func parseUpdate(body []byte) (rawUpdate, error) {
	var u botapi.Update
	var head struct {
		UpdateID *int64 `json:"update_id"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return rawUpdate{}, errors.New("an update is a JSON object")
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return rawUpdate{}, fmt.Errorf("not a Telegram update: %v", err)
	}
	if head.UpdateID == nil || *head.UpdateID < 0 {
		return rawUpdate{}, errors.New("an update needs a non-negative integer update_id")
	}
	if err := json.Unmarshal(trimmed, &u); err != nil {
		return rawUpdate{}, fmt.Errorf("not a Telegram update: %v", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, trimmed); err != nil {
		return rawUpdate{}, fmt.Errorf("not a Telegram update: %v", err)
	}
	return rawUpdate{id: *head.UpdateID, body: buf.Bytes()}, nil
}

// poke wakes the worker without blocking.
func (in *Intake) poke() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// poll asks Telegram for updates until ctx ends, storing each batch before
// confirming it with the next offset: an update is confirmed only once it is
// stored, so a crash in between makes Telegram send it again, and the
// stored row makes the repeat a no-op.
func (in *Intake) poll(ctx context.Context) {
	var offset int64
	bot := in.cfg.Client.BotID()
	failures := 0
	for ctx.Err() == nil {
		// Another bot's update ids start elsewhere: after a token change,
		// start from what Telegram holds for the new bot.
		if id := in.cfg.Client.BotID(); id != bot {
			bot, offset = id, 0
		}
		ups, err := in.pollOnce(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait := pollBackoff(failures, err)
			in.logPollError(ctx, err, wait)
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		failures = 0
		for _, u := range ups {
			offset = max(offset, u.id+1)
		}
	}
}

func (in *Intake) pollOnce(ctx context.Context, offset int64) ([]rawUpdate, error) {
	us, err := in.cfg.Client.GetUpdates(ctx, botapi.GetUpdatesParams{Offset: offset, Timeout: in.cfg.PollTimeout, AllowedUpdates: AllowedUpdates})
	if err != nil {
		return nil, err
	}
	ups := make([]rawUpdate, 0, len(us))
	for _, u := range us {
		body, err := json.Marshal(u)
		if err != nil {
			return nil, fmt.Errorf("updates: encoding update %d: %w", u.UpdateID, err)
		}
		ups = append(ups, rawUpdate{id: u.UpdateID, body: body})
	}
	if _, err := in.store.insert(ctx, in.cfg.Client.BotID(), ups); err != nil {
		return nil, err
	}
	if len(ups) > 0 {
		in.poke()
	}
	return ups, nil
}

func (in *Intake) logPollError(ctx context.Context, err error, wait time.Duration) {
	e, _ := botapi.AsError(err)
	switch {
	case e != nil && e.Code == http.StatusConflict:
		in.cfg.Logger.WarnContext(ctx, "updates: Telegram refuses getUpdates: a webhook is set (run \"bot webhook delete\", or use -bot-updates webhook) or another process polls the same bot", "err", err, "retry_in", wait)
	case e != nil && e.Code == http.StatusUnauthorized:
		in.cfg.Logger.ErrorContext(ctx, "updates: Telegram refuses the bot token", "err", err, "retry_in", wait)
	default:
		in.cfg.Logger.WarnContext(ctx, "updates: getUpdates failed", "err", err, "retry_in", wait)
	}
}

// pollBackoff is the wait after the n-th failure in a row: Telegram's
// retry_after for a 429, else 1 s doubling up to a minute, with jitter so
// that replicas spread out.
func pollBackoff(n int, err error) time.Duration {
	if d := botapi.RetryAfter(err); d > 0 {
		return d
	}
	d := time.Second << min(n-1, 6)
	d = min(d, time.Minute)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends, reporting false in the latter case.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// work handles stored updates when woken and every SweepInterval.
func (in *Intake) work(ctx context.Context) {
	tick := time.NewTicker(in.cfg.SweepInterval)
	defer tick.Stop()
	for {
		for ctx.Err() == nil {
			n, err := in.HandleDue(ctx)
			if err != nil {
				if ctx.Err() == nil {
					in.cfg.Logger.ErrorContext(ctx, "updates: reading due updates", "err", err)
				}
				break
			}
			if n < batchSize {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-in.wake:
		case <-tick.C:
		}
	}
}

// HandleDue handles up to one batch of stored updates that are due, oldest
// first, and returns how many it read. The worker calls it; tests and
// operator commands may too.
func (in *Intake) HandleDue(ctx context.Context) (int, error) {
	rows, err := in.store.due(ctx, batchSize)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		in.process(ctx, r)
	}
	return len(rows), nil
}

// process handles one stored update in a transaction that also marks it
// done; the answers go out after the commit (or inside it, with a
// TxReplier).
func (in *Intake) process(ctx context.Context, r received) {
	log := in.cfg.Logger.With("update_id", r.updateID)
	// Asked before the transaction: no HTTP call while it is open.
	username := in.botUsername(ctx)
	replies, err := in.handleInTx(ctx, r, username)
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: the update stays pending for the next start
		}
		final := r.attempts+1 >= in.cfg.MaxAttempts
		next := in.cfg.Now().Add(retryDelay(r.attempts + 1))
		log.ErrorContext(ctx, "updates: handling an update", "attempt", r.attempts+1, "final", final, "err", err)
		if ferr := in.store.fail(context.WithoutCancel(ctx), r, err, next, final); ferr != nil {
			log.ErrorContext(ctx, "updates: recording a failed update", "err", ferr)
		}
		return
	}
	for _, rep := range replies {
		if err := in.cfg.Replier.Reply(ctx, rep.key, rep.params); err != nil {
			// The update id (on log) and the reply's key, not the chat:
			// a private chat's id is the person's Telegram id.
			log.WarnContext(ctx, "updates: answering", "reply", rep.key, "err", err)
		}
	}
}

// retryDelay is the wait before the n-th attempt: 2 s doubling, at most 5 min.
func retryDelay(n int) time.Duration {
	return min(2*time.Second<<min(n-1, 8), 5*time.Minute)
}

// reply is an answer decided by the handling.
type reply struct {
	key    string
	params botapi.SendMessageParams
}

func (in *Intake) handleInTx(ctx context.Context, r received, username string) ([]reply, error) {
	var u botapi.Update
	if err := json.Unmarshal(r.body, &u); err != nil {
		// Stored updates were checked on the way in; a row that no longer
		// decodes is marked done rather than retried for ever.
		in.cfg.Logger.WarnContext(ctx, "updates: a stored update does not decode; skipped", "update_id", r.updateID, "err", err)
	}
	tx, err := in.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("beginning a transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	mine, err := in.store.claim(ctx, tx, r)
	if err != nil || !mine {
		return nil, err
	}
	replies, err := in.handle(ctx, tx, r.updateID, username, u)
	if err != nil {
		return nil, err
	}
	if txr, ok := in.cfg.Replier.(TxReplier); ok {
		for _, rep := range replies {
			if err := txr.ReplyTx(ctx, tx, rep.key, rep.params); err != nil {
				return nil, fmt.Errorf("queueing the answer: %w", err)
			}
		}
		replies = nil
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("committing: %w", err)
	}
	return replies, nil
}

// Prune deletes the ids of updates handled or failed before cutoff, the
// job of a scheduled task: Telegram sends an update again for at most a
// day, so ids older than RetentionDefault can no longer come back.
func (in *Intake) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := in.store.prune(ctx, cutoff)
	if err == nil && n > 0 {
		in.cfg.Logger.InfoContext(ctx, "updates: pruned handled updates", "count", n)
	}
	return n, err
}

// Counts returns how many received updates are pending, done and failed.
func (in *Intake) Counts(ctx context.Context) (Counts, error) { return in.store.counts(ctx) }

// botRetry is how long after a failed getMe the intake asks again; in
// between, commands addressed to any bot are taken.
const botRetry = time.Minute

// Bot returns the bot's identity from getMe, asking Telegram the first time,
// after the token changed, and again a while after a failure.
func (in *Intake) Bot(ctx context.Context) (botapi.User, error) {
	in.botMu.Lock()
	defer in.botMu.Unlock()
	id := in.cfg.Client.BotID()
	if in.botFor == id && in.botUser.ID != 0 {
		return in.botUser, nil
	}
	if in.botFor == id && !in.botFailed.IsZero() && time.Since(in.botFailed) < botRetry {
		return botapi.User{}, errors.New("updates: getMe failed recently")
	}
	u, err := in.cfg.Client.GetMe(ctx)
	in.botFor = id
	if err != nil {
		in.botUser, in.botFailed = botapi.User{}, time.Now()
		return botapi.User{}, err
	}
	in.botUser, in.botFailed = u, time.Time{}
	return u, nil
}

// botUsername is the bot's username, or "" when Telegram cannot say.
func (in *Intake) botUsername(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u, err := in.Bot(ctx)
	if err != nil {
		in.cfg.Logger.DebugContext(ctx, "updates: getMe failed; commands addressed to any bot are taken", "err", err)
		return ""
	}
	return u.Username
}
