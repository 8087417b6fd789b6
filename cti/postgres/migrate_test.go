package postgres_test

import (
	"context"
	"testing"

	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMigrationsAppliedOnceAndIdempotent(t *testing.T) {
	db := pgtest.DB(t)
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	db.Raw(`SELECT count(*) FROM schema_migrations`).Scan(&n)
	if int(n) != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	applied, err := postgres.Migrate(context.Background(), db)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, err %v; want nothing", applied, err)
	}
	var reasons int64
	db.Raw(`SELECT count(*) FROM pause_reasons WHERE name = 'Auto Pause' AND system`).Scan(&reasons)
	if reasons != 1 {
		t.Fatalf("Auto Pause reason missing")
	}
}

func TestEachTestGetsItsOwnDatabase(t *testing.T) {
	a, b := pgtest.DB(t), pgtest.DB(t)
	if err := a.Exec(`INSERT INTO workflows(name, context) VALUES ('x', 'wf')`).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	b.Raw(`SELECT count(*) FROM workflows`).Scan(&n)
	if n != 0 {
		t.Fatalf("databases are shared: %d rows", n)
	}
}
