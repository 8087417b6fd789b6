// Package web holds the browser side of ctid, embedded in the binary: the
// agent adaptor (static/adaptor), the admin pages (static/admin), the
// supervisor's live floor (static/supervisor), call review and reports
// (static/review), the
// Salesforce call-centre definition (static/opencti), the Salesforce Voice
// connector (static/scv), and the modules those pages share (static/shared:
// the fetch wrapper and the agent websocket). No build step: the
// files are served as they are. The Open CTI stand-in used by the browser
// tests lives in browsertest/testdata and is served only by the tests.
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

// Redirect says where a bare page path should go: "/" to the adaptor, and
// "/adaptor" or "/admin" to their folder (relative links in the pages need
// the trailing slash). ok is false for every other path.
func Redirect(path string) (to string, ok bool) {
	switch path {
	case "/":
		return "/adaptor/", true
	case "/adaptor", "/admin", "/supervisor", "/review":
		return path + "/", true
	}
	return "", false
}

// Handler serves the static tree with net/http (index.html for folders).
// The api package mounts it (or Static()) under its own prefix, e.g. "/ui/",
// and strips that prefix first. Assets are small and change with the binary,
// so they are revalidated rather than cached for long.
func Handler() http.Handler { return HandlerFor(Static()) }

// HandlerFor is Handler over another tree (tests add their own pages).
func HandlerFor(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to, ok := Redirect(r.URL.Path); ok {
			if r.URL.RawQuery != "" {
				to += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if strings.HasSuffix(r.URL.Path, ".xml") {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		}
		files.ServeHTTP(w, r)
	})
}
