package cond

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type errorCase struct {
	name string
	src  string
	want string // substring of the error message
}

// compileErrorCases must each be refused by Compile with a *SyntaxError.
var compileErrorCases = []errorCase{
	{"empty", ``, "empty expression"},
	{"blank", "  \n ", "empty expression"},
	{"import", `import os`, "import is not allowed at column 1"},
	{"from import", `from os import path`, "import is not allowed"},
	{"dunder import", `__import__("os")`, `name "__import__" is not allowed`},
	{"dunder attribute", `doc.__class__`, `name "__class__" is not allowed (names containing "__" are refused) at column 5`},
	{"dunder chain", `().__class__.__bases__[0].__subclasses__()`, `"__class__" is not allowed`},
	{"lambda", `lambda x: x`, "lambda is not allowed"},
	{"lambda as argument", `len(lambda: 1)`, "lambda is not allowed"},
	{"list comprehension", `[x for x in doc.items]`, "comprehensions are not allowed"},
	{"generator", `(x for x in doc.items)`, "comprehensions are not allowed"},
	{"generator argument", `len(x for x in doc.items)`, "comprehensions are not allowed"},
	{"dict comprehension", `{k: 1 for k in doc}`, "comprehensions are not allowed"},
	{"set comprehension", `{k for k in doc}`, "comprehensions are not allowed"},
	{"assignment", `x = 1`, "assignment is not allowed (use == to compare) at column 3"},
	{"walrus", `(x := 1)`, "assignment expressions (:=) are not allowed"},
	{"augmented assignment", `doc.qty += 1`, "assignment is not allowed"},
	{"eval", `eval("1")`, `unknown function "eval" at column 1`},
	{"exec", `exec("1")`, `unknown function "exec"`},
	{"open", `open("/etc/passwd")`, `unknown function "open" at column 1`},
	{"open later", `doc.status == 1 and open(1)`, `unknown function "open" at column 21`},
	{"bare open", `open`, `name "open" is not allowed`},
	{"getattr", `getattr(doc, "x")`, `unknown function "getattr"`},
	{"print", `print(1)`, `unknown function "print"`},
	{"any", `any([1])`, `unknown function "any"`},
	{"method not listed", `doc.items.append(1)`, `unknown method "append"`},
	{"document method", `doc.save()`, `unknown method "save"`},
	{"format", `"{}".format(1)`, `unknown method "format"`},
	{"call of subscript", `doc["f"](1)`, "only helper functions and string or dict methods can be called"},
	{"call of call", `len(doc)(1)`, "only helper functions"},
	{"helper not called", `len`, `function "len" must be called`},
	{"helper in parens", `(len)(doc)`, `function "len" must be called`},
	{"arity", `len(1, 2)`, "len() takes exactly 1 argument (2 given)"},
	{"arity none", `nowdate(1)`, "nowdate() takes exactly 0 arguments (1 given)"},
	{"arity range", `doc.get()`, "get() takes 1 to 2 arguments (0 given)"},
	{"keyword argument", `flt(1, precision=2)`, "keyword arguments are not supported"},
	{"star argument", `len(*doc)`, "argument unpacking is not supported"},
	{"star in list", `[*doc.items]`, "unpacking is not supported"},
	{"f-string", `f"{doc.name}"`, "f-strings are not supported"},
	{"bytes", `b"x"`, "bytes literals are not supported"},
	{"statements", `1; 2`, "multiple statements are not allowed"},
	{"two lines", "doc.public\n== 1", "unexpected newline; a condition must be a single expression at column 11"},
	{"bare tuple", `1, 2`, "put tuples in parentheses"},
	{"bitwise and", `doc.public & 1`, "operator '&' is not supported"},
	{"bitwise not", `~1`, "operator '~' is not supported"},
	{"shift", `1 << 2`, "operator '<<' is not supported"},
	{"matmul", `1 @ 2`, "operator '@' is not supported"},
	{"slice step", `doc.name[::2]`, "slice steps are not supported"},
	{"tuple subscript", `doc[1, 2]`, "multiple subscripts are not supported"},
	{"frappe.db", `frappe.db.get_value("User", "x")`, `"frappe.db.get_value" is not supported`},
	{"frappe.session", `frappe.session.user`, `"frappe.session.user" is not supported`},
	{"frappe.utils unknown", `frappe.utils.now()`, `"frappe.utils.now" is not supported`},
	{"frappe.utils uncalled", `frappe.utils.cint`, `"frappe.utils.cint" is not supported`},
	{"frappe bare", `frappe`, `"frappe" is not supported`},
	{"incomplete", `1 +`, "unexpected end of input, expected an expression at column 4"},
	{"unclosed paren", `(1`, "unexpected end of input, expected ',' or ')'"},
	{"unclosed call", `len(1`, "expected ')'"},
	{"unclosed string", `"abc`, "unterminated string literal at column 1"},
	{"string across lines", "'a\nb'", "unterminated string literal"},
	{"if without else", `1 if 2`, "expected 'else'"},
	{"attribute missing", `doc.`, "expected an attribute name"},
	{"keyword attribute", `doc.if`, "expected an attribute name"},
	{"is with a value", `doc.qty is 1`, "'is' is only supported with None, True or False"},
	{"not without in", `doc.a not doc.b`, "unexpected keyword 'not'"},
	{"leading zero", `01`, "leading zeros"},
	{"trailing underscore", `1_`, "invalid number"},
	{"number too big", `99999999999999999999`, "does not fit in 64 bits"},
	{"complex", `1j`, "complex numbers are not supported"},
	{"number glued to name", `1abc`, "invalid number"},
	{"dollar", `$x`, "unexpected character '$'"},
	{"non-ascii name", `doc.名前`, "unexpected character '名' at column 5"},
	{"exclamation", `!doc.public`, "unexpected character '!'"},
	{"def", `def f(): pass`, "'def' is not allowed"},
	{"yield", `yield 1`, "'yield' is not allowed"},
	{"await", `await doc`, "'await' is not allowed"},
	{"del", `del doc`, "'del' is not allowed"},
	{"named escape", `"\N{DASH}"`, `\N{...} escapes are not supported`},
	{"bad hex escape", `"\x4"`, `invalid \x escape`},
	{"stray backslash", `1 \ 2`, `unexpected character '\'`},
	{"unbalanced close", `1)`, "unexpected ')'"},
	{"dict non-colon", `{"a": 1, "b"}`, "expected ':'"},
	{"second line position", "(doc.public ==\n  lambda: 1)", "lambda is not allowed at line 2, column 3"},
	{"nested too deeply", strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), "nested too deeply"},
	{"too long", strings.Repeat(" ", MaxSourceLen) + "1", "too long"},
}

