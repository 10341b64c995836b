// Package cond evaluates the small Python expressions that Frappe stores as
// data: the condition on an Event Consumer's subscribed DocType (evaluated by
// the producer per document as safe_eval(condition, {"doc": doc})) and the
// "eval:" values of Document Type Mapping remote_value_filters.
//
// # Purity
//
// The package is pure. It imports only the standard library, and no SQL,
// HTTP or job code; it performs no I/O. An expression can read the values it
// is handed in env and call a fixed list of helpers. Nothing else is
// reachable from the language, by construction: there is no name lookup
// outside env, no attribute access on Go values other than map keys, and no
// way to call a function that is not in the helper table. The "cmd:" form of
// a condition calls Go functions, but only those the program put into a
// Registry itself.
//
// # Language
//
// The accepted language is a subset of Python expressions, with Python
// semantics where conditions depend on them:
//
//   - literals: ints, floats, '…' and "…" strings (with escapes, r/u
//     prefixes, triple quotes), True, False, None, lists, tuples (which are
//     lists here), dicts with string keys, and sets (also lists here);
//   - doc.field, doc["field"], doc.get("field"[, default]); a missing key is
//     None, not an error; indexing and slicing of lists and strings
//     (doc.items[0].qty, doc.name[:3]);
//   - comparisons == != < <= > >=, chained (1 < x < 5); in and not in over
//     lists, strings (substring) and dicts (key); is / is not against None,
//     True or False;
//   - and, or, not with Python truthiness; and/or return an operand, as in
//     Python (doc.a or "default");
//   - + - * / // % ** and unary - +, string and list concatenation and
//     repetition; x if c else y;
//   - helpers len, str, int, float, bool, abs, cint, cstr, flt, getdate,
//     nowdate, today (the Frappe ones also as frappe.utils.NAME) and the
//     methods get, startswith, endswith, lower, upper, strip, lstrip, rstrip.
//
// Numbers are int64 and float64; bools are numbers in arithmetic and
// comparisons (True == 1), int and float compare exactly (1 == 1.0). Values
// handed in through env are normalised on access: every Go integer type
// becomes int64, float32 becomes float64, json.Number becomes either, and
// time.Time becomes the string Frappe would store ("2006-01-02" or
// "2006-01-02 15:04:05[.ffffff]"), so that dates compare with getdate()
// results. Dates are strings throughout: getdate returns "YYYY-MM-DD".
//
// Everything else is a compile error with a message and a column:
// statements, assignment (= := +=), import, lambda, comprehensions, names
// containing "__", keyword arguments, argument unpacking, bitwise operators,
// f-strings, bytes, and calls of anything not listed above (eval, exec, open,
// getattr, …). A top-level bare tuple ("a, b") is rejected too: in Python it
// is always truthy, which is never what a condition author meant.
//
// Differences from Python that a condition can observe: integers are 64-bit
// (overflow is an error instead of a big int); a list equals a tuple with the
// same items; str() of a dict lists keys in sorted order; doc["missing"] is
// None where a plain dict would raise KeyError (Frappe documents behave like
// that for attribute access, and conditions mix the two forms freely).
//
// # Limits
//
// Conditions are written by users of another site, so evaluation is
// bounded. Compile rejects sources over MaxSourceLen and nesting deeper than
// MaxNesting. Eval stops after MaxEvalTime or when ctx is done, whichever is
// first, and fails with ErrTooLarge when a single string or list it creates
// would exceed MaxValueSize (so "a" * 100000000 is an error, not an
// allocation), or when everything it allocated adds up to 16 MiB. Neither
// Compile nor Eval panics; a recovered internal fault is reported as an error
// that wraps ErrInternal.
//
// # Why a hand-written parser
//
// github.com/expr-lang/expr was considered and not used. Its language is
// close to Python but not Python where Frappe conditions need it to be: the
// conditional is "c ? x : y" (or "if c {x} else {y}"), not "x if c else y";
// True, False and None are spelled true, false and nil; and/or/not take
// booleans, so "not doc.disabled" with disabled = 0 is a type error rather
// than True, and "doc.a or 'x'" cannot return an operand; and there are no
// Python string methods or dict.get. Frappe conditions would need a
// translating front end anyway, which is most of a parser. Its evaluator
// also brings a library of some sixty built-ins and reflective method calls
// on env values, all of which would have to be audited or disabled to keep
// the surface as small as the helper list above. A recursive-descent parser
// (lexer and parser together are about 1000 lines) over a closed AST gives
// exact Python truthiness and comparison rules, errors that name Python's
// exception and point at a column, and a place to meter time and memory
// inside every operation whose cost grows with its inputs.
package cond
