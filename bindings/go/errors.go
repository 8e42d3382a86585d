package graphdb

import (
	"errors"
	"fmt"
)

// Status is a graphdb_status: the outcome of a library call. StatusOK is 0.
type Status int32

// The statuses of include/graphdb.h, same values.
const (
	StatusOK                  Status = 0
	StatusError               Status = 1
	StatusSyntaxError         Status = 2
	StatusSemanticError       Status = 3
	StatusTypeError           Status = 4
	StatusConstraintViolation Status = 5
	StatusConflict            Status = 6
	StatusLocked              Status = 7
	StatusBusy                Status = 8
	StatusReadOnly            Status = 9
	StatusTransactionState    Status = 10
	StatusInvalidArgument     Status = 11
	StatusMisuse              Status = 12
	StatusInterrupted         Status = 13
	StatusIOError             Status = 14
	StatusCorrupt             Status = 15
	StatusInternal            Status = 16
)

var statusNames = [...]string{
	"OK", "ERROR", "SYNTAX_ERROR", "SEMANTIC_ERROR", "TYPE_ERROR", "CONSTRAINT_VIOLATION",
	"CONFLICT", "LOCKED", "BUSY", "READ_ONLY", "TRANSACTION_STATE", "INVALID_ARGUMENT",
	"MISUSE", "INTERRUPTED", "IO_ERROR", "CORRUPT", "INTERNAL",
}

// String is the status name without the GRAPHDB_ prefix, e.g. "CONFLICT".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("STATUS(%d)", int32(s))
}

// Error is a failure reported by the library (or refused by this package before reaching
// it, with the status the library would have given). Line and Column are 1-based and set
// for syntax errors only.
type Error struct {
	Code    Status
	Message string
	Line    int
	Column  int
	// cause is what made the call fail from the Go side, e.g. ctx.Err() for an
	// interrupted query; reachable through errors.Is / errors.As.
	cause error
}

func newError(code Status, msg string) *Error { return &Error{Code: code, Message: msg} }

func (e *Error) Error() string {
	// The library's message already names the position when there is one.
	s := "graphdb: " + e.Code.String() + ": " + e.Message
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrConflict) (and every other Err* value) match any *Error of the
// same status, whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap returns the Go-side cause (ctx.Err() for a cancelled query), or nil.
func (e *Error) Unwrap() error { return e.cause }

// Values to match with errors.Is; only their Code matters.
var (
	ErrError               = &Error{Code: StatusError, Message: "error"}
	ErrSyntax              = &Error{Code: StatusSyntaxError, Message: "syntax error"}
	ErrSemantic            = &Error{Code: StatusSemanticError, Message: "semantic error"}
	ErrType                = &Error{Code: StatusTypeError, Message: "type error"}
	ErrConstraintViolation = &Error{Code: StatusConstraintViolation, Message: "constraint violation"}
	ErrConflict            = &Error{Code: StatusConflict, Message: "conflict"}
	ErrLocked              = &Error{Code: StatusLocked, Message: "locked"}
	ErrBusy                = &Error{Code: StatusBusy, Message: "busy"}
	ErrReadOnly            = &Error{Code: StatusReadOnly, Message: "read only"}
	ErrTransactionState    = &Error{Code: StatusTransactionState, Message: "transaction state"}
	ErrInvalidArgument     = &Error{Code: StatusInvalidArgument, Message: "invalid argument"}
	ErrMisuse              = &Error{Code: StatusMisuse, Message: "misuse"}
	ErrInterrupted         = &Error{Code: StatusInterrupted, Message: "interrupted"}
	ErrIO                  = &Error{Code: StatusIOError, Message: "I/O error"}
	ErrCorrupt             = &Error{Code: StatusCorrupt, Message: "corrupt"}
	ErrInternal            = &Error{Code: StatusInternal, Message: "internal error"}
)

// IsRetryable reports whether err is a CONFLICT: the transaction was rolled back and running
// it again may succeed. Conn.Transact retries exactly these.
func IsRetryable(err error) bool { return errors.Is(err, ErrConflict) }

// StatusOf returns the status of err's *Error, StatusOK for nil, StatusError for an error
// from elsewhere.
func StatusOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return StatusError
}

// errClosed is the error of any call on a closed handle.
func errClosed(what string) *Error {
	return newError(StatusMisuse, what+" is closed")
}
