package stream_test

// Helpers that speak Frappe's wire dialect by hand, as Python's FrappeClient
// (frappe/frappeclient.py, on `requests`) and a Frappe site's HTTP layer do,
// without docstream's own client: used by wire_test.go to play a Frappe peer.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/site"
)

// ---- Python's json.dumps -------------------------------------------------

// pyObj is a Python dict: keys keep their insertion order, as json.dumps
// writes them.
type pyObj []pyKV

type pyKV struct {
	K string
	V any
}

// pyDumps is json.dumps(v): separators ", " and ": ", ensure_ascii.
func pyDumps(v any) string {
	var b strings.Builder
	pyEncode(&b, v, -1, 0, ", ", ": ")
	return b.String()
}

// pyAsJSON is frappe.as_json(v): json.dumps(v, indent=1, sort_keys=True).
// Maps are always written with sorted keys; pyObj keeps its order (callers
// build it sorted when they need to).
func pyAsJSON(v any) string {
	var b strings.Builder
	pyEncode(&b, v, 1, 0, ",", ": ")
	return b.String()
}

// pyResponse is how a Frappe site writes a response body:
// json.dumps(response, separators=(",", ":")).
func pyResponse(v any) string {
	var b strings.Builder
	pyEncode(&b, v, -1, 0, ",", ":")
	return b.String()
}

