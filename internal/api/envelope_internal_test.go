package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestRawMessageLength: a raw message (a page of update logs) goes out with
// its Content-Length, not chunked, and the body is the envelope around it.
func TestRawMessageLength(t *testing.T) {
	for _, raw := range []string{`[]`, `[` + strings.Repeat(`{"name": "x"},`, 20000) + `{}]`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeRawMessage(w, RawMessage(raw))
		}))
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) > 0 {
			t.Fatalf("%d-byte message: Content-Length %d, transfer encoding %v, body %d bytes", len(raw), resp.ContentLength, resp.TransferEncoding, len(body))
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(body, &env); err != nil || !bytes.Equal(env["message"], []byte(raw)) {
			t.Fatalf("%d-byte message: body is not its envelope (%v)", len(raw), err)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
			t.Fatalf("Content-Length %q, body %d bytes", got, len(body))
		}
	}
}
