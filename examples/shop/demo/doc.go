// Package demo is the demo host's own shop: the product catalog, order book
// and customer directory that a real shop would already have before it
// wires in TeleCart. The demo server (examples/shop) hands them to the
// TeleCart plugin as its telecart.Catalog, telecart.OrderPlacer and
// telecart.CustomerDirectory, which shows what a host implements.
//
// Catalog keeps 36 coffee, tea and grocery products (ids "p1" … "p36",
// prices in kopecks) in memory, and links generated images served by
// ImagesHandler at the size the storefront asks for. Orders and Customers
// live in the demo's own tables, created by MigrationSource; Orders writes
// only through the transaction TeleCart hands it, so an order exists if and
// only if TeleCart's records of it do.
//
//	db := migrator.DB{DB: sqlDB, Dialect: migrator.SQLite, Prefix: "telecart_"}
//	// run MigrationSource() together with TeleCart's own sources, then:
//	catalog := demo.NewCatalog("")
//	orders := demo.NewOrders(db, time.Now)
//	customers := demo.NewCustomers(db)
//	mux.Handle(demo.ImagesPath, demo.ImagesHandler())
//
// Tests use Orders.FailNext to make a host write fail and Orders.List and
// Orders.Get to see what was written.
package demo
