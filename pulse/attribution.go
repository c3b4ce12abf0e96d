package pulse

import (
	"time"

	"github.com/telecart-go/telecart/telegram"
)

// AttributionWindowDefault is how long after a customer's last campaign
// visit their events are still credited to it.
const AttributionWindowDefault = 30 * 24 * time.Hour

// Attribution decides which campaign an event belongs to. The campaign comes
// only from what the client cannot forge: the start_param inside the signed
// initData, else the customer's stored last campaign while it is within
// Window.
type Attribution struct {
	// StartParams decodes start_param; its secret, when set, makes unsigned
	// campaign links count for nothing. Defaults to one without a secret.
	StartParams *StartParamSerializer
	// Window bounds the stored attribution. Defaults to
	// AttributionWindowDefault (30 days).
	Window time.Duration
}

// FromStartParam returns the start_param decoded from validated initData;
// ok is false when it is absent or does not decode.
func (a Attribution) FromStartParam(d telegram.InitData) (StartParam, bool) {
	if d.StartParam == "" {
		return StartParam{}, false
	}
	s := a.StartParams
	if s == nil {
		s = NewStartParamSerializer("")
	}
	p, err := s.Decode(d.StartParam)
	if err != nil {
		return StartParam{}, false
	}
	return p, true
}

// CampaignFor returns the campaign to credit for an event of customer c
// carried by initData d at now, "" when there is none.
func (a Attribution) CampaignFor(d telegram.InitData, c telegram.Customer, now time.Time) string {
	if p, ok := a.FromStartParam(d); ok {
		return p.CampaignID
	}
	window := a.Window
	if window <= 0 {
		window = AttributionWindowDefault
	}
	if c.LastCampaignID != "" && c.LastCampaignAt != nil && now.Sub(*c.LastCampaignAt) <= window {
		return c.LastCampaignID
	}
	return ""
}
