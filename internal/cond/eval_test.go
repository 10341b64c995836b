package cond

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

type evalCase struct {
	name string
	src  string
	want any
}

func l(xs ...any) []any { return append([]any{}, xs...) }

// evalCases run against testDoc. Expected values follow CPython 3 (checked
// by hand against the interpreter for the arithmetic and formatting ones).
var evalCases = []evalCase{
	// The examples from Frappe's documentation and forum.
	{"frappe/public", `doc.public == 1`, true},
	{"frappe/status and total", `doc.status in ("Open", "Replied") and doc.grand_total > 1000`, true},
	{"frappe/not disabled", `not doc.disabled`, true},
	{"frappe/group or territory", `doc.customer_group == "Commercial" or doc.territory != "India"`, true},
	{"frappe/eval value", `doc.customer_name + " " + doc.country`, "Acme Germany"},

	{"literal/int", `42`, int64(42)},
	{"literal/hex", `0x1F`, int64(31)},
	{"literal/underscores", `1_000`, int64(1000)},
	{"literal/float", `1.5`, 1.5},
	{"literal/leading dot", `.5`, 0.5},
	{"literal/exponent", `1e3`, 1000.0},
	{"literal/single quotes", `'single'`, "single"},
	{"literal/double quotes", `"double"`, "double"},
	{"literal/escapes", `"a\n\t\\"`, "a\n\t\\"},
	{"literal/escaped quote", `'it\'s'`, "it's"},
	{"literal/hex and unicode escapes", `"\x41\u00e9\101"`, "AéA"},
	{"literal/unknown escape kept", `"\d"`, `\d`},
	{"literal/raw", `r"\d+"`, `\d+`},
	{"literal/adjacent strings", `"a" 'b'`, "ab"},
	{"literal/triple quoted", `'''it's'''`, "it's"},
	{"literal/True", `True`, true},
	{"literal/False", `False`, false},
	{"literal/None", `None`, nil},
	{"literal/list", `[1, "a", None]`, l(int64(1), "a", nil)},
	{"literal/tuple", `(1, 2)`, l(int64(1), int64(2))},
	{"literal/one tuple", `(1,)`, l(int64(1))},
	{"literal/empty tuple", `()`, l()},
	{"literal/dict", `{"a": 1, 'b': [2]}`, map[string]any{"a": int64(1), "b": l(int64(2))}},
	{"literal/set is a list", `{"a", "b"}`, l("a", "b")},
	{"literal/comment", "doc.public # is it?", int64(1)},
	{"literal/newline in brackets", "(doc.public ==\n 1)", true},

	{"field/attribute", `doc.status`, "Open"},
	{"field/item", `doc["status"]`, "Open"},
	{"field/get", `doc.get("status")`, "Open"},
	{"field/get missing", `doc.get("nope")`, nil},
	{"field/get default", `doc.get("nope", "dflt")`, "dflt"},
	{"field/get present None ignores default", `doc.get("notes", 1)`, nil},
	{"field/missing attribute is None", `doc.nope`, nil},
	{"field/missing item is None", `doc["nope"]`, nil},
	{"field/child row", `doc.items[0].qty`, int64(2)},
	{"field/child row from end", `doc.items[-1].item_code`, "B"},
	{"field/child row item", `doc.items[1]["rate"]`, 3.0},
	{"field/child in []any", `doc.taxes[0].rate`, 18.0},
	{"field/nested map", `doc.meta.owner`, "admin"},

	{"compare/int float", `doc.public == 1.0`, true},
	{"compare/bool int", `doc.public == True`, true},
	{"compare/True == 1", `True == 1`, true},
	{"compare/False == 0", `False == 0`, true},
	{"compare/gt", `doc.qty > 10`, true},
	{"compare/ge", `doc.qty >= 12`, true},
	{"compare/int lt float", `doc.qty < 12.5`, true},
	{"compare/chained", `1 < doc.qty < 20`, true},
	{"compare/chained false", `1 < doc.qty < 5`, false},
	{"compare/chained short-circuits", `1 > 2 < None`, false},
	{"compare/strings", `"a" < "b" <= "b"`, true},
	{"compare/lists", `[1, 2] < [1, 3]`, true},
	{"compare/list prefix", `[1] < [1, 0]`, true},
	{"compare/list equals tuple", `[1, 2] == (1, 2)`, true},
	{"compare/None == None", `None == None`, true},
	{"compare/None != 0", `None == 0`, false},
	{"compare/str != int", `"1" == 1`, false},
	{"compare/ne", `doc.status != "Closed"`, true},
	{"compare/max int", `doc.big == 9223372036854775807`, true},
	{"compare/exact int float", `doc.big == 9.223372036854776e18`, false},
	{"compare/2**53+1", `2**53 + 1 == 2.0**53`, false},
	{"compare/nan", `float("nan") == float("nan")`, false},
	{"compare/nan ne", `float("nan") != float("nan")`, true},
	{"compare/nan lt", `float("nan") < 1`, false},
	{"compare/dicts", `{"a": 1} == {"a": 1.0}`, true},
	{"compare/is None", `doc.notes is None`, true},
	{"compare/is not None", `doc.status is not None`, true},
	{"compare/1 is not True", `doc.public is True`, false},

	{"bool/not 0", `not doc.disabled`, true},
	{"bool/not 1", `not doc.enabled`, false},
	{"bool/or returns operand", `doc.nope or "default"`, "default"},
	{"bool/and returns operand", `doc.status and doc.qty`, int64(12)},
	{"bool/or skips empty string", `doc.remarks or doc.status`, "Open"},
	{"bool/or of falsy", `0 or None`, nil},
	{"bool/and of falsy", `1 and 0`, int64(0)},
	{"bool/not empty string", `not ""`, true},
	{"bool/not empty list", `not []`, true},
	{"bool/not empty dict", `not {}`, true},
	{"bool/not 0.0", `not doc.rate`, true},
	{"bool/not None", `not None`, true},
	{"bool/string 0 is truthy", `not "0"`, false},
	{"bool/list of 0 is truthy", `not [0]`, false},
	{"bool/empty doc list", `doc.empty_list or "x"`, "x"},
	{"bool/empty doc map", `not doc.empty_map`, true},
	{"bool/and short-circuits an error", `doc.notes and doc.notes < 1`, nil},
	{"bool/not binds looser than ==", `not doc.public == 2`, true},

	{"in/tuple", `doc.status in ("Open", "Replied")`, true},
	{"in/not in list", `doc.status not in ["Closed"]`, true},
	{"in/doc list", `"urgent" in doc.tags`, true},
	{"in/substring", `"cm" in doc.customer_name`, true},
	{"in/empty substring", `"" in "abc"`, true},
	{"in/dict key", `"owner" in doc.meta`, true},
	{"in/dict missing key", `"x" in doc.meta`, false},
	{"in/dict int key", `1 in doc.meta`, false},
	{"in/numeric equality", `1 in [1.0]`, true},
	{"in/bool equality", `True in [1]`, true},
	{"in/None", `None in [None]`, true},
	{"in/set", `doc.status in {"Open", "Closed"}`, true},
	{"in/None not in tuple", `doc.nope in ("Open", "Replied")`, false},

	{"arith/add", `1 + 2`, int64(3)},
	{"arith/mixed", `1 + 2.5`, 3.5},
	{"arith/bools", `True + True`, int64(2)},
	{"arith/true division", `7 / 2`, 3.5},
	{"arith/true division exact", `6 / 3`, 2.0},
	{"arith/floor division", `7 // 2`, int64(3)},
	{"arith/floor division negative", `-7 // 2`, int64(-4)},
	{"arith/mod", `7 % 3`, int64(1)},
	{"arith/mod negative dividend", `-7 % 3`, int64(2)},
	{"arith/mod negative divisor", `7 % -3`, int64(-2)},
	{"arith/float floor division", `7.5 // 2`, 3.0},
	{"arith/float mod", `7.5 % -2`, -0.5},
	{"arith/pow", `2 ** 10`, int64(1024)},
	{"arith/pow negative", `2 ** -1`, 0.5},
	{"arith/pow float", `4.0 ** 0.5`, 2.0},
	{"arith/unary binds looser than pow", `-2 ** 2`, int64(-4)},
	{"arith/pow right assoc", `2 ** 3 ** 2`, int64(512)},
	{"arith/parenthesised", `(-2) ** 2`, int64(4)},
	{"arith/negate field", `-doc.qty`, int64(-12)},
	{"arith/plus field", `+doc.qty`, int64(12)},
	{"arith/double negation", `- -1`, int64(1)},
	{"arith/negate bool", `-True`, int64(-1)},
	{"arith/float times int", `doc.grand_total * 2`, 3000.0},
	{"arith/child rate", `doc.qty * doc.items[0].rate`, 126.0},
	{"arith/precedence", `10 - 2 * 3`, int64(4)},
	{"arith/grouping", `(10 - 2) * 3`, int64(24)},
	{"arith/left assoc", `2 * 3 % 4`, int64(2)},
	{"arith/string repeat", `"ab" * 3`, "ababab"},
	{"arith/int times string", `3 * "ab"`, "ababab"},
	{"arith/repeat zero", `"a" * 0`, ""},
	{"arith/repeat negative", `"a" * -1`, ""},
	{"arith/list repeat", `[1] * 3`, l(int64(1), int64(1), int64(1))},
	{"arith/list concat", `[1, 2] + [3]`, l(int64(1), int64(2), int64(3))},
	{"arith/float sum", `0.1 + 0.2`, 0.30000000000000004},

	{"if/then", `"big" if doc.grand_total > 1000 else "small"`, "big"},
	{"if/else", `"big" if doc.grand_total > 5000 else "small"`, "small"},
	{"if/right assoc", `1 if 0 else 2 if 0 else 3`, int64(3)},
	{"if/lazy", `doc.notes < 1 if False else "ok"`, "ok"},

	{"len/str counts characters", `len(doc.unicode)`, int64(5)},
	{"len/list", `len(doc.tags)`, int64(2)},
	{"len/dict", `len(doc.meta)`, int64(1)},
	{"len/child table", `len(doc.items)`, int64(2)},
	{"str/int", `str(1)`, "1"},
	{"str/float", `str(1.0)`, "1.0"},
	{"str/None", `str(None)`, "None"},
	{"str/True", `str(True)`, "True"},
	{"str/list", `str([1, 'a', None, 1.5])`, "[1, 'a', None, 1.5]"},
	{"str/quote choice", `str(["it's"])`, `["it's"]`},
	{"str/dict", `str({"b": [None], "a": 1})`, "{'a': 1, 'b': [None]}"},
	{"str/float repr", `str(0.1 + 0.2)`, "0.30000000000000004"},
	{"str/small float", `str(0.00001)`, "1e-05"},
	{"str/large float", `str(1e16)`, "1e+16"},
	{"str/plain large float", `str(123456789.0)`, "123456789.0"},
	{"str/concat", `"Qty: " + str(doc.qty)`, "Qty: 12"},
	{"int/string", `int("42")`, int64(42)},
	{"int/padded", `int(" -7 ")`, int64(-7)},
	{"int/truncates", `int(-3.9)`, int64(-3)},
	{"int/bool", `int(True)`, int64(1)},
	{"float/string", `float("1.5")`, 1.5},
	{"float/int", `float(2)`, 2.0},
	{"float/inf", `float("inf") > 1e308`, true},
	{"bool/empty", `bool([])`, false},
	{"bool/string", `bool("x")`, true},
	{"abs/int", `abs(-3)`, int64(3)},
	{"abs/float", `abs(-2.5)`, 2.5},
	{"cint/string", `cint("12")`, int64(12)},
	{"cint/float string", `cint("3.7")`, int64(3)},
	{"cint/garbage", `cint("abc")`, int64(0)},
	{"cint/None", `cint(None)`, int64(0)},
	{"cint/default", `cint("abc", 5)`, int64(5)},
	{"cint/bool", `cint(True)`, int64(1)},
	{"cint/float", `cint(2.9)`, int64(2)},
	{"cint/frappe.utils", `frappe.utils.cint("7")`, int64(7)},
	{"flt/commas", `flt("1,234.5")`, 1234.5},
	{"flt/None", `flt(None)`, 0.0},
	{"flt/garbage", `flt("x")`, 0.0},
	{"flt/int", `flt(2)`, 2.0},
	{"flt/precision half even on binary value", `flt(2.675, 2)`, 2.67},
	{"flt/precision", `flt("3.14159", 2)`, 3.14},
	{"flt/frappe.utils", `frappe.utils.flt("2.5")`, 2.5},
	{"cstr/None", `cstr(None)`, ""},
	{"cstr/int", `frappe.utils.cstr(5)`, "5"},

	{"date/getdate", `getdate("2024-03-15")`, "2024-03-15"},
	{"date/getdate pads", `getdate("2024-3-5")`, "2024-03-05"},
	{"date/getdate datetime", `getdate(doc.modified)`, "2024-03-15"},
	{"date/getdate offset kept", `getdate("2024-03-15T23:20:30+05:30")`, "2024-03-15"},
	{"date/getdate null date", `getdate("0000-00-00")`, nil},
	{"date/getdate no arg", `getdate()`, "2024-06-30"},
	{"date/getdate None", `getdate(None)`, "2024-06-30"},
	{"date/nowdate", `nowdate()`, "2024-06-30"},
	{"date/today", `today()`, "2024-06-30"},
	{"date/frappe.utils.nowdate", `frappe.utils.nowdate()`, "2024-06-30"},
	{"date/frappe.utils.today", `frappe.utils.today()`, "2024-06-30"},
	{"date/compare", `frappe.utils.getdate(doc.posting_date) >= getdate("2024-01-01")`, true},
	{"date/before today", `getdate(doc.posting_date) < nowdate()`, true},

	{"method/lower", `doc.status.lower()`, "open"},
	{"method/upper", `doc.status.upper()`, "OPEN"},
	{"method/strip", `doc.title.strip()`, "Hello World"},
	{"method/lstrip", `doc.title.lstrip()`, "Hello World  "},
	{"method/rstrip", `doc.title.rstrip()`, "  Hello World"},
	{"method/strip chars", `"xxhixx".strip("x")`, "hi"},
	{"method/startswith", `doc.name.startswith("SO-")`, true},
	{"method/startswith tuple", `doc.name.startswith(("PO-", "SO-"))`, true},
	{"method/endswith", `doc.name.endswith("01")`, true},
	{"method/chained", `doc.get("status").lower() == "open"`, true},

	{"slice/prefix", `doc.name[:2]`, "SO"},
	{"slice/suffix", `doc.name[-4:]`, "0001"},
	{"slice/unicode index", `doc.unicode[1]`, "é"},
	{"slice/unicode slice", `doc.unicode[1:3]`, "él"},
	{"slice/list index", `doc.tags[-1]`, "vip"},
	{"slice/list clamps", `doc.tags[5:]`, l()},
	{"slice/list", `[1, 2, 3][1:]`, l(int64(2), int64(3))},
	{"slice/reversed bounds", `"abc"[2:1]`, ""},
}

