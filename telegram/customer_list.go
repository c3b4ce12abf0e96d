package telegram

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
)

// Defaults and limits of the admin customers list.
const (
	// ListPerPageDefault is the page size when per_page is not given.
	ListPerPageDefault = 20
	// ListPerPageMax is the largest per_page accepted.
	ListPerPageMax = 100
	// ListSortDefault and ListOrderDefault give the newest customers first.
	ListSortDefault  = "id"
	ListOrderDefault = "desc"
	// listPageMax bounds page so that an offset never overflows anything.
	listPageMax = 1_000_000
	// listTextMax bounds a search or text filter, in characters.
	listTextMax = 255
	// listSearchWordsMax bounds the words of a search, each one a LIKE.
	listSearchWordsMax = 8
)

// ListQuery is a page of the admin customers list: GET
// /customers?page=&per_page=&sort=&order=&search=&filter[...]=.
//
// Filters keys are column names from an allow-list: a text column
// ("first_name", "last_name", "username", "language_code", "tracking_id")
// matches values containing the text, case-insensitively; a boolean
// ("is_premium", "allows_write_to_pm", "bot_blocked", "privacy_consented")
// takes true/false, 1/0 or yes/no; a date column ("created_at",
// "updated_at", "last_seen_at", "privacy_consented_at") takes
// "<column>.from" and "<column>.to" keys with an RFC 3339 time or a
// YYYY-MM-DD date (UTC; a date as "to" includes that whole day). Empty values
// are no filter. Search matches customers whose names or "@username" contain
// every word of it.
type ListQuery struct {
	Page    int    // 1-based; 0 means 1
	PerPage int    // 1 to ListPerPageMax; 0 means ListPerPageDefault
	Sort    string // a sortable column; "" means ListSortDefault
	Order   string // "asc" or "desc"; "" means asc, or desc for the default sort
	Search  string
	Filters map[string]string
}

// ListMeta is the pagination of a CustomerList.
type ListMeta struct {
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Total   int64 `json:"total"`
	Pages   int64 `json:"pages"`
}

// CustomerList is a page of customers, as the admin API answers it.
type CustomerList struct {
	Data []Customer `json:"data"`
	Meta ListMeta   `json:"meta"`
}

type filterKind int

const (
	filterText filterKind = iota + 1
	filterBool
	filterDate
)

// listFilters is the allow-list of filterable columns. Column names in SQL
// only ever come from here and from listSorts, never from the request.
var listFilters = map[string]struct {
	kind filterKind
	expr string // the SQL column or condition
}{
	"first_name":           {filterText, "first_name_lc"},
	"last_name":            {filterText, "last_name_lc"},
	"username":             {filterText, "username"},
	"language_code":        {filterText, "language_code"},
	"tracking_id":          {filterText, "tracking_id"},
	"is_premium":           {filterBool, "is_premium"},
	"allows_write_to_pm":   {filterBool, "allows_write_to_pm"},
	"bot_blocked":          {filterBool, "bot_blocked"},
	"privacy_consented":    {filterBool, "privacy_consented_at"},
	"created_at":           {filterDate, "created_at"},
	"updated_at":           {filterDate, "updated_at"},
	"last_seen_at":         {filterDate, "last_seen_at"},
	"privacy_consented_at": {filterDate, "privacy_consented_at"},
}

// listSorts maps each sortable column to its ORDER BY expression per
// dialect. Names sort case-insensitively: by the table's collation on
// MySQL, by the lower-cased copies on SQLite (whose NOCASE folds ASCII only).
var listSorts = map[string][2]string{ // [mysql, sqlite]
	"id":                   {"id", "id"},
	"first_name":           {"first_name", "first_name_lc"},
	"last_name":            {"last_name", "last_name_lc"},
	"username":             {"username", "username"},
	"created_at":           {"created_at", "created_at"},
	"updated_at":           {"updated_at", "updated_at"},
	"last_seen_at":         {"last_seen_at", "last_seen_at"},
	"privacy_consented_at": {"privacy_consented_at", "privacy_consented_at"},
	"orders_count":         {"orders_count", "orders_count"},
}

// SortColumns returns the columns the customers list can be sorted on.
func SortColumns() []string { return sortedKeys(listSorts) }

