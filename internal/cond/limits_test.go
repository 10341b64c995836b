package cond

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// generous is how long a refused input may take before we call it a hang.
// The real bounds are MaxEvalTime and the size limits; this only catches
// "did not stop at all" without asserting tight timings.
const generous = 5 * time.Second

// anyLimit in a test case accepts ErrTooLarge or ErrTimeLimit: for inputs
// that walk a big structure, which limit trips first depends on machine
// speed (and on -race).
var anyLimit = errors.New("size or time limit")

func TestHostileCompile(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"10k parentheses", strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000), "nested too deeply"},
		{"10k unclosed parentheses", strings.Repeat("(", 10000), "nested too deeply"},
		{"10k lists", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "nested too deeply"},
		{"10k dicts", strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), "nested too deeply"},
		{"10k not", strings.Repeat("not ", 10000) + "1", "nested too deeply"},
		{"10k unary minus", strings.Repeat("-", 10000) + "1", "nested too deeply"},
		{"10k power", strings.Repeat("2**", 10000) + "2", "nested too deeply"},
		{"5k conditionals", strings.Repeat("1 if 1 else ", 5000) + "1", "nested too deeply"},
		{"10k calls", strings.Repeat("len(", 10000) + "1" + strings.Repeat(")", 10000), "nested too deeply"},
		{"30k additions", "1" + strings.Repeat("+1", 30000), "nested too deeply"},
		{"30k attributes", "doc" + strings.Repeat(".a", 30000), "nested too deeply"},
		{"20k subscripts", "doc" + strings.Repeat("[0]", 20000), "nested too deeply"},
		{"over the length limit", strings.Repeat("1+", MaxSourceLen), "too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := Compile(c.src)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Compile error = %v, want one containing %q", err, c.want)
			}
			if errors.Is(err, ErrInternal) {
				t.Fatalf("internal error: %v", err)
			}
			if d := time.Since(start); d > generous {
				t.Errorf("Compile took %v", d)
			}
		})
	}
}

// TestWideIsFine: long flat conditions are legitimate and must compile.
func TestWideIsFine(t *testing.T) {
	src := "doc.public" + strings.Repeat(" and doc.public == 1", 2000)
	p, err := Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Match(testCtx(), map[string]any{"doc": testDoc()}); !ok || err != nil {
		t.Fatalf("Match = %v, %v", ok, err)
	}
}

// sharedTree is a list whose logical size is 2**depth leaves but whose
// memory is depth small lists: walking it is the slowest thing a document
// can make the evaluator do.
func sharedTree(depth int) any {
	var t any = int64(1)
	for range depth {
		t = []any{t, t}
	}
	return t
}

func cyclicMap() map[string]any {
	m := map[string]any{}
	m["self"] = m
	return m
}

func cyclicList() []any {
	l := []any{nil}
	l[0] = l
	return l
}

