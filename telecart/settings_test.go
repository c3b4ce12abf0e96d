package telecart_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telecart"
)

const (
	testBotToken    = "123456789:AAFakeBotTokenForTests_xyzW"
	testPulseAPIKey = "pulse-key-0123456789-abcd"
	testPulseSecret = "pulse-secret-0123456789-wxyz"
)

// validSettings returns settings that pass validation and differ from every
// default.
func validSettings() telecart.Settings {
	return telecart.Settings{
		ShopName:          "Lavka",
		PrivacyPolicyLink: "https://shop.example/privacy",
		TimeZone:          "Europe/Moscow",
		BotToken:          testBotToken,
		PulseURL:          "https://pulse.example/api",
		PulseAPIKey:       testPulseAPIKey,
		PulseSecret:       testPulseSecret,
		Blocks: []telecart.Block{
			{Type: telecart.BlockProductsFeed, Title: "New in", AspectRatio: telecart.AspectRatio4x5, PerPage: 12},
		},
		DisabledTasks: []string{"pulse_purge"},
	}
}

func TestSettingsStore_Defaults(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		// Ensure a fresh database holds the products feed block of the first
		// migration (square images, 20 per page), which overrides the host's
		// blocks, while every other setting comes from the host's defaults.
		hostDefaults := telecart.Settings{
			ShopName: "Demo shop",
			BotToken: testBotToken,
			Blocks:   []telecart.Block{{Type: telecart.BlockProductsFeed, AspectRatio: telecart.AspectRatio2x3, PerPage: 5}},
		}
		got := MustGetSettings(t, MustNewSettingsStore(t, db, hostDefaults, nil))
		want := telecart.Settings{
			ShopName: "Demo shop",
			TimeZone: "UTC",
			BotToken: testBotToken,
			Blocks:   []telecart.Block{{Type: "products_feed", Title: "Products", Titles: map[string]string{"ru": "Товары"}, AspectRatio: "1:1", PerPage: 20}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Get = %+v\nwant  %+v", got, want)
		}
		if d := telecart.DefaultProductsFeed(); !reflect.DeepEqual(d, want.Blocks[0]) {
			t.Fatalf("DefaultProductsFeed() = %+v; the migration installs %+v", d, want.Blocks[0])
		}
	})
}

func TestSettingsStore_UpdateGet(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		store := MustNewSettingsStore(t, db, telecart.Settings{ShopName: "Default"}, nil)
		in := validSettings()
		saved := MustUpdateSettings(t, store, in)
		if !reflect.DeepEqual(saved, in) {
			t.Fatalf("Update = %+v\nwant     %+v", saved, in)
		}
		// Ensure the same store answers the new settings at once.
		if got := MustGetSettings(t, store); !reflect.DeepEqual(got, in) {
			t.Fatalf("Get after Update = %+v\nwant %+v", got, in)
		}
		// Ensure they are stored: a store without a cache and with other
		// host defaults reads them back.
		other := MustNewSettingsStore(t, db, telecart.Settings{ShopName: "Other", PulseURL: "https://other.example"}, nil)
		if got := MustGetSettings(t, other); !reflect.DeepEqual(got, in) {
			t.Fatalf("Get from another store = %+v\nwant %+v", got, in)
		}
	})
}

func TestSettingsStore_Normalize(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		// Ensure an empty time zone becomes UTC, a zero page size the default,
		// names are trimmed, duplicate task names dropped, and empty secrets
		// stored as empty (overriding the host's defaults).
		store := MustNewSettingsStore(t, db, telecart.Settings{BotToken: testBotToken}, nil)
		in := telecart.Settings{
			ShopName:      "  Lavka ",
			Blocks:        []telecart.Block{{Type: "products_feed", Title: " Hits ", AspectRatio: "3:4"}},
			DisabledTasks: []string{"a", "b", "a"},
		}
		want := telecart.Settings{
			ShopName:      "Lavka",
			TimeZone:      "UTC",
			Blocks:        []telecart.Block{{Type: "products_feed", Title: "Hits", AspectRatio: "3:4", PerPage: 20}},
			DisabledTasks: []string{"a", "b"},
		}
		if got := MustUpdateSettings(t, store, in); !reflect.DeepEqual(got, want) {
			t.Fatalf("Update = %+v\nwant %+v", got, want)
		}
		got := MustGetSettings(t, MustNewSettingsStore(t, db, telecart.Settings{BotToken: testBotToken}, nil))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Get = %+v\nwant %+v", got, want)
		}
	})
}

