package telegram

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Ensure a message to a person who blocked the bot is logged without their
// Telegram id, which is their chat's: the line says what happened, the
// caller has the error.
func TestBotUnreachableLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	f := mustNewBotFake(t, func(int, botFakeRequest) (int, string) {
		return http.StatusForbidden, botErrorAnswer(403, "Forbidden: bot was blocked by the user")
	})
	b := mustNewBot(t, f, BotConfig{Logger: slog.New(slog.NewTextHandler(botLockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if _, err := b.SendMessage(context.Background(), 987654321, "Hello, Zinaida"); !errors.Is(err, ErrRecipientUnreachable) {
		t.Fatalf("err = %v, want ErrRecipientUnreachable", err)
	}
	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	if !strings.Contains(out, "recipient unreachable") {
		t.Fatalf("not logged:\n%s", out)
	}
	for _, personal := range []string{"987654321", "Zinaida"} {
		if strings.Contains(out, personal) {
			t.Errorf("a log line holds %q:\n%s", personal, out)
		}
	}
}

// Ensure the flood-control retry's log line holds nothing of the
// recipient: not their chat (their Telegram ID), not the text.
func TestBotFloodControlLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	f := mustNewBotFake(t, func(n int, r botFakeRequest) (int, string) {
		if n == 1 {
			return http.StatusTooManyRequests, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 2","parameters":{"retry_after":2}}`
		}
		return http.StatusOK, botSentMessage(r)
	})
	clock := newBotFakeClock()
	b := mustNewBot(t, f, BotConfig{Now: clock.Now, Sleep: clock.Sleep,
		Logger: slog.New(slog.NewTextHandler(botLockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if _, err := b.SendMessage(context.Background(), 987654321, "Hello, Zinaida"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	if !strings.Contains(out, "flood control") {
		t.Fatalf("not logged:\n%s", out)
	}
	for _, personal := range []string{"987654321", "Zinaida"} {
		if strings.Contains(out, personal) {
			t.Errorf("a log line holds %q:\n%s", personal, out)
		}
	}
}