func pyEncode(b *strings.Builder, v any, indent, level int, itemSep, keySep string) {
	nl := func(l int) {
		if indent >= 0 {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*l))
		}
	}
	list := func(n int, item func(i int)) {
		if n == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteString(itemSep)
			}
			nl(level + 1)
			item(i)
		}
		nl(level)
		b.WriteByte(']')
	}
	object := func(kvs pyObj) {
		if len(kvs) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, kv := range kvs {
			if i > 0 {
				b.WriteString(itemSep)
			}
			nl(level + 1)
			b.WriteString(pyString(kv.K))
			b.WriteString(keySep)
			pyEncode(b, kv.V, indent, level+1, itemSep, keySep)
		}
		nl(level)
		b.WriteByte('}')
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(map[bool]string{true: "true", false: "false"}[x])
	case string:
		b.WriteString(pyString(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	case json.Number:
		b.WriteString(x.String())
	case pyObj:
		object(x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kvs := make(pyObj, len(keys))
		for i, k := range keys {
			kvs[i] = pyKV{k, x[k]}
		}
		object(kvs)
	case []any:
		list(len(x), func(i int) { pyEncode(b, x[i], indent, level+1, itemSep, keySep) })
	case []string:
		list(len(x), func(i int) { pyEncode(b, x[i], indent, level+1, itemSep, keySep) })
	case []pyObj:
		list(len(x), func(i int) { pyEncode(b, x[i], indent, level+1, itemSep, keySep) })
	default:
		panic(fmt.Sprintf("pyEncode: unsupported %T", v))
	}
}

// pyString quotes like json.dumps with ensure_ascii=True.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r < 0x80:
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pyFloat is Python's repr of a float (integral values keep ".0").
func pyFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		panic("pyFloat: not JSON")
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// ---- requests / FrappeClient ----------------------------------------------

// pyForm is urllib.parse.urlencode of an ordered list of pairs (quote_plus:
// the same escaping as url.QueryEscape), as requests encodes params= and data=.
func pyForm(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(pairs[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(pairs[i+1]))
	}
	return b.String()
}

// basicAuth is FrappeClient's header: Basic base64("key:secret").
func basicAuth(key, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

// tokenAuth is the other form Frappe accepts: token key:secret.
func tokenAuth(key, secret string) string { return "token " + key + ":" + secret }

type wireResp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object (FrappeClient's response.json()).
func (r wireResp) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("answer (HTTP %d) is not a JSON object: %v: %s", r.Status, err, r.Body)
	}
	return m
}

var wireHTTP = &http.Client{Timeout: 30 * time.Second}

// frappeDo sends one request as FrappeClient's requests.Session does, with
// its default headers. target is written verbatim as the request target
// ("/", "/api/method/x?data=…", "/api/resource/Event%20Consumer/http://…"):
// requests only quotes what a URL cannot hold (the DocType's space becomes
// %20; ':' and '/' in a name stay as they are). body is a urlencoded form or "".
func frappeDo(tb testing.TB, method, base, target, body, authz string) wireResp {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base, rd)
	if err != nil {
		tb.Fatal(err)
	}
	path, query, _ := strings.Cut(target, "?")
	req.URL.Opaque, req.URL.RawQuery = path, query
	req.Header.Set("Accept", "application/json")
	req.Header.Set("content-type", "application/x-www-form-urlencoded")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := wireHTTP.Do(req)
	if err != nil {
		tb.Fatalf("%s %s%s: %v", method, base, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return wireResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// pyPostProcess is FrappeClient.post_process: it raises when `exc` is truthy
// (whatever the HTTP status), else returns message, else data, else None.
// raised reports the FrappeException; ok=false means the body is not JSON
// (the Python client raises ValueError).
func pyPostProcess(body []byte) (result any, raised, ok bool) {
	var m any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, true, false
	}
	obj, isObj := m.(map[string]any)
	if !isObj {
		// `"exc" in rjson` on a list/str is a membership test; a real site
		// never answers that; treat as an unusable answer.
		return nil, true, true
	}
	if pyTruthy(obj["exc"]) {
		return nil, true, true
	}
	if v, has := obj["message"]; has {
		return v, false, true
	}
	if v, has := obj["data"]; has {
		return v, false, true
	}
	return nil, false, true
}

// pyTruthy is Python's bool() of a decoded JSON value.
func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case json.Number:
		f, _ := x.Float64()
		return f != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// ---- a Frappe site's side of a request ---------------------------------------

// wireReq is one request a fake Frappe peer received, as recorded.
type wireReq struct {
	Method, Target, Path string // Target is the raw request target; Path is decoded
	Query                string // raw query string
	Body                 string
	Form                 url.Values // make_form_dict: query, then the form body over it
	Authz, ContentType   string
	Accept               string
	Cmd                  string // the RPC method: root cmd= or /api/method/<cmd>
	Root                 bool   // cmd came as a root form/query field
}

func readWireReq(r *http.Request) wireReq {
	b, _ := io.ReadAll(r.Body)
	w := wireReq{Method: r.Method, Target: r.RequestURI, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(b),
		Form: url.Values{}, Authz: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"),
		Accept: r.Header.Get("Accept")}
	for k, v := range r.URL.Query() {
		w.Form[k] = v
	}
	if len(b) > 0 && !strings.HasPrefix(w.ContentType, "application/json") {
		if vals, err := url.ParseQuery(string(b)); err == nil {
			for k, v := range vals {
				w.Form[k] = v
			}
		}
	}
	if m, ok := strings.CutPrefix(r.URL.Path, "/api/method/"); ok {
		w.Cmd, _, _ = strings.Cut(m, "/")
	} else if c := w.Form.Get("cmd"); c != "" {
		w.Cmd, w.Root = c, true
	}
	return w
}

func writeWire(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// frappeError writes an error as a stock Frappe site does (tracebacks on):
// exc_type, exception, exc (a JSON list of traceback strings as a string),
// _server_messages (a JSON list of JSON strings as a string).
func frappeError(w http.ResponseWriter, status int, excType, message string) {
	msg := pyDumps(pyObj{{"message", message}, {"title", "Message"}, {"indicator", "red"}, {"raise_exception", 1}})
	tb := "Traceback (most recent call last):\n  File \"apps/frappe/frappe/app.py\", line 66, in application\n    response = frappe.api.handle()\nfrappe.exceptions." + excType + ": " + message + "\n"
	writeWire(w, status, pyResponse(pyObj{
		{"exception", "frappe.exceptions." + excType + ": " + message},
		{"exc_type", excType},
		{"exc", pyDumps([]any{tb})},
		{"_server_messages", pyDumps([]any{msg})},
	}))
}

// frappeNoMethod is Frappe's answer for a method path it does not have
// (handler.execute_cmd: frappe.throw → ValidationError, HTTP 417).
func frappeNoMethod(w http.ResponseWriter, cmd string) {
	mod, _, _ := strings.Cut(cmd, ".")
	frappeError(w, http.StatusExpectationFailed, "ValidationError",
		fmt.Sprintf("Failed to get method for command %s with No module named '%s'", cmd, mod))
}

// frappeDatetime parses creation/last_update as Frappe compares them
// (get_datetime): microseconds optional.
func frappeDatetime(s string) (time.Time, bool) {
	for _, l := range []string{"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ---- sites for testing.TB (fuzz targets) ------------------------------------

// Update.last_update).
func lastUpdateOf(s *site.Site, producer string) string {
	d, _ := s.App.Get(context.Background(), app.Admin(), "Event Producer Last Update", producer)
	return d.Str("last_update")
}
