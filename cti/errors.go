package cti

import "errors"

// Kind classifies domain errors; the API maps each to one HTTP status.
type Kind string

const (
	KindInvalid     Kind = "invalid"     // 400/422: the request itself is wrong
	KindNotFound    Kind = "not_found"   // 404
	KindConflict    Kind = "conflict"    // 409: not allowed in the current state
	KindForbidden   Kind = "forbidden"   // 403: the agent's profile does not allow it
	KindUnavailable Kind = "unavailable" // 503: Asterisk or the database is down
)

// Error is a domain error. State carries the current state for conflicts so
// the caller can show it without another request.
type Error struct {
	Kind  Kind
	Msg   string
	State string
	Field string
}

func (e *Error) Error() string { return e.Msg }

// KindOf returns the Kind of err, or "" when err is not a domain error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

func invalid(field, msg string) error  { return &Error{Kind: KindInvalid, Field: field, Msg: msg} }
func notFound(msg string) error        { return &Error{Kind: KindNotFound, Msg: msg} }
func forbidden(msg string) error       { return &Error{Kind: KindForbidden, Msg: msg} }
func conflict(state, msg string) error { return &Error{Kind: KindConflict, State: state, Msg: msg} }
