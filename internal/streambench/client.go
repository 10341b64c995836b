// Package streambench drives docstream sites from the outside, over HTTP, the
// way a user does: log in, create DocTypes and the Event Subscriber user,
// subscribe a consumer to a producer and approve it, and run `docstream serve`
// as a subprocess that can be killed. The Event Streaming benchmarks
// (`docstream bench stream`) and the crash tests (internal/e2e) are built on it.
package streambench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// AdminPassword is the Administrator password the benchmarks and tests give
// their sites.
const AdminPassword = "admin"

// Subscriber is the Event Subscriber user created on every site.
const Subscriber = "sync@example.com"

// Client talks to one site over HTTP as one logged-in user (session cookie).
type Client struct {
	Base string
	HTTP *http.Client
}

// NewClient returns a client for base (no trailing slash) with a cookie jar.
func NewClient(base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{Base: strings.TrimSuffix(base, "/"), HTTP: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}}}
}

// APIError is an error answer from the site.
type APIError struct {
	Status  int
	ExcType string
	Body    string
}

func (e *APIError) Error() string {
	b := e.Body
	if len(b) > 600 {
		b = b[:600] + "…"
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.ExcType, b)
}

// IsStatus reports whether err is an answer with HTTP status code.
func IsStatus(err error, code int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == code
}

// Do sends a JSON request (body may be nil) and decodes the JSON answer into
// out (may be nil). A non-2xx answer is an *APIError; a transport failure is
// returned as is.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var env struct {
			ExcType string `json:"exc_type"`
		}
		json.Unmarshal(b, &env)
		return &APIError{Status: resp.StatusCode, ExcType: env.ExcType, Body: string(b)}
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s %s: answer is not JSON: %w", method, path, err)
	}
	return nil
}

// ResourcePath is /api/resource/<doctype>[/<name>], each part escaped (names
// may hold `/`, as an Event Consumer named by its URL does).
func ResourcePath(doctype string, name ...string) string {
	p := "/api/resource/" + url.PathEscape(doctype)
	if len(name) > 0 {
		p += "/" + url.PathEscape(name[0])
	}
	return p
}

// Login logs in with a password (POST /api/method/login); the session cookie
// is kept for later requests.
func (c *Client) Login(ctx context.Context, usr, pwd string) error {
	return c.Do(ctx, http.MethodPost, "/api/method/login", map[string]any{"usr": usr, "pwd": pwd}, nil)
}

// Call calls a whitelisted method and returns its "message".
func (c *Client) Call(ctx context.Context, method string, args map[string]any) (json.RawMessage, error) {
	var env struct {
		Message json.RawMessage `json:"message"`
	}
	err := c.Do(ctx, http.MethodPost, "/api/method/"+method, args, &env)
	return env.Message, err
}

// Insert creates a document and returns it as stored.
func (c *Client) Insert(ctx context.Context, doctype string, d map[string]any) (map[string]any, error) {
	var env struct {
		Data map[string]any `json:"data"`
	}
	err := c.Do(ctx, http.MethodPost, ResourcePath(doctype), d, &env)
	return env.Data, err
}

// Get reads a document.
func (c *Client) Get(ctx context.Context, doctype, name string) (map[string]any, error) {
	var env struct {
		Data map[string]any `json:"data"`
	}
	err := c.Do(ctx, http.MethodGet, ResourcePath(doctype, name), nil, &env)
	return env.Data, err
}

// Save updates a document with the given fields (child tables are replaced
// by the rows given: rows with a name are kept, rows without are added).
func (c *Client) Save(ctx context.Context, doctype, name string, patch map[string]any) (map[string]any, error) {
	var env struct {
		Data map[string]any `json:"data"`
	}
	err := c.Do(ctx, http.MethodPut, ResourcePath(doctype, name), patch, &env)
	return env.Data, err
}

// Delete deletes a document.
func (c *Client) Delete(ctx context.Context, doctype, name string) error {
	return c.Do(ctx, http.MethodDelete, ResourcePath(doctype, name), nil, nil)
}

// List lists every document of doctype (no limit) with all fields. parent is
// the parent DocType when doctype is a child table, else "".
func (c *Client) List(ctx context.Context, doctype, parent string, filters any) ([]map[string]any, error) {
	q := url.Values{"fields": {`["*"]`}, "limit_page_length": {"0"}}
	if parent != "" {
		q.Set("parent", parent)
	}
	if filters != nil {
		b, _ := json.Marshal(filters)
		q.Set("filters", string(b))
	}
	var env struct {
		Data []map[string]any `json:"data"`
	}
	err := c.Do(ctx, http.MethodGet, ResourcePath(doctype)+"?"+q.Encode(), nil, &env)
	return env.Data, err
}

// Ping reports whether the site answers GET / with 200.
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/", nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/: HTTP %d", c.Base, resp.StatusCode)
	}
	return nil
}

