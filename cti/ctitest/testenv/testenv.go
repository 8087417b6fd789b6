// Package testenv finds the external programs some tests need besides Go
// and PostgreSQL: chromium for the browser tests and stripe-mock for the
// Stripe gateway test (Asterisk is found by aritest.FindAsterisk). The tests
// skip when a program is missing; `make test` prints the same findings first
// (cti/ctitest/testenv/cmd/testskips), because plain go test hides skip reasons.
package testenv

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ChromiumPath is where the browser tests expect Debian's chromium.
const ChromiumPath = "/usr/bin/chromium"

// Chromium returns the chromium binary for the browser tests
// (api/web/browsertest), or why there is none.
func Chromium() (string, error) {
	if _, err := os.Stat(ChromiumPath); err != nil {
		return "", errors.New("browser tests need Debian chromium at " + ChromiumPath + " (apt-get install -y chromium)")
	}
	return ChromiumPath, nil
}

// StripeMock locates the stripe-mock binary: $STRIPE_MOCK, then PATH, then
// $GOBIN and $GOPATH/bin (where `go install` puts it).
func StripeMock() (string, error) {
	if p := os.Getenv("STRIPE_MOCK"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "stripe-mock")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("stripe-mock not installed: go install github.com/stripe/stripe-mock@v0.203.0 (or set STRIPE_MOCK=/path/to/stripe-mock)")
}
