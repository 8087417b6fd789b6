// Package pgtest gives each test its own freshly migrated PostgreSQL
// database. The server is the one named by CTID_TEST_DSN (a DSN whose user may
// create databases) or else a throwaway cluster this package starts once per
// test binary; each test gets a database cloned from a migrated template.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/localpg"
)

var (
	once     sync.Once
	setupErr error
	cluster  *localpg.Cluster
	tmpDir   string
	admin    *gorm.DB
	dsnFor   func(db string) string
	template = "ctid_template_" + randHex(4)
)

// Main wraps testing.M so the throwaway cluster is stopped and removed after
// the package's tests: use it from TestMain. Without it the server still dies
// with the test binary (parent-death signal) but its directory stays in TMPDIR.
func Main(m *testing.M) {
	code := m.Run()
	if admin != nil && os.Getenv("CTID_TEST_DSN") != "" {
		admin.Exec(`DROP DATABASE IF EXISTS ` + template)
	}
	if cluster != nil {
		cluster.Stop()
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

func setup() {
	if dsn := os.Getenv("CTID_TEST_DSN"); dsn != "" {
		dsnFor = func(db string) string { return withDB(dsn, db) }
	} else {
		tmpDir, setupErr = os.MkdirTemp("", "ctid-pgtest-")
		if setupErr != nil {
			return
		}
		cluster, setupErr = localpg.Start(context.Background(), tmpDir+"/data")
		if setupErr != nil {
			return
		}
		dsnFor = cluster.DSN
	}
	admin, setupErr = postgres.Open(dsnFor("postgres"))
	if setupErr != nil {
		return
	}
	if setupErr = admin.Exec(`CREATE DATABASE ` + template).Error; setupErr != nil {
		return
	}
	tdb, err := postgres.Open(dsnFor(template))
	if err != nil {
		setupErr = err
		return
	}
	_, setupErr = postgres.Migrate(context.Background(), tdb)
	if sqlDB, err := tdb.DB(); err == nil {
		sqlDB.Close() // a template must have no connections when cloned
	}
}

// DB returns a gorm handle on a new migrated database dropped after the test.
func DB(t testing.TB) *gorm.DB {
	t.Helper()
	db, _ := open(t)
	return db
}

// DSN returns the DSN of a new migrated database dropped after the test, for
// code under test that opens its own connections (e.g. the ctid binary).
func DSN(t testing.TB) string {
	t.Helper()
	db, dsn := open(t)
	sqlDB, _ := db.DB()
	sqlDB.Close()
	return dsn
}

var cloneMu sync.Mutex // CREATE DATABASE ... TEMPLATE fails if two clone at once

func open(t testing.TB) (*gorm.DB, string) {
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	name := "t_" + randHex(6)
	cloneMu.Lock()
	err := admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE ` + template).Error
	cloneMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	dsn := dsnFor(name)
	db, err := postgres.Open(dsn)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	return db, dsn
}

// withDB replaces or appends dbname in a key=value or URL DSN.
func withDB(dsn, db string) string {
	if strings.Contains(dsn, "://") {
		base, query, _ := strings.Cut(dsn, "?")
		if i := strings.LastIndex(base, "/"); i > strings.Index(base, "://")+2 {
			base = base[:i]
		}
		if query != "" {
			return base + "/" + db + "?" + query
		}
		return base + "/" + db
	}
	var parts []string
	for _, f := range strings.Fields(dsn) {
		if !strings.HasPrefix(f, "dbname=") {
			parts = append(parts, f)
		}
	}
	return strings.Join(append(parts, "dbname="+db), " ")
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Describe says which server tests use, for logs.
func Describe() string {
	if os.Getenv("CTID_TEST_DSN") != "" {
		return "CTID_TEST_DSN"
	}
	return fmt.Sprintf("throwaway cluster in %s", tmpDir)
}

// DSNOf is the DSN of database name in the test cluster (or CTID_TEST_DSN's
// server), password included: for programs under test that connect by
// themselves, such as Asterisk's res_config_pgsql.
func DSNOf(t testing.TB, name string) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	return dsnFor(name)
}

// DSNOfDB is DSNOf the database db is connected to (what another process,
// such as Asterisk's realtime, needs to reach a test's database).
func DSNOfDB(t testing.TB, db *gorm.DB) string {
	t.Helper()
	var name string
	if err := db.Raw(`SELECT current_database()`).Scan(&name).Error; err != nil {
		t.Fatal(err)
	}
	return DSNOf(t, name)
}