func TestSettingsStore_Cache(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		clock := newTestClock()
		a := MustNewSettingsStore(t, db, telecart.Settings{}, clock.Now)
		b := MustNewSettingsStore(t, db, telecart.Settings{}, clock.Now)
		before := MustGetSettings(t, b)

		// Ensure a caller cannot change the cached settings through the
		// slices it was given.
		before.Blocks[0].AspectRatio = "2:3"
		if got := MustGetSettings(t, b); got.Blocks[0].AspectRatio != "1:1" {
			t.Fatalf("the cache shares its slices: %+v", got.Blocks)
		}

		MustUpdateSettings(t, a, validSettings())
		// Ensure another process's store serves its cache until the TTL
		// passes, then reads the new settings.
		if got := MustGetSettings(t, b); got.ShopName != "" {
			t.Fatalf("Get within the TTL = %q; want the cached settings", got.ShopName)
		}
		clock.Advance(telecart.SettingsCacheTTL)
		if got := MustGetSettings(t, b); got.ShopName != "Lavka" {
			t.Fatalf("Get after the TTL = %q; want Lavka", got.ShopName)
		}
	})
}

func TestSettingsStore_ConcurrentReads(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		// Ensure concurrent reads and writes agree (run with -race) and that
		// after the last write every read sees it.
		store := MustNewSettingsStore(t, db, telecart.Settings{}, nil)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 20 {
					if _, err := store.Get(context.Background()); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		s := validSettings()
		for _, name := range []string{"one", "two", "three"} {
			s.ShopName = name
			MustUpdateSettings(t, store, s)
		}
		wg.Wait()
		if got := MustGetSettings(t, store); got.ShopName != "three" {
			t.Fatalf("ShopName = %q after the last write", got.ShopName)
		}
	})
}

// validationCases each break one rule; key is the field the 422 names.
var validationCases = []struct {
	name   string
	key    string
	mutate func(s *telecart.Settings)
}{
	{"PrivacyLinkHTTP", "privacy_policy_link", func(s *telecart.Settings) { s.PrivacyPolicyLink = "http://shop.example/privacy" }},
	{"PrivacyLinkNotURL", "privacy_policy_link", func(s *telecart.Settings) { s.PrivacyPolicyLink = "privacy page" }},
	{"PrivacyLinkJavaScript", "privacy_policy_link", func(s *telecart.Settings) { s.PrivacyPolicyLink = "javascript:alert(1)" }},
	{"PrivacyLinkNoHost", "privacy_policy_link", func(s *telecart.Settings) { s.PrivacyPolicyLink = "https:///privacy" }},
	{"TimeZoneUnknown", "time_zone", func(s *telecart.Settings) { s.TimeZone = "Mars/Olympus_Mons" }},
	{"TimeZoneLocal", "time_zone", func(s *telecart.Settings) { s.TimeZone = "Local" }},
	{"PulseURLScheme", "pulse_url", func(s *telecart.Settings) { s.PulseURL = "ftp://pulse.example" }},
	{"ShopNameTooLong", "shop_name", func(s *telecart.Settings) { s.ShopName = strings.Repeat("я", 256) }},
	{"BlockType", "blocks[0].type", func(s *telecart.Settings) { s.Blocks[0].Type = "banner" }},
	{"BlockTypeEmpty", "blocks[0].type", func(s *telecart.Settings) { s.Blocks[0].Type = "" }},
	{"AspectRatio", "blocks[0].aspect_ratio", func(s *telecart.Settings) { s.Blocks[0].AspectRatio = "16:9" }},
	{"AspectRatioEmpty", "blocks[0].aspect_ratio", func(s *telecart.Settings) { s.Blocks[0].AspectRatio = "" }},
	{"AspectRatioSecondBlock", "blocks[1].aspect_ratio", func(s *telecart.Settings) {
		s.Blocks = append(s.Blocks, telecart.Block{Type: "products_feed", AspectRatio: "5:4"})
	}},
	{"PerPageTooLarge", "blocks[0].per_page", func(s *telecart.Settings) { s.Blocks[0].PerPage = 51 }},
	{"PerPageNegative", "blocks[0].per_page", func(s *telecart.Settings) { s.Blocks[0].PerPage = -1 }},
	{"BlockTitleTooLong", "blocks[0].title", func(s *telecart.Settings) { s.Blocks[0].Title = strings.Repeat("x", 256) }},
	{"TaskNameUpper", "disabled_tasks[0]", func(s *telecart.Settings) { s.DisabledTasks = []string{"Pulse-Send"} }},
	{"TaskNameEmpty", "disabled_tasks[1]", func(s *telecart.Settings) { s.DisabledTasks = []string{"ok", ""} }},
	{"TaskNameTooLong", "disabled_tasks[0]", func(s *telecart.Settings) { s.DisabledTasks = []string{strings.Repeat("a", 65)} }},
}

