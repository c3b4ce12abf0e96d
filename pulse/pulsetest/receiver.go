package pulsetest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telecart-go/telecart/pulse"
)

// MaxBodyDefault is the largest request body accepted before answering 413:
// the protocol's default batch limit of 1 MiB.
const MaxBodyDefault = 1 << 20

// MaxIdempotencyKeyLen is the protocol's upper bound on idempotency_key.
const MaxIdempotencyKeyLen = 128

// MaxRecordedDefault is how many events, and how many requests, a Receiver
// keeps for Events and Requests unless Config.MaxRecorded says otherwise.
const MaxRecordedDefault = 10_000

// Config configures a Receiver, or the Receiver of a Server.
type Config struct {
	// APIKey is expected as "Authorization: Bearer {APIKey}". Required.
	APIKey string

	// Secret is the shared signing secret (pulse.PayloadSigner). Required.
	Secret string

	// Now is the clock for signature timestamps and outage windows.
	// Defaults to time.Now.
	Now func() time.Time

	// Logger receives one debug line per request and warnings for
	// authentication failures. Defaults to discarding.
	Logger *slog.Logger

	// MaxBody is the largest body accepted; larger ones get 413.
	// Defaults to MaxBodyDefault.
	MaxBody int64

	// Window is how far X-Pulse-Timestamp may be from Now.
	// Defaults to pulse.SignatureWindowDefault.
	Window time.Duration

	// Seed seeds the random source that decides which requests the rate
	// faults hit, so a test run is reproducible. Defaults to 0 (a fixed
	// seed, not a random one).
	Seed uint64

	// OnRequest, when set, is called once for every POST /v1/events after
	// the answer is decided (before a timeout fault starts hanging). It
	// must be safe for concurrent use. Defaults to nil.
	OnRequest func(Request)

	// MaxRecorded is how many accepted events, and separately how many
	// requests, the receiver keeps for Events, WaitForEvents and Requests,
	// in arrival order; past it, events are still deduplicated and counted
	// in Stats but not kept. A negative value keeps none. Defaults to
	// MaxRecordedDefault.
	//
	// Recording is on by default because a test wants to see what arrived,
	// and bounded so that a receiver left running (the demo shop's) stays
	// small. Load tests and benchmarks set -1: at a million events the
	// receiver keeps only 16-byte key hashes for deduplication, and keeping
	// whole events would weigh on the memory and time they measure.
	MaxRecorded int
}

// Request describes one POST /v1/events as the receiver saw it: what
// OnRequest is called with and Requests returns.
type Request struct {
	BatchID string // X-Pulse-Batch-Id as sent
	Attempt string // X-Pulse-Attempt as sent
	Events  int    // events in the body; 0 when it was not parsed
	Status  int    // the HTTP status answered; 0 when the fault never answers
	Fault   string // the fault that decided the answer ("" for none), e.g. FaultTimeout
}

// Names of faults in Request.Fault.
const (
	FaultUnauthorized = "unauthorized"
	FaultOutage       = "outage"
	FaultError        = "error"
	FaultTooMany      = "too_many"
	FaultTooLarge     = "too_large"
	FaultBadBatch     = "bad_batch"
	FaultRejectAll    = "reject_all_400"
	FaultTimeout      = "timeout"
	FaultDrop         = "drop"
	FaultClientGone   = "client_gone" // the client left during Latency
)

// Stats are the receiver's counters since New or the last Reset.
type Stats struct {
	Received     int64 `json:"received"`     // events in recorded batches, repeats included
	Unique       int64 `json:"unique"`       // distinct idempotency keys accepted
	Duplicates   int64 `json:"duplicates"`   // events answered "duplicate"
	Rejected     int64 `json:"rejected"`     // events answered "rejected"
	Batches      int64 `json:"batches"`      // batches whose events were recorded
	Requests     int64 `json:"requests"`     // POST /v1/events requests, faulted ones included
	Faulted      int64 `json:"faulted"`      // requests whose answer a fault decided
	Unauthorized int64 `json:"unauthorized"` // requests answered 401
}

// keyHash is the stored form of an idempotency key: 16 bytes of SHA-256. A
// map of pointer-free arrays costs a third of a map of strings and is never
// scanned by the garbage collector, which matters at a million keys; a
// collision needs about 2^64 keys.
type keyHash [16]byte

func hashKey(k string) keyHash {
	sum := sha256.Sum256([]byte(k))
	return keyHash(sum[:16])
}

