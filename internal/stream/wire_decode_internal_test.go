package stream

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	jsonv1 "github.com/go-json-experiment/json/v1"

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

// BenchmarkDecodePage decodes a pull answer of 300 Creates as a consumer
// does, from the answer's bytes to each log's data as text: with
// encoding/json throughout (as before 0e82681), and as now (the envelope and
// the page in one pass each, data unquoted directly).
//
//	go test ./internal/stream -run '^$' -bench DecodePage
func BenchmarkDecodePage(b *testing.B) {
	var logs []map[string]any
	for i := range 300 {
		d := map[string]any{"name": fmt.Sprintf("CUST-%07d", i), "customer_name": fmt.Sprintf("Customer number %d", i),
			"email": fmt.Sprintf("customer%d@example.com", i), "phone": "+49-30-00000001", "city": "Berlin", "country": "Germany",
			"territory": "Europe", "credit_limit": 100.5, "status": "Active", "last_change": "2023-11-14 22:13:20.000000",
			"notes": "Payment terms 30 days net, v1", "owner": "Administrator", "creation": "2026-12-06 16:18:05.123456",
			"modified": "2026-12-06 16:18:05.123456", "modified_by": "Administrator", "docstatus": 0, "idx": 0, "doctype": "Bench Customer"}
		data, _ := json.Marshal(d)
		logs = append(logs, map[string]any{"name": fmt.Sprintf("EUL-%010d", i), "update_type": "Create", "ref_doctype": "Bench Customer",
			"docname": d["name"], "data": string(data), "creation": "2026-12-06 16:18:05.123456", "seq": i})
	}
	answer, _ := json.Marshal(map[string]any{"message": logs})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(answer)))
		for b.Loop() {
			var env map[string]json.RawMessage
			var page []remoteLog
			if json.Unmarshal(answer, &env) != nil || json.Unmarshal(env["message"], &page) != nil {
				b.Fatal("not decoded")
			}
			for _, l := range page {
				var s string
				if json.Unmarshal(l.Data, &s) != nil {
					b.Fatal("data not decoded")
				}
			}
		}
	})
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(answer)))
		for b.Loop() {
			var env map[string]json.RawMessage
			if jsonv1.Unmarshal(answer, &env) != nil {
				b.Fatal("not decoded")
			}
			page, err := decodeLogPage(env["message"])
			if err != nil {
				b.Fatal(err)
			}
			for i := range page {
				page[i].dataString()
			}
		}
	})
}
