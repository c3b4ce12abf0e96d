package botapitest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	srv := botapitest.NewServer(t, botapitest.Config{})
	c, err := botapi.New(botapi.Config{Token: srv.Token, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	send := func(chat int64) error {
		_, err := c.SendMessage(ctx, botapi.SendMessageParams{ChatID: chat, Text: "hi"})
		return err
	}
	// Ensure faults answer in the order scripted, each its Times, and
	// only the calls they match.
	srv.FailChat(1, botapitest.Fault{Code: 403, Description: "Forbidden: bot was blocked by the user", Times: 2})
	srv.FailNext("sendMessage", botapitest.BadRequest("Bad Request: chat not found"))
	if err := send(1); !botapi.IsBlocked(err) {
		t.Errorf("1st to chat 1: %v", err)
	}
	if e, _ := botapi.AsError(send(2)); e == nil || e.Code != 400 {
		t.Errorf("chat 2: %v", e)
	}
	if err := send(1); !botapi.IsBlocked(err) {
		t.Errorf("2nd to chat 1: %v", err)
	}
	if err := send(1); err != nil {
		t.Errorf("3rd to chat 1: %v", err)
	}
	// Ensure a FaultFunc sees every call first.
	srv.SetFaultFunc(func(c botapitest.Call) *botapitest.Fault {
		if c.ChatID() == 3 {
			f := botapitest.ServerError(http.StatusInternalServerError)
			return &f
		}
		return nil
	})
	if e, _ := botapi.AsError(send(3)); e == nil || e.Code != 500 {
		t.Errorf("chat 3: %v", e)
	}
	if err := send(4); err != nil {
		t.Errorf("chat 4: %v", err)
	}
	// Ensure every call is recorded with its status and fault, and only
	// accepted messages are Sent.
	calls := srv.CallsTo("sendMessage")
	if len(calls) != 6 {
		t.Fatalf("%d calls, want 6", len(calls))
	}
	if calls[0].Status != 403 || calls[0].Fault == nil || calls[3].Status != 200 || calls[3].Fault != nil || calls[0].Time.IsZero() {
		t.Errorf("calls = %+v", calls)
	}
	sent := srv.Sent()
	if len(sent) != 2 || sent[0].Params.ChatID != 1 || sent[1].Params.ChatID != 4 || sent[1].MessageID != 2 {
		t.Errorf("sent = %+v", sent)
	}
}

func TestLongPollWakesOnClose(t *testing.T) {
	t.Parallel()
	srv := botapitest.Start(botapitest.Config{})
	c, err := botapi.New(botapi.Config{Token: srv.Token, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	// Ensure Close ends a waiting long poll at once rather than after its
	// timeout, and may be called twice.
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() { _, _ = c.GetUpdates(context.Background(), botapi.GetUpdatesParams{Timeout: 30 * time.Second}) })
	time.Sleep(100 * time.Millisecond)
	srv.Close()
	srv.Close()
	wg.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the long poll ended after %s", d)
	}
}

// Ensure the fake refuses, as Telegram does, a text that is not valid in
// parse_mode HTML, and takes the same text as plain text or escaped.
func TestSendMessage_HTML(t *testing.T) {
	t.Parallel()
	srv := botapitest.NewServer(t, botapitest.Config{})
	c, err := botapi.New(botapi.Config{Token: srv.Token, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const bad = "Sale <img src=x> today"
	_, err = c.SendMessage(ctx, botapi.SendMessageParams{ChatID: 5, Text: bad, ParseMode: botapi.ParseModeHTML})
	e, _ := botapi.AsError(err)
	if e == nil || e.Code != 400 || e.Description != "Bad Request: can't parse entities: unsupported tag <img> at character 6" {
		t.Errorf("invalid HTML: %v", err)
	}
	for _, p := range []botapi.SendMessageParams{
		{ChatID: 5, Text: bad},
		{ChatID: 5, Text: "<b>Sale</b> " + botapi.EscapeHTML(bad), ParseMode: botapi.ParseModeHTML},
	} {
		if _, err := c.SendMessage(ctx, p); err != nil {
			t.Errorf("SendMessage(%q, %q) = %v", p.Text, p.ParseMode, err)
		}
	}
	if sent := srv.Sent(); len(sent) != 2 {
		t.Errorf("%d messages accepted, want 2", len(sent))
	}
}
