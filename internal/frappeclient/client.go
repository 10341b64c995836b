// Package frappeclient calls any Frappe-compatible site over HTTP, as
// Frappe's FrappeClient does: API key auth, form-encoded arguments, the
// {"message"}/{"data"} envelopes, and errors read from exc/exc_type.
package frappeclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"

	"docstream/internal/doc"
	"docstream/internal/errs"
)

// Client talks to one remote site with one user's API key.
type Client struct {
	Base   string // canonical base URL, no trailing slash
	Key    string
	Secret string
	HTTP   *http.Client
}

// New returns a client with sane timeouts (Frappe's has none, W9).
func New(base, key, secret string) *Client {
	return &Client{Base: strings.TrimSuffix(base, "/"), Key: key, Secret: secret,
		HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// RemoteError is an error answer from the remote site.
type RemoteError struct {
	Status  int
	ExcType string
	Message string
}

func (e *RemoteError) Error() string {
	if e.ExcType != "" {
		return fmt.Sprintf("remote %s (HTTP %d): %s", e.ExcType, e.Status, e.Message)
	}
	return fmt.Sprintf("remote HTTP %d: %s", e.Status, e.Message)
}

// IsMethodMissing reports whether err says the remote has no such method
// (Frappe answers 417 "Failed to get method for command", docstream 404).
func IsMethodMissing(err error) bool {
	re, ok := err.(*RemoteError)
	return ok && (strings.Contains(re.Message, "Failed to get method") || strings.Contains(re.Message, "is not whitelisted") ||
		(re.Status == http.StatusNotFound && re.ExcType == "DoesNotExistError" && strings.Contains(re.Message, "method")))
}

// Ping checks that the site answers GET / with 200 (Frappe's liveness probe).
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/", nil)
	if err != nil {
		return errs.Validation("bad site URL %q: %v", c.Base, err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return errs.Wrap(errs.Unavailable("Failed to connect to %s", c.Base), err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errs.Unavailable("Failed to connect to %s: HTTP %d", c.Base, resp.StatusCode)
	}
	return nil
}

// Call posts a whitelisted method with form arguments to /api/method/<name>
// and returns the raw `message`. Arguments travel in the body, never in the
// query string, so secrets stay out of access logs (W8).
func (c *Client) Call(ctx context.Context, method string, args url.Values) (json.RawMessage, http.Header, error) {
	env, hdr, err := c.do(ctx, http.MethodPost, "/api/method/"+method, args)
	if err != nil {
		return nil, hdr, err
	}
	return env["message"], hdr, nil
}

// GetDoc reads a document through /api/resource.
func (c *Client) GetDoc(ctx context.Context, doctype, name string) (doc.Doc, error) {
	env, _, err := c.do(ctx, http.MethodGet, resourcePath(doctype, name), nil)
	if err != nil {
		return nil, err
	}
	return decodeDoc(env["data"])
}

// PutDoc saves a document through PUT /api/resource with form field data=<json>.
func (c *Client) PutDoc(ctx context.Context, doctype, name string, d any) (doc.Doc, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	env, _, err := c.do(ctx, http.MethodPut, resourcePath(doctype, name), url.Values{"data": {string(b)}})
	if err != nil {
		return nil, err
	}
	return decodeDoc(env["data"])
}

// DeleteDoc deletes a document.
func (c *Client) DeleteDoc(ctx context.Context, doctype, name string) error {
	_, _, err := c.do(ctx, http.MethodDelete, resourcePath(doctype, name), nil)
	return err
}

// List lists documents (names, or the given fields) matching filters.
func (c *Client) List(ctx context.Context, doctype string, filters any, fields []string, limit int) ([]doc.Doc, error) {
	q := url.Values{}
	if filters != nil {
		b, _ := json.Marshal(filters)
		q.Set("filters", string(b))
	}
	if len(fields) > 0 {
		b, _ := json.Marshal(fields)
		q.Set("fields", string(b))
	}
	q.Set("limit_page_length", fmt.Sprint(limit))
	env, _, err := c.do(ctx, http.MethodGet, resourcePath(doctype, "")+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	if err := json.Unmarshal(env["data"], &rows); err != nil {
		return nil, fmt.Errorf("list %s: bad answer: %w", doctype, err)
	}
	out := make([]doc.Doc, len(rows))
	for i, r := range rows {
		out[i] = doc.FromAny(r)
	}
	return out, nil
}

func resourcePath(doctype, name string) string {
	p := "/api/resource/" + url.PathEscape(doctype)
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

func decodeDoc(raw json.RawMessage) (doc.Doc, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errs.NotFound("remote answered without a document")
	}
	return doc.FromJSON(raw)
}

// do sends a request and decodes Frappe's envelope. Like FrappeClient it
// treats a body with `exc` or `exc_type` as an error whatever the status.
func (c *Client) do(ctx context.Context, method, path string, form url.Values) (map[string]json.RawMessage, http.Header, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, nil, errs.Validation("bad site URL %q: %v", c.Base, err)
	}
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.Key+":"+c.Secret)))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, errs.Wrap(errs.Unavailable("Failed to connect to %s", c.Base), err)
	}
	defer resp.Body.Close()
	b, err := readBody(resp)
	if err != nil {
		return nil, resp.Header, errs.Wrap(errs.Unavailable("reading answer from %s", c.Base), err)
	}
	env := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(b)) > 0 {
		if env, err = decodeEnvelope(b); err != nil {
			return nil, resp.Header, &RemoteError{Status: resp.StatusCode, Message: "answer is not JSON: " + truncate(string(b))}
		}
	}
	if resp.StatusCode >= 400 || len(env["exc_type"]) > 0 || len(env["exc"]) > 0 {
		return nil, resp.Header, remoteError(resp.StatusCode, env)
	}
	return env, resp.Header, nil
}

