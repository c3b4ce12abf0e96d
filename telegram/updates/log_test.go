package updates_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/updates"
)

// syncBuffer is a log sink safe for the intake's goroutines and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Ensure, on both dialects, that an answer Telegram refuses is logged with
// the update's id and the reply's key, and with nothing of the person: not
// their Telegram id (their chat's), name or username.
func TestAnswerFailureLog(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		logs := &syncBuffer{}
		e := newEnv(t, db, updates.Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		const person = 987654321
		e.srv.FailChat(person, botapitest.Fault{Code: 400, Description: "Bad Request: chat not found", Times: -1})
		e.post(t, testSecret, startUpdate(71, person, "/start", "ru"))
		e.drain(t)
		out := logs.String()
		if !strings.Contains(out, "updates: answering") || !strings.Contains(out, "update_id=71") ||
			!strings.Contains(out, "reply=update:") {
			t.Fatalf("the refused answer was not logged with its update id and key:\n%s", out)
		}
		for _, personal := range []string{"987654321", "Ann", "Lee", "username=ann", "=ann "} {
			if strings.Contains(out, personal) {
				t.Errorf("a log line holds %q:\n%s", personal, out)
			}
		}
	})
}
