package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"docstream/internal/doc"
	"docstream/internal/errs"
)

// maxBody bounds request bodies (Frappe's default is 25 MB for uploads; we
// take no files, so a smaller bound protects memory).
const maxBody = 16 << 20

// Args are a request's arguments read as Frappe's make_form_dict does: a JSON
// body alone, or the query string with form fields merged over it.
type Args struct {
	m       map[string]any
	rawBody []byte
	isJSON  bool
}

func readArgs(r *http.Request) (*Args, error) {
	a := &Args{m: map[string]any{}}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return nil, errs.BadRequest("cannot read request body: %v", err)
		}
		if len(b) > maxBody {
			return nil, errs.New(errs.KindBadRequest, "ValidationError", "request body is larger than %d bytes", maxBody)
		}
		body = b
	}
	a.rawBody = body
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if len(bytes.TrimSpace(body)) > 0 && ct == "application/json" {
		a.isJSON = true
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, errs.BadRequest("request body is not valid JSON: %v", err)
		}
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				a.m[k] = e
			}
		case []any:
			a.m["data"] = x
		default:
			return nil, errs.BadRequest("JSON body must be an object or a list")
		}
		return a, nil
	}
	for k, v := range r.URL.Query() {
		a.m[k] = v[len(v)-1]
	}
	if len(body) > 0 && (ct == "application/x-www-form-urlencoded" || ct == "") {
		vals, err := url.ParseQuery(string(body))
		if err != nil && ct != "" {
			return nil, errs.BadRequest("cannot parse form body: %v", err)
		}
		for k, v := range vals {
			a.m[k] = v[len(v)-1]
		}
	}
	delete(a.m, "_")
	return a, nil
}

// Get returns an argument (a string from query/form, any JSON value from a JSON body).
func (a *Args) Get(k string) any { return a.m[k] }

// Str returns an argument as a string ("" if missing).
func (a *Args) Str(k string) string {
	switch v := a.m[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	case bool:
		if v {
			return "1"
		}
		return "0"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Has reports whether the argument was sent.
func (a *Args) Has(k string) bool { _, ok := a.m[k]; return ok }

// JSON returns a structured argument decoded: JSON text is parsed, decoded
// values pass through (reference §5.2: both forms arrive).
func (a *Args) JSON(k string) (any, error) {
	v, ok := a.m[k]
	if !ok {
		return nil, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return v, nil
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, errs.BadRequest("%s must be JSON: %v", k, err)
	}
	return out, nil
}

// Doc reads a document argument: JSON text or an object.
func (a *Args) Doc(k string) (doc.Doc, error) {
	v, err := a.JSON(k)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return nil, errs.BadRequest("%s is required", k)
		}
		return nil, errs.BadRequest("%s must be a JSON object", k)
	}
	return doc.FromAny(m), nil
}

// ResourceBody reads a resource POST/PUT body: a form field `data` holding
// JSON (FrappeClient), a raw JSON body, or the form fields themselves.
func (a *Args) ResourceBody() (doc.Doc, error) {
	if a.isJSON {
		if d, ok := a.m["data"].(map[string]any); ok && len(a.m) == 1 {
			return doc.FromAny(d), nil
		}
		return doc.FromAny(a.m), nil
	}
	if a.Has("data") {
		return a.Doc("data")
	}
	if len(bytes.TrimSpace(a.rawBody)) > 0 && bytes.TrimSpace(a.rawBody)[0] == '{' {
		d, err := doc.FromJSON(a.rawBody)
		if err != nil {
			return nil, errs.BadRequest("request body is not valid JSON: %v", err)
		}
		return d, nil
	}
	return doc.FromAny(a.m), nil
}
