package aritest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAsteriskStartsClean: asterisk-conf/ starts with no ERROR line and
// loads only the modules it lists (no autoload); a configuration that makes
// Asterisk log an ERROR while starting is refused by the harness.
func TestAsteriskStartsClean(t *testing.T) {
	a := StartAsterisk(t)
	out, err := a.CLI("module show like .so")
	if err != nil {
		t.Fatalf("module show: %v %s", err, out)
	}
	conf, _ := ConfDir()
	listed, _ := os.ReadFile(filepath.Join(conf, "modules.conf"))
	// Modules that open ports or that ctid has no use for must not load.
	for _, m := range []string{"chan_iax2.so", "app_queue.so", "app_voicemail.so", "res_phoneprov.so", "chan_unistim.so", "res_prometheus.so"} {
		if strings.Contains(out, m) {
			t.Errorf("%s is loaded; asterisk-conf/modules.conf does not list it", m)
		}
	}
	for _, m := range []string{"res_ari.so", "chan_pjsip.so", "res_http_media_cache.so", "func_curl.so", "app_amd.so", "bridge_softmix.so"} {
		if !strings.Contains(out, m) {
			t.Errorf("%s is not loaded (modules.conf lists it: %v)", m, strings.Contains(string(listed), m))
		}
	}

	// A broken configuration: app_queue declines to load without
	// queues.conf, which Asterisk reports as an ERROR.
	bad := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(conf, "*"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			continue // realtime/: rendered only on request
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "modules.conf" {
			b = append(b, "\nload = app_queue.so\n"...)
		}
		if err := os.WriteFile(filepath.Join(bad, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err = launchAsterisk(t, a.Install, bad)
	if err == nil || !strings.Contains(err.Error(), "ERROR line") || !strings.Contains(err.Error(), "app_queue") {
		t.Fatalf("a start-up ERROR should fail the harness, got: %.300v", err)
	}
}
