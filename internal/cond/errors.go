package cond

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by *SyntaxError and *EvalError, for errors.Is.
var (
	// ErrTooLarge: an evaluation tried to build a value over MaxValueSize,
	// or allocated too much in total.
	ErrTooLarge = errors.New("size limit exceeded")
	// ErrTimeLimit: an evaluation ran longer than MaxEvalTime. (When ctx ends
	// first, the error wraps ctx.Err() instead.)
	ErrTimeLimit = errors.New("time limit exceeded")
	// ErrInternal: a panic inside the package was recovered. It is a bug in
	// this package; the fuzz test asserts it never happens.
	ErrInternal = errors.New("internal error")
)

// SyntaxError is why Compile rejected a source.
type SyntaxError struct {
	Line, Col int // 1-based, in characters; 0 when the error has no position
	Msg       string
	Err       error // ErrInternal for a recovered panic, else nil
}

func (e *SyntaxError) Error() string { return format(e.Msg, e.Line, e.Col) }

func (e *SyntaxError) Unwrap() error { return e.Err }

// EvalError is why Eval failed: a Python-style runtime error (its message
// starts with the Python exception name, e.g. "TypeError: …"), a limit, or a
// cancelled context.
type EvalError struct {
	Line, Col int // position of the failing operation; 0 when unknown
	Msg       string
	Err       error // ErrTooLarge, ErrTimeLimit, ErrInternal, ctx.Err(), or nil
}

func (e *EvalError) Error() string { return format(e.Msg, e.Line, e.Col) }

func (e *EvalError) Unwrap() error { return e.Err }

func format(msg string, line, col int) string {
	switch {
	case col == 0:
		return "condition: " + msg
	case line <= 1:
		return fmt.Sprintf("condition: %s at column %d", msg, col)
	default:
		return fmt.Sprintf("condition: %s at line %d, column %d", msg, line, col)
	}
}

// position converts a byte offset in src into a 1-based line and column,
// counting characters rather than bytes because people read columns.
func position(src string, off int) (line, col int) {
	line, col = 1, 1
	for i, r := range src {
		if i >= off {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// errorf builds a runtime error without a position; the node that called
// the failing operation adds one (see state.at).
func errorf(format string, args ...any) *EvalError {
	return &EvalError{Msg: fmt.Sprintf(format, args...)}
}

func tooLarge(what string, size int) *EvalError {
	return &EvalError{
		Msg: fmt.Sprintf("MemoryError: %s of %d bytes exceeds the %d-byte limit", what, size, MaxValueSize),
		Err: ErrTooLarge,
	}
}

// bailout carries a syntax error out of the lexer or parser by panic; only
// Compile recovers it. It keeps the recursive-descent code free of error
// plumbing on every call.
type bailout struct {
	pos int
	msg string
}

func bail(pos int, format string, args ...any) {
	panic(bailout{pos: pos, msg: fmt.Sprintf(format, args...)})
}