func TestCompileErrors(t *testing.T) {
	for _, c := range compileErrorCases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.src)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded, want error containing %q", c.src, c.want)
			}
			if p != nil {
				t.Errorf("Compile(%q) returned a program with its error", c.src)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || errors.Is(err, ErrInternal) {
				t.Fatalf("Compile(%q) error %T %v, want a plain *SyntaxError", c.src, err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Compile(%q) error\n  %v\nwant it to contain\n  %s", c.src, err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "condition: ") {
				t.Errorf("error %q lacks the condition: prefix", err)
			}
		})
	}
}

// evalErrorCases compile but fail at run time, as they would raise in Python.
// Match must then report false with the error, so the event is denied.
var evalErrorCases = []errorCase{
	{"None < int", `doc.nope < 1`, "TypeError: '<' not supported between instances of 'NoneType' and 'int' at column 10"},
	{"None > 0", `None > 0`, "'>' not supported between instances of 'NoneType' and 'int'"},
	{"str < int", `"a" < 1`, "'<' not supported between instances of 'str' and 'int'"},
	{"chained second fails", `1 < 2 < None`, "'<' not supported"},
	{"undefined name", `undefined`, "NameError: name 'undefined' is not defined at column 1"},
	{"attribute of str", `doc.status.nope`, "AttributeError: 'str' object has no attribute 'nope' at column 12"},
	{"attribute of None", `doc.nope.x`, "'NoneType' object has no attribute 'x'"},
	{"method on None", `doc.get("x").lower()`, "'NoneType' object has no attribute 'lower'"},
	{"get on str", `doc.status.get("x")`, "'str' object has no attribute 'get'"},
	{"int division by zero", `1 / 0`, "ZeroDivisionError: division by zero"},
	{"int modulo by zero", `1 % 0`, "ZeroDivisionError"},
	{"float division by zero", `1.0 / 0`, "ZeroDivisionError: float division by zero"},
	{"zero to negative power", `0 ** -1`, "ZeroDivisionError"},
	{"index out of range", `doc.items[5]`, "IndexError: list index out of range"},
	{"string index out of range", `"ab"[2]`, "IndexError: string index out of range"},
	{"list index type", `doc.tags["x"]`, "TypeError: list indices must be integers, not 'str'"},
	{"float index", `"abc"[1.5]`, "string indices must be integers"},
	{"not subscriptable", `doc.qty[0]`, "TypeError: 'int' object is not subscriptable"},
	{"in None", `1 in None`, "TypeError: argument of type 'NoneType' is not iterable"},
	{"in int", `1 in doc.qty`, "argument of type 'int' is not iterable"},
	{"int in string", `1 in "abc"`, "'in <string>' requires string as left operand, not int"},
	{"unhashable key", `[1] in {"a": 1}`, "unhashable type: 'list'"},
	{"str plus int", `"a" + 1`, `can only concatenate str (not "int") to str`},
	{"None plus int", `doc.nope + 1`, "unsupported operand type(s) for +: 'NoneType' and 'int'"},
	{"list plus str", `[1] + "a"`, `can only concatenate list (not "str") to list`},
	{"str times float", `"a" * 1.5`, "unsupported operand type(s) for *: 'str' and 'float'"},
	{"string formatting", `"%s" % doc.name`, "string formatting with % is not supported"},
	{"overflow add", `doc.big + 1`, "OverflowError"},
	{"overflow pow", `2 ** 64`, "OverflowError"},
	{"overflow negate", `-doc.big - 2`, "OverflowError"},
	{"float pow overflow", `10.0 ** 400`, "OverflowError"},
	{"fractional power of negative", `(-8) ** 0.5`, "ValueError"},
	{"unary minus on str", `-doc.status`, "bad operand type for unary -: 'str'"},
	{"int of garbage", `int("x1")`, `ValueError: invalid literal for int() with base 10: 'x1'`},
	{"int of None", `int(None)`, "int() argument must be a string or a number, not 'NoneType'"},
	{"int of nan", `int(float("nan"))`, "cannot convert float NaN to integer"},
	{"float of garbage", `float("1,5")`, "could not convert string to float: '1,5'"},
	{"getdate of garbage", `getdate("not a date")`, "ValueError: getdate(): 'not a date' is not a date"},
	{"getdate of int", `getdate(5)`, "getdate() argument must be a date string"},
	{"len of int", `len(5)`, "TypeError: object of type 'int' has no len()"},
	{"startswith int", `doc.name.startswith(1)`, "startswith first arg must be str or a tuple of str, not int"},
	{"dict key not string", `{1: 2}`, "dict keys must be strings here, not 'int'"},
	{"flt precision type", `flt(1, "2")`, "flt() precision must be an int"},
}

