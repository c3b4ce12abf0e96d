package telegram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// Sessions keep a Mini App page working past its init data's MaxAge.
// Telegram Desktop keeps a page open for days with the init data it was
// launched with, whose auth_date never changes; the page trades fresh init
// data for a session token (POST /api/session) and sends it as
// X-TeleCart-Session beside its init data. The middleware then takes init
// data that is authentic but too old, for the user the token names only,
// until the token expires. Tokens are stateless: an HMAC under a key
// derived from the bot token, so a new bot token ends every session.

// HeaderSession is the request header that carries a session token.
const HeaderSession = "X-TeleCart-Session"

// SessionTTLDefault is how long a session token lasts.
const SessionTTLDefault = 7 * 24 * time.Hour

// ErrSessionInvalid is a session token that is malformed, forged, expired,
// or issued to another user.
var ErrSessionInvalid = errors.New("telegram: invalid session token")

// Session is a session token and when it expires.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

const sessionVersion = "s1"

// sessionKey derives the session MAC key from the bot token's key; nil
// when the Validator has no bot token (sessions need one).
func (v *Validator) sessionKey() []byte {
	k := v.token.Load()
	if k == nil {
		return nil
	}
	m := hmac.New(sha256.New, k.secret[:])
	m.Write([]byte("TeleCart session"))
	return m.Sum(nil)
}

func sessionMAC(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// IssueSession returns a session token for the user of d, which must be
// fresh init data this Validator accepted.
func (v *Validator) IssueSession(d InitData) (Session, error) {
	key := v.sessionKey()
	if key == nil {
		return Session{}, errors.New("telegram: sessions need the bot token; the Validator has only a public key")
	}
	if d.User == nil || d.User.ID <= 0 {
		return Session{}, errors.New("telegram: init data has no user to issue a session to")
	}
	exp := v.now().Add(v.sessionTTL).UTC().Truncate(time.Second)
	payload := sessionVersion + "." + strconv.FormatInt(d.User.ID, 10) + "." + strconv.FormatInt(exp.Unix(), 10)
	return Session{Token: payload + "." + sessionMAC(key, payload), ExpiresAt: exp}, nil
}

// CheckSession reports whether token is a live session of userID.
func (v *Validator) CheckSession(token string, userID int64) error {
	key := v.sessionKey()
	if key == nil || len(token) > 200 {
		return ErrSessionInvalid
	}
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != sessionVersion {
		return ErrSessionInvalid
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(sessionMAC(key, payload))) {
		return ErrSessionInvalid
	}
	uid, err1 := strconv.ParseInt(parts[1], 10, 64)
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || uid != userID || !v.now().Before(time.Unix(exp, 0)) {
		return ErrSessionInvalid
	}
	return nil
}

var sessionAuthKey = &contextKey{"telegram session auth"}

// viaSession reports whether the middleware let the request in on a
// session token rather than fresh init data.
func viaSession(ctx context.Context) bool {
	b, _ := ctx.Value(sessionAuthKey).(bool)
	return b
}

// HandleSession serves POST /api/session behind Middleware: fresh init data
// gets a session token. A request let in on a session token gets none: a
// session is never extended without fresh init data.
func (v *Validator) HandleSession(w http.ResponseWriter, r *http.Request) {
	d, ok := InitDataFrom(r.Context())
	if !ok || viaSession(r.Context()) {
		httpx.WriteError(w, r, nil, tcerr.Errorf(tcerr.Unauthenticated, "invalid_init_data",
			"a session needs fresh init data; open the shop again from Telegram"))
		return
	}
	s, err := v.IssueSession(d)
	if err != nil {
		httpx.WriteError(w, r, nil, tcerr.Errorf(tcerr.Unauthenticated, "invalid_init_data", "%s", strings.TrimPrefix(err.Error(), "telegram: ")))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, s)
}
