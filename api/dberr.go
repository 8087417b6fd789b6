package api

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// dbProblem maps a database error that reached a handler to a problem a
// client can act on, instead of a 500: Postgres refusing a value (SQLSTATE
// class 22, data exception: the API's own checks should have caught it) is
// the client's 400; an integrity violation (class 23) is a 409; a database
// that cannot be reached is a 503 saying so. It returns nil for anything
// else.
func dbProblem(err error) *Problem {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "22"):
			return newProblem(400, "a value in the request was refused by the database")
		case strings.HasPrefix(pe.Code, "23"):
			return newProblem(409, "the request conflicts with stored data")
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"), pe.Code == "53300":
			return dbUnavailable()
		}
		return nil
	}
	if dbDown(err) {
		return dbUnavailable()
	}
	return nil
}

// dbDown reports an error meaning Postgres could not be reached or the
// connection died.
func dbDown(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) ||
		(errors.As(err, &ne) && !errors.Is(err, context.Canceled)) ||
		strings.Contains(err.Error(), "failed to connect to")
}

// dbUnavailable is the 503 for a database that cannot be reached. A
// request that fails on the database changed nothing (the stores commit or
// fail as a whole), so changeKept is false: the client may send it again.
func dbUnavailable() *Problem {
	p := newProblem(503, "the database is unavailable: the request was not carried out and nothing was changed; try again in a moment")
	kept := false
	p.ChangeKept = &kept
	p.retryAfter = 5
	return p
}
