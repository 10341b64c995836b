package stream

import (
	"encoding/json"
	"reflect"
	"testing"

	"docstream/internal/doc"
)

// FuzzPullDecode is the fast, in-process half of FuzzPullAnswer (in
// wire_test.go, which drives a real consumer over HTTP): the decoding of a
// pull answer's message into remoteLogs (decodeLogPage, which must accept
// and give what encoding/json does), remoteLog.dataString, and the
// payload decoders applyLog runs on its result. None may panic, and
// dataString must give Frappe's meaning of data: a JSON string is its text,
// null or absent is "", anything else (a producer sending the object
// itself) is that JSON text.
func FuzzPullDecode(f *testing.F) {
	for _, s := range []string{
		`[]`, `null`, `[null]`,
		`[{"update_type": "Create", "ref_doctype": "Note", "docname": "n1", "data": "{\n \"name\": \"n1\",\n \"title\": \"n1\"\n}", "name": "abc", "creation": "2024-03-01 09:00:01.000001"}]`,
		`[{"update_type": "Update", "ref_doctype": "Note", "docname": "n1", "data": "{\"added\": {}, \"changed\": {\"body\": \"x\"}, \"removed\": {}, \"row_changed\": {\"items\": [{\"name\": \"r1\", \"qty\": 2}]}}", "name": "abd", "creation": "2024-03-01 09:00:02"}]`,
		`[{"update_type": "Delete", "ref_doctype": "Note", "docname": "n1", "data": null, "name": "abe", "creation": "2024-03-01 09:00:03"}]`,
		`[{"update_type": "Create", "data": {"name": "n2"}, "seq": 7}]`,
		`[{"data": ""}]`, `[{"data": 1}]`, `[{"data": "\"str\""}]`, `[{"seq": "x"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		logs, err := decodeLogPage(msg)
		var want []remoteLog
		if werr := json.Unmarshal(msg, &want); (err == nil) != (werr == nil) {
			t.Fatalf("decodeLogPage(%q): error %v, encoding/json's %v", msg, err, werr)
		}
		if err != nil {
			return // pull reports "not understood" and applies nothing
		}
		if !reflect.DeepEqual(logs, want) {
			t.Fatalf("decodeLogPage(%q) = %+v, encoding/json gives %+v", msg, logs, want)
		}
		for _, l := range logs {
			s := l.dataString()
			var str string
			switch {
			case len(l.Data) == 0 || string(l.Data) == "null":
				if s != "" {
					t.Fatalf("dataString(%s) = %q, want empty", l.Data, s)
				}
			case json.Unmarshal(l.Data, &str) == nil:
				if s != str {
					t.Fatalf("dataString(%s) = %q, want the string's text %q", l.Data, s, str)
				}
			default:
				if s != string(l.Data) || !json.Valid([]byte(s)) {
					t.Fatalf("dataString(%s) = %q, want the JSON text itself", l.Data, s)
				}
			}
			// What applyLog does with it must not panic.
			_, _ = doc.FromJSON([]byte(s))
			_, _ = doc.DecodeUpdate([]byte(s))
		}
	})
}
