package activity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
	_ "time/tzdata" // the shop's time zone on a machine without a zoneinfo database

	"github.com/telecart-go/telecart/examples/shop/demo"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// Defaults of Config.
const (
	CustomersDefault = 300
	DaysDefault      = 30
	TimeZoneDefault  = "Europe/Moscow"
	// BotUsernameDefault is the username saved for the demo's bot when the
	// settings hold none, so that the campaigns' links can be shown.
	BotUsernameDefault = "telecart_demo_bot"
	// OwnerChatDefault is the made-up group the month's new-order notices
	// go to when the shop has no owner chat. It is not saved in the
	// settings: the live shop keeps its own.
	OwnerChatDefault = "-1001000000001"
	// FailedEventsMin is how many of the month's events, at least, the
	// stand-in Pulse API rejects, so the Pulse page has failures to requeue.
	FailedEventsMin = 3
)

// ErrNotEmpty is returned by Fill on a database that already has customers:
// made-up history would mix with real data.
var ErrNotEmpty = errors.New("the database already has customers")

// Config configures Fill.
type Config struct {
	// DB is the shop's database, migrated with the demo's migrations (Fill
	// runs them again, which changes nothing). Required.
	DB migrator.DB
	// BotToken is the shop's bot token: the month's initData is signed
	// with it. Required.
	BotToken string
	// StartParamSecret signs the campaigns' links when the settings hold
	// none yet; empty makes one, which Fill saves in the settings as the
	// shop's first Start would.
	StartParamSecret string
	// PublicURL is the shop's public base URL; the broadcast's button
	// opens {PublicURL}/app/. Empty: a broadcast without a button.
	PublicURL string
	// OwnerChat receives the month's new-order notices. Defaults to
	// OwnerChatDefault.
	OwnerChat string
	// Customers is how many customers to make. Defaults to
	// CustomersDefault (300).
	Customers int
	// Days is how far back the month goes. Defaults to DaysDefault (30).
	Days int
	// Seed makes the data: the same seed, customers and days give the
	// same people, visits, orders and totals.
	Seed uint64
	// Now is the end of the month. Defaults to time.Now().
	Now time.Time
	// TimeZone is saved as the shop's time zone when the settings still
	// hold telecart.TimeZoneDefault; visits follow its evenings. Defaults
	// to TimeZoneDefault (Europe/Moscow).
	TimeZone string
	// Logger receives the month's log lines, stamped with their made-up
	// times, at every level from debug to error, and the library's own
	// lines. Defaults to discarding them.
	Logger *slog.Logger
}

// Report says what Fill made.
type Report struct {
	Customers    int           // customers saved
	Consented    int           // of them, who accepted the privacy policy
	Campaigns    int           // campaigns made
	TwoCampaigns int           // customers who came through two campaigns
	Visits       int           // Mini App launches
	Orders       int           // orders placed
	Revenue      int64         // their total, in kopecks
	EventsSent   int           // Pulse events delivered
	FailedEvents int           // Pulse events the stand-in rejected: failed, ready to requeue
	Messages     int           // messages sent: new-order notices and the broadcast
	Broadcast    int64         // the broadcast's id
	Took         time.Duration // the wall time Fill took
}

// clock is the month's time, moved by Fill and read by the library and the
// stand-in receiver (on its own goroutine).
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// customer is one made-up person and what Fill knows of them.
type customer struct {
	user     telegram.User
	consents bool
	seen     bool
}

// visit is one launch of the Mini App and how far it goes.
type visit struct {
	c          *customer
	at         time.Time
	campaign   string // the launch link's campaign, "" for none
	views      int
	cart       bool
	checkout   bool
	order      bool
	search     bool
	rejected   bool // the stand-in Pulse API rejects this visit's events
	secondLink bool // a second campaign's link
	items      []telecart.OrderRequestItem
	done       time.Time // when the visit's last event happened
}

type filler struct {
	cfg       Config
	rng       *mrand.Rand
	clk       *clock
	tc        *telecart.TeleCart
	rv        *pulsetest.Receiver
	loc       *time.Location
	products  []telecart.Product
	campaigns []pulse.Campaign
	links     map[string]string // campaign id → signed start_param
	log       *slog.Logger
	rep       Report
	// apiKey and secret of the stand-in Pulse API: this run's own.
	apiKey, secret string
}

