// Package botapitest is a fake Telegram Bot API server for tests: the
// library's own and a host's. It answers the calls package botapi makes
// (getMe, sendMessage, setWebhook, deleteWebhook, getWebhookInfo,
// getUpdates with queued updates and long polling, setChatMenuButton),
// records every call with its method, parsed parameters and time, and
// lets a test script Telegram's failures per call or per chat. Like
// Telegram, it refuses a sendMessage whose text is not valid in its
// parse_mode HTML with 400 "Bad Request: can't parse entities: …" (see
// botapi.CheckHTML).
//
//	srv := botapitest.NewServer(t, botapitest.Config{})
//	c, _ := botapi.New(botapi.Config{Token: srv.Token, BaseURL: srv.URL})
//	srv.FailChat(42, botapitest.Blocked())          // 403 to chat 42, once
//	srv.FailNext("sendMessage", botapitest.TooManyRequests(3*time.Second))
//	// … run the code under test, then:
//	sent := srv.Sent() // the messages Telegram accepted, with their times
//
// Faults scripted with FailNext and FailChat answer Times calls (once by
// default, every call with Times -1), in the order they were added; a
// FaultFunc set with SetFaultFunc is asked first and may answer any call.
package botapitest
