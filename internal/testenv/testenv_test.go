package testenv

import "testing"

// Ensure only listed features are required, whatever the list's order.
func TestRequired(t *testing.T) {
	t.Setenv(RequireVar, "chrome,galera,mysql")
	if !Required("mysql") || !Required("chrome") || !Required("galera") || Required("postgres") || Required("") {
		t.Fatal("Required misreads TELECART_TEST_REQUIRE=chrome,galera,mysql")
	}
	t.Setenv(RequireVar, "")
	if Required("mysql") {
		t.Fatal("an empty list requires mysql")
	}
}

// Ensure Lookup returns a set variable.
func TestLookup(t *testing.T) {
	t.Setenv("TELECART_TEST_SOMETHING", "x")
	if got := Lookup(t, "TELECART_TEST_SOMETHING", "something", ""); got != "x" {
		t.Fatalf("Lookup = %q", got)
	}
}
