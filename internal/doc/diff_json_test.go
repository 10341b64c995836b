package doc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"docstream/internal/errs"
)

func TestUpdateMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		u    Update
		want string
	}{
		{name: "zero value has all four keys", u: Update{}, want: `{"changed":{},"added":{},"removed":{},"row_changed":{}}`},
		{
			name: "values",
			u: Update{
				Changed:    map[string]any{"b": nil, "a": 1.5, "docstatus": int64(1)},
				Added:      map[string][]Doc{"items": {{"name": "r4", "qty": nil}}},
				Removed:    map[string][]string{"items": {"r1"}, "empty": nil},
				RowChanged: map[string][]Doc{"items": {{"name": "r2", "idx": int64(1)}}},
			},
			want: `{"changed":{"a":1.5,"b":null,"docstatus":1},"added":{"items":[{"name":"r4","qty":null}]},` +
				`"removed":{"empty":[],"items":["r1"]},"row_changed":{"items":[{"idx":1,"name":"r2"}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.u)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestDecodeUpdate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Update
	}{
		{name: "empty object", in: `{}`, want: Update{}},
		{name: "nulls", in: `{"changed":null,"added":null,"removed":null,"row_changed":null}`, want: Update{}},
		{
			// As frappe.as_json writes it: indent 1, sorted keys.
			name: "frappe payload",
			in: `{
 "added": {"items": [{"doctype": "Order Item", "idx": 3, "item_code": "C", "name": "r3", "qty": 2.5, "note": null, "flag": true}]},
 "changed": {"docstatus": 1, "total": 12.0, "count": 3, "big": 12345678901234567890},
 "removed": {"items": ["r1"]},
 "row_changed": {"items": [{"name": "r2", "qty": 4}]}
}`,
			want: Update{
				Changed:    map[string]any{"docstatus": int64(1), "total": 12.0, "count": int64(3), "big": 12345678901234567890.0},
				Added:      map[string][]Doc{"items": {{"doctype": "Order Item", "idx": int64(3), "item_code": "C", "name": "r3", "qty": 2.5, "note": nil, "flag": int64(1)}}},
				Removed:    map[string][]string{"items": {"r1"}},
				RowChanged: map[string][]Doc{"items": {{"name": "r2", "qty": int64(4)}}},
			},
		},
		{
			name: "row_changed in the docstring's dict form",
			in:   `{"row_changed": {"items": {"r2": {"qty": 4}, "r1": {"name": "r1", "uom": "Kg"}}}}`,
			want: Update{RowChanged: map[string][]Doc{"items": {{"name": "r1", "uom": "Kg"}, {"name": "r2", "qty": int64(4)}}}},
		},
		{
			name: "integer row names and nested lists",
			in:   `{"removed": {"items": [7]}, "changed": {"tags": ["a", 1], "none": []}}`,
			want: Update{Removed: map[string][]string{"items": {"7"}}, Changed: map[string]any{"tags": []any{"a", int64(1)}, "none": []Doc{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeUpdate([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("DecodeUpdate (-want +got):\n%s", diff)
			}
			var viaUnmarshal Update
			if err := json.Unmarshal([]byte(tt.in), &viaUnmarshal); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, viaUnmarshal, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("json.Unmarshal differs from DecodeUpdate:\n%s", diff)
			}
		})
	}
}

func TestDecodeUpdateErrors(t *testing.T) {
	tests := []struct {
		name, in, wantMsg string
	}{
		{"not JSON", `{"changed":`, "not valid JSON"},
		{"trailing data", `{} {}`, "unexpected data"},
		{"not an object", `[1]`, "expected an object, got a list"},
		{"null", `null`, "got null"},
		{"changed list", `{"changed": []}`, "changed must be an object"},
		{"added not keyed", `{"added": [{"name": "x"}]}`, "added must be an object keyed by table"},
		{"added rows not a list", `{"added": {"items": {"name": "x"}}}`, `added["items"] must be a list`},
		{"added row not object", `{"added": {"items": ["x"]}}`, `added["items"][0]`},
		{"removed not names", `{"removed": {"items": [{"name": "x"}]}}`, `removed["items"][0] is not a row name`},
		{"removed empty name", `{"removed": {"items": [""]}}`, `removed["items"][0]`},
		{"row_changed without name", `{"row_changed": {"items": [{"qty": 1}]}}`, "has no name"},
		{"row_changed dict with other name", `{"row_changed": {"items": {"a": {"name": "b"}}}}`, "names another row"},
		{"row_changed dict with empty name", `{"row_changed": {"": {"": {}}}}`, "empty name"},
		{"row_changed string", `{"row_changed": {"items": "x"}}`, "must be a list of rows"},
		{"number out of range", `{"changed": {"x": 1e400}}`, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeUpdate([]byte(tt.in))
			e := wantErr(t, err, errs.KindValidation, "ValidationError")
			if !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.wantMsg)
			}
		})
	}
}
