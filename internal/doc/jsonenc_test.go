package doc

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
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

// AppendJSON remembers key orders by key count: documents with as many keys
// but other ones, with null values, and nested rows, encoded in turn and
// side by side, must each still come out as encoding/json writes them.
func TestAppendJSONKeyOrders(t *testing.T) {
	t.Parallel()
	docs := []Doc{
		{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7"},
		{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "h": "7"},
		{"g": "1", "f": "2", "e": "3", "d": "4", "c": "5", "b": "6", "a": "7"},
		{"a": nil, "b": "2", "c": nil, "d": "4", "e": "5", "f": "6", "g": nil},
		{"z": "1", "y": "2", "x": "3", "w": "4", "v": "5", "u": "6", "rows": []Doc{
			{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "h": "7"},
			{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": nil}}},
		{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": 7.5, "h": "x", "i": "y", "j": "z", "k": "w", "l": "v", "m": "u", "n": "t", "o": "s", "p": "r", "q": "q"},
		{"b": "1"},
	}
	for range 3 {
		for i, d := range docs {
			want, err := json.Marshal(d.WithoutNulls())
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			t.Run("", func(t *testing.T) {
				t.Parallel()
				for range 50 {
					if got, err = d.AppendJSON([]byte("prefix")); err != nil || string(got) != "prefix"+string(want) {
						t.Fatalf("doc %d: AppendJSON = %s, %v\nwant prefix%s", i, got, err, want)
					}
				}
			})
		}
	}
}

// BenchmarkAppendJSONString is a log's payload as a pull serves it: a
// document's JSON inside a JSON string.
func BenchmarkAppendJSONString(b *testing.B) {
	for _, tc := range []struct{ name, s string }{
		{"plain", "Payment terms 30 days net, to be paid by bank transfer to the account on the invoice, v1"},
		{"json", `{"city":"Berlin","code":"CUST-0000001","country":"Germany","credit_limit":101.5,"customer_name":"Customer number 1","docstatus":0,"doctype":"Bench Customer","email":"customer1@example.com"}`},
		{"unicode", "Zahlungsbedingungen: 30 Tage netto, Überweisung an das Konto auf der Rechnung – danke ✓"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				buf = AppendJSONString(buf[:0], tc.s)
			}
		})
	}
}

// FormatDatetime writes its digits itself: it must agree with time.Format
// on every instant, in any location, including the years Format pads.
func FuzzFormatDatetime(f *testing.F) {
	f.Add(int64(0), int64(0), false)
	f.Add(int64(1733493601), int64(999999999), true)
	f.Add(int64(-62135596800), int64(1), false)     // year 1
	f.Add(int64(253402300799), int64(999999), true) // 9999-12-31 23:59:59
	f.Add(int64(253402300800), int64(0), false)     // year 10000
	f.Add(int64(-62198755200), int64(0), false)     // year -1
	f.Fuzz(func(t *testing.T, sec, nsec int64, east bool) {
		loc := time.UTC
		if east {
			loc = time.FixedZone("X", 5*3600+45*60)
		}
		tm := time.Unix(sec, nsec).In(loc)
		if got, want := FormatDatetime(tm), tm.Format(DatetimeLayout); got != want {
			t.Fatalf("FormatDatetime(%v) = %q, want %q", tm, got, want)
		}
	})
}
