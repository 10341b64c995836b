package cond

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Func is a named condition for the "cmd: dotted.name" form. Frappe calls
// such a function as frappe.call(cmd, consumer=…, doc=…, update_log=…); here
// args carries the same three keys, and the result is read with Python
// truthiness.
type Func func(ctx context.Context, args map[string]any) (any, error)

// Registry maps "cmd:" names to Go functions. Only registered functions can
// be called, so a condition cannot name arbitrary code. It is safe for
// concurrent use; registration normally happens at start-up.
type Registry struct {
	mu    sync.RWMutex
	funcs map[string]Func
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{funcs: make(map[string]Func)} }

// Register adds f under name, a dotted identifier such as
// "myapp.conditions.is_public". It panics on a malformed name, a nil f or a
// name registered twice: those are programming errors, best found at
// start-up rather than when the first document arrives.
func (r *Registry) Register(name string, f Func) {
	if !validCmdName(name) {
		panic(fmt.Sprintf("cond: invalid function name %q", name))
	}
	if f == nil {
		panic(fmt.Sprintf("cond: nil function for %q", name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.funcs[name]; dup {
		panic(fmt.Sprintf("cond: function %q registered twice", name))
	}
	r.funcs[name] = f
}

// Lookup returns the function registered under name.
func (r *Registry) Lookup(name string) (Func, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.funcs[name]
	return f, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.funcs))
	for n := range r.funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Match decides a consumer condition the way Frappe's has_consumer_access
// does: an empty condition matches; "cmd: name" calls the registered
// function with args; anything else is an expression evaluated with
// {"doc": args["doc"]} as its only name. Any error means no match, and is
// returned so the caller can log it.
func (r *Registry) Match(ctx context.Context, condition string, args map[string]any) (ok bool, err error) {
	cmd, expr, isCmd := ParseCondition(condition)
	if !isCmd {
		if expr == "" {
			return true, nil
		}
		prog, err := CompileCached(expr)
		if err != nil {
			return false, err
		}
		return prog.Match(ctx, map[string]any{"doc": args["doc"]})
	}
	f, found := r.Lookup(cmd)
	if !found {
		return false, fmt.Errorf("condition: unknown cmd %q", cmd)
	}
	defer func() {
		if p := recover(); p != nil {
			ok, err = false, fmt.Errorf("condition: cmd %q panicked: %v", cmd, p)
		}
	}()
	v, err := f(ctx, args)
	if err != nil {
		return false, fmt.Errorf("condition: cmd %q: %w", cmd, err)
	}
	return Truthy(v), nil
}

// ParseCondition splits a consumer condition. "cmd: a.b.c" gives
// ("a.b.c", "", true); anything else gives ("", the trimmed expression,
// false), where an empty expression means "no condition".
func ParseCondition(condition string) (cmd, expr string, isCmd bool) {
	c := strings.TrimSpace(condition)
	if rest, ok := strings.CutPrefix(c, "cmd:"); ok {
		return strings.TrimSpace(rest), "", true
	}
	return "", c, false
}

// ParseEval splits a Document Type Mapping remote value: "eval:expr" gives
// (expr, true); a plain value gives (value, false).
func ParseEval(value string) (expr string, isEval bool) {
	if rest, ok := strings.CutPrefix(value, "eval:"); ok {
		return strings.TrimSpace(rest), true
	}
	return value, false
}

func validCmdName(name string) bool {
	if name == "" {
		return false
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" || isDigit(part[0]) {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isLetter(part[i]) && !isDigit(part[i]) {
				return false
			}
		}
	}
	return true
}