// Receiver is the fake Pulse API as an http.Handler: POST /v1/events (the
// protocol of docs/pulse-protocol.md) and GET /stats (Stats as JSON). A test
// gets one served by NewServer; New makes one to serve yourself, as the
// pulse-receiver command does. Its methods are safe for concurrent use.
type Receiver struct {
	apiKey    []byte
	signer    *pulse.PayloadSigner
	now       func() time.Time
	logger    *slog.Logger
	maxBody   int64
	onRequest func(Request)
	keep      int // Config.MaxRecorded, 0 when none are kept
	mux       *http.ServeMux

	mu       sync.Mutex // guards seen, stats, events, requests and arrived
	seen     map[keyHash]struct{}
	stats    Stats
	events   []pulse.WireEvent // the first keep accepted events
	requests []Request         // the first keep requests
	arrived  chan struct{}     // closed and replaced when events are kept

	faultsMu sync.Mutex // guards faults and rand
	faults   Faults
	rand     *rand.Rand

	closeOnce sync.Once
	closed    chan struct{}
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBody == 0 {
		c.MaxBody = MaxBodyDefault
	}
	if c.Window == 0 {
		c.Window = pulse.SignatureWindowDefault
	}
	if c.MaxRecorded == 0 {
		c.MaxRecorded = MaxRecordedDefault
	}
	return c
}

func (c Config) validate() error {
	if c.APIKey == "" {
		return errors.New("pulsetest: APIKey is empty; set it to the API key the sender uses")
	}
	if c.Secret == "" {
		return errors.New("pulsetest: Secret is empty; set it to the shared secret the sender signs with")
	}
	if c.MaxBody < 0 {
		return fmt.Errorf("pulsetest: MaxBody must not be negative, got %d", c.MaxBody)
	}
	return nil
}

// New returns a Receiver for cfg, or an error naming the field to fix.
func New(cfg Config) (*Receiver, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	signer, err := pulse.NewPayloadSigner(pulse.SignerConfig{Secret: cfg.Secret, Window: cfg.Window, Now: cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("pulsetest: %w", err)
	}
	rv := &Receiver{
		apiKey:    []byte(cfg.APIKey),
		signer:    signer,
		now:       cfg.Now,
		logger:    cfg.Logger,
		maxBody:   cfg.MaxBody,
		onRequest: cfg.OnRequest,
		keep:      max(cfg.MaxRecorded, 0),
		seen:      make(map[keyHash]struct{}),
		arrived:   make(chan struct{}),
		rand:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		closed:    make(chan struct{}),
	}
	rv.mux = http.NewServeMux()
	rv.mux.HandleFunc("POST /v1/events", rv.handleEvents)
	rv.mux.HandleFunc("GET /stats", rv.handleStats)
	return rv, nil
}

// Handler returns the receiver's routes: POST /v1/events and GET /stats.
func (rv *Receiver) Handler() http.Handler { return rv.mux }

// ServeHTTP serves the receiver's routes.
func (rv *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) { rv.mux.ServeHTTP(w, r) }

// Close releases requests held by the timeout fault (their connections are
// aborted) so that a server can shut down. It may be called more than once.
func (rv *Receiver) Close() error {
	rv.closeOnce.Do(func() { close(rv.closed) })
	return nil
}

// Stats returns a snapshot of the counters.
func (rv *Receiver) Stats() Stats {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	st := rv.stats
	st.Unique = int64(len(rv.seen))
	return st
}

// Seen reports whether an event with idempotency key key was accepted.
func (rv *Receiver) Seen(key string) bool {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	_, ok := rv.seen[hashKey(key)]
	return ok
}

// Reset forgets every key, the recorded events and requests, and zeroes
// the counters. Faults stay as they are.
func (rv *Receiver) Reset() {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.seen = make(map[keyHash]struct{})
	rv.stats = Stats{}
	rv.events, rv.requests = nil, nil
}

// handleStats serves GET /stats.
func (rv *Receiver) handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, rv.Stats())
}

