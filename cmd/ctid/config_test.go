package main

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// Item 9 and the new settings: configuration refuses unsafe values.
func TestConfigDefaultsAreSafe(t *testing.T) {
	load := func(env map[string]string, args ...string) (config, error) {
		for _, k := range []string{"CTID_ARI_URL", "CTID_ARI_PASSWORD", "CTID_LISTEN", "CTID_DIALPLAN_SECRET", "CTID_TRUSTED_PROXIES", "CTID_DOUBLE"} {
			t.Setenv(k, env[k]) // restored after the test
			if _, ok := env[k]; !ok {
				os.Unsetenv(k)
			}
		}
		return loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), args)
	}
	if _, err := load(map[string]string{"CTID_ARI_URL": "http://127.0.0.1:8088"}); err == nil || !strings.Contains(err.Error(), "CTID_ARI_PASSWORD") {
		t.Errorf("ARI URL without a password: %v", err)
	}
	c, err := load(map[string]string{"CTID_ARI_URL": "http://127.0.0.1:8088", "CTID_ARI_PASSWORD": "s3cret-ari-pass"})
	if err != nil || c.Listen != ":8080" {
		t.Errorf("real Asterisk: %v, listen %q", err, c.Listen)
	}
	if c, err := load(nil); err != nil || c.Listen != "127.0.0.1:8080" || !c.Double {
		t.Errorf("demo mode: %v, listen %q", err, c.Listen)
	}
	if c, err := load(nil, "-listen", ":9000"); err != nil || c.Listen != ":9000" {
		t.Errorf("demo mode with -listen: %v, listen %q", err, c.Listen)
	}
	if _, err := load(map[string]string{"CTID_DIALPLAN_SECRET": "short"}); err == nil {
		t.Error("a 5-character dialplan secret was accepted")
	}
	if _, err := load(map[string]string{"CTID_TRUSTED_PROXIES": "10.0.0.0/33"}); err == nil {
		t.Error("a bad trusted proxy range was accepted")
	}
	if c, err := load(map[string]string{"CTID_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}); err != nil || len(c.TrustedProxies) != 2 {
		t.Errorf("trusted proxies: %v %v", err, c.TrustedProxies)
	}
}
