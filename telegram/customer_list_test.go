package telegram_test

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
)

// custFixture is one customer of the list tests, with everything the list
// can sort or filter on.
type custFixture struct {
	key         string
	user        telegram.User
	day         int // created (and updated) on January <day>, 10:00 UTC
	consentedAt *time.Time
	blocked     bool
	orders      int
	lastSeenDay int // March <lastSeenDay>, 08:00 UTC
	customer    telegram.Customer
}

func custDay(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, time.UTC)
}

// custFixtures are chosen so that the collations of both dialects agree on
// their order, and so that unescaped wildcards would match decoys: '_' in
// "o_n" would match "Oxnard", '%' everything.
func custFixtures() []*custFixture {
	return []*custFixture{
		{key: "ann1", user: telegram.User{ID: 1001, FirstName: "Anna", LastName: "Smith", Username: "annas", LanguageCode: "en", IsPremium: true, AllowsWriteToPM: true},
			day: 1, consentedAt: custPtr(custDay(1, 2, 12)), orders: 3, lastSeenDay: 1},
		{key: "ann2", user: telegram.User{ID: 1002, FirstName: "anna", LastName: "Brown", Username: "anna_b", LanguageCode: "ru", AllowsWriteToPM: true},
			day: 2, blocked: true, lastSeenDay: 2},
		{key: "zofie", user: telegram.User{ID: 1003, FirstName: "Žofie 🚀", LastName: "Nováková", Username: "zofie", LanguageCode: "cs", IsPremium: true},
			day: 3, consentedAt: custPtr(custDay(1, 5, 0)), orders: 5, lastSeenDay: 3},
		{key: "am", user: telegram.User{ID: 1004, FirstName: "Anna+Maria 100%", LastName: "O_Neil", Username: "am_x", LanguageCode: "en"},
			day: 4, orders: 1, lastSeenDay: 4},
		{key: "bob", user: telegram.User{ID: 1005, FirstName: "Bob", LastName: "Oxnard", AllowsWriteToPM: true},
			day: 5, consentedAt: custPtr(custDay(1, 6, 9)), orders: 3, lastSeenDay: 5},
		{key: "party", user: telegram.User{ID: 1006, FirstName: "Party 🎉", Username: "party", LanguageCode: "en", IsPremium: true, AllowsWriteToPM: true},
			day: 6, lastSeenDay: 6},
		{key: "dan", user: telegram.User{ID: 1007, FirstName: "Dan", LastName: "Smithers", Username: "DanS", LanguageCode: "de"},
			day: 7, blocked: true, orders: 2, lastSeenDay: 7},
	}
}

// mustSeedCustFixtures stores the fixtures through the store's public API.
func mustSeedCustFixtures(t *testing.T, db migrator.DB) (*telegram.CustomerStore, []*custFixture) {
	t.Helper()
	ctx := context.Background()
	clock := newCustClock()
	s := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})
	fs := custFixtures()
	for _, f := range fs {
		created := custDay(1, f.day, 10)
		clock.Set(created)
		c, err := s.Save(ctx, f.user, custDay(3, f.lastSeenDay, 8))
		if err != nil {
			t.Fatal(err)
		}
		if f.consentedAt != nil {
			if _, err := s.Consent(ctx, f.user.ID, *f.consentedAt); err != nil {
				t.Fatal(err)
			}
		}
		if f.blocked {
			if err := s.MarkUnreachable(ctx, c.ID, created); err != nil {
				t.Fatal(err)
			}
		}
		if f.orders > 0 {
			if err := s.IncrementOrders(ctx, db, c.ID, f.orders); err != nil {
				t.Fatal(err)
			}
		}
		f.customer = mustGetCustomer(t, s, c.ID)
	}
	return s, fs
}

func custKeys(cs []telegram.Customer, fs []*custFixture) []string {
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		key := "?"
		for _, f := range fs {
			if f.customer.ID == c.ID {
				key = f.key
			}
		}
		keys = append(keys, key)
	}
	return keys
}

// custExpect lists the keys of the fixtures for which keep is true, by id.
func custExpect(fs []*custFixture, keep func(f *custFixture) bool) []string {
	var keys []string
	for _, f := range fs {
		if keep(f) {
			keys = append(keys, f.key)
		}
	}
	return keys
}