func TestSettingsStore_Validation(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		store := MustNewSettingsStore(t, db, telecart.Settings{}, nil)
		calls := 0
		store.OnChange(func(telecart.Settings) { calls++ })
		MustUpdateSettings(t, store, validSettings())
		for _, tt := range validationCases {
			t.Run(tt.name, func(t *testing.T) {
				// Ensure the rule is a 422 naming the field, and nothing is
				// saved or announced.
				s := validSettings()
				s.ShopName = "changed"
				tt.mutate(&s)
				_, err := store.Update(context.Background(), s)
				var e *tcerr.Error
				if !errors.As(err, &e) || e.Kind != tcerr.Validation || e.Fields[tt.key] == "" {
					t.Fatalf("Update = %v; want 422 naming %q", err, tt.key)
				}
				if len(e.Fields) != 1 {
					t.Fatalf("fields %v; want only %q", e.Fields, tt.key)
				}
				if got := MustGetSettings(t, store); got.ShopName != "Lavka" {
					t.Fatalf("invalid settings were saved: %+v", got)
				}
			})
		}
		if calls != 1 {
			t.Fatalf("OnChange called %d times; want once, for the valid update", calls)
		}
	})
}

func TestSettingsHTTP_Validation(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		shop := newTestShop(t, db, telecart.Settings{}, nil)
		for _, tt := range validationCases {
			t.Run(tt.name, func(t *testing.T) {
				// Ensure PUT answers the rule as 422 with the field key.
				s := validSettings()
				tt.mutate(&s)
				e := shop.MustError(t, http.MethodPut, "/admin/api/settings", s, http.StatusUnprocessableEntity)
				if e.Error.Code != "validation_failed" || e.Error.Fields[tt.key] == "" {
					t.Fatalf("error %+v; want a message for %q", e.Error, tt.key)
				}
			})
		}
	})
}

func TestSettingsHTTP_BadRequest(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		shop := newTestShop(t, db, telecart.Settings{}, nil)
		for _, tt := range []struct{ name, body, msg string }{
			// Ensure the retired width/height block fields are refused, not
			// silently dropped.
			{"BlockWidth", `{"blocks":[{"type":"products_feed","aspect_ratio":"1:1","per_page":20,"width":300}]}`, "width"},
			{"BlockHeight", `{"blocks":[{"type":"products_feed","aspect_ratio":"1:1","per_page":20,"height":300}]}`, "height"},
			{"UnknownField", `{"shop_name":"x","theme_color":"red"}`, "theme_color"},
			{"Malformed", `{"shop_name":`, "truncated"},
			{"WrongType", `{"blocks":[{"per_page":"20"}]}`, "per_page"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e := shop.MustError(t, http.MethodPut, "/admin/api/settings", tt.body, http.StatusBadRequest)
				if !strings.Contains(e.Error.Message, tt.msg) {
					t.Fatalf("message %q; want it to mention %q", e.Error.Message, tt.msg)
				}
			})
		}
		if got := MustGetSettings(t, shop.store); got.Blocks[0].AspectRatio != "1:1" || got.ShopName != "" {
			t.Fatalf("a refused request changed the settings: %+v", got)
		}
	})
}