func TestEvalErrors(t *testing.T) {
	for _, c := range evalErrorCases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.src)
			if err != nil {
				t.Fatalf("Compile(%q): %v", c.src, err)
			}
			v, err := p.Eval(testCtx(), map[string]any{"doc": testDoc()})
			if err == nil {
				t.Fatalf("Eval(%q) = %#v, want error containing %q", c.src, v, c.want)
			}
			var ee *EvalError
			if !errors.As(err, &ee) || errors.Is(err, ErrInternal) {
				t.Fatalf("Eval(%q) error %T %v, want a plain *EvalError", c.src, err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Eval(%q) error\n  %v\nwant it to contain\n  %s", c.src, err, c.want)
			}
			ok, merr := p.Match(testCtx(), map[string]any{"doc": testDoc()})
			if ok || merr == nil {
				t.Errorf("Match(%q) = %v, %v; want false and an error", c.src, ok, merr)
			}
		})
	}
}

func TestEvalNilInputs(t *testing.T) {
	p, err := Compile(`doc.status`)
	if err != nil {
		t.Fatal(err)
	}
	var noCtx context.Context // Eval tolerates a nil context rather than panic
	if _, err := p.Eval(noCtx, nil); err == nil || !strings.Contains(err.Error(), "NameError") {
		t.Errorf("Eval(nil, nil) = %v, want NameError", err)
	}
	var nilProg *Program
	if _, err := nilProg.Eval(testCtx(), nil); err == nil {
		t.Error("Eval on a nil *Program succeeded")
	}
}