func mustList(t *testing.T, s *telegram.CustomerStore, raw string) telegram.CustomerList {
	t.Helper()
	q, err := telegram.ParseListQuery(mustParseQuery(t, raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	list, err := s.List(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return list
}

func mustParseQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCustomerListSort(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		s, fs := mustSeedCustFixtures(t, db)
		lower := strings.ToLower
		nullTime := func(p *time.Time) int64 {
			if p == nil {
				return -1 // NULLs sort first ascending on both engines
			}
			return p.UnixMicro()
		}
		keys := map[string]func(c telegram.Customer) any{
			"id":                   func(c telegram.Customer) any { return c.ID },
			"first_name":           func(c telegram.Customer) any { return lower(c.FirstName) },
			"last_name":            func(c telegram.Customer) any { return lower(c.LastName) },
			"username":             func(c telegram.Customer) any { return lower(c.Username) },
			"created_at":           func(c telegram.Customer) any { return c.CreatedAt.UnixMicro() },
			"updated_at":           func(c telegram.Customer) any { return c.UpdatedAt.UnixMicro() },
			"last_seen_at":         func(c telegram.Customer) any { return c.LastSeenAt.UnixMicro() },
			"privacy_consented_at": func(c telegram.Customer) any { return nullTime(c.PrivacyConsentedAt) },
			"orders_count":         func(c telegram.Customer) any { return int64(c.OrdersCount) },
		}
		if got := telegram.SortColumns(); !reflect.DeepEqual(got, slices.Sorted(mapsKeys(keys))) {
			t.Fatalf("SortColumns() = %v; this test covers %v", got, slices.Sorted(mapsKeys(keys)))
		}
		for column, key := range keys {
			for _, order := range []string{"asc", "desc"} {
				// Ensure each allow-listed column sorts both ways, ties
				// broken by id in the same direction.
				want := slices.Clone(fs)
				slices.SortFunc(want, func(a, b *custFixture) int {
					var c int
					switch ka := key(a.customer).(type) {
					case string:
						c = strings.Compare(ka, key(b.customer).(string))
					case int64:
						c = cmp.Compare(ka, key(b.customer).(int64))
					}
					if c == 0 {
						c = cmp.Compare(a.customer.ID, b.customer.ID)
					}
					if order == "desc" {
						c = -c
					}
					return c
				})
				wantKeys := make([]string, len(want))
				for i, f := range want {
					wantKeys[i] = f.key
				}
				// The same order whichever plan the list takes: the sort
				// index alone, a scan (count and page, or one windowed
				// query for a search), or a probe of the index's head.
				for _, v := range []struct {
					extra string
					drop  string // the fixture the condition excludes
				}{
					{"per_page=100", ""},
					{"per_page=100&filter[created_at][from]=2026-01-01", ""},
					{"per_page=100&search=a", "zofie"}, // "Nováková" has an á
					{"per_page=7&filter[created_at][from]=2026-01-01", ""},
					{"per_page=6&search=a", "zofie"},
				} {
					query := "sort=" + column + "&order=" + order + "&" + v.extra
					want := slices.DeleteFunc(slices.Clone(wantKeys), func(k string) bool { return k == v.drop })
					list := mustList(t, s, query)
					if got := custKeys(list.Data, fs); !slices.Equal(got, want) || list.Meta.Total != int64(len(want)) {
						t.Errorf("%s: %v (total %d), want %v", query, got, list.Meta.Total, want)
					}
				}
			}
		}
		// Ensure the default is newest first.
		list := mustList(t, s, "")
		if got, want := custKeys(list.Data, fs), []string{"dan", "party", "bob", "am", "zofie", "ann2", "ann1"}; !slices.Equal(got, want) {
			t.Errorf("default order: %v, want %v", got, want)
		}
	})
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestCustomerListPagination(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		s, fs := mustSeedCustFixtures(t, db)

		// Ensure pages follow one another without gaps or repeats, even on
		// a column with ties (orders_count), and meta counts them.
		all := custKeys(mustList(t, s, "sort=orders_count&order=desc&per_page=100").Data, fs)
		var walked []string
		for page := 1; page <= 3; page++ {
			list := mustList(t, s, "sort=orders_count&order=desc&per_page=3&page="+strconv.Itoa(page))
			want := telegram.ListMeta{Page: page, PerPage: 3, Total: 7, Pages: 3}
			if list.Meta != want {
				t.Fatalf("page %d meta %+v, want %+v", page, list.Meta, want)
			}
			walked = append(walked, custKeys(list.Data, fs)...)
		}
		if !slices.Equal(walked, all) {
			t.Fatalf("pages %v, all %v", walked, all)
		}
		// Ensure the same with conditions, whichever plan serves each page
		// (a probe of the index's head, a scan), and past the end.
		for _, cond := range []string{"filter[created_at][from]=2026-01-01", "search=a"} {
			all := custKeys(mustList(t, s, cond+"&sort=last_name&per_page=100").Data, fs)
			var walked []string
			for page := 1; page <= 4; page++ {
				list := mustList(t, s, cond+"&sort=last_name&per_page=2&page="+strconv.Itoa(page))
				if list.Meta.Total != int64(len(all)) || list.Meta.Pages != int64(len(all)+1)/2 {
					t.Fatalf("%s page %d meta %+v, %d in all", cond, page, list.Meta, len(all))
				}
				walked = append(walked, custKeys(list.Data, fs)...)
			}
			if !slices.Equal(walked, all) {
				t.Fatalf("%s: pages %v, all %v", cond, walked, all)
			}
		}
		// Ensure a page past the end is empty (a JSON array, not null).
		list := mustList(t, s, "per_page=3&page=4")
		if list.Data == nil || len(list.Data) != 0 || list.Meta.Total != 7 || list.Meta.Pages != 3 {
			t.Fatalf("past the end: %+v", list)
		}
		// Ensure the default page size is 20.
		if list := mustList(t, s, ""); list.Meta.PerPage != 20 || list.Meta.Page != 1 || len(list.Data) != 7 {
			t.Fatalf("defaults: %+v", list.Meta)
		}
		// Ensure nothing found is total 0, pages 0.
		list = mustList(t, s, "search=nobody")
		if len(list.Data) != 0 || list.Meta.Total != 0 || list.Meta.Pages != 0 {
			t.Fatalf("nothing found: %+v", list)
		}
	})
}

