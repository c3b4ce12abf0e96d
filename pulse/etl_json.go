package pulse

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/telegram"
)

// The export writes its JSON by hand: a walk over a million customers
// encodes a million of them, and encoding/json's reflection was a third of
// the server's time per page. The bytes are exactly what encoding/json
// writes for the same fields (HTML-safe escaping included); the tests hold
// the two equal.

// MarshalJSON renders c as the export does: id, telegram_user_id,
// tracking_id, first_name, last_name, username, photo_url, language_code,
// is_premium, allows_write_to_pm, host_customer_id, orders_count,
// total_spent, currency, first_order_at, last_order_at,
// privacy_consented_at, first_campaign_id, last_campaign_id, created_at and
// updated_at, times in UTC. Unless the customer consented
// (PrivacyConsentedAt is set), the personal fields (first_name, last_name,
// username, photo_url, language_code) are empty and the ids that lead to
// the person, telegram_user_id and host_customer_id, are 0: such a row is
// the pseudonymous tracking_id and metrics only.
func (c ETLCustomer) MarshalJSON() ([]byte, error) { return appendETLCustomer(nil, &c) }

// etlCustomerJSON is what UnmarshalJSON reads: the export's fields.
type etlCustomerJSON struct {
	ID                 int64      `json:"id"`
	TelegramUserID     int64      `json:"telegram_user_id"`
	TrackingID         string     `json:"tracking_id"`
	FirstName          string     `json:"first_name"`
	LastName           string     `json:"last_name"`
	Username           string     `json:"username"`
	PhotoURL           string     `json:"photo_url"`
	LanguageCode       string     `json:"language_code"`
	IsPremium          bool       `json:"is_premium"`
	AllowsWriteToPM    bool       `json:"allows_write_to_pm"`
	HostCustomerID     int64      `json:"host_customer_id"`
	OrdersCount        int        `json:"orders_count"`
	TotalSpent         int64      `json:"total_spent"`
	Currency           string     `json:"currency"`
	FirstOrderAt       *time.Time `json:"first_order_at"`
	LastOrderAt        *time.Time `json:"last_order_at"`
	PrivacyConsentedAt *time.Time `json:"privacy_consented_at"`
	FirstCampaignID    string     `json:"first_campaign_id"`
	LastCampaignID     string     `json:"last_campaign_id"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// UnmarshalJSON reads the export's JSON, the inverse of MarshalJSON.
func (c *ETLCustomer) UnmarshalJSON(b []byte) error {
	var w etlCustomerJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = ETLCustomer{
		Customer: telegram.Customer{
			ID: w.ID, TelegramUserID: w.TelegramUserID, TrackingID: w.TrackingID, FirstName: w.FirstName,
			LastName: w.LastName, Username: w.Username, PhotoURL: w.PhotoURL, LanguageCode: w.LanguageCode, IsPremium: w.IsPremium,
			AllowsWriteToPM: w.AllowsWriteToPM, HostCustomerID: w.HostCustomerID, OrdersCount: w.OrdersCount,
			PrivacyConsentedAt: w.PrivacyConsentedAt, FirstCampaignID: w.FirstCampaignID,
			LastCampaignID: w.LastCampaignID, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		},
		TotalSpent: w.TotalSpent, Currency: w.Currency, FirstOrderAt: w.FirstOrderAt, LastOrderAt: w.LastOrderAt,
	}
	return nil
}

// appendETLCustomer appends the JSON of c to b. It fails only on a time
// that RFC 3339 cannot hold (a year outside 0–9999), as encoding/json does.
func appendETLCustomer(b []byte, c *ETLCustomer) ([]byte, error) {
	var err error
	// Personal data leaves the shop only with the customer's consent:
	// without it, the row is the pseudonymous tracking_id and metrics, and
	// neither the Telegram id nor the host's customer id, which lead back
	// to the person as surely as a name, goes with it.
	tgID, hostID := c.TelegramUserID, c.HostCustomerID
	first, last, username, photo, lang := c.FirstName, c.LastName, c.Username, c.PhotoURL, c.LanguageCode
	if c.PrivacyConsentedAt == nil {
		tgID, hostID = 0, 0
		first, last, username, photo, lang = "", "", "", "", ""
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, c.ID, 10)
	b = append(b, `,"telegram_user_id":`...)
	b = strconv.AppendInt(b, tgID, 10)
	b = append(b, `,"tracking_id":`...)
	b = appendJSONString(b, c.TrackingID)
	b = append(b, `,"first_name":`...)
	b = appendJSONString(b, first)
	b = append(b, `,"last_name":`...)
	b = appendJSONString(b, last)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, username)
	b = append(b, `,"photo_url":`...)
	b = appendJSONString(b, photo)
	b = append(b, `,"language_code":`...)
	b = appendJSONString(b, lang)
	b = append(b, `,"is_premium":`...)
	b = strconv.AppendBool(b, c.IsPremium)
	b = append(b, `,"allows_write_to_pm":`...)
	b = strconv.AppendBool(b, c.AllowsWriteToPM)
	b = append(b, `,"host_customer_id":`...)
	b = strconv.AppendInt(b, hostID, 10)
	b = append(b, `,"orders_count":`...)
	b = strconv.AppendInt(b, int64(c.OrdersCount), 10)
	b = append(b, `,"total_spent":`...)
	b = strconv.AppendInt(b, c.TotalSpent, 10)
	b = append(b, `,"currency":`...)
	b = appendJSONString(b, c.Currency)
	b = append(b, `,"first_order_at":`...)
	if b, err = appendJSONNullTime(b, c.FirstOrderAt); err != nil {
		return nil, err
	}
	b = append(b, `,"last_order_at":`...)
	if b, err = appendJSONNullTime(b, c.LastOrderAt); err != nil {
		return nil, err
	}
	b = append(b, `,"privacy_consented_at":`...)
	if b, err = appendJSONNullTime(b, c.PrivacyConsentedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"first_campaign_id":`...)
	b = appendJSONString(b, c.FirstCampaignID)
	b = append(b, `,"last_campaign_id":`...)
	b = appendJSONString(b, c.LastCampaignID)
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, c.CreatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendJSONTime(b, c.UpdatedAt); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendJSONTime appends t in UTC as time.Time.MarshalJSON does.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.UTC().AppendText(b)
	if err != nil {
		return nil, fmt.Errorf("pulse: encoding the ETL export: %w", err)
	}
	return append(b, '"'), nil
}

