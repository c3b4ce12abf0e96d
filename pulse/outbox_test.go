package pulse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

func TestTrack(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		_, url := MustNewReceiver(t, pulsetest.Config{})
		clk := newClock()
		cfg := testConfig(url)
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)

		// Ensure a valid event is stored once, pending, with its fields as given.
		t.Run("OK", func(t *testing.T) {
			ev := testEvent("ok-1")
			ev.OccurredAt = time.Date(2026, 11, 25, 20, 0, 0, 123456789, time.FixedZone("X", 3600))
			ev.Payload = json.RawMessage(`{ "b": [1, 2], "a": "ü<" }`)
			res, err := p.Track(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if res != (pulse.TrackResult{Outcome: pulse.OutcomeStored}) {
				t.Fatalf("Track = %+v, want stored", res)
			}
			e := MustLookup(t, p, "ok-1")
			if e.Event != pulse.EventProductView || e.CampaignID != "spring24" || e.TrackingID != "trk-7f1c2b9e" {
				t.Errorf("stored %+v", e)
			}
			if e.Status != pulse.StatusPending || e.Attempts != 0 || e.LeaseOwner != "" || e.SentAt != nil {
				t.Errorf("stored status %s attempts %d owner %q sent_at %v, want a fresh pending row", e.Status, e.Attempts, e.LeaseOwner, e.SentAt)
			}
			if want := ev.OccurredAt.UTC().Truncate(time.Microsecond); !e.OccurredAt.Equal(want) || e.OccurredAt.Location() != time.UTC {
				t.Errorf("OccurredAt = %v, want %v in UTC", e.OccurredAt, want)
			}
			if !e.CreatedAt.Equal(clk.Now()) || !e.NextAttemptAt.Equal(clk.Now()) {
				t.Errorf("CreatedAt %v NextAttemptAt %v, want both %v", e.CreatedAt, e.NextAttemptAt, clk.Now())
			}
			var got map[string]any
			if err := json.Unmarshal(e.Payload, &got); err != nil || got["a"] != "ü<" {
				t.Errorf("Payload = %s (%v)", e.Payload, err)
			}
		})

		// Ensure a zero OccurredAt means now and a nil Payload an empty object.
		t.Run("Defaults", func(t *testing.T) {
			ev := testEvent("defaults-1")
			ev.Payload = nil
			MustTrack(t, p, ev)
			e := MustLookup(t, p, "defaults-1")
			if !e.OccurredAt.Equal(clk.Now()) || string(e.Payload) != "{}" {
				t.Errorf("OccurredAt %v Payload %s, want now and {}", e.OccurredAt, e.Payload)
			}
		})

		// Ensure the same key twice stores one row and reports a duplicate.
		t.Run("Duplicate", func(t *testing.T) {
			before := MustCounts(t, p)
			MustTrack(t, p, testEvent("dup-1"))
			ev := testEvent("dup-1")
			ev.Name = pulse.EventAddToCart // a different event under the same key changes nothing
			res, err := p.Track(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != pulse.OutcomeDuplicate {
				t.Fatalf("second Track = %+v, want duplicate", res)
			}
			if got := MustCounts(t, p); got.Pending != before.Pending+1 {
				t.Errorf("pending %d → %d, want one more", before.Pending, got.Pending)
			}
			if e := MustLookup(t, p, "dup-1"); e.Event != pulse.EventProductView {
				t.Errorf("stored event %s, want the first one", e.Event)
			}
		})

		// Ensure keys differing only in case or trailing space are distinct
		// events, as the receiver compares keys byte for byte.
		t.Run("KeysAreExact", func(t *testing.T) {
			for _, k := range []string{"Case-1", "case-1", "case-1 "} {
				MustTrack(t, p, testEvent(k))
			}
		})

		// Ensure mistakes of the calling code are errors and store nothing.
		t.Run("Errors", func(t *testing.T) {
			before := MustCounts(t, p)
			for _, tc := range []struct {
				name string
				mod  func(*pulse.Event)
				want error
			}{
				{"ErrUnknownEvent", func(e *pulse.Event) { e.Name = "PAGE_VIEW" }, pulse.ErrUnknownEvent},
				{"ErrMissingIdempotencyKey", func(e *pulse.Event) { e.IdempotencyKey = "" }, pulse.ErrMissingIdempotencyKey},
				{"ErrInvalidIdempotencyKey/long", func(e *pulse.Event) { e.IdempotencyKey = strings.Repeat("k", 129) }, pulse.ErrInvalidIdempotencyKey},
				{"ErrInvalidIdempotencyKey/utf8", func(e *pulse.Event) { e.IdempotencyKey = "k\xff" }, pulse.ErrInvalidIdempotencyKey},
				{"ErrInvalidPayload/array", func(e *pulse.Event) { e.Payload = []int{1} }, pulse.ErrInvalidPayload},
				{"ErrInvalidPayload/string", func(e *pulse.Event) { e.Payload = `{"a":1}` }, pulse.ErrInvalidPayload},
				{"ErrInvalidPayload/raw", func(e *pulse.Event) { e.Payload = json.RawMessage(`{"a":`) }, pulse.ErrInvalidPayload},
				{"ErrInvalidPayload/func", func(e *pulse.Event) { e.Payload = map[string]any{"f": func() {}} }, pulse.ErrInvalidPayload},
				{"ErrPayloadTooLarge", func(e *pulse.Event) { e.Payload = map[string]string{"x": strings.Repeat("x", 1<<20)} }, pulse.ErrPayloadTooLarge},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ev := testEvent("err-" + tc.name)
					tc.mod(&ev)
					if _, err := p.Track(ctx, ev); !errors.Is(err, tc.want) {
						t.Errorf("Track = %v, want %v", err, tc.want)
					}
				})
			}
			if got := MustCounts(t, p); got != before {
				t.Errorf("counts %+v → %+v, want unchanged", before, got)
			}
		})

		// Ensure events without well-formed attribution are dropped and
		// counted, not stored and not errors.
		t.Run("Dropped", func(t *testing.T) {
			before, dropped := MustCounts(t, p), p.Dropped()
			cases := []struct {
				name, campaign, tracking, reason string
			}{
				{"NoCampaign", "", "trk", pulse.DropCampaignID},
				{"BadCampaign", "spring 24", "trk", pulse.DropCampaignID},
				{"LongCampaign", strings.Repeat("c", 33), "trk", pulse.DropCampaignID},
				{"NoTracking", "spring24", "", pulse.DropTrackingID},
				{"BadTracking", "spring24", "trk/1", pulse.DropTrackingID},
				{"LongTracking", "spring24", strings.Repeat("t", 65), pulse.DropTrackingID},
			}
			for _, tc := range cases {
				ev := testEvent("drop-" + tc.name)
				ev.CampaignID, ev.TrackingID = tc.campaign, tc.tracking
				res, err := p.Track(ctx, ev)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if res != (pulse.TrackResult{Outcome: pulse.OutcomeDropped, Reason: tc.reason}) {
					t.Errorf("%s: Track = %+v, want dropped for %q", tc.name, res, tc.reason)
				}
			}
			if got := p.Dropped() - dropped; got != int64(len(cases)) {
				t.Errorf("Dropped grew by %d, want %d", got, len(cases))
			}
			if got := MustCounts(t, p); got != before {
				t.Errorf("counts %+v → %+v, want unchanged", before, got)
			}
			// The longest valid ids are stored.
			ev := testEvent("drop-longest-valid")
			ev.CampaignID, ev.TrackingID = strings.Repeat("c", 32), strings.Repeat("t", 64)
			MustTrack(t, p, ev)
		})

		// Ensure an unconfigured Pulse stores nothing and says so, and stores
		// again once credentials are set.
		t.Run("NotConfigured", func(t *testing.T) {
			var logs bytes.Buffer
			off := MustNew(t, db, pulse.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			before := MustCounts(t, p)
			for range 3 {
				res, err := off.Track(ctx, testEvent("off-1"))
				if err != nil {
					t.Fatal(err)
				}
				if res != (pulse.TrackResult{Outcome: pulse.OutcomeDropped, Reason: pulse.DropNotConfigured}) {
					t.Errorf("Track = %+v, want dropped: not configured", res)
				}
			}
			if n := strings.Count(logs.String(), "not configured"); n != 1 {
				t.Errorf("logged %d times that Pulse is not configured, want once:\n%s", n, logs.String())
			}
			if off.Dropped() != 3 {
				t.Errorf("Dropped = %d, want 3", off.Dropped())
			}
			if _, err := off.Track(ctx, pulse.Event{Name: "NOPE", IdempotencyKey: "k"}); !errors.Is(err, pulse.ErrUnknownEvent) {
				t.Errorf("unknown event while not configured: %v, want ErrUnknownEvent", err)
			}
			if got := MustCounts(t, p); got != before {
				t.Errorf("counts %+v → %+v, want unchanged", before, got)
			}
			if _, err := off.SendOnce(ctx); !errors.Is(err, pulse.ErrNotConfigured) {
				t.Errorf("SendOnce = %v, want ErrNotConfigured", err)
			}
			if err := off.SetCredentials(url, testAPIKey, testSecret); err != nil {
				t.Fatal(err)
			}
			MustTrack(t, off, testEvent("off-1"))
		})
	})
}