func TestCustomerListFilters(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		s, fs := mustSeedCustFixtures(t, db)
		ann1 := fs[0].customer
		has := func(keys ...string) func(f *custFixture) bool {
			return func(f *custFixture) bool { return slices.Contains(keys, f.key) }
		}
		not := func(keys ...string) func(f *custFixture) bool {
			return func(f *custFixture) bool { return !slices.Contains(keys, f.key) }
		}
		for _, tt := range []struct {
			name, query string
			want        func(f *custFixture) bool
		}{
			// Text filters: contains, case-insensitive in any script,
			// wildcards literal.
			{"TextContains", "filter[first_name]=ann", has("ann1", "ann2", "am")},
			{"TextCaseInsensitive", "filter[first_name]=ANNA", has("ann1", "ann2", "am")},
			{"TextUnicodeCase", "filter[first_name]=%C5%BEOFIE", has("zofie")}, // žOFIE
			{"TextUnicodeUpper", "filter[last_name]=NOV%C3%81K", has("zofie")}, // NOVÁK
			{"TextPercentLiteral", "filter[first_name]=100%25", has("am")},
			{"TextPlusLiteral", "filter[first_name]=a%2Bm", has("am")},
			{"TextUnderscoreLiteral", "filter[last_name]=o_n", has("am")},
			{"TextUsername", "filter[username]=ANNA", has("ann1", "ann2")},
			{"TextUsernameUnderscore", "filter[username]=_", has("ann2", "am")},
			{"TextLanguage", "filter[language_code]=EN", has("ann1", "am", "party")},
			{"TextTrackingID", "filter[tracking_id]=" + ann1.TrackingID[9:23], has("ann1")},
			{"TextEmptyIsNoFilter", "filter[first_name]=", not()},
			// Booleans in each spelling.
			{"BoolTrue", "filter[is_premium]=true", has("ann1", "zofie", "party")},
			{"BoolNo", "filter[is_premium]=no", not("ann1", "zofie", "party")},
			{"BoolOne", "filter[allows_write_to_pm]=1", has("ann1", "ann2", "bob", "party")},
			{"BoolZero", "filter[allows_write_to_pm]=0", not("ann1", "ann2", "bob", "party")},
			{"BoolYes", "filter[bot_blocked]=YES", has("ann2", "dan")},
			{"BoolFalse", "filter[bot_blocked]=False", not("ann2", "dan")},
			{"BoolConsented", "filter[privacy_consented]=true", has("ann1", "zofie", "bob")},
			{"BoolNotConsented", "filter[privacy_consented]=false", not("ann1", "zofie", "bob")},
			// Date ranges: a date as "to" takes the whole day; RFC 3339 is
			// exact; NULL never matches a range.
			{"DateRange", "filter[created_at][from]=2026-01-02&filter[created_at][to]=2026-01-04", has("ann2", "zofie", "am")},
			{"DateRangeRFC3339", "filter[created_at][from]=2026-01-02T10:00:00Z&filter[created_at][to]=2026-01-04T09:59:59.999Z", has("ann2", "zofie")},
			{"DateRangeOffset", "filter[created_at][from]=2026-01-02T12:00:00%2B02:00", not("ann1")},
			{"DateFromOnly", "filter[last_seen_at][from]=2026-03-06", has("party", "dan")},
			{"DateToOnly", "filter[privacy_consented_at][to]=2026-01-05", has("ann1", "zofie")},
			{"DateUpdated", "filter[updated_at][from]=2026-01-07", has("dan")},
			// Global search over names and @username: every word, any case,
			// wildcards and emoji literal.
			{"SearchWord", "search=smith", has("ann1", "dan")},
			{"SearchFullName", "search=anna+smith", has("ann1")},
			{"SearchWordsAnyOrder", "search=Smith+ANNA", has("ann1")},
			{"SearchUsername", "search=%40dans", has("dan")},
			{"SearchPercent", "search=%25", has("am")},
			{"SearchUnderscore", "search=_", has("ann2", "am")},
			{"SearchEscapeChar", "search=!", has()},
			{"SearchUnicode", "search=%C5%BDOFIE", has("zofie")}, // ŽOFIE
			{"SearchEmoji", "search=%F0%9F%9A%80", has("zofie")}, // 🚀, not 🎉
			{"SearchPlusPercent", "search=%2Bmaria+100%25", has("am")},
			// All together.
			{"TwoFilters", "filter[allows_write_to_pm]=true&filter[privacy_consented]=yes", has("ann1", "bob")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				list := mustList(t, s, tt.query+"&sort=id&order=asc&per_page=100")
				got := custKeys(list.Data, fs)
				want := custExpect(fs, tt.want)
				if !slices.Equal(got, want) || list.Meta.Total != int64(len(want)) {
					t.Fatalf("%s: %v (total %d), want %v", tt.query, got, list.Meta.Total, want)
				}
			})
		}
		// Ensure filters, search, sort and pages combine.
		for _, tt := range []struct {
			query string
			want  []string
			total int64
		}{
			{"filter[language_code]=en&search=anna&sort=first_name&order=desc", []string{"am", "ann1"}, 2},
			{"filter[is_premium]=false&search=n&sort=last_name&per_page=2&page=2", []string{"bob", "dan"}, 4},
		} {
			list := mustList(t, s, tt.query)
			if got := custKeys(list.Data, fs); !slices.Equal(got, tt.want) || list.Meta.Total != tt.total {
				t.Errorf("%s: %v (total %d), want %v (total %d)", tt.query, got, list.Meta.Total, tt.want, tt.total)
			}
		}
		if got := telegram.FilterColumns(); len(got) != 13 {
			t.Errorf("FilterColumns() = %v; extend this test", got)
		}
	})
}

