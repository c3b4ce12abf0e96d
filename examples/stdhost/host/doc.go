// Package host is a small shop server on the standard library alone
// (net/http and http.ServeMux, no router package), wired with TeleCart the
// way a shop that already exists would wire it. It demonstrates:
//
//   - the shop's own routes beside TeleCart's on one http.ServeMux: GET
//     /api/ping, its own admin page at /admin/ and its own cookie-session
//     login at /admin/login, while TeleCart is mounted under /telecart/ with
//     tc.RegisterServeMux(mux, "/telecart") and answers only for its own
//     paths there;
//   - the shop's own login guarding TeleCart's admin: Sessions.AdminAuth is
//     telecart.Config.AdminAuth and answers 401 without a Bearer challenge,
//     so TeleCart's panel at /telecart/admin/ opens straight after the
//     shop's login and never asks for a token;
//   - the shop's own tables (products, orders, order_items), created by a
//     migrator.Source of its own in telecart.Config.ExtraMigrations on SQLite
//     and MySQL/MariaDB, with a telecart.Catalog over products and a
//     telecart.OrderPlacer that writes the order, its items and the stock
//     through the transaction TeleCart hands it, so the shop's order, TeleCart's
//     order meta and the ORDER_CREATED Pulse event are stored together or not
//     at all.
//
// The command in the parent folder parses flags and serves a Host:
//
//	h, err := host.New(ctx, host.Config{DB: "sqlite:shop.db", AdminUser: "admin", AdminPassword: pw})
//	if err := h.Start(ctx); err != nil { … } // migrates TeleCart's tables and the shop's
//	http.ListenAndServe(addr, h.Handler())
package host