// adminView is the admin GET answer.
type adminView struct {
	telecart.Settings
	AspectRatioOptions []telecart.AspectRatioOption `json:"aspect_ratio_options"`
}

func TestSettingsHTTP_Secrets(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		shop := newTestShop(t, db, telecart.Settings{}, nil)
		MustUpdateSettings(t, shop.store, validSettings())

		// Ensure the admin GET masks every secret to its last 4 characters.
		var got adminView
		raw := shop.MustDo(t, http.MethodGet, "/admin/api/settings", nil, http.StatusOK, &got)
		for name, pair := range map[string][2]string{
			"bot_token":     {got.BotToken, testBotToken},
			"pulse_api_key": {got.PulseAPIKey, testPulseAPIKey},
			"pulse_secret":  {got.PulseSecret, testPulseSecret},
		} {
			if want := "••••"; pair[0] != want {
				t.Errorf("%s = %q; want %q", name, pair[0], want)
			}
			if strings.Contains(string(raw), pair[1]) {
				t.Errorf("admin GET leaks %s: %s", name, raw)
			}
		}
		if got.ShopName != "Lavka" || got.Blocks[0].AspectRatio != "4:5" || got.TimeZone != "Europe/Moscow" {
			t.Fatalf("admin GET = %+v", got.Settings)
		}
		if len(got.AspectRatioOptions) != 4 || got.AspectRatioOptions[1].Value != "4:5" || got.AspectRatioOptions[1].Help == "" {
			t.Fatalf("aspect_ratio_options = %+v", got.AspectRatioOptions)
		}

		// Ensure the storefront GET holds only what a visitor may see.
		var front map[string]json.RawMessage
		raw = shop.MustDo(t, http.MethodGet, "/api/settings", nil, http.StatusOK, &front)
		var keys []string
		for k := range front {
			keys = append(keys, k)
		}
		if want := []string{"blocks", "privacy_policy_link", "shop_name", "texts", "theme"}; !sameSet(keys, want) {
			t.Fatalf("storefront keys %v; want %v", keys, want)
		}
		for _, secret := range []string{testBotToken, testPulseAPIKey, testPulseSecret, "••••", "Europe/Moscow", "pulse.example"} {
			if strings.Contains(string(raw), secret) {
				t.Fatalf("storefront GET leaks %q: %s", secret, raw)
			}
		}
		if string(front["theme"]) != "{}" || !strings.Contains(string(front["blocks"]), `"aspect_ratio":"4:5"`) {
			t.Fatalf("storefront GET = %s", raw)
		}

		// Ensure sending the admin GET answer back, masks and options
		// included, keeps every secret.
		got.ShopName = "Lavka 2"
		var put adminView
		shop.MustDo(t, http.MethodPut, "/admin/api/settings", got, http.StatusOK, &put)
		s := MustGetSettings(t, shop.store)
		if s.ShopName != "Lavka 2" || s.BotToken != testBotToken || s.PulseAPIKey != testPulseAPIKey || s.PulseSecret != testPulseSecret {
			t.Fatalf("after PUT with masks: %+v", s)
		}
		if put.BotToken != got.BotToken || put.ShopName != "Lavka 2" {
			t.Fatalf("PUT answered %+v; want masked settings", put.Settings)
		}

		// Ensure an omitted secret is kept and a new one stored.
		body := map[string]any{
			"shop_name":    "Lavka 3",
			"pulse_url":    got.PulseURL,
			"pulse_secret": "new-secret-value-1234",
			"blocks":       got.Blocks,
		}
		shop.MustDo(t, http.MethodPut, "/admin/api/settings", body, http.StatusOK, &put)
		s = MustGetSettings(t, shop.store)
		if s.BotToken != testBotToken || s.PulseAPIKey != testPulseAPIKey || s.PulseSecret != "new-secret-value-1234" {
			t.Fatalf("after PUT: %+v", s)
		}
		if put.PulseSecret != "••••" {
			t.Fatalf("PUT answered %+v", put.Settings)
		}

		// Ensure Pulse settings are all or none: an empty key beside a URL
		// and a secret is a 422 naming the key, and nothing is saved.
		body["pulse_api_key"] = ""
		body["shop_name"] = "Lavka 4"
		e := shop.MustError(t, http.MethodPut, "/admin/api/settings", body, http.StatusUnprocessableEntity)
		if e.Error.Fields["pulse_api_key"] == "" || e.Error.Fields["pulse_url"] != "" {
			t.Fatalf("error %+v; want a pulse_api_key message only", e.Error)
		}
		if s := MustGetSettings(t, shop.store); s.ShopName != "Lavka 3" || s.PulseAPIKey != testPulseAPIKey {
			t.Fatalf("a refused save changed the settings: %+v", s)
		}
		delete(body, "pulse_api_key")
		body["shop_name"] = "Lavka 3"

		// Ensure a stale mask (of a secret since replaced) is refused rather
		// than stored as the secret.
		body["pulse_secret"] = "••••" + testPulseSecret[len(testPulseSecret)-4:]
		e = shop.MustError(t, http.MethodPut, "/admin/api/settings", body, http.StatusUnprocessableEntity)
		if e.Error.Fields["pulse_secret"] == "" {
			t.Fatalf("error %+v; want a pulse_secret message", e.Error)
		}
		if s := MustGetSettings(t, shop.store); s.PulseSecret != "new-secret-value-1234" {
			t.Fatalf("stale mask stored: %q", s.PulseSecret)
		}
	})
}

