// Package testenv decides whether tests that need an outside service
// (MariaDB, a MariaDB Galera cluster, Chromium) run, skip, or fail: they
// skip only when their variable is unset, and TELECART_TEST_REQUIRE (a
// comma-separated list such as "mysql,chrome,galera") turns that skip into
// a failure, so CI never skips them.
package testenv

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// RequireVar is the variable listing features that must not be skipped.
const RequireVar = "TELECART_TEST_REQUIRE"

// Required reports whether feature is listed in TELECART_TEST_REQUIRE.
func Required(feature string) bool {
	return slices.Contains(strings.Split(os.Getenv(RequireVar), ","), feature)
}

// Lookup returns the value of the environment variable name, or skips the
// test with how-to-enable advice when it is unset (failing instead when
// feature is required).
func Lookup(tb testing.TB, name, feature, advice string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if Required(feature) {
		tb.Fatalf("%s is unset but %s=%s requires %s tests: %s", name, RequireVar, os.Getenv(RequireVar), feature, advice)
	}
	tb.Skipf("%s tests skipped: %s is unset. %s", feature, name, advice)
	return ""
}
