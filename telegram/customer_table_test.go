package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
)

func TestCustomerStore_ListAfter(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clock := newCustClock()
		s := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})
		var saved []telegram.Customer
		for i := range 5 {
			saved = append(saved, MustSaveCustomer(t, s, telegram.User{ID: int64(100 + i), FirstName: fmt.Sprint("C", i),
				PhotoURL: "https://t.me/i/userpic/320/x.jpg"}))
			clock.Advance(time.Minute)
		}
		// Customer 1 changes last, which moves its updated_at.
		if err := s.MarkUnreachable(ctx, saved[1].ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		saved[1] = mustGetCustomer(t, s, saved[1].ID)

		// Ensure a walk by the cursor returns every customer once, in id
		// order, with all its fields as Get reads them.
		var walked []telegram.Customer
		for after := int64(0); ; {
			page, err := s.ListAfter(ctx, telegram.AfterQuery{AfterID: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 2 {
				t.Fatalf("page of %d, limit 2", len(page))
			}
			if len(page) == 0 {
				break
			}
			walked = append(walked, page...)
			after = page[len(page)-1].ID
		}
		if !reflect.DeepEqual(walked, saved) {
			t.Fatalf("walked\n%+v\nwant\n%+v", walked, saved)
		}

		// Ensure UpdatedSince keeps customers updated at or after it, the
		// boundary included, still in id order.
		page, err := s.ListAfter(ctx, telegram.AfterQuery{UpdatedSince: saved[3].UpdatedAt, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := custIDs(page), []int64{saved[1].ID, saved[3].ID, saved[4].ID}; !slices.Equal(got, want) {
			t.Fatalf("since customer 3: %v, want %v", got, want)
		}
		page, err = s.ListAfter(ctx, telegram.AfterQuery{AfterID: saved[1].ID, UpdatedSince: saved[3].UpdatedAt, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := custIDs(page), []int64{saved[3].ID}; !slices.Equal(got, want) {
			t.Fatalf("after customer 1, since customer 3, limit 1: %v, want %v", got, want)
		}

		// Ensure the counts agree.
		for _, tt := range []struct {
			since time.Time
			want  int64
		}{{time.Time{}, 5}, {saved[3].UpdatedAt, 3}, {clock.Now().Add(time.Hour), 0}} {
			if n, err := s.CountUpdatedSince(ctx, tt.since); err != nil || n != tt.want {
				t.Errorf("CountUpdatedSince(%s) = %d, %v; want %d", tt.since, n, err, tt.want)
			}
		}
		if n, err := s.Count(ctx); err != nil || n != 5 {
			t.Errorf("Count = %d, %v; want 5", n, err)
		}

		// Ensure a limit below 1 is refused, not taken as "no limit".
		if _, err := s.ListAfter(ctx, telegram.AfterQuery{}); err == nil {
			t.Error("ListAfter with Limit 0 succeeded")
		}
	})
}

func custIDs(cs []telegram.Customer) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func TestCustomerStore_RecountOrders(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clock := newCustClock()
		s := MustNewCustomerStore(t, db, clock, telegram.CustomerStoreConfig{})
		var c []telegram.Customer
		for i, orders := range []int{2, 0, 5, 0} {
			c = append(c, MustSaveCustomer(t, s, telegram.User{ID: int64(200 + i), FirstName: "R"}))
			if orders > 0 {
				if err := s.IncrementOrders(ctx, db, c[i].ID, orders); err != nil {
					t.Fatal(err)
				}
			}
			c[i] = mustGetCustomer(t, s, c[i].ID)
		}
		recountAt := clock.Advance(time.Hour)

		// Ensure the counters become what count says (0 when it says
		// nothing), only the changed customers are touched, and count
		// reads through the page's transaction.
		var asked [][]int64
		n, err := s.RecountOrders(ctx, func(ctx context.Context, exec migrator.Execer, ids []int64) (map[int64]int, error) {
			asked = append(asked, slices.Clone(ids))
			var one int
			if err := exec.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
				return nil, err
			}
			return map[int64]int{c[0].ID: 2, c[1].ID: 3, c[2].ID: 1}, nil
		})
		if err != nil || n != 2 {
			t.Fatalf("RecountOrders = %d, %v; want 2 changed", n, err)
		}
		if want := [][]int64{custIDs(c)}; !reflect.DeepEqual(asked, want) {
			t.Fatalf("count asked for %v, want %v", asked, want)
		}
		for i, want := range []struct {
			orders  int
			updated time.Time
		}{{2, c[0].UpdatedAt}, {3, recountAt}, {1, recountAt}, {0, c[3].UpdatedAt}} {
			got := mustGetCustomer(t, s, c[i].ID)
			if got.OrdersCount != want.orders || !got.UpdatedAt.Equal(want.updated) {
				t.Errorf("customer %d: %d orders, updated %s; want %d, %s", i, got.OrdersCount, got.UpdatedAt, want.orders, want.updated)
			}
		}

		// Ensure a second run with the same counts changes nothing.
		same := func(context.Context, migrator.Execer, []int64) (map[int64]int, error) {
			return map[int64]int{c[0].ID: 2, c[1].ID: 3, c[2].ID: 1}, nil
		}
		if n, err := s.RecountOrders(ctx, same); err != nil || n != 0 {
			t.Fatalf("second RecountOrders = %d, %v; want 0", n, err)
		}

		// Ensure a failing count, a negative count and a nil count are
		// errors that change nothing.
		boom := errors.New("boom")
		for name, count := range map[string]telegram.OrderCounter{
			"Err": func(context.Context, migrator.Execer, []int64) (map[int64]int, error) { return nil, boom },
			"Negative": func(context.Context, migrator.Execer, []int64) (map[int64]int, error) {
				return map[int64]int{c[3].ID: -1, c[0].ID: 9}, nil
			},
			"Nil": nil,
		} {
			if n, err := s.RecountOrders(ctx, count); err == nil || n != 0 {
				t.Errorf("%s: RecountOrders = %d, %v; want an error", name, n, err)
			}
		}
		if got := mustGetCustomer(t, s, c[0].ID); got.OrdersCount != 2 {
			t.Errorf("a failed recount changed orders_count to %d", got.OrdersCount)
		}
	})
}

// Ensure a recount walks a table larger than a page in pages of at most
// RecountPageSize, each id once and in order, and commits every page.
func TestCustomerStore_RecountOrdersPages(t *testing.T) {
	migratortest.Each(t, custSources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		const total = 2*telegram.RecountPageSize + 17
		d := db.Dialect
		now := d.EncodeTime(custStart)
		for from := 0; from < total; from += 500 {
			ins := d.Builder().Insert(db.Table(telegram.CustomersTable)).
				Columns("telegram_user_id", "tracking_id", "last_seen_at", "created_at", "updated_at")
			for i := from; i < min(from+500, total); i++ {
				ins = ins.Values(300_000+i, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), now, now, now)
			}
			q, args, err := ins.ToSql()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		s := MustNewCustomerStore(t, db, newCustClock(), telegram.CustomerStoreConfig{})
		var seen []int64
		pages := 0
		n, err := s.RecountOrders(ctx, func(_ context.Context, _ migrator.Execer, ids []int64) (map[int64]int, error) {
			pages++
			if len(ids) > telegram.RecountPageSize {
				return nil, fmt.Errorf("page of %d ids", len(ids))
			}
			seen = append(seen, ids...)
			counts := map[int64]int{}
			for _, id := range ids {
				counts[id] = int(id % 3)
			}
			return counts, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if pages != 3 || len(seen) != total || !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != total {
			t.Fatalf("%d pages, %d ids (sorted %v); want 3 pages over %d distinct ids", pages, len(seen), slices.IsSorted(seen), total)
		}
		var want int64
		for _, id := range seen {
			if id%3 != 0 {
				want++
			}
		}
		if n != want {
			t.Fatalf("RecountOrders = %d changed, want %d", n, want)
		}
		var sum int64
		if err := db.QueryRowContext(ctx, "SELECT SUM(orders_count) FROM "+db.Table(telegram.CustomersTable)).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		var wantSum int64
		for _, id := range seen {
			wantSum += id % 3
		}
		if sum != wantSum {
			t.Fatalf("orders_count sums to %d, want %d", sum, wantSum)
		}
	})
}