// FilterColumns returns the columns the customers list can be filtered on.
func FilterColumns() []string { return sortedKeys(listFilters) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var filterParam = regexp.MustCompile(`^filter\[([^\[\]]*)\](?:\[([^\[\]]*)\])?$`)

// ParseListQuery reads a ListQuery from the query parameters page,
// per_page, sort, order, search and filter[column] (filter[column][from] and
// filter[column][to] for dates), and checks it. Errors are *tcerr.Error 400
// naming the parameter. Other parameters are ignored.
func ParseListQuery(v url.Values) (ListQuery, error) {
	var q ListQuery
	one := func(name string) (string, error) {
		vs := v[name]
		if len(vs) > 1 {
			return "", tcerr.Invalidf("parameter %s is repeated", name)
		}
		if len(vs) == 0 {
			return "", nil
		}
		return strings.TrimSpace(vs[0]), nil
	}
	// 0 (absent) takes the default in withDefaults.
	var err error
	if q.Page, err = httpx.QueryInt(v, "page", 0, 1, listPageMax); err != nil {
		return ListQuery{}, err
	}
	if q.PerPage, err = httpx.QueryInt(v, "per_page", 0, 1, ListPerPageMax); err != nil {
		return ListQuery{}, err
	}
	if q.Sort, err = one("sort"); err != nil {
		return ListQuery{}, err
	}
	if q.Order, err = one("order"); err != nil {
		return ListQuery{}, err
	}
	if q.Search, err = one("search"); err != nil {
		return ListQuery{}, err
	}
	for name, vs := range v {
		if !strings.HasPrefix(name, "filter") {
			continue
		}
		m := filterParam.FindStringSubmatch(name)
		if m == nil {
			return ListQuery{}, tcerr.Invalidf("parameter %.60q is not filter[column] or filter[column][from|to]", name)
		}
		if len(vs) > 1 {
			return ListQuery{}, tcerr.Invalidf("parameter %s is repeated", name)
		}
		key := m[1]
		if m[2] != "" {
			if m[2] != "from" && m[2] != "to" {
				return ListQuery{}, tcerr.Invalidf("parameter %.60q: a range is [from] or [to]", name)
			}
			key += "." + m[2]
		}
		if q.Filters == nil {
			q.Filters = map[string]string{}
		}
		q.Filters[key] = strings.TrimSpace(vs[0])
	}
	if _, err := q.plan(migrator.SQLite); err != nil {
		return ListQuery{}, err
	}
	return q.withDefaults(), nil
}

func (q ListQuery) withDefaults() ListQuery {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PerPage == 0 {
		q.PerPage = ListPerPageDefault
	}
	if q.Sort == "" {
		q.Sort = ListSortDefault
		if q.Order == "" {
			q.Order = ListOrderDefault
		}
	}
	if q.Order == "" {
		q.Order = "asc"
	}
	q.Order = strings.ToLower(q.Order)
	return q
}

// listPlan is a checked ListQuery: conditions built from allow-listed
// columns, with the user's values only as arguments.
type listPlan struct {
	q     ListQuery // with defaults
	where sq.And
	// scan is set when a condition is a substring match (the search, a
	// text filter), which no B-tree index serves: every row is read.
	scan bool
}

// plan checks q and builds its conditions for dialect d. Errors are
// *tcerr.Error 400.
func (q ListQuery) plan(d migrator.Dialect) (listPlan, error) {
	q = q.withDefaults()
	p := listPlan{q: q}
	switch {
	case q.Page < 1 || q.Page > listPageMax:
		return p, tcerr.Invalidf("page must be 1 to %d, got %d", listPageMax, q.Page)
	case q.PerPage < 1 || q.PerPage > ListPerPageMax:
		return p, tcerr.Invalidf("per_page must be 1 to %d, got %d", ListPerPageMax, q.PerPage)
	}
	if _, ok := listSorts[q.Sort]; !ok {
		return p, tcerr.Invalidf("cannot sort on %.60q; sortable columns: %s", q.Sort, strings.Join(SortColumns(), ", "))
	}
	if q.Order != "asc" && q.Order != "desc" {
		return p, tcerr.Invalidf("order must be asc or desc, got %.20q", q.Order)
	}
	if err := checkText("search", q.Search); err != nil {
		return p, err
	}
	words := strings.Fields(foldCase(q.Search))
	if len(words) > listSearchWordsMax {
		return p, tcerr.Invalidf("search has more than %d words", listSearchWordsMax)
	}
	for _, w := range words {
		p.where = append(p.where, sq.Expr("search_text LIKE ? ESCAPE '!'", likeContains(w)))
		p.scan = true
	}

	// Go over the filters in a fixed order so that the SQL text is the same
	// for the same query (statement caches, logs, tests).
	for _, key := range sortedKeys(q.Filters) {
		value := q.Filters[key]
		column, bound, _ := strings.Cut(key, ".")
		f, ok := listFilters[column]
		if !ok {
			return p, tcerr.Invalidf("cannot filter on %.60q; filterable columns: %s", column, strings.Join(FilterColumns(), ", "))
		}
		if (f.kind == filterDate) != (bound != "") || (bound != "" && bound != "from" && bound != "to") {
			if f.kind == filterDate {
				return p, tcerr.Invalidf("filter %s takes a range: filter[%s][from] and filter[%s][to]", column, column, column)
			}
			return p, tcerr.Invalidf("filter %s takes a single value: filter[%s]", column, column)
		}
		if value == "" {
			continue
		}
		switch f.kind {
		case filterText:
			if err := checkText("filter "+column, value); err != nil {
				return p, err
			}
			p.where = append(p.where, sq.Expr(f.expr+" LIKE ? ESCAPE '!'", likeContains(foldCase(value))))
			p.scan = true
		case filterBool:
			b, ok := parseBool(value)
			if !ok {
				return p, tcerr.Invalidf("filter %s must be true or false (1/0, yes/no), got %.20q", column, value)
			}
			switch {
			case column == "privacy_consented" && b:
				p.where = append(p.where, sq.NotEq{f.expr: nil})
			case column == "privacy_consented":
				p.where = append(p.where, sq.Eq{f.expr: nil})
			default:
				p.where = append(p.where, sq.Eq{f.expr: boolInt(b)})
			}
		case filterDate:
			t, dateOnly, err := parseListTime(value)
			if err != nil {
				return p, tcerr.Invalidf("filter %s %s must be an RFC 3339 time or a YYYY-MM-DD date, got %.40q", column, bound, value)
			}
			switch {
			case bound == "from":
				p.where = append(p.where, sq.Expr(f.expr+" >= ?", d.EncodeTime(t)))
			case dateOnly: // "to" a date includes that whole day
				p.where = append(p.where, sq.Expr(f.expr+" < ?", d.EncodeTime(t.AddDate(0, 0, 1))))
			default:
				p.where = append(p.where, sq.Expr(f.expr+" <= ?", d.EncodeTime(t)))
			}
		}
	}
	for _, column := range sortedKeys(listFilters) {
		from, okFrom := q.Filters[column+".from"]
		to, okTo := q.Filters[column+".to"]
		if !okFrom || !okTo || from == "" || to == "" {
			continue
		}
		f, _, _ := parseListTime(from)
		t, dateOnly, _ := parseListTime(to)
		if dateOnly {
			t = t.AddDate(0, 0, 1)
		}
		if f.After(t) || (dateOnly && !f.Before(t)) {
			return p, tcerr.Invalidf("filter %s: from %s is after to %s", column, from, to)
		}
	}
	return p, nil
}

func checkText(name, s string) error {
	if !utf8.ValidString(s) {
		return tcerr.Invalidf("%s is not valid UTF-8", name)
	}
	if utf8.RuneCountInString(s) > listTextMax {
		return tcerr.Invalidf("%s is longer than %d characters", name, listTextMax)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return tcerr.Invalidf("%s must not contain control characters", name)
	}
	return nil
}

// likeContains is a LIKE pattern (with ESCAPE '!') matching values that
// contain s literally: '%', '_' and '!' in s are escaped. '!' rather than a
// backslash, because a backslash in SQL text means different things to MySQL
// and SQLite.
func likeContains(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('%')
	for _, r := range s {
		if r == '%' || r == '_' || r == '!' {
			b.WriteByte('!')
		}
		b.WriteRune(r)
	}
	b.WriteByte('%')
	return b.String()
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "1", "yes":
		return true, true
	case "false", "0", "no":
		return false, true
	}
	return false, false
}

