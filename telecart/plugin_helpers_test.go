package telecart_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

const (
	plugBotToken   = "7000000001:plugin-test-token"
	plugAdminToken = "admin-secret-token"
)

// hostSource is the test host's own order table, migrated with TeleCart's.
func hostSource() migrator.Source {
	fsys := fstest.MapFS{
		"migrations/mysql/001_host.sql":  {Data: []byte("CREATE TABLE host_orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, total BIGINT NOT NULL, comment TEXT NOT NULL, customer BIGINT NOT NULL);")},
		"migrations/sqlite/001_host.sql": {Data: []byte("CREATE TABLE host_orders (id INTEGER PRIMARY KEY AUTOINCREMENT, total INTEGER NOT NULL, comment TEXT NOT NULL, customer INTEGER NOT NULL);")},
	}
	return migrator.Source{Name: "host", FS: fsys}
}

// fakePlacer writes orders into host_orders through the handed tx; failNext
// makes the next call fail after writing, to prove the rollback.
type fakePlacer struct {
	mu       sync.Mutex
	failNext error
	calls    int
	last     telecart.NewOrder
}

func (p *fakePlacer) PlaceOrder(ctx context.Context, tx *sql.Tx, o telecart.NewOrder) (telecart.PlacedOrder, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.last = o
	res, err := tx.ExecContext(ctx, "INSERT INTO host_orders (total, comment, customer) VALUES (?, ?, ?)", o.Total, o.Comment, o.HostCustomerID)
	if err != nil {
		return telecart.PlacedOrder{}, err
	}
	if err := p.failNext; err != nil {
		p.failNext = nil
		return telecart.PlacedOrder{}, err
	}
	id, err := res.LastInsertId()
	return telecart.PlacedOrder{ID: fmt.Sprintf("H%d", id)}, err
}

type fakeDirectory map[string]int64

func (d fakeDirectory) FindCustomer(ctx context.Context, email, phone string) (int64, error) {
	if id, ok := d[strings.ToLower(email)]; ok {
		return id, nil
	}
	return d[phone], nil
}

// plugShop is a whole TeleCart over a test database, a fake catalog, a fake
// host placer and the reference Pulse receiver.
type plugShop struct {
	tc       *telecart.TeleCart
	db       migrator.DB
	catalog  *fakeCatalog
	placer   *fakePlacer
	receiver *pulsetest.Receiver
	server   *httptest.Server
	clock    *testClock
}

func newPlugShop(tb testing.TB, db migrator.DB) *plugShop {
	tb.Helper()
	return newPlugShopWith(tb, db, nil)
}

// newPlugShopWith is newPlugShop with the Config changed by mutate (when
// not nil) before New.
func newPlugShopWith(tb testing.TB, db migrator.DB, mutate func(*telecart.Config)) *plugShop {
	tb.Helper()
	clock := newTestClock()
	rv, err := pulsetest.New(pulsetest.Config{APIKey: "pulse-key", Secret: "pulse-secret", Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	rsrv := httptest.NewServer(rv)
	tb.Cleanup(rsrv.Close)
	s := &plugShop{db: db, catalog: newFakeCatalog(5), placer: &fakePlacer{}, receiver: rv, clock: clock}
	s.catalog.products[1].Price = 1999 // 19,99 ₽: kopecks must add up exactly
	s.catalog.products[4].InStock = false
	cfg := telecart.Config{
		DB: db, Catalog: s.catalog, Orders: s.placer, Customers: fakeDirectory{"anna@example.com": 42},
		AdminAuth: telecart.BearerAuth(plugAdminToken), BotToken: plugBotToken,
		Pulse: pulse.Config{URL: rsrv.URL, APIKey: "pulse-key", Secret: "pulse-secret",
			RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond},
		ExtraMigrations: []migrator.Source{hostSource()},
		Now:             s.clock.Now,
		Logger:          slog.New(slog.DiscardHandler),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if s.tc, err = telecart.New(cfg); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.tc.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.tc.Stop(ctx); err != nil {
			tb.Errorf("Stop: %v", err)
		}
	})
	s.server = httptest.NewServer(s.tc.Handler())
	tb.Cleanup(s.server.Close)
	return s
}

// initData signs initData for a user, with an optional start_param.
func (s *plugShop) initData(userID int64, name, startParam string) string {
	return telegram.SignInitData(plugBotToken, telegram.SignParams{
		User:       &telegram.User{ID: userID, FirstName: name, Username: "u" + fmt.Sprint(userID), AllowsWriteToPM: true},
		StartParam: startParam,
	}, s.clock.Now())
}

// call sends a request; body may be nil, a string sent as is, or a value
// marshalled to JSON. initData "" sends no header; admin adds the token.
func (s *plugShop) call(tb testing.TB, method, path, initData string, admin bool, body any) (int, []byte) {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.server.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if initData != "" {
		req.Header.Set(telegram.HeaderInitData, initData)
	}
	if admin {
		req.Header.Set("Authorization", "Bearer "+plugAdminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("%s %s = %d with Content-Type %q: %s", method, path, resp.StatusCode, ct, raw)
	}
	return resp.StatusCode, raw
}

// must calls and fails unless the status is want; it decodes into dst.
func (s *plugShop) must(tb testing.TB, method, path, initData string, admin bool, body any, want int, dst any) {
	tb.Helper()
	status, raw := s.call(tb, method, path, initData, admin, body)
	if status != want {
		tb.Fatalf("%s %s = %d, want %d: %s", method, path, status, want, raw)
	}
	if dst != nil {
		if err := json.Unmarshal(raw, dst); err != nil {
			tb.Fatalf("decoding %s: %v", raw, err)
		}
	}
}

// count returns SELECT COUNT(*) FROM table [WHERE where].
func (s *plugShop) count(tb testing.TB, table, where string, args ...any) int {
	tb.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := s.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

var errHostDown = errors.New("host order tables are locked")

func jsonDecode(resp *http.Response, dst any) error {
	return json.NewDecoder(resp.Body).Decode(dst)
}
