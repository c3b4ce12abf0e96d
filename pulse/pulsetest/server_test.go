package pulsetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// post sends evs to srv signed with its credentials and returns the status.
func post(tb testing.TB, srv *pulsetest.Server, evs ...pulse.WireEvent) (int, error) {
	tb.Helper()
	body := mustMarshal(tb, evs)
	signer, err := pulse.NewPayloadSigner(pulse.SignerConfig{Secret: srv.Secret})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.APIKey)
	req.Header.Set(pulse.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(pulse.HeaderSignature, signer.Sign(ts, body))
	req.Header.Set(pulse.HeaderBatchID, testBatchID)
	req.Header.Set(pulse.HeaderAttempt, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestNewServer(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// Ensure empty credentials are filled with random ones that the
		// server accepts, different for each server.
		a := pulsetest.NewServer(t, pulsetest.Config{})
		b := pulsetest.NewServer(t, pulsetest.Config{})
		if a.APIKey == "" || a.Secret == "" || a.APIKey == b.APIKey || a.Secret == b.Secret {
			t.Fatalf("credentials %q/%q and %q/%q, want random and distinct", a.APIKey, a.Secret, b.APIKey, b.Secret)
		}
		if !strings.HasPrefix(a.URL, "http://127.0.0.1:") {
			t.Errorf("URL = %q", a.URL)
		}
		if status, err := post(t, a, event("a")); err != nil || status != http.StatusOK {
			t.Fatalf("POST = %d, %v; want 200", status, err)
		}
		if got := keysOf(a.Events()); got != "a" {
			t.Fatalf("Events = %s, want a", got)
		}
	})

	t.Run("OKGivenCredentials", func(t *testing.T) {
		srv := pulsetest.NewServer(t, pulsetest.Config{APIKey: "k", Secret: "s"})
		if srv.APIKey != "k" || srv.Secret != "s" {
			t.Fatalf("credentials %q/%q, want k/s", srv.APIKey, srv.Secret)
		}
		if status, err := post(t, srv, event("a")); err != nil || status != http.StatusOK {
			t.Fatalf("POST = %d, %v; want 200", status, err)
		}
	})

	t.Run("Close", func(t *testing.T) {
		// Ensure Close takes the API away, even with a request hanging on
		// the timeout fault, and may be called again (the cleanup does).
		srv := pulsetest.NewServer(t, pulsetest.Config{})
		MustSetFaults(t, srv.Receiver, pulsetest.Faults{TimeoutRate: 1})
		errc := make(chan error, 1)
		go func() {
			_, err := post(t, srv, event("a"))
			errc <- err
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := srv.WaitForEvents(ctx, 1); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if err := <-errc; err == nil {
			t.Fatal("the hanging request got an answer, want an aborted connection")
		}
		if _, err := post(t, srv, event("b")); err == nil {
			t.Fatal("a request after Close got an answer")
		}
		srv.Close()
	})

	t.Run("ErrConfig", func(t *testing.T) {
		// Ensure a bad Config fails the test, naming the field.
		tb := &exampleTB{}
		defer tb.cleanup()
		msg := func() (msg any) {
			defer func() { msg = recover() }()
			pulsetest.NewServer(tb, pulsetest.Config{MaxBody: -1})
			return nil
		}()
		if msg == nil || !strings.Contains(fmt.Sprint(msg), "MaxBody") {
			t.Fatalf("NewServer failed with %v, want a message naming MaxBody", msg)
		}
	})
}

// Ensure the example's host test also holds with the sender under faults:
// every event tracked arrives once, whatever the 5xx and 429 answers.
func TestNewServerWithSender(t *testing.T) {
	tb, db := exampleSetup()
	defer tb.cleanup()
	ctx := context.Background()
	srv := pulsetest.NewServer(t, pulsetest.Config{Seed: 3})
	MustSetFaults(t, srv.Receiver, pulsetest.Faults{ErrorRate: 0.3, TooManyRate: 0.2})
	p, err := pulse.New(db, pulse.Config{URL: srv.URL, APIKey: srv.APIKey, Secret: srv.Secret,
		RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(ctx)
	const n = 20
	for i := range n {
		_, err := p.Track(ctx, pulse.Event{Name: pulse.EventProductView, IdempotencyKey: fmt.Sprintf("view-%02d", i),
			CampaignID: "spring24", TrackingID: "7f1c2b9e", Payload: map[string]any{"product_id": i}})
		if err != nil {
			t.Fatal(err)
		}
	}
	evs := srv.MustWaitForEvents(t, n, 30*time.Second)
	seen := map[string]bool{}
	for _, ev := range evs {
		var payload struct {
			ProductID int `json:"product_id"`
		}
		if err := json.Unmarshal(ev.Payload, &payload); err != nil || ev.IdempotencyKey != fmt.Sprintf("view-%02d", payload.ProductID) {
			t.Errorf("event %+v: payload does not match its key (%v)", ev, err)
		}
		seen[ev.IdempotencyKey] = true
	}
	if len(evs) != n || len(seen) != n {
		t.Fatalf("%d events, %d distinct, want %d", len(evs), len(seen), n)
	}
	var faulted int
	for _, r := range srv.Requests() {
		if r.Fault != "" {
			faulted++
		}
	}
	if faulted == 0 {
		t.Error("no request met a fault")
	}
}
