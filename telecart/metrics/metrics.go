// Package metrics exposes a TeleCart's health as Prometheus metrics: the
// Pulse outbox by status and the age of its oldest undelivered event, read
// at scrape time; Pulse batches and events by outcome, ingest results,
// rejected init data, orders and HTTP request durations by route group,
// counted from telecart.Hooks. It is a package of its own so that a host
// without Prometheus never compiles the client.
//
//	tc, err := telecart.New(cfg)
//	…
//	c, err := metrics.New(tc, metrics.Config{})
//	…
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
//	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every metric's name starts with telecart_.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

// Defaults of Config.
const (
	CountsTTLDefault     = 10 * time.Second
	ScrapeTimeoutDefault = 5 * time.Second
)

// Outcomes of a Pulse batch (telecart_pulse_batches_total) and of its
// events (telecart_pulse_events_total).
const (
	OutcomeSent     = "sent"     // delivered (or a duplicate of a delivered event)
	OutcomeRetried  = "retried"  // a transient failure: tried again later
	OutcomeFailed   = "failed"   // rejected, or out of attempts or age
	OutcomeReleased = "released" // back to pending untried: refused credentials or Stop
)

// Config configures a Collector. The zero value is valid.
type Config struct {
	// CountsTTL is how long the outbox counts read at a scrape are kept:
	// counting every row of a large outbox is not cheap, so scrapes closer
	// together than CountsTTL reuse the last counts (and never count twice
	// at once). The age of the oldest undelivered event is read at every
	// scrape, from an index. Defaults to CountsTTLDefault (10s).
	CountsTTL time.Duration

	// ScrapeTimeout bounds the database reads of one scrape. Defaults to
	// ScrapeTimeoutDefault (5s).
	ScrapeTimeout time.Duration

	// Now is the clock of CountsTTL. Defaults to time.Now.
	Now func() time.Time
}

// Collector is a prometheus.Collector of one TeleCart. New hooks it into
// the TeleCart; register it with a prometheus.Registerer.
type Collector struct {
	pulse   *pulse.Pulse
	stats   *pulse.StatsCache
	timeout time.Duration

	outbox      *prometheus.Desc
	oldest      *prometheus.Desc
	authFailing *prometheus.Desc
	dropped     *prometheus.Desc
	conflicts   *prometheus.Desc

	batches       *prometheus.CounterVec
	events        *prometheus.CounterVec
	pauses        prometheus.Counter
	ingestEvents  *prometheus.CounterVec
	ingestRefused *prometheus.CounterVec
	initData      *prometheus.CounterVec
	orders        prometheus.Counter
	adminRefused  prometheus.Counter
	requests      *prometheus.HistogramVec
}

// New returns a Collector of tc and adds the hooks that feed its counters
// (tc.AddHooks). Make one per TeleCart: a second would count everything
// again under the same names.
func New(tc *telecart.TeleCart, cfg Config) (*Collector, error) {
	switch {
	case tc == nil:
		return nil, errors.New("metrics: tc is nil; pass the *telecart.TeleCart from telecart.New")
	case cfg.CountsTTL < 0:
		return nil, fmt.Errorf("metrics: CountsTTL must not be negative, got %s", cfg.CountsTTL)
	case cfg.ScrapeTimeout < 0:
		return nil, fmt.Errorf("metrics: ScrapeTimeout must not be negative, got %s", cfg.ScrapeTimeout)
	}
	if cfg.CountsTTL == 0 {
		cfg.CountsTTL = CountsTTLDefault
	}
	if cfg.ScrapeTimeout == 0 {
		cfg.ScrapeTimeout = ScrapeTimeoutDefault
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	stats, err := pulse.NewStatsCache(pulse.StatsCacheConfig{Pulse: tc.Pulse(), TTL: cfg.CountsTTL, Now: cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	c := &Collector{
		pulse:   tc.Pulse(),
		stats:   stats,
		timeout: cfg.ScrapeTimeout,

		outbox: prometheus.NewDesc("telecart_pulse_outbox_events",
			"Events in the Pulse outbox by status (pending, sending, sent, failed), counted at most once per CountsTTL.",
			[]string{"status"}, nil),
		oldest: prometheus.NewDesc("telecart_pulse_oldest_pending_age_seconds",
			"Age of the oldest event not yet delivered (pending or sending), 0 when none: it grows during an outage.",
			nil, nil),
		authFailing: prometheus.NewDesc("telecart_pulse_auth_failing",
			"1 while the Pulse API refuses the credentials and sending is paused, else 0.", nil, nil),
		dropped: prometheus.NewDesc("telecart_pulse_dropped_events_total",
			"Events this process did not store: no campaign or tracking id to credit, or Pulse not configured.", nil, nil),
		conflicts: prometheus.NewDesc("telecart_pulse_conflicts_retried_total",
			"Pulse claims and delivery records this process ran again after losing to another sender's transaction "+
				"(a deadlock, or a certification failure on a Galera cluster); none of them committed twice.", nil, nil),

		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telecart_pulse_batches_total",
			Help: "Pulse batches by outcome: retried if any event will be retried, else failed if any failed, " +
				"else released if any went back untried, else sent."}, []string{"outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telecart_pulse_events_total",
			Help: "Pulse events by the outcome of a delivery attempt: sent, retried, failed or released."}, []string{"outcome"}),
		pauses: prometheus.NewCounter(prometheus.CounterOpts{Name: "telecart_pulse_auth_pauses_total",
			Help: "Times Pulse sending paused because the Pulse API refused the credentials."}),
		ingestEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telecart_ingest_events_total",
			Help: "Mini App events posted to the ingest endpoint by result: accepted, duplicate or dropped."}, []string{"result"}),
		ingestRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telecart_ingest_refused_total",
			Help: "Ingest requests refused whole, by reason (rate_limited, invalid, too_large, internal, …)."}, []string{"reason"}),
		initData: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telecart_initdata_rejections_total",
			Help: "Storefront requests refused for their Telegram init data, by reason."}, []string{"reason"}),
		adminRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "telecart_admin_auth_failures_total",
			Help: "Admin API requests the admin auth refused (a wrong token or an ended session)."}),
		orders: prometheus.NewCounter(prometheus.CounterOpts{Name: "telecart_orders_placed_total",
			Help: "Orders placed through the Mini App (committed; a repeated order_key is not counted)."}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "telecart_http_request_duration_seconds",
			Help:    "Duration of the requests TeleCart's routes answered, by route group and status class.",
			Buckets: prometheus.DefBuckets}, []string{"group", "status"}),
	}
	// Known label values start at 0, so that a rate() sees the first one.
	for _, o := range []string{OutcomeSent, OutcomeRetried, OutcomeFailed, OutcomeReleased} {
		c.batches.WithLabelValues(o)
		c.events.WithLabelValues(o)
	}
	for _, r := range []string{"accepted", "duplicate", "dropped"} {
		c.ingestEvents.WithLabelValues(r)
	}
	for _, k := range []tcerr.Kind{tcerr.RateLimited, tcerr.Invalid} {
		c.ingestRefused.WithLabelValues(string(k))
	}
	for _, r := range []string{telegram.RejectMissing, telegram.RejectMalformed, telegram.RejectUnsigned,
		telegram.RejectSignatureMismatch, telegram.RejectExpired, telegram.RejectFromFuture} {
		c.initData.WithLabelValues(r)
	}
	tc.AddHooks(c.hooks())
	return c, nil
}

