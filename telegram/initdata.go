package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// InitData is the parsed Telegram.WebApp.initData of a Mini App launch
// (WebAppInitData in Telegram's Mini Apps documentation). Optional objects
// are nil and optional strings empty when Telegram did not send them.
type InitData struct {
	QueryID      string // query_id, for answerWebAppQuery
	User         *User  // user: who opened the Mini App
	Receiver     *User  // receiver: the chat partner (attachment menu, private chats)
	Chat         *Chat  // chat: the group or channel (attachment menu)
	ChatType     string // chat_type: "sender", "private", "group", "supergroup" or "channel"
	ChatInstance string // chat_instance; a string because it can exceed int64
	StartParam   string // start_param: the startattach / startapp parameter
	CanSendAfter int    // can_send_after, in seconds
	AuthDate     time.Time
	// Hash is the hex HMAC-SHA-256 of the other fields. Validate checks it; in
	// third-party mode it is carried but not authenticated.
	Hash string
	// Signature is the base64url Ed25519 signature of the other fields but
	// hash, for third-party validation.
	Signature string
	Raw       string // the query string exactly as received
}

// User is a WebAppUser: the user who opened the Mini App, or the receiver.
type User struct {
	ID                    int64  `json:"id"`
	IsBot                 bool   `json:"is_bot,omitempty"`
	FirstName             string `json:"first_name"`
	LastName              string `json:"last_name,omitempty"`
	Username              string `json:"username,omitempty"`
	LanguageCode          string `json:"language_code,omitempty"`
	IsPremium             bool   `json:"is_premium,omitempty"`
	AddedToAttachmentMenu bool   `json:"added_to_attachment_menu,omitempty"`
	AllowsWriteToPM       bool   `json:"allows_write_to_pm,omitempty"`
	PhotoURL              string `json:"photo_url,omitempty"`
}

// Chat is a WebAppChat: the chat a Mini App was launched in from the
// attachment menu.
type Chat struct {
	ID       int64  `json:"id"`
	Type     string `json:"type"`
	Title    string `json:"title"`
	Username string `json:"username,omitempty"`
	PhotoURL string `json:"photo_url,omitempty"`
}

// ErrInvalidInitData matches every error about the init data itself, so a
// caller can answer 401 with one errors.Is. The errors below say which rule
// failed; each of them also matches ErrInvalidInitData.
var ErrInvalidInitData = errors.New("telegram: invalid init data")

// The rules init data can break. The middleware answers their text as the
// 401 message.
var (
	ErrMalformedQuery     = errors.New("init data is not a valid query string")
	ErrDuplicateKey       = errors.New("init data has a duplicated key")
	ErrMissingHash        = errors.New("init data hash is missing")
	ErrMalformedHash      = errors.New("init data hash is not 64 hex characters")
	ErrMissingSignature   = errors.New("init data signature is missing")
	ErrMalformedSignature = errors.New("init data signature is not a base64url Ed25519 signature")
	ErrSignatureMismatch  = errors.New("init data signature does not match")
	ErrMissingAuthDate    = errors.New("init data auth_date is missing")
	ErrMalformedAuthDate  = errors.New("init data auth_date is not a Unix time")
	ErrExpired            = errors.New("init data expired")
	ErrFromFuture         = errors.New("init data auth_date is in the future")
	ErrMalformedField     = errors.New("init data field is malformed")
)

// Why init data was rejected, as RejectReason and ValidatorConfig.OnReject
// name it: a small, stable set of labels for metrics and logs.
const (
	// RejectMissing: the request carries no init data.
	RejectMissing = "missing"
	// RejectMalformed: not well-formed init data (a broken query string, a
	// duplicated or malformed field, a hash or signature of the wrong
	// shape, no auth_date, a repeated header).
	RejectMalformed = "malformed"
	// RejectUnsigned: the hash, or the signature for third-party
	// validation, is missing.
	RejectUnsigned = "unsigned"
	// RejectSignatureMismatch: signed with another key (another bot's
	// token, or forged).
	RejectSignatureMismatch = "signature_mismatch"
	// RejectExpired: auth_date is older than the Validator's MaxAge.
	RejectExpired = "expired"
	// RejectFromFuture: auth_date is ahead of the server's clock by more
	// than the allowed skew.
	RejectFromFuture = "from_future"
)