func TestEval(t *testing.T) {
	for _, c := range evalCases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.src)
			if err != nil {
				t.Fatalf("Compile(%q): %v", c.src, err)
			}
			got, err := p.Eval(testCtx(), map[string]any{"doc": testDoc()})
			if err != nil {
				t.Fatalf("Eval(%q): %v", c.src, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Eval(%q) = %#v, want %#v", c.src, got, c.want)
			}
			match, err := p.Match(testCtx(), map[string]any{"doc": testDoc()})
			if err != nil || match != Truthy(c.want) {
				t.Errorf("Match(%q) = %v, %v; want %v", c.src, match, err, Truthy(c.want))
			}
		})
	}
}

// TestEvalDriverTypes checks that documents decoded by drivers (int, int32,
// json.Number, time.Time, named types, typed slices and maps) behave like
// the Python values they stand for.
func TestEvalDriverTypes(t *testing.T) {
	cases := []evalCase{
		{"int", `doc.i == 5`, true},
		{"int32 and uint8", `doc.i32 == doc.u8`, true},
		{"float32", `doc.f32 == 2.5`, true},
		{"json int", `doc.num + 1`, int64(8)},
		{"json float", `doc.numf > 7`, true},
		{"date", `doc.date == "2024-03-15"`, true},
		{"datetime", `doc.dt`, "2024-03-15 10:20:30"},
		{"getdate of datetime", `getdate(doc.dt)`, "2024-03-15"},
		{"named string", `doc.st == "Open"`, true},
		{"named string method", `doc.st.lower()`, "open"},
		{"[]string", `"a" in doc.strs`, true},
		{"[]string len", `len(doc.strs)`, int64(2)},
		{"map[string]string", `doc.smap.k`, "v"},
		{"map[string]string get", `doc.smap.get("x", 1)`, int64(1)},
		{"[]int", `doc.ints[1] * 2`, int64(4)},
		{"rows of int", `doc.rows[1].qty == 2`, true},
		{"typed list equals literal", `doc.ints == [1, 2]`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Eval(testCtx(), map[string]any{"doc": driverDoc()})
			if err != nil {
				t.Fatalf("Eval(%q): %v", c.src, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Eval(%q) = %#v, want %#v", c.src, got, c.want)
			}
		})
	}
}

