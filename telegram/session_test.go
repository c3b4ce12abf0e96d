package telegram_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telegram"
)

// TestSession ensures a page whose init data has expired keeps working
// with the session token its fresh init data got, for the same user only,
// until the token expires or the bot token changes; and that a session is
// never extended without fresh init data.
func TestSession(t *testing.T) {
	now := testNow
	clock := func() time.Time { return now }
	v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: testToken, Now: clock, SessionTTL: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /session", v.Middleware(http.HandlerFunc(v.HandleSession)))
	mux.Handle("GET /me", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := telegram.InitDataFrom(r.Context())
		json.NewEncoder(w).Encode(d.User.ID)
	})))
	call := func(method, path, initData, session string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set(telegram.HeaderInitData, initData)
		if session != "" {
			r.Header.Set(telegram.HeaderSession, session)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	launch := func(userID int64, at time.Time) string {
		return telegram.SignInitData(testToken, telegram.SignParams{User: &telegram.User{ID: userID, FirstName: "U"}}, at)
	}
	anna := launch(1, now)
	w := call("POST", "/session", anna, "")
	var s telegram.Session
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &s) != nil || s.Token == "" || !s.ExpiresAt.Equal(now.Add(48*time.Hour)) {
		t.Fatalf("POST /session = %d %s", w.Code, w.Body)
	}

	now = now.Add(30 * time.Hour) // anna's init data is now too old
	if w := call("GET", "/me", anna, ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("stale init data without a session: %d", w.Code)
	}
	if w := call("GET", "/me", anna, s.Token); w.Code != 200 || strings.TrimSpace(w.Body.String()) != "1" {
		t.Fatalf("stale init data with its session: %d %s", w.Code, w.Body)
	}
	boris := launch(2, now.Add(-30*time.Hour))
	if w := call("GET", "/me", boris, s.Token); w.Code != http.StatusUnauthorized {
		t.Fatalf("another user's stale init data with anna's session: %d", w.Code)
	}
	forged := launch(1, now.Add(-30*time.Hour)) + "0"
	if w := call("GET", "/me", forged, s.Token); w.Code != http.StatusUnauthorized {
		t.Fatalf("forged init data with a session: %d", w.Code)
	}
	if w := call("GET", "/me", anna, s.Token[:len(s.Token)-2]+"xx"); w.Code != http.StatusUnauthorized {
		t.Fatalf("a forged session: %d", w.Code)
	}
	if w := call("POST", "/session", anna, s.Token); w.Code != http.StatusUnauthorized {
		t.Fatalf("a session extended without fresh init data: %d", w.Code)
	}

	now = now.Add(19 * time.Hour) // past the session's 48 hours
	if w := call("GET", "/me", anna, s.Token); w.Code != http.StatusUnauthorized {
		t.Fatalf("an expired session: %d", w.Code)
	}
	if err := v.CheckSession(s.Token, 1); !errors.Is(err, telegram.ErrSessionInvalid) {
		t.Fatalf("CheckSession after expiry: %v", err)
	}

	// A new bot token ends every session.
	now = testNow
	if err := v.CheckSession(s.Token, 1); err != nil {
		t.Fatalf("CheckSession before the new token: %v", err)
	}
	if err := v.SetBotToken("999:another-token"); err != nil {
		t.Fatal(err)
	}
	if err := v.CheckSession(s.Token, 1); !errors.Is(err, telegram.ErrSessionInvalid) {
		t.Fatalf("CheckSession after a new bot token: %v", err)
	}
}

// FuzzCheckSession ensures no session token, however malformed, panics or
// passes unless it is the one issued.
func FuzzCheckSession(f *testing.F) {
	v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: testToken, Now: func() time.Time { return testNow }})
	if err != nil {
		f.Fatal(err)
	}
	s, err := v.IssueSession(telegram.InitData{User: &telegram.User{ID: 7}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s.Token)
	f.Add("s1.7.99999999999.")
	f.Add("s1..." + strings.Repeat("a", 300))
	f.Fuzz(func(t *testing.T, token string) {
		if v.CheckSession(token, 7) == nil && token != s.Token {
			t.Fatalf("a token other than the issued one passed: %q", token)
		}
	})
}