func TestTrackTx(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		p := MustNew(t, db, testConfig("http://127.0.0.1:1"))

		// Ensure a host transaction that rolls back leaves no event.
		t.Run("Rollback", func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil { // the host's own write
				t.Fatal(err)
			}
			res, err := p.TrackTx(ctx, tx, testEvent("order-1"))
			if err != nil || res.Outcome != pulse.OutcomeStored {
				t.Fatalf("TrackTx = %+v, %v", res, err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Lookup(ctx, "order-1"); !errors.Is(err, pulse.ErrNotFound) {
				t.Errorf("Lookup after rollback = %v, want ErrNotFound", err)
			}
		})

		// Ensure one that commits leaves exactly one, even when it tracked
		// the key twice.
		t.Run("Commit", func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for range 2 {
				if _, err := p.TrackTx(ctx, tx, testEvent("order-2")); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if c := MustCounts(t, p); c.Pending != 1 {
				t.Errorf("pending = %d, want 1", c.Pending)
			}
			MustLookup(t, p, "order-2")
		})

		// Ensure TrackTx refuses a nil transaction instead of panicking.
		t.Run("NilTx", func(t *testing.T) {
			if _, err := p.TrackTx(ctx, nil, testEvent("order-3")); err == nil {
				t.Error("TrackTx(nil) succeeded")
			}
		})
	})
}

