package pulsetest

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/telecart-go/telecart/pulse"
)

// Faults are the failures a Receiver injects into POST /v1/events. The zero
// value injects none. Rates are fractions of requests in [0, 1], decided by
// the receiver's seeded random source.
//
// Order of application: Latency; then Unauthorized, Outage, ErrorRate and
// TooManyRate (before authentication, like a proxy in front of the API);
// then, for an authenticated and well-formed batch, MaxEvents, RejectAll400
// and BadBatchPattern; then the events are recorded and RejectPattern
// decides per event; last, TimeoutRate and DropRate withhold the answer.
type Faults struct {
	// Latency delays every request before anything else happens.
	Latency time.Duration

	// Unauthorized answers 401 to every request, as after a key rotation.
	Unauthorized bool

	// Outage answers 503 to every request while true.
	Outage bool

	// OutageStart and OutageEnd answer 503 to every request from
	// OutageStart (zero: since ever) until OutageEnd (zero: for ever), by
	// Config.Now. The window is off when both are zero.
	OutageStart, OutageEnd time.Time

	// ErrorRate is the fraction of requests answered 500, 502 or 503
	// (chosen at random) without processing.
	ErrorRate float64

	// TooManyRate is the fraction of requests answered 429 without
	// processing.
	TooManyRate float64

	// RetryAfter, when positive, is sent as Retry-After on 429 and outage
	// 503 answers: whole seconds rounded up, or an HTTP date when
	// RetryAfterDate is set.
	RetryAfter     time.Duration
	RetryAfterDate bool

	// MaxEvents, when positive, answers 413 to a batch of more events.
	MaxEvents int

	// RejectAll400 answers 400 {"error": …} to every batch.
	RejectAll400 bool

	// BadBatchPattern answers 400 to any batch holding an event whose
	// idempotency_key or payload matches it, so that a sender must split
	// the batch to isolate the event.
	BadBatchPattern *regexp.Regexp

	// RejectPattern answers "rejected" for each event whose
	// idempotency_key or payload matches it; the others are processed.
	RejectPattern *regexp.Regexp

	// TimeoutRate is the fraction of batches recorded (accepted) whose
	// answer never comes: the request hangs until the client gives up.
	TimeoutRate float64

	// DropRate is the fraction of batches recorded whose connection is
	// then closed without an answer.
	DropRate float64
}

// Validate reports a rate outside [0, 1] or a negative duration, naming the
// field.
func (f Faults) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"ErrorRate", f.ErrorRate}, {"TooManyRate", f.TooManyRate}, {"TimeoutRate", f.TimeoutRate}, {"DropRate", f.DropRate}} {
		if !(r.v >= 0 && r.v <= 1) { // also catches NaN
			return fmt.Errorf("pulsetest: %s must be between 0 and 1, got %v", r.name, r.v)
		}
	}
	if f.Latency < 0 {
		return fmt.Errorf("pulsetest: Latency must not be negative, got %s", f.Latency)
	}
	if f.RetryAfter < 0 {
		return fmt.Errorf("pulsetest: RetryAfter must not be negative, got %s", f.RetryAfter)
	}
	if f.MaxEvents < 0 {
		return fmt.Errorf("pulsetest: MaxEvents must not be negative, got %d", f.MaxEvents)
	}
	if !f.OutageStart.IsZero() && !f.OutageEnd.IsZero() && f.OutageEnd.Before(f.OutageStart) {
		return fmt.Errorf("pulsetest: OutageEnd %s is before OutageStart %s", f.OutageEnd, f.OutageStart)
	}
	return nil
}

// SetFaults replaces the injected faults, effective for the next request.
// It refuses (and keeps the old faults) when f.Validate fails.
func (rv *Receiver) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	rv.faultsMu.Lock()
	defer rv.faultsMu.Unlock()
	rv.faults = f
	return nil
}

// Faults returns the faults in effect.
func (rv *Receiver) Faults() Faults {
	rv.faultsMu.Lock()
	defer rv.faultsMu.Unlock()
	return rv.faults
}

// dice are one request's draws for the rate faults.
type dice struct {
	serverError bool
	errorStatus int
	tooMany     bool
	timeout     bool
	drop        bool
}

var errorStatuses = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// roll returns the faults in effect and this request's draws. A draw is made
// only for a non-zero rate, so adding one fault does not reshuffle another's
// sequence when the other rates are zero.
func (rv *Receiver) roll() (Faults, dice) {
	rv.faultsMu.Lock()
	defer rv.faultsMu.Unlock()
	f := rv.faults
	var d dice
	if f.ErrorRate > 0 {
		d.serverError = rv.rand.Float64() < f.ErrorRate
		d.errorStatus = errorStatuses[rv.rand.IntN(len(errorStatuses))]
	}
	if f.TooManyRate > 0 {
		d.tooMany = rv.rand.Float64() < f.TooManyRate
	}
	if f.TimeoutRate > 0 {
		d.timeout = rv.rand.Float64() < f.TimeoutRate
	}
	if f.DropRate > 0 {
		d.drop = rv.rand.Float64() < f.DropRate
	}
	return f, d
}

func (f Faults) outageAt(now time.Time) bool {
	if f.Outage {
		return true
	}
	if f.OutageStart.IsZero() && f.OutageEnd.IsZero() {
		return false
	}
	return (f.OutageStart.IsZero() || !now.Before(f.OutageStart)) && (f.OutageEnd.IsZero() || now.Before(f.OutageEnd))
}

func (rv *Receiver) setRetryAfter(w http.ResponseWriter, f Faults) {
	if f.RetryAfter <= 0 {
		return
	}
	if f.RetryAfterDate {
		w.Header().Set("Retry-After", rv.now().Add(f.RetryAfter).UTC().Format(http.TimeFormat))
		return
	}
	w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(f.RetryAfter.Seconds())), 10))
}

// matches reports whether e's idempotency_key or raw payload matches re.
func matches(e pulse.WireEvent, re *regexp.Regexp) bool {
	return re.MatchString(e.IdempotencyKey) || re.Match(e.Payload)
}

// matchIndex returns the index of the first event matching re, or -1.
func matchIndex(events []pulse.WireEvent, re *regexp.Regexp) int {
	for i, e := range events {
		if matches(e, re) {
			return i
		}
	}
	return -1
}
