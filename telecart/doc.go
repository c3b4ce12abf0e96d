// Package telecart is the plugin a Go shop server wires in to become a
// Telegram Mini App shop: it composes the telegram, pulse and forms packages,
// runs their migrations in one order, and serves the storefront API, the
// admin API, the embedded admin panel and the Mini App storefront page.
//
// A host hands New its database, its catalog (Catalog), a way to create
// orders in its own tables (OrderPlacer) and its own admin authentication,
// then mounts the routes wherever it likes:
//
//	tc, err := telecart.New(telecart.Config{
//		DB:        db,              // migrator.DB from dbopen, migrator/sqlite or migrator/mysql
//		Catalog:   catalog,         // the host's products
//		Orders:    placer,          // writes the host's order through the tx it is handed
//		AdminAuth: hostAdminLogin,  // func(http.Handler) http.Handler, or telecart.BearerAuth(token)
//		BotToken:  botToken,
//	})
//	if err != nil { … }
//	if err := tc.Start(ctx); err != nil { … } // migrates, starts the Pulse sender and the scheduler
//	defer tc.Stop(ctx)
//
//	tc.RegisterServeMux(mux, "/telecart")                      // http.ServeMux, or
//	tc.RegisterRoutes(router.PathPrefix("/telecart").Subrouter()) // gorilla/mux
//
// TeleCart registers one route per path and method and no catch-all, so the
// host's own /api/… and /admin/… routes beside it keep working. The admin
// page asks GET admin/api/me first: behind the host's own login it opens at
// once, and it shows a token sign-in only where AdminAuth asks for a bearer
// token (BearerAuth does).
//
// Errors a host acts on are *tcerr.Error values matched with errors.Is:
// ErrOutOfStock, ErrUnknownProduct, ErrFormInvalid and the other order
// errors of this package; tcerr.KindOf tells the kind of any error.
//
// A host observes what happens without polling through Hooks (in Config,
// or added later with AddHooks): each order after it committed, every
// Pulse batch's outcome and the sender's pauses, ingest results, rejected
// init data and every request's duration by route group. Hooks run on the
// goroutine that did the work and must return quickly. The subpackage
// telecart/metrics turns them into Prometheus metrics; hosts that do not
// import it do not compile Prometheus.
package telecart
