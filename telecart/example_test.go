package telecart_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/dbopen"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

// teaCatalog is a host's catalog: two teas, one sold out.
type teaCatalog struct{}

var teas = []telecart.Product{
	{ID: "sencha", Name: "Sencha", Price: 150000, Currency: "RUB", InStock: true},
	{ID: "matcha", Name: "Matcha", Price: 320000, Currency: "RUB", InStock: false},
}

func (teaCatalog) Products(ctx context.Context, q telecart.ProductQuery) (telecart.ProductPage, error) {
	return telecart.ProductPage{Products: teas, Total: len(teas)}, nil
}

func (teaCatalog) Product(ctx context.Context, id string, img telecart.ImageSize) (telecart.Product, error) {
	for _, p := range teas {
		if p.ID == id {
			return p, nil
		}
	}
	return telecart.Product{}, telecart.ErrProductNotFound
}

// teaOrders writes the host's own order row through the transaction
// TeleCart hands it, so the order, TeleCart's order meta and the Pulse
// event are stored together or not at all.
type teaOrders struct{}

func (teaOrders) PlaceOrder(ctx context.Context, tx *sql.Tx, o telecart.NewOrder) (telecart.PlacedOrder, error) {
	res, err := tx.ExecContext(ctx, "INSERT INTO shop_orders (buyer, total) VALUES (?, ?)", o.Name, o.Total)
	if err != nil {
		return telecart.PlacedOrder{}, err
	}
	id, err := res.LastInsertId()
	return telecart.PlacedOrder{ID: fmt.Sprint(id)}, err
}

// hostLogin stands for the host's own admin session check.
func hostLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("shop_session"); err != nil || c.Value != "owner" {
			http.Error(w, `{"error":{"code":"unauthorized","message":"sign in to the shop"}}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Example wires TeleCart into a host on the standard library's ServeMux,
// under /telecart/, beside the host's own /api/ping, with the host's own
// admin login and its own orders table.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "telecart-example")
	defer os.RemoveAll(dir)
	db, err := dbopen.Open(ctx, "sqlite:"+filepath.Join(dir, "shop.db"), "")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	const botToken = "7000000001:example-token"
	tc, err := telecart.New(telecart.Config{
		DB: db, Catalog: teaCatalog{}, Orders: teaOrders{}, AdminAuth: hostLogin, BotToken: botToken,
		// The host's own table, migrated in the same run as TeleCart's.
		ExtraMigrations: []migrator.Source{{Name: "shop", FS: fstest.MapFS{
			"migrations/sqlite/001_orders.sql": {Data: []byte("CREATE TABLE shop_orders (id INTEGER PRIMARY KEY, buyer TEXT NOT NULL, total INTEGER NOT NULL);")},
			"migrations/mysql/001_orders.sql":  {Data: []byte("CREATE TABLE shop_orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, buyer TEXT NOT NULL, total BIGINT NOT NULL);")},
		}}},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := tc.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer tc.Stop(ctx)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") })
	tc.RegisterServeMux(mux, "/telecart")

	get := func(path string, header http.Header) (int, string) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range header {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	fmt.Println(get("/api/ping", nil))
	fmt.Println(get("/telecart/admin/api/me", http.Header{"Cookie": {"shop_session=owner"}}))
	code, _ := get("/telecart/admin/api/me", nil)
	fmt.Println(code)

	// A buyer in the Mini App: TeleCart validates the initData Telegram
	// signed, then orders go through the host's placer.
	initData := telegram.SignInitData(botToken, telegram.SignParams{
		User: &telegram.User{ID: 42, FirstName: "Anna"},
	}, time.Now())
	buyer, err := tc.Validator().Validate(initData)
	if err != nil {
		fmt.Println(err)
		return
	}
	fields := map[string]any{"name": "Anna", "phone": "+7 900 123-45-67", "email": "anna@example.com", "delivery": "pickup"}
	res, err := tc.Orders().PlaceOrder(ctx, buyer, telecart.OrderRequest{OrderKey: "order-0001",
		Items: []telecart.OrderRequestItem{{ProductID: "sencha", Quantity: 2}}, Fields: fields})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("order", res.OrderID, "total", res.Total, res.Currency)

	_, err = tc.Orders().PlaceOrder(ctx, buyer, telecart.OrderRequest{OrderKey: "order-0002",
		Items: []telecart.OrderRequestItem{{ProductID: "matcha", Quantity: 1}}, Fields: fields})
	var pe *telecart.ProductError
	fmt.Println(errors.Is(err, telecart.ErrOutOfStock), errors.As(err, &pe) && pe.ProductID == "matcha")

	// Output:
	// 200 pong
	// 200 {"authenticated":true}
	// 401
	// order 1 total 300000 RUB
	// true true
}
