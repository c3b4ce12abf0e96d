package pulse_test

import (
	"testing"
	"time"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

func TestAttributionCampaignFor(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	signed := pulse.NewStartParamSerializer("s3cret")
	link, err := signed.Encode(pulse.StartParam{CampaignID: "spring24", Source: "tg"})
	if err != nil {
		t.Fatal(err)
	}
	unsigned, err := pulse.NewStartParamSerializer("").Encode(pulse.StartParam{CampaignID: "forged"})
	if err != nil {
		t.Fatal(err)
	}
	recent, old := now.Add(-time.Hour), now.Add(-31*24*time.Hour)
	stored := telegram.Customer{LastCampaignID: "stored", LastCampaignAt: &recent}
	stale := telegram.Customer{LastCampaignID: "stale", LastCampaignAt: &old}
	a := pulse.Attribution{StartParams: signed}
	for _, tt := range []struct {
		name  string
		param string
		c     telegram.Customer
		want  string
	}{
		// Ensure the signed start_param wins over the stored attribution.
		{"StartParam", link, stored, "spring24"},
		// Ensure an unsigned link is worth nothing when a secret is set,
		// and the stored campaign is used instead.
		{"UnsignedFallsBack", unsigned, stored, "stored"},
		{"GarbageFallsBack", "!!!", stored, "stored"},
		{"Stored", "", stored, "stored"},
		// Ensure a campaign older than the window is not credited.
		{"StaleStored", "", stale, ""},
		{"Nothing", "", telegram.Customer{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := a.CampaignFor(telegram.InitData{StartParam: tt.param}, tt.c, now)
			if got != tt.want {
				t.Fatalf("CampaignFor = %q; want %q", got, tt.want)
			}
		})
	}
}
