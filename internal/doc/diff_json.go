package doc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"docstream/internal/errs"
)

// MarshalJSON writes the update in Frappe's shape: the four keys always
// present, nil maps and lists as {} and [] (Frappe's get_update always
// returns all four dicts). encoding/json sorts map keys, as frappe.as_json's
// sort_keys does; we do not indent (consumers only decode the text).
func (u Update) MarshalJSON() ([]byte, error) {
	type wire struct {
		Changed    map[string]any      `json:"changed"`
		Added      map[string][]Doc    `json:"added"`
		Removed    map[string][]string `json:"removed"`
		RowChanged map[string][]Doc    `json:"row_changed"`
	}
	w := wire{Changed: u.Changed, Added: map[string][]Doc{}, Removed: map[string][]string{}, RowChanged: map[string][]Doc{}}
	if w.Changed == nil {
		w.Changed = map[string]any{}
	}
	for k, v := range u.Added {
		w.Added[k] = append([]Doc{}, v...)
	}
	for k, v := range u.Removed {
		w.Removed[k] = append([]string{}, v...)
	}
	for k, v := range u.RowChanged {
		w.RowChanged[k] = append([]Doc{}, v...)
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes with DecodeUpdate, so an Update can sit inside other
// JSON structures.
func (u *Update) UnmarshalJSON(b []byte) error {
	d, err := DecodeUpdate(b)
	if err != nil {
		return err
	}
	*u = d
	return nil
}

// DecodeUpdate reads an Update's JSON as written by Frappe or by MarshalJSON.
// It is tolerant where Frappe is inconsistent: a missing or null key is
// empty, and row_changed may be the real list of partial rows (each with a
// "name") or the dict name → row that Frappe's get_update docstring shows.
// Numbers become int64 when integral, else float64. Any other shape is a
// ValidationError saying where it is.
func DecodeUpdate(b []byte) (Update, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return Update{}, errs.Wrap(errs.Validation("Update diff is not valid JSON"), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Update{}, errs.Validation("Update diff: unexpected data after the JSON object")
	}
	m, ok := top.(map[string]any)
	if !ok {
		return Update{}, errs.Validation("Update diff: expected an object, got %s", jsonKind(top))
	}
	u := newUpdate()
	if err := decodeChanged(m["changed"], u.Changed); err != nil {
		return Update{}, err
	}
	if err := eachTable("added", m["added"], func(t string, v any) error {
		rows, err := decodeRows("added", t, v)
		u.Added[t] = rows
		return err
	}); err != nil {
		return Update{}, err
	}
	if err := eachTable("removed", m["removed"], func(t string, v any) error {
		names, err := decodeNames(t, v)
		u.Removed[t] = names
		return err
	}); err != nil {
		return Update{}, err
	}
	if err := eachTable("row_changed", m["row_changed"], func(t string, v any) error {
		rows, err := decodeRowChanged(t, v)
		u.RowChanged[t] = rows
		return err
	}); err != nil {
		return Update{}, err
	}
	return u, nil
}

func decodeChanged(v any, into map[string]any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errs.Validation("Update diff: changed must be an object, got %s", jsonKind(v))
	}
	for k, x := range m {
		val, err := plainValue(x)
		if err != nil {
			return errs.Validation("Update diff: changed[%q]: %v", k, err)
		}
		into[k] = val
	}
	return nil
}

// eachTable walks an object keyed by table fieldname, in sorted order so
// that errors are deterministic.
func eachTable(key string, v any, fn func(table string, v any) error) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errs.Validation("Update diff: %s must be an object keyed by table, got %s", key, jsonKind(v))
	}
	for _, t := range mapKeys(m) {
		if err := fn(t, m[t]); err != nil {
			return err
		}
	}
	return nil
}

func decodeRows(key, table string, v any) ([]Doc, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, errs.Validation("Update diff: %s[%q] must be a list of rows, got %s", key, table, jsonKind(v))
	}
	rows := make([]Doc, 0, len(l))
	for i, e := range l {
		r, err := decodeRow(e)
		if err != nil {
			return nil, errs.Validation("Update diff: %s[%q][%d]: %v", key, table, i, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func decodeRow(v any) (Doc, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected an object, got %s", jsonKind(v))
	}
	r := make(Doc, len(m))
	for k, x := range m {
		val, err := plainValue(x)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", k, err)
		}
		r[k] = val
	}
	return r, nil
}

func decodeNames(table string, v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, errs.Validation("Update diff: removed[%q] must be a list of row names, got %s", table, jsonKind(v))
	}
	names := make([]string, 0, len(l))
	for i, e := range l {
		name := NameString(e)
		if name == "" {
			return nil, errs.Validation("Update diff: removed[%q][%d] is not a row name", table, i)
		}
		names = append(names, name)
	}
	return names, nil
}

func decodeRowChanged(table string, v any) ([]Doc, error) {
	m, ok := v.(map[string]any)
	if !ok {
		rows, err := decodeRows("row_changed", table, v)
		for i, r := range rows {
			if r.Name() == "" {
				return nil, errs.Validation("Update diff: row_changed[%q][%d] has no name", table, i)
			}
		}
		return rows, err
	}
	// The docstring form: {"<row name>": {<changed fields>}}.
	names := mapKeys(m)
	rows := make([]Doc, 0, len(m))
	for _, name := range names {
		r, err := decodeRow(m[name])
		if err != nil {
			return nil, errs.Validation("Update diff: row_changed[%q][%q]: %v", table, name, err)
		}
		if name == "" {
			return nil, errs.Validation("Update diff: row_changed[%q] has a row with an empty name", table)
		}
		if got := r.Name(); got != "" && got != name {
			return nil, errs.Validation("Update diff: row_changed[%q][%q] names another row %q", table, name, got)
		}
		r["name"] = name
		rows = append(rows, r)
	}
	return rows, nil
}

// plainValue turns decoded JSON into Doc values: json.Number → int64 or
// float64, bool → 0/1 (Frappe stores Check as int), objects → Doc, lists of
// objects → []Doc.
func plainValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, string:
		return x, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", x.String())
		}
		return f, nil
	case map[string]any:
		return decodeRow(x)
	case []any:
		rows := make([]Doc, 0, len(x))
		other := make([]any, 0, len(x))
		for _, e := range x {
			val, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			if r, ok := val.(Doc); ok {
				rows = append(rows, r)
			}
			other = append(other, val)
		}
		if len(rows) == len(x) {
			return rows, nil
		}
		return other, nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
