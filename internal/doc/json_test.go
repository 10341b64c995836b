package doc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// referenceFromJSON is what FromJSON did before it read tokens itself:
// encoding/json with UseNumber, then FromAny. FromJSON must agree with it.
func referenceFromJSON(b []byte) (Doc, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return FromAny(m), nil
}

var fromJSONSeeds = []string{
	`{}`, `null`, ` {"a": 1} `, `{"a": 1.50, "b": -0, "c": 1e400, "d": 12345678901234567890}`,
	`{"s": "é\u00e9\ud83d\ude00\n\"", "t": true, "f": false, "n": null}`,
	`{"rows": [{"x": 1}, {"y": [{"z": 2}]}], "mixed": [1, {"a": 1}, [{"b": 2}]], "empty": [], "obj": {"in": {"deep": [{"r": 1}]}}}`,
	`{"dup": 1, "dup": 2}`, "{\"bad\xffutf\": \"x\xfey\"}", `{"a": 1} trailing`, `{"a": 1}{"b": 2}`,
	`[]`, `"str"`, `1`, `true`, `{"a": }`, `{"a": 1`, `{"a" 1}`, ``, `{"a": [1, 2,]}`, `{"a": 01}`,
}

func FuzzFromJSONMatchesEncodingJSON(f *testing.F) {
	for _, s := range fromJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotErr := FromJSON(b)
		want, wantErr := referenceFromJSON(b)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%q: error %v, encoding/json error %v", b, gotErr, wantErr)
		}
		if gotErr == nil && !cmp.Equal(got, want) {
			t.Fatalf("%q: got %#v, encoding/json gives %#v", b, got, want)
		}
	})
}

func TestFromJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range fromJSONSeeds {
		got, gotErr := FromJSON([]byte(s))
		want, wantErr := referenceFromJSON([]byte(s))
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("%q: error %v, encoding/json error %v", s, gotErr, wantErr)
			continue
		}
		if gotErr == nil && !cmp.Equal(got, want) {
			t.Errorf("%q: got %#v, encoding/json gives %#v", s, got, want)
		}
	}
}

func BenchmarkFromJSON(b *testing.B) {
	body := []byte(`{"name": "CUST-000123", "customer_name": "Customer 123 Ltd", "customer_type": "Company", "territory": "Europe",
		"email_id": "c123@example.com", "mobile_no": "+44 20 7946 0123", "credit_limit": 15000.5, "disabled": 0, "website": "https://c123.example.com",
		"tax_id": "GB123456789", "notes": "A customer used by the benchmark, with a line of notes.", "modified": "2026-12-06 05:00:00.000000",
		"items": [{"name": "r1", "item_code": "ITEM-1", "qty": 2, "rate": 10.5}, {"name": "r2", "item_code": "ITEM-2", "qty": 1, "rate": 99}]}`)
	for _, impl := range []struct {
		name string
		f    func([]byte) (Doc, error)
	}{{"jsontext", FromJSON}, {"encoding-json", referenceFromJSON}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := impl.f(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
