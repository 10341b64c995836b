package cond

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits. They are constants rather than options: a condition that is slow
// or huge is a mistake or an attack, and the event is denied either way.
const (
	// MaxSourceLen bounds the source Compile accepts, in bytes.
	MaxSourceLen = 64 << 10
	// MaxNesting bounds bracket and operator nesting while parsing.
	MaxNesting = 100
	// MaxEvalTime caps one evaluation, whatever ctx allows.
	MaxEvalTime = 50 * time.Millisecond
	// MaxValueSize caps one string or list created by an evaluation, in
	// bytes. A list counts 8 bytes per element: its elements are shared,
	// not copied, and operations that walk nested values are bounded by
	// MaxEvalTime instead.
	MaxValueSize = 1 << 20

	maxEvalAlloc  = 16 << 20 // all allocations of one evaluation together
	maxTreeDepth  = 256      // bounds evaluator recursion
	maxValueDepth = 100      // nested values walked by ==, <, str(); also stops cycles
	checkEvery    = 1024     // work units between clock and ctx checks
)

// Program is a compiled expression. It is immutable, so it is safe for
// concurrent use.
type Program struct {
	src  string
	root node
}

// Source returns the text the program was compiled from.
func (p *Program) Source() string { return p.src }

// Compile parses src, a Python expression in the subset described in the
// package documentation. Malformed or refused input yields a *SyntaxError
// that says what is wrong and where. Compile never panics.
func Compile(src string) (prog *Program, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		prog = nil
		if b, ok := r.(bailout); ok {
			line, col := position(src, b.pos)
			err = &SyntaxError{Line: line, Col: col, Msg: b.msg}
			return
		}
		err = &SyntaxError{Msg: fmt.Sprintf("internal error: %v", r), Err: ErrInternal}
	}()
	if len(src) > MaxSourceLen {
		return nil, &SyntaxError{Msg: fmt.Sprintf("expression is too long (%d bytes, limit %d)", len(src), MaxSourceLen)}
	}
	root := parse(lex(src))
	if tooDeep(root, maxTreeDepth) {
		return nil, &SyntaxError{Msg: fmt.Sprintf("expression is nested too deeply (limit %d)", maxTreeDepth)}
	}
	return &Program{src: src, root: root}, nil
}

// Eval evaluates the program against env (usually {"doc": map[string]any})
// and returns the raw value: nil, bool, int64, float64, string, []any,
// map[string]any, or a list or map taken from env as it is.
//
// It stops with an error wrapping ctx.Err() when ctx is done, ErrTimeLimit
// after MaxEvalTime, ErrTooLarge at the size limits, and ErrInternal if
// something in this package panicked (it recovers rather than crash the
// caller).
func (p *Program) Eval(ctx context.Context, env map[string]any) (v any, err error) {
	if p == nil || p.root == nil {
		return nil, &EvalError{Msg: "nil program"}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	s := &state{ctx: ctx, env: env, src: p.src, nextCheck: checkEvery}
	if err := ctx.Err(); err != nil {
		return nil, &EvalError{Msg: "evaluation stopped: " + err.Error(), Err: err}
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, &EvalError{Msg: fmt.Sprintf("internal error: %v", r), Err: ErrInternal}
		}
	}()
	return p.root.eval(s)
}

// Match evaluates the program and applies Python truthiness to the result.
// On error it returns false: callers deny the event, as Frappe does when
// safe_eval raises.
func (p *Program) Match(ctx context.Context, env map[string]any) (bool, error) {
	v, err := p.Eval(ctx, env)
	if err != nil {
		return false, err
	}
	return Truthy(v), nil
}

type nowKey struct{}

// WithNow returns a context under which nowdate(), today() and getdate()
// without a date read the clock from now instead of time.Now, so tests and
// replays do not depend on the wall clock. The date is taken in the
// location of the time now returns.
func WithNow(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, nowKey{}, now)
}

// state is one evaluation's bookkeeping.
type state struct {
	ctx       context.Context
	env       map[string]any
	src       string
	start     time.Time // set at the first check
	work      int       // work units done so far (one per element visited, 64 bytes scanned, …)
	nextCheck int
	allocated int
	depth     int // nesting of value walks (equality, ordering, str)
}

func (s *state) now() time.Time {
	if f, ok := s.ctx.Value(nowKey{}).(func() time.Time); ok && f != nil {
		return f()
	}
	return time.Now()
}

// charge records work. Every checkEvery units it checks ctx and the clock;
// reading the clock per unit would cost more than the work.
//
// The MaxEvalTime clock starts at the first check, not in Eval: most
// conditions finish long before 1024 units of work, and reading the clock
// would be a quarter of their cost. The work before the first check is at
// most checkEvery units plus one operation, each operation being bounded by
// MaxValueSize, so the cap is late by microseconds, not milliseconds.
func (s *state) charge(units int) error {
	s.work += units
	if s.work < s.nextCheck {
		return nil
	}
	s.nextCheck = s.work + checkEvery
	return s.check()
}

func (s *state) check() error {
	if err := s.ctx.Err(); err != nil {
		return &EvalError{Msg: "evaluation stopped: " + err.Error(), Err: err}
	}
	if s.start.IsZero() {
		s.start = time.Now()
	} else if time.Since(s.start) > MaxEvalTime {
		return &EvalError{Msg: fmt.Sprintf("evaluation exceeded the %v time limit", MaxEvalTime), Err: ErrTimeLimit}
	}
	return nil
}

// alloc records that the evaluation is about to allocate n bytes; it must be
// called before the allocation, so that refusing it actually saves memory.
func (s *state) alloc(n int) error {
	if n > MaxValueSize {
		return tooLarge("value", n)
	}
	s.allocated += n
	if s.allocated > maxEvalAlloc {
		return &EvalError{Msg: fmt.Sprintf("MemoryError: evaluation allocated more than %d bytes", maxEvalAlloc), Err: ErrTooLarge}
	}
	return s.charge(n/64 + 1)
}

// enter and leave bound the recursion of value walks, which also stops
// cyclic Go values handed in through env.
func (s *state) enter() error {
	s.depth++
	if s.depth > maxValueDepth {
		return errorf("RecursionError: value nested more than %d levels deep", maxValueDepth)
	}
	return nil
}

func (s *state) leave() { s.depth-- }

// at gives err the source position pos unless it already has one.
func (s *state) at(pos int, err error) error {
	var e *EvalError
	if err != nil && errors.As(err, &e) && e.Col == 0 {
		e.Line, e.Col = position(s.src, pos)
	}
	return err
}