// hooks are the telecart.Hooks that feed c's counters. Each only adds to
// a counter: they return at once.
func (c *Collector) hooks() telecart.Hooks {
	return telecart.Hooks{
		OrderPlaced: func(context.Context, telecart.OrderPlaced) { c.orders.Inc() },
		PulseDelivery: func(r pulse.DeliveryReport) {
			c.batches.WithLabelValues(BatchOutcome(r)).Inc()
			c.events.WithLabelValues(OutcomeSent).Add(float64(r.Sent))
			c.events.WithLabelValues(OutcomeRetried).Add(float64(r.Retried))
			c.events.WithLabelValues(OutcomeFailed).Add(float64(r.Failed))
			c.events.WithLabelValues(OutcomeReleased).Add(float64(r.Released))
		},
		PulseState: func(st pulse.SenderState) {
			if st.AuthFailing {
				c.pauses.Inc()
			}
		},
		Ingest: func(r pulse.IngestReport) {
			if r.Err != nil {
				c.ingestRefused.WithLabelValues(string(tcerr.KindOf(r.Err))).Inc()
				return
			}
			c.ingestEvents.WithLabelValues("accepted").Add(float64(r.Accepted))
			c.ingestEvents.WithLabelValues("duplicate").Add(float64(r.Duplicates))
			c.ingestEvents.WithLabelValues("dropped").Add(float64(r.Dropped))
		},
		InitDataRejected: func(_ *http.Request, reason string) { c.initData.WithLabelValues(reason).Inc() },
		AdminAuthFailed:  func(*http.Request) { c.adminRefused.Inc() },
		Request: func(group, _ string, status int, d time.Duration) {
			c.requests.WithLabelValues(group, strconv.Itoa(status/100)+"xx").Observe(d.Seconds())
		},
	}
}

// BatchOutcome is the outcome telecart_pulse_batches_total counts a batch
// under: OutcomeRetried when any of its events will be retried, else
// OutcomeFailed when any failed, else OutcomeReleased when any went back
// untried, else OutcomeSent.
func BatchOutcome(r pulse.DeliveryReport) string {
	switch {
	case r.Retried > 0:
		return OutcomeRetried
	case r.Failed > 0:
		return OutcomeFailed
	case r.Released > 0:
		return OutcomeReleased
	}
	return OutcomeSent
}

// Describe sends the descriptors of every metric c collects.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.outbox
	ch <- c.oldest
	ch <- c.authFailing
	ch <- c.dropped
	ch <- c.conflicts
	c.counters(func(m prometheus.Collector) { m.Describe(ch) })
}

// Collect reads the outbox (its counts at most once per CountsTTL) and
// sends every metric. When the database does not answer, the outbox
// metrics are sent as invalid (the scrape reports the error) and the
// counters as usual.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.counters(func(m prometheus.Collector) { m.Collect(ch) })
	st := c.pulse.State()
	ch <- prometheus.MustNewConstMetric(c.authFailing, prometheus.GaugeValue, bool01(st.AuthFailing))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(c.pulse.Dropped()))
	ch <- prometheus.MustNewConstMetric(c.conflicts, prometheus.CounterValue, float64(c.pulse.ConflictsRetried()))

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	stats, err := c.stats.Stats(ctx, false)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.outbox, fmt.Errorf("metrics: reading the Pulse outbox: %w", err))
		return
	}
	for _, s := range []struct {
		status string
		n      int64
	}{
		{pulse.StatusPending, stats.Pending}, {pulse.StatusSending, stats.Sending},
		{pulse.StatusSent, stats.Sent}, {pulse.StatusFailed, stats.Failed},
	} {
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(s.n), s.status)
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, stats.OldestPendingAgeSeconds)
}

// counters calls f with each metric the hooks feed.
func (c *Collector) counters(f func(prometheus.Collector)) {
	for _, m := range []prometheus.Collector{c.batches, c.events, c.pauses, c.ingestEvents, c.ingestRefused,
		c.initData, c.orders, c.adminRefused, c.requests} {
		f(m)
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
