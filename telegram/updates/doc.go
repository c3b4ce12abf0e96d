// Package updates is the intake of a shop bot's Telegram updates: the
// webhook (POST /telegram/webhook) and long polling (getUpdates) store each
// update once, and a background worker handles it once, across every
// replica sharing the database.
//
//	in, err := updates.New(updates.Config{
//		DB: db, Client: client, Customers: customers, Greeter: shop,
//		AppURL: publicURL + "/app/", WebhookSecret: secret,
//		Mode: updates.ModePoll, // or ModeWebhook with WebhookURL
//	})
//	if err != nil { ... }
//	in.RegisterRoutes(router) // the webhook route, in every mode
//	if err := in.Start(ctx); err != nil { ... }
//	defer in.Stop(shutdownCtx)
//
// # What it handles
//
// /start [start_param] in a private chat saves the customer from the
// message's sender, records the campaign when the start parameter is a
// validly signed campaign link (Config.Campaigns), and answers with the
// greeting (Config.Greeter) and an inline web_app button that opens the
// storefront (Config.AppURL). /chatid tells a chat its id, in the form the
// owner chat setting takes. my_chat_member marks the customer blocked when
// they block the bot (kicked) and reachable again when they restart it
// (member). Other updates are stored and ignored.
//
// # Once, and never lost
//
// The webhook checks the secret token in constant time (401 otherwise),
// answers 400 for a body that is not an update and never 500, and answers
// 200 once the update is stored, before it is handled, so that Telegram
// never waits on the shop. Polling stores a batch before confirming it with
// the next offset: a crash in between makes Telegram send the batch again.
// Either way the update's id is the row's key, so a repeat is a no-op.
//
// The worker handles a stored update in one transaction that also marks it
// done; a second worker (another replica) finds it done and does nothing. A
// Replier that implements TxReplier (the shop's message outbox) queues the
// answers in that same transaction: an answer is queued if and only if its
// update is marked handled, and then goes out as any outbox message does
// (see package outbox for when one can repeat). Without it, answers are
// sent through the Bot API after the commit, and a crash in between loses
// them. A handling that fails is tried again with backoff up to
// MaxAttempts, then marked failed. Prune deletes handled ids after
// RetentionDefault, longer than Telegram ever repeats an update.
package updates
