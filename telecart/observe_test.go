package telecart_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

// requestSeen is one call of Hooks.Request.
type requestSeen struct {
	group, method string
	status        int
}

// hookLog records every hook call; safe for concurrent use.
type hookLog struct {
	mu         sync.Mutex
	orders     []telecart.OrderPlaced
	orderErrs  []string // what OrderPlaced found wrong when it was called
	deliveries []pulse.DeliveryReport
	states     []pulse.SenderState
	ingests    []pulse.IngestReport
	rejections []string
	requests   []requestSeen
}

// hooks returns Hooks recording into l. OrderPlaced also checks, while it
// runs, that the order's meta row is committed (visible to another
// connection; on SQLite, with one connection, the query would wait for
// the order's transaction and time out).
func (l *hookLog) hooks(db migrator.DB) telecart.Hooks {
	return telecart.Hooks{
		OrderPlaced: func(ctx context.Context, o telecart.OrderPlaced) {
			qctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var n int
			err := db.QueryRowContext(qctx, "SELECT COUNT(*) FROM "+db.Table(telecart.OrderMetaTable)+
				" WHERE id = ? AND host_order_id = ?", o.MetaID, o.OrderID).Scan(&n)
			l.mu.Lock()
			defer l.mu.Unlock()
			l.orders = append(l.orders, o)
			if err != nil || n != 1 {
				l.orderErrs = append(l.orderErrs, "meta row not committed when the hook ran")
			}
		},
		PulseDelivery: func(r pulse.DeliveryReport) { l.mu.Lock(); l.deliveries = append(l.deliveries, r); l.mu.Unlock() },
		PulseState:    func(st pulse.SenderState) { l.mu.Lock(); l.states = append(l.states, st); l.mu.Unlock() },
		Ingest:        func(r pulse.IngestReport) { l.mu.Lock(); l.ingests = append(l.ingests, r); l.mu.Unlock() },
		InitDataRejected: func(r *http.Request, reason string) {
			l.mu.Lock()
			l.rejections = append(l.rejections, reason)
			l.mu.Unlock()
		},
		Request: func(group, method string, status int, d time.Duration) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if d <= 0 {
				l.orderErrs = append(l.orderErrs, "a request took no time")
			}
			l.requests = append(l.requests, requestSeen{group, method, status})
		},
	}
}

// snapshot returns a copy of l under its lock.
func (l *hookLog) snapshot() hookLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	return hookLog{
		orders: slices.Clone(l.orders), orderErrs: slices.Clone(l.orderErrs),
		deliveries: slices.Clone(l.deliveries), states: slices.Clone(l.states), ingests: slices.Clone(l.ingests),
		rejections: slices.Clone(l.rejections), requests: slices.Clone(l.requests),
	}
}

// sent adds up the events the delivery reports counted as sent.
func (l *hookLog) sent() int {
	n := 0
	for _, r := range l.snapshot().deliveries {
		n += r.Sent
	}
	return n
}

// Ensure OrderPlaced fires once per order, after its transaction committed,
// with what was ordered; never for a repeated order_key nor a rolled back
// order; and a hook added with AddHooks sees the same.
func TestHooks_OrderPlaced(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		var cfgLog, added hookLog
		s := newPlugShopWith(t, db, func(c *telecart.Config) { c.Hooks = cfgLog.hooks(db) })
		s.tc.AddHooks(added.hooks(db))
		campaign, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "spring24", Source: "tg"})
		if err != nil {
			t.Fatal(err)
		}
		anna := s.initData(2001, "Anna", campaign)
		body := orderBody("7c1d4e2a-hook-4bbb-8ccc-000000000001", item("p2", 2), item("p1", 1))
		var got orderAnswer
		s.must(t, "POST", "/api/orders", anna, false, body, http.StatusCreated, &got)
		s.must(t, "POST", "/api/orders", anna, false, body, http.StatusOK, nil) // the same key again
		s.placer.mu.Lock()
		s.placer.failNext = errHostDown
		s.placer.mu.Unlock()
		s.must(t, "POST", "/api/orders", anna, false, orderBody("7c1d4e2a-hook-4bbb-8ccc-000000000002", item("p1", 1)),
			http.StatusServiceUnavailable, nil)

		for name, l := range map[string]*hookLog{"Config.Hooks": &cfgLog, "AddHooks": &added} {
			snap := l.snapshot()
			if len(snap.orders) != 1 || len(snap.orderErrs) != 0 {
				t.Fatalf("%s: %d orders reported (%v), want 1 after its commit", name, len(snap.orders), snap.orderErrs)
			}
			o := snap.orders[0]
			if o.OrderID != got.OrderID || o.OrderKey != "7c1d4e2a-hook-4bbb-8ccc-000000000001" || o.MetaID == 0 ||
				o.Order.Total != got.Total || o.Order.Currency != got.Currency || len(o.Order.Items) != 2 ||
				o.Order.Fields["name"] != "Anna" || o.Customer.TelegramUserID != 2001 || o.Customer.TrackingID == "" ||
				o.CampaignID != "spring24" || !o.PlacedAt.Equal(s.clock.Now()) {
				t.Errorf("%s: reported %+v for the answer %+v", name, o, got)
			}
		}
	})
}