// parseListTime reads an RFC 3339 time or a YYYY-MM-DD date (midnight UTC).
func parseListTime(s string) (t time.Time, dateOnly bool, err error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	t, err = time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false, err
	}
	return t.UTC(), false, nil
}

// List returns a page of customers for the admin: q is checked as by
// ParseListQuery (errors are *tcerr.Error 400), sorted by q.Sort and then by
// id in the same direction, so that pages are stable. Meta.Total counts every
// matching customer.
//
// The plan is chosen here rather than left to the engines, which cannot
// know how many rows a substring or a flag matches. Walking the sort
// column's index until a page of matches turns up is fast when matches are
// dense, and costs a row lookup per index entry, five scans' worth, when
// they are rare. So a filtered list first probes the head of the sort order
// (see probe): when that fills the page, only the total is left, a count.
// Otherwise matches are rare, and one scan finds both the page (in a
// bounded sort) and the total (a window function). A page too deep to probe
// takes the same windowed scan when a substring is matched or on MySQL; on
// SQLite, whose windows grow slow past tens of thousands of rows, flags and
// dates alone are counted and then scanned for. A list thus costs about one
// scan of the table, plus a few milliseconds.
func (s *CustomerStore) List(ctx context.Context, q ListQuery) (CustomerList, error) {
	d := s.db.Dialect
	p, err := q.plan(d)
	if err != nil {
		return CustomerList{}, err
	}
	q = p.q
	offset := uint64(q.Page-1) * uint64(q.PerPage)
	list := CustomerList{Data: []Customer{}, Meta: ListMeta{Page: q.Page, PerPage: q.PerPage}}
	var total int64
	if len(p.where) == 0 { // the sort index serves the page at once
		if total, err = s.count(ctx, p); err == nil && offset < uint64(total) {
			list.Data, err = s.page(ctx, p)
		}
	} else {
		var found, probed bool
		list.Data, found, probed, err = s.probe(ctx, p)
		switch {
		case err != nil:
		case found:
			total, err = s.count(ctx, p)
		case probed || p.scan || d == migrator.MySQL:
			list.Data, total, err = s.pageAndCount(ctx, p)
		default:
			if total, err = s.count(ctx, p); err == nil && offset < uint64(total) {
				list.Data, err = s.page(ctx, p)
			}
		}
	}
	if err != nil {
		return CustomerList{}, err
	}
	if list.Data == nil {
		list.Data = []Customer{}
	}
	list.Meta.Total = total
	list.Meta.Pages = (total + int64(q.PerPage) - 1) / int64(q.PerPage)
	return list, nil
}

