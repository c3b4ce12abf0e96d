package outbox

// SetAfterRecipientsForTest makes f run between a broadcast chunk's read of
// its recipients and its transaction, where an erasure can fall.
func SetAfterRecipientsForTest(o *Outbox, f func()) { o.afterRecipients = f }