// decodeEnvelope decodes an answer's top-level object with encoding/json's
// semantics, from the encoding/json/v2 engine: in one pass over the answer,
// where encoding/json makes two (it checks the whole text first). A page of
// update logs is a few hundred KB, and decoding it was a sixth of a
// consumer's CPU in a backlog.
func decodeEnvelope(b []byte) (map[string]json.RawMessage, error) {
	env := map[string]json.RawMessage{}
	err := jsonv1.Unmarshal(b, &env)
	return env, err
}

// maxAnswer bounds what a remote site's answer may hold.
const maxAnswer = 256 << 20

// readBody reads an answer into a buffer sized by its Content-Length when it
// has one, instead of growing a buffer by doubling.
func readBody(resp *http.Response) ([]byte, error) {
	r := io.LimitReader(resp.Body, maxAnswer)
	if n := resp.ContentLength; n > 0 && n <= maxAnswer {
		// ReadFrom grows the buffer only when less than MinRead is free.
		buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
		_, err := buf.ReadFrom(r)
		return buf.Bytes(), err
	}
	return io.ReadAll(r)
}

func remoteError(status int, env map[string]json.RawMessage) error {
	re := &RemoteError{Status: status}
	json.Unmarshal(env["exc_type"], &re.ExcType)
	var sm string
	if json.Unmarshal(env["_server_messages"], &sm) == nil {
		var msgs []string
		if json.Unmarshal([]byte(sm), &msgs) == nil {
			for _, m := range msgs {
				var o struct{ Message string }
				if json.Unmarshal([]byte(m), &o) == nil && o.Message != "" {
					re.Message = strings.TrimSpace(re.Message + " " + o.Message)
				}
			}
		}
	}
	if re.Message == "" {
		var m string
		if json.Unmarshal(env["message"], &m) == nil {
			re.Message = m
		} else if json.Unmarshal(env["exception"], &m) == nil {
			re.Message = m
		} else {
			re.Message = http.StatusText(status)
		}
	}
	return re
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