// Fill fills cfg.DB with a month of activity. It refuses, with an error
// wrapping ErrNotEmpty, a database that already has customers.
func Fill(ctx context.Context, cfg Config) (Report, error) {
	began := time.Now()
	switch {
	case cfg.DB.DB == nil:
		return Report{}, errors.New("activity: Config.DB is nil; pass the shop's database")
	case cfg.BotToken == "":
		return Report{}, errors.New("activity: Config.BotToken is empty; pass the shop's bot token")
	case cfg.Customers < 0 || cfg.Days < 0:
		return Report{}, fmt.Errorf("activity: Customers and Days must not be negative, got %d and %d", cfg.Customers, cfg.Days)
	}
	if cfg.Customers == 0 {
		cfg.Customers = CustomersDefault
	}
	if cfg.Days == 0 {
		cfg.Days = DaysDefault
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	cfg.Now = cfg.Now.UTC().Truncate(time.Second)
	if cfg.TimeZone == "" {
		cfg.TimeZone = TimeZoneDefault
	}
	if cfg.OwnerChat == "" {
		cfg.OwnerChat = OwnerChatDefault
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f := &filler{cfg: cfg, rng: mrand.New(mrand.NewPCG(cfg.Seed, cfg.Seed^0x7e1ecca47)), clk: &clock{},
		links: map[string]string{}, log: cfg.Logger}
	start := cfg.Now.Add(-time.Duration(cfg.Days) * 24 * time.Hour)
	f.clk.set(start.Add(-2 * 24 * time.Hour))
	if err := f.setUp(ctx); err != nil {
		return Report{}, err
	}
	defer f.rv.Close()
	srv, url, err := f.serveReceiver()
	if err != nil {
		return Report{}, err
	}
	defer srv.Close()
	if err := f.tc.Pulse().SetCredentials(url, f.apiKey, f.secret); err != nil {
		return Report{}, fmt.Errorf("activity: %w", err)
	}
	if err := f.makeCampaigns(ctx, start); err != nil {
		return Report{}, err
	}
	visits := f.plan(start)
	if err := f.live(ctx, visits, start); err != nil {
		return Report{}, err
	}
	f.clk.set(cfg.Now)
	if err := f.messages(ctx); err != nil {
		return Report{}, err
	}
	if err := f.drain(ctx); err != nil {
		return Report{}, err
	}
	if _, err := f.tc.Campaigns().Fold(ctx); err != nil {
		return Report{}, fmt.Errorf("activity: folding the funnel: %w", err)
	}
	counts, err := f.tc.Pulse().Counts(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("activity: %w", err)
	}
	if counts.Pending+counts.Sending > 0 {
		return Report{}, fmt.Errorf("activity: %d Pulse events left undelivered", counts.Pending+counts.Sending)
	}
	f.rep.EventsSent, f.rep.FailedEvents = int(counts.Sent), int(counts.Failed)
	f.rep.Took = time.Since(began)
	f.logAt(cfg.Now, slog.LevelInfo, "demo activity: filled", "customers", f.rep.Customers, "visits", f.rep.Visits,
		"orders", f.rep.Orders, "events_sent", f.rep.EventsSent, "events_failed", f.rep.FailedEvents,
		"messages", f.rep.Messages, "took", f.rep.Took.Round(time.Millisecond).String())
	return f.rep, nil
}

func (f *filler) setUp(ctx context.Context) error {
	f.apiKey, f.secret = randomHex(16), randomHex(16)
	var err error
	f.rv, err = pulsetest.New(pulsetest.Config{APIKey: f.apiKey, Secret: f.secret, Now: f.clk.Now, MaxRecorded: -1})
	if err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	f.tc, err = telecart.New(telecart.Config{
		DB: f.cfg.DB, Catalog: demo.NewCatalog(""), Orders: demo.NewOrders(f.cfg.DB, f.clk.Now),
		Customers: demo.NewCustomers(f.cfg.DB),
		// Nobody calls this TeleCart's admin API: it is never served.
		AdminAuth: telecart.BearerAuth(randomHex(16)), BotToken: f.cfg.BotToken,
		StartParamSecret: f.cfg.StartParamSecret,
		// The receiver's address is known once it listens: SetCredentials.
		Pulse:           pulse.Config{Now: f.clk.Now, NoSweep: true},
		Settings:        telecart.Settings{ShopName: "TeleCart Demo Shop", OwnerChat: f.cfg.OwnerChat},
		ExtraMigrations: []migrator.Source{demo.MigrationSource()},
		Logger:          f.log,
		Now:             f.clk.Now,
	})
	if err != nil {
		f.rv.Close()
		return fmt.Errorf("activity: %w", err)
	}
	if err := f.tc.Migrate(ctx); err != nil {
		f.rv.Close()
		return fmt.Errorf("activity: %w", err)
	}
	n, err := f.tc.Customers().Count(ctx)
	if err == nil && n > 0 {
		err = fmt.Errorf("%w (%d); the demo activity fills only an empty database: start with a new -db", ErrNotEmpty, n)
	}
	if err == nil {
		err = f.settings(ctx)
	}
	if err == nil {
		page, perr := demo.NewCatalog("").Products(ctx, telecart.ProductQuery{Page: 1, PerPage: 50})
		for _, p := range page.Products {
			if p.InStock {
				f.products = append(f.products, p)
			}
		}
		err = perr
	}
	if err != nil {
		f.rv.Close()
		return fmt.Errorf("activity: %w", err)
	}
	return nil
}

// settings saves, through the settings service, what the shop's first
// Start would (the start_param secret, so the month's links stay valid
// afterwards), the shop's time zone when it is still the default, and a
// bot username when there is none.
func (f *filler) settings(ctx context.Context) error {
	st, err := f.tc.Settings().Get(ctx)
	if err != nil {
		return err
	}
	if st.StartParamSecret == "" {
		st.StartParamSecret = randomHex(32)
	}
	if st.TimeZone == "" || st.TimeZone == telecart.TimeZoneDefault {
		st.TimeZone = f.cfg.TimeZone
	}
	if st.BotUsername == "" {
		// Campaign links need the bot's username, which Telegram gives
		// for a real token; the demo's made-up bot gets a made-up name,
		// replaced as soon as a real token is saved.
		st.BotUsername = BotUsernameDefault
	}
	if st, err = f.tc.Settings().Update(ctx, st); err != nil {
		return err
	}
	f.loc, err = time.LoadLocation(st.TimeZone)
	return err
}

// serveReceiver serves the stand-in Pulse API on a loopback port.
func (f *filler) serveReceiver() (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("activity: starting the stand-in Pulse API: %w", err)
	}
	srv := &http.Server{Handler: rejectReason(f.rv), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

// RejectReason is why the stand-in Pulse API rejects the events it does:
// what the Pulse page shows for them.
const RejectReason = "refused during a schema update of the Pulse API"

// rejectReason puts RejectReason in place of the test receiver's own words
// ("event matches the reject pattern …") in a batch's answer.
func rejectReason(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var resp pulse.WireResponse
		if rec.Code == http.StatusOK && json.Unmarshal(body, &resp) == nil && resp.Results != nil {
			for i := range resp.Results {
				if resp.Results[i].Status == pulse.ResultRejected {
					resp.Results[i].Error = RejectReason
				}
			}
			if b, err := json.Marshal(resp); err == nil {
				body = b
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// makeCampaigns makes three campaigns through the campaigns service and
// signs their links; the second and third start later in the month.
func (f *filler) makeCampaigns(ctx context.Context, start time.Time) error {
	for _, c := range []pulse.Campaign{
		{ID: "tea_week", Name: "Tea week in our channel", Source: "channel", Medium: "post",
			Content: "pinned post", Notes: "A post about the spring teas, pinned for a week."},
		{ID: "coffee_vlog", Name: "Coffee review by a food blogger", Source: "blog", Medium: "video",
			Notes: "A video review of the espresso blend with our link."},
		{ID: "friends", Name: "Приведи друга", Source: "ref", Medium: "chat",
			Notes: "Customers share the link with friends in their chats."},
	} {
		made, err := f.tc.Campaigns().Create(ctx, c)
		if err != nil {
			return fmt.Errorf("activity: making campaign %s: %w", c.ID, err)
		}
		link, err := f.tc.StartParams().Encode(made.StartParam())
		if err != nil {
			return fmt.Errorf("activity: signing campaign %s's link: %w", c.ID, err)
		}
		f.campaigns = append(f.campaigns, made)
		f.links[made.ID] = link
		f.logAt(f.clk.Now(), slog.LevelInfo, "campaigns: campaign created", "campaign_id", made.ID, "source", made.Source)
	}
	f.rep.Campaigns = len(f.campaigns)
	return nil
}

// campaignAt picks a campaign running at t: the first all month, the
// second from day 8, the third from day 15, weighted towards the newest.
func (f *filler) campaignAt(t, start time.Time) string {
	day := int(t.Sub(start) / (24 * time.Hour))
	running := []int{0}
	if day >= 8 {
		running = append(running, 1, 1)
	}
	if day >= 15 {
		running = append(running, 2, 2)
	}
	return f.campaigns[running[f.rng.IntN(len(running))]].ID
}

// hourWeights is how likely a visit starts in each local hour: quiet
// nights, a lunch bump and busy evenings.
var hourWeights = [24]int{1, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 8, 10, 9, 8, 8, 9, 11, 14, 16, 16, 13, 8, 4}

// momentIn returns a time on the local day d (counted from start) at a
// likely hour.
func (f *filler) momentIn(start time.Time, day int) time.Time {
	total := 0
	for _, w := range hourWeights {
		total += w
	}
	pick, hour := f.rng.IntN(total), 0
	for ; hour < 23 && pick >= hourWeights[hour]; hour++ {
		pick -= hourWeights[hour]
	}
	d := start.In(f.loc).AddDate(0, 0, day)
	return time.Date(d.Year(), d.Month(), d.Day(), hour, f.rng.IntN(60), f.rng.IntN(60), 0, f.loc)
}

// plan makes the customers and their visits, oldest first.
func (f *filler) plan(start time.Time) []*visit {
	var visits []*visit
	end := f.cfg.Now.Add(-10 * time.Minute) // a visit's order lands before Now
	for i := range f.cfg.Customers {
		c := &customer{consents: f.rng.Float64() < 0.85}
		ru := f.rng.Float64() < 0.45
		u := telegram.User{ID: 5_000_000_000 + int64(i)*7919 + int64(f.rng.IntN(7000)), LanguageCode: "en",
			AllowsWriteToPM: f.rng.Float64() < 0.4, IsPremium: f.rng.Float64() < 0.12}
		if ru {
			first, last := ruFirst[f.rng.IntN(len(ruFirst))], ruLast[f.rng.IntN(len(ruLast))]
			u.FirstName, u.LanguageCode = first.name, "ru"
			if f.rng.Float64() < 0.8 {
				u.LastName = last.name
				if feminine(first.name) {
					u.LastName += "а"
				}
			}
			if f.rng.Float64() < 0.6 {
				u.Username = first.latin + "_" + last.latin + strconv.Itoa(f.rng.IntN(100))
			}
		} else {
			first, last := enFirst[f.rng.IntN(len(enFirst))], enLast[f.rng.IntN(len(enLast))]
			u.FirstName = first.name
			if f.rng.Float64() < 0.8 {
				u.LastName = last.name
			}
			if f.rng.Float64() < 0.6 {
				u.Username = lower(first.name) + lower(last.name) + strconv.Itoa(f.rng.IntN(100))
			}
		}
		c.user = u
		// Arrivals grow a little over the month, as a shop's do.
		day := int(float64(f.cfg.Days) * (1 - f.rng.Float64()*f.rng.Float64()))
		if day >= f.cfg.Days {
			day = f.cfg.Days - 1
		}
		at := f.momentIn(start, day)
		if at.After(end) {
			at = end.Add(-time.Duration(f.rng.IntN(600)) * time.Minute)
		}
		if at.Before(start) {
			at = start.Add(time.Duration(f.rng.IntN(600)) * time.Minute)
		}
		first := ""
		if f.rng.Float64() < 0.88 {
			first = f.campaignAt(at, start)
		}
		n := 1
		for n < 5 && f.rng.Float64() < 0.45 {
			n++
		}
		twice := first != "" && f.rng.Float64() < 0.18
		for k := range n {
			v := &visit{c: c, at: at}
			if k == 0 {
				v.campaign = first
			} else if twice && k == 1 {
				if other := f.campaignAt(at, start); other != first {
					v.campaign, v.secondLink = other, true
				}
			}
			f.funnel(v)
			visits = append(visits, v)
			at = at.Add(time.Duration(1+f.rng.IntN(6*24)) * time.Hour).Add(time.Duration(f.rng.IntN(3600)) * time.Second)
			if at.After(end) {
				break
			}
		}
	}
	slices.SortStableFunc(visits, func(a, b *visit) int { return a.at.Compare(b.at) })
	// One visit of the last day meets a Pulse API that rejects its events.
	for i := len(visits) - 1; i >= 0; i-- {
		v := visits[i]
		if v.at.Before(f.cfg.Now.Add(-30*time.Hour)) || v.at.After(f.cfg.Now.Add(-6*time.Hour)) {
			continue
		}
		v.rejected, v.views, v.cart, v.checkout, v.order = true, 2, true, false, false
		if v.campaign == "" && len(f.campaigns) > 0 {
			v.campaign = f.campaigns[0].ID
		}
		break
	}
	return visits
}

// funnel decides how far a visit goes: about 60% view a product, 25% put
// one in the cart, 15% start the checkout and 10% order.
func (f *filler) funnel(v *visit) {
	v.search = f.rng.Float64() < 0.12
	if f.rng.Float64() >= 0.6 {
		return
	}
	v.views = 1 + f.rng.IntN(3)
	if f.rng.Float64() >= 0.42 {
		return
	}
	v.cart = true
	if f.rng.Float64() >= 0.6 {
		return
	}
	v.checkout = true
	v.order = f.rng.Float64() < 0.67
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// logAt writes a log line stamped at t, the month's time of what it tells.
func (f *filler) logAt(t time.Time, level slog.Level, msg string, args ...any) {
	h := f.log.Handler()
	if !h.Enabled(context.Background(), level) {
		return
	}
	r := slog.NewRecord(t, level, msg, 0)
	r.Add(args...)
	_ = h.Handle(context.Background(), r)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// launch is a visit once its customer is saved and its initData signed.
type launch struct {
	v *visit
	d telegram.InitData
	c telegram.Customer
}

var platforms = []string{"android", "ios", "ios", "tdesktop", "weba", "android"}

// live plays the visits hour by hour: customers saved, each hour's events
// stored in one transaction, orders placed, and the outbox delivered to
// the stand-in Pulse API every six hours (every hour in the last two days,
// so the dashboard's chart of the last 24 hours has every hour).
func (f *filler) live(ctx context.Context, visits []*visit, start time.Time) error {
	i := 0
	for hour := start.Truncate(time.Hour); hour.Before(f.cfg.Now); hour = hour.Add(time.Hour) {
		next := hour.Add(time.Hour)
		var batch []*visit
		for i < len(visits) && visits[i].at.Before(next) {
			batch = append(batch, visits[i])
			i++
		}
		rejected := ""
		if len(batch) > 0 {
			ls, err := f.launch(ctx, batch)
			if err != nil {
				return err
			}
			if err := f.track(ctx, ls); err != nil {
				return err
			}
			for _, l := range ls {
				if l.v.rejected {
					rejected = l.c.TrackingID
				}
				if l.v.order {
					if err := f.order(ctx, l); err != nil {
						return err
					}
				}
			}
		}
		if next.After(f.cfg.Now) {
			next = f.cfg.Now
		}
		if next.After(f.cfg.Now.Add(-48*time.Hour)) || next.Hour()%6 == 0 || rejected != "" {
			f.clk.set(next)
			if rejected != "" {
				// The stand-in answers "rejected" for this customer's events:
				// they fail at once, with the answer's reason, ready to requeue.
				if err := f.rv.SetFaults(pulsetest.Faults{RejectPattern: regexp.MustCompile(regexp.QuoteMeta(":" + rejected + ":"))}); err != nil {
					return fmt.Errorf("activity: %w", err)
				}
			}
			if err := f.drain(ctx); err != nil {
				return err
			}
			if rejected != "" {
				if err := f.rv.SetFaults(pulsetest.Faults{}); err != nil {
					return fmt.Errorf("activity: %w", err)
				}
			}
		}
	}
	return nil
}

// launch saves each visit's customer (and a new one's consent) as the
// storefront's POST /api/customers and /api/privacy-consent do, and signs
// the visit's initData.
func (f *filler) launch(ctx context.Context, batch []*visit) ([]launch, error) {
	ls := make([]launch, 0, len(batch))
	for _, v := range batch {
		f.clk.set(v.at)
		c, err := f.tc.Customers().Save(ctx, v.c.user, v.at)
		if err != nil {
			return nil, fmt.Errorf("activity: saving a customer: %w", err)
		}
		if !v.c.seen {
			v.c.seen = true
			f.rep.Customers++
			if v.c.consents {
				f.clk.set(v.at.Add(15 * time.Second))
				if c, err = f.tc.Customers().Consent(ctx, v.c.user.ID, f.clk.Now()); err != nil {
					return nil, fmt.Errorf("activity: recording a consent: %w", err)
				}
				f.rep.Consented++
			}
		}
		if v.secondLink {
			f.rep.TwoCampaigns++
		}
		raw := telegram.SignInitData(f.cfg.BotToken, telegram.SignParams{User: &v.c.user, StartParam: f.links[v.campaign]}, v.at)
		d, err := telegram.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("activity: %w", err)
		}
		ls = append(ls, launch{v: v, d: d, c: c})
		f.rep.Visits++
		f.logAt(v.at, slog.LevelDebug, "storefront: Mini App opened", "customer_id", c.ID, "campaign_id", v.campaign,
			"language", v.c.user.LanguageCode)
	}
	return ls, nil
}

// track stores one hour's client events, and the campaign visits the
// launch links carry, in one transaction, as POST /api/ingest would have.
func (f *filler) track(ctx context.Context, ls []launch) (err error) {
	tx, err := f.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	attr := pulse.Attribution{StartParams: f.tc.StartParams()}
	for _, l := range ls {
		v := l.v
		if p, ok := attr.FromStartParam(l.d); ok {
			if err := f.tc.Customers().RecordCampaign(ctx, tx, v.c.user.ID, p.CampaignID, v.at); err != nil {
				return fmt.Errorf("activity: recording a campaign visit: %w", err)
			}
		}
		campaign := attr.CampaignFor(l.d, l.c, v.at)
		n := 0
		add := func(name string, at time.Time, key string, payload map[string]any) error {
			if key == "" {
				n++
				key = "client:" + l.c.TrackingID + ":" + strconv.FormatInt(v.at.Unix(), 36) + "-" + strconv.Itoa(n)
			}
			f.clk.set(at)
			_, err := f.tc.Pulse().TrackTx(ctx, tx, pulse.Event{Name: name, IdempotencyKey: key, CampaignID: campaign,
				TrackingID: l.c.TrackingID, OccurredAt: at, Payload: payload})
			if err != nil {
				return fmt.Errorf("activity: tracking %s: %w", name, err)
			}
			return nil
		}
		at := v.at
		open := map[string]any{"platform": platforms[f.rng.IntN(len(platforms))]}
		if l.d.StartParam != "" {
			open["start_param"] = l.d.StartParam
		}
		if err := add(pulse.EventWebAppOpen, at, "open:"+l.d.Hash, open); err != nil {
			return err
		}
		if v.search {
			at = at.Add(20 * time.Second)
			q := searches[f.rng.IntN(len(searches))]
			page, _ := demo.NewCatalog("").Products(ctx, telecart.ProductQuery{Search: q, Page: 1, PerPage: 20})
			if err := add(pulse.EventSearch, at, "", map[string]any{"query": q, "results": page.Total}); err != nil {
				return err
			}
		}
		var viewed []telecart.Product
		for range v.views {
			at = at.Add(time.Duration(25+f.rng.IntN(60)) * time.Second)
			p := f.products[f.rng.IntN(len(f.products))]
			viewed = append(viewed, p)
			if err := add(pulse.EventProductView, at, "", map[string]any{"product_id": p.ID, "price": p.Price, "currency": p.Currency}); err != nil {
				return err
			}
		}
		if !v.cart || len(viewed) == 0 {
			continue
		}
		var items []map[string]any
		var total int64
		v.items = nil
		for k, p := range viewed {
			if k > 0 && f.rng.Float64() < 0.6 {
				continue
			}
			qty := 1
			if f.rng.Float64() < 0.2 {
				qty = 2
			}
			at = at.Add(time.Duration(10+f.rng.IntN(30)) * time.Second)
			if err := add(pulse.EventAddToCart, at, "", map[string]any{"product_id": p.ID, "quantity": qty, "price": p.Price,
				"currency": p.Currency, "source": "product"}); err != nil {
				return err
			}
			items = append(items, map[string]any{"product_id": p.ID, "quantity": qty})
			v.items = append(v.items, telecart.OrderRequestItem{ProductID: p.ID, Quantity: qty})
			total += p.Price * int64(qty)
		}
		at = at.Add(15 * time.Second)
		if err := add(pulse.EventCartView, at, "", map[string]any{"items": items, "total": total, "currency": "RUB"}); err != nil {
			return err
		}
		if v.checkout {
			at = at.Add(20 * time.Second)
			if err := add(pulse.EventCheckoutStart, at, "", map[string]any{"items": len(items), "total": total, "currency": "RUB"}); err != nil {
				return err
			}
		} else {
			f.logAt(at, slog.LevelDebug, "storefront: cart left without a checkout", "customer_id", l.c.ID, "total", total)
		}
		v.done = at
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	return nil
}

// order places a visit's order through the storefront's order flow: the
// host's order, TeleCart's meta row, the customer's counter, ORDER_CREATED
// and the new-order notices, in one transaction.
func (f *filler) order(ctx context.Context, l launch) error {
	v, u := l.v, l.v.c.user
	at := v.done.Add(time.Duration(60+f.rng.IntN(180)) * time.Second)
	f.clk.set(at)
	name := u.FirstName
	if u.LastName != "" {
		name += " " + u.LastName
	}
	phone := fmt.Sprintf("+7 9%02d %03d-%02d-%02d", f.rng.IntN(100), f.rng.IntN(1000), f.rng.IntN(100), f.rng.IntN(100))
	if u.LanguageCode == "en" {
		phone = fmt.Sprintf("+44 7%03d %06d", f.rng.IntN(1000), f.rng.IntN(1000000))
	}
	fields := map[string]any{"name": name, "phone": phone, "delivery": "pickup"}
	if f.rng.Float64() < 0.7 {
		fields["delivery"], fields["address"] = "courier", streets[f.rng.IntN(len(streets))]
	}
	if u.Username != "" && f.rng.Float64() < 0.6 {
		fields["email"] = u.Username + "@example.com"
	}
	if f.rng.Float64() < 0.15 {
		fields["comment"] = "Please call before delivery."
	}
	key := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", f.rng.Uint32(), f.rng.IntN(1<<16), f.rng.IntN(1<<12), f.rng.IntN(1<<12), f.rng.Uint64()&(1<<48-1))
	res, err := f.tc.Orders().PlaceOrder(ctx, l.d, telecart.OrderRequest{OrderKey: key, Items: v.items, Fields: fields})
	if err != nil {
		f.logAt(at, slog.LevelError, "shop: placing an order failed", "customer_id", l.c.ID, "err", err.Error())
		return fmt.Errorf("activity: placing an order: %w", err)
	}
	f.rep.Orders++
	f.rep.Revenue += res.Total
	f.logAt(at, slog.LevelInfo, "shop: order placed", "order_id", res.OrderID, "customer_id", l.c.ID,
		"total", res.TotalFormatted, "campaign_id", v.campaign)
	return nil
}

// drain delivers every due Pulse event to the stand-in Pulse API.
func (f *filler) drain(ctx context.Context) error {
	for {
		rep, err := f.tc.Pulse().SendOnce(ctx)
		if err != nil {
			return fmt.Errorf("activity: delivering Pulse events: %w", err)
		}
		if rep.Failed > 0 {
			f.logAt(f.clk.Now(), slog.LevelWarn, "pulse: the Pulse API rejected events; they wait in the failed list for a requeue",
				"failed", rep.Failed, "sent", rep.Sent)
			f.logAt(f.clk.Now(), slog.LevelError, "pulse: delivery failed", "events", rep.Failed, "reason", RejectReason)
		}
		if rep.Claimed == 0 {
			return nil
		}
	}
}

// standinBot stands in for the Bot API: it accepts every message, so the
// month's messages are sent without reaching Telegram.
type standinBot struct{ next atomic.Int64 }

func (b *standinBot) SendMessage(_ context.Context, p botapi.SendMessageParams) (botapi.Message, error) {
	return botapi.Message{MessageID: b.next.Add(1), Date: time.Now().Unix(), Chat: botapi.Chat{ID: p.ChatID}, Text: p.Text}, nil
}

// messages sends the month's new-order notices and one broadcast through
// the message outbox, to the stand-in Bot API. The outbox stamps its rows
// by the wall clock, as it paces by it, so they read as sent today.
func (f *filler) messages(ctx context.Context) error {
	webApp := ""
	if f.cfg.PublicURL != "" {
		webApp = f.cfg.PublicURL + "/app/"
	}
	attr := pulse.Attribution{StartParams: f.tc.StartParams()}
	ob, err := outbox.New(f.cfg.DB, outbox.Config{Bot: &standinBot{}, Customers: f.tc.Customers(), WebAppURL: webApp,
		NoPacing: true, Logger: f.log,
		// As TeleCart does: a delivered broadcast is a MESSAGE_SENT event,
		// stored in the transaction that records the message as sent.
		OnSentTx: func(ctx context.Context, tx *sql.Tx, m outbox.Message) error {
			if m.CustomerID == 0 || m.Kind != outbox.KindBroadcast {
				return nil
			}
			c, err := f.tc.Customers().GetTx(ctx, tx, m.CustomerID)
			if err != nil {
				return err
			}
			_, err = f.tc.Pulse().TrackTx(ctx, tx, pulse.Event{Name: pulse.EventMessageSent, IdempotencyKey: "message:" + strconv.FormatInt(m.ID, 10),
				CampaignID: attr.CampaignFor(telegram.InitData{}, c, f.clk.Now()), TrackingID: c.TrackingID,
				Payload: map[string]any{"message_id": m.ID, "kind": m.Kind, "broadcast_id": m.BroadcastID}})
			return err
		}})
	if err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	draft := outbox.BroadcastDraft{Text: "<b>Tea week is on!</b> New spring teas and 10% off every tin until Sunday."}
	if webApp != "" {
		draft.ButtonText = "Open the shop"
	}
	b, err := ob.CreateBroadcast(ctx, draft)
	if err == nil {
		_, err = ob.StartBroadcast(ctx, b.ID)
	}
	for more := true; err == nil && more; {
		more, err = ob.EnqueueBroadcasts(ctx)
	}
	for err == nil {
		var rep outbox.Report
		if rep, err = ob.SendOnce(ctx); err == nil {
			f.rep.Messages += rep.Sent
			if rep.Claimed == 0 {
				break
			}
		}
	}
	if err == nil {
		// The sender's next round marks the broadcast finished.
		_, err = ob.EnqueueBroadcasts(ctx)
	}
	if err == nil {
		b, err = ob.Broadcast(ctx, b.ID)
	}
	if err != nil {
		return fmt.Errorf("activity: sending the month's messages: %w", err)
	}
	f.rep.Broadcast = b.ID
	f.logAt(f.clk.Now(), slog.LevelInfo, "messages: broadcast sent", "broadcast_id", b.ID, "status", b.Status, "sent", b.Sent)
	return nil
}
