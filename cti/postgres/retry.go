package postgres

import (
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// connLost reports an error meaning the connection itself died (server
// restart, pg_terminate_backend, network): the statement did not run, so a
// read can be retried on another pooled connection.
func connLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || strings.HasPrefix(pe.Code, "08")
	}
	return errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err)
}

// retryConnLost runs a read, retrying while the pool hands out connections
// that turn out to be dead (at most a few times).
func retryConnLost(read func() error) error {
	var err error
	for try := 0; try < 4; try++ {
		if err = read(); err == nil || !connLost(err) {
			return err
		}
	}
	return err
}