func TestTruthy(t *testing.T) {
	var nilPtr *int
	cases := []struct {
		name string
		v    any
		want bool
	}{
		{"nil", nil, false},
		{"false", false, false},
		{"true", true, true},
		{"int64 0", int64(0), false},
		{"int 0", 0, false},
		{"uint 0", uint(0), false},
		{"int 1", 1, true},
		{"float 0", 0.0, false},
		{"float32 0", float32(0), false},
		{"negative zero", math.Copysign(0, -1), false},
		{"NaN", math.NaN(), true},
		{"empty string", "", false},
		{"string 0", "0", true},
		{"string False", "False", true},
		{"empty []any", []any{}, false},
		{"nil []any", []any(nil), false},
		{"[]any of None", []any{nil}, true},
		{"empty []string", []string{}, false},
		{"empty []map", []map[string]any{}, false},
		{"empty map", map[string]any{}, false},
		{"nil map", map[string]any(nil), false},
		{"map", map[string]any{"a": nil}, true},
		{"empty map[string]string", map[string]string{}, false},
		{"json 0", json.Number("0"), false},
		{"json 0.0", json.Number("0.0"), false},
		{"nil pointer", nilPtr, false},
		{"struct", struct{}{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Truthy(c.v); got != c.want {
				t.Errorf("Truthy(%#v) = %v, want %v", c.v, got, c.want)
			}
		})
	}
}