// appendJSONNullTime is appendJSONTime, or null for nil.
func appendJSONNullTime(b []byte, t *time.Time) ([]byte, error) {
	if t == nil {
		return append(b, "null"...), nil
	}
	return appendJSONTime(b, *t)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it by default: ", \ and control characters escaped (\b, \f, \n,
// \r and \t short), <, > and & as \u003c, \u003e and \u0026, invalid UTF-8
// as \ufffd, and U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// etlChunk is how much of a page writeETLPage encodes before writing it
// out: memory stays flat whatever the page size, and the writes are large.
const etlChunk = 32 << 10

// etlBuffers recycles the chunk buffers.
var etlBuffers = sync.Pool{New: func() any { b := make([]byte, 0, etlChunk+4<<10); return &b }}

// writeETLPage writes ETLPage's JSON for rows and the next cursor ("" for
// none), with the headers and status httpx.WriteJSON would send:
// {"data":[…],"next_cursor":…} and a newline. The times are checked
// first, so that an unencodable one is an error before anything is
// written, rather than a page cut short.
func writeETLPage(w http.ResponseWriter, rows []ETLCustomer, cursor string) error {
	for i := range rows {
		if err := checkETLTimes(&rows[i]); err != nil {
			return err
		}
	}
	bp := etlBuffers.Get().(*[]byte)
	defer etlBuffers.Put(bp)
	b := append((*bp)[:0], `{"data":[`...)
	httpx.WriteJSONHeader(w, http.StatusOK)
	var err error
	for i := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendETLCustomer(b, &rows[i]); err != nil {
			return err // checked above; never happens
		}
		if len(b) >= etlChunk {
			if _, err := w.Write(b); err != nil {
				return nil // the client has gone; nothing to answer
			}
			b = b[:0]
		}
	}
	b = append(b, `],"next_cursor":`...)
	if cursor == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, cursor)
	}
	b = append(b, "}\n"...)
	_, _ = w.Write(b)
	*bp = b
	return nil
}

// checkETLTimes reports a time of c that RFC 3339 cannot hold.
func checkETLTimes(c *ETLCustomer) error {
	for _, t := range []*time.Time{c.FirstOrderAt, c.LastOrderAt, c.PrivacyConsentedAt, &c.CreatedAt, &c.UpdatedAt} {
		if t != nil {
			if y := t.UTC().Year(); y < 0 || y > 9999 {
				return fmt.Errorf("pulse: encoding the ETL export: customer %d: year %d is outside 0 to 9999", c.ID, y)
			}
		}
	}
	return nil
}
