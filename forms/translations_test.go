package forms_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// Translations: a node's label, placeholder, help and option labels per
// language ("labels", "placeholders", "helps", "option_labels").

func TestSchemaTranslations(t *testing.T) {
	// Ensure the per-language props decode, survive a round trip, and an
	// empty map decodes as a missing one.
	t.Run("OK", func(t *testing.T) {
		nodes, err := forms.DecodeSchema([]byte(`[
		  {"$formkit": "text", "name": "name", "label": "Name", "labels": {"ru": "Имя"}, "placeholder": "Your name",
		   "placeholders": {"ru": "Ваше имя"}, "help": "Full name", "helps": {"ru": "Полное имя", "uk": "Повне ім'я"}},
		  {"$formkit": "radio", "name": "size", "label": "Size", "options": {"s": "Small", "l": "Large"},
		   "option_labels": {"ru": {"s": "Маленький", "l": "Большой"}}},
		  {"$formkit": "text", "name": "plain", "label": "Plain", "labels": {}}
		]`))
		if err != nil {
			t.Fatal(err)
		}
		if nodes[0].Labels["ru"] != "Имя" || nodes[0].Placeholders["ru"] != "Ваше имя" || nodes[0].Helps["uk"] != "Повне ім'я" {
			t.Errorf("node 0 = %#v", nodes[0])
		}
		if nodes[1].OptionLabels["ru"]["l"] != "Большой" {
			t.Errorf("node 1 = %#v", nodes[1])
		}
		if nodes[2].Labels != nil {
			t.Errorf("empty labels decoded as %#v, want nil", nodes[2].Labels)
		}
		b, err := json.Marshal(nodes)
		if err != nil {
			t.Fatal(err)
		}
		again, err := forms.DecodeSchema(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, nodes) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", again, nodes)
		}
	})

	// Ensure bad translations are refused, each named by its prop.
	t.Run("ErrSchema", func(t *testing.T) {
		long := strings.Repeat("я", forms.MaxLabelLength+1)
		for _, tc := range []struct {
			name, node, want string
		}{
			{"LanguageCode", `{"$formkit": "text", "name": "a", "labels": {"Russian": "Имя"}}`, `labels: "Russian" is not a language code`},
			{"LanguageRegion", `{"$formkit": "text", "name": "a", "placeholders": {"pt-br": "x"}}`, `placeholders: "pt-br" is not a language code`},
			{"TooLong", `{"$formkit": "text", "name": "a", "labels": {"ru": "` + long + `"}}`, `labels: ru is 201 characters long`},
			{"HelpTooLong", `{"$formkit": "text", "name": "a", "helps": {"ru": "` + strings.Repeat("я", forms.MaxHelpLength+1) + `"}}`, `helps: ru is 501 characters long`},
			{"NotAString", `{"$formkit": "text", "name": "a", "labels": {"ru": 1}}`, `must be a string`},
			{"UnknownOption", `{"$formkit": "select", "name": "a", "options": ["x"], "option_labels": {"ru": {"y": "Игрек"}}}`, `option_labels: ru: "y" is not the value of an option`},
			{"OptionLabelsWithoutOptions", `{"$formkit": "text", "name": "a", "option_labels": {"ru": {"y": "Игрек"}}}`, `"y" is not the value of an option`},
			{"OptionLanguage", `{"$formkit": "select", "name": "a", "options": ["x"], "option_labels": {"RU": {"x": "Икс"}}}`, `option_labels: "RU" is not a language code`},
			{"OptionTooLong", `{"$formkit": "select", "name": "a", "options": ["x"], "option_labels": {"ru": {"x": "` + long + `"}}}`, `option_labels: ru: x is 201 characters long`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := forms.DecodeSchema([]byte("[" + tc.node + "]"))
				var se *forms.SchemaError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want a *SchemaError", err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want it to say %q", err, tc.want)
				}
			})
		}
	})

	// Ensure the admin PUT names the translation prop in its field keys.
	t.Run("FieldKeys", func(t *testing.T) {
		eachDB(t, func(t *testing.T, db migrator.DB) {
			h := MustNewRouter(t, db)
			for _, tc := range []struct{ node, key string }{
				{`{"$formkit": "text", "name": "a", "labels": {"Russian": "Имя"}}`, "schema[0].labels"},
				{`{"$formkit": "text", "name": "a", "helps": {"ru": "` + strings.Repeat("я", forms.MaxHelpLength+1) + `"}}`, "schema[0].helps"},
				{`{"$formkit": "select", "name": "a", "options": ["x"], "option_labels": {"ru": {"y": "Игрек"}}}`, "schema[0].option_labels"},
			} {
				w := serve(h, http.MethodPut, "/admin/api/forms/t", `{"title": "T", "schema": [`+tc.node+`]}`)
				if w.Code != http.StatusUnprocessableEntity {
					t.Fatalf("%s: status %d: %s", tc.node, w.Code, w.Body)
				}
				var body struct {
					Error struct {
						Fields map[string]string `json:"fields"`
					} `json:"error"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				if _, ok := body.Error.Fields[tc.key]; !ok {
					t.Errorf("%s: fields %v, want the key %s", tc.node, body.Error.Fields, tc.key)
				}
			}
		})
	})
}

// Ensure the default checkout form has a Russian text for every English
// one the storefront shows.
func TestDefaultCheckoutRussian(t *testing.T) {
	for _, n := range forms.DefaultCheckout().Schema {
		if n.Label != "" && n.Labels["ru"] == "" {
			t.Errorf("%s: no Russian label", n.Name)
		}
		// A placeholder of digits and signs reads the same in every language.
		if strings.ContainsAny(n.Placeholder, "abcdefghijklmnopqrstuvwxyz") && n.Placeholders["ru"] == "" {
			t.Errorf("%s: no Russian placeholder", n.Name)
		}
		if n.Help != "" && n.Helps["ru"] == "" {
			t.Errorf("%s: no Russian help", n.Name)
		}
		for _, o := range n.Options {
			if n.OptionLabels["ru"][o.Value] == "" {
				t.Errorf("%s: no Russian label for option %s", n.Name, o.Value)
			}
		}
	}
}

// Ensure the migration that adds the Russian texts replaces the checkout
// form only where the shop never edited it.
func TestMigrationCheckoutLanguages(t *testing.T) {
	const first = "20261126000001_forms.sql"
	// firstOnly is the forms source as it was before the languages
	// migration: the same name, so the full source continues its history.
	firstOnly := func(t *testing.T) migrator.Source {
		src := forms.MigrationSource()
		m := fstest.MapFS{}
		for _, d := range []string{"mysql", "sqlite"} {
			b, err := fs.ReadFile(src.FS, "migrations/"+d+"/"+first)
			if err != nil {
				t.Fatal(err)
			}
			m["migrations/"+d+"/"+first] = &fstest.MapFile{Data: b}
		}
		return migrator.Source{Name: src.Name, FS: m}
	}
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			// Ensure an untouched checkout form becomes DefaultCheckout().
			t.Run("Untouched", func(t *testing.T) {
				db := migratortest.MustOpenEmpty(t, d)
				migratortest.MustMigrate(t, db, firstOnly(t))
				before := mustRow(t, db, forms.CheckoutAlias)
				migratortest.MustMigrate(t, db, forms.MigrationSource())
				got := MustGet(t, MustNewStore(t, db, nil), forms.CheckoutAlias)
				if !reflect.DeepEqual(got, forms.DefaultCheckout()) {
					t.Fatalf("checkout after the migration:\n got %#v\nwant %#v", got, forms.DefaultCheckout())
				}
				if after := mustRow(t, db, forms.CheckoutAlias); !after.updatedAt.Equal(before.updatedAt) {
					t.Errorf("updated_at moved from %v to %v", before.updatedAt, after.updatedAt)
				}
			})
			// Ensure a form the shop edited is kept as it is, even one that
			// differs from the seed only in letter case.
			t.Run("Edited", func(t *testing.T) {
				db := migratortest.MustOpenEmpty(t, d)
				migratortest.MustMigrate(t, db, firstOnly(t))
				r := mustRow(t, db, forms.CheckoutAlias)
				edited := strings.Replace(r.schema, `"label":"Name"`, `"label":"NAME"`, 1)
				mustExec(t, db, "UPDATE "+db.Table("forms")+" SET `schema` = ? WHERE alias = ?", edited, forms.CheckoutAlias)
				migratortest.MustMigrate(t, db, forms.MigrationSource())
				if got := mustRow(t, db, forms.CheckoutAlias).schema; got != edited {
					t.Fatalf("the edited form was replaced:\n got %s\nwant %s", got, edited)
				}
			})
		})
	}
}

// Ensure the store hands out copies of the translation maps, so a caller
// that changes them does not change the cached form.
func TestStore_TranslationsCopied(t *testing.T) {
	eachDB(t, func(t *testing.T, db migrator.DB) {
		s := MustNewStore(t, db, nil)
		f := MustGet(t, s, forms.CheckoutAlias)
		f.Schema[0].Labels["ru"] = "changed"
		f.Schema[3].OptionLabels["ru"]["courier"] = "changed"
		if got := MustGet(t, s, forms.CheckoutAlias); !reflect.DeepEqual(got, forms.DefaultCheckout()) {
			t.Fatalf("the cached form changed: %#v", got.Schema[:4])
		}
	})
}
