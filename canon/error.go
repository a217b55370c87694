package canon

import (
	"errors"
	"fmt"
)

// Code classifies an application error. Codes map one-to-one onto GraphQL
// extensions.code (docs/design.md §1).
type Code string

// Error codes.
const (
	BadUserInput      Code = "BAD_USER_INPUT"
	Unauthenticated   Code = "UNAUTHENTICATED"
	Forbidden         Code = "FORBIDDEN"
	NotFound          Code = "NOT_FOUND"
	QueryTooComplex   Code = "QUERY_TOO_COMPLEX"
	SourceUnavailable Code = "SOURCE_UNAVAILABLE"
	RateLimited       Code = "RATE_LIMITED"
	// StoreUnavailable: the database cannot be reached or did not answer
	// in time; the request may succeed when retried (HTTP 503).
	StoreUnavailable Code = "STORE_UNAVAILABLE"
	// Overloaded: the hub is running as many operations as it may and
	// could not admit another in time (HTTP 503).
	Overloaded Code = "OVERLOADED"
	// CursorExpired: a change-feed cursor older than the log's retention;
	// the client must start again from a snapshot.
	CursorExpired Code = "CURSOR_EXPIRED"
	// SlowConsumer: a subscriber left changes unread too long; it resumes
	// from the position the error carries.
	SlowConsumer Code = "SLOW_CONSUMER"
	Internal     Code = "INTERNAL"
)

// Error is an error meant for the caller: Message is safe to show.
type Error struct {
	Code    Code
	Message string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or Internal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the caller-safe message of err: the message of its
// *Error, or a generic text for anything else (which may hold internals).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