// Ensure the hooks TeleCart forwards see what happens behind the routes:
// every request by route group, rejected init data, ingest, and Pulse
// delivery and state, Config.Pulse's own hooks included.
func TestHooks_Forwarded(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		var l hookLog
		var pulseOwn []pulse.DeliveryReport
		var pulseMu sync.Mutex
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.Hooks = l.hooks(db)
			c.Pulse.OnDelivery = func(r pulse.DeliveryReport) { pulseMu.Lock(); pulseOwn = append(pulseOwn, r); pulseMu.Unlock() }
		})
		campaign, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "spring24", Source: "tg"})
		if err != nil {
			t.Fatal(err)
		}
		anna := s.initData(2002, "Anna", campaign)

		s.must(t, "GET", "/api/settings", "", false, nil, http.StatusUnauthorized, nil)
		expired := telegram.SignInitData(plugBotToken, telegram.SignParams{User: &telegram.User{ID: 2002, FirstName: "Anna"}},
			s.clock.Now().Add(-48*time.Hour))
		s.must(t, "GET", "/api/settings", expired, false, nil, http.StatusUnauthorized, nil)
		var res pulse.IngestResponse
		s.must(t, "POST", "/api/ingest", anna, false, map[string]any{"events": []any{
			map[string]any{"id": "hook-pv-1", "event": pulse.EventProductView, "payload": map[string]any{"product_id": "p1"}},
		}}, http.StatusOK, &res)
		s.must(t, "GET", "/admin/api/settings", "", false, nil, http.StatusUnauthorized, nil)
		s.must(t, "GET", "/admin/api/settings", "", true, nil, http.StatusOK, nil)
		s.must(t, "GET", "/pulse/etl/customers", "", false, nil, http.StatusUnauthorized, nil)
		page, err := http.Get(s.server.URL + "/app/")
		if err != nil {
			t.Fatal(err)
		}
		page.Body.Close()

		snap := l.snapshot()
		want := []requestSeen{
			{telecart.GroupStorefront, "GET", 401}, {telecart.GroupStorefront, "GET", 401},
			{telecart.GroupStorefront, "POST", 200},
			{telecart.GroupAdmin, "GET", 401}, {telecart.GroupAdmin, "GET", 200},
			{telecart.GroupETL, "GET", 401},
			{telecart.GroupPages, "GET", page.StatusCode},
		}
		if !slices.Equal(snap.requests, want) || page.StatusCode != http.StatusOK || len(snap.orderErrs) != 0 {
			t.Errorf("requests %v (%v), want %v", snap.requests, snap.orderErrs, want)
		}
		if !slices.Equal(snap.rejections, []string{telegram.RejectMissing, telegram.RejectExpired}) {
			t.Errorf("rejections %v, want missing then expired", snap.rejections)
		}
		if len(snap.ingests) != 1 || snap.ingests[0].IngestResponse != res || res.Accepted != 1 {
			t.Errorf("ingests %+v for the answer %+v, want it once", snap.ingests, res)
		}

		// The ingested event is delivered by the running sender.
		schedWaitFor(t, 10*time.Second, "a delivery report", func() bool { return l.sent() >= 1 })
		pulseMu.Lock()
		own := len(pulseOwn)
		pulseMu.Unlock()
		if own == 0 {
			t.Error("Config.Pulse.OnDelivery was not called")
		}

		// Refused credentials pause sending; fixed ones resume it.
		if err := s.receiver.SetFaults(pulsetest.Faults{Unauthorized: true}); err != nil {
			t.Fatal(err)
		}
		mustTrackElsewhere(t, s, sweepEvent("hook-paused"))
		s.tc.Pulse().Wake()
		schedWaitFor(t, 5*time.Second, "the pause", func() bool { return len(l.snapshot().states) >= 1 })
		if err := s.receiver.SetFaults(pulsetest.Faults{}); err != nil {
			t.Fatal(err)
		}
		schedWaitFor(t, 10*time.Second, "the resumption", func() bool { return len(l.snapshot().states) >= 2 })
		if st := l.snapshot().states; len(st) != 2 || !st[0].AuthFailing || st[1].AuthFailing {
			t.Errorf("states %+v, want a pause then a resumption", st)
		}
	})
}