// from is the table for a filtered count or page: read whole, without an
// index, because a range over half the table read through an index (which
// SQLite, having no statistics, and MySQL before a LIMIT, think cheap) costs
// a row lookup per entry, where a scan is bounded. Index names never come
// from input anyway.
func (s *CustomerStore) from(p listPlan) string {
	switch {
	case len(p.where) == 0:
		return s.table
	case s.db.Dialect == migrator.SQLite:
		return s.table + " NOT INDEXED"
	default:
		return s.table + " USE INDEX ()"
	}
}

// probeJoin joins the probed head to the table, in that order: left to
// itself MariaDB walks the table in sort order and looks the head up, the
// very plan the probe avoids.
func (s *CustomerStore) probeJoin() string {
	if s.db.Dialect == migrator.SQLite {
		return "CROSS JOIN " + s.table + " ON id = head.probe_id" // SQLite keeps a CROSS JOIN's order
	}
	return "STRAIGHT_JOIN " + s.table + " ON id = head.probe_id"
}

// probeMax bounds the rows a probe reads: about 5 ms of row lookups.
const probeMax = 5000

// probe looks for the page among the first rows in sort order only: 50 per
// row up to the end of the page, at most probeMax, read through the sort
// index. A full page found there is the answer, because those rows are the
// head of the whole order. found is false when the matches are too rare for
// that, under 2%; probed is false when the page is too deep to try.
func (s *CustomerStore) probe(ctx context.Context, p listPlan) (list []Customer, found, probed bool, err error) {
	need := uint64(p.q.Page) * uint64(p.q.PerPage)
	if need*50 > probeMax {
		return nil, false, false, nil
	}
	b := s.db.Dialect.Builder()
	head := b.Select("id AS probe_id").From(s.table).OrderBy(s.orderBy(p.q)...).Limit(need * 50)
	list, err = s.query(ctx, b.Select(customerColumns).
		FromSelect(head, "head").JoinClause(s.probeJoin()).
		Where(p.where).OrderBy(s.orderBy(p.q)...).
		Limit(uint64(p.q.PerPage)).Offset(need-uint64(p.q.PerPage)))
	if err != nil {
		return nil, false, true, err
	}
	return list, len(list) == p.q.PerPage, true, nil
}

