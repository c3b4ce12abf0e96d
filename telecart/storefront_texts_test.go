package telecart_test

import (
	"errors"
	"io/fs"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telecart"
)

// The shop's own storefront texts per language, and block titles per
// language.

func TestStorefrontTexts(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		shop := newTestShop(t, db, telecart.Settings{ShopName: "Lavka"}, nil)

		// Ensure a fresh shop serves the defaults of every language, and the
		// admin GET lists them for the form's placeholders.
		t.Run("Defaults", func(t *testing.T) {
			var front struct {
				Texts  map[string]telecart.StorefrontTexts `json:"texts"`
				Blocks []telecart.Block                    `json:"blocks"`
			}
			shop.MustDo(t, http.MethodGet, "/api/settings", nil, http.StatusOK, &front)
			want := map[string]telecart.StorefrontTexts{"en": telecart.DefaultStorefrontTexts("en"), "ru": telecart.DefaultStorefrontTexts("ru")}
			if !reflect.DeepEqual(front.Texts, want) {
				t.Fatalf("texts = %+v\nwant %+v", front.Texts, want)
			}
			if len(front.Blocks) != 1 || front.Blocks[0].Titles["ru"] != "Товары" {
				t.Fatalf("blocks = %+v", front.Blocks)
			}
			var admin struct {
				Texts    map[string]telecart.StorefrontTexts `json:"storefront_texts"`
				Defaults map[string]telecart.StorefrontTexts `json:"storefront_text_defaults"`
			}
			shop.MustDo(t, http.MethodGet, "/admin/api/settings", nil, http.StatusOK, &admin)
			if admin.Texts == nil || len(admin.Texts) != 0 || !reflect.DeepEqual(admin.Defaults, want) {
				t.Fatalf("admin texts %+v, defaults %+v", admin.Texts, admin.Defaults)
			}
		})

		// Ensure a shop's text replaces the default in its language only,
		// is trimmed, and a text equal to the default is not kept (so it
		// follows later defaults); the admin may send back what GET gave.
		t.Run("OK", func(t *testing.T) {
			var admin map[string]any
			shop.MustDo(t, http.MethodGet, "/admin/api/settings", nil, http.StatusOK, &admin)
			admin["storefront_texts"] = map[string]any{
				"ru": map[string]string{"greeting": "  Свежий хлеб каждый день  ", "place_order_button": "Заказать",
					"checkout_title": telecart.DefaultStorefrontTexts("ru").CheckoutTitle},
				"en": map[string]string{"checkout_title": telecart.DefaultStorefrontTexts("en").CheckoutTitle},
			}
			admin["blocks"] = []map[string]any{{"type": "products_feed", "title": "Bread", "titles": map[string]string{"ru": " Хлеб ", "en": ""},
				"aspect_ratio": "1:1", "per_page": 10}}
			var saved struct {
				Texts  map[string]telecart.StorefrontTexts `json:"storefront_texts"`
				Blocks []telecart.Block                    `json:"blocks"`
			}
			shop.MustDo(t, http.MethodPut, "/admin/api/settings", admin, http.StatusOK, &saved)
			wantStored := map[string]telecart.StorefrontTexts{"ru": {Greeting: "Свежий хлеб каждый день", PlaceOrderButton: "Заказать"}}
			if !reflect.DeepEqual(saved.Texts, wantStored) {
				t.Fatalf("saved texts %+v, want %+v", saved.Texts, wantStored)
			}
			if !reflect.DeepEqual(saved.Blocks[0].Titles, map[string]string{"ru": "Хлеб"}) {
				t.Fatalf("saved block titles %+v", saved.Blocks[0].Titles)
			}
			var front struct {
				Texts map[string]telecart.StorefrontTexts `json:"texts"`
			}
			shop.MustDo(t, http.MethodGet, "/api/settings", nil, http.StatusOK, &front)
			ru := telecart.DefaultStorefrontTexts("ru")
			ru.Greeting, ru.PlaceOrderButton = "Свежий хлеб каждый день", "Заказать"
			if front.Texts["ru"] != ru || front.Texts["en"] != telecart.DefaultStorefrontTexts("en") {
				t.Fatalf("storefront texts %+v", front.Texts)
			}
		})

		// Ensure bad texts are 422s keyed by language and text.
		t.Run("ErrValidation", func(t *testing.T) {
			s := validSettings()
			s.StorefrontTexts = map[string]telecart.StorefrontTexts{
				"de": {Greeting: "Hallo"},
				"ru": {ConsentButton: strings.Repeat("я", 256), ConsentText: strings.Repeat("я", 1000)},
				"en": {Greeting: strings.Repeat("a", 501)},
			}
			s.Blocks[0].Titles = map[string]string{"fr": "Nouveau"}
			err := s.Validate()
			var e *tcerr.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v", err)
			}
			for _, k := range []string{"storefront_texts.de", "storefront_texts.ru.consent_button", "storefront_texts.en.greeting", "blocks[0].titles.fr"} {
				if e.Fields[k] == "" {
					t.Errorf("no message for %s: %v", k, e.Fields)
				}
			}
			if len(e.Fields) != 4 {
				t.Errorf("fields %v, want 4 (a consent text of 1000 characters is allowed)", e.Fields)
			}
		})
	})
}

// Ensure the migration that adds the Russian block title changes the
// installed block only when the shop never changed the blocks.
func TestMigrationBlockTitleLanguages(t *testing.T) {
	const first = "20261126000001_settings.sql"
	src := telecart.MigrationSource()
	firstOnly := fstest.MapFS{}
	for _, d := range []string{"mysql", "sqlite"} {
		b, err := fs.ReadFile(src.FS, "migrations/"+d+"/"+first)
		if err != nil {
			t.Fatal(err)
		}
		firstOnly["migrations/"+d+"/"+first] = &fstest.MapFile{Data: b}
	}
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			for _, tc := range []struct {
				name, edit string
				want       []telecart.Block
			}{
				{"Untouched", "", []telecart.Block{telecart.DefaultProductsFeed()}},
				{"Edited", `[{"type":"products_feed","title":"PRODUCTS","aspect_ratio":"1:1","per_page":20}]`,
					[]telecart.Block{{Type: "products_feed", Title: "PRODUCTS", AspectRatio: "1:1", PerPage: 20}}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					db := migratortest.MustOpenEmpty(t, d)
					migratortest.MustMigrate(t, db, migrator.Source{Name: src.Name, FS: firstOnly})
					if tc.edit != "" {
						if _, err := db.Exec("UPDATE "+db.Table("settings")+" SET value = ? WHERE name = 'blocks'", tc.edit); err != nil {
							t.Fatal(err)
						}
					}
					migratortest.MustMigrate(t, db, src)
					if got := MustGetSettings(t, MustNewSettingsStore(t, db, telecart.Settings{}, nil)).Blocks; !reflect.DeepEqual(got, tc.want) {
						t.Fatalf("blocks %+v, want %+v", got, tc.want)
					}
				})
			}
		})
	}
}
