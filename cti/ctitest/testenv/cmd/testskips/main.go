// Command testskips prints which groups of tests `go test ./...` will skip
// on this machine and why, using the tests' own finders (make test runs it
// before the suite, whose summary then closes the output). It always exits
// 0: a missing program is a skip, not a failure.
package main

import (
	"fmt"
	"os"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti/ctitest/testenv"
)

func main() {
	skipped := 0
	report := func(what string, err error, consequence string) {
		if err == nil {
			return
		}
		skipped++
		fmt.Printf("SKIP %s: %v\n     %s\n", what, err, consequence)
	}
	if _, err := aritest.FindAsterisk(); err != nil {
		if os.Getenv(aritest.EnvRequireAsterisk) == "1" {
			fmt.Printf("FAIL real-Asterisk tests: %v, and %s=1: they will fail\n", err, aritest.EnvRequireAsterisk)
		} else {
			report("real-Asterisk tests (names with Asterisk)", err, "they skip; make test-asterisk runs them and fails without Asterisk")
		}
	}
	_, err := testenv.Chromium()
	report("browser tests (api/web/browsertest)", err, "they skip")
	_, err = testenv.StripeMock()
	report("Stripe gateway test (cti/payment TestStripeMock)", err, "it skips; the sandbox gateway tests still run")
	if skipped == 0 {
		fmt.Println("testskips: Asterisk, chromium and stripe-mock found; no test skips for a missing program")
	}
}
