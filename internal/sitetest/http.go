package sitetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// Client sends requests to a test site as one identity: an Authorization
// header, a session cookie (kept in a jar), or nothing (Guest).
type Client struct {
	Base string
	Auth string // Authorization header value; "" for none
	// Header holds extra request headers (e.g. a hand-made Cookie).
	Header http.Header
	HTTP   *http.Client
}

// Guest returns a client without credentials and without a cookie jar.
func (s *Site) Guest() *Client { return &Client{Base: s.URL, HTTP: &http.Client{}} }

// Admin returns a client authenticating as Administrator with `token key:secret`.
func (s *Site) Admin() *Client {
	return &Client{Base: s.URL, Auth: s.TokenAuth(), HTTP: &http.Client{}}
}

// As returns a client with the given Authorization header value.
func (s *Site) As(auth string) *Client {
	return &Client{Base: s.URL, Auth: auth, HTTP: &http.Client{}}
}

// Login logs in with usr/pwd through POST /api/method/login (JSON) and
// returns a client that carries the sid cookie.
func (s *Site) Login(tb testing.TB, usr, pwd string) *Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &Client{Base: s.URL, HTTP: &http.Client{Jar: jar}}
	r := c.Do(tb, http.MethodPost, "/api/method/login", map[string]any{"usr": usr, "pwd": pwd})
	if r.Status != http.StatusOK {
		tb.Fatalf("login %s: %d %s", usr, r.Status, trim(r.Body))
	}
	return c
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any // nil when the body is not a JSON object
}

// Form is a urlencoded request body.
type Form url.Values

// Raw is a request body sent as is with the given content type.
type Raw struct {
	ContentType string
	Body        string
}

// Do sends one request. body may be nil, a Form (urlencoded), a Raw body, or
// anything else, which is sent as JSON.
func (c *Client) Do(tb testing.TB, method, path string, body any) *Response {
	tb.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case Form:
		rd, ct = strings.NewReader(url.Values(b).Encode()), "application/x-www-form-urlencoded"
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case Raw:
		rd, ct = strings.NewReader(b.Body), b.ContentType
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("encode body: %v", err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		tb.Fatalf("request %s %s: %v", method, path, err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if c.Auth != "" {
		req.Header.Set("Authorization", c.Auth)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		r.JSON = m
	}
	return r
}

// Get is Do with GET and query parameters; structured values are JSON-encoded
// as Frappe clients send them.
func (c *Client) Get(tb testing.TB, path string, params map[string]any) *Response {
	tb.Helper()
	return c.Do(tb, http.MethodGet, path+Query(params), nil)
}

// Query renders params as a query string ("" when empty); strings are sent
// as they are, other values as JSON.
func Query(params map[string]any) string {
	if len(params) == 0 {
		return ""
	}
	v := url.Values{}
	for k, p := range params {
		if s, ok := p.(string); ok {
			v.Set(k, s)
			continue
		}
		b, _ := json.Marshal(p)
		v.Set(k, string(b))
	}
	return "?" + v.Encode()
}

// Data returns the `data` member of a resource answer.
func (r *Response) Data() any { return r.JSON["data"] }

// Doc returns `data` as an object (nil if it is not one).
func (r *Response) Doc() map[string]any {
	m, _ := r.JSON["data"].(map[string]any)
	return m
}

// Rows returns `data` (or `message`) as a list of objects.
func (r *Response) Rows() []map[string]any {
	v, ok := r.JSON["data"]
	if !ok {
		v = r.JSON["message"]
	}
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

// Message returns the `message` member of a method answer.
func (r *Response) Message() any { return r.JSON["message"] }

// ExcType is Frappe's exception class name in an error answer.
func (r *Response) ExcType() string { s, _ := r.JSON["exc_type"].(string); return s }

// ServerMessages decodes `_server_messages` (a JSON string of a list of JSON
// strings) into the message texts.
func (r *Response) ServerMessages() []string {
	s, _ := r.JSON["_server_messages"].(string)
	if s == "" {
		return nil
	}
	var outer []string
	if err := json.Unmarshal([]byte(s), &outer); err != nil {
		return []string{"<undecodable _server_messages: " + err.Error() + ">"}
	}
	var out []string
	for _, o := range outer {
		var m struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(o), &m); err != nil {
			out = append(out, "<undecodable message: "+err.Error()+">")
			continue
		}
		out = append(out, m.Message)
	}
	return out
}

// String is a short description for failure messages.
func (r *Response) String() string { return http.StatusText(r.Status) + " " + trim(r.Body) }

// MustStatus fails the test unless the answer has status want.
func (r *Response) MustStatus(tb testing.TB, want int) *Response {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("status %d, want %d: %s", r.Status, want, trim(r.Body))
	}
	return r
}

// MustOK fails the test unless the answer is 200.
func (r *Response) MustOK(tb testing.TB) *Response {
	tb.Helper()
	return r.MustStatus(tb, http.StatusOK)
}

// Path renders /api/resource/<doctype>[/<name>] with each part escaped as
// frappe-js-sdk does (encodeURIComponent: `/` becomes %2F).
func Path(doctype string, name ...string) string {
	p := "/api/resource/" + url.PathEscape(doctype)
	for _, n := range name {
		p += "/" + url.PathEscape(n)
	}
	return p
}

// MustInsert creates a document through POST /api/resource and returns it.
func (c *Client) MustInsert(tb testing.TB, doctype string, d map[string]any) map[string]any {
	tb.Helper()
	r := c.Do(tb, http.MethodPost, Path(doctype), d)
	if r.Status != http.StatusOK {
		tb.Fatalf("insert %s: %d %s", doctype, r.Status, trim(r.Body))
	}
	return r.Doc()
}

// MustCreateDocType creates a DocType from its Frappe JSON.
func (c *Client) MustCreateDocType(tb testing.TB, def string) map[string]any {
	tb.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		tb.Fatalf("DocType JSON: %v", err)
	}
	return c.MustInsert(tb, "DocType", d)
}

// MustCount answers frappe.client.get_count for doctype and filters.
func (c *Client) MustCount(tb testing.TB, doctype string, filters any) int {
	tb.Helper()
	p := map[string]any{"doctype": doctype}
	if filters != nil {
		p["filters"] = filters
	}
	r := c.Get(tb, "/api/method/frappe.client.get_count", p).MustOK(tb)
	n, ok := r.Message().(float64)
	if !ok {
		tb.Fatalf("get_count %s: message is %T, not a number: %s", doctype, r.Message(), trim(r.Body))
	}
	return int(n)
}