// handleEvents serves POST /v1/events. Faults that model the network or a
// load balancer (latency, outage, 5xx, 429) come before authentication, as
// they would in front of a real service; faults that model the API itself
// come after the body is authenticated and parsed.
func (rv *Receiver) handleEvents(w http.ResponseWriter, r *http.Request) {
	info := Request{BatchID: r.Header.Get(pulse.HeaderBatchID), Attempt: r.Header.Get(pulse.HeaderAttempt)}
	f, d := rv.roll()
	rv.count(func(st *Stats) { st.Requests++ })

	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			info.Fault = FaultClientGone
			rv.done(r, info)
			return
		case <-rv.closed:
			t.Stop()
		}
	}

	switch {
	case f.Unauthorized:
		rv.fail(w, r, &info, FaultUnauthorized, errorf(http.StatusUnauthorized, "unauthorized", "API key rejected (fault injected)"))
		return
	case f.outageAt(rv.now()):
		rv.setRetryAfter(w, f)
		rv.fail(w, r, &info, FaultOutage, errorf(http.StatusServiceUnavailable, "unavailable", "Pulse is down for maintenance (fault injected)"))
		return
	case d.serverError:
		rv.fail(w, r, &info, FaultError, errorf(d.errorStatus, "unavailable", "%s (fault injected)", http.StatusText(d.errorStatus)))
		return
	case d.tooMany:
		rv.setRetryAfter(w, f)
		rv.fail(w, r, &info, FaultTooMany, errorf(http.StatusTooManyRequests, "rate_limited", "too many requests (fault injected)"))
		return
	}

	if !rv.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pulse"`)
		rv.fail(w, r, &info, "", errorf(http.StatusUnauthorized, "unauthorized", "missing or wrong API key in Authorization: Bearer"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		rv.fail(w, r, &info, "", errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rv.maxBody))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			rv.fail(w, r, &info, "", errorf(http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds %d bytes", maxErr.Limit))
			return
		}
		rv.fail(w, r, &info, "", badRequest("reading the body: %v", err))
		return
	}
	if err := rv.signer.Verify(r.Header.Get(pulse.HeaderTimestamp), r.Header.Get(pulse.HeaderSignature), body); err != nil {
		code := "bad_signature"
		if errors.Is(err, pulse.ErrStaleTimestamp) {
			code = "stale_timestamp"
		}
		rv.fail(w, r, &info, "", errorf(http.StatusUnauthorized, code, "%s", strings.TrimPrefix(err.Error(), "pulse: ")))
		return
	}
	if e := checkBatchHeaders(r.Header); e != nil {
		rv.fail(w, r, &info, "", e)
		return
	}
	events, e := parseBatch(body)
	if e != nil {
		rv.fail(w, r, &info, "", e)
		return
	}
	info.Events = len(events)

	switch {
	case f.MaxEvents > 0 && len(events) > f.MaxEvents:
		rv.fail(w, r, &info, FaultTooLarge, errorf(http.StatusRequestEntityTooLarge, "too_many_events", "a batch holds at most %d events (fault injected)", f.MaxEvents))
		return
	case f.RejectAll400:
		rv.fail(w, r, &info, FaultRejectAll, badRequest("batch rejected (fault injected)"))
		return
	case f.BadBatchPattern != nil:
		if i := matchIndex(events, f.BadBatchPattern); i >= 0 {
			rv.fail(w, r, &info, FaultBadBatch, badRequest("event %d (%s) is malformed (fault injected)", i, events[i].IdempotencyKey))
			return
		}
	}

	switch {
	case d.timeout:
		info.Fault = FaultTimeout
	case d.drop:
		info.Fault = FaultDrop
	default:
		info.Status = http.StatusOK
	}
	results := rv.record(events, f, info)
	rv.report(r, info)

	switch info.Fault {
	case FaultTimeout:
		// Hang until the client gives up; the events stay recorded, as
		// when a real server commits but its answer is lost.
		select {
		case <-r.Context().Done():
			return
		case <-rv.closed:
			panic(http.ErrAbortHandler)
		}
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2 or a wrapped writer: abort the stream instead
	}
	writeJSON(w, http.StatusOK, pulse.WireResponse{Results: results})
}

// fail answers e and reports the request.
func (rv *Receiver) fail(w http.ResponseWriter, r *http.Request, info *Request, fault string, e *apiError) {
	info.Status = e.status
	info.Fault = fault
	if info.Status == http.StatusUnauthorized {
		rv.count(func(st *Stats) { st.Unauthorized++ })
		if fault == "" {
			rv.logger.WarnContext(r.Context(), "pulse receiver: unauthenticated request", "remote", r.RemoteAddr, "err", e)
		}
	}
	rv.done(r, *info)
	writeError(w, e)
}

// done keeps and reports a request whose batch was not recorded.
func (rv *Receiver) done(r *http.Request, info Request) {
	rv.mu.Lock()
	rv.keepRequest(info)
	rv.mu.Unlock()
	rv.report(r, info)
}

// keepRequest counts a faulted request and keeps it for Requests, up to
// MaxRecorded. rv.mu must be held.
func (rv *Receiver) keepRequest(info Request) {
	if info.Fault != "" {
		rv.stats.Faulted++
	}
	if len(rv.requests) < rv.keep {
		rv.requests = append(rv.requests, info)
	}
}

