package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const botTestToken = "123456:AAE-secret_Token"

// botFakeRequest is one request the fake Telegram received.
type botFakeRequest struct {
	Method      string
	Path        string
	ContentType string
	Body        map[string]any
	At          time.Time
}

// botFake is a fake Bot API server. answer decides the n-th (1-based)
// answer; nil answers every request with a sent message.
type botFake struct {
	*httptest.Server
	answer func(n int, r botFakeRequest) (status int, body string)

	mu   sync.Mutex
	reqs []botFakeRequest
}

func mustNewBotFake(tb testing.TB, answer func(n int, r botFakeRequest) (int, string)) *botFake {
	tb.Helper()
	f := &botFake{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := botFakeRequest{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), At: time.Now()}
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &req.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		n := len(f.reqs)
		f.mu.Unlock()
		status, body := http.StatusOK, botSentMessage(req)
		if f.answer != nil {
			status, body = f.answer(n, req)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	tb.Cleanup(f.Close)
	return f
}

// botSentMessage is the answer Telegram gives to a successful sendMessage.
func botSentMessage(r botFakeRequest) string {
	chatID, _ := r.Body["chat_id"].(float64)
	text, _ := json.Marshal(r.Body["text"])
	return fmt.Sprintf(`{"ok":true,"result":{"message_id":%d,"date":1700000000,"chat":{"id":%d,"type":"private","first_name":"Ann"},"text":%s}}`,
		int64(chatID)+1000, int64(chatID), text)
}

func botErrorAnswer(code int, description string) string {
	return fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q}`, code, description)
}

func (f *botFake) requests() []botFakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]botFakeRequest(nil), f.reqs...)
}

// botFakeClock is a clock whose Sleep advances Now at once.
type botFakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newBotFakeClock() *botFakeClock {
	return &botFakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *botFakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *botFakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *botFakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// mustNewBot returns a Bot on f with a fake clock unless cfg sets one, and a
// logger that fails the test if it ever sees the token.
func mustNewBot(tb testing.TB, f *botFake, cfg BotConfig) *Bot {
	tb.Helper()
	if cfg.Token == "" {
		cfg.Token = botTestToken
	}
	if cfg.BaseURL == "" && f != nil {
		cfg.BaseURL = f.URL
	}
	if cfg.Now == nil && cfg.Sleep == nil {
		clock := newBotFakeClock()
		cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = botTestLogger(tb)
	}
	b, err := NewBot(cfg)
	if err != nil {
		tb.Fatalf("NewBot: %v", err)
	}
	return b
}

// botTestLogger logs to a buffer checked for the token at the end of the test.
func botTestLogger(tb testing.TB) *slog.Logger {
	var mu sync.Mutex
	var buf bytes.Buffer
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(buf.String(), "secret_Token") {
			tb.Errorf("the token appears in the logs:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(botLockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type botLockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w botLockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func TestNewBot(t *testing.T) {
	t.Parallel()

	// Ensure a missing token is a clear setup error.
	t.Run("ErrNoToken", func(t *testing.T) {
		_, err := NewBot(BotConfig{})
		if err == nil || !strings.Contains(err.Error(), "Token is empty") {
			t.Fatalf("err = %v, want a Token is empty error", err)
		}
	})

	// Ensure bad settings are refused at construction, never quoting the token.
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, cfg := range map[string]BotConfig{
			"token with slash":  {Token: "123:secret_Token/x"},
			"token with space":  {Token: "123:secret_Token x"},
			"relative BaseURL":  {Token: botTestToken, BaseURL: "api.telegram.org"},
			"ftp BaseURL":       {Token: botTestToken, BaseURL: "ftp://api.telegram.org"},
			"negative rate":     {Token: botTestToken, GlobalRate: -1},
			"negative interval": {Token: botTestToken, PerChatInterval: -time.Second},
			"MaxRetries -2":     {Token: botTestToken, MaxRetries: -2},
			"negative clamp":    {Token: botTestToken, MaxRetryAfter: -time.Second},
		} {
			_, err := NewBot(cfg)
			if err == nil {
				t.Errorf("%s: NewBot succeeded", name)
			} else if strings.Contains(err.Error(), "secret_Token") {
				t.Errorf("%s: error quotes the token: %v", name, err)
			}
		}
	})

	// Ensure defaults are filled in.
	t.Run("Defaults", func(t *testing.T) {
		b, err := NewBot(BotConfig{Token: botTestToken})
		if err != nil {
			t.Fatal(err)
		}
		c := b.cfg
		if c.BaseURL != BotBaseURLDefault || c.HTTPClient.Timeout != BotHTTPTimeoutDefault ||
			c.GlobalRate != BotGlobalRateDefault || c.PerChatInterval != BotPerChatIntervalDefault ||
			c.MaxRetries != BotMaxRetriesDefault || c.MaxRetryAfter != BotMaxRetryAfterDefault ||
			c.Logger == nil || c.Now == nil || c.Sleep == nil {
			t.Fatalf("defaults not applied: %+v", c)
		}
	})
}

func TestBotSendMessage(t *testing.T) {
	t.Parallel()

	// Ensure a message is POSTed as JSON to /bot<token>/sendMessage with
	// parse_mode HTML and the sent message is returned.
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, nil)
		b := mustNewBot(t, f, BotConfig{})
		msg, err := b.SendMessage(context.Background(), 42, "<b>Hi</b>")
		if err != nil {
			t.Fatal(err)
		}
		if msg.MessageID != 1042 || msg.Chat.ID != 42 || msg.Chat.Type != "private" || msg.Text != "<b>Hi</b>" {
			t.Errorf("msg = %+v", msg)
		}
		if got, want := msg.Time(), time.Unix(1700000000, 0).UTC(); !got.Equal(want) {
			t.Errorf("Time() = %v, want %v", got, want)
		}
		reqs := f.requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1", len(reqs))
		}
		r := reqs[0]
		if r.Method != http.MethodPost || r.Path != "/bot"+botTestToken+"/sendMessage" || r.ContentType != "application/json" {
			t.Errorf("request = %s %s (%s)", r.Method, r.Path, r.ContentType)
		}
		if r.Body["chat_id"] != float64(42) || r.Body["text"] != "<b>Hi</b>" || r.Body["parse_mode"] != "HTML" {
			t.Errorf("body = %v", r.Body)
		}
		for _, k := range []string{"link_preview_options", "reply_markup", "disable_notification"} {
			if _, ok := r.Body[k]; ok {
				t.Errorf("body has %s: %v", k, r.Body)
			}
		}
	})

	// Ensure the optional parameters reach Telegram.
	t.Run("Params", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, nil)
		b := mustNewBot(t, f, BotConfig{})
		markup := map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "Open", "url": "https://example.com"}}}}
		_, err := b.Send(context.Background(), SendMessageParams{
			ChatID: -100123, Text: "*plain*", ParseMode: ParseModeNone,
			DisableWebPagePreview: true, DisableNotification: true, ReplyMarkup: markup,
		})
		if err != nil {
			t.Fatal(err)
		}
		body := f.requests()[0].Body
		if _, ok := body["parse_mode"]; ok {
			t.Errorf("ParseModeNone sent parse_mode %v", body["parse_mode"])
		}
		if lp, _ := body["link_preview_options"].(map[string]any); lp["is_disabled"] != true {
			t.Errorf("link_preview_options = %v", body["link_preview_options"])
		}
		if body["disable_notification"] != true || body["chat_id"] != float64(-100123) {
			t.Errorf("body = %v", body)
		}
		if got, _ := json.Marshal(body["reply_markup"]); string(got) != `{"inline_keyboard":[[{"text":"Open","url":"https://example.com"}]]}` {
			t.Errorf("reply_markup = %s", got)
		}
	})

	// Ensure a successful answer that is not JSON is an error, not a zero message.
	t.Run("ErrBadAnswer", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, func(int, botFakeRequest) (int, string) { return http.StatusOK, "<html>" })
		b := mustNewBot(t, f, BotConfig{})
		if _, err := b.SendMessage(context.Background(), 1, "hi"); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestSendMessageRefusesText(t *testing.T) {
	t.Parallel()
	f := mustNewBotFake(t, nil)
	b := mustNewBot(t, f, BotConfig{})
	ctx := context.Background()

	// Ensure bad texts never reach Telegram.
	for name, tc := range map[string]struct {
		text string
		want error
	}{
		"empty":        {"", ErrMessageEmpty},
		"white space":  {" \n\t\u00a0 ", ErrMessageEmpty},
		"4097 runes":   {strings.Repeat("é", MaxMessageLength+1), ErrMessageTooLong},
		"4097 ASCII":   {strings.Repeat("a", MaxMessageLength+1), ErrMessageTooLong},
		"4097 emoji":   {strings.Repeat("🛒", MaxMessageLength+1), ErrMessageTooLong},
		"4096 + space": {strings.Repeat("a", MaxMessageLength) + " ", ErrMessageTooLong},
	} {
		if _, err := b.SendMessage(ctx, 1, tc.text); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests reached the fake, want 0", n)
	}

	// Ensure the limit counts runes, not bytes: 4096 two-byte runes are sent.
	if _, err := b.SendMessage(ctx, 1, strings.Repeat("é", MaxMessageLength)); err != nil {
		t.Fatalf("4096 runes: %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestBotRetries429(t *testing.T) {
	t.Parallel()
	tooMany := func(retryAfter int) string {
		return fmt.Sprintf(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, retryAfter, retryAfter)
	}

	// Ensure a 429 waits retry_after, sends again and returns the message.
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, func(n int, r botFakeRequest) (int, string) {
			if n <= 2 {
				return http.StatusTooManyRequests, tooMany(5)
			}
			return http.StatusOK, botSentMessage(r)
		})
		clock := newBotFakeClock()
		b := mustNewBot(t, f, BotConfig{Now: clock.Now, Sleep: clock.Sleep})
		msg, err := b.SendMessage(context.Background(), 7, "hi")
		if err != nil {
			t.Fatal(err)
		}
		if msg.MessageID != 1007 {
			t.Errorf("MessageID = %d", msg.MessageID)
		}
		if n := len(f.requests()); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
		if got := botCount(clock.sleeps(), 5*time.Second); got != 2 {
			t.Errorf("slept %v, want two 5s waits", clock.sleeps())
		}
	})

	// Ensure a long retry_after is clamped to MaxRetryAfter.
	t.Run("Clamp", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, func(n int, r botFakeRequest) (int, string) {
			if n == 1 {
				return http.StatusTooManyRequests, tooMany(3600)
			}
			return http.StatusOK, botSentMessage(r)
		})
		clock := newBotFakeClock()
		b := mustNewBot(t, f, BotConfig{Now: clock.Now, Sleep: clock.Sleep, MaxRetryAfter: 2 * time.Second})
		if _, err := b.SendMessage(context.Background(), 7, "hi"); err != nil {
			t.Fatal(err)
		}
		for _, d := range clock.sleeps() {
			if d > 2*time.Second {
				t.Errorf("slept %v, want at most 2s", d)
			}
		}
		if botCount(clock.sleeps(), 2*time.Second) != 1 {
			t.Errorf("slept %v, want one 2s wait", clock.sleeps())
		}
	})

	// Ensure retries stop after MaxRetries with the 429 *APIError.
	t.Run("ErrMaxRetries", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, func(int, botFakeRequest) (int, string) { return http.StatusTooManyRequests, tooMany(1) })
		b := mustNewBot(t, f, BotConfig{MaxRetries: 2})
		_, err := b.SendMessage(context.Background(), 7, "hi")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.RetryAfter != time.Second {
			t.Fatalf("err = %v, want a 429 *APIError with RetryAfter 1s", err)
		}
		if n := len(f.requests()); n != 3 {
			t.Errorf("%d requests, want 3 (1 + 2 retries)", n)
		}
	})

	// Ensure MaxRetries -1 never retries.
	t.Run("NoRetries", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, func(int, botFakeRequest) (int, string) { return http.StatusTooManyRequests, tooMany(1) })
		b := mustNewBot(t, f, BotConfig{MaxRetries: -1})
		if _, err := b.SendMessage(context.Background(), 7, "hi"); err == nil {
			t.Fatal("no error")
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})

	// Ensure a wait that would outlast ctx returns the 429 at once.
	t.Run("ErrDeadline", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, func(int, botFakeRequest) (int, string) { return http.StatusTooManyRequests, tooMany(30) })
		clock := newBotFakeClock()
		b := mustNewBot(t, f, BotConfig{Now: clock.Now, Sleep: clock.Sleep})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := b.SendMessage(ctx, 7, "hi")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.RetryAfter != 30*time.Second {
			t.Fatalf("err = %v, want the 429 *APIError", err)
		}
		if n := len(f.requests()); n != 1 || botCount(clock.sleeps(), 30*time.Second) != 0 {
			t.Errorf("%d requests, slept %v; want 1 request and no 30s wait", n, clock.sleeps())
		}
	})

	// Ensure a 429 without parameters falls back to the Retry-After header.
	t.Run("RetryAfterHeader", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "4")
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		defer srv.Close()
		b := mustNewBot(t, nil, BotConfig{BaseURL: srv.URL, MaxRetries: -1})
		_, err := b.SendMessage(context.Background(), 7, "hi")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.RetryAfter != 4*time.Second {
			t.Fatalf("err = %v, want a 429 *APIError with RetryAfter 4s", err)
		}
	})

	// Ensure the header may be an HTTP date too, read against the bot's
	// clock, and that an unreadable one falls back to 1s.
	for _, tc := range []struct {
		name, header string
		want         time.Duration
	}{
		{"RetryAfterHeaderDate", "Thu, 26 Nov 2026 12:00:09 GMT", 9 * time.Second},
		{"RetryAfterHeaderPast", "Thu, 26 Nov 2026 11:00:00 GMT", time.Second},
		{"RetryAfterHeaderBad", "soon", time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tc.header)
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			defer srv.Close()
			now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			b := mustNewBot(t, nil, BotConfig{BaseURL: srv.URL, MaxRetries: -1,
				Now: func() time.Time { return now }, Sleep: func(context.Context, time.Duration) error { return nil }})
			_, err := b.SendMessage(context.Background(), 7, "hi")
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.RetryAfter != tc.want {
				t.Fatalf("err = %v, want a 429 *APIError with RetryAfter %s", err, tc.want)
			}
		})
	}
}

func botCount(ds []time.Duration, d time.Duration) int {
	n := 0
	for _, x := range ds {
		if x == d {
			n++
		}
	}
	return n
}

func TestBotClassifiesErrors(t *testing.T) {
	t.Parallel()
	sentinels := []error{ErrBotBlocked, ErrUserDeactivated, ErrCantInitiate}

	// Ensure each unreachable-recipient 403 maps to its sentinel and to
	// ErrRecipientUnreachable, and stays an *APIError.
	for _, tc := range []struct {
		name        string
		description string
		want        error
	}{
		{"ErrBotBlocked", "Forbidden: bot was blocked by the user", ErrBotBlocked},
		{"ErrUserDeactivated", "Forbidden: user is deactivated", ErrUserDeactivated},
		{"ErrCantInitiate", "Forbidden: bot can't initiate conversation with a user", ErrCantInitiate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustNewBotFake(t, func(int, botFakeRequest) (int, string) {
				return http.StatusForbidden, botErrorAnswer(403, tc.description)
			})
			b := mustNewBot(t, f, BotConfig{})
			_, err := b.SendMessage(context.Background(), 7, "hi")
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrRecipientUnreachable) {
				t.Fatalf("err = %v, want %v and ErrRecipientUnreachable", err, tc.want)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Errorf("err also matches %v", s)
				}
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != 403 || apiErr.Description != tc.description {
				t.Errorf("err = %#v, want the 403 *APIError", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}

	// Ensure other answers are plain *APIErrors, not retried, not unreachable.
	for _, tc := range []struct {
		name        string
		status      int
		body        string
		description string
	}{
		{"ChatNotFound", 400, botErrorAnswer(400, "Bad Request: chat not found"), "Bad Request: chat not found"},
		{"Kicked", 403, botErrorAnswer(403, "Forbidden: bot was kicked from the group chat"), "Forbidden: bot was kicked from the group chat"},
		{"Unauthorized", 401, botErrorAnswer(401, "Unauthorized"), "Unauthorized"},
		{"BadGateway", 502, "<html>Bad Gateway</html>", "Bad Gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustNewBotFake(t, func(int, botFakeRequest) (int, string) { return tc.status, tc.body })
			b := mustNewBot(t, f, BotConfig{})
			_, err := b.SendMessage(context.Background(), 7, "hi")
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.status || apiErr.Description != tc.description || apiErr.Method != "sendMessage" {
				t.Fatalf("err = %v, want *APIError %d %q", err, tc.status, tc.description)
			}
			if errors.Is(err, ErrRecipientUnreachable) {
				t.Errorf("err matches ErrRecipientUnreachable")
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestBotPacing(t *testing.T) {
	t.Parallel()

	// Ensure N messages to one chat take at least (N-1) intervals, measured
	// both by the caller and by the arrival times at Telegram.
	t.Run("PerChat", func(t *testing.T) {
		t.Parallel()
		const n, interval = 4, 80 * time.Millisecond
		f := mustNewBotFake(t, nil)
		b := mustNewBot(t, f, BotConfig{Now: time.Now, Sleep: botSleep, GlobalRate: 1000, PerChatInterval: interval})
		start := time.Now()
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, err := b.SendMessage(context.Background(), 5, "hi"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if elapsed := time.Since(start); elapsed < (n-1)*interval {
			t.Errorf("%d messages took %v, want at least %v", n, elapsed, (n-1)*interval)
		}
		reqs := f.requests()
		for i := 1; i < len(reqs); i++ {
			if gap := reqs[i].At.Sub(reqs[i-1].At); gap < interval {
				t.Errorf("messages %d and %d arrived %v apart, want at least %v", i-1, i, gap, interval)
			}
		}
	})

	// Ensure the per-chat interval holds with an injected clock too.
	t.Run("PerChatFakeClock", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, nil)
		clock := newBotFakeClock()
		b := mustNewBot(t, f, BotConfig{Now: clock.Now, Sleep: clock.Sleep})
		start := clock.Now()
		for range 5 {
			if _, err := b.SendMessage(context.Background(), 5, "hi"); err != nil {
				t.Fatal(err)
			}
		}
		if got := clock.Now().Sub(start); got != 4*BotPerChatIntervalDefault {
			t.Errorf("5 messages took %v of clock time, want %v", got, 4*BotPerChatIntervalDefault)
		}
	})

	// Ensure different chats do not wait for each other's interval.
	t.Run("ChatsIndependent", func(t *testing.T) {
		t.Parallel()
		const chats, interval = 10, 200 * time.Millisecond
		f := mustNewBotFake(t, nil)
		b := mustNewBot(t, f, BotConfig{Now: time.Now, Sleep: botSleep, GlobalRate: 1000, PerChatInterval: interval})
		start := time.Now()
		var wg sync.WaitGroup
		for chat := range int64(chats) {
			for range 2 {
				wg.Go(func() {
					if _, err := b.SendMessage(context.Background(), chat, "hi"); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		elapsed := time.Since(start)
		if elapsed < interval {
			t.Errorf("2 messages per chat took %v, want at least %v", elapsed, interval)
		}
		// Chats serialized by one another would take (2*chats-1) intervals.
		if elapsed > 4*interval {
			t.Errorf("%d chats took %v: chats wait for each other", chats, elapsed)
		}
		if n := len(f.requests()); n != 2*chats {
			t.Errorf("%d requests, want %d", n, 2*chats)
		}
	})

	// Ensure GlobalRate bounds messages across chats.
	t.Run("Global", func(t *testing.T) {
		t.Parallel()
		const n, perSecond = 6, 20.0
		f := mustNewBotFake(t, nil)
		b := mustNewBot(t, f, BotConfig{Now: time.Now, Sleep: botSleep, GlobalRate: perSecond, PerChatInterval: time.Millisecond})
		start := time.Now()
		var wg sync.WaitGroup
		for chat := range int64(n) {
			wg.Go(func() {
				if _, err := b.SendMessage(context.Background(), chat, "hi"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		want := time.Duration(float64(n-1) / perSecond * float64(time.Second))
		if elapsed := time.Since(start); elapsed < want {
			t.Errorf("%d messages to %d chats took %v, want at least %v", n, n, elapsed, want)
		}
	})

	// Ensure a caller waiting for its chat gives up when ctx ends.
	t.Run("ErrContext", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, nil)
		b := mustNewBot(t, f, BotConfig{Now: time.Now, Sleep: botSleep, PerChatInterval: time.Minute})
		if _, err := b.SendMessage(context.Background(), 5, "first"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := b.SendMessage(ctx, 5, "second")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("gave up after %v", elapsed)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

// Ensure the per-chat map forgets chats whose interval has passed, so it
// does not grow with every customer ever messaged.
func TestBotEvictsIdleChats(t *testing.T) {
	t.Parallel()
	f := mustNewBotFake(t, nil)
	clock := newBotFakeClock()
	b := mustNewBot(t, f, BotConfig{Now: clock.Now, Sleep: clock.Sleep, GlobalRate: 1e6})
	for chat := range int64(100) {
		if _, err := b.SendMessage(context.Background(), chat, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	b.mu.Lock()
	before := len(b.chats)
	b.mu.Unlock()
	if before < 2 {
		t.Fatalf("%d chats tracked after 100 sends within one interval", before)
	}

	_ = clock.Sleep(context.Background(), 2*BotPerChatIntervalDefault)
	if _, err := b.SendMessage(context.Background(), 1000, "hi"); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	after := len(b.chats)
	b.mu.Unlock()
	if after != 1 {
		t.Errorf("%d chats tracked after they went idle, want 1", after)
	}

	// A chat evicted and messaged again is still paced.
	start := clock.Now()
	for range 2 {
		if _, err := b.SendMessage(context.Background(), 1000, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.Now().Sub(start); got < 2*BotPerChatIntervalDefault {
		t.Errorf("2 more messages took %v, want at least %v", got, 2*BotPerChatIntervalDefault)
	}
}

func TestBotTokenNeverInErrors(t *testing.T) {
	t.Parallel()

	// Ensure an unreachable server's *url.Error names no token.
	t.Run("Unreachable", func(t *testing.T) {
		t.Parallel()
		f := mustNewBotFake(t, nil)
		base := f.URL
		f.Close()
		b := mustNewBot(t, nil, BotConfig{BaseURL: base})
		_, err := b.SendMessage(context.Background(), 7, "hi")
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), "secret_Token") || strings.Contains(fmt.Sprintf("%#v", err), "secret_Token") {
			t.Fatalf("error contains the token: %v", err)
		}
		var ue *url.Error
		if !errors.As(err, &ue) || !strings.Contains(ue.URL, "/bot<token>/sendMessage") {
			t.Errorf("err = %#v, want a *url.Error with a redacted URL", err)
		}
	})

	// Ensure a client timeout names no token and is still a timeout.
	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		f := mustNewBotFake(t, func(int, botFakeRequest) (int, string) {
			<-release
			return http.StatusOK, "{}"
		})
		defer close(release)
		b := mustNewBot(t, f, BotConfig{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
		_, err := b.SendMessage(context.Background(), 7, "hi")
		var ue *url.Error
		if !errors.As(err, &ue) || !ue.Timeout() {
			t.Fatalf("err = %v, want a timeout *url.Error", err)
		}
		if strings.Contains(err.Error(), "secret_Token") {
			t.Fatalf("error contains the token: %v", err)
		}
	})
}

func TestBotSetToken(t *testing.T) {
	t.Parallel()
	f := mustNewBotFake(t, nil)
	b := mustNewBot(t, f, BotConfig{Now: time.Now, Sleep: botSleep, GlobalRate: 1e6, PerChatInterval: time.Nanosecond})
	ctx := context.Background()

	// Ensure a new token is used from the next request on.
	if err := b.SetToken("999:new_Token"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SendMessage(ctx, 1, "hi"); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].Path; got != "/bot999:new_Token/sendMessage" {
		t.Errorf("path = %s", got)
	}

	// Ensure a bad token is refused and the old one kept.
	if err := b.SetToken(""); err == nil {
		t.Error("SetToken(\"\") succeeded")
	}
	if err := b.SetToken("bad/token"); err == nil {
		t.Error("SetToken(bad/token) succeeded")
	}

	// Ensure SetToken is safe while sending (run with -race).
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if i%2 == 0 {
				_ = b.SetToken(fmt.Sprintf("%d:tok", i))
				return
			}
			if _, err := b.SendMessage(ctx, int64(i), "hi"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, r := range f.requests() {
		if !strings.HasPrefix(r.Path, "/bot") || !strings.HasSuffix(r.Path, "/sendMessage") || strings.Contains(r.Path, "secret_Token") {
			t.Errorf("path = %s", r.Path)
		}
	}
}

func TestEscapeHTML(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                          "",
		"plain text":                "plain text",
		"Tom & Jerry":               "Tom &amp; Jerry",
		"<b>bold</b>":               "&lt;b&gt;bold&lt;/b&gt;",
		`say "hi"`:                  "say &quot;hi&quot;",
		"it's":                      "it's",
		"&amp; already":             "&amp;amp; already",
		"a<b>c&d\"e":                "a&lt;b&gt;c&amp;d&quot;e",
		"Ёлка 🎄 < 5 €":              "Ёлка 🎄 &lt; 5 €",
		"<script>alert(1)</script>": "&lt;script&gt;alert(1)&lt;/script&gt;",
	} {
		if got := EscapeHTML(in); got != want {
			t.Errorf("EscapeHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBotCheckToken ensures a candidate token is checked with getMe under
// that token, not the bot's own; an invalid one is an *APIError with
// Telegram's code, and the token appears in no error.
func TestBotCheckToken(t *testing.T) {
	const candidate = "987654:NEW-candidate_token"
	fake := mustNewBotFake(t, func(n int, r botFakeRequest) (int, string) {
		switch r.Path {
		case "/bot" + candidate + "/getMe":
			return 200, `{"ok":true,"result":{"id":987654,"is_bot":true,"first_name":"Shop","username":"shop_bot"}}`
		case "/bot" + botTestToken + "/getMe":
			return 200, `{"ok":true,"result":{"id":123456,"is_bot":true,"first_name":"Old","username":"old_bot"}}`
		default:
			return 401, botErrorAnswer(401, "Unauthorized")
		}
	})
	bot, err := NewBot(BotConfig{Token: botTestToken, BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if u, err := bot.CheckToken(ctx, candidate); err != nil || u.Username != "shop_bot" || u.ID != 987654 {
		t.Fatalf("CheckToken(candidate) = %+v, %v", u, err)
	}
	if u, err := bot.GetMe(ctx); err != nil || u.Username != "old_bot" {
		t.Fatalf("GetMe = %+v, %v; the bot's own token must stay", u, err)
	}
	_, err = bot.CheckToken(ctx, "111:wrong-token")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 401 || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("CheckToken(wrong) = %v; want a 401 *APIError without the token", err)
	}
	if _, err := bot.CheckToken(ctx, ""); err == nil {
		t.Fatal("an empty token passed")
	}
	fake.Close()
	_, err = bot.CheckToken(ctx, candidate)
	if err == nil || errors.As(err, &apiErr) || strings.Contains(err.Error(), candidate) {
		t.Fatalf("CheckToken with Telegram down = %v; want a network error without the token", err)
	}
}
