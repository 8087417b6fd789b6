package postgres_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ctid/ctid/cti/postgres/pgtest"
)

// Item 9: the throwaway cluster is not a trust-auth superuser on TCP: a
// connection to its port without the password is refused.
func TestThrowawayClusterNeedsAPasswordOverTCP(t *testing.T) {
	dsn := pgtest.DSN(t)
	if !strings.Contains(dsn, "host=127.0.0.1") {
		t.Skip("CTID_TEST_DSN points at another server")
	}
	if !strings.Contains(dsn, "password=") {
		t.Skip("a cluster created before passwords (reused data directory)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("with the password: %v", err)
	}
	conn.Close(ctx)
	bare := regexp.MustCompile(`\s*password=\S+`).ReplaceAllString(dsn, "")
	if conn, err := pgx.Connect(ctx, bare); err == nil {
		conn.Close(ctx)
		t.Fatal("connected over TCP without a password")
	} else if !strings.Contains(err.Error(), "password") {
		t.Fatalf("without a password: %v", err)
	}
}
