package cond

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"time"
)

const minInt = math.MinInt64

// norm maps a Go value from env onto the evaluator's value set: nil, bool,
// int64, float64, string, and lists and string-keyed maps of any element
// type. Documents decoded from JSON or SQL carry int, int32, float32,
// json.Number, time.Time and the like; without this, 1 == doc.qty would
// depend on which driver produced the document.
func norm(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, map[string]any, []any, []map[string]any:
		return v
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	case time.Time:
		return frappeTime(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u)
		}
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Pointer, reflect.Interface, reflect.Func, reflect.Chan:
		if rv.IsNil() {
			return nil
		}
	}
	return v
}

// frappeTime formats a time the way Frappe stores it: a date when there is
// no time of day, else "YYYY-MM-DD HH:MM:SS[.ffffff]".
func frappeTime(t time.Time) string {
	switch {
	case t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0:
		return t.Format("2006-01-02")
	case t.Nanosecond() == 0:
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// Truthy reports Python truthiness of v: None, False, 0, 0.0, "" and empty
// lists and maps are false; everything else, NaN included, is true.
func Truthy(v any) bool {
	switch x := norm(v).(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	if q, ok := asSeq(v); ok {
		return q.n > 0
	}
	if d, ok := asMap(v); ok {
		return d.len() > 0
	}
	return true
}

// typeName is the Python type name of a value, for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	}
	if _, ok := asSeq(v); ok {
		return "list"
	}
	if _, ok := asMap(v); ok {
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// number is a numeric value; bools are ints, as in Python.
type number struct {
	i       int64
	f       float64
	isFloat bool
}

func toNum(v any) (number, bool) {
	switch x := v.(type) {
	case int64:
		return number{i: x}, true
	case float64:
		return number{f: x, isFloat: true}, true
	case bool:
		if x {
			return number{i: 1}, true
		}
		return number{}, true
	}
	return number{}, false
}

func (n number) float() float64 {
	if n.isFloat {
		return n.f
	}
	return float64(n.i)
}

// seq is a read-only view of any list value, so child tables may arrive as
// []any, []map[string]any or any other slice type without being copied.
type seq struct {
	a  []any
	m  []map[string]any
	rv reflect.Value
	n  int
	k  uint8 // which of a, m, rv holds the list
}

func asSeq(v any) (seq, bool) {
	switch x := v.(type) {
	case []any:
		return seq{a: x, n: len(x)}, true
	case []map[string]any:
		return seq{m: x, n: len(x), k: 1}, true
	case nil, bool, int64, float64, string, map[string]any:
		return seq{}, false
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); k == reflect.Slice || k == reflect.Array {
		return seq{rv: rv, n: rv.Len(), k: 2}, true
	}
	return seq{}, false
}

func (q seq) at(i int) any {
	switch q.k {
	case 0:
		return norm(q.a[i])
	case 1:
		return q.m[i]
	}
	return norm(q.rv.Index(i).Interface())
}

// dict is a read-only view of a map with string keys.
type dict struct {
	m  map[string]any
	rv reflect.Value // used when m is nil
}

func asMap(v any) (dict, bool) {
	switch x := v.(type) {
	case map[string]any:
		return dict{m: x}, true
	case nil, bool, int64, float64, string, []any, []map[string]any:
		return dict{}, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
		return dict{rv: rv}, true
	}
	return dict{}, false
}

func (d dict) get(k string) (any, bool) {
	if !d.rv.IsValid() {
		v, ok := d.m[k]
		return norm(v), ok
	}
	e := d.rv.MapIndex(reflect.ValueOf(k).Convert(d.rv.Type().Key()))
	if !e.IsValid() {
		return nil, false
	}
	return norm(e.Interface()), true
}

func (d dict) len() int {
	if !d.rv.IsValid() {
		return len(d.m)
	}
	return d.rv.Len()
}

// keys returns the keys sorted, so that str() and walks are deterministic.
func (d dict) keys() []string {
	var ks []string
	if !d.rv.IsValid() {
		ks = make([]string, 0, len(d.m))
		for k := range d.m {
			ks = append(ks, k)
		}
	} else {
		for _, k := range d.rv.MapKeys() {
			ks = append(ks, k.String())
		}
	}
	sort.Strings(ks)
	return ks
}
