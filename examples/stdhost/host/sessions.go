package host

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telecart"
)

// SessionCookie names the cookie of the shop's admin session.
const SessionCookie = "stdhost_session"

// SessionTTLDefault is how long an admin session lasts.
const SessionTTLDefault = 12 * time.Hour

// Sessions is the shop's own admin login: one username and password, and
// sessions kept in memory (a restart signs everyone out) behind an HttpOnly,
// SameSite=Lax cookie. It is safe for concurrent use.
type Sessions struct {
	user, password [sha256.Size]byte
	ttl            time.Duration
	now            func() time.Time

	mu       sync.Mutex
	sessions map[string]time.Time // token → expiry
}

// NewSessions returns the login for one admin; ttl <= 0 means
// SessionTTLDefault and a nil now means time.Now.
func NewSessions(user, password string, ttl time.Duration, now func() time.Time) *Sessions {
	if ttl <= 0 {
		ttl = SessionTTLDefault
	}
	if now == nil {
		now = time.Now
	}
	return &Sessions{user: sha256.Sum256([]byte(user)), password: sha256.Sum256([]byte(password)),
		ttl: ttl, now: now, sessions: map[string]time.Time{}}
}

// Check reports whether user and password are the admin's. Both are
// compared in constant time, as hashes so that their lengths leak nothing
// either, and both are always compared.
func (s *Sessions) Check(user, password string) bool {
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(u[:], s.user[:])&subtle.ConstantTimeCompare(p[:], s.password[:]) == 1
}

// Start opens a session and sets its cookie on w.
func (s *Sessions) Start(w http.ResponseWriter, r *http.Request) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	now := s.now()
	s.mu.Lock()
	for t, exp := range s.sessions {
		if !now.Before(exp) {
			delete(s.sessions, t)
		}
	}
	s.sessions[token] = now.Add(s.ttl)
	s.mu.Unlock()
	http.SetCookie(w, s.cookie(r, token, int(s.ttl/time.Second)))
}

// End closes the request's session, if any, and clears its cookie.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, s.cookie(r, "", -1))
}

// Valid reports whether the request carries a live session.
func (s *Sessions) Valid(r *http.Request) bool {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.sessions[c.Value]
	return ok && s.now().Before(exp)
}

// cookie is the session cookie: HttpOnly so page scripts never see it,
// SameSite=Lax so that other sites' forms and fetches don't carry it (with
// http.CrossOriginProtection in front, that is the shop's CSRF defence),
// and Secure when the shop is served over TLS.
func (s *Sessions) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil}
}

// AdminAuth is the middleware the shop hands TeleCart as
// telecart.Config.AdminAuth: a request with a live session goes through;
// one without gets a 401 JSON error and no WWW-Authenticate challenge, which
// tells TeleCart's admin page to send the admin to the shop's own login
// instead of asking for a token.
func (s *Sessions) AdminAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Valid(r) {
			w.Header().Set("Cache-Control", "no-store")
			telecart.WriteError(w, r, tcerr.Errorf(tcerr.Unauthenticated, "unauthorized", "Sign in at /admin/login first."))
			return
		}
		next.ServeHTTP(w, r)
	})
}