// Ensure a ListQuery built in Go is checked like a parsed one.
func TestCustomerListRejects(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		s := MustNewCustomerStore(t, db, newCustClock(), telegram.CustomerStoreConfig{})
		for _, q := range []telegram.ListQuery{
			{Sort: "password"},
			{Sort: "id; DROP TABLE telecart_customers"},
			{Order: "sideways"},
			{PerPage: 101},
			{Page: -1},
			{Filters: map[string]string{"secret": "1"}},
			{Filters: map[string]string{"created_at": "2026-01-01"}},
			{Filters: map[string]string{"first_name.from": "a"}},
			{Filters: map[string]string{"is_premium": "maybe"}},
		} {
			_, err := s.List(context.Background(), q)
			var he *tcerr.Error
			if !errors.As(err, &he) || he.Kind != tcerr.Invalid {
				t.Errorf("List(%+v): %v, want a 400", q, err)
			}
		}
	})
}

func TestParseListQuery(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// Ensure every parameter is read, with defaults for the missing.
		for _, tt := range []struct {
			raw  string
			want telegram.ListQuery
		}{
			{"", telegram.ListQuery{Page: 1, PerPage: 20, Sort: "id", Order: "desc"}},
			{"sort=first_name", telegram.ListQuery{Page: 1, PerPage: 20, Sort: "first_name", Order: "asc"}},
			{"page=3&per_page=100&sort=created_at&order=DESC&search=+ann+&_=123",
				telegram.ListQuery{Page: 3, PerPage: 100, Sort: "created_at", Order: "desc", Search: "ann"}},
			{"filter[first_name]=ann&filter[created_at][from]=2026-01-01&filter[created_at][to]=2026-01-01T10:00:00Z&filter[is_premium]=yes",
				telegram.ListQuery{Page: 1, PerPage: 20, Sort: "id", Order: "desc", Filters: map[string]string{
					"first_name": "ann", "created_at.from": "2026-01-01", "created_at.to": "2026-01-01T10:00:00Z", "is_premium": "yes"}}},
		} {
			got, err := telegram.ParseListQuery(mustParseQuery(t, tt.raw))
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseListQuery(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
			}
		}
	})
	// Ensure bad input is a 400 naming the problem, never a query.
	for _, tt := range []struct{ name, raw, msg string }{
		{"UnknownSort", "sort=password", "cannot sort on"},
		{"SortInjection", "sort=id%3B+DROP+TABLE+x", "cannot sort on"},
		{"BadOrder", "order=up", "order must be"},
		{"PerPageZero", "per_page=0", `per_page must be a whole number from 1 to 100, got "0"`},
		{"PerPageTooBig", "per_page=101", `per_page must be a whole number from 1 to 100, got "101"`},
		{"PerPageNotNumber", "per_page=ten", `per_page must be a whole number from 1 to 100, got "ten"`},
		{"PageZero", "page=0", `page must be a whole number from 1 to 1000000, got "0"`},
		{"PageNegative", "page=-2", `page must be a whole number from 1 to 1000000, got "-2"`},
		{"PageHuge", "page=99999999999999999999", "page must be a whole number from 1 to 1000000"},
		{"PageTooFar", "page=1000001", `page must be a whole number from 1 to 1000000, got "1000001"`},
		{"Repeated", "sort=id&sort=first_name", "repeated"},
		{"RepeatedPage", "page=1&page=2", "page is given more than once"},
		{"RepeatedFilter", "filter[first_name]=a&filter[first_name]=b", "repeated"},
		{"UnknownFilter", "filter[password]=x", "cannot filter on"},
		{"FilterCaseMatters", "filter[First_Name]=x", "cannot filter on"},
		{"MalformedFilter", "filter=x", "is not filter[column]"},
		{"NestedFilter", "filter[created_at][from][x]=1", "is not filter[column]"},
		{"BadRangeBound", "filter[created_at][since]=2026-01-01", "a range is [from] or [to]"},
		{"DateWithoutRange", "filter[created_at]=2026-01-01", "takes a range"},
		{"TextWithRange", "filter[first_name][from]=a", "takes a single value"},
		{"BoolWithRange", "filter[is_premium][to]=1", "takes a single value"},
		{"BadDate", "filter[created_at][from]=yesterday", "must be an RFC 3339 time or a YYYY-MM-DD date"},
		{"BadDay", "filter[last_seen_at][to]=2026-02-30", "must be an RFC 3339 time"},
		{"DateWithoutZone", "filter[created_at][from]=2026-01-01T10:00:00", "must be an RFC 3339 time"},
		{"FromAfterTo", "filter[created_at][from]=2026-01-03&filter[created_at][to]=2026-01-02", "is after to"},
		{"BadBool", "filter[is_premium]=maybe", "must be true or false"},
		{"BadBoolConsented", "filter[privacy_consented]=2", "must be true or false"},
		{"SearchTooLong", "search=" + strings.Repeat("a", 256), "longer than 255"},
		{"SearchControl", "search=a%0Ab", "control characters"},
		{"SearchInvalidUTF8", "search=%FF", "not valid UTF-8"},
		{"SearchTooManyWords", "search=a+b+c+d+e+f+g+h+i", "more than 8 words"},
		{"FilterTooLong", "filter[first_name]=" + strings.Repeat("ж", 256), "longer than 255"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := telegram.ParseListQuery(mustParseQuery(t, tt.raw))
			var he *tcerr.Error
			if !errors.As(err, &he) || he.Kind != tcerr.Invalid || he.Code != "bad_request" {
				t.Fatalf("ParseListQuery(%q): %v, want a 400", tt.raw, err)
			}
			if !strings.Contains(he.Message, tt.msg) {
				t.Fatalf("message %q, want it to contain %q", he.Message, tt.msg)
			}
		})
	}
}
