package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/outbox"
)

const crashChildVar = "TELECART_TEST_OUTBOX_CRASH_CHILD"

type crashSpec struct {
	Dialect migrator.Dialect `json:"dialect"`
	DSN     string           `json:"dsn"`
	APIURL  string           `json:"api_url"`
	Token   string           `json:"token"`
}

// crashConfig is the sending process's: a fast pace (the pace is not what
// this test proves) and a short lease, so that a killed sender's claim
// comes back soon.
func crashConfig() outbox.Config {
	return outbox.Config{GlobalRate: 1000, Lease: 2 * time.Second, SweepInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

// TestHeavyCrashChild is the sending process of TestHeavyCrash: it sends
// until it is killed.
func TestHeavyCrashChild(t *testing.T) {
	raw := os.Getenv(crashChildVar)
	if raw == "" {
		t.Skip("the sending process of TestHeavyCrash, which runs it with " + crashChildVar + " set; nothing to do alone")
	}
	var spec crashSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	db := migratortest.MustOpenDSN(t, spec.Dialect, spec.DSN)
	client, err := botapi.New(botapi.Config{Token: spec.Token, BaseURL: spec.APIURL})
	if err != nil {
		t.Fatal(err)
	}
	customers, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := crashConfig()
	cfg.Bot, cfg.Customers = client, customers
	o, err := outbox.New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Minute) // until killed
}

// Ensure a broadcast survives its sending process killed with SIGKILL three
// times: every recipient receives it, and repeats are at most the kills
// (a kill between Telegram's answer and the commit repeats one message).
// 500 recipients by default; 5,000 with TELECART_TEST_FULL=1, as CI's
// full-size pass of the Heavy proofs runs it:
//
//	TELECART_TEST_FULL=1 go test -run 'Heavy' ./telegram/outbox/
func TestHeavyCrash(t *testing.T) {
	n := 500
	if os.Getenv("TELECART_TEST_FULL") != "" {
		n = 5000
	}
	const kills = 3
	eachDB(t, func(t *testing.T, _ migrator.DB) {
		dsn := migratortest.FreshDSN(t, dbDialect(t))
		db := migratortest.MustOpenDSN(t, dbDialect(t), dsn)
		migratortest.MustMigrate(t, db, sources()...)
		e := newEnv(t, db)
		seedCustomers(t, db, n)
		o := e.mustOutbox(t, outbox.Config{})
		ctx := context.Background()
		b, err := o.CreateBroadcast(ctx, outbox.BroadcastDraft{Text: "Sale"})
		if err != nil || b.Recipients != int64(n) {
			t.Fatalf("CreateBroadcast = %+v, %v", b, err)
		}
		if _, err := o.StartBroadcast(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		spec, _ := json.Marshal(crashSpec{Dialect: dbDialect(t), DSN: dsn, APIURL: e.api.URL, Token: e.api.Token})
		start := func() *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHeavyCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashChildVar+"="+string(spec))
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			return cmd
		}
		for k := range kills {
			cmd := start()
			target := (k + 1) * n / (kills + 1)
			deadline := time.Now().Add(2 * time.Minute)
			// Sent copies every message so far: look every 10 ms, not more.
			for len(e.api.Sent()) < target && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			t.Logf("kill %d after %d messages", k+1, len(e.api.Sent()))
		}
		cmd := start()
		defer func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() }()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			got, err := o.Broadcast(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == outbox.BroadcastStatusDone {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("broadcast not done: %+v", got)
			}
			time.Sleep(250 * time.Millisecond)
		}
		perChat := map[int64]int{}
		for _, m := range e.api.Sent() {
			perChat[m.Params.ChatID]++
		}
		repeats := 0
		for i := range n {
			switch c := perChat[int64(900_000+i+1)]; {
			case c == 0:
				t.Errorf("customer %d never got the broadcast", i)
			case c > 1:
				repeats += c - 1
			}
		}
		t.Logf("%d messages, %d repeats after %d kills", len(e.api.Sent()), repeats, kills)
		if repeats > kills {
			t.Errorf("%d repeats, want at most %d (the kills)", repeats, kills)
		}
	})
}

func dbDialect(t *testing.T) migrator.Dialect {
	if len(t.Name()) > 6 && t.Name()[len(t.Name())-6:] == "/mysql" {
		return migrator.MySQL
	}
	return migrator.SQLite
}

// seedCustomers writes n messageable customers with Telegram ids from
// 900001, in chunks (a test may seed the customers table directly).
func seedCustomers(t *testing.T, db migrator.DB, n int) {
	t.Helper()
	d := db.Dialect
	now := d.EncodeTime(time.Now())
	for from := 0; from < n; from += 500 {
		ins := d.Builder().Insert(db.Table(telegram.CustomersTable)).Columns("telegram_user_id", "tracking_id", "first_name",
			"first_name_lc", "search_text", "allows_write_to_pm", "last_seen_at", "created_at", "updated_at")
		for i := from; i < min(from+500, n); i++ {
			ins = ins.Values(900_000+i+1, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "C", "c", "c", 1, now, now, now)
		}
		if _, err := ins.RunWith(db.DB).Exec(); err != nil {
			t.Fatal(err)
		}
	}
}