func TestHostileEval(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		wantErr error  // checked with errors.Is when set
		want    string // substring of the message when set
	}{
		{"huge string repetition", `"a" * 100000000`, ErrTooLarge, "MemoryError"},
		{"max int repetition", `"ab" * 9223372036854775807`, ErrTooLarge, ""},
		{"huge list repetition", `[1] * 100000000`, ErrTooLarge, ""},
		{"big string concatenation", `"a" * 1000000 + "a" * 100000`, ErrTooLarge, ""},
		{"big list concatenation", `[0] * 100000 + [0] * 100000`, ErrTooLarge, ""},
		{"many medium allocations", "0" + strings.Repeat(` + len("a" * 1000000)`, 20), anyLimit, ""},
		{"str of a shared list", `str([[1] * 1000] * 1000)`, anyLimit, ""},
		{"str of a shared tree", `str(doc.tree)`, anyLimit, ""},
		{"equality over a shared tree", `doc.tree == doc.tree`, ErrTimeLimit, "time limit"},
		{"ordering over a shared tree", `doc.tree < doc.tree`, ErrTimeLimit, ""},
		{"membership over a shared tree", `doc.tree in doc.wide`, ErrTimeLimit, ""},
		{"cyclic map equality", `doc.cmap == doc.cmap`, nil, "RecursionError"},
		{"cyclic map str", `str(doc.cmap)`, nil, "RecursionError"},
		{"cyclic list equality", `doc.clist == doc.clist`, nil, "RecursionError"},
		{"big float precision", `flt(1.5, 1000000000)`, nil, ""},
		{"upper of a big string", `("ß" * 600000).upper()`, ErrTooLarge, ""},
	}
	env := map[string]any{"doc": map[string]any{
		"tree":  sharedTree(40),
		"wide":  []any{sharedTree(40), sharedTree(40)},
		"cmap":  cyclicMap(),
		"clist": cyclicList(),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.src)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = p.Eval(context.Background(), env)
			if d := time.Since(start); d > generous {
				t.Errorf("Eval took %v", d)
			}
			if c.wantErr == nil && c.want == "" {
				if err != nil {
					t.Fatalf("Eval: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Eval succeeded, want an error")
			}
			if errors.Is(err, ErrInternal) {
				t.Fatalf("internal error: %v", err)
			}
			if c.wantErr == anyLimit {
				if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTimeLimit) {
					t.Errorf("Eval error %v, want a size or time limit", err)
				}
			} else if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("Eval error %v, want errors.Is %v", err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Eval error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestContextDeadline(t *testing.T) {
	p, err := Compile(`doc.tree == doc.tree`)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]any{"doc": map[string]any{"tree": sharedTree(40)}}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
	defer cancel()
	if _, err := p.Eval(ctx, env); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeLimit) {
		t.Errorf("with a 2ms deadline: %v, want DeadlineExceeded", err)
	}

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := p.Eval(done, env); !errors.Is(err, context.Canceled) {
		t.Errorf("with a cancelled context: %v, want Canceled", err)
	}
}

// flippingCtx reports cancellation from its second Err call on, so the test
// can tell that Eval checks the context during evaluation, not only at the
// start, without depending on timing.
type flippingCtx struct {
	context.Context
	calls atomic.Int32
}

func (c *flippingCtx) Err() error {
	if c.calls.Add(1) > 1 {
		return context.Canceled
	}
	return nil
}

func TestContextCheckedDuringEval(t *testing.T) {
	p, err := Compile(`doc.tree == doc.tree`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := &flippingCtx{Context: context.Background()}
	_, err = p.Eval(ctx, map[string]any{"doc": map[string]any{"tree": sharedTree(40)}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Eval = %v, want context.Canceled", err)
	}
	if ctx.calls.Load() < 2 {
		t.Errorf("ctx.Err called %d times, want a check during evaluation", ctx.calls.Load())
	}
}

// TestTotalAllocationCap checks the per-evaluation allocation budget
// directly, independent of how fast the machine builds strings.
func TestTotalAllocationCap(t *testing.T) {
	s := &state{ctx: context.Background(), start: time.Now(), nextCheck: checkEvery}
	var err error
	n := 0
	for ; err == nil && n < 100; n++ {
		err = s.alloc(MaxValueSize)
	}
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "allocated more than") {
		t.Fatalf("after %d allocations: %v, want the total allocation error", n, err)
	}
	if want := maxEvalAlloc/MaxValueSize + 1; n != want {
		t.Errorf("failed at allocation %d, want %d", n, want)
	}
}

type panicNode struct{ base }

func (panicNode) eval(*state) (any, error) { panic("boom") }
func (panicNode) kids() []node             { return nil }

// TestEvalRecovers checks that a fault inside the evaluator becomes an error
// wrapping ErrInternal instead of crashing the caller. The fuzz test relies
// on this to detect panics.
func TestEvalRecovers(t *testing.T) {
	p := &Program{src: "x", root: panicNode{}}
	_, err := p.Eval(context.Background(), nil)
	if !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Eval = %v, want ErrInternal", err)
	}
	if ok, err := p.Match(context.Background(), nil); ok || !errors.Is(err, ErrInternal) {
		t.Fatalf("Match = %v, %v; want false, ErrInternal", ok, err)
	}
}
