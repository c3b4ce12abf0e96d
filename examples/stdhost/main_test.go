package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Ensure every flag falls back to its variable and then its default, and
// the flag wins over the variable.
func TestParseFlags(t *testing.T) {
	env := map[string]string{"STDHOST_DB": "mysql:root@tcp(127.0.0.1:3306)/shop", "STDHOST_ADMIN_PASSWORD": "from-env",
		"STDHOST_ADMIN_USER": "boss", "STDHOST_PULSE_URL": "http://pulse.invalid"}
	o, err := parseFlags([]string{"-addr", ":1", "-admin-user", "owner"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != ":1" || o.host.DB != env["STDHOST_DB"] || o.host.AdminUser != "owner" ||
		o.host.AdminPassword != "from-env" || o.host.PulseURL != "http://pulse.invalid" {
		t.Fatalf("options %+v", o)
	}
	def, err := parseFlags(nil, func(string) string { return "" })
	if err != nil || def.addr != AddrDefault || def.host.DB != DBDefault || def.host.AdminUser != "admin" || def.host.AdminPassword != "" {
		t.Fatalf("defaults %+v, %v", def, err)
	}
	for _, bad := range [][]string{{"-nope"}, {"serve"}} {
		if _, err := parseFlags(bad, func(string) string { return "" }); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

// Ensure -h prints the usage and a bad flag exits 2 with it.
func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "-admin-password") {
		t.Errorf("-h: exit %d, output %q", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"-nope"}, func(string) string { return "" }, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "usage: stdhost") {
		t.Errorf("-nope: exit %d, stderr %q", code, errOut.String())
	}
}
