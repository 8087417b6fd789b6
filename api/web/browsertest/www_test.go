package browsertest

import (
	"io/fs"
	"os"
	"strings"

	"github.com/ctid/ctid/api/web"
)

// testWWW is the production page tree plus the test-only pages from
// testdata/www: the Open CTI harness (test/) and the stand-in for
// Salesforce's opencti_min.js (support/…), served at the path the adaptor
// loads it from on the configured Salesforce origin (here: the test server).
func testWWW() fs.FS { return overlay{top: os.DirFS("testdata/www"), base: web.Static()} }

type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	if strings.HasPrefix(name, "test/") || strings.HasPrefix(name, "support/") {
		return o.top.Open(name)
	}
	return o.base.Open(name)
}
