package outbox_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// The outbox's own throughput, in BENCHMARKS.md:
//
//	go test -p 1 -run '^$' -bench 'BenchmarkDrain$|BenchmarkOutboxDrain' -benchtime 5x -count 3 ./pulse/ ./telegram/outbox/
//	go test -run '^$' -bench BenchmarkOutboxPaced -benchtime 1x ./telegram/outbox/
//
// BenchmarkOutboxDrain is to be read against pulse's BenchmarkDrain in the
// same run: both drain a backlog to a zero-latency fake of their API. A
// Pulse request carries a batch of 500 events; Telegram takes one message
// a call, so the outbox pays a request and a row update per message.

// benchOutboxBacklog is the backlog one iteration of BenchmarkOutboxDrain
// seeds (untimed) and sends (timed).
const benchOutboxBacklog = 2000

// benchOutbox is an outbox over db sending to a fresh fake Bot API.
func benchOutbox(b *testing.B, db migrator.DB, cfg outbox.Config) (*outbox.Outbox, *botapitest.Server) {
	b.Helper()
	api := botapitest.NewServer(b, botapitest.Config{})
	cfg.Bot, cfg.Customers, cfg.Logger = benchClient(b, api), benchCustomers(b, db), slog.New(slog.DiscardHandler)
	o, err := outbox.New(db, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return o, api
}

func benchClient(b *testing.B, api *botapitest.Server) *botapi.Client {
	b.Helper()
	client, err := botapi.New(botapi.Config{Token: api.Token, BaseURL: api.URL})
	if err != nil {
		b.Fatal(err)
	}
	return client
}

func benchCustomers(b *testing.B, db migrator.DB) *telegram.CustomerStore {
	b.Helper()
	customers, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
	if err != nil {
		b.Fatal(err)
	}
	return customers
}

// benchSeed queues n admin messages of prefix, each to its own private
// chat, in one transaction.
func benchSeed(b *testing.B, db migrator.DB, o *outbox.Outbox, prefix string, n int) {
	b.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for i := range n {
		_, created, err := o.EnqueueTx(ctx, tx, outbox.Message{Kind: outbox.KindAdmin, IdempotencyKey: prefix + "-" + strconv.Itoa(i),
			ChatID: int64(5_000_000 + i), Text: "Spring sale: <b>20%</b> off every tea until Sunday."})
		if err != nil || !created {
			b.Fatalf("EnqueueTx: %v, created %v", err, created)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOutboxDrain times SendOnce sending a backlog with pacing off
// (Config.NoPacing: claims of 100 side by side, as Pulse's) to the fake Bot
// API in process, and reports messages/s.
func BenchmarkOutboxDrain(b *testing.B) {
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := migratortest.MustOpenDB(b, d, sources()...)
			o, api := benchOutbox(b, db, outbox.Config{NoPacing: true})
			ctx := context.Background()
			var took time.Duration
			iter := 0
			for b.Loop() {
				b.StopTimer()
				benchSeed(b, db, o, "drain-"+strconv.Itoa(iter), benchOutboxBacklog)
				b.StartTimer()
				start := time.Now()
				rep, err := o.SendOnce(ctx)
				took += time.Since(start)
				if err != nil || rep.Sent != benchOutboxBacklog {
					b.Fatalf("SendOnce: %+v, %v; want %d sent", rep, err, benchOutboxBacklog)
				}
				iter++
			}
			if got := len(api.Sent()); got != iter*benchOutboxBacklog {
				b.Fatalf("the fake received %d messages, want %d", got, iter*benchOutboxBacklog)
			}
			b.ReportMetric(float64(iter*benchOutboxBacklog)/took.Seconds(), "msgs/s")
		})
	}
}

// benchMissedSlots counts the sender's "missed a slot" records: a message
// whose slot had passed by more than SlotTolerance when its turn came (the
// process was not scheduled in time), sent back to the queue with the
// rest of its batch.
type benchMissedSlots struct{ n atomic.Int64 }

func (h *benchMissedSlots) Enabled(context.Context, slog.Level) bool { return true }
func (h *benchMissedSlots) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "outbox: missed a slot; requeueing the rest of the batch" {
		h.n.Add(1)
	}
	return nil
}
func (h *benchMissedSlots) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *benchMissedSlots) WithGroup(string) slog.Handler      { return h }

// benchPacedWindow is how long BenchmarkOutboxPaced measures the
// background sender at the default pace; -short makes it 10s.
const benchPacedWindow = 60 * time.Second

// BenchmarkOutboxPaced runs the background sender at the default pace (29
// a second overall, one a second per private chat) over a backlog larger
// than the window can take, and reports the sustained rate over the window
// after the first message, the most messages the fake received in any
// 1-second window (Telegram's limit is 30), and where the rest of the
// window went: the time lost in gaps longer than 1.5 slots (a slot is
// 1/29 s) and the slots missed.
func BenchmarkOutboxPaced(b *testing.B) {
	window := benchPacedWindow
	if testing.Short() {
		window = 10 * time.Second
	}
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			for b.Loop() {
				db := migratortest.MustOpenDB(b, d, sources()...)
				missed := &benchMissedSlots{}
				api := botapitest.NewServer(b, botapitest.Config{})
				o, err := outbox.New(db, outbox.Config{Bot: benchClient(b, api), Customers: benchCustomers(b, db), Logger: slog.New(missed)})
				if err != nil {
					b.Fatal(err)
				}
				backlog := int(window.Seconds()*outbox.GlobalRateDefault) + 200
				benchSeed(b, db, o, "paced", backlog)
				ctx := context.Background()
				if err := o.Start(ctx); err != nil {
					b.Fatal(err)
				}
				o.Wake()
				var first time.Time
				for first.IsZero() {
					if sent := api.Sent(); len(sent) > 0 {
						first = sent[0].Time
					}
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(time.Until(first.Add(window + 100*time.Millisecond)))
				if err := o.Stop(ctx); err != nil {
					b.Fatal(err)
				}
				sent := api.Sent()
				end := first.Add(window)
				slot := time.Second * 1000 / (outbox.GlobalRateDefault * 1000)
				n, peak := 0, 0
				var lost time.Duration
				for i, m := range sent {
					if m.Time.Before(end) {
						n++
						if gap := m.Time.Sub(sent[max(i-1, 0)].Time); gap > slot*3/2 {
							lost += gap - slot
						}
					}
					// Messages are recorded in order; count those within 1s
					// from this one.
					j := i
					for j < len(sent) && sent[j].Time.Sub(m.Time) < time.Second {
						j++
					}
					if j-i > 30 {
						var offsets []string
						for _, w := range sent[i:j] {
							offsets = append(offsets, w.Time.Sub(m.Time).Round(time.Millisecond).String())
						}
						b.Logf("%d messages within 1s of %s: %s", j-i, m.Time.Sub(first).Round(time.Millisecond), strings.Join(offsets, " "))
					}
					peak = max(peak, j-i)
				}
				if n >= backlog {
					b.Fatalf("the backlog of %d ran out inside the window", backlog)
				}
				b.ReportMetric(float64(n)/window.Seconds(), "msgs/s")
				b.ReportMetric(float64(peak), "max-per-1s")
				b.ReportMetric(lost.Seconds(), "lost-s")
				b.ReportMetric(float64(missed.n.Load()), "missed-slots")
			}
		})
	}
}
