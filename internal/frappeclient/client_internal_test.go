package frappeclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecodeEnvelope: decodeEnvelope accepts what encoding/json accepts and
// gives the same members.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"message": [{"name": "a", "data": "{\"x\": 1}"}]}`, `{"message": null}`, `{}`, `[]`, `null`,
		`{"message": 1, "message": 2}`, `{"exc_type": "ValidationError", "_server_messages": "[\"{}\"]"}`,
		`{"Message": "case"}`, "{\"m\": \"\xff\"}", `{"a": "\ud800"}`, `{"a": 1} x`, `{"a": 1e400}`, ` {"a" : [ ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeEnvelope(b)
		want := map[string]json.RawMessage{}
		werr := json.Unmarshal(b, &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("decodeEnvelope(%q): error %v, encoding/json's %v", b, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeEnvelope(%q) = %q, encoding/json gives %q", b, got, want)
		}
	})
}

// TestCallReadsWholeAnswers: an answer is read whole however it is framed:
// with its Content-Length (the buffer sized once), chunked, or larger than
// a first read.
func TestCallReadsWholeAnswers(t *testing.T) {
	big := strings.Repeat("x", 300<<10)
	for _, tc := range []struct {
		name   string
		length bool // send Content-Length
		text   string
	}{
		{"length, small", true, "hi"},
		{"length, large", true, big},
		{"chunked, small", false, "hi"},
		{"chunked, large", false, big},
		{"length, empty text", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"message": tc.text})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tc.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				// In pieces, so that an answer without a length is chunked.
				for rest := body; len(rest) > 0; {
					n := min(len(rest), 1000)
					w.Write(rest[:n])
					if f, ok := w.(http.Flusher); ok && !tc.length {
						f.Flush()
					}
					rest = rest[n:]
				}
			}))
			defer srv.Close()
			c := New(srv.URL, "k", "s")
			msg, _, err := c.Call(context.Background(), "x", nil)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if err := json.Unmarshal(msg, &got); err != nil || got != tc.text {
				t.Fatalf("message of %d bytes, want %d (%v)", len(got), len(tc.text), err)
			}
		})
	}
}

// TestCallShortAnswer: an answer cut short of its Content-Length is an
// error, not a truncated document.
func TestCallShortAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"message\": \"cut")
		buf.Flush()
	}))
	defer srv.Close()
	msg, _, err := New(srv.URL, "k", "s").Call(context.Background(), "x", nil)
	if err == nil {
		t.Fatalf("a cut answer gave message %q and no error", msg)
	}
}