// RejectReason names why err rejected init data (one of the RejectXxx
// labels), or returns "" when err is nil or not about the init data itself
// (a setup mistake).
func RejectReason(err error) string {
	var ie *invalidError
	if !errors.As(err, &ie) {
		return ""
	}
	switch ie.rule {
	case ErrMissingHash, ErrMissingSignature:
		return RejectUnsigned
	case ErrSignatureMismatch:
		return RejectSignatureMismatch
	case ErrExpired:
		return RejectExpired
	case ErrFromFuture:
		return RejectFromFuture
	}
	return RejectMalformed
}

// invalidError is one broken rule: it matches its sentinel and
// ErrInvalidInitData, and says which key or value broke it.
type invalidError struct {
	rule   error  // one of the sentinels above
	detail string // safe to show, e.g. `key "user"`
	err    error  // cause, e.g. a JSON error
}

func invalid(rule error, detail string, err error) error {
	return &invalidError{rule: rule, detail: detail, err: err}
}

func (e *invalidError) Error() string {
	var b strings.Builder
	b.WriteString("telegram: ")
	b.WriteString(e.rule.Error())
	if e.detail != "" {
		b.WriteString(": ")
		b.WriteString(e.detail)
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *invalidError) Is(target error) bool {
	return target == ErrInvalidInitData || target == e.rule
}

func (e *invalidError) Unwrap() error { return e.err }

// message is the text the middleware answers: the rule and its detail, never
// the cause (a JSON error could quote the input at length).
func (e *invalidError) message() string {
	if e.detail == "" {
		return e.rule.Error()
	}
	return e.rule.Error() + ": " + e.detail
}

// MaxFields is the most fields init data may have. Telegram sends about a
// dozen (query_id, user, receiver, chat, chat_type, chat_instance,
// start_param, can_send_after, auth_date, signature, hash); refusing more
// before decoding, sorting and hashing keeps a header of many thousand
// fields from costing the server anything.
const MaxFields = 32

// pair is one decoded key=value of the query string.
type pair struct{ key, value string }

// pairs holds the decoded fields sorted by key; most init data has fewer than
// a dozen, so the backing array usually stays on the stack.
type pairs []pair

// splitQuery decodes raw with url.ParseQuery's rules ('&' separates, the
// first '=' splits, '+' is a space, %XX is a byte, a ';' is an error) and
// returns the pairs sorted by key. Each key and value is decoded exactly once. A key that appears twice, even spelled
// differently, is rejected: a validator and the code after it must never
// disagree on which value was signed.
func splitQuery(raw string, buf pairs) (pairs, error) {
	if strings.Count(raw, "&") >= MaxFields {
		return nil, invalid(ErrMalformedQuery, fmt.Sprintf("more than %d fields", MaxFields), nil)
	}
	ps := buf[:0]
	for rest := raw; rest != ""; {
		var field string
		field, rest, _ = strings.Cut(rest, "&")
		if field == "" {
			continue
		}
		if strings.Contains(field, ";") {
			return nil, invalid(ErrMalformedQuery, "semicolon in query", nil)
		}
		k, v, _ := strings.Cut(field, "=")
		key, ok := queryUnescape(k)
		if !ok {
			return nil, invalid(ErrMalformedQuery, "", nil)
		}
		value, ok := queryUnescape(v)
		if !ok {
			return nil, invalid(ErrMalformedQuery, "", nil)
		}
		// The data-check-string joins key=value lines with '\n', so a value
		// with a newline or a key with '=' could stand for other fields:
		// "a=1\nb=2" is one field or two. Telegram sends neither.
		if strings.IndexByte(key, '=') >= 0 || strings.IndexByte(key, '\n') >= 0 || strings.IndexByte(value, '\n') >= 0 {
			return nil, invalid(ErrMalformedQuery, fmt.Sprintf("newline or '=' inside key %.40q", key), nil)
		}
		ps = append(ps, pair{key, value})
	}
	slices.SortFunc(ps, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < len(ps); i++ {
		if ps[i].key == ps[i-1].key {
			return nil, invalid(ErrDuplicateKey, fmt.Sprintf("key %q", ps[i].key), nil)
		}
	}
	return ps, nil
}

// queryUnescape is url.QueryUnescape ('+' is a space, %XX a byte, a '%'
// without two hex digits an error) in one pass, and without a copy when
// there is nothing to decode: the user field is most of init data, and
// url.QueryUnescape scanned it twice.
func queryUnescape(s string) (string, bool) {
	i := 0
	for i < len(s) && s[i] != '%' && s[i] != '+' {
		i++
	}
	if i == len(s) {
		return s, true
	}
	// A Builder hands its bytes over as the string without copying them.
	var b strings.Builder
	b.Grow(len(s))
	for {
		b.WriteString(s[:i])
		if i == len(s) {
			return b.String(), true
		}
		if s[i] == '+' {
			b.WriteByte(' ')
			s = s[i+1:]
		} else {
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := fromHex(s[i+1])
			lo, ok2 := fromHex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b.WriteByte(hi<<4 | lo)
			s = s[i+3:]
		}
		i = 0
		for i < len(s) && s[i] != '%' && s[i] != '+' {
			i++
		}
	}
}

// get returns the value of key; ps is short, so a scan beats a search.
func (ps pairs) get(key string) (string, bool) {
	for _, p := range ps {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// Parse decodes raw init data without checking its hash or signature: use it
// only on data that is already trusted. It still rejects a malformed query
// string, a duplicated key, a missing or malformed auth_date and malformed
// JSON objects, with errors that match ErrInvalidInitData.
func Parse(raw string) (InitData, error) {
	var buf [16]pair
	ps, err := splitQuery(raw, buf[:])
	if err != nil {
		return InitData{}, err
	}
	return decode(raw, ps)
}

// decode fills an InitData from sorted, duplicate-free pairs. Unknown keys are
// ignored here but stay in the data-check-string: Telegram adds fields.
func decode(raw string, ps pairs) (InitData, error) {
	d := InitData{Raw: raw}
	var haveAuthDate bool
	for _, p := range ps {
		var err error
		switch p.key {
		case "auth_date":
			haveAuthDate = true
			d.AuthDate, err = parseAuthDate(p.value)
		case "can_send_after":
			d.CanSendAfter, err = parseCanSendAfter(p.value)
		case "chat":
			d.Chat, err = decodeChat(p.value)
		case "chat_instance":
			d.ChatInstance = p.value
		case "chat_type":
			d.ChatType = p.value
		case "hash":
			d.Hash = p.value
		case "query_id":
			d.QueryID = p.value
		case "receiver":
			d.Receiver, err = decodeUser("receiver", p.value)
		case "signature":
			d.Signature = p.value
		case "start_param":
			d.StartParam = p.value
		case "user":
			d.User, err = decodeUser("user", p.value)
		}
		if err != nil {
			return InitData{}, err
		}
	}
	if !haveAuthDate {
		return InitData{}, invalid(ErrMissingAuthDate, "", nil)
	}
	return d, nil
}

func parseAuthDate(s string) (time.Time, error) {
	if !isDigits(s) || len(s) > 12 { // 12 digits reach the year 33658
		return time.Time{}, invalid(ErrMalformedAuthDate, fmt.Sprintf("%.20q", s), nil)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, invalid(ErrMalformedAuthDate, fmt.Sprintf("%.20q", s), nil)
	}
	return time.Unix(n, 0).UTC(), nil
}

func parseCanSendAfter(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if !isDigits(s) || err != nil {
		return 0, invalid(ErrMalformedField, "can_send_after is not a number of seconds", nil)
	}
	return n, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func decodeUser(field, s string) (*User, error) {
	var u User
	if !decodeUserFlat(s, &u) {
		u = User{}
		if err := decodeObject(field, s, &u); err != nil {
			return nil, err
		}
	}
	if u.ID == 0 {
		return nil, invalid(ErrMalformedField, field+" has no id", nil)
	}
	return &u, nil
}

func decodeChat(s string) (*Chat, error) {
	var c Chat
	if !decodeChatFlat(s, &c) {
		c = Chat{}
		if err := decodeObject("chat", s, &c); err != nil {
			return nil, err
		}
	}
	if c.ID == 0 {
		return nil, invalid(ErrMalformedField, "chat has no id", nil)
	}
	return &c, nil
}

// decodeObject accepts only a JSON object: "null" or "[]" would otherwise
// decode into a zero value without complaint.
func decodeObject(field, s string, dst any) error {
	if t := strings.TrimLeft(s, " \t\r\n"); t == "" || t[0] != '{' {
		return invalid(ErrMalformedField, field+" is not a JSON object", nil)
	}
	if err := json.Unmarshal([]byte(s), dst); err != nil {
		return invalid(ErrMalformedField, field+" is not valid JSON", err)
	}
	return nil
}