// report logs a request and calls OnRequest.
func (rv *Receiver) report(r *http.Request, info Request) {
	rv.logger.DebugContext(r.Context(), "pulse receiver: request",
		"batch_id", info.BatchID, "attempt", info.Attempt, "events", info.Events, "status", info.Status, "fault", info.Fault)
	if rv.onRequest != nil {
		rv.onRequest(info)
	}
}

func (rv *Receiver) count(f func(*Stats)) {
	rv.mu.Lock()
	f(&rv.stats)
	rv.mu.Unlock()
}

// authorized compares the Authorization header with the API key in constant
// time (only the key's length can leak). The scheme is case-insensitive.
func (rv *Receiver) authorized(header string) bool {
	const scheme = "bearer "
	if len(header) < len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(header[len(scheme):]), rv.apiKey) == 1
}

// record dedupes events, keeps the accepted ones and the request info that
// carried them (up to MaxRecorded) and returns their results, in order. The
// request is kept under the same lock as its events, so that once
// WaitForEvents sees the events, Requests shows their request too. A key seen before is a duplicate even
// when it matches RejectPattern: it was valid when accepted. A rejected key
// is not remembered, so a later event with the same key is judged afresh.
func (rv *Receiver) record(events []pulse.WireEvent, f Faults, info Request) []pulse.WireResult {
	rejected := make([]bool, len(events))
	if f.RejectPattern != nil {
		for i, e := range events {
			rejected[i] = matches(e, f.RejectPattern)
		}
	}
	keys := make([]keyHash, len(events))
	for i, e := range events {
		keys[i] = hashKey(e.IdempotencyKey)
	}
	results := make([]pulse.WireResult, len(events))
	kept := false

	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.keepRequest(info)
	rv.stats.Batches++
	rv.stats.Received += int64(len(events))
	for i, e := range events {
		results[i].IdempotencyKey = e.IdempotencyKey
		switch _, seen := rv.seen[keys[i]]; {
		case seen:
			results[i].Status = pulse.ResultDuplicate
			rv.stats.Duplicates++
		case rejected[i]:
			results[i].Status = pulse.ResultRejected
			results[i].Error = fmt.Sprintf("event matches the reject pattern %q", f.RejectPattern.String())
			rv.stats.Rejected++
		default:
			results[i].Status = pulse.ResultAccepted
			rv.seen[keys[i]] = struct{}{}
			if len(rv.events) < rv.keep {
				rv.events = append(rv.events, e)
				kept = true
			}
		}
	}
	if kept {
		close(rv.arrived) // wakes WaitForEvents
		rv.arrived = make(chan struct{})
	}
	return results
}

// checkBatchHeaders requires the protocol's X-Pulse-Batch-Id (a UUID) and
// X-Pulse-Attempt (a positive integer): a reference receiver should make a
// sender's protocol mistake loud.
func checkBatchHeaders(h http.Header) *apiError {
	if id := h.Get(pulse.HeaderBatchID); !isUUID(id) {
		return badRequest("%s must be a UUID", pulse.HeaderBatchID)
	}
	if n, err := strconv.Atoi(h.Get(pulse.HeaderAttempt)); err != nil || n < 1 {
		return badRequest("%s must be a positive integer", pulse.HeaderAttempt)
	}
	return nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// parseBatch decodes and checks a body; its errors are 400 answers naming
// the first bad event, so a splitting sender can find it.
func parseBatch(body []byte) ([]pulse.WireEvent, *apiError) {
	var batch struct {
		Events *[]pulse.WireEvent `json:"events"`
	}
	if err := json.Unmarshal(body, &batch); err != nil {
		return nil, badRequest("malformed JSON: %v", err)
	}
	if batch.Events == nil {
		return nil, badRequest(`body must be {"events": [...]}`)
	}
	events := *batch.Events
	for i, e := range events {
		switch {
		case e.IdempotencyKey == "":
			return nil, badRequest("event %d: idempotency_key is missing", i)
		case len(e.IdempotencyKey) > MaxIdempotencyKeyLen:
			return nil, badRequest("event %d: idempotency_key is longer than %d bytes", i, MaxIdempotencyKeyLen)
		case e.Event == "":
			return nil, badRequest("event %d (%s): event is missing", i, e.IdempotencyKey)
		case len(e.Payload) > 0 && e.Payload[0] != '{' && string(e.Payload) != "null":
			return nil, badRequest("event %d (%s): payload must be a JSON object", i, e.IdempotencyKey)
		}
	}
	return events, nil
}
