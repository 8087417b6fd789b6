// Package web holds the browser side of ctid, embedded in the binary: the
// agent adaptor (static/adaptor), the admin pages (static/admin), the
// Salesforce call-centre definition (static/opencti) and the Open CTI test
// harness (static/test). No build step: the files are served as they are.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// FS holds the static tree; paths start with "static/".
//
//go:embed static
var FS embed.FS

// Static is FS rooted at static/ (so "adaptor/index.html" etc.).
func Static() fs.FS {
	sub, err := fs.Sub(FS, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// Handler serves the static tree with net/http (index.html for folders).
// The api package mounts it (or Static()) under its own prefix, e.g. "/ui/",
// and strips that prefix first. Assets are small and change with the binary,
// so they are revalidated rather than cached for long.
func Handler() http.Handler {
	files := http.FileServerFS(Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if strings.HasSuffix(r.URL.Path, ".xml") {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		}
		files.ServeHTTP(w, r)
	})
}
