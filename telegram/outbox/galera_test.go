package outbox_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// galeraBroadcast runs a broadcast to n customers with one sender on each
// node of a Galera cluster against a fake Bot API that fails a share of
// calls with 5xx (a message not sent: sent again later) and, when kill is
// set, with every connection of the second node's sender killed mid-run.
// Every recipient must get the message exactly once, and the pace must hold
// across the nodes. It returns the conflicts the senders retried.
func galeraBroadcast(t *testing.T, n int, kill bool) int64 {
	dsns := migratortest.FreshGaleraDSNs(t)
	dbs := make([]migrator.DB, len(dsns))   // the senders' handles, one per node
	admin := make([]migrator.DB, len(dsns)) // the test's own, to kill the senders' connections with
	for i, dsn := range dsns {
		dbs[i] = migratortest.MustOpenDSN(t, migrator.MySQL, dsn)
		admin[i] = migratortest.MustOpenDSN(t, migrator.MySQL, dsn)
	}
	migratortest.MustMigrateGalera(t, admin, sources()...)
	e := newEnv(t, admin[0])
	cs := e.mustCustomers(t, n, 70_000)
	rng := rand.New(rand.NewPCG(20261204, 15))
	var rngMu sync.Mutex
	e.api.SetFaultFunc(func(c botapitest.Call) *botapitest.Fault {
		if c.Method != "sendMessage" {
			return nil
		}
		rngMu.Lock()
		defer rngMu.Unlock()
		if rng.Float64() < 0.15 {
			f := botapitest.ServerError(http.StatusBadGateway)
			return &f
		}
		return nil
	})
	ctx := context.Background()
	senders := make([]*outbox.Outbox, len(dbs))
	for i, db := range dbs {
		store, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
		if err != nil {
			t.Fatal(err)
		}
		node := &env{db: db, api: e.api, customers: store, client: e.client}
		senders[i] = node.mustOutbox(t, outbox.Config{SenderID: "node" + string(rune('1'+i)), RetryBase: 100 * time.Millisecond, RetryMax: time.Second})
	}
	bc, err := senders[0].CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "hello from the cluster"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := senders[0].StartBroadcast(ctx, bc.ID); err != nil {
		t.Fatal(err)
	}
	for _, o := range senders {
		if err := o.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = o.Stop(context.Background()) })
	}
	var killed atomic.Int64
	if kill {
		go func() {
			// Once about a third went out, kill every connection the second
			// node's sender holds, as a node's network blip would.
			for len(e.api.Sent()) < n/3 {
				time.Sleep(20 * time.Millisecond)
			}
			killed.Store(killConnections(t, admin[1]))
		}()
	}
	e.api.WaitForSent(t, n, 3*time.Minute)
	time.Sleep(500 * time.Millisecond) // a repeat would show now
	got := map[int64]int{}
	for _, s := range e.api.Sent() {
		got[s.Params.ChatID]++
	}
	for _, c := range cs {
		if got[c.TelegramUserID] != 1 {
			t.Errorf("customer %d got the broadcast %d times", c.ID, got[c.TelegramUserID])
		}
	}
	checkPace(t, e.api.CallsTo("sendMessage"), 30, time.Second)
	if kill && killed.Load() == 0 {
		t.Error("no connection of the second node was killed")
	}
	var conflicts int64
	for _, o := range senders {
		conflicts += o.ConflictsRetried()
	}
	t.Logf("%d recipients, each once, across %d nodes; %d conflicts retried; %d connections killed", n, len(dbs), conflicts, killed.Load())
	return conflicts
}

// killConnections kills the connections to db's database on its node, but
// the one it asks through, and returns how many.
func killConnections(t *testing.T, db migrator.DB) int64 {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()")
	if err != nil {
		t.Error(err)
		return 0
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if rows.Scan(&id) == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	t.Logf("killing %d connections on the second node", len(ids))
	var n int64
	for _, id := range ids {
		// KILL takes no placeholder; id is a number the server gave.
		if _, err := conn.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10)); err == nil {
			n++
		} else {
			t.Logf("killing connection %d: %v", id, err)
		}
	}
	return n
}

// galeraSize is the recipients of a Galera proof: 150, or 400 with
// TELECART_TEST_FULL=1 (CI's full-size pass of the Heavy proofs). The
// broadcast goes at Telegram's pace, slowed further by the faults (a 5xx
// hands the rest of a claim back) and by each claim's settle on the
// cluster: about 13 recipients a second, so 400 take half a minute.
func galeraSize() int {
	if os.Getenv("TELECART_TEST_FULL") != "" {
		return 400
	}
	return 150
}

// Ensure the message outbox scales out on a Galera cluster: a sender on
// each node, faults on, every recipient once, the pace held. The two
// Galera proofs run side by side, each on a database of its own: they
// spend their time waiting for the pace.
func TestHeavyGaleraOutboxScaleOut(t *testing.T) {
	t.Parallel()
	galeraBroadcast(t, galeraSize(), false)
}

// Ensure the same with the connections of one node's sender killed
// mid-run: its claims in flight are retried or reclaimed, never sent twice.
func TestHeavyGaleraOutboxChaos(t *testing.T) {
	t.Parallel()
	galeraBroadcast(t, galeraSize(), true)
}