func TestCountsAndOldestPending(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		_, url := MustNewReceiver(t, pulsetest.Config{})
		clk := newClock()
		cfg := testConfig(url)
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)

		// Ensure an empty outbox has no age.
		if age, err := p.OldestPending(ctx); err != nil || age != 0 {
			t.Fatalf("OldestPending = %v, %v; want 0", age, err)
		}
		MustTrack(t, p, testEvent("a"))
		clk.Advance(time.Minute)
		MustTrack(t, p, testEvent("b"))
		clk.Advance(time.Minute)

		// Ensure the age is that of the oldest pending event.
		if age, err := p.OldestPending(ctx); err != nil || age != 2*time.Minute {
			t.Fatalf("OldestPending = %v, %v; want 2m", age, err)
		}
		if c := MustCounts(t, p); c != (pulse.Counts{Pending: 2}) {
			t.Errorf("Counts = %+v, want 2 pending", c)
		}
		// Ensure delivered events no longer count as pending.
		MustSendOnce(t, p)
		if age, err := p.OldestPending(ctx); err != nil || age != 0 {
			t.Errorf("OldestPending after delivery = %v, %v; want 0", age, err)
		}
		if c := MustCounts(t, p); c != (pulse.Counts{Sent: 2}) {
			t.Errorf("Counts = %+v, want 2 sent", c)
		}
	})
}
