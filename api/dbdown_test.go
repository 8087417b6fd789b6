package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	pgdriver "gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/ctid/ctid/api"
)

// Item 10: with the database unreachable, a request that needs it answers
// 503 with a problem saying so and that nothing was changed
// (changeKept: false), not 500 "internal error".
func TestDatabaseDownIsA503SayingNothingChanged(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice")
	// A port nothing listens on stands for a Postgres that is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	dead, err := gorm.Open(pgdriver.Open("host=127.0.0.1 port="+strconv.Itoa(addr.Port)+" user=ctid dbname=ctid sslmode=disable connect_timeout=2"), &gorm.Config{DisableAutomaticPing: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Options{Engine: e.Engine, DB: dead, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	for _, rq := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/agent/calls/x/notes", `{"notes":"kept?"}`},
		{"GET", "/api/v1/agent", ""},
		{"POST", "/api/v1/auth/login", `{"username":"alice","password":"` + password + `"}`},
	} {
		req := httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		var p api.Problem
		json.NewDecoder(res.Body).Decode(&p)
		res.Body.Close()
		if res.StatusCode != 503 || p.ChangeKept == nil || *p.ChangeKept || !strings.Contains(p.Detail, "database is unavailable") {
			t.Errorf("%s %s → %d %+v, want 503 saying the database is unavailable and nothing was kept", rq.method, rq.path, res.StatusCode, p)
		}
	}
}
