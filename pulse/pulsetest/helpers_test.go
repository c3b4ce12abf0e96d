package pulsetest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/sqlite"
	"github.com/telecart-go/telecart/pulse"
)

// exampleTB stands in for the *testing.T of a real test, which an example
// does not get: Fatal panics, and the cleanups run at cleanup.
type exampleTB struct {
	testing.TB // nil: a method not defined below panics
	cleanups   []func()
}

func (t *exampleTB) Helper()                      {}
func (t *exampleTB) Cleanup(f func())             { t.cleanups = append(t.cleanups, f) }
func (t *exampleTB) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (t *exampleTB) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

func (t *exampleTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// exampleSetup gives an example a stand-in for its test's t and, as a
// host's test would have, a database migrated for pulse: in-memory SQLite.
func exampleSetup() (*exampleTB, migrator.DB) {
	t := &exampleTB{}
	ctx := context.Background()
	sqlDB, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	db := migrator.DB{DB: sqlDB, Dialect: migrator.SQLite, Prefix: migrator.PrefixDefault}
	m, err := migrator.New(sqlDB, migrator.Config{Dialect: db.Dialect, Sources: []migrator.Source{pulse.MigrationSource()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	return t, db
}
