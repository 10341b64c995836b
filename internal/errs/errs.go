// Package errs defines the one application error type of docstream.
//
// Every failure a user can cause is an *Error with a Kind (which decides the
// HTTP status, in package api only) and an ExcType (Frappe's exception class
// name, which Frappe clients read from the `exc_type` key). Anything that is
// not an *Error is an internal error and is shown to users as such.
//
// The package is pure: it imports only the standard library.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for transport. The HTTP mapping lives in package api.
type Kind int

// The kinds, following Frappe's exception hierarchy (frappe/exceptions.py).
const (
	KindInternal    Kind = iota // 500
	KindValidation              // 417: ValidationError and subclasses
	KindNotFound                // 404: DoesNotExistError
	KindPermission              // 403: PermissionError
	KindAuth                    // 401: AuthenticationError
	KindConflict                // 409: DuplicateEntryError, NameError
	KindBadRequest              // 400: malformed requests
	KindRateLimit               // 429: TooManyRequestsError
	KindUnavailable             // 503: a peer or the store is unreachable
)

// Error is an application error: safe to show to the user.
type Error struct {
	Kind    Kind
	ExcType string // Frappe exception class name, e.g. "LinkValidationError"
	Message string // user-facing text
	Err     error  // optional cause, never shown to users
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New builds an error of the given kind and Frappe exception type.
func New(k Kind, excType, format string, args ...any) *Error {
	return &Error{Kind: k, ExcType: excType, Message: fmt.Sprintf(format, args...)}
}

// Validation is Frappe's plain ValidationError (frappe.throw), HTTP 417.
func Validation(format string, args ...any) *Error {
	return New(KindValidation, "ValidationError", format, args...)
}

// Invalid is a ValidationError subclass such as MandatoryError or LinkValidationError.
func Invalid(excType, format string, args ...any) *Error {
	return New(KindValidation, excType, format, args...)
}

// NotFound is Frappe's DoesNotExistError, HTTP 404.
func NotFound(format string, args ...any) *Error {
	return New(KindNotFound, "DoesNotExistError", format, args...)
}

// Permission is Frappe's PermissionError, HTTP 403.
func Permission(format string, args ...any) *Error {
	return New(KindPermission, "PermissionError", format, args...)
}

// Auth is Frappe's AuthenticationError, HTTP 401.
func Auth(format string, args ...any) *Error {
	return New(KindAuth, "AuthenticationError", format, args...)
}

// Duplicate is Frappe's DuplicateEntryError, HTTP 409.
func Duplicate(format string, args ...any) *Error {
	return New(KindConflict, "DuplicateEntryError", format, args...)
}

// BadRequest reports a malformed request (bad JSON, bad parameter), HTTP 400.
func BadRequest(format string, args ...any) *Error {
	return New(KindBadRequest, "ValidationError", format, args...)
}

// Unavailable reports that a remote site or dependency could not be reached.
func Unavailable(format string, args ...any) *Error {
	return New(KindUnavailable, "ConnectionError", format, args...)
}

// Wrap attaches a cause to an application error.
func Wrap(e *Error, cause error) *Error {
	e.Err = cause
	return e
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// KindOf returns the kind of err; non-application errors are KindInternal.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return KindInternal
}

// Is reports whether err is an application error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
