package migrator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/sqlite"
)

// shopMigrations stands for a host's own migrations. A real host embeds a
// folder laid out the same way:
//
//	//go:embed migrations
//	var migrations embed.FS
//
//	migrator.Source{Name: "shop", FS: migrations}
//
// with migrations/sqlite/*.sql (and migrations/mysql/*.sql, under the same
// file names, when the shop also runs on MySQL/MariaDB).
func shopMigrations(files map[string]string) migrator.Source {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys["migrations/sqlite/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	return migrator.Source{Name: "shop", FS: fsys}
}

// Run a host's own migrations on an SQLite file: {prefix} in the SQL becomes
// the configured table prefix, and a second Up finds nothing to do.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "migrator-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "shop.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	m, err := migrator.New(db, migrator.Config{
		Dialect: sqlite.Dialect,
		Prefix:  "shop_",
		Sources: []migrator.Source{shopMigrations(map[string]string{
			"20261201000001_wishlists.sql": `
CREATE TABLE {prefix}wishlists (
	id INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL
);`,
			"20261201000002_wishlist_items.sql": `
CREATE TABLE {prefix}wishlist_items (
	wishlist_id INTEGER NOT NULL REFERENCES {prefix}wishlists (id),
	product_id TEXT NOT NULL,
	PRIMARY KEY (wishlist_id, product_id)
);
CREATE INDEX {prefix}wishlist_items_product ON {prefix}wishlist_items (product_id);`,
		})},
	})
	if err != nil {
		panic(err)
	}

	applied, err := m.Up(ctx)
	if err != nil {
		panic(err)
	}
	for _, name := range applied {
		fmt.Println("applied", name)
	}
	applied, err = m.Up(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("applied on the second run:", len(applied))

	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		panic(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			panic(err)
		}
		fmt.Println("table", name)
	}
	if err := rows.Err(); err != nil {
		panic(err)
	}
	// Output:
	// applied shop/20261201000001_wishlists.sql
	// applied shop/20261201000002_wishlist_items.sql
	// applied on the second run: 0
	// table shop_migrations
	// table shop_wishlist_items
	// table shop_wishlists
}

// A later release of the host adds a migration: Status shows it pending
// until Up applies it, in a batch of its own.
func ExampleMigrator_Status() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()

	files := map[string]string{
		"20261201000001_wishlists.sql": `CREATE TABLE {prefix}wishlists (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL);`,
	}
	run := func() *migrator.Migrator {
		m, err := migrator.New(db, migrator.Config{
			Dialect: sqlite.Dialect,
			Sources: []migrator.Source{shopMigrations(files)},
		})
		if err != nil {
			panic(err)
		}
		if _, err := m.Up(ctx); err != nil {
			panic(err)
		}
		return m
	}
	show := func(m *migrator.Migrator) {
		status, err := m.Status(ctx)
		if err != nil {
			panic(err)
		}
		for _, s := range status {
			fmt.Printf("%-45s %-8s batch %d, %d of %d statements\n",
				s.Name, s.State, s.Batch, s.StatementsApplied, s.StatementsTotal)
		}
	}

	run() // the first release

	files["20261215000001_wishlist_names.sql"] = `
ALTER TABLE {prefix}wishlists ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE INDEX {prefix}wishlists_customer ON {prefix}wishlists (customer_id);`
	m, err := migrator.New(db, migrator.Config{
		Dialect: sqlite.Dialect,
		Sources: []migrator.Source{shopMigrations(files)},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("before Up:")
	show(m)

	fmt.Println("after Up:")
	show(run())
	// Output:
	// before Up:
	// shop/20261201000001_wishlists.sql             applied  batch 1, 1 of 1 statements
	// shop/20261215000001_wishlist_names.sql        pending  batch 0, 0 of 2 statements
	// after Up:
	// shop/20261201000001_wishlists.sql             applied  batch 1, 1 of 1 statements
	// shop/20261215000001_wishlist_names.sql        applied  batch 2, 2 of 2 statements
}
