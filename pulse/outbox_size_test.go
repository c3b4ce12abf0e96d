package pulse_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
)

// Ensure the size check is exact where its cheap bound is not: a payload
// whose bound exceeds MaxBatchBytes but whose encoding fits is stored, and
// one that JSON's HTML escaping (< → \u003c) pushes over the limit is
// refused.
func TestTrackSizeLimit(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		cfg := testConfig("https://pulse.example.com")
		cfg.MaxBatchBytes = 64 << 10
		p := MustNew(t, db, cfg)
		fits := testEvent("fits")
		fits.Payload = map[string]string{"x": strings.Repeat("x", 40<<10)} // bound 240 KiB, encoded ~40 KiB
		MustTrack(t, p, fits)
		escaped := testEvent("escaped")
		escaped.Payload = map[string]string{"x": strings.Repeat("<", 20<<10)} // 20 KiB raw, 120 KiB encoded
		if _, err := p.Track(context.Background(), escaped); !errors.Is(err, pulse.ErrPayloadTooLarge) {
			t.Fatalf("Track(escaped) = %v; want ErrPayloadTooLarge", err)
		}
	})
}
