package main

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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

// The secret box: a short CTID_SECRET_KEY is refused; the throwaway
// cluster keeps a generated key beside itself (0600) and reuses it; with a
// DSN and no key there is no box.
func TestSecretBoxConfig(t *testing.T) {
	t.Setenv("CTID_SECRET_KEY", "short")
	if _, err := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil); err == nil || !strings.Contains(err.Error(), "CTID_SECRET_KEY") {
		t.Errorf("a short key: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	b1, err := secretBox(config{DataDir: dir}, log)
	if err != nil || b1 == nil {
		t.Fatalf("throwaway cluster: %v %v", b1, err)
	}
	st, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v %v", st, err)
	}
	sealed, _ := b1.Seal("p", "sk_test_x")
	b2, _ := secretBox(config{DataDir: dir}, log)
	if v, err := b2.Open("p", sealed); err != nil || v != "sk_test_x" {
		t.Fatalf("after a restart on the same directory: %q %v", v, err)
	}
	if b, err := secretBox(config{DataDir: dir, DSN: "postgres://x"}, log); err != nil || b != nil {
		t.Fatalf("a DSN and no key: %v %v", b, err)
	}
	if b, err := secretBox(config{DSN: "postgres://x", SecretKey: strings.Repeat("k", 32)}, log); err != nil || b == nil {
		t.Fatalf("a configured key: %v %v", b, err)
	}
}
