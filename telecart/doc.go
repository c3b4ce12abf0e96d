// Package telecart is the plugin a Go shop server wires in to become a
// Telegram Mini App shop: it composes the telegram, pulse and forms packages,
// runs their migrations in one order, and serves the storefront API, the
// admin API, the embedded admin panel and the Mini App storefront page.
package telecart
