package doc

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// AppendJSON must write what encoding/json writes for the same document
// without its nulls: the update log's Create payload was that, and byte
// diffs of logs, tests and consumers' caches should not see a change.
func FuzzAppendJSONMatchesEncodingJSON(f *testing.F) {
	f.Add("Customer <1> & co", "line\nbreak\t\"q\"\\ \u2028\u2029 \x00\x1f\x7f é 漢", int64(-42), 1.5, true)
	f.Add("\xff\xfe invalid", "", int64(math.MaxInt64), 1e-7, false)
	f.Add("x", "y", int64(0), 1e21, false)
	f.Add("x", "y", int64(0), -0.000001, false)
	f.Add("x", "y", int64(0), 123456789.125, false)
	f.Fuzz(func(t *testing.T, s1, s2 string, n int64, x float64, flag bool) {
		d := Doc{"name": s1, s2: s1, "count": n, "rate": x, "on": flag, "gone": nil, "int": int(n % 1000),
			"rows": []Doc{{"name": s2, "value": x, "empty": nil}, {s1: n}}, "none": []Doc(nil),
			"other": map[string]any{"k": s2, "null": nil}, "list": []any{s1, n, nil}}
		want, werr := json.Marshal(d.WithoutNulls())
		got, gerr := d.AppendJSON(nil)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("errors differ: encoding/json %v, AppendJSON %v", werr, gerr)
		}
		if string(got) != string(want) {
			t.Fatalf("AppendJSON\n got %s\nwant %s", got, want)
		}
	})
}

// AppendJSONString must write what the API's encoder (SetEscapeHTML(false))
// writes for the same string: pull answers are written with it, and a
// consumer must not see a difference with the answers encoding/json wrote.
func FuzzAppendJSONStringMatchesEncoder(f *testing.F) {
	f.Add("Customer <1> & co \"q\" \\ \u2028\u2029 \x00\x1f\x7f é 漢")
	f.Add("\xff\xfe invalid \xed\xa0\x80")
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(AppendJSONString(nil, s)) + "\n"; got != want.String() {
			t.Fatalf("AppendJSONString(%q)\n got %s\nwant %s", s, got, want.String())
		}
	})
}

func TestAppendJSONNotANumber(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if b, err := (Doc{"x": x}).AppendJSON(nil); err == nil {
			t.Errorf("AppendJSON(%v) = %s, want an error", x, b)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	d := Doc{"code": "CUST-0000001", "customer_name": "Customer number 1", "email": "customer1@example.com", "phone": "+49-30-00000001",
		"city": "Berlin", "country": "Germany", "territory": "Europe", "credit_limit": 101.5, "status": "Active",
		"last_change": "2023-11-14 22:13:21", "notes": "Payment terms 30 days net, v1", "doctype": "Bench Customer", "name": "CUST-0000001",
		"owner": "Administrator", "creation": "2025-01-10 09:00:00.000000", "modified": "2025-01-10 09:00:00.000000",
		"modified_by": "Administrator", "docstatus": int64(0), "idx": int64(0)}
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(d.WithoutNulls()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.AppendJSON(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