func TestMaskSecret(t *testing.T) {
	// Ensure short secrets show nothing of themselves.
	for in, want := range map[string]string{
		"":                 "",
		"abc":              "••••",
		"12345678":         "••••",
		"123456789":        "••••",
		"секретный-ключик": "••••",
	} {
		if got := telecart.MaskSecret(in); got != want {
			t.Errorf("MaskSecret(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestSettingsStore_OnChange(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		shop := newTestShop(t, db, telecart.Settings{}, nil)
		var got []telecart.Settings
		shop.store.OnChange(func(s telecart.Settings) { got = append(got, s) })
		var order []int
		shop.store.OnChange(func(telecart.Settings) { order = append(order, 2) })

		// Ensure listeners get the saved settings after a write through the
		// store and through the admin API, and not after a refused one.
		MustUpdateSettings(t, shop.store, validSettings())
		s := validSettings()
		s.BotToken = "987654321:AANewTokenAfterRotation"
		shop.MustDo(t, http.MethodPut, "/admin/api/settings", s, http.StatusOK, nil)
		s.PrivacyPolicyLink = "http://insecure.example"
		shop.MustError(t, http.MethodPut, "/admin/api/settings", s, http.StatusUnprocessableEntity)

		if len(got) != 2 || len(order) != 2 {
			t.Fatalf("OnChange calls: %d and %d; want 2", len(got), len(order))
		}
		if got[0].BotToken != testBotToken || got[1].BotToken != "987654321:AANewTokenAfterRotation" {
			t.Fatalf("listener saw tokens %q, %q", got[0].BotToken, got[1].BotToken)
		}
		// The listener's copy is its own.
		got[1].Blocks[0].Title = "mutated"
		if s := MustGetSettings(t, shop.store); s.Blocks[0].Title != "New in" {
			t.Fatalf("a listener changed the stored settings: %+v", s.Blocks)
		}
	})
}

func TestAspectRatio(t *testing.T) {
	// Ensure heights for the base width, in integer pixels.
	for _, tt := range []struct {
		in     string
		height int
	}{{"1:1", 300}, {"4:5", 375}, {"3:4", 400}, {"2:3", 450}} {
		r, err := telecart.ParseAspectRatio(tt.in)
		if err != nil {
			t.Fatalf("ParseAspectRatio(%q): %v", tt.in, err)
		}
		if got := r.Height(telecart.ImageWidth); got != tt.height {
			t.Errorf("%s.Height(%d) = %d; want %d", tt.in, telecart.ImageWidth, got, tt.height)
		}
		if !strings.HasPrefix(r.Help(), tt.in+" — ") {
			t.Errorf("%s.Help() = %q", tt.in, r.Help())
		}
	}
	if telecart.AspectRatio4x5.Height(301) != 376 {
		t.Errorf("4:5 of 301 = %d; want 376 (rounded down)", telecart.AspectRatio4x5.Height(301))
	}
	for _, bad := range []string{"", "16:9", "1:1 ", "4/5", "5:4"} {
		if _, err := telecart.ParseAspectRatio(bad); !errors.Is(err, telecart.ErrInvalidAspectRatio) {
			t.Errorf("ParseAspectRatio(%q) = %v; want ErrInvalidAspectRatio", bad, err)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestSettingsWriteOnlyChanges ensures a save stores only the settings the
// admin changed: a host default never saved follows the host when it
// changes (a restart with another -pulse-url), and clearing the Pulse
// settings together works.
func TestSettingsWriteOnlyChanges(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		defaults := telecart.Settings{PulseURL: "http://127.0.0.1:40001", PulseAPIKey: "key-one", PulseSecret: "secret-one", BotToken: "1:token"}
		store := MustNewSettingsStore(t, db, defaults, nil)
		s := MustGetSettings(t, store)
		s.ShopName = "Chai"
		MustUpdateSettings(t, store, s)
		var names []string
		rows, err := db.QueryContext(ctx, "SELECT name FROM "+db.Table("settings")+" ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		rows.Close()
		for _, n := range names {
			if n == "pulse_url" || n == "pulse_api_key" || n == "pulse_secret" || n == "bot_token" {
				t.Errorf("an unchanged default was stored: %v", names)
			}
		}
		if !slices.Contains(names, "shop_name") {
			t.Fatalf("the changed setting was not stored: %v", names)
		}

		// A restart with other defaults: they apply, the saved name stays.
		restarted := MustNewSettingsStore(t, db, telecart.Settings{PulseURL: "http://127.0.0.1:40002",
			PulseAPIKey: "key-two", PulseSecret: "secret-two", BotToken: "1:token"}, nil)
		got := MustGetSettings(t, restarted)
		if got.PulseURL != "http://127.0.0.1:40002" || got.PulseAPIKey != "key-two" || got.ShopName != "Chai" {
			t.Fatalf("after a restart: %+v", got)
		}

		// Clearing the three Pulse settings together is allowed and sticks.
		got.PulseURL, got.PulseAPIKey, got.PulseSecret = "", "", ""
		MustUpdateSettings(t, restarted, got)
		if got := MustGetSettings(t, MustNewSettingsStore(t, db, defaults, nil)); got.PulseURL != "" || got.PulseSecret != "" {
			t.Fatalf("cleared Pulse settings came back: %+v", got)
		}
	})
}

// TestSettingsBotTokenCheck ensures a new bot token is asked about with
// getMe before it is saved: one Telegram refuses is a 422 on bot_token and
// nothing changes; a good one is saved with the bot's username; when
// Telegram cannot be reached it is saved with a warning.
func TestSettingsBotTokenCheck(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		const good, bad = "5550001:GOOD-token_value", "5550002:BAD-token_value"
		var down atomic.Bool
		var asked atomic.Int64
		fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked.Add(1)
			if down.Load() {
				http.Error(w, "", http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/bot"+good+"/getMe" {
				io.WriteString(w, `{"ok":true,"result":{"id":5550001,"is_bot":true,"first_name":"Shop","username":"lavka_shop_bot"}}`)
				return
			}
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		}))
		defer fake.Close()
		s := newPlugShopWith(t, db, func(c *telecart.Config) { c.TelegramAPIURL = fake.URL })
		put := func(token string, want int) map[string]any {
			t.Helper()
			var cur map[string]any
			s.must(t, "GET", "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
			cur["bot_token"] = token
			var got map[string]any
			s.must(t, "PUT", "/admin/api/settings", "", true, cur, want, &got)
			return got
		}

		e := put(bad, http.StatusUnprocessableEntity)
		if msg := fmt.Sprint(e["error"]); !strings.Contains(msg, "bot_token") || !strings.Contains(msg, "Unauthorized") {
			t.Fatalf("a refused token: %v", e)
		}
		if st := MustGetSettings(t, s.tc.Settings()); st.BotToken != plugBotToken {
			t.Fatalf("a refused token was saved: %q", st.BotToken)
		}

		got := put(good, http.StatusOK)
		if got["bot_username"] != "lavka_shop_bot" || got["warnings"] != nil {
			t.Fatalf("a good token: %v", got)
		}
		if st := MustGetSettings(t, s.tc.Settings()); st.BotToken != good || st.BotUsername != "lavka_shop_bot" {
			t.Fatalf("after a good token: %+v", st)
		}

		down.Store(true)
		got = put(plugBotToken, http.StatusOK)
		if w, _ := got["warnings"].(map[string]any); w["bot_token"] == nil {
			t.Fatalf("Telegram down: no warning in %v", got)
		}
		if st := MustGetSettings(t, s.tc.Settings()); st.BotToken != plugBotToken {
			t.Fatalf("Telegram down: the token was not saved")
		}

		// Saving without touching the token asks Telegram nothing.
		n := asked.Load()
		var cur map[string]any
		s.must(t, "GET", "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
		cur["shop_name"] = "Lavka"
		s.must(t, "PUT", "/admin/api/settings", "", true, cur, http.StatusOK, nil)
		if asked.Load() != n {
			t.Fatal("an unchanged token was checked again")
		}
	})
}

// TestStartParamSecretKept ensures a shop without a configured start_param
// secret generates one at its first Start and keeps it: a second replica on
// the same database signs and checks links with the same secret, unsigned
// links attribute nothing, and the admin can rotate but not clear it.
func TestStartParamSecretKept(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		a := newPlugShop(t, db)
		b := newPlugShop(t, db) // a second replica
		secret := MustGetSettings(t, a.tc.Settings()).StartParamSecret
		if len(secret) < 32 || MustGetSettings(t, b.tc.Settings()).StartParamSecret != secret {
			t.Fatalf("replicas hold %q and %q", secret, MustGetSettings(t, b.tc.Settings()).StartParamSecret)
		}
		link, err := a.tc.StartParams().Encode(pulse.StartParam{CampaignID: "kept"})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := b.tc.StartParams().Decode(link); err != nil || p.CampaignID != "kept" {
			t.Fatalf("a link signed by one replica is refused by the other: %v", err)
		}
		unsigned, _ := pulse.NewStartParamSerializer("").Encode(pulse.StartParam{CampaignID: "kept"})
		if _, err := b.tc.StartParams().Decode(unsigned); !errors.Is(err, pulse.ErrStartParamMAC) {
			t.Fatalf("an unsigned link: %v; want ErrStartParamMAC", err)
		}

		var cur map[string]any
		a.must(t, "GET", "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
		if cur["start_param_secret"] != "••••" {
			t.Fatalf("the admin API shows %v", cur["start_param_secret"])
		}
		cur["start_param_secret"] = ""
		a.must(t, "PUT", "/admin/api/settings", "", true, cur, http.StatusUnprocessableEntity, nil)
		cur["start_param_secret"] = "a-new-secret-for-links"
		a.must(t, "PUT", "/admin/api/settings", "", true, cur, http.StatusOK, nil)
		if _, err := a.tc.StartParams().Decode(link); !errors.Is(err, pulse.ErrStartParamMAC) {
			t.Fatalf("a link of the old secret after rotating: %v", err)
		}
	})
}

// TestStartParamSecretConfigured ensures a configured secret is used as it
// is, and never written into the settings.
func TestStartParamSecretConfigured(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, func(c *telecart.Config) { c.StartParamSecret = "s3cret" })
		link, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "spring24", Source: "tg"})
		if err != nil || link != "Yz1zcHJpbmcyNCZoPTZlOGJhM2MwMDhkMiZzPXRn" {
			t.Fatalf("link %q, %v; want the protocol's signed vector", link, err)
		}
		if n := s.count(t, db.Table("settings"), "name = 'start_param_secret'"); n != 0 {
			t.Fatalf("the configured secret was stored (%d rows)", n)
		}
	})
}