// orderBy is the ORDER BY of a page: the sort column, then id.
func (s *CustomerStore) orderBy(q ListQuery) []string {
	expr := listSorts[q.Sort][0]
	if s.db.Dialect == migrator.SQLite {
		expr = listSorts[q.Sort][1]
	}
	dir := strings.ToUpper(q.Order) // "ASC" or "DESC", checked by plan
	if q.Sort == "id" {
		return []string{"id " + dir}
	}
	return []string{expr + " " + dir, "id " + dir}
}

func (s *CustomerStore) count(ctx context.Context, p listPlan) (int64, error) {
	b := s.db.Dialect.Builder().Select("COUNT(*)").From(s.from(p))
	if len(p.where) > 0 {
		b = b.Where(p.where)
	}
	q, args, err := b.ToSql()
	if err != nil {
		return 0, fmt.Errorf("telegram: building customers count: %w", err)
	}
	var total int64
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&total); err != nil {
		return 0, fmt.Errorf("telegram: counting customers: %w", err)
	}
	return total, nil
}

// page reads a page. Filtered, it sorts only ids, so that a deep page's
// bounded sort holds narrow rows, and then reads those customers.
func (s *CustomerStore) page(ctx context.Context, p listPlan) ([]Customer, error) {
	if len(p.where) == 0 {
		return s.query(ctx, s.db.Dialect.Builder().Select(customerColumns).From(s.table).
			OrderBy(s.orderBy(p.q)...).
			Limit(uint64(p.q.PerPage)).Offset(uint64(p.q.Page-1)*uint64(p.q.PerPage)))
	}
	ids, _, err := s.pageIDs(ctx, p, false)
	if err != nil {
		return nil, err
	}
	return s.fetch(ctx, ids)
}

// pageAndCount finds a page and the total in one scan with a window
// function (SQLite 3.25+, MariaDB 10.2+, MySQL 8), selecting only ids so
// that the rows the window holds stay narrow, then reads the page's
// customers.
func (s *CustomerStore) pageAndCount(ctx context.Context, p listPlan) ([]Customer, int64, error) {
	ids, total, err := s.pageIDs(ctx, p, true)
	if err != nil {
		return nil, 0, err
	}
	if len(ids) == 0 {
		if p.q.Page == 1 {
			return []Customer{}, 0, nil // nothing matches
		}
		total, err := s.count(ctx, p) // a page past the end
		return []Customer{}, total, err
	}
	list, err := s.fetch(ctx, ids)
	return list, total, err
}

