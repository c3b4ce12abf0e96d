package telecart

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/telecart-go/telecart/pulse"
)

// TaskCampaignFunnel folds new events into the campaign funnel's rollups;
// pulse_retention folds too before it purges, so no event leaves the
// outbox uncounted.
const TaskCampaignFunnel = "campaign_funnel"

// botNameCache keeps the bot's username as getMe answered it, for campaign
// links when the settings hold none; a new token clears it.
type botNameCache struct {
	mu       sync.Mutex
	token    string
	username string
}

// newCampaigns builds the campaigns service and its handler.
func (tc *TeleCart) newCampaigns() error {
	var err error
	tc.campaigns, err = pulse.NewCampaigns(tc.db, pulse.CampaignsConfig{
		StartParams: tc.startParams,
		Bot:         tc.campaignBot,
		Location:    tc.shopLocation,
		Attribution: tc.customers,
		Now:         tc.now,
		Logger:      tc.logger,
	})
	if err != nil {
		return fmt.Errorf("telecart: %w", err)
	}
	if tc.campaignsH, err = pulse.NewCampaignsHandler(pulse.CampaignsHandlerConfig{Campaigns: tc.campaigns, Logger: tc.logger}); err != nil {
		return fmt.Errorf("telecart: %w", err)
	}
	return nil
}

// Campaigns returns the campaigns service: links, QR codes and the funnel.
func (tc *TeleCart) Campaigns() *pulse.Campaigns { return tc.campaigns }

// campaignBot is the bot campaign links point at: the username from the
// settings, else from getMe (asked once per token), and the Mini App's
// short name from the settings.
func (tc *TeleCart) campaignBot(ctx context.Context) (pulse.BotLink, error) {
	s, err := tc.settings.Get(ctx)
	if err != nil {
		return pulse.BotLink{}, err
	}
	link := pulse.BotLink{Username: s.BotUsername, ShortName: s.MiniAppShortName}
	if link.Username != "" {
		return link, nil
	}
	c := &tc.botName
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == s.BotToken && c.username != "" {
		link.Username = c.username
		return link, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u, err := tc.bot.GetMe(ctx)
	if err != nil {
		// The admin is told to set the username; the reason goes to the log.
		tc.logger.WarnContext(ctx, "telecart: asking Telegram for the bot's username", "err", err)
		return link, nil
	}
	c.token, c.username = s.BotToken, u.Username
	link.Username = u.Username
	return link, nil
}

// foldFunnel is the campaign_funnel task.
func (tc *TeleCart) foldFunnel(ctx context.Context) error {
	n, err := tc.campaigns.Fold(ctx)
	if n > 0 {
		tc.logger.DebugContext(ctx, "telecart: folded events into the campaign funnel", "events", n)
	}
	return err
}
