package telegram_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telegram"
)

// Ensure Parse decodes every documented field without checking the hash.
func TestParse(t *testing.T) {
	raw := "query_id=QUERY" +
		"&user=%7B%22id%22%3A222%2C%22is_bot%22%3Atrue%2C%22first_name%22%3A%22A+b%22%2C%22last_name%22%3A%22L%22%2C%22username%22%3A%22u%22%2C%22language_code%22%3A%22en%22%2C%22is_premium%22%3Atrue%2C%22added_to_attachment_menu%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fu.svg%22%2C%22new_field%22%3A1%7D" +
		"&receiver=%7B%22id%22%3A991%2C%22first_name%22%3A%22R%22%7D" +
		"&chat=%7B%22id%22%3A-1001%2C%22type%22%3A%22group%22%2C%22title%22%3A%22T%22%2C%22username%22%3A%22c%22%2C%22photo_url%22%3A%22p%22%7D" +
		"&chat_type=group&chat_instance=-99999999999999999999&start_param=debug&can_send_after=10" +
		"&auth_date=1662771648&hash=whatever&signature=sig&future_field=x"
	d, err := telegram.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	wantUser := telegram.User{ID: 222, IsBot: true, FirstName: "A b", LastName: "L", Username: "u", LanguageCode: "en", IsPremium: true, AddedToAttachmentMenu: true, AllowsWriteToPM: true, PhotoURL: "https://t.me/u.svg"}
	switch {
	case d.User == nil || *d.User != wantUser:
		t.Fatalf("User = %+v", d.User)
	case d.Receiver == nil || *d.Receiver != telegram.User{ID: 991, FirstName: "R"}:
		t.Fatalf("Receiver = %+v", d.Receiver)
	case d.Chat == nil || *d.Chat != telegram.Chat{ID: -1001, Type: "group", Title: "T", Username: "c", PhotoURL: "p"}:
		t.Fatalf("Chat = %+v", d.Chat)
	case d.QueryID != "QUERY" || d.ChatType != "group" || d.ChatInstance != "-99999999999999999999" || d.StartParam != "debug" || d.CanSendAfter != 10:
		t.Fatalf("got %+v", d)
	case !d.AuthDate.Equal(time.Date(2022, 9, 10, 1, 0, 48, 0, time.UTC)) || d.AuthDate.Location() != time.UTC:
		t.Fatalf("AuthDate = %v", d.AuthDate)
	case d.Hash != "whatever" || d.Signature != "sig" || d.Raw != raw:
		t.Fatalf("got %+v", d)
	}

	// Only auth_date is required.
	d, err = telegram.Parse("auth_date=1")
	if err != nil || d.User != nil || d.Receiver != nil || d.Chat != nil {
		t.Fatalf("Parse(auth_date=1) = %+v, %v", d, err)
	}
}

// Ensure Parse refuses malformed input with the rule that failed.
func TestParseRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		raw  string
		want error
	}{
		{"ErrMissingAuthDate", "user=%7B%22id%22%3A1%7D", telegram.ErrMissingAuthDate},
		{"ErrMalformedAuthDate", "auth_date=1.5", telegram.ErrMalformedAuthDate},
		{"ErrDuplicateKey", "auth_date=1&auth_date=1", telegram.ErrDuplicateKey},
		{"ErrDuplicateKey/Escaped", "auth_date=1&%61uth_date=1", telegram.ErrDuplicateKey},
		{"ErrMalformedQuery/Escape", "auth_date=1&user=%7", telegram.ErrMalformedQuery},
		{"ErrMalformedQuery/Semicolon", "auth_date=1;user=1", telegram.ErrMalformedQuery},
		{"ErrMalformedQuery/NewlineInValue", "auth_date=1&query_id=a%0Ab=c", telegram.ErrMalformedQuery},
		{"ErrMalformedQuery/EqualsInKey", "auth_date=1&a%3Db=c", telegram.ErrMalformedQuery},
		{"ErrMalformedField/UserJSON", "auth_date=1&user=%7B", telegram.ErrMalformedField},
		{"ErrMalformedField/UserTrailing", "auth_date=1&user=%7B%22id%22%3A1%7D%7B%7D", telegram.ErrMalformedField},
		{"ErrMalformedField/ReceiverJSON", "auth_date=1&receiver=1", telegram.ErrMalformedField},
		{"ErrMalformedField/ChatJSON", "auth_date=1&chat=%7B%22id%22%3A%22x%22%7D", telegram.ErrMalformedField},
		{"ErrMalformedField/ChatNoID", "auth_date=1&chat=%7B%7D", telegram.ErrMalformedField},
		{"ErrMalformedField/CanSendAfter", "auth_date=1&can_send_after=ten", telegram.ErrMalformedField},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := telegram.Parse(tt.raw)
			if !errors.Is(err, tt.want) || !errors.Is(err, telegram.ErrInvalidInitData) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "telegram: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

// FuzzParse checks Parse never panics, keeps Raw, and that every error
// matches ErrInvalidInitData.
func FuzzParse(f *testing.F) {
	for _, vec := range loadVectors(f) {
		f.Add(vec.Raw)
	}
	f.Add("auth_date=1&user=%7B%22id%22%3A1%7D&chat=%7B%22id%22%3A-1%7D&receiver=%7B%22id%22%3A2%7D&can_send_after=1")
	f.Add("auth_date=1;x")
	f.Add("auth_date=99999999999999999999")
	f.Add("&&=&auth_date=1&=")
	f.Add("user=null&auth_date=1")
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := telegram.Parse(raw)
		if err != nil {
			if !errors.Is(err, telegram.ErrInvalidInitData) {
				t.Fatalf("error does not match ErrInvalidInitData: %v", err)
			}
			return
		}
		if d.Raw != raw {
			t.Fatal("Raw changed")
		}
		if d.AuthDate.Location() != time.UTC {
			t.Fatal("AuthDate not UTC")
		}
		if (d.User != nil && d.User.ID == 0) || (d.Receiver != nil && d.Receiver.ID == 0) || (d.Chat != nil && d.Chat.ID == 0) {
			t.Fatalf("object without id: %+v", d)
		}
	})
}