// pageIDs returns the ids of a filtered page, in order, and with total the
// count of all matches (0 when the page is empty).
func (s *CustomerStore) pageIDs(ctx context.Context, p listPlan, total bool) ([]int64, int64, error) {
	columns := []string{"id"}
	if total {
		columns = append(columns, "COUNT(*) OVER ()")
	}
	q, args, err := s.db.Dialect.Builder().Select(columns...).From(s.from(p)).
		Where(p.where).OrderBy(s.orderBy(p.q)...).
		Limit(uint64(p.q.PerPage)).Offset(uint64(p.q.Page-1) * uint64(p.q.PerPage)).ToSql()
	if err != nil {
		return nil, 0, fmt.Errorf("telegram: building customers list: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("telegram: listing customers: %w", err)
	}
	defer rows.Close()
	var ids []int64
	var n int64
	for rows.Next() {
		var id int64
		dest := []any{&id}
		if total {
			dest = append(dest, &n)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, fmt.Errorf("telegram: listing customers: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("telegram: listing customers: %w", err)
	}
	return ids, n, nil
}

// fetch reads the customers with ids, in the order of ids.
func (s *CustomerStore) fetch(ctx context.Context, ids []int64) ([]Customer, error) {
	found, err := s.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	list := make([]Customer, 0, len(ids))
	for _, id := range ids {
		if c, ok := found[id]; ok { // customers are never deleted, but be safe
			list = append(list, c)
		}
	}
	return list, nil
}

func (s *CustomerStore) query(ctx context.Context, b sq.SelectBuilder) ([]Customer, error) {
	q, args, err := b.ToSql()
	if err != nil {
		return nil, fmt.Errorf("telegram: building customers list: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("telegram: listing customers: %w", err)
	}
	defer rows.Close()
	list := []Customer{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("telegram: listing customers: %w", err)
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("telegram: listing customers: %w", err)
	}
	return list, nil
}

// Recipient is a customer a message can be sent to: their id, their chat
// (a private chat's id is the user's), and their language.
type Recipient struct {
	CustomerID     int64
	TelegramUserID int64
	LanguageCode   string
}

// messageable is the condition of a customer the bot can write to: they
// allowed it and have not blocked it.
var messageable = sq.Eq{"allows_write_to_pm": 1, "bot_blocked": 0}

// Recipients returns up to limit customers with an id above afterID, in id
// order, who match q's search and filters (its page and sort are ignored)
// and can be messaged: the broadcasts' recipients, read in chunks. Errors
// are *tcerr.Error 400 for a bad query.
func (s *CustomerStore) Recipients(ctx context.Context, q ListQuery, afterID int64, limit int) ([]Recipient, error) {
	p, err := q.plan(s.db.Dialect)
	if err != nil {
		return nil, err
	}
	list, err := scanRecipients(ctx, s.db.DB, s.db.Dialect.Builder().Select("id", "telegram_user_id", "language_code").From(s.table).
		Where(p.where).Where(messageable).Where(sq.Gt{"id": afterID}).
		OrderBy("id").Limit(uint64(max(limit, 1))))
	if err != nil {
		return nil, fmt.Errorf("telegram: listing recipients: %w", err)
	}
	return list, nil
}

// scanRecipients runs q, a select of id, telegram_user_id and
// language_code, on runner.
func scanRecipients(ctx context.Context, runner sq.BaseRunner, q sq.SelectBuilder) ([]Recipient, error) {
	rows, err := q.RunWith(runner).QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []Recipient
	for rows.Next() {
		var r Recipient
		if err := rows.Scan(&r.CustomerID, &r.TelegramUserID, &r.LanguageCode); err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// RecipientsTx returns those of the customers ids who can still be
// messaged, in id order, read through tx: for a caller that chose its
// recipients with Recipients outside tx and queues their messages in it. On
// MySQL the rows are locked in share mode until tx ends, and an erasure
// takes its customer's row for update: so either the erasure commits first
// and the erased customer is not returned, or it waits for tx and then
// cancels what tx queued. It never returns a customer erased before it read
// (an erased row can no longer be messaged). On SQLite, which has one
// writer, tx does not interleave with an erasure at all.
func (s *CustomerStore) RecipientsTx(ctx context.Context, tx *sql.Tx, ids []int64) ([]Recipient, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	b := s.db.Dialect.Builder().Select("id", "telegram_user_id", "language_code").From(s.table).
		Where(sq.Eq{"id": ids}).Where(messageable).OrderBy("id")
	if s.db.Dialect == migrator.MySQL {
		b = b.Suffix("LOCK IN SHARE MODE")
	}
	list, err := scanRecipients(ctx, tx, b)
	if err != nil {
		return nil, fmt.Errorf("telegram: reading recipients again: %w", err)
	}
	return list, nil
}

// CountRecipients counts the customers Recipients would return from the
// start.
func (s *CustomerStore) CountRecipients(ctx context.Context, q ListQuery) (int64, error) {
	p, err := q.plan(s.db.Dialect)
	if err != nil {
		return 0, err
	}
	p.where = append(p.where, messageable)
	return s.count(ctx, p)
}
