package cond

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzCompileEval feeds arbitrary sources through Compile and Eval. Both
// recover panics into errors wrapping ErrInternal, so "no panic" is asserted
// by checking for that error; a hang is caught by the context deadline and
// a deliberately loose wall-clock bound.
func FuzzCompileEval(f *testing.F) {
	for _, cases := range [][]evalCase{evalCases} {
		for _, c := range cases {
			f.Add(c.src)
		}
	}
	for _, cases := range [][]errorCase{compileErrorCases, evalErrorCases} {
		for _, c := range cases {
			if len(c.src) < 1000 {
				f.Add(c.src)
			}
		}
	}
	f.Add(`"a" * 100000000`)
	f.Add(`str([[1] * 1000] * 1000)`)
	f.Add(`doc.items[0].qty * 2 ** 10 // 3 % 7`)

	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src)
		if err != nil {
			var se *SyntaxError
			if errors.Is(err, ErrInternal) || !errors.As(err, &se) {
				t.Fatalf("Compile(%q): %v", src, err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(testCtx(), time.Second)
		defer cancel()
		start := time.Now()
		v, err := p.Eval(ctx, map[string]any{"doc": testDoc()})
		if d := time.Since(start); d > generous {
			t.Fatalf("Eval(%q) took %v", src, d)
		}
		if err != nil {
			var ee *EvalError
			if errors.Is(err, ErrInternal) || !errors.As(err, &ee) {
				t.Fatalf("Eval(%q): %v", src, err)
			}
			return
		}
		Truthy(v)
	})
}