// WaitUp polls Ping until the site answers or ctx ends.
func (c *Client) WaitUp(ctx context.Context) error {
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := c.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not come up: %w", c.Base, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Keys are an API key pair.
type Keys struct{ Key, Secret string }

// SetUpSubscriber logs in as Administrator, creates the Event Subscriber user
// (System Manager) and generates its API keys.
func SetUpSubscriber(ctx context.Context, c *Client) (Keys, error) {
	if err := c.Login(ctx, "Administrator", AdminPassword); err != nil {
		return Keys{}, fmt.Errorf("log in to %s: %w", c.Base, err)
	}
	if _, err := c.Insert(ctx, "User", map[string]any{"email": Subscriber, "first_name": "Sync",
		"new_password": "sync-Pass-1", "roles": []any{map[string]any{"role": "System Manager"}}}); err != nil {
		return Keys{}, fmt.Errorf("create %s on %s: %w", Subscriber, c.Base, err)
	}
	msg, err := c.Call(ctx, "frappe.core.doctype.user.user.generate_keys", map[string]any{"user": Subscriber})
	if err != nil {
		return Keys{}, fmt.Errorf("generate keys on %s: %w", c.Base, err)
	}
	var m struct {
		APISecret string `json:"api_secret"`
	}
	if err := json.Unmarshal(msg, &m); err != nil || m.APISecret == "" {
		return Keys{}, fmt.Errorf("generate keys on %s: unexpected answer %s", c.Base, msg)
	}
	u, err := c.Get(ctx, "User", Subscriber)
	if err != nil {
		return Keys{}, err
	}
	k, _ := u["api_key"].(string)
	return Keys{Key: k, Secret: m.APISecret}, nil
}

// CreateDocTypes creates DocTypes (child tables first) on a site.
func CreateDocTypes(ctx context.Context, c *Client, defs ...map[string]any) error {
	for _, d := range defs {
		if _, err := c.Insert(ctx, "DocType", d); err != nil {
			return fmt.Errorf("create DocType %v on %s: %w", d["name"], c.Base, err)
		}
	}
	return nil
}

// Subscription is one row of an Event Producer: a producer DocType and
// whether the consumer keeps the producer's names.
type Subscription struct {
	DocType     string
	UseSameName bool
	// NoBackfill turns off "Sync Existing Documents" (on by default), so
	// only the update log stream carries documents.
	NoBackfill bool
}

// Subscribe saves an Event Producer on the consumer (which registers with the
// producer using the producer's subscriber keys), then approves every row on
// the producer's Event Consumer, as a user does in the desk.
func Subscribe(ctx context.Context, consumer, producer *Client, producerURL, consumerURL string, producerKeys Keys, rows ...Subscription) error {
	var pr []any
	for _, r := range rows {
		same := 0
		if r.UseSameName {
			same = 1
		}
		row := map[string]any{"ref_doctype": r.DocType, "use_same_name": same}
		if r.NoBackfill {
			row["backfill"] = 0
		}
		pr = append(pr, row)
	}
	if _, err := consumer.Insert(ctx, "Event Producer", map[string]any{"producer_url": producerURL,
		"api_key": producerKeys.Key, "api_secret": producerKeys.Secret, "user": Subscriber, "producer_doctypes": pr}); err != nil {
		return fmt.Errorf("save Event Producer on the consumer: %w", err)
	}
	return Approve(ctx, producer, consumerURL)
}

// Approve sets every row of the producer's Event Consumer to Approved.
func Approve(ctx context.Context, producer *Client, consumerURL string) error {
	ec, err := producer.Get(ctx, "Event Consumer", consumerURL)
	if err != nil {
		return fmt.Errorf("read Event Consumer on the producer: %w", err)
	}
	rows, _ := ec["consumer_doctypes"].([]any)
	for _, r := range rows {
		if m, ok := r.(map[string]any); ok {
			m["status"] = "Approved"
		}
	}
	if _, err := producer.Save(ctx, "Event Consumer", consumerURL, map[string]any{"consumer_doctypes": rows}); err != nil {
		return fmt.Errorf("approve on the producer: %w", err)
	}
	return nil
}

// Cursor is the consumer's position on one producer (Event Producer Last Update).
type Cursor struct {
	LastSeq int64
	HeadSeq int64
}

// ReadCursor reads the consumer's cursor for producerURL (zero when none yet).
func ReadCursor(ctx context.Context, consumer *Client, producerURL string) (Cursor, error) {
	d, err := consumer.Get(ctx, "Event Producer Last Update", producerURL)
	if IsStatus(err, http.StatusNotFound) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, err
	}
	return Cursor{LastSeq: Int(d["last_seq"]), HeadSeq: Int(d["head_seq"])}, nil
}

// Int reads a JSON number (json.Number, float64 or int64) as int64.
func Int(v any) int64 {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return int64(f)
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return 0
}

// Str reads a JSON value as text ("" for null).
func Str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

// ListQuery lists documents with explicit list arguments (fields, filters,
// order_by, limit_page_length, parent…).
func (c *Client) ListQuery(ctx context.Context, doctype string, q url.Values) ([]map[string]any, error) {
	var env struct {
		Data []map[string]any `json:"data"`
	}
	err := c.Do(ctx, http.MethodGet, ResourcePath(doctype)+"?"+q.Encode(), nil, &env)
	return env.Data, err
}

// HeadSeq is the newest update log seq on a producer (0 when none).
func HeadSeq(ctx context.Context, producer *Client) (int64, error) {
	rows, err := producer.ListQuery(ctx, "Event Update Log", url.Values{"fields": {`["seq"]`},
		"order_by": {"seq desc"}, "limit_page_length": {"1"}})
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return Int(rows[0]["seq"]), nil
}
