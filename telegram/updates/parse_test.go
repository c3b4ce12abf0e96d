package updates_test

import (
	"encoding/json"
	"testing"

	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/updates"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		text, user, cmd, arg string
		ok                   bool
	}{
		{"/start", "shop_bot", "start", "", true},
		{"/start abc", "shop_bot", "start", "abc", true},
		{"/START  abc ", "shop_bot", "start", "abc", true},
		{"/start@Shop_Bot abc", "shop_bot", "start", "abc", true},
		{"/start@other_bot abc", "shop_bot", "", "", false},
		{"/start@other_bot abc", "", "start", "abc", true},
		{"/chatid@shop_bot", "shop_bot", "chatid", "", true},
		{"/chatid\nhi", "", "chatid", "hi", true},
		{"start", "", "", "", false},
		{"/", "", "", "", false},
		{"/ start", "", "", "", false},
		{"/stärt", "", "", "", false},
		{"", "", "", "", false},
	} {
		cmd, arg, ok := updates.ParseCommand(tc.text, tc.user)
		if cmd != tc.cmd || arg != tc.arg || ok != tc.ok {
			t.Errorf("ParseCommand(%q, %q) = %q, %q, %v; want %q, %q, %v", tc.text, tc.user, cmd, arg, ok, tc.cmd, tc.arg, tc.ok)
		}
	}
}

func FuzzParseUpdate(f *testing.F) {
	f.Add([]byte(startUpdate(1, 2, "/start abc", "en")))
	f.Add([]byte(memberUpdate(3, 4, "kicked")))
	f.Add([]byte(`{"update_id":5,"callback_query":{}}`))
	f.Add([]byte(`{"update_id":-1}`))
	f.Add([]byte(`{"update_id":1e3}`))
	f.Add([]byte(`[1]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		// Ensure whatever ParseUpdate accepts decodes as an update with its
		// id, and what it refuses it refuses without a panic.
		id, stored, err := updates.ParseUpdateForTest(body)
		if err != nil {
			return
		}
		var u botapi.Update
		if err := json.Unmarshal(stored, &u); err != nil {
			t.Fatalf("accepted %q but it does not decode: %v", body, err)
		}
		if u.UpdateID != id || id < 0 {
			t.Fatalf("accepted %q with id %d, decodes as %d", body, id, u.UpdateID)
		}
		if u.Message != nil {
			updates.ParseCommand(u.Message.Text, "shop_bot")
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/start abc", "/start@bot x", "/chatid", "/\n", "/a@"} {
		f.Add(s, "bot")
	}
	f.Fuzz(func(t *testing.T, text, user string) {
		cmd, _, ok := updates.ParseCommand(text, user)
		if ok && (cmd == "" || len(cmd) > 32) {
			t.Fatalf("ParseCommand(%q) = %q", text, cmd)
		}
	})
}
