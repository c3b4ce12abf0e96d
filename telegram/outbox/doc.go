// Package outbox is the durable message outbox of a shop's bot: every
// message the shop sends to Telegram (a new-order notice to the owner chat
// or to the buyer, a broadcast, the admin's message to one customer, the
// bot's answer to /start) is first a row in a table, then sent in the
// background at Telegram's pace. Nothing queued is lost, two replicas never
// send one message twice, and Telegram's limits are never exceeded.
//
//	o, err := outbox.New(db, outbox.Config{Bot: client, Customers: customers})
//	if err != nil { ... }
//	if err := o.Start(ctx); err != nil { ... }
//	defer o.Stop(shutdownCtx)
//
//	// Inside the order's transaction: queued if and only if the order is.
//	_, _, err = o.EnqueueTx(ctx, tx, outbox.Message{Kind: outbox.KindOrderOwner,
//		IdempotencyKey: "order:" + orderID + ":owner", ChatID: ownerChat,
//		Text: "<b>New order</b> from " + botapi.EscapeHTML(name), ParseMode: botapi.ParseModeHTML})
//	// … commit, then o.Wake().
//
// # Queueing
//
// Enqueue and EnqueueTx store a message with an idempotency key
// ("order:{id}:owner", "broadcast:{id}:{customer}"): a second message with
// the same key is not stored again. A broadcast (CreateBroadcast, then
// StartBroadcast) picks its recipients with the customers list's filters,
// only customers who can be messaged, and is queued in chunks by the sender
// itself, each chunk in one transaction with the broadcast's cursor, so a
// restart resumes after the last chunk and never queues one twice.
// PauseBroadcast and CancelBroadcast hold back or cancel every message not
// in a sender's hands yet; a message a sender had claimed and hands back
// afterwards (it stopped, or missed its slot) takes its broadcast's status
// too. A broadcast's text must be valid in Telegram's HTML style
// (botapi.CheckHTML), or it is refused with ErrTextHTML before anything is
// stored.
//
// # Claiming and leasing
//
// The sender claims messages the way the Pulse event outbox claims events,
// through one shared mechanism (a lease per claim, FOR UPDATE SKIP LOCKED on
// MySQL and MariaDB, an optimistic claim on SQLite, claims retried after a
// deadlock or a Galera certification conflict, and on a Galera cluster a
// settle before anything is sent): a claimed message belongs to its sender
// until its lease expires, and every outcome is recorded only while the
// lease is still that sender's. Several processes on one MySQL or MariaDB
// database, or one per node of a Galera cluster, share the queue. The
// sender checks its claim of each message just before the call to Telegram:
// erasing a customer (EraseCustomerTx) cancels the messages to them that a
// sender holds as well as the queued ones, and only a call already under way
// can still reach them.
//
// # Pacing
//
// Paced claims are serialized by one row of the pace table, which holds the
// next free slot, and each chat's not-before time is kept beside it, so the
// limits hold across every process sharing the database: GlobalRate
// messages a second in all (29 by default, for Telegram's 30), one a second
// to a private chat, one every 3 seconds to a group (Telegram's 20 a
// minute). A claim takes at most the coming second's slots and one message
// per chat; a message whose slot passed while the process stalled goes back
// for a new slot rather than bunch up, and each process also holds its own
// sends to at most GlobalRate+1 (rounded down) in any second, which a send
// late within SlotTolerance would otherwise exceed. A 429's retry_after keeps the chat's
// messages back that long, also after a restart, without counting an
// attempt. A 403 marks the customer blocked and fails the message at once;
// another 4xx fails it with Telegram's description; a group that became a
// supergroup (migrate_to_chat_id) has its queue re-targeted to the new id
// (Config.OnChatMigrated tells the host); 5xx and network errors are
// retried with backoff until MaxAttempts or MaxAge.
//
// # When a message can repeat
//
// Telegram's sendMessage has no idempotency key. The sender sends the
// messages of a claim one at a time and records each outcome before sending
// the next, so the only window in which a message can be sent twice is
// between Telegram's answer and the commit of its record: a process killed
// there leaves that one message claimed, and it is sent again when its lease
// expires. A crash repeats at most one message per sending process; nothing
// else is ever sent twice. A 5xx or a network error may also mean that
// Telegram delivered the message after all: the retry then repeats it.
package outbox
